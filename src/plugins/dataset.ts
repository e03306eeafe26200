import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { existsSync } from 'node:fs'
import path from 'node:path'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { DatasetName } from '../datasets/catalogue.js'
import { PostgresDataset } from '../db/postgres/dataset.js'
import type { QueryArgs, QueryName, QueryResult } from '../db/queries/index.js'
import { datasetMeta } from '../db/queries/meta.js'
import { openDataset } from '../db/sqlite/connection.js'
import { noDataset, Problem, queryTimeout, requestAborted, serviceUnavailable } from '../errors.js'
import { InlineExecutor } from '../pool/inline.js'
import { QueryPool } from '../pool/pool.js'
import { ResultCache } from '../pool/result-cache.js'
import {
  DeadlineReason,
  type ExecutorStats,
  PoolBusyError,
  QueryAbortedError,
  QueryDeadlineError,
  type QueryExecutor,
  type QueryTask,
  WorkerCrashedError,
} from '../pool/task.js'
import { postgresReload } from './postgres-reload.js'

/**
 * The dataset service: which database generation is loaded, the executors that query it (a worker
 * pool, or the main thread), and a lazily resolved per-request handle that pins one generation for
 * the whole request, carries its deadline and is always released.
 */

export interface DatasetInfo {
  generation: string
  loadedAt: string | null
  /** The IMDb files loaded into this generation (the manifest's `loaded`). */
  datasets: string[]
  manifest: unknown
}

interface Manifest {
  loaded?: string[]
  notLoaded?: string[]
  finishedAt?: string
}

/** One loaded database file. Requests pin it; a hot swap retires it once none holds it. */
export class Generation {
  refs = 0
  retired = false
  readonly loaded: ReadonlySet<string>
  readonly notLoaded: ReadonlySet<string>
  /** Strong validator of every representation served from this generation. */
  readonly etag: string
  /** HTTP date of the ingest that built it. */
  readonly lastModified: string | null
  /**
   * Seals the generation's cursors (routes/titles/cursor.ts): its `cursor_secret`, or for a database
   * written before those existed a key of this process's own (its cursors then end with the process).
   */
  readonly cursorKey: Buffer

  constructor(
    readonly id: string,
    readonly dbPath: string,
    readonly manifest: unknown,
    cursorSecret: string | null = null,
  ) {
    this.cursorKey = cursorSecret ? Buffer.from(cursorSecret, 'base64url') : randomBytes(32)
    const m = (manifest ?? {}) as Manifest
    this.loaded = new Set(m.loaded ?? [])
    this.notLoaded = new Set(m.notLoaded ?? [])
    // Bump API_REVISION when a response shape changes, so caches do not serve the old shape.
    this.etag = `"${id}.${API_REVISION}"`
    const finished = m.finishedAt ? new Date(m.finishedAt) : null
    this.lastModified = finished && !Number.isNaN(finished.getTime()) ? finished.toUTCString() : null
  }

  /** Whether `dataset` was ingested (a database without a manifest counts as complete). */
  has(dataset: DatasetName): boolean {
    if (this.loaded.size === 0 && this.notLoaded.size === 0) return true
    return this.loaded.has(dataset)
  }

  info(): DatasetInfo {
    const m = (this.manifest ?? {}) as Manifest
    return {
      generation: this.id,
      loadedAt: m.finishedAt ?? null,
      datasets: [...this.loaded],
      manifest: this.manifest,
    }
  }
}

const API_REVISION = 'r1'

/** Connections of the PostgreSQL query pool at least, whatever --pool-size says. */
const PG_MIN_CONNECTIONS = 8

export interface DatasetPluginOptions {
  dbPath: string
  /** Query worker threads. */
  poolSize: number
  /** Deadline of every request's queries, in ms. */
  queryTimeoutMs: number
  /** Run every query on the main thread (benchmark contrast). */
  inlineQueries?: boolean
  /** Run point lookups (handle.lookup) on the main thread. */
  inlinePointLookups?: boolean
  /** Bytes of memory for answers of slow list and search queries (ResultCache); 0: none. */
  resultCacheBytes?: number
  /** Keep answers that took at least this long (default CACHE_AFTER_MS; tests use 0). */
  resultCacheAfterMs?: number
  /** Modules adding queries to the registry, on the workers and inline (tests add slow queries). */
  extraQueryModules?: readonly string[]
  /** How long a cancelled query may take to reach its next tick before its worker is terminated. */
  cancelGraceMs?: number
  /**
   * Serve from PostgreSQL instead of the SQLite file: the generations are schemas, the served one
   * named by `<schemaPrefix>.current`; queries run on a pg pool of `poolSize` connections.
   */
  postgres?: { databaseUrl: string; schemaPrefix: string } | null
}

