import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { CompiledQuery, Kysely } from 'kysely'
import { queries } from '../../src/db/queries/index.js'
import { textScore } from '../../src/db/queries/search.js'
import {
  editDistance,
  edits1,
  fold,
  ftsMatch,
  ftsPrefixExpression,
  queryTokens,
} from '../../src/db/queries/text.js'
import type { TitleFilter, TitleSort } from '../../src/db/queries/title-list.js'
import { openDataset, sqliteKysely, withBudget } from '../../src/db/sqlite/connection.js'
import { TICK_FUNCTION } from '../../src/db/sqlite/dialect.js'
import Database from '../../src/db/sqlite/driver.js'
import type { DatasetDB } from '../../src/db/types.js'
import { buildTestDataset } from '../helpers/dataset.js'
import { tempDir } from '../helpers/server.js'

describe('query functions over a real dataset file', () => {
  let dbPath: string
  let cleanup: () => Promise<void>
  let sqlite: Database
  let db: Kysely<DatasetDB>
  const logged: CompiledQuery[] = []

  before(async () => {
    const tmp = await tempDir()
    cleanup = tmp.cleanup
    dbPath = (await buildTestDataset(tmp.dir)).dbPath
    sqlite = new Database(dbPath, { readonly: true, fileMustExist: true })
    sqlite.function(TICK_FUNCTION, () => 1)
    db = sqliteKysely(sqlite, {
      log: (e) => {
        if (e.level === 'query') logged.push(e.query)
      },
    })
  })
  after(async () => {
    await db.destroy()
    await cleanup()
  })

  /** The EXPLAIN QUERY PLAN lines of every statement `fn` runs. */
  async function plans(fn: () => Promise<unknown>): Promise<string[][]> {
    logged.length = 0
    await fn()
    return logged.map((q) =>
      (
        sqlite.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).all(...(q.parameters as unknown[])) as {
          detail: string
        }[]
      ).map((r) => r.detail),
    )
  }

  const fullScan = (line: string) => /^SCAN (t|titles|principals|akas|crew|names|p|c|n)$/.test(line)
  const scansBig = (line: string) => /^SCAN (principals|akas|crew)\b/.test(line)

  it('every page of GET /titles walks the index of its sort; no combination scans a table', async () => {
    const filters: TitleFilter[] = [
      { adult: false },
      { adult: true, types: ['movie'] },
      { adult: false, types: ['movie', 'tvSeries'] },
      { adult: false, genres: ['Crime', 'Drama'] },
      { adult: false, yearFrom: 1970, yearTo: 1979 },
      { adult: false, minRating: 8, minVotes: 1000 },
      { adult: false, runtimeMin: 90, runtimeMax: 120 },
      { adult: false, match: ftsMatch('godf')!, types: ['movie'], genres: ['Drama'] },
    ]
    const sorts: TitleSort[] = ['votes', 'rating', 'year', 'title']
    for (const f of filters) {
      for (const sort of sorts) {
        for (const after of [undefined, { key: sort === 'title' ? 'M' : 5, id: 8000100 }]) {
          const [page] = await plans(() =>
            queries.listTitles(db, f, { sort, order: 'desc', limit: 20, after }),
          )
          const label = `${JSON.stringify(f)} sort=${sort}: ${page.join(' | ')}`
          assert.ok(!page.some(fullScan), label)
          assert.ok(!page.some(scansBig), label)
          // The sort's own index drives the page (the FTS index when there is a text query).
          const driver = page[0]
          if (f.match === undefined) {
            const index =
              sort === 'votes' && f.types?.length === 1 ? 'titles_by_type_votes' : `titles_by_${sort}`
            assert.match(driver, new RegExp(`^(SCAN|SEARCH) t USING (COVERING )?INDEX ${index}\\b`), label)
            assert.ok(!page.includes('USE TEMP B-TREE FOR ORDER BY'), label)
          }
        }
      }
      for (const stmt of await plans(() => queries.countTitles(db, f, { budgetUntil: Date.now() + 5000 }))) {
        assert.ok(!stmt.some(scansBig), stmt.join(' | '))
      }
    }
    const relevance = await plans(() =>
      queries.listTitles(
        db,
        { adult: false, match: ftsMatch('the')! },
        { sort: 'relevance', order: 'desc', limit: 5 },
      ),
    )
    assert.match(relevance[0].join(' | '), /VIRTUAL TABLE/)
  })

  it('credits, akas, episodes and filmographies read principals, akas and crew only through their indexes', async () => {
    const all = [
      ...(await plans(() => queries.titleCredits(db, 68646, { principals: true, crew: true }))),
      ...(await plans(() =>
        queries.titleCredits(db, 68646, { principals: true, crew: true, category: 'writer' }),
      )),
      ...(await plans(() => queries.titleAkas(db, 211915, { region: 'DE' }))),
      ...(await plans(() => queries.titleEpisodes(db, 903747, { season: 1 }))),
      ...(await plans(() => queries.findTitles(db, [68646, 959621]))),
      ...(await plans(() => queries.findName(db, 338))),
      ...(await plans(() =>
        queries.nameCredits(db, 338, {
          sort: 'votes',
          order: 'desc',
          limit: 1,
          principals: true,
          crew: true,
          category: 'director',
        }),
      )),
    ]
    for (const stmt of all) {
      const label = stmt.join(' | ')
      assert.ok(!stmt.some(fullScan), label)
      assert.ok(!stmt.some(scansBig), label)
    }
  })

  it('a whole filmography with episodes is primary-key lookups: no step scans anything', async () => {
    // Bryan Cranston: a series and its episode. One page of up to 2,000 credits must stay a few
    // b-tree lookups per credit (titles, episodes and the series by primary key), never a scan.
    const stmts = await plans(() =>
      queries.nameCredits(db, 186505, {
        sort: 'year',
        order: 'desc',
        limit: 2000,
        principals: true,
        crew: true,
      }),
    )
    const [, page] = stmts
    assert.ok(page.includes('SEARCH t USING INTEGER PRIMARY KEY (rowid=?)'), page.join(' | '))
    assert.ok(page.includes('SEARCH e USING INTEGER PRIMARY KEY (rowid=?) LEFT-JOIN'), page.join(' | '))
    assert.ok(page.includes('SEARCH s USING INTEGER PRIMARY KEY (rowid=?) LEFT-JOIN'), page.join(' | '))
    assert.ok(
      page.some((l) => l.includes('principals_by_name')),
      page.join(' | '),
    )
    for (const stmt of stmts) assert.ok(!stmt.some((l) => /^SCAN /.test(l)), stmt.join(' | '))
  })

  it('totals are exact up to the cap, and a spent budget answers a lower bound instead of stalling', async () => {
    assert.deepEqual(await queries.countTitles(db, { adult: false }, { budgetUntil: Date.now() + 5000 }), {
      total: 311,
      totalIsExact: true,
    })
    const facets = await queries.titleFacets(db, { adult: false }, ['type'], { budgetUntil: Date.now() - 1 })
    assert.equal(facets.truncated, true)
    const full = await queries.titleFacets(db, { adult: false }, ['type', 'decade'], {
      budgetUntil: Date.now() + 5000,
    })
    assert.equal(full.truncated, false)
    assert.equal(
      full.type!.reduce((n, f) => n + f.count, 0),
      311,
    )
  })

  it('facets of a small set (one pass per facet) equal the sliced counts', async () => {
    const filters: TitleFilter[] = [
      { adult: false },
      { adult: false, types: ['movie'], minVotes: 1000 },
      { adult: false, genres: ['Drama'], yearFrom: 1960, yearTo: 1999 },
      { adult: true, minRating: 7 },
    ]
    for (const filter of filters) {
      const budgetUntil = Date.now() + 5000
      const small = await queries.titleFacets(db, filter, ['genre', 'type', 'decade'], { budgetUntil })
      const sliced = await queries.titleFacets(db, filter, ['genre', 'type', 'decade'], {
        budgetUntil,
        smallSet: 0,
      })
      assert.deepEqual(small, sliced, JSON.stringify(filter))
      assert.equal(small.truncated, false)
    }
  })

  it('a budget stops a long scan through the tick, from inside SQLite', async () => {
    const conn = openDataset(dbPath)
    try {
      // The scan never ends by itself: rejecting at all is the budget's doing.
      await assert.rejects(
        withBudget(Date.now() + 100, async () => {
          const spin = `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)
            SELECT count(*) FROM c WHERE (x % 1024 <> 0 OR ${TICK_FUNCTION}())`
          conn.sqlite.prepare(spin).get()
        }),
        { name: 'BudgetExceeded' },
      )
    } finally {
      conn.close()
    }
  })
})

