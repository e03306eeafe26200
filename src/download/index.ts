import type { FileHandle } from 'node:fs/promises'
import { mkdir, open, rename, rm } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { ConfigError } from '../config.js'
import { DATASET_NAMES, type DatasetName, type DatasetSpec, datasetSpec } from '../datasets/catalogue.js'
import { mapLimit } from '../lib/limit.js'
import {
  type DownloadError,
  describeCause,
  HttpStatusError,
  LocalIoError,
  MirrorsFailedError,
  NetworkError,
  ProtocolError,
  RestartError,
  VerifyError,
} from './errors.js'
import { contentLength, fileUrl, ifRangeValue, parseContentRange, raceMirrors, validatorsOf } from './http.js'
import {
  acquireLock,
  discardPart,
  type FilePaths,
  filePaths,
  fsyncFile,
  type PartMeta,
  readFileMeta,
  readPartMeta,
  sizeOf,
  type Validators,
  writeJsonAtomic,
} from './state.js'
import { verifyDatasetFile } from './verify.js'

export { DownloadLockedError } from './state.js'
export { expectedHeader, verifyDatasetFile } from './verify.js'

export const DEFAULT_BASE_URL = 'https://datasets.imdbws.com'
export const BASE_URL_ENV = 'MARQUEE_DOWNLOAD_BASE_URL'

export type FileStatus = 'downloaded' | 'unchanged' | 'failed' | 'aborted'

/** How one file ended. */
export interface FileResult {
  readonly name: DatasetName
  readonly file: string
  /** Where the verified file lives: `<dir>/<file>`. */
  readonly path: string
  status: FileStatus
  /** The URL that answered last (the one the file came from, when it was downloaded). */
  url: string | null
  /** Every URL tried for this file, one per mirror. */
  readonly urls: readonly string[]
  /** Bytes received for this file in this run. */
  bytes: number
  /** Size of `<dir>/<file>` after the run, when it exists. */
  size: number | null
  /** True when at least one response continued a partial file (206). */
  resumed: boolean
  /** Requests made (mirror races), retries and restarts included. */
  attempts: number
  durationMs: number
  /** Why it failed (`failed` only): names the URL(s) and the answer. */
  error?: string
  /** What the user can do about the failure. */
  hint?: string
}

export interface DownloadSummary {
  readonly files: FileResult[]
  /** Every file was downloaded or unchanged. */
  readonly ok: boolean
  /** The signal aborted the run; unfinished files keep their `.part` for the next run. */
  readonly aborted: boolean
  /** Bytes received over all files. */
  readonly bytes: number
  readonly durationMs: number
}

interface FileRef {
  readonly name: DatasetName
  readonly file: string
}

/** What happens while files download, in order per file: start, response, data..., verify, done. */
export type DownloadProgress =
  | ({ type: 'start' } & FileRef)
  | ({
      type: 'response'
      url: string
      status: 200 | 206 | 304
      /** Bytes already on disk that the response continues (206), else 0. */
      offset: number
      total: number | null
    } & FileRef)
  | ({
      type: 'data'
      /** Bytes of the file on disk so far (resumed bytes included). */
      received: number
      total: number | null
    } & FileRef)
  | ({ type: 'retry'; attempt: number; maxAttempts: number; delayMs: number; error: string } & FileRef)
  | ({ type: 'restart'; reason: string } & FileRef)
  | ({ type: 'verify' } & FileRef)
  | { type: 'done'; result: FileResult }

export interface RetryOptions {
  /** Consecutive failed attempts before a file fails (an attempt that grew the `.part` resets the count). */
  attempts?: number
  /** First backoff delay; doubled each time, with jitter. */
  baseDelayMs?: number
  maxDelayMs?: number
}

export interface DownloadOptions {
  dir: string
  only?: DatasetName[]
  /** Mirrors of the dataset directory; for each file the first to answer wins. */
  baseUrls?: string[]
  /** Files downloaded at once. */
  concurrency?: number
  signal?: AbortSignal
  onProgress?: (e: DownloadProgress) => void
  fetch?: typeof fetch
  retry?: RetryOptions
  /** Give up on a mirror that sends no response headers within this time (a transient failure). */
  headersTimeoutMs?: number
  /** Abort a response whose body sends nothing for this long (transient: resumed on the next attempt). */
  stallTimeoutMs?: number
}

