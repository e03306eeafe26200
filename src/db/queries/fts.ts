import { type Expression, type RawBuilder, type SqlBool, sql } from 'kysely'
import { rank, tsquery } from '../postgres/fts.js'
import { nocase } from '../postgres/schema.js'
import { type DB, isSqlite } from './sql.js'

/**
 * The few SQL fragments of the list queries that differ by dialect: full-text matching (FTS5 on
 * SQLite, tsvector documents on PostgreSQL) and case-insensitive sort keys (NOCASE, or lower() in
 * the "C" collation, which folds ASCII only and orders by bytes as NOCASE does). `match` is always
 * an FTS5 match expression (src/db/queries/text.ts); PostgreSQL gets it as a tsquery.
 */

type FtsTable = 'titles' | 'names'

/** `(SELECT id ...)`: the ids whose document matches, for `id IN (...)`. */
export function matchingIds(db: DB, table: FtsTable, match: string): RawBuilder<number> {
  const fts = sql.table(`${table}_fts`)
  return isSqlite(db)
    ? sql<number>`(SELECT rowid FROM ${fts} WHERE ${fts} MATCH ${match})`
    : sql<number>`(SELECT id FROM ${fts} WHERE doc @@ ${tsquery(match)})`
}

/**
 * For ranking by relevance: the `{table}_fts` joined as `f` on `{alias}.id`, its match condition, and
 * its text relevance (higher is better: -bm25 with the SQLite weights, or the scaled ts_rank).
 */
export function ftsJoin(
  db: DB,
  table: FtsTable,
  alias: string,
  match: string,
): { key: string; on: string; where: RawBuilder<SqlBool>; relevance: RawBuilder<number> } {
  if (isSqlite(db)) {
    return {
      key: 'f.rowid',
      on: `${alias}.id`,
      where: sql<SqlBool>`${sql.table(`${table}_fts`)} MATCH ${match}`,
      relevance: sql<number>`-${sql.raw(table === 'titles' ? 'bm25(titles_fts, 4.0, 2.0, 1.0)' : 'bm25(names_fts)')}`,
    }
  }
  const q = tsquery(match)
  return {
    key: 'f.id',
    on: `${alias}.id`,
    where: sql<SqlBool>`f.doc @@ ${q}`,
    relevance: rank(sql`f.doc`, q),
  }
}

/** The case-insensitive sort key of a text column (served by titles_by_title, names_by_name). */
export function nocaseKey(db: DB, column: string): RawBuilder<string> {
  return isSqlite(db)
    ? sql<string>`${sql.ref(column)} COLLATE NOCASE`
    : sql<string>`${sql.raw(nocase(column))}`
}

/** A keyset value compared with nocaseKey(): as it is on SQLite (the collation folds it), lowered here. */
export function nocaseValue(db: DB, value: unknown): Expression<unknown> {
  return isSqlite(db) ? sql`${value}` : sql`lower(${value}::text COLLATE "C")`
}
