import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { DatasetBackend } from '../dataset/backend.js'
import type { DatasetHandle } from '../dataset/handle.js'
import { PostgresBackend } from '../dataset/postgres/backend.js'
import { DatasetService } from '../dataset/service.js'
import { SqliteBackend } from '../dataset/sqlite/backend.js'
import { noDataset } from '../errors.js'

export interface DatasetPluginOptions {
  dbPath: string
  /** Query worker threads (PostgreSQL: connections, at least 8). */
  poolSize: number
  /** Deadline of every request's queries, in ms. */
  queryTimeoutMs: number
  /** Run every query on the main thread (benchmark contrast). */
  inlineQueries?: boolean
  /** Run point lookups (handle.lookup) on the main thread. */
  inlinePointLookups?: boolean
  /** Bytes of memory for answers of slow list and search queries (ResultCache); 0: none. */
  resultCacheBytes?: number
  /** Keep answers that took at least this long (tests use 0). */
  resultCacheAfterMs?: number
  /** Modules adding queries to the registry, on the workers and inline (tests add slow queries). */
  extraQueryModules?: readonly string[]
  /** How long a cancelled query may take to reach its next tick before its worker is terminated. */
  cancelGraceMs?: number
  /** SQLite: stat the database every this many ms (and watch its directory) for a swap; 0: never. */
  watchMs?: number
  /**
   * Serve from PostgreSQL instead of the SQLite file: the generations are schemas, the served one
   * named by `<schemaPrefix>.current`.
   */
  postgres?: { databaseUrl: string; schemaPrefix: string } | null
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The served dataset (src/dataset/service.ts): generations, handles, hot swaps. */
    dataset: DatasetService
  }
  interface FastifyRequest {
    /**
     * The request's dataset handle, resolved on first use and shared by every later call (so
     * concurrent sub-queries use one pinned generation); released when the response is done or the
     * request aborted. Rejects with 503 NO_DATASET when none is loaded.
     */
    dataset(): Promise<DatasetHandle>
  }
}

function openBackend(app: FastifyInstance, opts: DatasetPluginOptions): Promise<DatasetBackend> {
  const extraQueryModules = opts.extraQueryModules
  if (opts.postgres) {
    return PostgresBackend.open({
      ...opts.postgres,
      poolSize: opts.poolSize,
      queryTimeoutMs: opts.queryTimeoutMs,
      extraQueryModules,
    })
  }
  return SqliteBackend.open({
    dbPath: opts.dbPath,
    poolSize: opts.poolSize,
    inlineQueries: opts.inlineQueries,
    inlinePointLookups: opts.inlinePointLookups,
    cancelGraceMs: opts.cancelGraceMs,
    extraQueryModules,
    watchMs: opts.watchMs ?? 0,
    log: app.log,
  })
}

const kHandle = Symbol('marquee.datasetHandle')
const kRelease = Symbol('marquee.datasetRelease')
const kResponse = Symbol('marquee.response')

type WithHandle = FastifyRequest & {
  [kHandle]: Promise<DatasetHandle> | null
  [kRelease]: (() => void) | null
  [kResponse]: FastifyReply['raw'] | null
}

/**
 * Serves the dataset to requests: opens the backend the configuration names, loads its generation
 * and follows its swaps (a file watch, PostgreSQL's NOTIFY), and gives each request a lazily opened
 * handle (`request.dataset()`) that pins one generation and is always released.
 */
async function datasetPlugin(app: FastifyInstance, opts: DatasetPluginOptions) {
  const backend = await openBackend(app, opts)
  const service = new DatasetService(backend, {
    resultCacheBytes: opts.resultCacheBytes,
    resultCacheAfterMs: opts.resultCacheAfterMs,
    onError: (err, what) => app.log.error({ err }, `${what} failed`),
  })
  service.events.on('loaded', (next, previous, reason) => {
    app.log.info(
      { generation: next.id, [backend.locationLabel]: next.dbPath, previous: previous?.id ?? null, reason },
      'dataset generation loaded',
    )
  })
  await service.start()
  app.decorate('dataset', service)
  registerMetrics(app, service)

  const timeouts = app.metrics.queryTimeouts
  app.decorateRequest(kHandle as unknown as string, null)
  app.decorateRequest(kRelease as unknown as string, null)
  app.decorateRequest(kResponse as unknown as string, null)
  app.addHook('onRequest', (request, reply, done) => {
    ;(request as WithHandle)[kResponse] = reply.raw
    done()
  })
  app.decorateRequest('dataset', function (this: FastifyRequest): Promise<DatasetHandle> {
    const req = this as WithHandle
    const memo = req[kHandle]
    if (memo) return memo
    const generation = service.acquire()
    if (!generation) {
      const rejected = Promise.reject(noDataset())
      req[kHandle] = rejected
      return rejected
    }
    const handle = service.openHandle(generation, {
      timeoutMs: opts.queryTimeoutMs,
      onDeadline: () => timeouts.inc(),
      onRelease: () => service.release(generation),
    })
    // Idempotent: the response finished, the request was aborted, or the socket closed.
    req[kRelease] = () => handle.release()
    // The response's 'close' always comes (after 'finish', or when the socket dies first): the
    // backstop for the hooks below.
    req[kResponse]?.once('close', req[kRelease])
    const resolved = Promise.resolve(handle)
    req[kHandle] = resolved
    return resolved
  })

  const release = (request: FastifyRequest) => {
    const req = request as WithHandle
    const fn = req[kRelease]
    if (fn) {
      req[kResponse]?.removeListener('close', fn)
      fn()
    }
  }
  app.addHook('onResponse', (request, _reply, done) => {
    release(request)
    done()
  })
  app.addHook('onRequestAbort', (request, done) => {
    release(request)
    done()
  })
  // Requests still in flight finish on the pool before it goes (bounded: they have deadlines).
  app.addHook('onClose', () => service.close(opts.queryTimeoutMs + 1000))
}

function registerMetrics(app: FastifyInstance, service: DatasetService) {
  const { metrics } = app
  const executor = service.executor
  metrics.gauge(
    'marquee_result_cache_hits',
    'Answers served from the result cache',
    () => service.results.hits,
  )
  metrics.gauge(
    'marquee_result_cache_bytes',
    'Memory held by the result cache (approx.)',
    () => service.results.bytes,
  )
  metrics.gauge('marquee_pool_threads', 'Query worker threads alive', () => executor.stats().threads)
  metrics.gauge('marquee_pool_queue', 'Queries waiting for a worker', () => executor.stats().queued)
  metrics.gauge(
    'marquee_pool_workers_terminated',
    'Query workers terminated (deadlines, crashes)',
    () => executor.stats().workersTerminated,
  )
  metrics.gauge('marquee_dataset_handles_open', 'Requests holding a dataset generation', () => {
    return service.stats().handlesOpen
  })
}

export default fp(datasetPlugin, { name: 'marquee-dataset', dependencies: ['marquee-metrics'] })
