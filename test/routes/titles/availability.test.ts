import assert from 'node:assert/strict'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { FIXTURE } from '../../helpers/dataset.js'
import { DIALECTS, dialectDataset, dialectOptions, emptyPostgres } from '../../helpers/dialects.js'
import { startTestServer, type TestServer, tempDir } from '../../helpers/server.js'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type Json = any

/** What the data routes answer when there is no dataset, or when the ingest left files out. */
for (const dialect of DIALECTS)
  describe(`dataset availability (${dialect})`, dialectOptions(dialect), () => {
    let partial: TestServer
    let none: TestServer
    let cleanup: () => Promise<void>

    before(async () => {
      const tmp = await tempDir()
      const ds = await dialectDataset(dialect, tmp.dir, {
        only: ['title.basics', 'title.ratings', 'name.basics'],
        name: 'partial',
      })
      // Nothing ingested: a missing file, or a schema prefix no ingest ever used.
      const empty =
        dialect === 'sqlite'
          ? { config: { dbPath: path.join(tmp.dir, 'missing.db') }, cleanup: async () => {} }
          : emptyPostgres()
      cleanup = async () => {
        await ds.cleanup()
        await empty.cleanup()
        await tmp.cleanup()
      }
      ;[partial, none] = await Promise.all([
        startTestServer({ ...ds.config, poolSize: 1, maxEventLoopDelayMs: 0 }),
        startTestServer({ ...empty.config, poolSize: 1, maxEventLoopDelayMs: 0 }),
      ])
    })
    after(async () => {
      await Promise.all([partial.close(), none.close()])
      await cleanup()
    })

    const problem = async (server: TestServer, url: string, status: number): Promise<Json> => {
      const res = await fetch(`${server.url}${url}`, { headers: { 'x-request-id': 'avail-1' } })
      assert.equal(res.status, status, `${url}: ${await res.clone().text()}`)
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/)
      const body = (await res.json()) as Json
      assert.equal(body.instance, 'avail-1')
      return body
    }

    it('every data route answers 503 NO_DATASET while no dataset is loaded', async () => {
      for (const url of [
        `/titles/${FIXTURE.godfather}`,
        '/titles',
        `/titles/${FIXTURE.godfather}/credits`,
        `/names/${FIXTURE.coppola}`,
        '/names',
        '/search?q=god',
      ]) {
        const body = await problem(none, url, 503)
        assert.equal(body.code, 'NO_DATASET', url)
      }
      // Parameters are still checked first.
      await problem(none, '/titles/tt1', 400)
    })

    it('routes needing a file the ingest left out say which one (409), instead of answering empty', async () => {
      for (const [url, missing] of [
        [`/titles/${FIXTURE.godfather}/credits`, 'title.principals'],
        [`/titles/${FIXTURE.godfather}/akas`, 'title.akas'],
        [`/titles/${FIXTURE.breakingBad}/episodes`, 'title.episode'],
        [`/titles/${FIXTURE.godfather}?include=akas`, 'title.akas'],
        [`/names/${FIXTURE.coppola}/credits`, 'title.principals'],
      ]) {
        const body = await problem(partial, url, 409)
        assert.equal(body.code, 'DATASET_NOT_LOADED', url)
        assert.deepEqual(body.datasets, [missing], url)
        assert.match(body.detail, new RegExp(missing.replace('.', '\\.')))
      }
    })

    it('what was loaded is served; crew facts that were not loaded are null, not empty', async () => {
      const res = await fetch(`${partial.url}/titles/${FIXTURE.godfather}`)
      assert.equal(res.status, 200)
      const t = (await res.json()) as Json
      assert.equal(t.primaryTitle, 'The Godfather')
      assert.equal(t.rating, 9.2)
      assert.equal(t.directors, null)
      assert.equal(t.writers, null)
      const list = (await (
        await fetch(`${partial.url}/titles?sort=rating&minVotes=1000000&limit=1`)
      ).json()) as Json
      assert.equal(list.items[0].id, FIXTURE.breakingBad)
      const person = (await (await fetch(`${partial.url}/names/${FIXTURE.coppola}`)).json()) as Json
      assert.equal(person.knownFor.length, 2)
    })
  })
