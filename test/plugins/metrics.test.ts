import assert from 'node:assert/strict'
import { stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { FastifyRequest } from 'fastify'
import { Registry } from 'prom-client'
import { buildFirstDataset } from '../../src/cli/prepare-dataset.js'
import { loadConfig } from '../../src/config.js'
import { workerUrl } from '../../src/lib/worker-url.js'
import { RequestDurations } from '../../src/plugins/metrics/durations.js'
import type { QueryPool } from '../../src/pool/pool.js'
import { buildTestDataset, swapDatabase, type TestDataset } from '../helpers/dataset.js'
import { json } from '../helpers/http.js'
import { startTestServer, type TestServer, tempDir, writeKeysFile } from '../helpers/server.js'
import { testQuery } from '../helpers/test-query.js'
import { until } from '../helpers/wait.js'

const FAULTS = workerUrl('../faults/fault-queries.js', import.meta.url).href

describe('GET /metrics', () => {
  it('with --metrics-admin-only, answers only admin keys', async () => {
    const { dir, cleanup } = await tempDir()
    const apiKeysFile = await writeKeysFile(dir, [
      { key: 'admin-key', name: 'ops', role: 'admin' },
      { key: 'user-key', name: 'app', role: 'user' },
    ])
    const server = await startTestServer({ apiKeysFile, metricsAdminOnly: true })
    const scrape = (key?: string) =>
      fetch(`${server.url}/metrics`, { headers: key ? { authorization: `Bearer ${key}` } : {} })
    try {
      const anonymous = await scrape()
      assert.equal(anonymous.status, 401)
      assert.match(anonymous.headers.get('content-type')!, /problem\+json/)
      assert.equal((await scrape('user-key')).status, 403)
      const admin = await scrape('admin-key')
      assert.equal(admin.status, 200)
      assert.match(await admin.text(), /marquee_http_request_duration_seconds/)
    } finally {
      await server.close()
      await cleanup()
    }
  })

  it('exposes request durations per route and status, event-loop delay and marquee gauges', async () => {
    const server = await startTestServer()
    try {
      await fetch(`${server.url}/health`)
      await fetch(`${server.url}/health`)
      await fetch(`${server.url}/ready`)
      await fetch(`${server.url}/nowhere`)
      const res = await fetch(`${server.url}/metrics`)
      assert.equal(res.status, 200)
      assert.match(res.headers.get('content-type')!, /^text\/plain/)
      const text = await res.text()
      assert.match(
        text,
        /marquee_http_request_duration_seconds_count\{method="GET",route="\/health",status="200"\} 2/,
      )
      assert.match(
        text,
        /marquee_http_request_duration_seconds_count\{method="GET",route="\/ready",status="503"\} 1/,
      )
      assert.match(
        text,
        /marquee_http_request_duration_seconds_count\{method="GET",route="unmatched",status="404"\} 1/,
      )
      assert.match(text, /nodejs_eventloop_lag_p99_seconds/)
      assert.match(text, /marquee_query_deadline_expiries_total 0/)
      assert.match(text, /# TYPE marquee_http_request_duration_seconds histogram/)
    } finally {
      await server.close()
    }
  })

  it('keeps request durations as a Prometheus histogram: cumulative buckets, +Inf equal to the count', () => {
    const registry = new Registry()
    const d = new RequestDurations('t_seconds', 'test', [0.01, 0.1, 1], registry)
    for (const s of [0.005, 0.01, 0.05, 0.5, 3]) d.observe('GET', '/x', 200, s)
    d.observe('GET', '/x', 404, 0.2)
    const values = d.get().values
    const of = (metricName: string, status: string, le?: string | number) =>
      values.find(
        (v) =>
          v.metricName === metricName &&
          v.labels.status === status &&
          (le === undefined || v.labels.le === le),
      )?.value
    assert.deepEqual(
      [0.01, 0.1, 1, '+Inf'].map((le) => of('t_seconds_bucket', '200', le)),
      [2, 3, 4, 5],
    )
    assert.equal(of('t_seconds_count', '200'), 5)
    assert.ok(Math.abs(of('t_seconds_sum', '200')! - 3.565) < 1e-9)
    assert.equal(of('t_seconds_bucket', '404', 0.1), 0)
    assert.equal(of('t_seconds_bucket', '404', 1), 1)
  })
})

/** One sample of a metric in the Prometheus text format (labels given as they appear), or null. */
function sample(text: string, name: string, labels = ''): number | null {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `))
  return line === undefined ? null : Number(line.slice(line.lastIndexOf(' ') + 1))
}

describe('GET /metrics over a loaded dataset', () => {
  let server: TestServer
  let cleanup: () => Promise<void>
  let dir: string
  let dataset: TestDataset

  /** A server with a probe that holds a worker `ms`; the test servers' deadline unless given. */
  const start = (queryTimeoutMs?: number) =>
    startTestServer(
      { dbPath: dataset.dbPath, ...(queryTimeoutMs ? { queryTimeoutMs } : {}) },
      {
        dataset: { extraQueryModules: [FAULTS] },
        setup: (app) => {
          app.get('/probe/hold/:ms', async (request: FastifyRequest<{ Params: { ms: string } }>) => {
            const h = await request.dataset()
            return { held: await testQuery(h, 'hold', Number(request.params.ms)) }
          })
          app.get('/probe/hold-until', async (request: FastifyRequest<{ Querystring: { path: string } }>) => {
            const h = await request.dataset()
            return { held: await testQuery(h, 'holdUntil', request.query.path) }
          })
        },
      },
    )

  before(async () => {
    const tmp = await tempDir()
    ;({ dir, cleanup } = tmp)
    dataset = await buildTestDataset(dir)
    server = await start()
  })
  after(async () => {
    await server.close()
    await cleanup()
  })

  const scrape = async () => (await fetch(`${server.url}/metrics`)).text()

  it('pool gauges follow the load: busy threads, utilisation, queue length', async () => {
    await (server.app.dataset.executor as QueryPool).warmUp()
    const idle = await scrape()
    assert.equal(sample(idle, 'marquee_pool_threads'), 2)
    assert.equal(sample(idle, 'marquee_pool_busy_threads'), 0)
    assert.equal(sample(idle, 'marquee_pool_utilization'), 0)
    assert.equal(sample(idle, 'marquee_pool_queue'), 0)

    // Five queries on two workers, held until the test lets go: two run, three wait.
    const release = path.join(dir, 'release-holds')
    const held = Array.from({ length: 5 }, () =>
      fetch(`${server.url}/probe/hold-until?path=${encodeURIComponent(release)}`),
    )
    let busy = ''
    await until(async () => {
      busy = await scrape()
      return sample(busy, 'marquee_dataset_handles_open') === 5
    }, 'five requests holding handles')
    assert.equal(sample(busy, 'marquee_pool_busy_threads'), 2)
    assert.equal(sample(busy, 'marquee_pool_utilization'), 1)
    assert.equal(sample(busy, 'marquee_pool_queue'), 3)
    await writeFile(release, '')
    for (const res of await Promise.all(held)) assert.equal(res.status, 200)

    const after = await scrape()
    assert.equal(sample(after, 'marquee_pool_busy_threads'), 0)
    assert.equal(sample(after, 'marquee_pool_queue'), 0)
  })

  it('counts a query stopped at its deadline', async () => {
    // A server of its own: a short deadline would cut the other tests' queries on a busy machine.
    const short = await start(500)
    try {
      const res = await fetch(`${short.url}/probe/hold/60000`)
      assert.equal(res.status, 503)
      assert.equal((await json(res)).code, 'QUERY_TIMEOUT')
      const text = await (await fetch(`${short.url}/metrics`)).text()
      assert.equal(sample(text, 'marquee_query_deadline_expiries_total'), 1)
      assert.equal(sample(text, 'marquee_http_problems_total', '{status="503",code="QUERY_TIMEOUT"}'), 1)
    } finally {
      await short.close()
    }
  })

  it('counts error answers by status and problem code', async () => {
    const bad = await fetch(`${server.url}/titles?limit=0`)
    assert.equal((await json(bad)).code, 'BAD_REQUEST')
    const missing = await fetch(`${server.url}/titles/tt9999999`)
    assert.equal((await json(missing)).code, 'NOT_FOUND')
    const text = await scrape()
    assert.equal(sample(text, 'marquee_http_problems_total', '{status="400",code="BAD_REQUEST"}'), 1)
    assert.equal(sample(text, 'marquee_http_problems_total', '{status="404",code="NOT_FOUND"}'), 1)
  })

  it('names the loaded dataset generation, and follows a swap to another', async () => {
    const first = server.app.dataset.info()!.generation
    const text = await scrape()
    assert.equal(sample(text, 'marquee_dataset_generation_info', `{generation="${first}"}`), 1)

    await swapDatabase(server.app, dataset.dbPath, 'swapped-generation')
    const swapped = await scrape()
    assert.equal(sample(swapped, 'marquee_dataset_generation_info', '{generation="swapped-generation"}'), 1)
    assert.equal(sample(swapped, 'marquee_dataset_generation_info', `{generation="${first}"}`), null)
  })

  it('reports the progress of an ingest run by the server, per file', async () => {
    assert.equal(sample(await scrape(), 'marquee_ingest_rows', '{file="title.basics"}'), null)
    const config = loadConfig(
      { dataDir: dataset.dataDir, dbPath: path.join(dir, 'built.db'), logLevel: 'silent' },
      {},
    )
    await buildFirstDataset(config, server.app.log, server.app.metrics)
    const text = await scrape()
    const size = (await stat(path.join(dataset.dataDir, 'title.basics.tsv.gz'))).size
    assert.ok((sample(text, 'marquee_ingest_rows', '{file="title.basics"}') ?? 0) > 0)
    assert.equal(sample(text, 'marquee_ingest_bytes', '{file="title.basics"}'), size)
    assert.equal(sample(text, 'marquee_ingest_size_bytes', '{file="title.basics"}'), size)
  })
})
