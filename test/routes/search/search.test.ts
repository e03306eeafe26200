import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { gzipSync } from 'node:zlib'
import { DATASET_NAMES, type DatasetName, datasetSpec, formatId } from '../../../src/datasets/catalogue.js'
import { ingest } from '../../../src/ingest/index.js'
import { ingestPostgres } from '../../../src/ingest/postgres/index.js'
import { FIXTURE } from '../../helpers/dataset.js'
import { DIALECTS, dialectOptions, dialectServer } from '../../helpers/dialects.js'
import { dropPrefix, TEST_DATABASE_URL, uniquePrefix } from '../../helpers/postgres.js'
import { startTestServer, type TestServer, tempDir } from '../../helpers/server.js'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type Json = any

for (const dialect of DIALECTS)
  describe(`GET /search (${dialect})`, dialectOptions(dialect), () => {
    let server: TestServer
    let close: () => Promise<void>
    const search = async (q: string, extra = ''): Promise<Json> => {
      const res = await fetch(`${server.url}/search?q=${encodeURIComponent(q)}${extra}`)
      assert.equal(res.status, 200, `${q}: ${await res.clone().text()}`)
      return res.json()
    }
    const ids = (body: Json) => body.results.map((r: Json) => r.id)

    before(async () => {
      ;({ server, close } = await dialectServer(dialect))
    })
    after(() => close())

    it('matches every word as a prefix, titles and people together, popular first', async () => {
      const god = await search('godf')
      assert.deepEqual(ids(god).slice(0, 2), [FIXTURE.godfather, FIXTURE.godfather2])
      assert.equal(god.corrected, false)
      assert.deepEqual(god.results[0], {
        kind: 'title',
        id: FIXTURE.godfather,
        title: 'The Godfather',
        type: 'movie',
        startYear: 1972,
        endYear: null,
        rating: 9.2,
        votes: 2000000,
        matchedTitle: null,
        episodeOf: null,
        score: god.results[0].score,
      })
      const part = await search('godfather pa')
      assert.equal(ids(part)[0], FIXTURE.godfather2)
      const people = await search('francis ford')
      assert.equal(people.results[0].kind, 'name')
      assert.equal(people.results[0].id, FIXTURE.coppola)
      assert.deepEqual(people.results[0].professions, ['producer', 'director', 'writer'])
      const mixed = await search('b')
      assert.ok(ids(mixed).includes(FIXTURE.breakingBad))
      assert.ok(ids(mixed).includes(FIXTURE.brando))
    })

    it('ignores diacritics both ways and finds alternate titles', async () => {
      assert.equal(ids(await search('amelie'))[0], FIXTURE.amelie)
      assert.equal(ids(await search('AMÉLIE'))[0], FIXTURE.amelie)
      const pate = await search('der pate')
      assert.equal(pate.results[0].id, FIXTURE.godfather)
      assert.equal(pate.results[0].matchedTitle, 'Der Pate')
      const galaxias = await search('guerra galax')
      assert.equal(galaxias.results[0].id, FIXTURE.starWars)
    })

    it('tolerates one typo per word', async () => {
      const typo = await search('godfathr')
      assert.equal(typo.corrected, true)
      assert.equal(ids(typo)[0], FIXTURE.godfather)
      assert.equal(ids(await search('amelei'))[0], FIXTURE.amelie)
      assert.equal(ids(await search('breaking bda'))[0], FIXTURE.breakingBad)
      assert.equal(ids(await search('coppols'))[0], FIXTURE.coppola)
      assert.deepEqual((await search('xqzvw')).results, [])
    })

    it('an episode result names its series, season and number', async () => {
      const pilot = await search('pilot')
      const hit = pilot.results.find((r: Json) => r.id === FIXTURE.pilot)
      assert.deepEqual(hit.episodeOf, {
        seriesId: FIXTURE.breakingBad,
        seriesTitle: 'Breaking Bad',
        season: 1,
        episode: 1,
      })
    })

    it('answers at most `limit` (50 at most) results; 400 names q, limit, kind or offset', async () => {
      const many = await search('silent', '&limit=20')
      assert.equal(many.results.length, 20)
      assert.equal((await search('silent', '&limit=3')).results.length, 3)
      for (const [query, parameter] of [
        ['q=%21%21%21', 'q'],
        ['q=', 'q'],
        ['', 'q'],
        ['q=x&limit=51', 'limit'],
        ['q=x&kind=film', 'kind'],
        ['q=x&offset=-1', 'offset'],
        ['q=x&offset=500', 'offset'],
        ['q=x&offset=490&limit=20', 'offset'],
      ]) {
        const res = await fetch(`${server.url}/search?${query}`)
        assert.equal(res.status, 400, query)
        const body = (await res.json()) as Json
        assert.equal(body.errors[0].parameter, parameter, query)
      }
    })

    it('a paged search (kind, offset) walks one ranking page by page, with total and next', async () => {
      // Without kind or offset the answer has no paging fields.
      const plain = await search('silent', '&limit=5')
      assert.deepEqual(Object.keys(plain).sort(), ['corrected', 'query', 'results', 'words'])
      const seen: string[] = []
      let next: string | null = `/search?q=silent&kind=title&limit=7`
      let total = -1
      let pages = 0
      while (next) {
        const res: Response = await fetch(`${server.url}${next}`)
        assert.equal(res.status, 200, next)
        const page = (await res.json()) as Json
        assert.ok(page.results.every((r: Json) => r.kind === 'title'))
        assert.ok(page.results.length <= 7)
        if (total >= 0) assert.equal(page.total, total, 'the same total on every page')
        total = page.total
        assert.equal(page.totalIsExact, true)
        seen.push(...ids(page))
        next = page.next
        pages++
      }
      assert.ok(pages > 2, `${pages} pages`)
      assert.equal(seen.length, total)
      assert.equal(new Set(seen).size, seen.length, 'every result once')
      // The pages are slices of one ranking: the same as one big page.
      const all = await search('silent', `&kind=title&limit=${Math.min(50, total)}`)
      assert.deepEqual(ids(all), seen.slice(0, Math.min(50, total)))
      // Scores never rise from one page to the next.
      const second = await search('silent', '&kind=title&limit=7&offset=7')
      assert.ok(second.results[0].score <= all.results[6].score)
      const people = await search('francis', '&kind=name')
      assert.ok(people.results.length > 0)
      assert.ok(people.results.every((r: Json) => r.kind === 'name'))
      assert.equal(people.next, null)
      // offset alone pages the mixed ranking.
      const mixed = await search('godf', '&offset=0&limit=2')
      assert.deepEqual(ids(mixed), [FIXTURE.godfather, FIXTURE.godfather2])
      assert.equal(typeof mixed.total, 'number')
    })

    it('is in the OpenAPI document', async () => {
      const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as Json
      assert.deepEqual(doc.paths['/search'].get.tags, ['search'])
      assert.ok(doc.paths['/search'].get.responses['400'])
    })
  })

