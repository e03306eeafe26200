import assert from 'node:assert/strict'
import { copyFile, rename, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import Database from 'better-sqlite3'
import { hashApiKey } from '../../../src/users/api-keys.js'
import { buildTestDataset, FIXTURE } from '../../helpers/dataset.js'
import { json } from '../../helpers/http.js'
import { startTestServer, type TestServer, tempDir } from '../../helpers/server.js'

const PROBLEM = /^application\/problem\+json/

let dir: string
let cleanup: () => Promise<void>
let server: TestServer
let dbPath: string
let first: string
/** The same data under another generation id, as a refresh would leave it. */
let nextDb: string

before(async () => {
  ;({ dir, cleanup } = await tempDir('marquee-admin-'))
  const ds = await buildTestDataset(dir)
  dbPath = ds.dbPath
  nextDb = path.join(dir, 'next.db')
  await copyFile(dbPath, nextDb)
  const db = new Database(nextDb)
  db.prepare("UPDATE meta SET value = 'next-generation' WHERE key = 'generation'").run()
  db.close()
  const apiKeysFile = path.join(dir, 'keys.json')
  await writeFile(
    apiKeysFile,
    JSON.stringify([
      { name: 'ops', role: 'admin', sha256: hashApiKey('admin-key') },
      { name: 'ann', role: 'analyst', sha256: hashApiKey('analyst-key') },
    ]),
  )
  // No watching: only the route loads the new file.
  server = await startTestServer({ dbPath, apiKeysFile, watchDbMs: 0 })
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

describe('POST /admin/reload', () => {
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

  it('answers the served generation when the file has not changed', async () => {
    const res = await reload('admin-key')
    assert.equal(res.status, 200)
    const body = await json(res)
    assert.equal(body.generation, first)
    assert.equal(body.changed, false)
  })

  it('swaps to a new file at once and returns the new generation', async () => {
    const etag = (await fetch(`${server.url}/titles/${FIXTURE.godfather}`)).headers.get('etag')
    assert.ok(etag?.includes(first))
    await copyFile(nextDb, `${dbPath}.tmp`)
    await rename(`${dbPath}.tmp`, dbPath)
    // Not watched: still the first generation until asked.
    assert.equal((await json(await fetch(`${server.url}/ready`))).generation, first)
    const res = await reload('admin-key')
    assert.equal(res.status, 200)
    const body = await json(res)
    assert.deepEqual(
      { generation: body.generation, previous: body.previous, changed: body.changed },
      { generation: 'next-generation', previous: first, changed: true },
    )
    assert.equal((await json(await fetch(`${server.url}/ready`))).generation, 'next-generation')
    const after = await fetch(`${server.url}/titles/${FIXTURE.godfather}`)
    assert.equal(after.status, 200)
    assert.ok(after.headers.get('etag')?.includes('next-generation'))
  })

  it('is documented in the OpenAPI document', async () => {
    const doc = await json(await fetch(`${server.url}/openapi.json`))
    assert.ok(doc.paths['/admin/reload']?.post)
  })
})
