import { Worker, type WorkerOptions } from 'node:worker_threads'

/**
 * Starts a worker from its entry file URL (see workerUrl). Node 20 does not apply `--import` hooks to
 * a worker's entry module, so a `.ts` entry (running from source under tsx) is loaded by a tiny
 * bootstrap that registers tsx inside the worker first; a `.js` entry (dist/) starts directly.
 */
export function spawnWorker(url: URL, options: WorkerOptions = {}): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, options)
  const tsx = import.meta.resolve('tsx/esm/api')
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}) })`
  return new Worker(boot, { ...options, eval: true })
}