/**
 * A word that matches thousands of rows (more than search ranks by text too, fewer than it probes
 * only the most popular for): every match is ranked by popularity. Its own small dataset, ingested
 * by each backend: 2,500 titles "Greg <n>", their votes a permutation of their ids.
 */
const MANY = 2500
const votesOf = (i: number) => (i * 7919) % 3001

async function manyMatches(dir: string): Promise<string> {
  const dataDir = path.join(dir, 'imdb')
  await mkdir(dataDir, { recursive: true })
  const rows: Partial<Record<DatasetName, (string | number)[][]>> = {
    'title.basics': Array.from({ length: MANY }, (_, k) => {
      const i = k + 1
      return [formatId('tt', 5_000_000 + i), 'movie', `Greg ${i}`, `Greg ${i}`, 0, 2000, '\\N', 90, 'Drama']
    }),
    'title.ratings': Array.from({ length: MANY }, (_, k) => [
      formatId('tt', 5_000_001 + k),
      7,
      votesOf(k + 1),
    ]),
    'name.basics': [['nm0000001', 'Someone Else', 1950, '\\N', 'actor', '\\N']],
  }
  for (const name of DATASET_NAMES) {
    const header = datasetSpec(name)
      .columns.map((c) => c.name)
      .join('\t')
    const lines = [header, ...(rows[name] ?? []).map((r) => r.join('\t'))]
    await writeFile(path.join(dataDir, datasetSpec(name).file), gzipSync(`${lines.join('\n')}\n`))
  }
  return dataDir
}

for (const dialect of DIALECTS)
  describe(`GET /search over thousands of matches (${dialect})`, dialectOptions(dialect), () => {
    let server: TestServer
    let cleanup: () => Promise<void>

    before(async () => {
      const tmp = await tempDir()
      const dataDir = await manyMatches(tmp.dir)
      const dbPath = path.join(tmp.dir, 'many.db')
      const prefix = uniquePrefix('many')
      if (dialect === 'sqlite') await ingest({ dataDir, dbPath })
      else await ingestPostgres({ dataDir, databaseUrl: TEST_DATABASE_URL, schemaPrefix: prefix })
      cleanup = async () => {
        if (dialect === 'postgres') await dropPrefix(prefix)
        await tmp.cleanup()
      }
      server = await startTestServer({
        ...(dialect === 'sqlite' ? { dbPath } : { databaseUrl: TEST_DATABASE_URL, databaseSchema: prefix }),
        maxEventLoopDelayMs: 0,
      })
    })
    after(async () => {
      await server.close()
      await cleanup()
    })

    it('ranks every match by popularity: the most voted are the results', async () => {
      const byVotes = Array.from({ length: MANY }, (_, k) => k + 1).sort((a, b) => votesOf(b) - votesOf(a))
      const top = byVotes.slice(0, 10).map((i) => formatId('tt', 5_000_000 + i))
      for (const q of ['gre', 'greg']) {
        const res = await fetch(`${server.url}/search?q=${q}&limit=10`)
        assert.equal(res.status, 200, q)
        const body = (await res.json()) as Json
        // Their order is the blend of text rank and popularity; which they are is popularity's.
        assert.deepEqual(body.results.map((r: Json) => r.id).sort(), top.sort(), q)
      }
    })
  })
