import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { workerUrl } from '../lib/worker-url.js'
import type { ChunkMessage, OutcomeMessage, RetainMessage, TaskMessage } from './sql-console.worker.js'
import {
  abortError,
  type ExecutorStats,
  PoolBusyError,
  type QueryExecutor,
  QueryFailedError,
  type QueryTask,
  type RunOptions,
} from './task.js'

/**
 * A QueryExecutor whose tasks run in child processes, one task per process at a time; a task whose
 * signal aborts (its deadline, or the client going away) gets its process killed (SIGKILL), which
 * stops SQLite wherever it is, and a replacement is started in the background.
 *
 * This is for the SQL console: a worker thread cannot be stopped inside a long sqlite3_step()
 * (better-sqlite3 has no interrupt), so arbitrary SQL on the shared query pool could pin a core
 * forever. Processes cost more to start (tens of ms from dist/, more under tsx), so they are
 * started ahead and kept.
 */

export interface ProcessExecutorOptions {
  /** Processes (tasks running at once). */
  size: number
  /** Tasks waiting for a process beyond which run() rejects with PoolBusyError. */
  maxQueue?: number
}

interface Slot {
  child: ChildProcess | null
  /** Resolves when `child` said it is ready (rejects when it died first). */
  ready: Promise<ChildProcess> | null
  busy: boolean
}

interface Waiter {
  resolve: (slot: Slot) => void
  reject: (err: unknown) => void
}

const ENTRY = workerUrl('./sql-console.worker.js', import.meta.url)

/** The parent's Node flags a child needs (loaders such as tsx), without test-runner or inspector ones. */
function childExecArgv(): string[] {
  return process.execArgv.filter((a) => !/^--(test|inspect|debug|watch)/.test(a))
}

export class ProcessExecutor implements QueryExecutor {
  readonly mode = 'pool' as const
  readonly #slots: Slot[]
  readonly #queue: Waiter[] = []
  readonly #maxQueue: number
  #seq = 0
  #completed = 0
  #created = 0
  #terminated = 0
  #exited = 0
  #closed = false

