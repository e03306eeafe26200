import { sql } from 'kysely'
import type { DB } from '../../src/db/queries/sql.js'

/** Queries registered only in the PostgreSQL tests (through extraQueryModules). */
export const queries = {
  /** A setting of the API session the query runs on. */
  async setting(db: DB, name: string): Promise<string> {
    const result = await sql<{ v: string }>`SELECT current_setting(${name}) AS v`.execute(db)
    return result.rows[0].v
  },
}