export interface DatasetService {
  /** The loaded generation, or null when no dataset is loaded. */
  info(): DatasetInfo | null
  /** The current generation (not pinned). */
  current(): Generation | null
  /**
   * Loads (or reloads) a database file and makes it the current generation; requests in flight
   * finish on the one they pinned. Returns null when the file does not exist or has no generation.
   */
  load(dbPath?: string): Promise<Generation | null>
  /** Pins the current generation (refs + 1); null when none is loaded. */
  acquire(): Generation | null
  release(generation: Generation): void
  /**
   * A handle on `generation`, which the caller has pinned: its queries get `timeoutMs` from now and
   * stop when it is released or `signal` aborts. Releasing it does not unpin the generation.
   */
  openHandle(generation: Generation, opts: HandleOptions): ReleasableHandle
  readonly executor: QueryExecutor
  /** Executor and handle counters. */
  stats(): DatasetStats
  /** 'acquire' and 'release' events with the generation, for tests and metrics. */
  readonly events: EventEmitter
}

export interface DatasetStats {
  executor: ExecutorStats
  handlesOpen: number
  handlesAcquired: number
  handlesReleased: number
}

/** A request's view of the dataset: one pinned generation, one deadline, queries through the executor. */
export interface DatasetHandle {
  readonly generation: Generation
  /** Aborted at the deadline, when the client goes away, or when the handle is released. */
  readonly signal: AbortSignal
  /** Epoch ms at which the request's queries are stopped. */
  readonly deadlineAt: number
  query<N extends QueryName>(name: N, ...args: QueryArgs<N>): Promise<QueryResult<N>>
  /**
   * A bounded point lookup (a few primary-key reads): on the main thread when the service runs
   * point lookups inline, else like query().
   */
  lookup<N extends 'findTitle' | 'findName'>(name: N, ...args: QueryArgs<N>): Promise<QueryResult<N>>
  /**
   * query()'s answer as UTF-8 JSON, encoded where the query ran: for large answers sent as they are
   * (the main thread copies bytes instead of cloning and serializing objects).
   */
  queryJson<N extends QueryName>(name: N, ...args: QueryArgs<N>): Promise<Buffer>
  /** A query by name that is not in the typed registry (test modules). */
  queryByName(name: string, args: unknown[]): Promise<unknown>
  /** An epoch-ms budget for work that may stop early: `fraction` of the time left. */
  budget(fraction: number): number
  /** Throws 409 DATASET_NOT_LOADED unless every dataset was ingested. */
  require(...datasets: DatasetName[]): void
}

export interface ReleasableHandle extends DatasetHandle {
  /** Idempotent: stops the queries still running. */
  release(): void
}

export interface HandleOptions {
  /** Deadline of the handle's queries, in ms from when it opens. */
  timeoutMs: number
  /** Called when a query runs past the deadline (metrics). */
  onDeadline: () => void
  /** Stops the handle's queries too (an export's client going away). */
  signal?: AbortSignal
  /** Called once, on release. */
  onRelease?: () => void
}

declare module 'fastify' {
  interface FastifyInstance {
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

export const datasetNotLoaded = (missing: readonly string[]) =>
  new Problem('DATASET_NOT_LOADED', {
    detail: `${missing.join(' and ')} ${missing.length > 1 ? 'were' : 'was'} not loaded into this database (it was ingested with --only), so this cannot be answered; ingest ${missing.length > 1 ? 'them' : 'it'} to enable this route.`,
    extensions: { datasets: missing },
  })

export const poolBusy = () =>
  serviceUnavailable('POOL_BUSY', 'Every query worker is busy and the queue is full; retry shortly.', 1)

/** The worker died under the query (the pool replaces it): transient for the client, like a busy pool. */
export const workerCrashed = (cause?: unknown) =>
  new Problem('QUERY_WORKER_CRASHED', {
    detail: 'The query worker stopped unexpectedly and is being replaced; retry shortly.',
    retryAfter: 1,
    cause,
  })

async function readGeneration(dbPath: string): Promise<Generation | null> {
  if (!existsSync(dbPath)) return null
  const conn = openDataset(dbPath)
  try {
    const meta = await datasetMeta(conn.db)
    if (!meta.generation) return null
    return new Generation(meta.generation, dbPath, meta.manifest, meta.cursorSecret)
  } finally {
    conn.close()
  }
}

class Service implements DatasetService {
  readonly events = new EventEmitter()
  #current: Generation | null = null
  #acquired = 0
  #released = 0

