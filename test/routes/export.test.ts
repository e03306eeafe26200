import assert from 'node:assert/strict'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import path from 'node:path'
import { Writable } from 'node:stream'
import { finished } from 'node:stream/promises'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import Database from '../../src/db/sqlite/driver.js'
import { csvCell, csvLine } from '../../src/lib/csv.js'
import { exportBody, ndjsonEncoder } from '../../src/plugins/export.js'
import { QueryPool } from '../../src/pool/pool.js'
import { negotiateFormat } from '../../src/routes/export-format.js'
import { nowIso } from '../../src/users/store.js'
import { FIXTURE } from '../helpers/dataset.js'
import { DIALECTS, dialectOptions, dialectServer } from '../helpers/dialects.js'
import { json } from '../helpers/http.js'
import type { TestServer } from '../helpers/server.js'
import { until } from '../helpers/wait.js'
import { type UsersFixture, usersFixture } from '../users/helpers.js'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type Json = any

/** RFC 4180 records (quoted fields, doubled quotes, CRLF or LF inside quotes). */
function parseCsv(text: string): string[][] {
  const records: string[][] = []
  let record: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"'
        i++
      } else if (c === '"') quoted = false
      else field += c
    } else if (c === '"') quoted = true
    else if (c === ',') {
      record.push(field)
      field = ''
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field)
      records.push(record)
      record = []
      field = ''
      i++
    } else field += c
  }
  assert.equal(field, '', 'the CSV ends with CRLF')
  assert.equal(record.length, 0)
  return records
}

/** Every JSON page of a list route, following `next` links (or raw cursors with `cursorParam`). */
async function allPages(base: string, first: string, key = 'items', init?: RequestInit): Promise<Json[]> {
  const items: Json[] = []
  let url: string | null = first
  while (url) {
    const res: Response = await fetch(`${base}${url}`, init)
    assert.equal(res.status, 200, await res.clone().text())
    const page = await json(res)
    items.push(...page[key])
    if (!page.next) break
    url = page.next.startsWith('/') ? page.next : `${first}&cursor=${page.next}`
  }
  return items
}

const ndjson = (text: string): Json[] =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))