describe('search text handling', () => {
  it('folds case and diacritics like the FTS tokenizer', () => {
    assert.equal(fold('Amélie Poulain'), 'amelie poulain')
    assert.deepEqual(queryTokens("Le fabuleux destin d'Amélie!"), ['le', 'fabuleux', 'destin', 'd', 'amelie'])
    assert.deepEqual(queryTokens('  !! '), [])
    assert.equal(ftsMatch('Star Wa'), '"star"* AND "wa"*')
    assert.equal(
      ftsPrefixExpression([['godfather'], ['part', 'pat']]),
      '"godfather"* AND ("part"* OR "pat"*)',
    )
    assert.equal(ftsMatch('"; DROP'), '"drop"*')
    // A finished one-letter word is matched whole; the last word, still being typed, as a prefix.
    assert.equal(ftsMatch('a beautiful m'), '"a" AND "beautiful"* AND "m"*')
  })

  it('tokenizes every script exactly as the index (unicode61 remove_diacritics 2) does', () => {
    const fts = new Database(':memory:')
    fts.exec("CREATE VIRTUAL TABLE f USING fts5(a, tokenize='unicode61 remove_diacritics 2')")
    fts.exec("CREATE VIRTUAL TABLE temp.v USING fts5vocab(main, f, 'row')")
    for (const text of [
      'Amélie $100 naïve',
      'Ærø Ǆemal ß Straße İstanbul',
      "x&y o'neil 3.14",
      'Άλφα ένα',
      'Дом на Ваганьковом',
      'Łódź Ñandú Øresund',
      'ﬁnal ½',
      'दिल की रात',
      '東京物語 ラーメン 밤하늘',
      'Việt Nam Hà Nội',
    ]) {
      fts.exec('DELETE FROM f')
      fts.prepare('INSERT INTO f (a) VALUES (?)').run(text)
      const index = (fts.prepare('SELECT term FROM v').all() as { term: string }[]).map((r) => r.term).sort()
      assert.deepEqual([...new Set(queryTokens(text))].sort(), index, text)
    }
    fts.close()
  })

  it('edits1 holds every word within one edit', () => {
    const e = edits1('godfathr', 'abcdefghijklmnopqrstuvwxyz')
    assert.ok(e.includes('godfather'))
    assert.ok(e.includes('godfath'))
    assert.ok(e.includes('ogdfathr'))
    assert.ok(!e.includes('godfathr'))
    for (const w of e.slice(0, 200)) assert.equal(editDistance('godfathr', w), 1)
    assert.equal(editDistance('amelie', 'amelei'), 1)
    assert.equal(editDistance('kitten', 'sitting'), 3)
  })

  it('textScore prefers exact and prefix matches and penalises corrections', () => {
    const q = ['godfather']
    const exact = textScore('Godfather', [['godfather']], q)
    const prefix = textScore('Godfather Part II', [['godfather']], q)
    const inner = textScore('The Godfather', [['godfather']], q)
    assert.ok(exact > prefix && prefix > inner, `${exact} ${prefix} ${inner}`)
    assert.ok(textScore('The Godfather', [['godfathr', 'godfather']], ['godfathr']) < inner)
    assert.equal(textScore('Star Wars', [['godfather']], q), -1)
  })
})
