import assert from 'node:assert/strict'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { gunzipSync, gzipSync } from 'node:zlib'
import { ingestPostgres } from '../../../src/ingest/postgres/index.js'
import { update } from '../../../src/update/index.js'
import { FIXTURE } from '../../helpers/dataset.js'
import { DIALECTS, type DialectDataset, dialectDataset, dialectOptions } from '../../helpers/dialects.js'
import { json } from '../../helpers/http.js'
import { TEST_DATABASE_URL } from '../../helpers/postgres.js'
import { startTestServer, type TestServer, tempDir } from '../../helpers/server.js'
import { until } from '../../helpers/wait.js'

const PROBLEM = /^application\/problem\+json/

/** Rewrites the lines of one `.tsv.gz` file of `dir` (header included) through `edit`. */
async function editFile(dir: string, file: string, edit: (lines: string[]) => string[]): Promise<void> {
  const p = path.join(dir, file)
  const text = gunzipSync(await readFile(p)).toString('utf8')
  const lines = text.split('\n').filter((l) => l !== '')
  await writeFile(p, gzipSync(`${edit(lines).join('\n')}\n`))
}

const setField = (lines: string[], id: string, field: number, value: string) =>
  lines.map((l) => {
    const f = l.split('\t')
    if (f[0] !== id) return l
    f[field] = value
    return f.join('\t')
  })

/**
 * "Tomorrow's" files: the fixture's with a few known changes. Ratings: The Godfather gains 100
 * votes, an episode's rating moves, Star Wars loses its rating, the unrated title gets one. Amélie
 * gets a new primary title; an episode moves to another number.
 */
async function tomorrow(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true })
  for (const f of await readdir(from)) {
    if (f.endsWith('.tsv.gz')) await writeFile(path.join(to, f), await readFile(path.join(from, f)))
  }
  await editFile(to, 'title.ratings.tsv.gz', (lines) => {
    let out = setField(lines, FIXTURE.godfather, 2, '2000100')
    out = setField(out, FIXTURE.catsInTheBag, 1, '8.8')
    out = out.filter((l) => !l.startsWith(`${FIXTURE.starWars}\t`))
    out.push(`${FIXTURE.unrated}\t7.5\t42`)
    return [out[0], ...out.slice(1).sort()]
  })
  await editFile(to, 'title.basics.tsv.gz', (lines) => setField(lines, FIXTURE.amelie, 2, 'Amélie (2001)'))
  await editFile(to, 'title.episode.tsv.gz', (lines) => setField(lines, FIXTURE.catsInTheBag, 3, '3'))
}

interface Change {
  generation: string
  entity: string
  id: string
  ordering: number | null
  kind: string
  titleType: string | null
  fields: { name: string; old: unknown; new: unknown }[]
}