  constructor(opts: ProcessExecutorOptions) {
    this.#slots = Array.from({ length: Math.max(1, opts.size) }, () => ({
      child: null,
      ready: null,
      busy: false,
    }))
    this.#maxQueue = opts.maxQueue ?? 16
  }

  /** Starts every process now (in the background: failures show on the first task). */
  warmUp(): Promise<void> {
    return Promise.all(this.#slots.map((s) => this.#ensure(s).catch(() => {}))).then(() => {})
  }

  async run(task: QueryTask, opts: RunOptions = {}): Promise<unknown> {
    const { signal } = opts
    if (this.#closed)
      throw new QueryFailedError(task.query, { name: 'Closed', message: 'the executor is closed' })
    if (signal?.aborted) throw abortError(signal)
    const slot = await this.#acquire(signal)
    try {
      return await this.#exec(slot, task, signal)
    } finally {
      this.#completed++
      this.#releaseSlot(slot)
    }
  }

  #acquire(signal: AbortSignal | undefined): Promise<Slot> {
    const free = this.#slots.find((s) => !s.busy)
    if (free) {
      free.busy = true
      return Promise.resolve(free)
    }
    if (this.#queue.length >= this.#maxQueue) return Promise.reject(new PoolBusyError())
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (slot) => {
          signal?.removeEventListener('abort', onAbort)
          resolve(slot)
        },
        reject,
      }
      const onAbort = () => {
        const i = this.#queue.indexOf(waiter)
        if (i >= 0) this.#queue.splice(i, 1)
        reject(abortError(signal!))
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#queue.push(waiter)
    })
  }

  #releaseSlot(slot: Slot): void {
    const next = this.#queue.shift()
    if (next) next.resolve(slot)
    else slot.busy = false
  }

  /** The slot's process, started if needed; resolves once it is ready. */
  #ensure(slot: Slot): Promise<ChildProcess> {
    if (slot.ready) return slot.ready
    const child = fork(fileURLToPath(ENTRY), [], {
      execArgv: childExecArgv(),
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    this.#created++
    slot.child = child
    const ready = new Promise<ChildProcess>((resolve, reject) => {
      const onMessage = (m: unknown) => {
        if ((m as { ready?: boolean })?.ready) {
          child.off('exit', onExit)
          child.off('message', onMessage)
          resolve(child)
        }
      }
      const onExit = (code: number | null, sig: string | null) => {
        child.off('message', onMessage)
        reject(new Error(`the query process exited while starting (${sig ?? `code ${code}`})`))
      }
      child.on('message', onMessage)
      child.once('exit', onExit)
    })
    slot.ready = ready
    child.once('exit', () => {
      this.#exited++
      if (slot.child === child) {
        slot.child = null
        slot.ready = null
      }
    })
    // Never an unhandled rejection: a task awaiting it sees the error.
    ready.catch(() => {})
    return ready
  }

  async #exec(slot: Slot, task: QueryTask, signal: AbortSignal | undefined): Promise<unknown> {
    const child = await this.#raceAbort(this.#ensure(slot), signal)
    const id = ++this.#seq
    // The pieces of an encoded answer (ChunkMessage), handed back as the value's `chunks`.
    const chunks: Uint8Array[] = []
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        child.off('message', onMessage)
        child.off('exit', onExit)
        signal?.removeEventListener('abort', onAbort)
      }
      const onMessage = (m: OutcomeMessage | ChunkMessage) => {
        if (m?.id !== id) return
        if ('chunk' in m) {
          chunks.push(m.chunk)
          return
        }
        cleanup()
        if (!m.outcome.ok) reject(new QueryFailedError(task.query, m.outcome.error))
        else if (chunks.length > 0) resolve({ ...(m.outcome.value as object), chunks })
        else resolve(m.outcome.value)
      }
      const onExit = (code: number | null, sig: string | null) => {
        cleanup()
        reject(
          new QueryFailedError(task.query, {
            name: 'ProcessExited',
            message: `the query process exited (${sig ?? `code ${code}`})`,
          }),
        )
      }
      const onAbort = () => {
        cleanup()
        this.#kill(slot)
        reject(abortError(signal!))
      }
      child.on('message', onMessage)
      child.once('exit', onExit)
      signal?.addEventListener('abort', onAbort, { once: true })
      child.send({ id, task } satisfies TaskMessage)
    })
  }

  /**
   * `promise` (a process booting), unless the signal aborts first. The booting process is left to
   * finish: it runs no statement yet, and killing it would make every later task whose deadline
   * falls within a boot kill the next one too, so on a busy machine the console would never come
   * back.
   */
  #raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    if (!signal) return promise
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(abortError(signal))
      signal.addEventListener('abort', onAbort, { once: true })
      promise.then(
        (v) => {
          signal.removeEventListener('abort', onAbort)
          resolve(v)
        },
        (err) => {
          signal.removeEventListener('abort', onAbort)
          reject(err)
        },
      )
    })
  }

  /** Kills the slot's process at once and starts its replacement in the background. */
  #kill(slot: Slot): void {
    const child = slot.child
    slot.child = null
    slot.ready = null
    if (!child) return
    this.#terminated++
    child.kill('SIGKILL')
    if (!this.#closed) this.#ensure(slot).catch(() => {})
  }

  /**
   * Asks every process to close its connections to other dataset files than `dbPath` (a hot swap
   * made it the served one), so retired generations' files are freed. A process handles it between
   * tasks.
   */
  retain(dbPath: string): void {
    for (const slot of this.#slots) {
      const child = slot.child
      if (child?.connected) child.send({ retain: dbPath } satisfies RetainMessage)
    }
  }

  /** Live process ids (tests check that a killed one is gone). */
  pids(): number[] {
    return this.#slots.flatMap((s) => (s.child?.pid === undefined ? [] : [s.child.pid]))
  }

  stats(): ExecutorStats {
    return {
      mode: this.mode,
      threads: this.#slots.filter((s) => s.child).length,
      queued: this.#queue.length,
      completed: this.#completed,
      workersCreated: this.#created,
      workersTerminated: this.#terminated,
      stopped: this.#terminated,
      workersExited: this.#exited,
    }
  }

  async close(): Promise<void> {
    this.#closed = true
    for (const w of this.#queue.splice(0))
      w.reject(new QueryFailedError('', { name: 'Closed', message: 'closed' }))
    await Promise.all(
      this.#slots.map(async (slot) => {
        const child = slot.child
        slot.child = null
        slot.ready = null
        if (!child || child.exitCode !== null || child.signalCode !== null) return
        const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
        child.kill('SIGKILL')
        await gone
      }),
    )
  }
}
