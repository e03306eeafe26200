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
