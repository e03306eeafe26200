/** What the HTTP benchmarks share: autocannon with the types they use, and a free port. */
import { createRequire } from 'node:module'
import { createServer } from 'node:net'

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

export interface WrkOptions {
  url: string
  /** Paths requested, each request a random one of them. */
  paths: readonly string[]
  connections: number
  seconds: number
  threads?: number
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
  await writeFile(
    script,
    `local paths = {${opts.paths.map((p) => JSON.stringify(p)).join(',')}}
request = function() return wrk.format(nil, paths[math.random(#paths)]) end
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
        (err, out) => (err ? reject(err) : resolve(out)),
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
