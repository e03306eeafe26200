import type { DatasetName } from '../datasets/catalogue.js'
import type { QueryArgs, QueryName, QueryResult } from '../db/queries/index.js'
import { datasetNotLoaded, poolBusy, queryTimeout, requestAborted, workerCrashed } from '../errors.js'
import { ResultCache } from '../pool/result-cache.js'
import {
  DeadlineReason,
  PoolBusyError,
  QueryAbortedError,
  QueryDeadlineError,
  type QueryExecutor,
  type QueryTask,
  WorkerCrashedError,
} from '../pool/task.js'
import type { Generation } from './generation.js'

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
  onDeadline?: () => void
  /** Stops the handle's queries too (an export's client going away). */
  signal?: AbortSignal
  /** Called once, on release. */
  onRelease?: () => void
}

/** What a handle runs its queries with: the service's executors and result cache. */
export interface HandleHost {
  readonly executor: QueryExecutor
  readonly pointLookups: QueryExecutor
  readonly results: ResultCache
  readonly cacheAfterMs: number
}

/**
 * Queries whose answers the ResultCache keeps: complete answers that depend only on the generation
 * and the arguments (not counts and facets, whose arguments carry a time budget and whose answers
 * may be partial), and that can be slow (ranking every match of a common word).
 */
const CACHEABLE: ReadonlySet<string> = new Set(['listTitles', 'listNames', 'search'])

/** The handle of a request, or of one page of an export (see DatasetService.openHandle). */
export class GenerationHandle implements ReleasableHandle {
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
    private readonly host: HandleHost,
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
    return this.#run(name, args) as Promise<QueryResult<N>>
  }

  lookup<N extends 'findTitle' | 'findName'>(name: N, ...args: QueryArgs<N>): Promise<QueryResult<N>> {
    return this.#run(name, args, this.host.pointLookups) as Promise<QueryResult<N>>
  }

  async queryJson<N extends QueryName>(name: N, ...args: QueryArgs<N>): Promise<Buffer> {
    const bytes = (await this.#run(name, args, this.host.executor, 'json')) as Uint8Array
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  async #run(
    name: string,
    args: unknown[],
    executor = this.host.executor,
    encode?: QueryTask['encode'],
  ): Promise<unknown> {
    if (this.#released) throw new QueryAbortedError('the handle was released')
    const cache = this.host.results
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
      if (key !== null && performance.now() - started >= this.host.cacheAfterMs) cache.set(key, value)
      return value
    } catch (err) {
      throw this.#problem(err)
    } finally {
      this.#inFlight--
    }
  }

  /** The executor's failures as the problems a client gets. */
  #problem(err: unknown): unknown {
    if (err instanceof QueryDeadlineError) {
      this.opts.onDeadline?.()
      return queryTimeout(this.opts.timeoutMs)
    }
    if (err instanceof PoolBusyError) return poolBusy()
    if (err instanceof WorkerCrashedError) return workerCrashed(err)
    if (err instanceof QueryAbortedError) return requestAborted()
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
