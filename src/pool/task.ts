/** What the main thread sends a query worker (structured-cloned). */
export interface QueryTask {
  /** The dataset file to query (workers keep one read-only connection per path). */
  dbPath: string
  /** A name in the query registry (src/db/queries/index.ts, plus test modules). */
  query: string
  args: unknown[]
  /**
   * 'json': the answer is the value as UTF-8 JSON bytes, encoded where the query ran. A large answer
   * then crosses to the main thread as one byte copy, and is neither deserialized into objects nor
   * serialized again there (a title with 5,000 episodes: 700 kB).
   */
  encode?: 'json'
  /**
   * Shared with the pool (SharedArrayBuffer): [0] set by the pool to cancel the query, [1] set by
   * the worker when it starts it. Workers only.
   */
  control?: Int32Array
}

/** What a task's query answered, encoded as the task asks. */
export function encodeAnswer(value: unknown, encode: QueryTask['encode']): unknown {
  return encode === 'json' ? new TextEncoder().encode(JSON.stringify(value) ?? 'null') : value
}

export interface SerializedError {
  name: string
  message: string
  code?: string
}

/** What a worker answers: errors travel as data, so their name and code survive the thread boundary. */
export type TaskOutcome = { ok: true; value: unknown } | { ok: false; error: SerializedError }

export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    return { name: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}) }
  }
  return { name: 'Error', message: String(err) }
}

/** The deadline of a query passed: it was stopped (worker terminated, or inline scan interrupted). */
export class QueryDeadlineError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`query exceeded its ${timeoutMs} ms deadline`)
    this.name = 'QueryDeadlineError'
  }
}

/** The request went away (client disconnected) and its queries were stopped. */
export class QueryAbortedError extends Error {
  constructor(reason?: unknown) {
    super('query aborted', { cause: reason })
    this.name = 'QueryAbortedError'
  }
}

/** Every worker is busy and the queue is full: shed load rather than queue without bound. */
export class PoolBusyError extends Error {
  constructor() {
    super('all query workers are busy and the queue is full')
    this.name = 'PoolBusyError'
  }
}

/**
 * The worker thread running the query died under it (process.exit, an uncaught exception, a crash
 * in native code): not the query's answer, and piscina replaces the worker.
 */
export class WorkerCrashedError extends Error {
  constructor(
    readonly query: string,
    cause: unknown,
  ) {
    super(
      `the worker running query ${query} died: ${cause instanceof Error ? cause.message : String(cause)}`,
      {
        cause,
      },
    )
    this.name = 'WorkerCrashedError'
  }
}

/** A query function failed (a bug, or a database error such as a missing table). */
export class QueryFailedError extends Error {
  readonly code: string | undefined
  constructor(
    readonly query: string,
    readonly remote: SerializedError,
  ) {
    super(`query ${query} failed: ${remote.name}: ${remote.message}`)
    this.name = 'QueryFailedError'
    this.code = remote.code
  }
}

/** The reason an AbortSignal carries when a deadline fires. */
export class DeadlineReason {
  constructor(readonly timeoutMs: number) {}
}

export interface RunOptions {
  /** Aborts the task; a DeadlineReason as the reason means the deadline passed. */
  signal?: AbortSignal
  /** The deadline (epoch ms) the signal enforces, for executors that must check it themselves. */
  deadlineAt?: number
  /** The timeout the deadline came from, for the error message. */
  timeoutMs?: number
}

/** Runs queries somewhere: on worker threads (QueryPool) or on the calling thread (InlineExecutor). */
export interface QueryExecutor {
  readonly mode: 'pool' | 'inline'
  /**
   * Runs one task. `signal` aborts it: a queued task is dropped, a running one stopped (its worker
   * terminated). Rejects with QueryDeadlineError when the signal's reason is a DeadlineReason,
   * QueryAbortedError for other aborts, PoolBusyError, WorkerCrashedError, or QueryFailedError.
   */
  run(task: QueryTask, opts?: RunOptions): Promise<unknown>
  stats(): ExecutorStats
  close(): Promise<void>
}

export interface ExecutorStats {
  mode: 'pool' | 'inline'
  threads: number
  queued: number
  /** Tasks running now (at most `threads`); executors that cannot tell leave it out. */
  active?: number
  /** Tasks a worker has begun (not waiting in a queue); executors that cannot tell leave it out. */
  running?: number
  completed: number
  /** Workers started since the pool was created (initial ones included). */
  workersCreated: number
  /** Workers the pool terminated (aborted tasks, crashes). */
  workersTerminated: number
  /** Terminated workers whose thread has really stopped ('exit' seen). */
  workersExited: number
  /**
   * Queries stopped before they finished (their deadline, or their client gone): by their own scan
   * ticks, a terminated worker or process, or a cancelled statement.
   */
  stopped: number
}

/** Maps an abort to the error the caller sees. */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason
  return reason instanceof DeadlineReason
    ? new QueryDeadlineError(reason.timeoutMs)
    : new QueryAbortedError(reason)
}
