import { createHash, createHmac } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'

/**
 * Webhook deliveries: a signed JSON POST to one URL, retried with exponential backoff until the
 * receiver answers 2xx, refuses it for good (a 4xx other than 408 and 429), or the attempts run
 * out. Plain TypeScript over node's fetch: src/plugins/webhook.ts wires it to the dataset's swaps.
 *
 * - Signed: `X-Marquee-Signature: sha256=<hex>`, the HMAC-SHA256 of the exact body bytes with the
 *   shared secret. The body is the same bytes at every attempt of a delivery.
 * - Never blocking: notify() starts the delivery and returns; every attempt has its own timeout.
 * - At least once while the process runs: close() cancels the deliveries still pending (each one
 *   logged), nothing is kept across a restart.
 */

/** What a generation going live is announced with (the JSON body, as sent). */
export interface GenerationLiveEvent {
  type: 'generation.live'
  /** Same as the X-Marquee-Delivery header: stable for one swap (see deliveryIdOf). */
  deliveryId: string
  /** The generation now served. */
  generation: string
  /** The generation served before; null when none was. */
  previous: string | null
  /** When the new generation was built (its manifest's finishedAt), as /system reports it. */
  loadedAt: string | null
  /** When this server started serving it (ISO 8601). */
  liveAt: string
  /** The manifest's `changes` (`{ since, counts }`) when the generation records them, else null. */
  changes: unknown
}

/** The pino-like logger deliveries report to. */
export interface WebhookLogger {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
  error(obj: object, msg: string): void
}

export interface WebhookTuning {
  /** Attempts of one delivery at most (default 6). */
  attempts: number
  /** The wait before the second attempt; it doubles for each next one (default 10 s). */
  baseDelayMs: number
  /** The longest wait between two attempts, Retry-After included (default 5 min). */
  maxDelayMs: number
  /** One attempt's deadline: connect, send, and the receiver's answer (default 10 s). */
  timeoutMs: number
}

/** 6 attempts over ~5 minutes: waits of 10, 20, 40, 80 and 160 s. */
export const DEFAULT_TUNING: WebhookTuning = {
  attempts: 6,
  baseDelayMs: 10_000,
  maxDelayMs: 300_000,
  timeoutMs: 10_000,
}

export interface WebhookOptions extends Partial<WebhookTuning> {
  url: string
  secret: string
  log?: WebhookLogger
  /** Sent as User-Agent. */
  userAgent?: string
}

/** How a delivery ended. */
export type DeliveryOutcome =
  | { result: 'delivered'; attempts: number; status: number }
  | { result: 'rejected'; attempts: number; status: number }
  | { result: 'exhausted'; attempts: number; error: string }
  | { result: 'cancelled'; attempts: number }

/** One attempt, as the 'attempt' event reports it. */
export interface AttemptReport {
  deliveryId: string
  attempt: number
  /** The receiver's status, or null when no answer came (network error, timeout). */
  status: number | null
  error: string | null
}

export const SIGNATURE_HEADER = 'x-marquee-signature'

/** `sha256=<hex>`: the HMAC-SHA256 of `body` with `secret`. */
export function sign(body: string | Uint8Array, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
}

/**
 * A delivery's id: the same for the same swap (previous -> generation) announced to the same URL,
 * so a receiver dedupes on it even when several processes announce one swap (`serve --workers N`,
 * or several servers over one PostgreSQL database each send theirs).
 */
