import {
  type DownloadError,
  describeCause,
  HttpStatusError,
  MirrorsFailedError,
  NetworkError,
} from './errors.js'
import type { Validators } from './state.js'

/** `<base>/<file>`, whether or not the base ends with a slash. */
export function fileUrl(base: string, file: string): string {
  return `${base.replace(/\/+$/, '')}/${file}`
}

/** The statuses that win a mirror race: the answer to a (conditional, ranged) GET we can use. */
const ANSWERS = new Set([200, 206, 304])

export interface Answer {
  res: Response
  url: string
  /** Aborts this response (its body); used for stall timeouts. */
  controller: AbortController
}

/**
 * Sends the same request to every mirror; the first to answer with response headers of status
 * 200/206/304 wins and the requests to the others are aborted (one AbortController per mirror).
 * When every mirror fails, rejects with a {@link MirrorsFailedError} holding each failure; when
 * `signal` aborts, rejects with its reason.
 */
export async function raceMirrors(
  urls: readonly string[],
  init: {
    headers: Record<string, string>
    signal?: AbortSignal
    headersTimeoutMs: number
    fetch: typeof fetch
  },
): Promise<Answer> {
  const controllers = urls.map(() => new AbortController())
  const attempts = urls.map(async (url, i): Promise<Answer> => {
    const controller = controllers[i]
    const signal = init.signal ? AbortSignal.any([init.signal, controller.signal]) : controller.signal
    const timer = setTimeout(
      () => controller.abort(new NetworkError(url, `no response within ${init.headersTimeoutMs} ms`)),
      init.headersTimeoutMs,
    )
    let res: Response
    try {
      res = await init.fetch(url, { headers: init.headers, signal, redirect: 'follow' })
    } catch (err) {
      if (controller.signal.reason instanceof NetworkError) throw controller.signal.reason
      if (signal.aborted) throw signal.reason
      throw new NetworkError(url, `request failed: ${describeCause(err)}`, { cause: err })
    } finally {
      clearTimeout(timer)
    }
    if (ANSWERS.has(res.status)) return { res, url, controller }
    await res.body?.cancel().catch(() => {})
    throw new HttpStatusError(url, res.status, res.statusText, res.headers)
  })

  try {
    const winner = await Promise.any(attempts)
    for (const c of controllers)
      if (c !== winner.controller) c.abort(new Error('another mirror answered first'))
    return winner
  } catch (err) {
    for (const c of controllers) c.abort(new Error('download cancelled'))
    if (init.signal?.aborted) throw init.signal.reason
    const errors = (err as AggregateError).errors.map((e: unknown, i: number) =>
      e instanceof Error && 'transient' in e
        ? (e as DownloadError)
        : new NetworkError(urls[i], `request failed: ${describeCause(e)}`, { cause: e }),
    )
    throw new MirrorsFailedError(errors)
  }
}

/** `Content-Range: bytes 100-199/200` or `bytes *\/200` (the total may be `*`, unknown). */
export interface ContentRange {
  start: number | null
  end: number | null
  total: number | null
}

export function parseContentRange(value: string | null): ContentRange | null {
  if (!value) return null
  const m = /^\s*bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)\s*$/i.exec(value)
  if (!m) return null
  const num = (s: string | undefined) => (s === undefined || s === '*' ? null : Number(s))
  return { start: num(m[1]), end: num(m[2]), total: num(m[3]) }
}

export function validatorsOf(res: Response): Validators {
  return { etag: res.headers.get('etag'), lastModified: res.headers.get('last-modified') }
}

/**
 * The `If-Range` value for a partial file: its strong ETag, else its Last-Modified date
 * (a weak ETag may not be used for a range). `null` means the part cannot be resumed safely.
 */
export function ifRangeValue(v: Validators): string | null {
  if (v.etag && !v.etag.startsWith('W/')) return v.etag
  return v.lastModified
}

/** The full size a 200 announces, when it does. */
export function contentLength(res: Response): number | null {
  const v = res.headers.get('content-length')
  return v && /^\d+$/.test(v) ? Number(v) : null
}
