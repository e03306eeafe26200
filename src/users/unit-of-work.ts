import type { ServerResponse } from 'node:http'
import { Problem } from '../errors.js'
import type { BeginOptions, UserTransaction } from './store.js'

export type UnitOfWorkState = 'idle' | 'opening' | 'open' | 'committed' | 'rolled back' | 'closed'

/** The client closed the connection before the response: nothing it asked for is kept. */
export const clientClosedRequest = () =>
  new Problem('CLIENT_CLOSED_REQUEST', {
    detail: 'The client closed the connection before the response; the request was rolled back.',
  })

export class UnitOfWorkClosedError extends Error {
  constructor(state: UnitOfWorkState) {
    super(`the unit of work is already ${state === 'closed' ? 'finished' : state}; no more writes`)
    this.name = 'UnitOfWorkClosedError'
  }
}

export interface UnitOfWorkOptions {
  /** Opens the write transaction (the store's begin); called at most once. */
  begin: (opts: BeginOptions) => Promise<UserTransaction>
  /** The raw response: a 'close' before it finished means the client went away. */
  response?: ServerResponse
  /** Longest wait for the writer before giving up (the store's error says so). */
  writeWaitMs?: number
}

/**
 * One request's unit of work over the user store. The first `write()` opens the transaction; every
 * later or concurrent `write()` of the request (a `Promise.all` of sub-tasks) shares it. It ends
 * exactly once: `commit()` when the handler succeeded, `rollback()` when it failed or the client
 * went away; both first wait for the writes in flight, and refuse new ones. A request that never
 * writes never opens a transaction. The users plugin drives it from the request's hooks.
 */
export class UnitOfWork {
  readonly #opts: UnitOfWorkOptions
  readonly #controller = new AbortController()
  readonly #inflight = new Set<Promise<unknown>>()
  #tx: Promise<UserTransaction> | null = null
  #state: UnitOfWorkState = 'idle'
  #ending: 'commit' | 'rollback' | null = null
  #outcome: Promise<void> | null = null
  #onClose: (() => void) | null = null

  constructor(opts: UnitOfWorkOptions) {
    this.#opts = opts
  }

  get state(): UnitOfWorkState {
    return this.#state
  }

  /** Aborted when the client goes away (or abort() is called): long work checks it between steps. */
  get signal(): AbortSignal {
    return this.#controller.signal
  }

  /** A transaction was asked for and is not finished yet. */
  get pending(): boolean {
    return this.#tx !== null && this.#ending === null
  }

  /** Runs `fn` in the request's transaction, opening it first if this is the first write. */
  write<T>(fn: (tx: UserTransaction) => Promise<T>): Promise<T> {
    if (this.#ending) return Promise.reject(new UnitOfWorkClosedError(this.#state))
    if (this.#tx === null) this.#tx = this.#open()
    const op = this.#tx.then((tx) => {
      this.signal.throwIfAborted()
      return fn(tx)
    })
    this.#inflight.add(op)
    const forget = () => this.#inflight.delete(op)
    op.then(forget, forget)
    return op
  }

  #open(): Promise<UserTransaction> {
    this.#state = 'opening'
    const res = this.#opts.response
    if (res && !res.writableFinished) {
      this.#onClose = () => {
        if (!res.writableFinished) void this.abort()
      }
      res.once('close', this.#onClose)
    }
    const opening = this.#opts
      .begin({ signal: this.signal, timeoutMs: this.#opts.writeWaitMs })
      .then((tx) => {
        if (this.#state === 'opening') this.#state = 'open'
        return tx
      })
    opening.catch(() => {})
    return opening
  }

  /** Commits (after the writes in flight); rolls back instead, and throws, if the client is gone. */
  commit(): Promise<void> {
    return this.#finish('commit')
  }

  /** Rolls back (after the writes in flight); a no-op when nothing was opened or it already ended. */
  rollback(): Promise<void> {
    return this.#finish('rollback').catch(() => {})
  }

  /** The client went away: stop, and roll back. */
  abort(reason: unknown = clientClosedRequest()): Promise<void> {
    if (!this.signal.aborted) this.#controller.abort(reason)
    return this.rollback()
  }

  #finish(kind: 'commit' | 'rollback'): Promise<void> {
    if (this.#outcome) {
      if (kind === 'commit' && this.#ending === 'rollback') {
        return this.#outcome.then(() => {
          throw this.signal.aborted ? this.signal.reason : new UnitOfWorkClosedError(this.#state)
        })
      }
      return this.#outcome
    }
    this.#ending = kind
    if (this.#onClose) this.#opts.response?.removeListener('close', this.#onClose)
    this.#outcome = this.#end(kind)
    return this.#outcome
  }

  async #end(kind: 'commit' | 'rollback'): Promise<void> {
    if (this.#tx === null) {
      this.#state = 'closed'
      return
    }
    let tx: UserTransaction
    try {
      tx = await this.#tx
    } catch {
      this.#state = 'closed' // never opened: nothing to undo
      return
    }
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight])
    if (kind === 'commit' && this.signal.aborted) {
      await tx.rollback()
      this.#state = 'rolled back'
      throw this.signal.reason
    }
    if (kind === 'commit') {
      try {
        await tx.commit()
        this.#state = 'committed'
      } catch (err) {
        this.#state = 'rolled back' // the transaction rolls itself back when COMMIT fails
        throw err
      }
      return
    }
    await tx.rollback()
    this.#state = 'rolled back'
  }
}
