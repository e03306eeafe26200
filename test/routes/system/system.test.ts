import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Type } from 'typebox'
import type { ConfigInput } from '../../../src/config.js'
import Database from '../../../src/db/sqlite/driver.js'
import { hashApiKey } from '../../../src/users/api-keys.js'
import { DIALECTS, dialectOptions, emptyPostgres } from '../../helpers/dialects.js'
import { json } from '../../helpers/http.js'
import { dropPrefix, TEST_DATABASE_URL, uniquePrefix, writeGeneration } from '../../helpers/postgres.js'
import { startTestServer, type TestServer, tempDir, writeKeysFile } from '../../helpers/server.js'

const PROBLEM = 'application/problem+json; charset=utf-8'

for (const dialect of DIALECTS)
  describe(`system routes and errors, with no dataset (${dialect})`, dialectOptions(dialect), () => {
    let server: TestServer
    let cleanup: () => Promise<void>
    before(async () => {
      const tmp = await tempDir()
      // Nothing ingested: a missing file, or a prefix no ingest wrote to.
      const nothing = dialect === 'postgres' ? emptyPostgres() : null
      cleanup = async () => {
        await nothing?.cleanup()
        await tmp.cleanup()
      }
      server = await startTestServer(nothing?.config ?? { dbPath: path.join(tmp.dir, 'missing.db') }, {
        setup: (app) => {
          app.get('/boom', async () => {
            throw new Error('secret internals at /etc/passwd')
          })
          app.get(
            '/checked',
            { schema: { querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 100 }) }) } },
            async () => 'fine',
          )
        },
      })
    })
    after(async () => {
      await server.close()
      await cleanup()
    })

    it('GET /health answers 200 text/plain OK', async () => {
      const res = await fetch(`${server.url}/health`)
      assert.equal(res.status, 200)
      assert.match(res.headers.get('content-type')!, /^text\/plain/)
      assert.equal(await res.text(), 'OK')
    })

    it('GET /ready answers 503 problem+json while no dataset is loaded', async () => {
      const res = await fetch(`${server.url}/ready`, { headers: { 'x-request-id': 'ready-1' } })
      assert.equal(res.status, 503)
      assert.equal(res.headers.get('content-type'), PROBLEM)
      const body = await json(res)
      assert.equal(body.status, 503)
      assert.equal(body.code, 'NO_DATASET')
      assert.equal(body.instance, 'ready-1')
      assert.ok(res.headers.get('retry-after'))
    })

    it('unknown routes are 404 problem+json', async () => {
      const res = await fetch(`${server.url}/no/such/route`)
      assert.equal(res.status, 404)
      assert.equal(res.headers.get('content-type'), PROBLEM)
      const body = await json(res)
      assert.equal(body.instance, res.headers.get('x-request-id'))
      assert.match(body.detail, /\/no\/such\/route/)
    })

    it('a 400 names the parameter and the reason', async () => {
      const res = await fetch(`${server.url}/checked?limit=500`)
      assert.equal(res.status, 400)
      const body = await json(res)
      assert.match(body.detail, /limit/)
      assert.match(body.detail, /100/)
      assert.deepEqual(
        body.errors.map((e: { parameter: string; in: string }) => [e.parameter, e.in]),
        [['limit', 'querystring']],
      )
      const missing = await json(await fetch(`${server.url}/checked`))
      assert.match(missing.detail, /"limit"/)
    })

    it('a 500 never leaks the message or a stack trace', async () => {
      const res = await fetch(`${server.url}/boom`)
      assert.equal(res.status, 500)
      const text = await res.text()
      assert.doesNotMatch(text, /secret|passwd|at .*\.ts/)
      const body = JSON.parse(text)
      assert.equal(body.instance, res.headers.get('x-request-id'))
      assert.match(body.detail, new RegExp(body.instance))
    })

    it('serves OpenAPI 3.1 at /openapi.json with /health and /ready', async () => {
      const doc = await json(await fetch(`${server.url}/openapi.json`))
      assert.equal(doc.openapi, '3.1.0')
      assert.ok(doc.paths['/health'].get)
      assert.ok(doc.paths['/ready'].get.responses['503'])
      assert.ok(doc.components.schemas.Problem)
    })

    it('serves interactive docs at /docs from this server, with no CDN', async () => {
      const res = await fetch(`${server.url}/docs`, { redirect: 'follow' })
      assert.equal(res.status, 200)
      const html = await res.text()
      assert.match(html, /swagger-ui/i)
      const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1])
      assert.ok(assets.length > 0)
      for (const asset of assets) {
        assert.doesNotMatch(asset, /^(https?:)?\/\//, `${asset} must be served locally`)
        const url = new URL(asset, `${server.url}/docs/`)
        const res = await fetch(url)
        assert.equal(res.status, 200, `${url} must load`)
        // Read to the end: an unread body (the UI bundle is over a megabyte) keeps its socket busy,
        // and closing the server then waits for the client to give it up (tens of seconds).
        await res.arrayBuffer()
      }
      const init = await (await fetch(`${server.url}/docs/static/swagger-initializer.js`)).text()
      assert.match(init, /resolveUrl\('\.\/json'\)/, "the UI loads this server's own OpenAPI document")
      assert.doesNotMatch(init, /unpkg|jsdelivr|cdnjs|petstore/)
    })
  })