describe('exports: formats and negotiation (units)', () => {
  it('quotes CSV fields per RFC 4180 and renders cells', () => {
    assert.equal(csvCell('plain'), 'plain')
    assert.equal(csvCell('a, b'), '"a, b"')
    assert.equal(csvCell('say "hi"'), '"say ""hi"""')
    assert.equal(csvCell('two\nlines'), '"two\nlines"')
    assert.equal(csvCell('cr\rhere'), '"cr\rhere"')
    assert.equal(csvCell(null), '')
    assert.equal(csvCell(undefined), '')
    assert.equal(csvCell(false), 'false')
    assert.equal(csvCell(8.5), '8.5')
    assert.equal(csvCell(['Crime', 'Drama']), 'Crime|Drama')
    assert.equal(csvCell(['a,b', 'c']), '"a,b|c"')
    assert.equal(csvCell([{ a: 1 }]), '"[{""a"":1}]"')
    assert.equal(csvLine(['x', null, 'y"z']), 'x,,"y""z"\r\n')
  })

  it('neutralizes text that a spreadsheet would run as a formula, unless asked for raw text', () => {
    for (const start of ['=', '+', '-', '@', '\t', '\r']) {
      const v = `${start}HYPERLINK("http://x")`
      assert.equal(csvCell(v), `"'${v.replaceAll('"', '""')}"`, JSON.stringify(start))
      assert.equal(csvCell(v, 'raw'), `"${v.replaceAll('"', '""')}"`)
    }
    assert.equal(csvCell('-1'), "'-1")
    assert.equal(csvCell(-1), '-1', 'numbers are numbers')
    assert.equal(csvCell(['=a', 'b']), "'=a|b")
    assert.equal(csvCell('a=b'), 'a=b')
    assert.equal(csvLine(['@x', '+y'], 'raw'), '@x,+y\r\n')
  })

  it('exportBody asks for the next page only as the consumer takes the previous ones', async () => {
    let fetched = 0
    const rows = (n: number) => Array.from({ length: 100 }, (_, i) => ({ n, i, pad: 'x'.repeat(200) }))
    const body = exportBody({
      first: { items: rows(0), next: '1' },
      more: async (cursor) => {
        fetched++
        const n = Number(cursor)
        return { items: rows(n), next: n < 50 ? String(n + 1) : null }
      },
      encoder: ndjsonEncoder(),
    })
    let stalled: (() => void) | null = null
    let received = 0
    const sink = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _enc, done) {
        received += chunk.toString().split('\n').length - 1
        // The first write is never acknowledged until the test says so: a stuck socket.
        if (stalled === null) stalled = done
        else done()
      },
    })
    body.pipe(sink)
    await sleep(100)
    assert.ok(fetched <= 3, `pages fetched while the consumer is stuck: ${fetched}`)
    stalled!()
    await new Promise((resolve) => sink.on('finish', resolve))
    assert.equal(fetched, 50)
    assert.equal(received, 51 * 100)
  })

  it('negotiates: ?format wins, then Accept preferring JSON on ties and */*', () => {
    const req = (query: Record<string, unknown>, accept?: string) =>
      ({ query, headers: accept === undefined ? {} : { accept } }) as never
    assert.equal(negotiateFormat(req({ format: 'csv' }, 'application/json')), 'csv')
    assert.equal(negotiateFormat(req({})), 'json')
    assert.equal(negotiateFormat(req({}, '*/*')), 'json')
    assert.equal(negotiateFormat(req({}, 'text/csv')), 'csv')
    assert.equal(negotiateFormat(req({}, 'application/x-ndjson')), 'ndjson')
    assert.equal(negotiateFormat(req({}, 'application/json, text/csv')), 'json')
    assert.equal(negotiateFormat(req({}, 'application/json;q=0.5, text/csv')), 'csv')
    assert.equal(negotiateFormat(req({}, 'text/html,application/xhtml+xml,*/*;q=0.8')), 'json')
    assert.equal(negotiateFormat(req({}, 'application/json;q=0.5, */*')), 'json')
    assert.equal(negotiateFormat(req({}, 'text/*')), 'json')
    assert.equal(negotiateFormat(req({}, 'text/csv;q=0')), 'json')
    assert.equal(negotiateFormat(req({}, 'application/*;q=0.2, application/x-ndjson;q=0.9')), 'ndjson')
  })
})

