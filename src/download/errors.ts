/**
 * The ways one download attempt can fail, and whether trying again can help. Transient failures
 * (network errors, dropped connections, stalls, 5xx, 408/429) are retried with backoff and resume
 * from the `.part` file; everything else (4xx, a corrupt file, a local I/O error) fails the file.
 */

export type FailureKind = 'http' | 'network' | 'verify' | 'local' | 'protocol'

export abstract class DownloadError extends Error {
  abstract readonly kind: FailureKind
  abstract readonly transient: boolean
}

/** The server answered with a status other than 200/206/304. */
export class HttpStatusError extends DownloadError {
  readonly kind = 'http'
  constructor(
    readonly url: string,
    readonly status: number,
    readonly statusText: string,
    readonly headers: Headers,
  ) {
    super(`HTTP ${status}${statusText ? ` ${statusText}` : ''} from ${url}`)
    this.name = 'HttpStatusError'
  }

  get transient(): boolean {
    // 408 and 429 are explicit "try again later" answers; any other 4xx will not change on retry.
    return this.status >= 500 || this.status === 408 || this.status === 429
  }

  /** Seconds from a numeric Retry-After header, if any. */
  get retryAfterSeconds(): number | undefined {
    const v = this.headers.get('retry-after')
    return v && /^\d+$/.test(v.trim()) ? Number(v.trim()) : undefined
  }
}

/** No connection, a dropped connection, a stalled body or no response headers in time. */
export class NetworkError extends DownloadError {
  readonly kind = 'network'
  readonly transient = true
  constructor(
    readonly url: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${message} (${url})`, options)
    this.name = 'NetworkError'
  }
}

/** Every mirror failed to answer; `errors` holds one failure per mirror, in mirror order. */
export class MirrorsFailedError extends DownloadError {
  readonly kind: FailureKind
  readonly transient: boolean
  constructor(readonly errors: readonly DownloadError[]) {
    super(errors.map((e) => e.message).join('; '))
    this.name = 'MirrorsFailedError'
    this.transient = errors.some((e) => e.transient)
    this.kind = errors.find((e) => e.transient)?.kind ?? errors[0]?.kind ?? 'network'
  }
}

/** The downloaded file is not a complete gzip, or its first line is not the expected header. */
export class VerifyError extends DownloadError {
  readonly kind = 'verify'
  readonly transient = false
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'VerifyError'
  }
}

/** Reading or writing the local files failed (permissions, disk full). */
export class LocalIoError extends DownloadError {
  readonly kind = 'local'
  readonly transient = false
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'LocalIoError'
  }
}

/** The server's answer does not make sense for the request (for example a 304 to an unconditional GET). */
export class ProtocolError extends DownloadError {
  readonly kind = 'protocol'
  readonly transient = false
  constructor(message: string) {
    super(message)
    this.name = 'ProtocolError'
  }
}

/**
 * The partial file cannot be resumed (416, a changed validator, a Content-Range that does not
 * continue it): it is discarded and the download starts again from zero, without waiting.
 */
export class RestartError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'RestartError'
  }
}

/** A short, human description of a low-level error: its code when it has one, else its message. */
export function describeCause(err: unknown): string {
  let e: unknown = err
  // undici wraps the socket error: TypeError('fetch failed' | 'terminated', { cause: SocketError })
  for (let depth = 0; depth < 4 && e instanceof Error && e.cause instanceof Error; depth++) e = e.cause
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code
    return code && !e.message.includes(code) ? `${e.message} (${code})` : e.message
  }
  return String(e)
}
