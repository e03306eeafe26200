/** What the HTTP benchmarks share: autocannon with the types they use, and a free port. */
import type { ChildProcess } from 'node:child_process'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { Worker } from 'node:worker_threads'

export interface Histogram {
  average: number
  mean: number
  p50: number
  p90: number
  p99: number
  max: number
}

export interface Result {
  requests: Histogram & { total: number }
  latency: Histogram
  errors: number
  timeouts: number
  non2xx: number
  '2xx': number
  statusCodeStats: Record<string, { count: number }>
  duration: number
}

export interface Request {
  path: string
  method?: string
  body?: string
  headers?: Record<string, string>
}

export interface Options {
  url: string
  connections: number
  duration: number
  timeout?: number
  pipelining?: number
  headers?: Record<string, string>
  requests?: { setupRequest: (req: Request) => Request }[]
}

/** A running autocannon (the callback form), for its per-response events. */
export interface Instance {
  on(event: 'tick', fn: (t: { counter: number }) => void): void
  on(event: 'response', fn: (client: unknown, status: number) => void): void
  on(event: 'reqError', fn: (err: Error) => void): void
}

interface Autocannon {
  (opts: Options): Promise<Result>
  (opts: Options, done: (err: Error | null, result: Result) => void): Instance
}

const require = createRequire(import.meta.url)
export const autocannon = require('autocannon') as Autocannon

/**
 * Resolves once `url + probe` answers 200 (a server just started as `proc`); throws when the
 * process exits first or after two minutes.
 */
export async function waitForReady(url: string, proc: ChildProcess, probe = '/ready'): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (proc.exitCode !== null) throw new Error(`the server exited (code ${proc.exitCode})`)
    try {
      if ((await fetch(`${url}${probe}`)).status === 200) return
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error('the server did not get ready within 2 minutes')
}

/** A TCP port nothing listens on now, for a server started as a child process. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
    s.on('error', reject)
  })
}

export interface WrkResult {
  requests: number
  /** Requests per second over the run. */
  rps: number
  /** Latency percentiles and maximum, in ms. */
  p50: number
  p99: number
  max: number
  /** Answers with a status of 400 or more. */
  non2xx: number
  /** Connect, read, write and timeout errors. */
  errors: number
}

export interface WrkRequest {
  method?: string
  path: string
  headers?: Record<string, string>
  body?: string
}

export interface WrkOptions {
  url: string
  /** Requests made, each a random one of them (a path alone is a GET). */
  paths: readonly (string | WrkRequest)[]
  connections: number
  seconds: number
  threads?: number
}

/** Lua's long string: no escapes to get wrong, whatever the text holds. */
const luaString = (text: string) => {
  let eq = '='
  while (text.includes(`]${eq}]`)) eq += '='
  return `[${eq}[${text}]${eq}]`
}

/** A request pre-formatted once by wrk.format (method, path, headers with Host, body). */
function luaRequest(r: string | WrkRequest, host: string): string {
  const { method = 'GET', path, headers = {}, body } = typeof r === 'string' ? { path: r } : r
  // Given headers, wrk.format sends only those: without Host, Node answers 400.
  const h = Object.entries({ host, ...headers })
    .map(([k, v]) => `[ ${luaString(k)} ] = ${luaString(v)}`)
    .join(', ')
  return `wrk.format(${luaString(method)}, ${luaString(path)}, {${h}}${body === undefined ? '' : `, ${luaString(body)}`})`
}

/**
 * Load from wrk (Debian's `wrk` package) in its own process: light enough that on two cores it
 * leaves the server most of a core, unlike a Node load generator. Its Lua script picks a random path
 * per request and prints the summary as JSON.
 */
export async function wrk(opts: WrkOptions): Promise<WrkResult> {
  const { mkdtemp, rm, writeFile } = await import('node:fs/promises')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const { execFile } = await import('node:child_process')
  const dir = await mkdtemp(join(tmpdir(), 'marquee-wrk-'))
  const script = join(dir, 'paths.lua')
  const requests = opts.paths.every((r) => typeof r === 'string')
    ? // Plain GETs: formatted per request with wrk's own headers (a table of 50,000 pre-formatted
      // requests passes LuaJIT's 65,536 constants).
      `local paths = {${opts.paths.map((p) => luaString(p as string)).join(',')}}
request = function() return wrk.format(nil, paths[math.random(#paths)]) end`
    : `local reqs = {${opts.paths.map((r) => luaRequest(r, new URL(opts.url).host)).join(',\n')}}
request = function() return reqs[math.random(#reqs)] end`
  await writeFile(
    script,
    `${requests}
done = function(s, latency, requests)
  local e = s.errors
  io.write(string.format('\\nRESULT {"requests":%d,"us":%d,"non2xx":%d,"errors":%d,"p50":%d,"p99":%d,"max":%d}\\n',
    s.requests, s.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
`,
  )
  try {
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(
        'wrk',
        [`-t${opts.threads ?? 1}`, `-c${opts.connections}`, `-d${opts.seconds}s`, '-s', script, opts.url],
        { maxBuffer: 1 << 20 },
        (err, out, errOut) => (err ? reject(err) : resolve(out + errOut)),
      ),
    )
    const line = stdout.split('\n').find((l) => l.startsWith('RESULT '))
    if (!line) throw new Error(`wrk printed no result:\n${stdout}`)
    const r = JSON.parse(line.slice(7)) as Record<string, number>
    return {
      requests: r.requests,
      rps: r.requests / (r.us / 1e6),
      p50: r.p50 / 1000,
      p99: r.p99 / 1000,
      max: r.max / 1000,
      non2xx: r.non2xx,
      errors: r.errors,
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * GET /health at `perSecond`, until stopped: latency samples (ms) and failures. The prober runs on
 * a worker thread of its own: on the main thread its timings would include the delays of this
 * process's event loop, busy driving 62 autocannon connections.
 */
export const fmt = (n: number, digits = 1) => n.toFixed(digits)

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

export function healthProber(url: string, perSecond: number) {
  const samples: { at: number; ms: number }[] = []
  let failures = 0
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads')
    const { url, perSecond } = workerData
    let stopped = false
    parentPort.on('message', () => { stopped = true })
    ;(async () => {
      // Not recorded: the first request pays for the connection and the prober's own warm-up.
      try { await (await fetch(url + '/health')).text() } catch {}
      while (!stopped) {
        const started = performance.now()
        let ok = false
        try {
          const res = await fetch(url + '/health', { signal: AbortSignal.timeout(5000) })
          await res.text()
          ok = res.status === 200
        } catch {}
        const ms = performance.now() - started
        parentPort.postMessage({ at: Date.now(), ms, ok })
        await new Promise((r) => setTimeout(r, Math.max(0, 1000 / perSecond - ms)))
      }
      parentPort.close()
    })()`,
    { eval: true, workerData: { url, perSecond } },
  )
  worker.on('message', (m: { at: number; ms: number; ok: boolean }) => {
    samples.push({ at: m.at, ms: m.ms })
    if (!m.ok) failures++
  })
  const exited = new Promise((resolve) => worker.once('exit', resolve))
  return {
    samples,
    failures: () => failures,
    stop: async () => {
      worker.postMessage('stop')
      await exited
    },
  }
}

export function summary(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b)
  return `p50 ${fmt(percentile(s, 50), 2)} ms  p99 ${fmt(percentile(s, 99), 2)} ms  max ${fmt(s.at(-1) ?? Number.NaN, 1)} ms  (${s.length} probes)`
}
