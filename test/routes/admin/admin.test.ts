import assert from 'node:assert/strict'
import { copyFile, rename, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { ident } from '../../../src/db/postgres/schema.js'
import Database from '../../../src/db/sqlite/driver.js'
import { ingestPostgres } from '../../../src/ingest/postgres/index.js'
import { hashApiKey } from '../../../src/users/api-keys.js'
import { FIXTURE } from '../../helpers/dataset.js'
import { DIALECTS, type DialectDataset, dialectDataset, dialectOptions } from '../../helpers/dialects.js'
import { json } from '../../helpers/http.js'
import { TEST_DATABASE_URL, testClient } from '../../helpers/postgres.js'
import { startTestServer, type TestServer, tempDir } from '../../helpers/server.js'

const PROBLEM = /^application\/problem\+json/

for (const dialect of DIALECTS)
  describe(`POST /admin/reload (${dialect})`, dialectOptions(dialect), () => {
    let cleanup: () => Promise<void>
    let server: TestServer
    let ds: DialectDataset
    let first: string

    before(async () => {
      const tmp = await tempDir('marquee-admin-')
      ds = await dialectDataset(dialect, tmp.dir, { name: 'admin' })
      cleanup = async () => {
        await ds.cleanup()
        await tmp.cleanup()
      }
      const apiKeysFile = path.join(tmp.dir, 'keys.json')
      await writeFile(
        apiKeysFile,
        JSON.stringify([
          { name: 'ops', role: 'admin', sha256: hashApiKey('admin-key') },
          { name: 'ann', role: 'analyst', sha256: hashApiKey('analyst-key') },
        ]),
      )
      // No watching of the SQLite file: only the route loads a new one.
      server = await startTestServer({ ...ds.config, apiKeysFile, watchDbMs: 0 })
      first = server.app.dataset.current()!.id
    })

    after(async () => {
      await server?.close()
      await cleanup?.()
    })

    const reload = (key?: string) =>
      fetch(`${server.url}/admin/reload`, {
        method: 'POST',
        headers: key ? { authorization: `Bearer ${key}` } : {},
      })
    const served = async () => (await json(await fetch(`${server.url}/ready`))).generation as string

    it('needs an API key (401) with the admin role (403), as problem+json', async () => {
      const none = await reload()
      assert.equal(none.status, 401)
      assert.match(none.headers.get('content-type')!, PROBLEM)
      assert.equal((await json(none)).code, 'UNAUTHORIZED')
      const analyst = await reload('analyst-key')
      assert.equal(analyst.status, 403)
      assert.match(analyst.headers.get('content-type')!, PROBLEM)
      assert.equal((await json(analyst)).code, 'FORBIDDEN')
      const unknown = await reload('nope')
      assert.equal(unknown.status, 401)
    })

    it('answers the served generation when it has not changed', async () => {
      const res = await reload('admin-key')
      assert.equal(res.status, 200)
      const body = await json(res)
      assert.equal(body.generation, first)
      assert.equal(body.changed, false)
      assert.ok(Date.parse(body.loadedAt) > 0)
    })

    /** Puts another generation in place without the server noticing: the one served, the one put. */
    async function quietSwap(): Promise<{ served: string; next: string }> {
      if (dialect === 'sqlite') {
        // The same data under another generation id, renamed over the file as a refresh does.
        const next = path.join(path.dirname(ds.dbPath), 'next.db')
        await copyFile(ds.dbPath, next)
        const db = new Database(next)
        db.prepare("UPDATE meta SET value = 'next-generation' WHERE key = 'generation'").run()
        db.close()
        await rename(next, ds.dbPath)
        // Not watched: still the first generation until asked.
        assert.equal(await served(), first)
        return { served: first, next: 'next-generation' }
      }
      // A second ingest swaps (and NOTIFYs: the server follows by itself), then the pointer goes
      // back to the first schema by hand, with no NOTIFY: only the route (or the poll, seconds
      // later) sees that.
      const prefix = ds.config.databaseSchema as string
      const second = await ingestPostgres({
        dataDir: ds.dataDir,
        databaseUrl: TEST_DATABASE_URL,
        schemaPrefix: prefix,
      })
      for (let i = 0; (await served()) !== second.generation; i++) {
        assert.ok(i < 200, 'the server followed the second ingest (NOTIFY)')
        await sleep(10)
      }
      const client = await testClient()
      try {
        await client.query(
          `UPDATE ${ident(prefix)}.current
           SET schema = previous_schema, previous_schema = schema, generation = $1, swapped_at = now()`,
          [first],
        )
      } finally {
        await client.end()
      }
      return { served: second.generation, next: first }
    }

    it('swaps to a new generation at once and returns it', async () => {
      const etag = (await fetch(`${server.url}/titles/${FIXTURE.godfather}`)).headers.get('etag')
      assert.ok(etag?.includes(first))
      const { served: previous, next } = await quietSwap()
      const res = await reload('admin-key')
      assert.equal(res.status, 200)
      const body = await json(res)
      assert.deepEqual(
        { generation: body.generation, previous: body.previous, changed: body.changed },
        { generation: next, previous, changed: true },
      )
      assert.equal(await served(), next)
      const after = await fetch(`${server.url}/titles/${FIXTURE.godfather}`)
      assert.equal(after.status, 200)
      assert.ok(after.headers.get('etag')?.includes(next))
    })

    it('is documented in the OpenAPI document', async () => {
      const doc = await json(await fetch(`${server.url}/openapi.json`))
      assert.ok(doc.paths['/admin/reload']?.post)
    })
  })
