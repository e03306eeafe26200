/**
 * Calls the marquee API from the browser. Errors become ApiError, carrying what the API said in
 * its problem+json (title, detail, code) and the request id to quote when reporting it.
 */

const KEY_STORAGE = 'marquee.apiKey'

/** The key given in this page when storage is unavailable. */
let memoryKey = null

export class ApiError extends Error {
  constructor({ status, title, detail, code, requestId, retryAfter, url, body }) {
    super(detail || title)
    this.name = 'ApiError'
    this.status = status
    this.title = title
    this.detail = detail
    this.code = code
    this.requestId = requestId
    this.retryAfter = retryAfter
    this.url = url
    /** The whole problem+json, for extensions such as an import's `errors`. */
    this.body = body ?? {}
  }
}

/** The API key the user gave, or null. */
export function apiKey() {
  if (memoryKey) return memoryKey
  try {
    return localStorage.getItem(KEY_STORAGE)
  } catch {
    return null
  }
}

export function setApiKey(key) {
  try {
    if (key) localStorage.setItem(KEY_STORAGE, key)
    else localStorage.removeItem(KEY_STORAGE)
  } catch {
    // Storage may be disabled; the key then lasts until the page is closed.
  }
  memoryKey = key || null
  cache.clear()
  inflight.clear()
  listsChanged()
}

/** Bumped by every write and key change: pages holding the user's lists reload when it moves. */
let listsVersion = 0
export const listsGeneration = () => listsVersion
function listsChanged() {
  listsVersion++
  for (const path of cache.keys()) if (path.startsWith('/me/')) cache.delete(path)
}

/**
 * The request headers of an API call: the user's key goes only to this site's own origin, as
 * `Authorization: Bearer` (never to another host a path might name).
 */
function headersFor(path, accept = 'application/json') {
  const headers = { accept }
  const key = apiKey()
  if (key && new URL(path, location.href).origin === location.origin) headers.authorization = `Bearer ${key}`
  return headers
}

/** Fetch, with an unreachable server as an ApiError of status 0. */
async function call(path, init) {
  try {
    return await fetch(path, init)
  } catch (err) {
    if (err?.name === 'AbortError') throw err
    throw new ApiError({
      status: 0,
      title: 'The server could not be reached',
      detail: 'Check that marquee is running and your connection is up, then try again.',
      url: path,
    })
  }
}

/**
 * A write (PUT, POST, DELETE) with an optional JSON body: the parsed answer, null for 204.
 * Cached answers about the user's lists are dropped.
 */
export async function send(method, path, body, { signal } = {}) {
  const headers = headersFor(path)
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await call(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  })
  listsChanged()
  if (!res.ok) throw await problemOf(res, path)
  return res.status === 204 ? null : res.json()
}

/**
 * GET `path` uncached as a Blob of media type `accept` (an export: CSV or NDJSON). A plain link
 * cannot carry the Authorization header, hence a fetch and then saveBlob().
 */
export async function fetchBlob(path, accept, { signal } = {}) {
  const res = await call(path, { headers: headersFor(path, accept), signal })
  if (!res.ok) throw await problemOf(res, path)
  return res.blob()
}

/** Offers `blob` as a download named `filename`. */
export function saveBlob(blob, filename) {
  const href = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = href
  a.download = filename
  a.hidden = true
  document.body.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(href), 60_000)
}

/** Recent answers by URL, so going back and forth between pages does not wait on the network. */
const cache = new Map()
const CACHE_MAX = 80
const CACHE_MS = 5 * 60_000

/** Requests started by prefetch(), by URL: the page's own ask for that URL shares the answer. */
const inflight = new Map()

/** Whether the app has made its own calls: a prefetch arriving later would only repeat them. */
let started = false

/**
 * GET `path` as JSON. `signal` cancels it (the promise then rejects with an AbortError).
 * Answers are cached for a few minutes unless `fresh` is set.
 */
export async function api(path, { signal, fresh = false } = {}) {
  started = true
  const hit = cache.get(path)
  if (!fresh && hit && Date.now() - hit.at < CACHE_MS) {
    cache.delete(path)
    cache.set(path, hit)
    return hit.body
  }
  const pending = inflight.get(path)
  if (!fresh && pending) return abortable(pending, signal)
  return request(path, signal)
}

/** Starts GETs whose answers a page is about to ask for (see prefetch.js). */
export function prefetch(paths) {
  if (started) return
  for (const path of paths) {
    if (inflight.has(path) || cache.has(path)) continue
    const pending = request(path)
    inflight.set(path, pending)
    pending.then(
      () => inflight.delete(path),
      () => inflight.delete(path),
    )
  }
}

function abortable(promise, signal) {
  if (!signal) return promise
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise((resolve, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason), { once: true })
    promise.then(resolve, reject)
  })
}

async function request(path, signal) {
  const res = await call(path, { headers: headersFor(path), signal })
  if (!res.ok) throw await problemOf(res, path)
  const body = await res.json()
  cache.set(path, { at: Date.now(), body })
  if (cache.size > CACHE_MAX) cache.delete(cache.keys().next().value)
  return body
}

async function problemOf(res, url) {
  const requestId = res.headers.get('x-request-id') ?? undefined
  const retryAfter = Number(res.headers.get('retry-after')) || undefined
  let body = {}
  if (/json/.test(res.headers.get('content-type') ?? '')) {
    try {
      body = await res.json()
    } catch {
      // A broken body still leaves the status and the request id.
    }
  }
  return new ApiError({
    status: res.status,
    title: body.title ?? res.statusText ?? 'Error',
    detail: body.detail,
    code: body.code,
    requestId: body.instance ?? requestId,
    retryAfter,
    url,
    body,
  })
}

/** Builds `/path?a=1&b=2&b=3` (arrays repeat the name), leaving out undefined, null and empty values. */
export function url(path, params = {}) {
  const search = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) {
    for (const one of Array.isArray(v) ? v : [v]) {
      if (one === undefined || one === null || one === '') continue
      search.append(k, String(one))
    }
  }
  const qs = search.toString()
  return qs ? `${path}?${qs}` : path
}
