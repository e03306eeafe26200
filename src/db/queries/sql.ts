import {
  type Expression,
  type Kysely,
  PostgresAdapter,
  type RawBuilder,
  type SqlBool,
  SqliteAdapter,
  type SqliteDatabase,
  type SqliteStatement,
  sql,
} from 'kysely'
import { formatId } from '../../datasets/catalogue.js'
import { SQLITE_TAG, TICK_FUNCTION } from '../sqlite/connection.js'
import type { DatasetDB } from '../types.js'

/** The Kysely handle every query function takes first. */
export type DB = Kysely<DatasetDB>

export function isSqlite(db: DB): boolean {
  // The tag survives a second copy of this module or of kysely (tests load query modules through
  // another loader), where instanceof would not.
  return SQLITE_TAG in db || db.getExecutor().adapter instanceof SqliteAdapter
}

/**
 * The prepared statement of `sql` on the connection under `db`, or null when `db` is not one of
 * openDataset's (PostgreSQL, a test double). For hot point lookups, where Kysely's compile and
 * its connection mutex's awaits cost as much as SQLite's own work.
 */
export function preparedOf(db: DB, sql: string): SqliteStatement | null {
  const cache = (db as unknown as Record<symbol, SqliteDatabase | undefined>)[SQLITE_TAG]
  return cache ? cache.prepare(sql) : null
}

export function isPostgres(db: DB): boolean {
  // By name as well, for the same reason as isSqlite.
  const adapter = db.getExecutor().adapter
  return adapter instanceof PostgresAdapter || adapter.constructor.name === 'PostgresAdapter'
}

/**
 * A WHERE term that is always true but, on SQLite, calls back into JavaScript once every 1024 rows
 * of `id` (see src/db/sqlite/connection.ts): it makes a long scan stoppable (worker termination,
 * budgets, inline deadlines). Put it first in the WHERE clause so it runs for every row the scan
 * visits, not only for the rows that pass the other filters. On other dialects it is `true`
 * (PostgreSQL has statement_timeout).
 */
export function interruptible(db: DB, id: Expression<number>): RawBuilder<SqlBool> {
  if (!isSqlite(db)) return sql<SqlBool>`true`
  return sql<SqlBool>`(${id} % 1024 <> 0 OR ${sql.raw(TICK_FUNCTION)}())`
}

export const tt = (n: number) => formatId('tt', n)
export const nm = (n: number) => formatId('nm', n)

/** "Drama,Romance" -> ["Drama", "Romance"]; null -> []. */
export function splitList(value: string | null, sep = ','): string[] {
  if (value === null || value === '') return []
  return value.split(sep)
}

/** A principals `characters` JSON array, tolerant of malformed input (kept as one string). */
export function parseCharacters(value: string | null): string[] {
  if (value === null || value === '') return []
  try {
    const parsed: unknown = JSON.parse(value)
    if (Array.isArray(parsed)) return parsed.map(String)
    return [String(parsed)]
  } catch {
    return [value]
  }
}

export function bool(value: number | null): boolean | null {
  return value === null ? null : value !== 0
}
