import type { Worker } from 'node:worker_threads'
import { Piscina } from 'piscina'
import { workerUrl } from '../lib/worker-url.js'
import type { Ping, WorkerData } from './query.worker.js'
import {
  abortError,
  type ExecutorStats,
  PoolBusyError,
  type QueryExecutor,
  QueryFailedError,
  type QueryTask,
  type RunOptions,
  type TaskOutcome,
  WorkerCrashedError,
} from './task.js'

export interface QueryPoolOptions {
  /** Worker threads (config.poolSize). */
  size: number
  /** Tasks waiting for a worker beyond which run() rejects with PoolBusyError. */
  maxQueue?: number
  /** Modules whose `queries` the workers add to the registry (tests add slow queries this way). */
  extraQueryModules?: readonly string[]
  /** A dataset file each new worker opens while booting. */
  warmDbPath?: string | null
  /** How long a cancelled query may take to stop at its next tick (default CANCEL_GRACE_MS). */
  cancelGraceMs?: number
}

/** How long a cancelled query has to stop at its own next tick before its worker is terminated. */
export const CANCEL_GRACE_MS = 1000

/**
 * Queries on worker threads (piscina): the event loop of the server never runs SQL.
 *
 * Aborting a task (its deadline, its client gone) answers the caller at once and stops the work
 * through a flag (SharedArrayBuffer) that the worker checks before it starts the query and that the
 * query's scan ticks read (withCancel): the worker stops within a few ms and stays, connections and
 * caches warm. Only a task still there after CANCEL_GRACE_MS (a query without ticks) is dropped from
 * the queue or has its worker terminated, and piscina starts a replacement. The pool records each
 * worker thread's real exit, so tests can tell a terminated worker from a stopped one.
 */
export class QueryPool implements QueryExecutor {
  readonly mode = 'pool' as const
  readonly #piscina: Piscina<QueryTask | Ping, TaskOutcome>
  // Piscina hands this same object to every worker it creates: setWarmPath() affects replacements.
  readonly #workerData: WorkerData
  readonly #threads = new Map<number, Worker>()
  #created = 0
  #terminated = 0
  #exited = 0
  #stopped = 0
  readonly #exitWaiters = new Map<number, Promise<void>>()
  /**
   * The control words of the tasks running or waiting ([1]: a worker has begun the task); piscina's
   * own maxQueue does not count tasks that carry a signal.
   */
  readonly #inFlight = new Set<Int32Array>()
  readonly #capacity: number
  readonly #cancelGraceMs: number

