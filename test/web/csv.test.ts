import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { describe, it } from 'node:test'
import { IMPORT_BODY_LIMIT } from '../../src/routes/me/import.js'
import { IMPORT_MAX_ITEMS } from '../../src/routes/me/schemas.js'

/** The browser's reading of import files (src/web/public/csv.js: plain JavaScript, no DOM). */

interface Parsed {
  format: string
  items: { tconst: string; rating?: number; watchlist?: boolean }[]
  lines: number[]
  problems: { line: number; tconst: string; reason: string }[]
  rows: number
}
// Under tsx beside the sources; compiled into dist/test/, the sources' copy (tsc copies no .js).
const here = new URL('../../src/web/public/csv.js', import.meta.url)
const source = existsSync(here) ? here : new URL('../../../src/web/public/csv.js', import.meta.url)
const csv = (await import(source.href)) as {
  IMPORT_MAX: number
  parseCsv(text: string): { line: number; fields: string[] }[]
  importItems(text: string): Parsed
}

describe('csv.js', () => {
  it('parses RFC 4180: quoted commas, doubled quotes, line breaks in fields, CRLF, a BOM, blank lines', () => {
    const text = '\uFEFFa,b,c\r\n"x, y","say ""hi""",3\r\n\r\n"two\r\nlines",,\n"last"'
    assert.deepEqual(csv.parseCsv(text), [
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['x, y', 'say "hi"', '3'] },
      { line: 4, fields: ['two\r\nlines', '', ''] },
      { line: 6, fields: ['last'] },
    ])
  })

  it("maps IMDb's ratings export, reporting bad ids and ratings by line", () => {
    const parsed = csv.importItems(
      [
        'Const,Your Rating,Date Rated,Title,URL,Title Type,Genres',
        'tt0068646,10,2024-01-01,"The Godfather",https://x,Movie,"Crime, Drama"',
        'tt0096697,0,2024-01-01,"The Simpsons",https://x,TV Series,"Animation, Comedy"',
        'nm0000199,5,2024-01-01,Pacino,https://x,Person,',
        'tt0111161,7.5,2024-01-01,"Shawshank",https://x,Movie,Drama',
        'tt0000001,,2024-01-01,No rating,https://x,Movie,Drama',
      ].join('\r\n'),
    )
    assert.equal(parsed.format, 'IMDb ratings (CSV)')
    assert.equal(parsed.rows, 5)
    assert.deepEqual(parsed.items, [{ tconst: 'tt0068646', rating: 10 }])
    assert.deepEqual(parsed.lines, [2])
    assert.deepEqual(
      parsed.problems.map((p) => [p.line, p.reason]),
      [
        [3, 'has rating “0”, not 1 to 10'],
        [4, 'is not an IMDb title id'],
        [5, 'has rating “7.5”, not 1 to 10'],
        [6, 'has no rating'],
      ],
    )
  })

  it("maps IMDb's watchlist export and marquee's own CSV and NDJSON exports", () => {
    const imdb = csv.importItems(
      'Position,Const,Created,Modified,Description,Title\n1,tt0068646,2024-01-01,,,"A, B"\n',
    )
    assert.equal(imdb.format, 'IMDb watchlist (CSV)')
    assert.deepEqual(imdb.items, [{ tconst: 'tt0068646', watchlist: true }])
    // Newer IMDb watchlist exports carry your rating too: imported with it; no rating is no problem.
    const newer = csv.importItems(
      'Position,Const,Created,Modified,Description,Title,Your Rating,Date Rated\n1,tt0068646,2024-01-01,,,G,9,2024-01-02\n2,tt0096697,2024-01-01,,,S,,\n',
    )
    assert.equal(newer.format, 'IMDb watchlist (CSV)')
    assert.deepEqual(newer.items, [
      { tconst: 'tt0068646', rating: 9, watchlist: true },
      { tconst: 'tt0096697', watchlist: true },
    ])
    assert.deepEqual(newer.problems, [])

    const ratings = csv.importItems(
      'tconst,rating,ratedAt,onWatchlist,title.primaryTitle\r\ntt0068646,9,2024-01-01T00:00:00.000Z,true,"G, F"\r\ntt0096697,7,2024-01-01T00:00:00.000Z,false,S\r\n',
    )
    assert.equal(ratings.format, 'marquee ratings (CSV)')
    // A ratings export never takes a title off the watchlist.
    assert.deepEqual(ratings.items, [
      { tconst: 'tt0068646', rating: 9, watchlist: true },
      { tconst: 'tt0096697', rating: 7 },
    ])

    const watchlist = csv.importItems(
      [
        JSON.stringify({
          tconst: 'tt0068646',
          addedAt: '2024-01-01T00:00:00.000Z',
          yourRating: 8,
          title: null,
        }),
        JSON.stringify({
          tconst: 'tt0096697',
          addedAt: '2024-01-01T00:00:00.000Z',
          yourRating: null,
          title: null,
        }),
        'not json',
      ].join('\n'),
    )
    assert.equal(watchlist.format, 'marquee watchlist (NDJSON)')
    assert.deepEqual(watchlist.items, [
      { tconst: 'tt0068646', rating: 8, watchlist: true },
      { tconst: 'tt0096697', watchlist: true },
    ])
    assert.deepEqual(watchlist.problems, [{ line: 3, tconst: '', reason: 'is not a JSON object' }])
  })

  it('refuses files that are not lists', () => {
    assert.throws(() => csv.importItems(''), /empty/)
    assert.throws(() => csv.importItems('Title,Year\nX,1999\n'), /no “Const”/)
  })

  it("sends the largest IMDb export /me/import takes within the route's body limit", () => {
    assert.equal(csv.IMPORT_MAX, IMPORT_MAX_ITEMS)
    const rows = Array.from(
      { length: IMPORT_MAX_ITEMS },
      (_, i) => `tt${String(10_000_000 + i)},10,2024-01-01,"A title, with a comma",https://x,Movie,Drama`,
    )
    const { items, problems } = csv.importItems(
      ['Const,Your Rating,Date Rated,Title,URL,Title Type,Genres', ...rows].join('\r\n'),
    )
    assert.equal(items.length, IMPORT_MAX_ITEMS)
    assert.deepEqual(problems, [])
    // As the page sends it; and the same titles on a watchlist export too (rating and watchlist).
    const body = JSON.stringify({ items: items.map((x) => ({ ...x, watchlist: true })) })
    assert.ok(body.length < IMPORT_BODY_LIMIT, `${body.length} bytes`)
  })
})
