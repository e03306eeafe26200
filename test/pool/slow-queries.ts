import { getPriority } from 'node:os'
import { threadId } from 'node:worker_threads'
import { sql } from 'kysely'
import { dialectOf } from '../../src/db/dialect.js'
import type { DB } from '../../src/db/queries/sql.js'

/**
 * Queries registered only in tests (through the pool's extraQueryModules): a query that never
 * finishes on its own, to prove deadlines really stop work, and probes of where a query runs.
 */
export const queries = {
  /** An endless recursive CTE: only a terminated worker (or an inline deadline) stops it. */
  async spin(db: DB): Promise<number> {
    const result = await sql<{ n: number }>`
      WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)
      SELECT count(*) AS n FROM c WHERE ${dialectOf(db).interruptible(sql.ref('x'))}`.execute(db)
    return result.rows[0].n
  },
  /** Keeps its worker `ms` (a timer: no ticks, so only terminating the worker stops it early), then says where it ran. */
  async holdThenWhere(_db: DB, ms: number): Promise<number> {
    await new Promise((resolve) => setTimeout(resolve, ms))
    return threadId
  },
  /** The thread the query ran on (0 is the main thread). */
  async whereAmI(_db: DB): Promise<number> {
    return threadId
  },
  /** The nice value of the thread the query runs on (Linux keeps one per thread). */
  async myPriority(_db: DB): Promise<number> {
    return getPriority()
  },
  async fail(_db: DB): Promise<never> {
    const err = new Error('deliberate failure') as Error & { code: string }
    err.code = 'E_DELIBERATE'
    throw err
  },
}
