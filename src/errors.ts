/**
 * The catalogue of errors marquee answers over HTTP. Each has a stable `code`; the error plugin
 * renders them as RFC 9457 problem+json. Anything else thrown becomes a 500 without internals.
 */

export interface ProblemOptions {
  detail?: string
  /** Extra members of the problem document (for example `errors` of a validation failure). */
  extensions?: Record<string, unknown>
  /** Seconds, sent as Retry-After (429, 503). */
  retryAfter?: number
  cause?: unknown
}

export class Problem extends Error {
  readonly detail: string | undefined
  readonly extensions: Record<string, unknown>
  readonly retryAfter: number | undefined

  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    opts: ProblemOptions = {},
  ) {
    super(opts.detail ?? title, { cause: opts.cause })
    this.name = 'Problem'
    this.detail = opts.detail
    this.extensions = opts.extensions ?? {}
    this.retryAfter = opts.retryAfter
  }

  /** The `type` URI of the problem: a stable, documented identifier per code. */
  get type(): string {
    return `https://marquee.dev/problems/${this.code.toLowerCase().replaceAll('_', '-')}`
  }
}

export const badRequest = (detail: string, extensions?: Record<string, unknown>) =>
  new Problem(400, 'BAD_REQUEST', 'Bad Request', { detail, extensions })

export const unauthorized = (detail: string) => new Problem(401, 'UNAUTHORIZED', 'Unauthorized', { detail })

export const forbidden = (detail: string) => new Problem(403, 'FORBIDDEN', 'Forbidden', { detail })

export const notFound = (detail: string) => new Problem(404, 'NOT_FOUND', 'Not Found', { detail })

export const conflict = (detail: string) => new Problem(409, 'CONFLICT', 'Conflict', { detail })

export const serviceUnavailable = (code: string, detail: string, retryAfter?: number) =>
  new Problem(503, code, 'Service Unavailable', { detail, retryAfter })

export const noDataset = () =>
  serviceUnavailable(
    'NO_DATASET',
    'No dataset is loaded yet; run `marquee ingest` or wait for the build to finish.',
    5,
  )

export const queryTimeout = (ms: number) =>
  serviceUnavailable(
    'QUERY_TIMEOUT',
    `The query did not finish within its ${ms} ms deadline and was stopped.`,
    1,
  )

/**
 * Whether `err` (or an error it wraps) is a write that failed for want of disk space: SQLite's
 * SQLITE_FULL, the OS's ENOSPC, PostgreSQL's 53100.
 */
export function isDiskFull(err: unknown): boolean {
  for (let e = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code
    if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === '53100') return true
  }
  return false
}