/** A generation holding only its meta rows, so /ready has something to report. */
async function readyDataset(
  dialect: (typeof DIALECTS)[number],
  dir: string,
  generation: string,
  manifest: unknown,
): Promise<{ config: ConfigInput; cleanup(): Promise<void> }> {
  if (dialect === 'postgres') {
    const prefix = uniquePrefix('ready')
    await writeGeneration(prefix, generation, async (client) => {
      await client.query(`INSERT INTO meta (key, value) VALUES ('manifest', $1)`, [JSON.stringify(manifest)])
    })
    return {
      config: { databaseUrl: TEST_DATABASE_URL, databaseSchema: prefix },
      cleanup: () => dropPrefix(prefix),
    }
  }
  const dbPath = path.join(dir, 'marquee.db')
  const db = new Database(dbPath)
  db.exec('CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)')
  db.prepare('INSERT INTO meta VALUES (?, ?), (?, ?)').run(
    'generation',
    generation,
    'manifest',
    JSON.stringify(manifest),
  )
  db.close()
  return { config: { dbPath }, cleanup: async () => {} }
}

for (const dialect of DIALECTS)
  describe(`GET /ready with a dataset (${dialect})`, dialectOptions(dialect), () => {
    it('answers 200 with the generation and the manifest; file paths only for admin keys', async () => {
      const { dir, cleanup } = await tempDir()
      const manifest = {
        finishedAt: '2026-11-25T10:00:00.000Z',
        loaded: ['title.basics'],
        files: [{ dataset: 'title.basics', file: '/srv/imdb/title.basics.tsv.gz', read: 3 }],
      }
      const ds = await readyDataset(dialect, dir, 'gen-42', manifest)
      const keysFile = await writeKeysFile(dir, [
        { key: 'admin-key', name: 'ops', role: 'admin' },
        { key: 'user-key', name: 'app', role: 'user' },
      ])
      const server = await startTestServer({ ...ds.config, apiKeysFile: keysFile })
      const ready = (key?: string) =>
        fetch(`${server.url}/ready`, { headers: key ? { authorization: `Bearer ${key}` } : {} })
      try {
        const res = await ready()
        assert.equal(res.status, 200)
        const body = await json(res)
        assert.equal(body.generation, 'gen-42')
        assert.equal(body.loadedAt, '2026-11-25T10:00:00.000Z')
        assert.deepEqual(body.datasets, ['title.basics'])
        const named = { ...manifest, files: [{ ...manifest.files[0], file: 'title.basics.tsv.gz' }] }
        assert.deepEqual(body.manifest, named)
        assert.deepEqual((await json(await ready('user-key'))).manifest, named)
        assert.deepEqual((await json(await ready('admin-key'))).manifest, manifest)
      } finally {
        await server.close()
        await ds.cleanup()
        await cleanup()
      }
    })
  })

// On PostgreSQL the user store (keys made by `marquee keys create`) lives in the database too: a key
// not in the file is looked up there.
for (const dialect of DIALECTS)
  describe(`API keys (${dialect})`, dialectOptions(dialect), () => {
    let server: TestServer
    let cleanup: () => Promise<void>
    before(async () => {
      const tmp = await tempDir()
      const nothing = dialect === 'postgres' ? emptyPostgres() : null
      cleanup = async () => {
        await nothing?.cleanup()
        await tmp.cleanup()
      }
      const keysFile = path.join(tmp.dir, 'keys.json')
      await writeFile(
        keysFile,
        JSON.stringify([{ name: 'alice', role: 'admin', sha256: hashApiKey('alice-key') }]),
      )
      server = await startTestServer(
        { ...nothing?.config, apiKeysFile: keysFile, requireApiKey: true },
        {
          setup: (app) => {
            app.get('/whoami', async (request) => request.ctx.user)
          },
        },
      )
    })
    after(async () => {
      await server.close()
      await cleanup()
    })

    it('with --require-api-key, a request without a key is 401 problem+json', async () => {
      const res = await fetch(`${server.url}/whoami`)
      assert.equal(res.status, 401)
      assert.equal(res.headers.get('content-type'), PROBLEM)
    })

    it('accepts Authorization: Bearer and X-API-Key', async () => {
      for (const headers of [{ authorization: 'Bearer alice-key' }, { 'x-api-key': 'alice-key' }] as Record<
        string,
        string
      >[]) {
        const res = await fetch(`${server.url}/whoami`, { headers })
        assert.equal(res.status, 200)
        assert.deepEqual(await json(res), { id: 'alice', name: 'alice', role: 'admin' })
      }
    })

    it('rejects an unknown key even where keys are optional', async () => {
      const res = await fetch(`${server.url}/whoami`, { headers: { authorization: 'Bearer nope' } })
      assert.equal(res.status, 401)
    })

    it('keeps /health public', async () => {
      assert.equal((await fetch(`${server.url}/health`)).status, 200)
    })
  })

describe('failed authentication', () => {
  it('counts unknown keys per address: past the limit, 429 with Retry-After before any lookup', async () => {
    const { dir, cleanup } = await tempDir()
    const apiKeysFile = await writeKeysFile(dir, [{ key: 'ann-key', name: 'ann', role: 'user' }])
    const server = await startTestServer({ apiKeysFile, authFailuresPerMinute: 3 })
    const call = (key: string) =>
      fetch(`${server.url}/ready`, { headers: { authorization: `Bearer ${key}` } })
    try {
      assert.equal((await call('ann-key')).status, 503, 'a known key passes (no dataset: 503)')
      for (let i = 0; i < 3; i++) assert.equal((await call(`guess-${i}`)).status, 401)
      const refused = await call('guess-3')
      assert.equal(refused.status, 429)
      assert.equal(refused.headers.get('content-type'), PROBLEM)
      const retryAfter = Number(refused.headers.get('retry-after'))
      assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`)
      assert.equal((await json(refused)).code, 'TOO_MANY_AUTH_FAILURES')
      assert.equal((await call('ann-key')).status, 429, 'the address waits, whatever key it sends')
      assert.equal((await fetch(`${server.url}/health`)).status, 200, 'probes stay open')
    } finally {
      await server.close()
      await cleanup()
    }
  })
})
