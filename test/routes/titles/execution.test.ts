import assert from 'node:assert/strict'
import { request as httpRequest } from 'node:http'
import { after, before, describe, it } from 'node:test'
import type { Generation } from '../../../src/dataset/generation.js'
import { workerUrl } from '../../../src/lib/worker-url.js'
import { QueryPool } from '../../../src/pool/pool.js'
import { FIXTURE } from '../../helpers/dataset.js'
import { DIALECTS, dialectDataset, dialectOptions } from '../../helpers/dialects.js'
import { startTestServer, type TestServer, tempDir } from '../../helpers/server.js'
import { testQuery } from '../../helpers/test-query.js'
import { until } from '../../helpers/wait.js'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type Json = any

const SLOW = workerUrl('../../pool/slow-queries.js', import.meta.url).href
// Every request's deadline on this server: the slow probes run into it, the plain lookups must not,
// even with the niced workers starved by a busy machine.
const TIMEOUT_MS = 2000

/**
 * The execution model over real HTTP: deadlines stop work (on SQLite the worker running it is
 * replaced; on PostgreSQL the statement is cancelled on the server), /health answers while queries
 * are stuck, and each request resolves one dataset handle lazily and releases it once.
 */
for (const dialect of DIALECTS)
  describe(
    `execution: deadlines, pool healing, request handles (${dialect})`,
    dialectOptions(dialect),
    () => {
      let server: TestServer
      let cleanup: () => Promise<void>
      /** SQLite's worker pool; null on PostgreSQL (queries run from the main thread on a pg pool). */
      let pool: QueryPool | null
      const counts = { acquire: 0, release: 0 }

      before(async () => {
        const tmp = await tempDir()
        const ds = await dialectDataset(dialect, tmp.dir, { name: 'execution' })
        cleanup = async () => {
          await ds.cleanup()
          await tmp.cleanup()
        }
        server = await startTestServer(
          { ...ds.config, queryTimeoutMs: TIMEOUT_MS, maxEventLoopDelayMs: 0 },
          {
            // A worker stops its query at its next tick, which a starved worker may reach late: it
            // must never be terminated instead here (the pool's own test covers termination).
            dataset: { extraQueryModules: [SLOW], cancelGraceMs: 120_000 },
            setup: (app) => {
              app.dataset.events.on('acquire', () => counts.acquire++)
              app.dataset.events.on('release', () => counts.release++)
              // Probe routes: a slow query, a fan-out of sub-queries, a failure after resolving.
              app.get('/probe/spin', async (request) => {
                const h = await request.dataset()
                return { n: await testQuery(h, 'spin') }
              })
              app.get('/probe/fanout', async (request) => {
                const ids = [68646, 71562, 76759, 211915, 903747, 959621, 1054724, 1232244, 1, 9999992]
                const titles = await Promise.all(
                  ids.map(async (id) => (await request.dataset()).query('findTitle', id)),
                )
                const handles = new Set(await Promise.all(ids.map(() => request.dataset())))
                return { titles: titles.map((t) => t?.id ?? null), handles: handles.size }
              })
              app.get('/probe/fail', async (request) => {
                await Promise.all([1, 2, 3].map(async () => (await request.dataset()).query('findTitle', 1)))
                throw new Error('handler failed after its queries')
              })
            },
          },
        )
        const executor = server.app.dataset.executor
        assert.equal(executor instanceof QueryPool, dialect === 'sqlite')
        pool = executor instanceof QueryPool ? executor : null
      })
      after(async () => {
        await server.close()
        await cleanup()
      })

      const get = (path: string, init?: RequestInit) => fetch(`${server.url}${path}`, init)

      /** Waits until every handle taken so far was released (release runs right after the response). */
      async function settled() {
        await until(() => counts.acquire === counts.release, 'every handle released')
      }

      it('a query past its deadline answers 503 problem+json with the request id, and its work is stopped', async () => {
        await get(`/titles/${FIXTURE.godfather}`) // workers up and connected
        const threads = pool?.threadIds() ?? []
        const before = server.app.dataset.stats().executor
        const started = Date.now()
        const res = await get('/probe/spin', { headers: { 'x-request-id': 'slow-1' } })
        const elapsed = Date.now() - started
        assert.equal(res.status, 503)
        assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/)
        assert.ok(res.headers.get('retry-after'))
        const body = (await res.json()) as Json
        assert.equal(body.code, 'QUERY_TIMEOUT')
        assert.equal(body.instance, 'slow-1')
        assert.match(body.detail, new RegExp(`${TIMEOUT_MS} ms`))
        assert.ok(elapsed >= TIMEOUT_MS, `answered after ${elapsed} ms, not before the deadline`)

        // The work really stopped: on SQLite its scan ticks stopped it and the worker stays (no thread
        // was terminated); on PostgreSQL its statement was cancelled (test/postgres/serve.test.ts sees
        // it leave pg_stat_activity).
        assert.equal(server.app.dataset.stats().executor.stopped, before.stopped + 1)
        if (pool) {
          await pool.warmUp()
          assert.deepEqual(pool.threadIds(), threads)
          assert.equal(server.app.dataset.stats().executor.workersTerminated, before.workersTerminated)
        }

        // The server keeps serving (on SQLite, on a replacement worker).
        const next = await get(`/titles/${FIXTURE.amelie}`)
        assert.equal(next.status, 200)
        assert.equal(((await next.json()) as Json).primaryTitle, 'Amélie')
        if (pool) assert.equal(pool.threadIds().length, 2)
        const metrics = await (await get('/metrics')).text()
        assert.match(metrics, /marquee_query_deadline_expiries_total [1-9]/)
      })

      it('/health answers while every worker (SQLite) or two connections (PostgreSQL) run a slow query', async () => {
        await settled()
        const acquired = counts.acquire
        let slowDone = 0
        const slow = [1, 2].map(() =>
          get('/probe/spin').then(async (r) => {
            slowDone++
            await r.arrayBuffer()
            return r.status
          }),
        )
        // Both handles taken (on SQLite, both queries begun by a worker).
        await until(() => counts.acquire - acquired === 2 && (!pool || pool.stats().running === 2))
        if (pool) assert.equal(pool.stats().threads, 2)
        const health = await get('/health')
        assert.equal(health.status, 200)
        assert.equal(await health.text(), 'OK')
        assert.equal(slowDone, 0, '/health answered while both slow queries were still running')
        assert.deepEqual(await Promise.all(slow), [503, 503])
        // Both workers stopped their queries; queries are served again.
        await pool?.warmUp()
        assert.equal((await get(`/titles/${FIXTURE.godfather}`)).status, 200)
      })

      it('a fan-out of 10 sub-queries resolves the request handle once and releases it once', async () => {
        await settled()
        const before = { ...counts }
        const res = await get('/probe/fanout')
        assert.equal(res.status, 200)
        const body = (await res.json()) as Json
        assert.equal(body.handles, 1, 'every request.dataset() call gave the same handle')
        assert.equal(body.titles.length, 10)
        assert.equal(body.titles[0], FIXTURE.godfather)
        await settled()
        assert.equal(counts.acquire - before.acquire, 1)
        assert.equal(counts.release - before.release, 1)
        assert.equal(server.app.dataset.stats().handlesOpen, 0)
      })

      it('releases the handle when the handler fails, when a deadline fires, and when the client goes away', async () => {
        await settled()
        let before = { ...counts }
        const failed = await get('/probe/fail')
        assert.equal(failed.status, 500)
        await settled()
        assert.deepEqual([counts.acquire - before.acquire, counts.release - before.release], [1, 1])

        before = { ...counts }
        assert.equal((await get('/probe/spin')).status, 503)
        await settled()
        await pool?.warmUp()
        assert.deepEqual([counts.acquire - before.acquire, counts.release - before.release], [1, 1])

        // The client disconnects while its query runs: the handle is released and the query stopped.
        before = { ...counts }
        const stopped = () => server.app.dataset.stats().executor.stopped
        const terminated = stopped()
        const url = new URL('/probe/spin', server.url)
        // Gone once the server runs its query (it took the handle; on SQLite, a worker began it).
        const req = httpRequest(url, () => {})
        req.on('error', () => {})
        req.end()
        await until(() => counts.acquire > before.acquire && (!pool || pool.stats().running === 1))
        req.destroy()
        await settled()
        assert.deepEqual([counts.acquire - before.acquire, counts.release - before.release], [1, 1])
        await until(() => stopped() !== terminated, 'the abandoned query to stop')
        assert.equal(stopped(), terminated + 1, 'the abandoned query was stopped before its deadline')
        assert.equal(server.app.dataset.stats().handlesOpen, 0)
        await pool?.warmUp()
      })

      it('pins the generation a request started on', async () => {
        const pinned: Generation[] = []
        const onAcquire = (g: Generation) => pinned.push(g)
        server.app.dataset.events.on('acquire', onAcquire)
        try {
          const res = await get(`/titles/${FIXTURE.godfather}?include=credits,akas`)
          assert.equal(res.status, 200)
          assert.equal(pinned.length, 1)
          assert.equal(pinned[0], server.app.dataset.current())
          assert.equal(res.headers.get('etag'), pinned[0].etag)
        } finally {
          server.app.dataset.events.off('acquire', onAcquire)
        }
      })
    },
  )