export function deliveryIdOf(url: string, previous: string | null, generation: string): string {
  const hex = createHash('sha256')
    .update(`${url}\n${previous ?? ''}\n${generation}`)
    .digest('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`
}

/** Statuses that may pass: a timeout on the receiver's side, or its rate limit. */
const RETRYABLE_4XX = new Set([408, 429])

const silent: WebhookLogger = { info() {}, warn() {}, error() {} }

/**
 * Sends webhook deliveries. Events: 'attempt' (AttemptReport) after each attempt, 'done'
 * (deliveryId, DeliveryOutcome) when a delivery ends.
 */
export class WebhookNotifier {
  readonly events = new EventEmitter()
  readonly url: string
  readonly #secret: string
  readonly #tuning: WebhookTuning
  readonly #log: WebhookLogger
  readonly #userAgent: string
  /** Aborted by close(): stops every wait and every request in flight. */
  readonly #closing = new AbortController()
  readonly #pending = new Set<Promise<DeliveryOutcome>>()

  constructor(opts: WebhookOptions) {
    this.url = opts.url
    this.#secret = opts.secret
    this.#tuning = {
      attempts: opts.attempts ?? DEFAULT_TUNING.attempts,
      baseDelayMs: opts.baseDelayMs ?? DEFAULT_TUNING.baseDelayMs,
      maxDelayMs: opts.maxDelayMs ?? DEFAULT_TUNING.maxDelayMs,
      timeoutMs: opts.timeoutMs ?? DEFAULT_TUNING.timeoutMs,
    }
    this.#log = opts.log ?? silent
    this.#userAgent = opts.userAgent ?? 'marquee-webhook'
  }

  /** Deliveries not ended yet. */
  get pending(): number {
    return this.#pending.size
  }

  /**
   * Starts delivering `event` (fire and forget: it never throws, and the returned promise, which
   * callers may ignore, never rejects).
   */
  notify(event: Omit<GenerationLiveEvent, 'type' | 'deliveryId'>): Promise<DeliveryOutcome> {
    const deliveryId = deliveryIdOf(this.url, event.previous, event.generation)
    const body: GenerationLiveEvent = { type: 'generation.live', deliveryId, ...event }
    if (this.#closing.signal.aborted) {
      this.#log.warn({ deliveryId, generation: event.generation }, 'webhook not sent: the server is closing')
      return Promise.resolve({ result: 'cancelled', attempts: 0 })
    }
    const run = this.#deliver(deliveryId, JSON.stringify(body), event).catch((err): DeliveryOutcome => {
      // Not expected (every failure of an attempt is caught); logged, never thrown at the caller.
      this.#log.error({ err, deliveryId }, 'webhook delivery failed unexpectedly')
      return { result: 'exhausted', attempts: 0, error: String(err) }
    })
    this.#pending.add(run)
    void run.then((outcome) => {
      this.#pending.delete(run)
      this.events.emit('done', deliveryId, outcome)
    })
    return run
  }

  async #deliver(
    deliveryId: string,
    body: string,
    { generation, liveAt }: { generation: string; liveAt: string },
  ): Promise<DeliveryOutcome> {
    const { attempts, timeoutMs } = this.#tuning
    const closing = this.#closing.signal
    const signature = sign(body, this.#secret)
    // The swap's time (liveAt, which the signed body carries too), in Unix seconds.
    const timestamp = String(Math.floor(Date.parse(liveAt) / 1000))
    const ctx = { deliveryId, generation, url: this.url }
    let lastError = ''
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (closing.aborted) return this.#cancelled(ctx, attempt - 1)
      let status: number | null = null
      let retryAfterMs = 0
      try {
        const res = await fetch(this.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': this.#userAgent,
            'x-marquee-event': 'generation.live',
            'x-marquee-delivery': deliveryId,
            'x-marquee-attempt': String(attempt),
            'x-marquee-timestamp': timestamp,
            [SIGNATURE_HEADER]: signature,
          },
          body,
          // A redirect is a misconfigured URL: the signed body is not re-sent elsewhere.
          redirect: 'manual',
          signal: AbortSignal.any([closing, AbortSignal.timeout(timeoutMs)]),
        })
        status = res.status
        retryAfterMs = retryAfterOf(res.headers.get('retry-after'))
        // The answer's body is not read: release the connection.
        await res.body?.cancel().catch(() => {})
      } catch (err) {
        if (closing.aborted) return this.#cancelled(ctx, attempt)
        lastError = errorText(err)
      }
      this.events.emit('attempt', {
        deliveryId,
        attempt,
        status,
        error: status === null ? lastError : null,
      } satisfies AttemptReport)
      if (status !== null && status >= 200 && status < 300) {
        this.#log.info({ ...ctx, attempt, status }, 'webhook delivered')
        return { result: 'delivered', attempts: attempt, status }
      }
      if (status !== null && status < 500 && !RETRYABLE_4XX.has(status)) {
        this.#log.error({ ...ctx, attempt, status }, 'webhook refused by the receiver; not retried')
        return { result: 'rejected', attempts: attempt, status }
      }
      if (status !== null) lastError = `HTTP ${status}`
      if (attempt === attempts) break
      const waitMs = Math.min(
        this.#tuning.maxDelayMs,
        Math.max(this.#tuning.baseDelayMs * 2 ** (attempt - 1), retryAfterMs),
      )
      this.#log.warn({ ...ctx, attempt, error: lastError, retryInMs: waitMs }, 'webhook attempt failed')
      try {
        await sleep(waitMs, undefined, { signal: closing })
      } catch {
        return this.#cancelled(ctx, attempt)
      }
    }
    this.#log.error({ ...ctx, attempts, error: lastError }, 'webhook not delivered: attempts exhausted')
    return { result: 'exhausted', attempts, error: lastError }
  }

  #cancelled(ctx: object, attempts: number): DeliveryOutcome {
    this.#log.warn({ ...ctx, attempts }, 'webhook delivery cancelled: the server is closing')
    return { result: 'cancelled', attempts }
  }

  /** Cancels the pending deliveries (their waits and requests in flight) and waits for them to end. */
  async close(): Promise<void> {
    this.#closing.abort()
    await Promise.all(this.#pending)
  }
}

/** Retry-After in ms (delta-seconds or an HTTP date); 0 when absent or unreadable. */
function retryAfterOf(value: string | null): number {
  if (value === null) return 0
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const at = Date.parse(value)
  return Number.isNaN(at) ? 0 : Math.max(0, at - Date.now())
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError') return 'timed out'
    const cause = (err.cause as { code?: string; message?: string } | undefined) ?? undefined
    return cause?.code ? `${err.message} (${cause.code})` : err.message
  }
  return String(err)
}
