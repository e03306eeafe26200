import { EventEmitter } from 'node:events'
import { ResultCache } from '../pool/result-cache.js'
import type { ExecutorStats, QueryExecutor } from '../pool/task.js'
import type { DatasetBackend } from './backend.js'
import type { DatasetInfo, Generation } from './generation.js'
import { GenerationHandle, type HandleHost, type HandleOptions, type ReleasableHandle } from './handle.js'

export interface DatasetServiceOptions {
  /** Bytes of memory for answers of slow list and search queries (ResultCache); 0: none. */
  resultCacheBytes?: number
  /** Keep answers that took at least this long (default CACHE_AFTER_MS; tests use 0). */
  resultCacheAfterMs?: number
  /** Failures nobody awaits: a reload the source's watch started, a throwing event listener. */
  onError?: (err: unknown, what: string) => void
}

export interface ReloadResult {
  /** The generation served after the reload (null: none is loaded). */
  generation: string | null
  /** The generation served before. */
  previous: string | null
  /** Whether a new generation was loaded. */
  changed: boolean
}

export interface DatasetStats {
  executor: ExecutorStats
  handlesOpen: number
  handlesAcquired: number
  handlesReleased: number
}

/** Only answers that took this long are kept: the fast ones cost less than the memory. */
const CACHE_AFTER_MS = 20

/**
 * The served dataset: which generation is current, the requests pinning each generation, and hot
 * swaps. A request pins the current generation (acquire) and queries it through a handle with a
 * deadline; a reload asks the backend for a newer generation and makes it current, and a retired
 * generation is freed once its last request lets go. Requests in flight never see a swap.
 *
 * Events: 'acquire' and 'release' (generation); 'loaded' (generation, previous, reason);
 * 'drained' (generation): a retired generation's last request ended and its backend freed it;
 * 'checked' (ReloadResult): a reload looked at the source, whatever it found (not emitted when the
 * reload fails: that failure goes to its caller).
 */
export class DatasetService implements HandleHost {
  readonly events = new EventEmitter()
  readonly results: ResultCache
  readonly cacheAfterMs: number
  #current: Generation | null = null
  readonly #retired = new Set<Generation>()
  #acquired = 0
  #released = 0
  /** One reload at a time; a trigger while one runs is served by the next one after it. */
  #chain: Promise<unknown> = Promise.resolve()
  #closed = false
  readonly #onError: (err: unknown, what: string) => void

  constructor(
    readonly backend: DatasetBackend,
    opts: DatasetServiceOptions = {},
  ) {
    this.results = new ResultCache(opts.resultCacheBytes ?? 0)
    this.cacheAfterMs = opts.resultCacheAfterMs ?? CACHE_AFTER_MS
    this.#onError = opts.onError ?? (() => {})
  }

  get executor(): QueryExecutor {
    return this.backend.executor
  }

  get pointLookups(): QueryExecutor {
    return this.backend.pointLookups
  }

  /** Loads the generation the source holds (if any), then follows the source's changes. */
  async start(): Promise<void> {
    await this.reload('start')
    await this.backend.watch(() => {
      if (!this.#closed) this.reload('the dataset changed').catch((err) => this.#onError(err, 'reload'))
    })
  }

  /** The loaded generation, or null when no dataset is loaded. */
  info(): DatasetInfo | null {
    return this.#current?.info() ?? null
  }

  /** The current generation (not pinned). */
  current(): Generation | null {
    return this.#current
  }

  /** Loads the source's generation if it is not the one served. Serialized. */
  reload(reason: string): Promise<ReloadResult> {
    const run = this.#chain.then(() => this.#load(reason))
    this.#chain = run.catch(() => {})
    // Outside the chain: a listener that throws must not fail the next reload.
    void run.then(
      (result) => {
        try {
          this.events.emit('checked', result)
        } catch (err) {
          this.#onError(err, "a listener of the 'checked' event")
        }
      },
      () => {},
    )
    return run
  }

  async #load(reason: string): Promise<ReloadResult> {
    const previous = this.#current
    const next = await this.backend.next(previous)
    if (next === null)
      return { generation: previous?.id ?? null, previous: previous?.id ?? null, changed: false }
    this.#current = next
    if (previous) {
      previous.retired = true
      this.#retired.add(previous)
      if (previous.refs === 0) this.#drain(previous)
    }
    this.events.emit('loaded', next, previous, reason)
    return { generation: next.id, previous: previous?.id ?? null, changed: true }
  }

  /** Retired generations still finishing requests. */
  draining(): number {
    return this.#retired.size
  }

  /** Pins the current generation (refs + 1); null when none is loaded. */
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
    if (g.retired && g.refs === 0) this.#drain(g)
  }

  #drain(g: Generation): void {
    if (!this.#retired.delete(g)) return
    void this.backend
      .drained(g)
      .catch(() => {})
      .then(() => this.events.emit('drained', g))
  }

  /**
   * A handle on `generation`, which the caller has pinned: its queries get `timeoutMs` from now and
   * stop when it is released or `signal` aborts. Releasing it does not unpin the generation.
   */
  openHandle(generation: Generation, opts: HandleOptions): ReleasableHandle {
    return new GenerationHandle(this, generation, opts)
  }

  /** Executor and handle counters. */
  stats(): DatasetStats {
    return {
      executor: this.executor.stats(),
      handlesOpen: this.#acquired - this.#released,
      handlesAcquired: this.#acquired,
      handlesReleased: this.#released,
    }
  }

  /** Stops following the source; waits for requests in flight (up to `waitMs`), then closes the backend. */
  async close(waitMs: number): Promise<void> {
    this.#closed = true
    await this.#chain
    const until = Date.now() + waitMs
    while (this.stats().handlesOpen > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10))
    await this.backend.close()
  }
}
