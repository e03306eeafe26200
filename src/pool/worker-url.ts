import { Worker, type WorkerOptions } from 'node:worker_threads'

/**
 * The URL of a worker entry file next to `from`: `.ts` when running from source under tsx,
 * `.js` when running from `dist/`.
 */
export function workerUrl(relative: string, from: string): URL {
  const ext = from.endsWith('.ts') ? '.ts' : '.js'
  return new URL(relative.replace(/\.[jt]s$/, '') + ext, from)
}

/**
 * Starts a worker thread on an entry resolved by `workerUrl()`. From `dist/` that is a plain
 * `new Worker(url)`. From source (`.ts` under `--import tsx`) it needs help on Node 20: tsx 4
 * registers its loader hooks on the main thread only there (in workers too from Node 22.22/24.11
 * on), so the worker first tries the entry as is and, if Node cannot load `.ts`, registers tsx in
 * the worker and loads it again (under a fresh URL, as the failure is cached). Never registers
 * tsx twice where Node already applies the hooks.
 */
export function spawnWorker(entry: URL, options: WorkerOptions = {}): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, options)
  const tsx = import.meta.resolve('tsx/esm/api')
  const bootstrap = `const entry = ${JSON.stringify(entry.href)}
import(entry).catch((err) => {
  if (err?.code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw err
  return import(${JSON.stringify(tsx)}).then((api) => {
    api.register()
    return import(entry + '?tsx')
  })
})`
  return new Worker(bootstrap, { ...options, eval: true })
}
