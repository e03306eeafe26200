import { Worker, type WorkerOptions } from 'node:worker_threads'
import { BACKGROUND_NICE } from './priority.js'

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
 * `new Worker(url)`. From source (`.ts` under `--import tsx`) it may need help: tsx 4 registers its
 * loader hooks on the main thread only on Node 20 (in workers too from Node 22.22/24.11 on), so the
 * worker first tries the entry as is and, if that fails, registers tsx in the worker and loads it
 * again (under a fresh URL, as the failure is cached). Node 20 fails on the `.ts` extension; Node 24
 * strips the entry's types itself but cannot resolve its `./x.js` imports of `.ts` files. Never
 * registers tsx twice where Node already applies the hooks.
 *
 * `background`: the thread lowers its own CPU priority first (see lowerThreadPriority), for work a
 * server runs beside its event loop (building the first dataset).
 */
export function spawnWorker(entry: URL, options: WorkerOptions & { background?: boolean } = {}): Worker {
  const { background, ...workerOptions } = options
  const lower =
    background && process.platform === 'linux'
      ? `try { const os = require('node:os'); os.setPriority(Math.max(os.getPriority(), ${BACKGROUND_NICE})) } catch {}\n`
      : ''
  const ts = entry.pathname.endsWith('.ts')
  if (!ts && !lower) return new Worker(entry, workerOptions)
  const load = ts
    ? `import(entry).catch((err) => {
  if (err?.code !== 'ERR_UNKNOWN_FILE_EXTENSION' && err?.code !== 'ERR_MODULE_NOT_FOUND') throw err
  return import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((api) => {
    api.register()
    return import(entry + '?tsx')
  })
})`
    : 'import(entry)'
  const bootstrap = `${lower}const entry = ${JSON.stringify(entry.href)}\n${load}`
  return new Worker(bootstrap, { ...workerOptions, eval: true })
}
