import type pg from 'pg'
import {
  abortError,
  type ExecutorStats,
  encodeAnswer,
  PoolBusyError,
  QueryDeadlineError,
  type QueryExecutor,
  QueryFailedError,
  type QueryTask,
  type RunOptions,
  serializeError,
} from '../../pool/task.js'
import { loadRegistry, type QueryFn } from '../queries/index.js'
import { createPool, ScopedKysely } from './connection.js'

export interface PostgresExecutorOptions {
  databaseUrl: string
  /** Connections, i.e. queries running at once. */
  poolSize: number
  /** Tasks waiting for a connection before new ones are refused (PoolBusyError). */
  maxQueue?: number
  /** The server stops any statement after this long (a backstop for the cancel below). */
  statementTimeoutMs: number
  /** Modules adding queries to the registry (tests add slow queries). */
  extraQueryModules?: readonly string[]
}

/** SQLSTATE of a statement stopped by statement_timeout or a cancel request. */
const QUERY_CANCELED = '57014'

/**
 * Runs the query functions of src/db/queries/ on the main thread over a pg pool: pg is
 * asynchronous, so the event loop never waits for the database and no worker thread is needed.
 * A task's `dbPath` is the generation's schema: the task's client gets it as its search_path (set
 * only when it changes), and every query of the task runs on that one client.
 *
 * Deadlines stop the work on the server: when a task's signal fires (deadline, or the client gone)
 * while a statement runs, `pg_cancel_backend` cancels it, and the client is discarded rather than
 * reused (a cancel arriving late must not hit the next task's statement). Every session also has a
 * statement_timeout as a backstop.
 */
export class PostgresExecutor implements QueryExecutor {
  readonly mode = 'pool' as const
  readonly #pool: pg.Pool
  /** Sends cancel requests; its own connection, so a full pool cannot delay a cancel. */
  readonly #control: pg.Pool
  readonly #scoped = new ScopedKysely()
  readonly #registry: Map<string, QueryFn>
  readonly #maxQueue: number
  readonly #searchPath = new WeakMap<pg.PoolClient, string>()
  #waiting = 0
  #completed = 0
  #cancelled = 0
  #closed = false

  private constructor(opts: PostgresExecutorOptions, registry: Map<string, QueryFn>) {
    this.#registry = registry
    this.#maxQueue = opts.maxQueue ?? Math.max(64, opts.poolSize * 32)
    this.#pool = createPool(opts.databaseUrl, {
      max: opts.poolSize,
      application: 'marquee-api',
      // Short queries, many at once: parallel workers would only add latency and contend for CPU.
      settings: {
        statement_timeout: opts.statementTimeoutMs,
        default_transaction_read_only: 'on',
        max_parallel_workers_per_gather: 0,
        // Ranking every match of a broad word (78k for 'love' in 1M titles) hashes in memory.
        work_mem: '32MB',
        // Compiling a query whose estimate passes jit_above_cost (10,000 key lookups do) takes
        // longer than running it.
        jit: 'off',
        // A generation never changes and what the API reads of it stays cached: a random read
        // costs about what a sequential one does. At the default 4 (disk seeks) the planner
        // hashes the whole titles table to join a person's 4,000 credits (0.13 s) rather than
        // looking them up by key (0.04 s).
        random_page_cost: '1.1',
      },
    })
    this.#control = createPool(opts.databaseUrl, { max: 1, application: 'marquee-api-cancel' })
  }

  static async create(opts: PostgresExecutorOptions): Promise<PostgresExecutor> {
    return new PostgresExecutor(opts, await loadRegistry(opts.extraQueryModules ?? []))
  }

  /** Runs `fn` on a client whose search_path is `schema` (start-up reads, outside any request). */
  async withSchema<T>(schema: string, fn: (db: ScopedKysely['db']) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect()
    try {
      await this.#use(client, schema)
      return await this.#scoped.run(client, fn)
    } finally {
      client.release()
    }
  }

  /** The pool, for plain queries (the generation pointer). */
  get pool(): pg.Pool {
    return this.#pool
  }

  async #use(client: pg.PoolClient, schema: string): Promise<void> {
    if (this.#searchPath.get(client) === schema) return
    await client.query(`SELECT set_config('search_path', $1, false)`, [schema])
    this.#searchPath.set(client, schema)
  }

  async run(task: QueryTask, opts: RunOptions = {}): Promise<unknown> {
    const { signal } = opts
    if (this.#closed)
      throw new QueryFailedError(task.query, { name: 'Closed', message: 'the executor is closed' })
    if (signal?.aborted) throw abortError(signal)
    const fn = this.#registry.get(task.query)
    if (!fn)
      throw new QueryFailedError(task.query, {
        name: 'UnknownQuery',
        message: `no query named ${task.query}`,
      })
    if (this.#waiting >= this.#maxQueue) throw new PoolBusyError()

    const client = await this.#acquire(signal)
    let discard = false
    const onAbort = () => {
      discard = true
      this.#cancel(client)
    }
    try {
      signal?.addEventListener('abort', onAbort, { once: true })
      await this.#use(client, task.dbPath)
      return encodeAnswer(await this.#scoped.run(client, (db) => fn(db, ...task.args), signal), task.encode)
    } catch (err) {
      if (signal?.aborted) throw abortError(signal)
      if ((err as { code?: string }).code === QUERY_CANCELED) {
        discard = true
        throw new QueryDeadlineError(opts.timeoutMs ?? 0)
      }
      // A broken connection must not go back to the pool.
      if (!(err as { code?: string }).code) discard = true
      throw new QueryFailedError(task.query, serializeError(err))
    } finally {
      signal?.removeEventListener('abort', onAbort)
      this.#completed++
      client.release(discard)
    }
  }

  /** A pooled client, or the signal's error if it fires first (the client then goes straight back). */
  async #acquire(signal: AbortSignal | undefined): Promise<pg.PoolClient> {
    this.#waiting++
    const connecting = this.#pool.connect()
    try {
      if (!signal) return await connecting
      let onAbort: (() => void) | undefined
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => reject(abortError(signal))
        signal.addEventListener('abort', onAbort, { once: true })
      })
      try {
        return await Promise.race([connecting, aborted])
      } catch (err) {
        connecting.then(
          (c) => c.release(),
          () => {},
        )
        throw err
      } finally {
        signal.removeEventListener('abort', onAbort!)
      }
    } finally {
      this.#waiting--
    }
  }

  #cancel(client: pg.PoolClient): void {
    const pid = (client as unknown as { processID: number | null }).processID
    if (!pid) return
    this.#cancelled++
    this.#control.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => {})
  }

  stats(): ExecutorStats {
    return {
      mode: this.mode,
      threads: this.#pool.totalCount,
      queued: this.#pool.waitingCount,
      completed: this.#completed,
      workersCreated: 0,
      workersTerminated: this.#cancelled,
      workersExited: this.#cancelled,
      stopped: this.#cancelled,
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await Promise.all([this.#pool.end().catch(() => {}), this.#control.end().catch(() => {})])
  }
}
