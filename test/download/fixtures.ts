import { createHash, randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gzipSync } from 'node:zlib'
import { DATASETS, type DatasetSpec } from '../../src/datasets/catalogue.js'

/** One file as the test server serves it. */
export interface Served {
  body: Buffer
  etag: string
  lastModified: string
}

function fieldFor(spec: DatasetSpec, type: string, i: number): string {
  switch (type) {
    case 'tconst':
      return `tt${String(i + 1).padStart(7, '0')}`
    case 'nconst':
      return `nm${String(i + 1).padStart(7, '0')}`
    case 'int':
      return String((i * 7919) % 2024)
    case 'float':
      return ((i % 100) / 10).toFixed(1)
    case 'bool':
      return String(i % 2)
    case 'json':
      return `["${randomBytes(4).toString('hex')}"]`
    default:
      // random text compresses poorly, so the gzip is big enough to cut in the middle
      return `${spec.name}-${randomBytes(12).toString('base64url')}`
  }
}

/** A valid IMDb-format gzipped file for `spec`: the catalogue header, then `rows` rows. */
export function datasetBody(spec: DatasetSpec, rows: number): Buffer {
  const lines = [spec.columns.map((c) => c.name).join('\t')]
  for (let i = 0; i < rows; i++) lines.push(spec.columns.map((c) => fieldFor(spec, c.type, i)).join('\t'))
  return gzipSync(`${lines.join('\n')}\n`)
}

export function served(body: Buffer, lastModified = new Date('2026-01-01T00:00:00Z')): Served {
  return {
    body,
    etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"`,
    lastModified: lastModified.toUTCString(),
  }
}

/** All seven files, keyed by file name. */
export function datasetFiles(rows = 400): Map<string, Served> {
  return new Map([...DATASETS.values()].map((spec) => [spec.file, served(datasetBody(spec, rows))]))
}

export interface LoggedRequest {
  file: string
  headers: IncomingMessage['headers']
  status?: number
  /** The connection closed before the response was complete (aborted by the client, or dropped). */
  closedEarly: boolean
  closed: boolean
}

export interface ServeOptions {
  /** Answer with status/headers after this delay. */
  delayMs?: number
  /** Answer only once this settles (after `delayMs`, if both are given). */
  after?: Promise<unknown>
  /**
   * Send `afterBytes` of the body, then drop the connection once `when` settles (say, once the
   * client has written some of them: bytes a client has not read yet are lost with the connection).
   */
  drop?: { afterBytes: number; when: Promise<unknown> }
}

/**
 * Serves `entry` like a CDN/S3 would: ETag and Last-Modified, 304 for If-None-Match (or
 * If-Modified-Since), 206 for `Range: bytes=N-` unless If-Range does not match (then 200), 416 past the end.
 */
export function serveFile(
  req: IncomingMessage,
  res: ServerResponse,
  entry: Served,
  opts: ServeOptions = {},
): void {
  const { body, etag, lastModified } = entry
  const common = { etag, 'last-modified': lastModified, 'accept-ranges': 'bytes' }
  const inm = req.headers['if-none-match']
  const ims = req.headers['if-modified-since']
  if ((inm && inm === etag) || (!inm && ims && Date.parse(lastModified) <= Date.parse(ims))) {
    res.writeHead(304, common).end()
    return
  }
  let start = 0
  let status = 200
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '')
  const ifRange = req.headers['if-range']
  if (range && (!ifRange || ifRange === etag || ifRange === lastModified)) {
    start = Number(range[1])
    if (start >= body.length) {
      res.writeHead(416, { ...common, 'content-range': `bytes */${body.length}` }).end()
      return
    }
    status = 206
  }
  const slice = body.subarray(start)
  res.writeHead(status, {
    ...common,
    'content-type': 'application/octet-stream',
    'content-length': slice.length,
    ...(status === 206 ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
  })
  if (opts.drop !== undefined && opts.drop.afterBytes < slice.length) {
    res.write(slice.subarray(0, opts.drop.afterBytes))
    const destroy = () => res.destroy()
    opts.drop.when.then(destroy, destroy)
  } else {
    res.end(slice)
  }
}

/**
 * Decides how to answer one request; returns nothing to serve the file normally. `n` counts the
 * requests for this file so far, this one included (1 for the first).
 */
export type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
  ctx: { file: string; entry: Served | undefined; n: number },
) => ServeOptions | 'handled' | undefined

export interface TestServer {
  url: string
  files: Map<string, Served>
  requests: LoggedRequest[]
  /** The most requests open at the same time. */
  maxActive: number
  close(): Promise<void>
}

/** A dataset server on 127.0.0.1, port 0, logging every request. */
export async function startDatasetServer(
  files: Map<string, Served>,
  handler: Handler = () => undefined,
): Promise<TestServer> {
  const counts = new Map<string, number>()
  let active = 0
  const state: TestServer = { url: '', files, requests: [], maxActive: 0, close: async () => {} }
  const server: Server = createServer((req, res) => {
    const file = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname.replace(/^\/+/, ''))
    const log: LoggedRequest = { file, headers: req.headers, closedEarly: false, closed: false }
    state.requests.push(log)
    active++
    state.maxActive = Math.max(state.maxActive, active)
    let counted = true
    const done = () => {
      if (counted) active--
      counted = false
    }
    res.on('finish', done)
    res.on('close', () => {
      done()
      log.closed = true
      log.closedEarly = !res.writableFinished
      log.status = res.headersSent ? res.statusCode : undefined
    })
    const n = (counts.get(file) ?? 0) + 1
    counts.set(file, n)
    const entry = files.get(file)
    const decision = handler(req, res, { file, entry, n })
    if (decision === 'handled') return
    const answer = () => {
      if (!entry) res.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
      else serveFile(req, res, entry, decision)
    }
    if (decision?.delayMs || decision?.after) {
      let cancelled = false
      res.on('close', () => {
        cancelled = true
      })
      const delay = decision.delayMs
      const wait = delay ? new Promise((r) => setTimeout(r, delay).unref()) : Promise.resolve()
      wait
        .then(() => decision.after)
        .then(() => {
          if (!cancelled) answer()
        })
    } else answer()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  return state
}
