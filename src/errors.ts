/**
 * Every problem marquee answers over HTTP, defined once: its code (stable, in every problem+json
 * body and, in kebab case, the last segment of its `type` URI), status and title. Code that refuses
 * a request names one of these (`new Problem(code, ...)`); test/errors.test.ts fails on a code
 * written anywhere else, and the error plugin maps Fastify's own 4xx errors onto them by status.
 * The error plugin renders them as RFC 9457 problem+json; anything else thrown becomes INTERNAL.
 */
export const PROBLEMS = {
  BAD_REQUEST: { status: 400, title: 'Bad Request' },
  SQL_REJECTED: { status: 400, title: 'Bad Request' },
  SQL_ERROR: { status: 400, title: 'Bad Request' },
  UNAUTHORIZED: { status: 401, title: 'Unauthorized' },
  FORBIDDEN: { status: 403, title: 'Forbidden' },
  NOT_FOUND: { status: 404, title: 'Not Found' },
  ROUTE_NOT_FOUND: { status: 404, title: 'Not Found' },
  SQL_DISABLED: { status: 404, title: 'Not Found' },
  DATASET_FILE_MISSING: { status: 404, title: 'Not Found' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method Not Allowed' },
  NOT_ACCEPTABLE: { status: 406, title: 'Not Acceptable' },
  REQUEST_TIMEOUT: { status: 408, title: 'Request Timeout' },
  CONFLICT: { status: 409, title: 'Conflict' },
  DATASET_NOT_LOADED: { status: 409, title: 'Conflict' },
  /** GET /changes: `since` is older than the change history kept. */
  CHANGES_EXPIRED: { status: 410, title: 'Gone' },
  PRECONDITION_FAILED: { status: 412, title: 'Precondition Failed' },
  CONTENT_TOO_LARGE: { status: 413, title: 'Content Too Large' },
  URI_TOO_LONG: { status: 414, title: 'URI Too Long' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported Media Type' },
  RANGE_NOT_SATISFIABLE: { status: 416, title: 'Range Not Satisfiable' },
  IMPORT_REJECTED: { status: 422, title: 'Unprocessable Content' },
  RATE_LIMITED: { status: 429, title: 'Too Many Requests' },
  TOO_MANY_AUTH_FAILURES: { status: 429, title: 'Too Many Requests' },
  HEADERS_TOO_LARGE: { status: 431, title: 'Request Header Fields Too Large' },
  /** nginx's convention: the client went away before the answer (logged; nobody reads the body). */
  CLIENT_CLOSED_REQUEST: { status: 499, title: 'Client Closed Request' },
  INTERNAL: { status: 500, title: 'Internal Server Error' },
  DATASET_FILE_INVALID: { status: 500, title: 'Internal Server Error' },
  NO_DATASET: { status: 503, title: 'Service Unavailable' },
  QUERY_TIMEOUT: { status: 503, title: 'Service Unavailable' },
  POOL_BUSY: { status: 503, title: 'Service Unavailable' },
  QUERY_WORKER_CRASHED: { status: 503, title: 'Service Unavailable' },
  REQUEST_ABORTED: { status: 503, title: 'Service Unavailable' },
  USERS_BUSY: { status: 503, title: 'Service Unavailable' },
  OVERLOADED: { status: 503, title: 'Service Unavailable' },
  DATASET_READERS_BUSY: { status: 503, title: 'Service Unavailable' },
  STORAGE_FULL: { status: 507, title: 'Insufficient Storage' },
} as const satisfies Record<string, { status: number; title: string }>

export type ProblemCode = keyof typeof PROBLEMS

export interface ProblemOptions {
  detail?: string
  /** Extra members of the problem document (for example `errors` of a validation failure). */
  extensions?: Record<string, unknown>
  /** Seconds, sent as Retry-After (429, 503). */
  retryAfter?: number
  cause?: unknown
}

export class Problem extends Error {
  readonly status: number
  readonly title: string
  readonly detail: string | undefined
  readonly extensions: Record<string, unknown>
  readonly retryAfter: number | undefined

  constructor(
    readonly code: ProblemCode,
    opts: ProblemOptions = {},
  ) {
    const { status, title } = PROBLEMS[code]
    super(opts.detail ?? title, { cause: opts.cause })
    this.name = 'Problem'
    this.status = status
    this.title = title
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
  new Problem('BAD_REQUEST', { detail, extensions })

export const unauthorized = (detail: string) => new Problem('UNAUTHORIZED', { detail })

export const forbidden = (detail: string) => new Problem('FORBIDDEN', { detail })

export const notFound = (detail: string) => new Problem('NOT_FOUND', { detail })

export const conflict = (detail: string) => new Problem('CONFLICT', { detail })

/** A 503: transient, retry after `retryAfter` seconds. */
export const serviceUnavailable = (
  code: { [C in ProblemCode]: (typeof PROBLEMS)[C]['status'] extends 503 ? C : never }[ProblemCode],
  detail: string,
  retryAfter: number,
) => new Problem(code, { detail, retryAfter })

export const requestAborted = () =>
  new Problem('REQUEST_ABORTED', { detail: 'The request was aborted.', retryAfter: 1 })

export const noDataset = () =>
  serviceUnavailable(
    'NO_DATASET',
    'No dataset is loaded yet; run `marquee ingest` or wait for the build to finish.',
    5,
  )

export const poolBusy = () =>
  serviceUnavailable('POOL_BUSY', 'Every query worker is busy and the queue is full; retry shortly.', 1)

/** The worker died under the query (the pool replaces it): transient for the client, like a busy pool. */
export const workerCrashed = (cause?: unknown) =>
  new Problem('QUERY_WORKER_CRASHED', {
    detail: 'The query worker stopped unexpectedly and is being replaced; retry shortly.',
    retryAfter: 1,
    cause,
  })

export const datasetNotLoaded = (missing: readonly string[]) =>
  new Problem('DATASET_NOT_LOADED', {
    detail: `${missing.join(' and ')} ${missing.length > 1 ? 'were' : 'was'} not loaded into this database (it was ingested with --only), so this cannot be answered; ingest ${missing.length > 1 ? 'them' : 'it'} to enable this route.`,
    extensions: { datasets: missing },
  })

/** GET /changes?since= a generation older than the history kept: the client must sync in full again. */
export const changesExpired = (since: string, oldest: string | null) =>
  new Problem('CHANGES_EXPIRED', {
    detail: oldest
      ? `The changes since ${since} are no longer kept: the oldest generation available is ${oldest}. Re-sync in full (the list routes, e.g. GET /titles with format=ndjson), then follow GET /changes?since=<the generation you synced>.`
      : `No change history is kept for ${since}. Re-sync in full, then follow GET /changes?since=<the generation you synced>.`,
    extensions: { since, oldest },
  })

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
