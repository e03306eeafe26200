import { loadRegistry, type QueryFn } from '../db/queries/index.js'
import { ConnectionCache, isBudgetExceeded, withDeadline } from '../db/sqlite/connection.js'
import {
  abortError,
  type ExecutorStats,
  encodeAnswer,
  QueryDeadlineError,
  type QueryExecutor,
  QueryFailedError,
  type QueryTask,
  type RunOptions,
  serializeError,
} from './task.js'

/**
 * Queries on the calling thread: the same registry and connections as a worker, without a thread
 * hop. While a statement runs, the event loop is blocked; the deadline is enforced by the scan
 * ticks (src/db/sqlite/connection.ts) instead of terminating a thread. Used for the benchmark's
 * "pool disabled" contrast (config.inlineQueries) and for bounded point lookups.
 */
export class InlineExecutor implements QueryExecutor {
  readonly mode = 'inline' as const
  readonly #registry: Map<string, QueryFn>
  readonly #connections = new ConnectionCache()
  #completed = 0
  #stopped = 0

  private constructor(registry: Map<string, QueryFn>) {
    this.#registry = registry
  }

  static async create(extraQueryModules: readonly string[] = []): Promise<InlineExecutor> {
    return new InlineExecutor(await loadRegistry(extraQueryModules))
  }

  async run(task: QueryTask, opts: RunOptions = {}): Promise<unknown> {
    const { signal, deadlineAt = Number.POSITIVE_INFINITY } = opts
    if (signal?.aborted) throw abortError(signal)
    const fn = this.#registry.get(task.query)
    if (!fn)
      throw new QueryFailedError(task.query, {
        name: 'UnknownQuery',
        message: `no query named ${task.query}`,
      })
    try {
      const conn = this.#connections.get(task.dbPath)
      return encodeAnswer(await withDeadline(deadlineAt, () => fn(conn.db, ...task.args)), task.encode)
    } catch (err) {
      if (signal?.aborted) throw abortError(signal)
      if (isBudgetExceeded(err) && Date.now() >= deadlineAt) {
        this.#stopped++
        throw new QueryDeadlineError(opts.timeoutMs ?? 0)
      }
      throw new QueryFailedError(task.query, serializeError(err))
    } finally {
      this.#completed++
    }
  }

  /** Closes the connection to a dataset file that is no longer served. */
  evict(dbPath: string): void {
    this.#connections.evict(dbPath)
  }

  stats(): ExecutorStats {
    return {
      mode: this.mode,
      threads: 0,
      queued: 0,
      completed: this.#completed,
      workersCreated: 0,
      workersTerminated: 0,
      workersExited: 0,
      stopped: this.#stopped,
    }
  }

  async close(): Promise<void> {
    this.#connections.closeAll()
  }
}
