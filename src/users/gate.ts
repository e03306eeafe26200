import { WriterBusyError } from './store.js'

interface Waiter {
  resolve: () => void
  reject: (err: unknown) => void
  cleanup: () => void
}

/**
 * An async FIFO semaphore: at most `capacity` holders; later callers wait in arrival order on a
 * promise (the event loop stays free), and may give up through an AbortSignal or a timeout.
 * With capacity 1 it is the write lock of a single-writer database.
 */
export class Gate {
  #held = 0
  readonly #queue: Waiter[] = []

  constructor(readonly capacity = 1) {}

  get held(): number {
    return this.#held
  }

  get waiting(): number {
    return this.#queue.length
  }

  /** Resolves once admitted; pair every successful acquire with exactly one release(). */
  acquire(opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<void> {
    const { signal, timeoutMs } = opts
    if (signal?.aborted) return Promise.reject(signal.reason)
    if (this.#held < this.capacity && this.#queue.length === 0) {
      this.#held++
      return Promise.resolve()
    }
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined
      const onAbort = () => leave(signal!.reason)
      const waiter: Waiter = {
        resolve,
        reject,
        cleanup: () => {
          if (timer) clearTimeout(timer)
          signal?.removeEventListener('abort', onAbort)
        },
      }
      const leave = (reason: unknown) => {
        const i = this.#queue.indexOf(waiter)
        if (i < 0) return
        this.#queue.splice(i, 1)
        waiter.cleanup()
        reject(reason)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => leave(new WriterBusyError(timeoutMs)), timeoutMs)
      }
      this.#queue.push(waiter)
    })
  }

  release(): void {
    const next = this.#queue.shift()
    if (next) {
      // The slot passes straight to the next waiter: nobody can overtake it.
      next.cleanup()
      next.resolve()
      return
    }
    if (this.#held === 0) throw new Error('Gate.release() without a matching acquire()')
    this.#held--
  }
}
