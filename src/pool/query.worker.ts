import { existsSync } from 'node:fs'
import { threadId, workerData } from 'node:worker_threads'
import { loadRegistry } from '../db/queries/index.js'
import { ConnectionCache, QueryCancelled, withCancel } from '../db/sqlite/connection.js'
import { lowerThreadPriority } from '../lib/priority.js'
import { encodeAnswer, type QueryTask, serializeError, type TaskOutcome } from './task.js'

/**
 * A query worker: one read-only connection per dataset file, opened on first use and reused for the
 * life of the thread; each task names a query of the registry and its arguments.
 *
 * Everything slow happens before the handler exists (a promised default export), so piscina only
 * counts the worker ready, and hands it tasks, once it can answer at full speed: a replacement
 * for a terminated worker must never spend a request's deadline booting.
 */
export interface WorkerData {
  extraQueryModules?: string[]
  /** A dataset file to open while booting (the current generation when the worker was created). */
  warmDbPath?: string | null
}

/** A no-op task: proves the worker has booted (and opens `ping`), holding it `holdMs`. */
export interface Ping {
  ping: string | null
  holdMs?: number
  /** A dataset file to close the connection to (QueryPool.evict). */
  evict?: string
}

const data = (workerData ?? {}) as WorkerData
const connections = new ConnectionCache()

async function boot(): Promise<(task: QueryTask | Ping) => Promise<TaskOutcome>> {
  lowerThreadPriority()
  const extra = data.extraQueryModules ?? []
  // Running from source (tests): Node 20 does not give worker threads the `--import tsx` hooks for
  // dynamic imports, so register them here before importing `.ts` query modules.
  if (extra.some((m) => m.endsWith('.ts'))) {
    const tsx = 'tsx/esm/api'
    const api = (await import(tsx)) as { register: () => unknown }
    api.register()
  }
  const registry = await loadRegistry(extra)
  if (data.warmDbPath && existsSync(data.warmDbPath)) {
    try {
      connections.get(data.warmDbPath)
    } catch {
      // The first task reports the problem.
    }
  }

  return async function runQuery(task) {
    try {
      if ('ping' in task) {
        if (task.evict) connections.evict(task.evict)
        if (task.ping) connections.get(task.ping)
        if (task.holdMs) await new Promise((resolve) => setTimeout(resolve, task.holdMs))
        return { ok: true, value: threadId }
      }
      const fn = registry.get(task.query)
      if (!fn) return { ok: false, error: { name: 'UnknownQuery', message: `no query named ${task.query}` } }
      const { control } = task
      if (control) {
        Atomics.store(control, 1, 1)
        if (Atomics.load(control, 0) !== 0) return { ok: false, error: serializeError(new QueryCancelled()) }
      }
      const conn = connections.get(task.dbPath)
      const run = () => fn(conn.db, ...task.args)
      const value = control ? await withCancel(control, run) : await run()
      return { ok: true, value: encodeAnswer(value, task.encode) }
    } catch (err) {
      return { ok: false, error: serializeError(err) }
    }
  }
}

// Piscina awaits a promised default export before it reports the worker ready (no top-level await:
// under tsx the entry is loaded through require()).
export default boot()
