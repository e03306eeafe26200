import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type pg from 'pg'
import { ingestPostgres } from '../../src/ingest/postgres/index.js'
import { workerUrl } from '../../src/lib/worker-url.js'
import { FIXTURE } from '../helpers/dataset.js'
import { type DialectDataset, dialectDataset } from '../helpers/dialects.js'
import { postgresAvailable, TEST_DATABASE_URL, testClient } from '../helpers/postgres.js'
import { startTestServer, type TestServer, tempDir } from '../helpers/server.js'
import { testQuery } from '../helpers/test-query.js'
import { until } from '../helpers/wait.js'

const available = await postgresAvailable()
const SLOW = workerUrl('../pool/slow-queries.js', import.meta.url).href
const SESSION = workerUrl('./session-queries.js', import.meta.url).href

/** What only PostgreSQL serving has: deadlines that cancel on the server, swaps by NOTIFY. */
describe('serving from PostgreSQL', { skip: !available }, () => {
  let ds: DialectDataset
  let quick: TestServer
  let patient: TestServer
  let client: pg.Client
  let cleanup: () => Promise<void>

  const probe = (app: TestServer['app']) => {
    app.get('/probe/spin', async (request) => {
      const h = await request.dataset()
      return { n: await testQuery(h, 'spin') }
    })
    app.get('/probe/setting/:name', async (request) => {
      const h = await request.dataset()
      return { value: await testQuery(h, 'setting', (request.params as { name: string }).name) }
    })
  }

  before(async () => {
    const tmp = await tempDir()
    ds = await dialectDataset('postgres', tmp.dir, { name: 'serve' })
    const opts = { dataset: { extraQueryModules: [SLOW, SESSION] }, setup: probe }
    ;[quick, patient] = await Promise.all([
      startTestServer({ ...ds.config, queryTimeoutMs: 300, maxEventLoopDelayMs: 0 }, opts),
      startTestServer({ ...ds.config, queryTimeoutMs: 20_000, maxEventLoopDelayMs: 0 }, opts),
    ])
    client = await testClient()
    cleanup = async () => {
      await client.end()
      await Promise.all([quick.close(), patient.close()])
      await ds.cleanup()
      await tmp.cleanup()
    }
  })
  after(() => cleanup())

  /** Statements of the API's pool still running the endless query. */
  const spinning = async () =>
    Number(
      (
        await client.query(
          `SELECT count(*) AS n FROM pg_stat_activity
           WHERE application_name = 'marquee-api' AND state = 'active' AND query LIKE '%RECURSIVE c(x)%'`,
        )
      ).rows[0].n,
    )

  async function settles(what: string): Promise<void> {
    // A generous bound: a statement that was never cancelled runs forever.
    await until(async () => (await spinning()) === 0, `${what}: the statement to leave the server`, 30_000)
  }

  it('runs the query functions on the main thread over a pg pool', async () => {
    const res = await fetch(`${patient.url}/titles/${FIXTURE.godfather}`)
    assert.equal(res.status, 200)
    const stats = patient.app.dataset.stats().executor
    assert.equal(stats.workersCreated, 0, 'no worker threads')
    assert.ok(stats.threads >= 1, 'pooled connections')
  })

  it('runs API queries read-only, without parallel workers or JIT, costing random reads as cached', async () => {
    const setting = async (name: string) =>
      ((await (await fetch(`${patient.url}/probe/setting/${name}`)).json()) as { value: string }).value
    assert.equal(await setting('default_transaction_read_only'), 'on')
    assert.equal(await setting('max_parallel_workers_per_gather'), '0')
    assert.equal(await setting('jit'), 'off')
    assert.equal(await setting('random_page_cost'), '1.1')
  })

  it('a query past its deadline answers 503 and is cancelled on the server', async () => {
    // The query never ends by itself: an answer at all is the deadline's.
    const res = await fetch(`${quick.url}/probe/spin`, { headers: { 'x-request-id': 'pg-slow-1' } })
    assert.equal(res.status, 503)
    const body = (await res.json()) as { code: string; instance: string }
    assert.equal(body.code, 'QUERY_TIMEOUT')
    assert.equal(body.instance, 'pg-slow-1')
    await settles('after the deadline')
    // The pool is healthy afterwards (a few tries: this server's deadline is short, and a busy CI
    // machine can push one plain lookup past it).
    let status = 0
    for (let i = 0; i < 50 && status !== 200; i++) {
      if (i > 0) await sleep(200)
      status = (await fetch(`${quick.url}/titles/${FIXTURE.godfather}`)).status
    }
    assert.equal(status, 200)
  })

  it('a client that goes away cancels its query long before the deadline', async () => {
    const controller = new AbortController()
    const request = fetch(`${patient.url}/probe/spin`, { signal: controller.signal }).catch((e: Error) => e)
    await until(async () => (await spinning()) > 0, 'the query to start', 30_000)
    controller.abort()
    assert.ok((await request) instanceof Error)
    await settles('after the client left')
    assert.equal((await fetch(`${patient.url}/titles/${FIXTURE.godfather}`)).status, 200)
  })

  it('follows a swap made by another ingest, without a restart', async () => {
    const ready = async (server: TestServer) =>
      ((await (await fetch(`${server.url}/ready`)).json()) as { generation: string }).generation
    const before = await ready(patient)
    const next = await ingestPostgres({
      dataDir: ds.dataDir,
      databaseUrl: TEST_DATABASE_URL,
      schemaPrefix: ds.config.databaseSchema as string,
    })
    assert.notEqual(next.generation, before)
    const t0 = Date.now()
    for (const server of [quick, patient]) {
      while ((await ready(server)) !== next.generation) {
        assert.ok(Date.now() - t0 < 3000, 'the new generation was loaded within seconds (NOTIFY)')
        await sleep(25)
      }
    }
    const res = await fetch(`${patient.url}/titles/${FIXTURE.amelie}`)
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('etag')?.startsWith(`"${next.generation}`), true)
  })

  it('does not offer the SQLite SQL console', async () => {
    const res = await fetch(`${quick.url}/sql?q=select%201`)
    assert.equal(res.status, 404)
  })
})