  /** Where point lookups run: the inline executor, or the same as every query. */
  pointLookups: QueryExecutor
  /** Answers of slow CACHEABLE queries; replaced by the plugin from its options. */
  results = new ResultCache(0)
  cacheAfterMs = CACHE_AFTER_MS

  constructor(
    readonly executor: QueryExecutor,
    readonly inline: InlineExecutor | null,
    private dbPath: string,
    private readonly onLoad: (g: Generation) => void = () => {},
    /** Reads the generation at a path (SQLite: the file's meta; PostgreSQL: the served schema). */
    private readonly read: (dbPath: string) => Promise<Generation | null> = (p) =>
      readGeneration(path.resolve(p)),
  ) {
    this.pointLookups = executor
  }

  info(): DatasetInfo | null {
    return this.#current?.info() ?? null
  }

  current(): Generation | null {
    return this.#current
  }

  async load(dbPath = this.dbPath): Promise<Generation | null> {
    const next = await this.read(dbPath)
    if (next === null) return null
    const previous = this.#current
    this.dbPath = dbPath
    this.#current = next
    this.onLoad(next)
    if (previous && previous !== next) {
      previous.retired = true
      if (previous.refs === 0) this.#dispose(previous)
    }
    return next
  }

  acquire(): Generation | null {
    const g = this.#current
    if (!g) return null
    g.refs++
    this.#acquired++
    this.events.emit('acquire', g)
    return g
  }

  release(g: Generation): void {
    g.refs--
    this.#released++
    this.events.emit('release', g)
    if (g.retired && g.refs === 0) this.#dispose(g)
  }

  openHandle(generation: Generation, opts: HandleOptions): ReleasableHandle {
    return new GenerationHandle(this, generation, opts)
  }

  #dispose(g: Generation): void {
    // Workers close connections to files they no longer use as their LRU turns over.
    if (g.dbPath !== this.#current?.dbPath) this.inline?.evict(g.dbPath)
  }

  stats(): DatasetStats {
    return {
      executor: this.executor.stats(),
      handlesOpen: this.#acquired - this.#released,
      handlesAcquired: this.#acquired,
      handlesReleased: this.#released,
    }
  }
}

/**
 * Queries whose answers the ResultCache keeps: complete answers that depend only on the generation
 * and the arguments (not counts and facets, whose arguments carry a time budget and whose answers
 * may be partial), and that can be slow (ranking every match of a common word).
 */
const CACHEABLE: ReadonlySet<string> = new Set(['listTitles', 'listNames', 'search'])
/** Only answers that took this long are kept: the fast ones cost less than the memory. */
const CACHE_AFTER_MS = 20

/** The handle of a request, or of one page of an export (see DatasetService.openHandle). */
class GenerationHandle implements ReleasableHandle {
  /**
   * Made on first need (a query for the pool, a caller reading `signal`): a request answered by an
   * inline point lookup, enforced by the scan ticks' deadline, never pays for a controller and a
   * timer.
   */
  #controller: AbortController | null = null
  #timer: NodeJS.Timeout | undefined
  readonly #unlink: () => void = () => {}
  readonly deadlineAt: number
  #released = false
  /** Queries not settled yet. */
  #inFlight = 0

  constructor(
    private readonly service: Service,
    readonly generation: Generation,
    private readonly opts: HandleOptions,
  ) {
    this.deadlineAt = Date.now() + opts.timeoutMs
    const parent = opts.signal
    if (parent) {
      const onAbort = () => this.#abort(new QueryAbortedError('the client went away'))
      parent.addEventListener('abort', onAbort, { once: true })
      this.#unlink = () => parent.removeEventListener('abort', onAbort)
    }
  }