for (const dialect of DIALECTS)
  describe(`exports over the fixture dataset (${dialect})`, dialectOptions(dialect), () => {
    let server: TestServer
    let close: () => Promise<void>
    const get = (p: string, init?: RequestInit) => fetch(`${server.url}${p}`, init)

    before(async () => {
      ;({ server, close } = await dialectServer(dialect))
    })
    after(() => close())

    it('GET /titles: the NDJSON export is every JSON page concatenated, whatever the page size', async () => {
      for (const query of ['sort=title', 'sort=year&order=asc&type=movie']) {
        const pages = await allPages(server.url, `/titles?${query}&limit=30`)
        assert.ok(pages.length > 50, query)
        const res = await get(`/titles?${query}&format=ndjson&limit=3`)
        assert.equal(res.status, 200)
        assert.equal(res.headers.get('content-type'), 'application/x-ndjson')
        assert.match(res.headers.get('vary') ?? '', /Accept/i)
        assert.deepEqual(ndjson(await res.text()), pages, query)
      }
    })

    it('the CSV export holds the same rows: dotted nested columns, | lists, JSON for objects', async () => {
      const pages = await allPages(server.url, `/names/${FIXTURE.coppola}/credits?limit=1`)
      const res = await get(`/names/${FIXTURE.coppola}/credits`, { headers: { accept: 'text/csv' } })
      assert.equal(res.status, 200)
      assert.match(res.headers.get('content-type') ?? '', /^text\/csv; charset=utf-8/)
      assert.match(res.headers.get('content-disposition') ?? '', /filename="names-nm0000338-credits\.csv"/)
      const [header, ...rows] = parseCsv(await res.text())
      assert.deepEqual(header, [
        'title.id',
        'title.type',
        'title.primaryTitle',
        'title.originalTitle',
        'title.isAdult',
        'title.startYear',
        'title.endYear',
        'title.runtimeMinutes',
        'title.genres',
        'title.rating',
        'title.votes',
        'episodeOf.seriesId',
        'episodeOf.seriesTitle',
        'episodeOf.season',
        'episodeOf.episode',
        'roles',
      ])
      assert.equal(rows.length, pages.length)
      rows.forEach((row, i) => {
        const item = pages[i]
        assert.equal(row[0], item.title.id)
        assert.equal(row[2], item.title.primaryTitle)
        assert.equal(row[6], item.title.endYear === null ? '' : String(item.title.endYear))
        assert.equal(row[8], item.title.genres.join('|'))
        assert.equal(row[11], '', 'a film is no episode: its episodeOf columns are empty')
        assert.deepEqual(JSON.parse(row[15]), item.roles)
      })
    })

    it('every operation that answers CSV takes csvText (neutralized or raw)', async () => {
      const doc = await json(await get('/openapi.json'))
      let csvOperations = 0
      for (const [p, ops] of Object.entries(doc.paths as Record<string, Record<string, Json>>)) {
        for (const [method, op] of Object.entries(ops)) {
          if (!op.responses?.['200']?.content?.['text/csv']) continue
          csvOperations++
          const param = op.parameters?.find((x: Json) => x.name === 'csvText')
          assert.deepEqual(param?.schema?.enum, ['neutralized', 'raw'], `${method} ${p}`)
        }
      }
      assert.ok(csvOperations >= 6, `${csvOperations} CSV operations`)
      assert.equal((await get('/titles?format=csv&csvText=raw&limit=5')).status, 200)
      const bad = await get('/titles?format=csv&csvText=formulas')
      assert.equal(bad.status, 400)
      assert.match((await json(bad)).detail, /csvText/)
    })

    it('sub-resource lists export too: credits and akas of a title', async () => {
      const credits = (await json(await get(`/titles/${FIXTURE.godfather}/credits`))).credits
      const csv = parseCsv(await (await get(`/titles/${FIXTURE.godfather}/credits?format=csv`)).text())
      assert.deepEqual(csv[0], ['person.id', 'person.name', 'category', 'job', 'characters', 'ordering'])
      assert.deepEqual(
        csv.slice(1).map((r) => r[0]),
        credits.map((c: Json) => c.person.id),
      )
      const akas = (await json(await get(`/titles/${FIXTURE.amelie}/akas`))).akas
      const lines = ndjson(await (await get(`/titles/${FIXTURE.amelie}/akas?format=ndjson`)).text())
      assert.deepEqual(lines, akas)
    })

    it('problems before the first byte stay problem+json: bad parameters, unknown ids, bad cursors', async () => {
      for (const [p, status] of [
        ['/titles?format=xml', 400],
        ['/titles?format=csv&cursor=nope', 400],
        [`/names/${FIXTURE.unknownName}/credits?format=csv`, 404],
        [`/titles/${FIXTURE.unknownTitle}/akas?format=ndjson`, 404],
      ] as const) {
        const res = await get(p)
        assert.equal(res.status, status, p)
        assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, p)
      }
    })

    it('starts at a given cursor, ignores limit and facets, answers 304 and HEAD like the page', async () => {
      const first = await json(await get('/titles?sort=title&limit=30&facets=genre'))
      const rest = await allPages(server.url, first.next)
      const res = await get(`${first.next}&format=ndjson&facets=genre`)
      assert.deepEqual(ndjson(await res.text()), rest)
      const etag = res.headers.get('etag')
      assert.ok(etag)
      const cached = await get('/titles?format=csv', { headers: { 'if-none-match': etag } })
      assert.equal(cached.status, 304)
      const head = await get('/titles?format=csv', { method: 'HEAD' })
      assert.equal(head.status, 200)
      assert.match(head.headers.get('content-type') ?? '', /^text\/csv/)
      assert.equal(await head.text(), '')
    })

    it('documents format and the CSV and NDJSON media types on every exporting route', async () => {
      const spec = await json(await get('/openapi.json'))
      for (const p of [
        '/titles',
        '/names',
        '/names/{nconst}/credits',
        '/titles/{tconst}/credits',
        '/titles/{tconst}/akas',
        '/me/watchlist',
        '/me/ratings',
      ]) {
        const op = spec.paths[p].get
        const format = op.parameters.find((x: Json) => x.name === 'format' && x.in === 'query')
        assert.deepEqual(format?.schema.enum, ['json', 'csv', 'ndjson'], p)
        assert.deepEqual(
          Object.keys(op.responses['200'].content).sort(),
          ['application/json', 'application/x-ndjson', 'text/csv'],
          p,
        )
      }
    })
  })

