import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client'
import { toProblem } from '../errors.js'
import { requireRole } from '../request-context.js'
import { RequestDurations } from './durations.js'

export interface Metrics {
  readonly registry: Registry
  /** Queries stopped at their deadline. */
  readonly queryTimeouts: Counter
  /** Rows and bytes of the ingest running in this process (first start, update), per file. */
  readonly ingestRows: Gauge<'file'>
  readonly ingestBytes: Gauge<'file'>
  /** Compressed size of each file of that ingest: progress is ingestBytes / ingestSize. */
  readonly ingestSize: Gauge<'file'>
  /** Adds a gauge whose value is read at scrape time (pool size, queue length, ...). */
  gauge(name: string, help: string, read: () => number | undefined): void
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
  }
}

/**
 * Prometheus metrics at GET /metrics: request durations per route and status, event loop, heap and
 * RSS, error answers by problem code, the query pool (threads, busy threads, utilisation, queue
 * length, terminated workers), query deadline expiries, the loaded dataset generation, and the
 * progress of an ingest run by this process.
 */
async function metricsPlugin(app: FastifyInstance, opts: { adminOnly?: boolean }) {
  const registry = new Registry()
  // Default Node metrics include event-loop delay (nodejs_eventloop_lag_*), heap and RSS.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 })

  const duration = new RequestDurations(
    'marquee_http_request_duration_seconds',
    'HTTP request duration by route and status',
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registry,
  )
  const metrics: Metrics = {
    registry,
    queryTimeouts: new Counter({
      name: 'marquee_query_deadline_expiries_total',
      help: 'Queries stopped at their deadline',
      registers: [registry],
    }),
    ingestRows: new Gauge({
      name: 'marquee_ingest_rows',
      help: 'Rows read by the running ingest',
      labelNames: ['file'],
      registers: [registry],
    }),
    ingestBytes: new Gauge({
      name: 'marquee_ingest_bytes',
      help: 'Compressed bytes read by the running ingest',
      labelNames: ['file'],
      registers: [registry],
    }),
    ingestSize: new Gauge({
      name: 'marquee_ingest_size_bytes',
      help: 'Compressed size of each file of the running ingest (progress: marquee_ingest_bytes / this)',
      labelNames: ['file'],
      registers: [registry],
    }),
    gauge(name, help, read) {
      new Gauge({
        name,
        help,
        registers: [registry],
        collect() {
          const v = read()
          if (v !== undefined) this.set(v)
        },
      })
    },
  }
  app.decorate('metrics', metrics)

  // Pool utilisation, read from the dataset service at scrape time (threads and queue length are
  // registered by the dataset plugin).
  const executor = () => (app.hasDecorator('dataset') ? app.dataset.stats().executor : null)
  metrics.gauge('marquee_pool_busy_threads', 'Query workers running a query now', () => executor()?.active)
  metrics.gauge('marquee_pool_utilization', 'Busy query workers over all query workers (0 to 1)', () => {
    const s = executor()
    return s?.active === undefined || s.threads === 0 ? undefined : s.active / s.threads
  })

  new Gauge({
    name: 'marquee_dataset_generation_info',
    help: 'The loaded dataset generation (value 1, generation as label; no series when none is loaded)',
    labelNames: ['generation'],
    registers: [registry],
    collect() {
      this.reset()
      const info = app.hasDecorator('dataset') ? app.dataset.info() : null
      if (info) this.set({ generation: info.generation }, 1)
    },
  })

  // Error answers by status and problem code, so a dashboard tells load shedding (503 OVERLOADED,
  // POOL_BUSY), deadlines (503 QUERY_TIMEOUT), rate limits (429) and bad input (400) apart. The
  // code is the one the errors plugin puts in the problem+json body.
  const problems = new Counter({
    name: 'marquee_http_problems_total',
    help: 'Error answers (problem+json) by status and problem code',
    labelNames: ['status', 'code'],
    registers: [registry],
  })
  app.addHook('onError', (request, _reply, err, done) => {
    const { status, code } = toProblem(err, request)
    problems.inc({ status: String(status), code })
    done()
  })

  app.addHook('onResponse', (request, reply, done) => {
    duration.observe(
      request.method,
      request.routeOptions.url ?? 'unmatched',
      reply.statusCode,
      reply.elapsedTime / 1000,
    )
    done()
  })

  app.get(
    '/metrics',
    {
      schema: { tags: ['system'], summary: 'Prometheus metrics', produces: ['text/plain'] },
      onRequest: async (request) => {
        if (opts.adminOnly) requireRole(request, ['admin'], 'GET /metrics')
      },
    },
    async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()),
  )
}

export default fp(metricsPlugin, { name: 'marquee-metrics' })