const DEFAULT_RETRY: Required<RetryOptions> = { attempts: 5, baseDelayMs: 500, maxDelayMs: 8000 }
/** A part that cannot be resumed is discarded and fetched from zero at most this many times per run. */
const MAX_RESTARTS = 3

/**
 * The base URLs to download from: the `--base-url` flags when given, else the comma- or
 * space-separated list in `MARQUEE_DOWNLOAD_BASE_URL`, else {@link DEFAULT_BASE_URL}.
 * A URL that is not http(s) throws a {@link ConfigError} naming where it came from.
 */
export function resolveBaseUrls(
  flags: readonly string[] | undefined,
  env: Record<string, string | undefined> = process.env,
): string[] {
  const fromFlags = flags && flags.length > 0
  const raw = fromFlags ? flags : (env[BASE_URL_ENV] ?? '').split(/[\s,]+/).filter(Boolean)
  if (raw.length === 0) return [DEFAULT_BASE_URL]
  const setting = fromFlags ? '--base-url' : BASE_URL_ENV
  return raw.map((u) => checkBaseUrl(u, setting))
}

function checkBaseUrl(value: string, setting: string): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new ConfigError(setting, `expected an http(s) URL, got "${value}"`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(setting, `expected an http(s) URL, got "${value}"`)
  }
  return value.replace(/\/+$/, '')
}

interface Context {
  dir: string
  baseUrls: readonly string[]
  signal: AbortSignal | undefined
  emit: (e: DownloadProgress) => void
  fetch: typeof fetch
  retry: Required<RetryOptions>
  headersTimeoutMs: number
  stallTimeoutMs: number
}

/**
 * Downloads the IMDb dataset files into `dir`: conditional (304 skips a file), resumable
 * (`<file>.part` + Range/If-Range), retried with backoff on transient failures, verified (complete
 * gzip, catalogue header) before an atomic rename replaces the previous file. Never rejects for a
 * failed file: each file's outcome is in the summary. Rejects only when `dir` cannot be prepared
 * or another download holds its lock ({@link DownloadLockedError}).
 */
