import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { FastifyRequest } from 'fastify'
import { workerUrl } from '../../src/lib/worker-url.js'
import { QueryPool } from '../../src/pool/pool.js'
import { buildTestDataset, FIXTURE } from '../helpers/dataset.js'
import { json } from '../helpers/http.js'
import { startTestServer, type TestServer, tempDir } from '../helpers/server.js'
import { testQuery } from '../helpers/test-query.js'

const FAULTS = workerUrl('./fault-queries.js', import.meta.url).href

/**
 * A query worker thread dying under a running query (process.exit in the worker, an uncaught
 * exception): the request gets 503 problem+json with Retry-After, the pool replaces the worker,
 * and the server keeps serving, other requests included while it happens.
 */
describe('a query worker crashing mid-query', () => {
  let server: TestServer
  let pool: QueryPool
  let cleanup: () => Promise<void>

  before(async () => {
    const tmp = await tempDir()
    cleanup = tmp.cleanup
    const { dbPath } = await buildTestDataset(tmp.dir)
    server = await startTestServer(
      { dbPath, queryTimeoutMs: 5000 },
      {
        dataset: { extraQueryModules: [FAULTS] },
        setup: (app) => {
          app.get('/probe/:query', async (request: FastifyRequest<{ Params: { query: string } }>) => {
            const h = await request.dataset()
            return { value: await testQuery(h, request.params.query) }
          })
        },
      },
    )
    assert.ok(server.app.dataset.executor instanceof QueryPool)
    pool = server.app.dataset.executor
  })
  after(async () => {
    await server.close()
    await cleanup()
  })

  const get = (path: string, id?: string) =>
    fetch(`${server.url}${path}`, { headers: id ? { 'x-request-id': id } : {} })

  for (const query of ['exitWorker', 'uncaught']) {
    it(`${query}: 503 QUERY_WORKER_CRASHED with Retry-After, the pool heals, other requests are served`, async () => {
      await pool.warmUp()
      const before = pool.stats()
      // Ordinary requests run beside the crash and are not affected by it.
      const others = Array.from({ length: 6 }, () => get(`/titles/${FIXTURE.godfather}`))
      const crashed = await get(`/probe/${query}`, `crash-${query}`)
      assert.equal(crashed.status, 503)
      assert.match(crashed.headers.get('content-type') ?? '', /^application\/problem\+json/)
      assert.equal(crashed.headers.get('retry-after'), '1')
      const body = await json(crashed)
      assert.equal(body.code, 'QUERY_WORKER_CRASHED')
      assert.equal(body.instance, `crash-${query}`)
      for (const res of await Promise.all(others)) assert.equal(res.status, 200)

      assert.equal((await get('/health')).status, 200)
      await pool.warmUp()
      assert.equal(pool.stats().threads, 2, 'the pool is back to full size')
      assert.ok(pool.stats().workersTerminated > before.workersTerminated)
      const results = await Promise.all(Array.from({ length: 8 }, () => get(`/titles/${FIXTURE.amelie}`)))
      for (const res of results) assert.equal((await json(res)).primaryTitle, 'Amélie')
      const metrics = await (await get('/metrics')).text()
      assert.match(metrics, /marquee_pool_workers_terminated [1-9]/)
    })
  }
})
