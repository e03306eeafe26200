import { existsSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import type { DB } from '../../src/db/queries/sql.js'

/**
 * Queries registered only in tests (through `BuildAppOptions.dataset.extraQueryModules`) that
 * misbehave on purpose: hold a worker for a while, or kill the worker thread under a running query.
 */
export const queries = {
  /** Keeps its worker busy for `ms` (a worker runs one task at a time), then answers. */
  async hold(_db: DB, ms: number): Promise<number> {
    await sleep(ms)
    return ms
  },
  /** Keeps its worker busy until the file `path` exists (the test creates it to let go), then answers. */
  async holdUntil(_db: DB, path: string): Promise<string> {
    while (!existsSync(path)) await sleep(10)
    return path
  },
  /** The worker thread exits in the middle of the query, as a crash in native code would end it. */
  async exitWorker(_db: DB): Promise<never> {
    process.exit(70)
  },
  /** An exception thrown outside the query's promise: uncaught in the worker, which dies of it. */
  async uncaught(_db: DB): Promise<never> {
    return new Promise<never>(() => {
      setImmediate(() => {
        throw new Error('deliberate uncaught exception in a query worker')
      })
    })
  },
}