  constructor(opts: QueryPoolOptions) {
    this.#capacity = opts.size + (opts.maxQueue ?? Math.max(64, opts.size * 32))
    this.#cancelGraceMs = opts.cancelGraceMs ?? CANCEL_GRACE_MS
    this.#workerData = {
      extraQueryModules: [...(opts.extraQueryModules ?? [])],
      warmDbPath: opts.warmDbPath ?? null,
    }
    this.#piscina = new Piscina({
      filename: workerUrl('./query.worker.js', import.meta.url).href,
      minThreads: opts.size,
      maxThreads: opts.size,
      maxQueue: 'auto',
      // Keep workers (and their open connections and page caches) for the life of the pool.
      idleTimeout: 2 ** 31 - 1,
      workerData: this.#workerData,
    })
    this.#piscina.on('workerCreate', (w: { id: number }) => {
      this.#created++
      const thread = this.#piscina.threads.find((t) => t.threadId === w.id)
      if (!thread) return
      this.#threads.set(w.id, thread)
      this.#exitWaiters.set(
        w.id,
        new Promise((resolve) =>
          thread.once('exit', () => {
            this.#threads.delete(w.id)
            resolve()
          }),
        ),
      )
    })
    this.#piscina.on('workerDestroy', (w: { id: number }) => {
      this.#terminated++
      void this.#exitWaiters.get(w.id)?.then(() => {
        this.#exited++
        this.#exitWaiters.delete(w.id)
      })
    })
    // A worker crashing while idle: piscina replaces it; nothing waits on it.
    this.#piscina.on('error', () => {})
  }

  async run(task: QueryTask, opts: RunOptions = {}): Promise<unknown> {
    const signal = opts.signal
    if (signal?.aborted) throw abortError(signal)
    if (this.#inFlight.size >= this.#capacity) throw new PoolBusyError()
    // [0]: cancel (set here), [1]: started (set by the worker).
    const control = new Int32Array(new SharedArrayBuffer(8))
    // Aborted when the task must go without waiting for it: piscina then drops it from the queue, or
    // terminates the worker running it. Safe before the task started: the flag is set before
    // `started` is read here, and the worker sets `started` before it reads the flag, so a worker
    // found not started returns before any SQL (a worker terminated mid-statement may never exit).
    const hard = new AbortController()
    let grace: NodeJS.Timeout | undefined
    let onAbort = () => {}
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => {
        Atomics.store(control, 0, 1)
        if (Atomics.load(control, 1) === 0) hard.abort()
        else {
          this.#stopped++
          grace = setTimeout(() => hard.abort(), this.#cancelGraceMs)
        }
        reject(abortError(signal!))
      }
    })
    aborted.catch(() => {})
    signal?.addEventListener('abort', onAbort, { once: true })
    this.#inFlight.add(control)
    // Settles on its own after an abort (the worker answers QueryCancelled, or is terminated).
    const running = this.#piscina.run({ ...task, control }, { signal: hard.signal }).finally(() => {
      this.#inFlight.delete(control)
      clearTimeout(grace)
      signal?.removeEventListener('abort', onAbort)
    })
    running.catch(() => {})
    let outcome: TaskOutcome
    try {
      outcome = await (signal ? Promise.race([running, aborted]) : running)
    } catch (err) {
      if (signal?.aborted) throw abortError(signal)
      if (err instanceof Error && err.message === 'Task queue is at limit') throw new PoolBusyError()
      // Query errors travel as data (TaskOutcome): a rejection means the worker itself died.
      throw new WorkerCrashedError(task.query, err)
    }
    if (!outcome.ok) throw new QueryFailedError(task.query, outcome.error)
    return outcome.value
  }

  /**
   * Resolves once every current worker has booted (and opened `dbPath`), or after `timeoutMs`:
   * piscina counts its first workers ready at once, so without this the first requests would wait
   * for the boot; tests also use it to wait for replacements.
   */
  async warmUp(
    dbPath: string | null = this.#workerData.warmDbPath ?? null,
    timeoutMs = 30_000,
  ): Promise<void> {
    const until = Date.now() + timeoutMs
    const seen = new Set<unknown>()
    while (Date.now() < until) {
      // Each ping holds its worker briefly, so concurrent pings spread over the workers.
      const pings = Array.from({ length: this.#piscina.maxThreads }, () =>
        this.#piscina.run({ ping: dbPath, holdMs: 10 }),
      )
      for (const outcome of await Promise.all(pings)) if (outcome.ok) seen.add(outcome.value)
      if (this.threadIds().every((t) => seen.has(t))) return
    }
  }

  /** The dataset file replacement workers open while booting (after a generation swap). */
  setWarmPath(dbPath: string | null): void {
    this.#workerData.warmDbPath = dbPath
  }

  /**
   * Closes every worker's connection to a dataset file no request uses any more (a generation that
   * drained after a hot swap), so that the file's space is freed once it is unlinked or replaced.
   * Idle workers only run JavaScript for a task, so each gets one (held briefly, so that concurrent
   * ones spread over the workers), until every live worker has answered.
   */
  async evict(dbPath: string, rounds = 20): Promise<void> {
    const done = new Set<unknown>()
    // A signal exempts the tasks from piscina's queue limit, which must stay for requests' tasks.
    const signal = new AbortController().signal
    for (let i = 0; i < rounds; i++) {
      const tasks = Array.from({ length: this.#piscina.maxThreads }, () =>
        this.#piscina.run({ ping: null, evict: dbPath, holdMs: 5 }, { signal }).catch(() => null),
      )
      for (const outcome of await Promise.all(tasks)) if (outcome?.ok) done.add(outcome.value)
      if (this.threadIds().every((t) => done.has(t))) return
    }
  }

  /** Thread ids of the live workers. */
  threadIds(): number[] {
    return this.#piscina.threads.map((t) => t.threadId)
  }

  /** Resolves when the thread `threadId` has really exited (immediately if it is not known). */
  async waitForExit(threadId: number): Promise<void> {
    await this.#exitWaiters.get(threadId)
  }

  stats(): ExecutorStats {
    return {
      mode: this.mode,
      threads: this.#piscina.threads.length,
      queued: Math.max(0, this.#inFlight.size - this.#piscina.threads.length),
      active: Math.min(this.#inFlight.size, this.#piscina.threads.length),
      running: [...this.#inFlight].filter((c) => Atomics.load(c, 1) !== 0).length,
      completed: this.#piscina.completed,
      workersCreated: this.#created,
      workersTerminated: this.#terminated,
      workersExited: this.#exited,
      stopped: this.#stopped,
    }
  }

  async close(): Promise<void> {
    await this.#piscina.destroy()
  }
}