  get signal(): AbortSignal {
    return this.#control().signal
  }

  #control(): AbortController {
    if (this.#controller) return this.#controller
    const controller = new AbortController()
    this.#controller = controller
    const timeoutMs = this.opts.timeoutMs
    const left = this.deadlineAt - Date.now()
    if (this.#released) controller.abort(new QueryAbortedError('released'))
    else if (left <= 0) controller.abort(new DeadlineReason(timeoutMs))
    else this.#timer = setTimeout(() => controller.abort(new DeadlineReason(timeoutMs)), left)
    return controller
  }

  #abort(reason: unknown): void {
    this.#control().abort(reason)
  }

  query<N extends QueryName>(name: N, ...args: QueryArgs<N>): Promise<QueryResult<N>> {
    return this.queryByName(name, args) as Promise<QueryResult<N>>
  }

  lookup<N extends 'findTitle' | 'findName'>(name: N, ...args: QueryArgs<N>): Promise<QueryResult<N>> {
    return this.queryByName(name, args, this.service.pointLookups) as Promise<QueryResult<N>>
  }

  async queryJson<N extends QueryName>(name: N, ...args: QueryArgs<N>): Promise<Buffer> {
    const bytes = (await this.queryByName(name, args, this.service.executor, 'json')) as Uint8Array
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  async queryByName(
    name: string,
    args: unknown[],
    executor = this.service.executor,
    encode?: QueryTask['encode'],
  ): Promise<unknown> {
    if (this.#released) throw new QueryAbortedError('the handle was released')
    const cache = this.service.results
    const key = CACHEABLE.has(name)
      ? ResultCache.key(this.generation.id, `${name}:${encode ?? ''}`, args)
      : null
    const cached = key === null ? undefined : cache.get(key)
    if (cached) return cached.value
    this.#inFlight++
    try {
      const started = performance.now()
      const value = await executor.run(
        { dbPath: this.generation.dbPath, query: name, args, ...(encode ? { encode } : {}) },
        {
          // An inline query stops at the deadline by itself; it only needs a signal already made.
          signal: executor.mode === 'inline' ? this.#controller?.signal : this.signal,
          deadlineAt: this.deadlineAt,
          timeoutMs: this.opts.timeoutMs,
        },
      )
      if (key !== null && performance.now() - started >= this.service.cacheAfterMs) cache.set(key, value)
      return value
    } catch (err) {
      throw this.#problem(err)
    } finally {
      this.#inFlight--
    }
  }

  #problem(err: unknown): unknown {
    if (err instanceof QueryDeadlineError) {
      this.opts.onDeadline()
      return queryTimeout(this.opts.timeoutMs)
    }
    if (err instanceof PoolBusyError) return poolBusy()
    if (err instanceof WorkerCrashedError) return workerCrashed(err)
    if (err instanceof QueryAbortedError) {
      return requestAborted()
    }
    return err
  }

  budget(fraction: number): number {
    return Date.now() + Math.max(0, this.deadlineAt - Date.now()) * fraction
  }

  require(...datasets: DatasetName[]): void {
    const missing = datasets.filter((d) => !this.generation.has(d))
    if (missing.length > 0) throw datasetNotLoaded(missing)
  }

  release(): void {
    if (this.#released) return
    this.#released = true
    clearTimeout(this.#timer)
    this.#unlink()
    // Anything still running for a finished request or page (the client went away) is wasted work.
    if (this.#inFlight > 0) this.#abort(new QueryAbortedError('released'))
    this.opts.onRelease?.()
  }
}

const kHandle = Symbol('marquee.datasetHandle')
const kRelease = Symbol('marquee.datasetRelease')
const kResponse = Symbol('marquee.response')

type WithHandle = FastifyRequest & {
  [kHandle]: Promise<DatasetHandle> | null
  [kRelease]: (() => void) | null
  [kResponse]: FastifyReply['raw'] | null
}

async function datasetPlugin(app: FastifyInstance, opts: DatasetPluginOptions) {
  const extra = opts.extraQueryModules ?? []
  let executor: QueryExecutor
  let inline: InlineExecutor | null = null
  let service: Service
  let postgres: PostgresDataset | null = null
  if (opts.postgres) {
    // No worker threads: pg is asynchronous, the main thread waits for nothing.
    const pg = await PostgresDataset.open({
      databaseUrl: opts.postgres.databaseUrl,
      schemaPrefix: opts.postgres.schemaPrefix,
      // A connection mostly waits on a round trip: more of them than worker threads (at least 8).
      poolSize: Math.max(opts.poolSize, PG_MIN_CONNECTIONS),
      queryTimeoutMs: opts.queryTimeoutMs,
      extraQueryModules: extra,
    })
    postgres = pg
    executor = pg.executor
    service = new Service(executor, null, '', undefined, async () => {
      const g = await pg.read()
      return g ? new Generation(g.generation, g.schema, g.manifest, g.cursorSecret) : null
    })
    await service.load()
    app.decorate('dataset', service)
    // Swaps by `marquee ingest` on any machine: NOTIFY, a poll, SIGHUP and POST /admin/reload.
    await app.register(postgresReload, { service, dataset: pg })
  } else {
    inline = await InlineExecutor.create(extra)
    const pool = opts.inlineQueries
      ? null
      : new QueryPool({
          size: opts.poolSize,
          extraQueryModules: extra,
          cancelGraceMs: opts.cancelGraceMs,
        })
    executor = pool ?? inline
    // Replacement workers open the current generation's file while they boot.
    service = new Service(executor, inline, opts.dbPath, (g) => pool?.setWarmPath(g.dbPath))
    if (opts.inlinePointLookups) service.pointLookups = inline
    await service.load(opts.dbPath)
    await pool?.warmUp()
    app.decorate('dataset', service)
  }

  service.results = new ResultCache(opts.resultCacheBytes ?? 0)
  service.cacheAfterMs = opts.resultCacheAfterMs ?? CACHE_AFTER_MS
  const timeouts = app.hasDecorator('metrics') ? app.metrics.queryTimeouts : null
  if (app.hasDecorator('metrics')) {
    app.metrics.gauge('marquee_result_cache_hits', 'Answers served from the result cache', () => {
      return service.results.hits
    })
    app.metrics.gauge('marquee_result_cache_bytes', 'Memory held by the result cache (approx.)', () => {
      return service.results.bytes
    })
    app.metrics.gauge('marquee_pool_threads', 'Query worker threads alive', () => executor.stats().threads)
    app.metrics.gauge('marquee_pool_queue', 'Queries waiting for a worker', () => executor.stats().queued)
    app.metrics.gauge(
      'marquee_pool_workers_terminated',
      'Query workers terminated (deadlines, crashes)',
      () => executor.stats().workersTerminated,
    )
    app.metrics.gauge('marquee_dataset_handles_open', 'Requests holding a dataset generation', () => {
      return service.stats().handlesOpen
    })
  }

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
      onDeadline: () => timeouts?.inc(),
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
  app.addHook('onClose', async () => {
    // Requests still in flight finish on the pool before it goes (bounded: they have deadlines).
    const until = Date.now() + opts.queryTimeoutMs + 1000
    while (service.stats().handlesOpen > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10))
    await executor.close()
    if (inline && inline !== executor) await inline.close()
    await postgres?.close()
  })
}

/**
 * Sets ETag and Last-Modified (both tied to the pinned generation) and answers 304 when the
 * client's copy is current. Returns true when the reply was sent.
 */
export function notModified(request: FastifyRequest, reply: FastifyReply, handle: DatasetHandle): boolean {
  const g = handle.generation
  reply.header('etag', g.etag)
  if (g.lastModified) reply.header('last-modified', g.lastModified)
  reply.header('cache-control', 'no-cache')
  const inm = request.headers['if-none-match']
  if (inm !== undefined) {
    const tags = inm.split(',').map((t) => t.trim().replace(/^W\//, ''))
    if (tags.includes(g.etag) || tags.includes('*')) {
      reply.code(304).send()
      return true
    }
    return false
  }
  const ims = request.headers['if-modified-since']
  if (ims !== undefined && g.lastModified) {
    const since = Date.parse(ims)
    if (!Number.isNaN(since) && Date.parse(g.lastModified) <= since) {
      reply.code(304).send()
      return true
    }
  }
  return false
}

export default fp(datasetPlugin, { name: 'marquee-dataset' })