describe('exports of a large result', () => {
  const TITLES = 100_000
  // Short enough for a test to outlast it, long enough for a page on a busy machine.
  const TIMEOUT_MS = 3000
  let f: UsersFixture
  const counts = { acquire: 0, release: 0 }

  before(async () => {
    f = await usersFixture(TITLES, {
      config: async () => ({ queryTimeoutMs: TIMEOUT_MS, maxEventLoopDelayMs: 0 }),
      setup: (app) => {
        app.dataset.events.on('acquire', () => counts.acquire++)
        app.dataset.events.on('release', () => counts.release++)
      },
    })
  })
  after(() => f.close())

  const url = (p: string) => `${f.server.url}${p}`
  const stats = () => f.server.app.exports.stats()

  /** A GET whose body the test reads at its own pace (paused until resumed). */
  function open(p: string): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(url(p), (res) => {
        res.pause()
        resolve(res)
      })
      req.on('error', reject)
      req.end()
    })
  }

  /** Titles with start years 1901..1905: ids i with i % 120 in 1..5 (writeDataset). */
  const FIVE_YEARS = 'yearFrom=1901&yearTo=1905'
  const inFiveYears = Array.from({ length: TITLES }, (_, i) => i + 1).filter(
    (i) => i % 120 >= 1 && i % 120 <= 5,
  ).length

  it('CSV quotes titles with quotes, commas and newlines so they read back intact', async () => {
    const db = new Database(path.join(f.dir, 'marquee.db'))
    const tricky = ['He said "hi"', 'Comma, the movie', 'Two\nlines', '"All, of\r\nthem"', 'Plain']
    try {
      const set = db.prepare('UPDATE titles SET primary_title = ?, original_title = ? WHERE id = ?')
      tricky.forEach((t, i) => {
        set.run(t, `${t} (original)`, i + 1)
      })
    } finally {
      db.close()
    }
    const page = await json(await fetch(url(`/titles?sort=votes&order=asc&${FIVE_YEARS}&limit=5`)))
    const text = await (await fetch(url(`/titles?sort=votes&order=asc&${FIVE_YEARS}&format=csv`))).text()
    const [header, ...rows] = parseCsv(text)
    assert.deepEqual(header, [
      'id',
      'type',
      'primaryTitle',
      'originalTitle',
      'isAdult',
      'startYear',
      'endYear',
      'runtimeMinutes',
      'genres',
      'rating',
      'votes',
    ])
    assert.equal(rows.length, inFiveYears)
    assert.ok(rows.every((r) => r.length === header.length))
    assert.deepEqual(
      rows.slice(0, 5).map((r) => [r[0], r[2], r[3], r[8]]),
      page.items.map((t: Json) => [t.id, t.primaryTitle, t.originalTitle, t.genres.join('|')]),
    )
    assert.deepEqual(
      rows.slice(0, 5).map((r) => r[2]),
      tricky,
    )
    assert.ok(text.includes('"He said ""hi"""'))
  })

  it('honours back-pressure: a reader that stops reading stops the export, memory stays flat', async () => {
    const before = stats()
    const heapBefore = process.memoryUsage().heapUsed
    const res = await open('/titles?format=ndjson')
    try {
      assert.equal(res.statusCode, 200)
      // The server fills the socket buffers (a few MB), then waits for 'drain'.
      let last = -1
      let pages = 0
      const end = Date.now() + 15_000
      while (Date.now() < end) {
        await sleep(300)
        pages = stats().pages - before.pages
        if (pages === last) break
        last = pages
      }
      assert.equal(pages, last, 'the export stopped fetching pages while the reader did not read')
      const total = TITLES / 100
      assert.ok(
        pages < total * 0.6,
        `only the pages the socket buffers hold were fetched (${pages} of ${total})`,
      )
      // Loose: far less than the whole export (~20 MB of JSON, more as objects) is held.
      const grown = process.memoryUsage().heapUsed - heapBefore
      assert.ok(grown < 24 * 1024 * 1024, `heap grew ${grown} bytes`)
      assert.equal(stats().open, before.open + 1)
    } finally {
      res.destroy()
    }
    await until(() => stats().open === 0)
  })

  it('reads the whole result, each page under its own deadline, however slow the reader', async () => {
    const before = stats()
    const res = await open(`/titles?${FIVE_YEARS}&format=ndjson`)
    const lines: string[] = []
    let tail = ''
    res.on('data', (chunk: Buffer) => {
      const parts = (tail + chunk.toString('utf8')).split('\n')
      tail = parts.pop() ?? ''
      lines.push(...parts)
    })
    // Longer in total than one query deadline: a per-request deadline would cut the export.
    await sleep(TIMEOUT_MS + 200)
    res.resume()
    // Rejects if the response is cut short (an export that failed mid-way), rather than waiting on.
    await finished(res)
    assert.equal(tail, '')
    assert.equal(lines.length, inFiveYears)
    assert.equal(new Set(lines.map((l) => JSON.parse(l).id)).size, inFiveYears)
    assert.equal(stats().completed, before.completed + 1)
    assert.equal(stats().pages - before.pages, Math.ceil(inFiveYears / 100))
  })

  it('stops when the client disconnects: no more pages, the generation released', async () => {
    const before = stats()
    const res = await open('/titles?format=csv')
    res.resume()
    await until(() => stats().pages - before.pages >= 3)
    res.destroy()
    await until(() => stats().aborted === before.aborted + 1 && stats().open === 0)
    const pages = stats().pages
    await sleep(200)
    assert.equal(stats().pages, pages, 'no page fetched after the disconnect')
    assert.ok(pages - before.pages < TITLES / 100)
    await until(() => counts.acquire === counts.release)
    // The page in flight was stopped; once the pool has its workers back, the next export runs.
    const pool = f.server.app.dataset.executor
    if (pool instanceof QueryPool) await pool.warmUp()
    const ok = await fetch(url('/titles?format=csv&minVotes=99990'))
    assert.equal(parseCsv(await ok.text()).length, 1 + 11)
  })

  it('/me/watchlist and /me/ratings export every entry, each the same as the JSON pages', async () => {
    const { key, userId } = await f.key('exporter')
    const headers = { ...f.headers(key) }
    // Written straight to the store: this describe's 3 s query deadline is for the exports, and a
    // busy machine's import could miss it.
    const tx = await f.store.begin()
    await tx.applyImport(
      userId,
      Array.from({ length: 250 }, (_, i) => ({ titleId: i + 1, watchlist: true, rating: (i % 10) + 1 })),
      nowIso(),
    )
    await tx.commit()
    for (const list of ['watchlist', 'ratings']) {
      const pages = await allPages(f.server.url, `/me/${list}?limit=30`, 'items', { headers })
      assert.equal(pages.length, 250)
      const res = await fetch(url(`/me/${list}?format=ndjson`), { headers })
      assert.equal(res.status, 200)
      assert.deepEqual(ndjson(await res.text()), pages)
      const csv = parseCsv(await (await fetch(url(`/me/${list}?format=csv`), { headers })).text())
      assert.equal(csv.length, 251)
      assert.ok(csv[0].includes('title.primaryTitle'))
    }
    const anonymous = await fetch(url('/me/watchlist?format=csv'))
    assert.equal(anonymous.status, 401)
  })
})