export async function download(opts: DownloadOptions): Promise<DownloadSummary> {
  const started = performance.now()
  const names = DATASET_NAMES.filter((n) => !opts.only || opts.only.includes(n))
  const baseUrls = (opts.baseUrls && opts.baseUrls.length > 0 ? opts.baseUrls : [DEFAULT_BASE_URL]).map((u) =>
    checkBaseUrl(u, 'baseUrls'),
  )
  const concurrency = opts.concurrency ?? 3
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`)
  }
  const ctx: Context = {
    dir: opts.dir,
    baseUrls,
    signal: opts.signal,
    emit: (e) => {
      try {
        opts.onProgress?.(e)
      } catch {
        // a broken progress display must not break the download
      }
    },
    fetch: opts.fetch ?? globalThis.fetch,
    retry: { ...DEFAULT_RETRY, ...opts.retry },
    headersTimeoutMs: opts.headersTimeoutMs ?? 30_000,
    stallTimeoutMs: opts.stallTimeoutMs ?? 60_000,
  }

  await mkdir(opts.dir, { recursive: true })
  const release = await acquireLock(opts.dir)
  let files: FileResult[]
  try {
    files = await mapLimit(names, concurrency, (name) => downloadOne(datasetSpec(name), ctx))
  } finally {
    await release()
  }
  return {
    files,
    ok: files.every((f) => f.status === 'downloaded' || f.status === 'unchanged'),
    aborted: opts.signal?.aborted ?? false,
    bytes: files.reduce((n, f) => n + f.bytes, 0),
    durationMs: performance.now() - started,
  }
}

/** The part is complete and ready to verify; `validators` are those of the response it came from. */
interface Complete {
  url: string
  validators: Validators
}

async function downloadOne(spec: DatasetSpec, ctx: Context): Promise<FileResult> {
  const started = performance.now()
  const p = filePaths(ctx.dir, spec.file)
  const ref: FileRef = { name: spec.name, file: spec.file }
  const result: FileResult = {
    ...ref,
    path: p.dest,
    status: 'failed',
    url: null,
    urls: ctx.baseUrls.map((b) => fileUrl(b, spec.file)),
    bytes: 0,
    size: null,
    resumed: false,
    attempts: 0,
    durationMs: 0,
  }
  const finish = async (status: FileStatus, err?: unknown): Promise<FileResult> => {
    result.status = status
    if (err !== undefined) {
      const e = toDownloadError(err)
      result.error = e.message
      result.hint = await hintFor(e, p)
    }
    result.size = await sizeOf(p.dest).catch(() => null)
    result.durationMs = performance.now() - started
    ctx.emit({ type: 'done', result })
    return result
  }

  ctx.emit({ type: 'start', ...ref })
  let failures = 0
  let restarts = 0
  let highWater = (await sizeOf(p.part).catch(() => null)) ?? 0
  for (;;) {
    if (ctx.signal?.aborted) return finish('aborted')
    result.attempts++
    try {
      const outcome = await attempt(spec, p, ctx, result)
      if (outcome === 'unchanged') return finish('unchanged')
      ctx.emit({ type: 'verify', ...ref })
      await verifyDatasetFile(p.part, spec.name, ctx.signal)
      await install(p, outcome)
      return finish('downloaded')
    } catch (err) {
      if (ctx.signal?.aborted) return finish('aborted')
      if (err instanceof RestartError) {
        await discardPart(p).catch(() => {})
        highWater = 0
        if (++restarts > MAX_RESTARTS) return finish('failed', new ProtocolError(err.message))
        ctx.emit({ type: 'restart', ...ref, reason: err.message })
        continue
      }
      const e = toDownloadError(err)
      // A complete but corrupt part would be "resumed" into the same failure: drop it.
      if (e instanceof VerifyError) await discardPart(p).catch(() => {})
      if (!e.transient) return finish('failed', e)
      const size = (await sizeOf(p.part).catch(() => null)) ?? 0
      if (size > highWater) {
        // This attempt got further than any before it: a flaky link that makes progress keeps going.
        highWater = size
        failures = 0
      }
      if (++failures >= ctx.retry.attempts) return finish('failed', e)
      const delayMs = backoff(failures, ctx.retry, e)
      ctx.emit({
        type: 'retry',
        ...ref,
        attempt: failures,
        maxAttempts: ctx.retry.attempts,
        delayMs,
        error: e.message,
      })
      try {
        await sleep(delayMs, undefined, { signal: ctx.signal })
      } catch {
        return finish('aborted')
      }
    }
  }
}

/**
 * One request for one file (raced over the mirrors), conditional on the installed file and
 * ranged over the `.part`. Leaves a complete `.part` (returns where it came from), or reports
 * `unchanged`, or throws (the `.part` keeps what arrived).
 */
async function attempt(
  spec: DatasetSpec,
  p: FilePaths,
  ctx: Context,
  result: FileResult,
): Promise<'unchanged' | Complete> {
  const [meta, destSize, partSize, partMeta] = await Promise.all([
    readFileMeta(p.meta),
    sizeOf(p.dest),
    sizeOf(p.part),
    readPartMeta(p.partMeta),
  ])
  // Only ask "has it changed?" about a file that is there and is the one the sidecar describes.
  const current = meta && destSize !== null && destSize === meta.size ? meta : null
  const headers: Record<string, string> = { 'accept-encoding': 'identity', 'user-agent': 'marquee-download' }
  if (current?.etag) headers['if-none-match'] = current.etag
  if (current?.lastModified) headers['if-modified-since'] = current.lastModified

  const ifRange = partSize && partMeta ? ifRangeValue(partMeta) : null
  let offset = 0
  if (partSize && partMeta && ifRange) {
    offset = partSize
    headers.range = `bytes=${offset}-`
    headers['if-range'] = ifRange
  } else if (partSize !== null) {
    await discardPart(p) // without a validator a part cannot be resumed safely
  }

  let answer: Awaited<ReturnType<typeof raceMirrors>>
  try {
    answer = await raceMirrors(result.urls, {
      headers,
      signal: ctx.signal,
      headersTimeoutMs: ctx.headersTimeoutMs,
      fetch: ctx.fetch,
    })
  } catch (err) {
    const e416 =
      err instanceof MirrorsFailedError &&
      err.errors.find((e): e is HttpStatusError => e instanceof HttpStatusError && e.status === 416)
    if (e416 && partMeta && offset > 0) {
      result.url = e416.url
      // The part may already hold the whole file (a run stopped while verifying): check it as is.
      const range = parseContentRange(e416.headers.get('content-range'))
      if (range?.total === offset) return { url: partMeta.url || e416.url, validators: partMeta }
      throw new RestartError(`${e416.url} cannot continue the partial file at byte ${offset} (HTTP 416)`)
    }
    throw err
  }

  const { res, url, controller } = answer
  result.url = url
  const ref: FileRef = { name: spec.name, file: spec.file }
  if (res.status === 304) {
    await res.body?.cancel().catch(() => {})
    if (!current) throw new ProtocolError(`${url} answered 304 Not Modified to a request without validators`)
    if (partSize !== null) await discardPart(p) // a part of some other version
    ctx.emit({ type: 'response', ...ref, url, status: 304, offset: 0, total: current.size })
    return 'unchanged'
  }

  let total: number | null
  let validators: Validators
  let fh: FileHandle | undefined
  try {
    if (res.status === 206) {
      const range = parseContentRange(res.headers.get('content-range'))
      const v = validatorsOf(res)
      const pm = partMeta as PartMeta
      if (offset === 0 || !range || range.start !== offset) {
        throw new RestartError(
          `${url} sent a range that does not continue the partial file at byte ${offset}`,
        )
      }
      const changed =
        (pm.etag !== null && v.etag !== null && v.etag !== pm.etag) ||
        (pm.etag === null &&
          pm.lastModified !== null &&
          v.lastModified !== null &&
          v.lastModified !== pm.lastModified) ||
        (pm.total !== null && range.total !== null && range.total !== pm.total)
      if (changed) throw new RestartError(`the file at ${url} changed since the partial download started`)
      total = range.total ?? pm.total
      validators = pm
      result.resumed = true
      fh = await openPart(p.part, 'a')
    } else {
      offset = 0
      validators = validatorsOf(res)
      total = contentLength(res)
      fh = await openPart(p.part, 'w') // truncate first: the part never holds bytes its sidecar does not describe
      await writeJsonAtomic(p.partMeta, { ...validators, total, url } satisfies PartMeta).catch((err) => {
        throw new LocalIoError(`cannot write ${p.partMeta}: ${describeCause(err)}`, { cause: err })
      })
    }
  } catch (err) {
    controller.abort(err)
    await fh?.close().catch(() => {})
    throw err
  }
  const part = fh

  ctx.emit({ type: 'response', ...ref, url, status: res.status as 200 | 206, offset, total })
  let received: number
  try {
    received = await receive(
      res,
      part,
      ctx,
      controller,
      url,
      (n) => {
        result.bytes += n
      },
      (onDisk) => ctx.emit({ type: 'data', ...ref, received: offset + onDisk, total }),
    )
  } finally {
    await part.close().catch(() => {})
  }
  const size = offset + received
  if (total !== null && size < total) {
    throw new NetworkError(url, `connection closed after ${size} of ${total} bytes`)
  }
  if (total !== null && size > total) {
    throw new RestartError(`${url} sent ${size} bytes for a file of ${total} bytes`)
  }
  return { url, validators }
}

async function openPart(file: string, flags: 'a' | 'w'): Promise<FileHandle> {
  try {
    return await open(file, flags)
  } catch (err) {
    throw new LocalIoError(`cannot write ${file}: ${describeCause(err)}`, { cause: err })
  }
}

/**
 * Streams the response body into the part file, awaiting each write (backpressure), and aborts
 * the response when no byte arrives for `stallTimeoutMs`. Returns the bytes written.
 */
async function receive(
  res: Response,
  fh: FileHandle,
  ctx: Context,
  controller: AbortController,
  url: string,
  onBytes: (n: number) => void,
  onData: (written: number) => void,
): Promise<number> {
  if (!res.body) return 0
  const reader = res.body.getReader()
  let written = 0
  let done = false
  const stall = setTimeout(() => {
    controller.abort(new NetworkError(url, `no data for ${ctx.stallTimeoutMs} ms after ${written} bytes`))
  }, ctx.stallTimeoutMs)
  try {
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>
      try {
        chunk = await reader.read()
      } catch (err) {
        if (ctx.signal?.aborted) throw ctx.signal.reason
        if (controller.signal.reason instanceof NetworkError) throw controller.signal.reason
        throw new NetworkError(url, `connection lost after ${written} bytes: ${describeCause(err)}`, {
          cause: err,
        })
      }
      if (chunk.done) {
        done = true
        return written
      }
      stall.refresh()
      try {
        await fh.write(chunk.value)
      } catch (err) {
        throw new LocalIoError(`cannot write the partial file: ${describeCause(err)}`, { cause: err })
      }
      written += chunk.value.length
      onBytes(chunk.value.length)
      onData(written)
    }
  } finally {
    clearTimeout(stall)
    if (!done) {
      controller.abort(new Error('download stopped'))
      await reader.cancel().catch(() => {})
    }
  }
}

/** Installs a verified part: flush it, rename it over the file, then record its validators. */
async function install(p: FilePaths, done: Complete): Promise<void> {
  try {
    await fsyncFile(p.part)
    await rename(p.part, p.dest)
    // The sidecar follows the rename: a crash in between leaves an old sidecar, which only costs a
    // full download next time (never a stale file taken for current).
    const size = (await sizeOf(p.dest)) ?? 0
    await writeJsonAtomic(p.meta, {
      etag: done.validators.etag,
      lastModified: done.validators.lastModified,
      size,
      url: done.url,
      downloadedAt: new Date().toISOString(),
    })
    await rm(p.partMeta, { force: true })
  } catch (err) {
    throw new LocalIoError(`cannot install ${p.dest}: ${describeCause(err)}`, { cause: err })
  }
}

function toDownloadError(err: unknown): DownloadError {
  if (err instanceof Error && 'transient' in err && 'kind' in err) return err as DownloadError
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  if (typeof code === 'string' && (err as NodeJS.ErrnoException).syscall) {
    return new LocalIoError(describeCause(err), { cause: err })
  }
  return new ProtocolError(`unexpected error: ${describeCause(err)}`)
}

/** Exponential backoff with jitter (50-100% of the step); a numeric Retry-After is honoured up to the cap. */
function backoff(failures: number, retry: Required<RetryOptions>, err: DownloadError): number {
  const retryAfter =
    err instanceof HttpStatusError
      ? err.retryAfterSeconds
      : err instanceof MirrorsFailedError
        ? err.errors.find((e): e is HttpStatusError => e instanceof HttpStatusError)?.retryAfterSeconds
        : undefined
  if (retryAfter !== undefined) return Math.min(retry.maxDelayMs, retryAfter * 1000)
  const step = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (failures - 1))
  return Math.round(step * (0.5 + Math.random() * 0.5))
}

const statusOf = (e: DownloadError): number | undefined =>
  e instanceof HttpStatusError
    ? e.status
    : e instanceof MirrorsFailedError
      ? e.errors.find((x): x is HttpStatusError => x instanceof HttpStatusError)?.status
      : undefined

/** What the user can do about a failed file. */
async function hintFor(e: DownloadError, p: FilePaths): Promise<string> {
  const status = statusOf(e)
  const kept =
    ((await sizeOf(p.dest).catch(() => null)) ?? null) !== null ? ' The previous file is kept.' : ''
  if (e.kind === 'local')
    return `Check that ${p.dest} can be written and that the disk has free space.${kept}`
  if (e.kind === 'verify') {
    return `The server sent a corrupt or unexpected file (discarded). Try again later, or another mirror with --base-url.${kept}`
  }
  if (!e.transient && (status === 404 || status === 410 || status === 403)) {
    return `The file is not available at that URL: check --base-url / ${BASE_URL_ENV}.${kept}`
  }
  if (!e.transient) return `The server refused the request; check --base-url / ${BASE_URL_ENV}.${kept}`
  const part = (await sizeOf(p.part).catch(() => null)) ?? 0
  const resume = part > 0 ? ` it resumes from ${p.part} (${part} bytes kept)` : ''
  return `The server or the network kept failing. Run marquee download again later;${resume || ' nothing was lost'}.${kept}`
}