for (const dialect of DIALECTS)
  describe(`GET /changes (${dialect})`, dialectOptions(dialect), () => {
    let cleanup: () => Promise<void>
    let server: TestServer
    let ds: DialectDataset
    let first: string
    let second: string

    const get = (q: string) => fetch(`${server.url}/changes${q}`)

    before(async () => {
      const tmp = await tempDir('marquee-changes-')
      ds = await dialectDataset(dialect, tmp.dir, { name: 'changes' })
      server = await startTestServer({ ...ds.config, maxEventLoopDelayMs: 0 })
      cleanup = async () => {
        await server.close()
        await ds.cleanup()
        await tmp.cleanup()
      }
      first = (await json(await get(''))).generation
      // The second generation, made by the backend's real refresh or ingest from changed files.
      const next = path.join(tmp.dir, 'tomorrow')
      await tomorrow(ds.dataDir, next)
      if (dialect === 'sqlite') {
        const s = await update({ dbPath: ds.dbPath, dataDir: next })
        assert.ok(s.mode === 'incremental' || s.mode === 'full', s.mode)
        second = s.generation
      } else {
        const s = await ingestPostgres({
          dataDir: next,
          databaseUrl: TEST_DATABASE_URL,
          schemaPrefix: ds.config.databaseSchema as string,
        })
        second = s.generation
      }
      await until(
        async () => (await json(await get(''))).generation === second,
        'the server to serve the second generation',
      )
    })
    after(async () => cleanup?.())

    it('without since: the generations kept, and what each changed in counts', async () => {
      const res = await get('')
      assert.equal(res.status, 200)
      const body = await json(res)
      assert.equal(body.generation, second)
      assert.equal(body.oldest, first)
      assert.deepEqual(
        body.generations.map((g: { generation: string; previous: string | null }) => [
          g.generation,
          g.previous,
        ]),
        [
          [first, null],
          [second, first],
        ],
      )
      assert.equal(body.generations[0].counts, null)
      const counts = body.generations[1].counts
      assert.deepEqual(counts.rating, { added: 1, removed: 1, changed: 2 })
      assert.deepEqual(counts.title, { added: 0, removed: 0, changed: 1 })
      assert.deepEqual(counts.episode, { added: 0, removed: 0, changed: 1 })
      for (const e of ['person', 'aka', 'credit'])
        assert.deepEqual(counts[e], { added: 0, removed: 0, changed: 0 })
      assert.deepEqual(body.items, [])
    })

    it('since a generation: every change after it, with old and new values', async () => {
      const res = await get(`?since=${first}`)
      assert.equal(res.status, 200)
      const body = await json(res)
      assert.equal(body.since, first)
      assert.equal(body.next, null)
      const items = body.items as Change[]
      assert.equal(items.length, 6)
      for (const c of items) assert.equal(c.generation, second)
      const find = (entity: string, id: string) => items.find((c) => c.entity === entity && c.id === id)
      assert.deepEqual(find('rating', FIXTURE.godfather), {
        generation: second,
        entity: 'rating',
        id: FIXTURE.godfather,
        ordering: null,
        kind: 'changed',
        titleType: 'movie',
        fields: [{ name: 'votes', old: 2000000, new: 2000100 }],
      })
      assert.deepEqual(find('rating', FIXTURE.catsInTheBag)?.fields, [{ name: 'rating', old: 8.6, new: 8.8 }])
      assert.equal(find('rating', FIXTURE.starWars)?.kind, 'removed')
      assert.deepEqual(find('rating', FIXTURE.starWars)?.fields, [])
      const added = find('rating', FIXTURE.unrated)!
      assert.equal(added.kind, 'added')
      assert.deepEqual(added.fields, [
        { name: 'rating', old: null, new: 7.5 },
        { name: 'votes', old: null, new: 42 },
      ])
      assert.deepEqual(find('title', FIXTURE.amelie)?.fields, [
        { name: 'primaryTitle', old: 'Amélie', new: 'Amélie (2001)' },
      ])
      assert.deepEqual(find('episode', FIXTURE.catsInTheBag)?.fields, [
        { name: 'episodeNumber', old: 2, new: 3 },
      ])
    })

    it('filters by kind, entity and title type', async () => {
      const ids = async (q: string) =>
        ((await json(await get(`?since=${first}&${q}`))).items as Change[])
          .map((c) => `${c.entity}:${c.id}`)
          .sort()
      assert.deepEqual(await ids('entity=rating&type=tvEpisode'), [`rating:${FIXTURE.catsInTheBag}`])
      assert.deepEqual(await ids('kind=removed'), [`rating:${FIXTURE.starWars}`])
      assert.deepEqual(await ids('kind=added,removed&entity=rating'), [
        `rating:${FIXTURE.starWars}`,
        `rating:${FIXTURE.unrated}`,
      ])
      assert.deepEqual(await ids('entity=title,episode'), [
        `episode:${FIXTURE.catsInTheBag}`,
        `title:${FIXTURE.amelie}`,
      ])
      assert.deepEqual(await ids('entity=person'), [])
    })

    it('pages with next, in the same order as one page', async () => {
      const all = (await json(await get(`?since=${first}`))).items as Change[]
      const paged: Change[] = []
      let url: string | null = `/changes?since=${first}&limit=4`
      let pages = 0
      while (url) {
        const body: { items: Change[]; next: string | null } = await json(await fetch(`${server.url}${url}`))
        paged.push(...body.items)
        url = body.next
        pages++
      }
      assert.equal(pages, 2)
      assert.deepEqual(paged, all)
    })

    it('streams the whole feed as NDJSON and CSV', async () => {
      const all = (await json(await get(`?since=${first}`))).items as Change[]
      const nd = await get(`?since=${first}&format=ndjson&limit=2`)
      assert.equal(nd.status, 200)
      assert.match(nd.headers.get('content-type')!, /application\/x-ndjson/)
      const lines = (await nd.text()).trim().split('\n')
      assert.deepEqual(
        lines.map((l) => JSON.parse(l)),
        all,
      )
      const csv = await fetch(`${server.url}/changes?since=${first}&entity=rating`, {
        headers: { accept: 'text/csv' },
      })
      assert.equal(csv.status, 200)
      const rows = (await csv.text()).trim().split('\r\n')
      assert.equal(rows[0], 'generation,entity,id,ordering,kind,titleType,fields')
      assert.equal(rows.length, 1 + 4)
      assert.ok(rows.some((r) => r.startsWith(`${second},rating,${FIXTURE.godfather},,changed,movie,`)))
    })

    it('since the generation served: nothing', async () => {
      const body = await json(await get(`?since=${second}`))
      assert.deepEqual(body.items, [])
      assert.equal(body.next, null)
    })

    it('a since older than the history: 410 naming the oldest generation kept', async () => {
      const res = await get('?since=20000101T000000000Z-000000000000')
      assert.equal(res.status, 410)
      assert.match(res.headers.get('content-type')!, PROBLEM)
      const p = await json(res)
      assert.equal(p.code, 'CHANGES_EXPIRED')
      assert.equal(p.oldest, first)
      assert.match(p.detail, new RegExp(`oldest generation available is ${first}`))
      assert.match(p.detail, /Re-sync in full/)
    })

    it('an unknown or malformed since: 400', async () => {
      for (const since of ['yesterday', '20991231T000000000Z-00000000000z', `${first}x`]) {
        const res = await get(`?since=${encodeURIComponent(since)}`)
        assert.equal(res.status, 400, since)
        assert.match(res.headers.get('content-type')!, PROBLEM)
      }
      const unknown = await get('?since=20991231T000000000Z-000000000000')
      assert.equal(unknown.status, 400)
      assert.match((await json(unknown)).detail, /No generation/)
      assert.equal((await get(`?since=${first}&entity=nobody`)).status, 400)
    })
  })
