import { CompiledQuery, type SqlBool, type SqliteDatabase, sql } from 'kysely'
import type { CrewEntry, Dialect, SearchIndex, SearchStatements, TitleDetailRow } from '../dialect.js'
import type { DB } from '../queries/sql.js'

/**
 * The dataset queries on SQLite: FTS5 tables with their prefix indexes and bm25, fts5vocab, NOCASE
 * indexes, `+column` hints for the planner, the marquee_tick() term, and prepared statements run
 * directly for the hottest lookup.
 */

/**
 * The JavaScript function SQLite calls from the interruptible() term; openDataset registers it
 * (see src/db/sqlite/connection.ts for what it enforces).
 */
export const TICK_FUNCTION = 'marquee_tick'

/**
 * Where openDataset's handles keep their connection's statement cache, for the few hot queries that
 * run a prepared statement directly. Registered, like the dialect's symbol (src/db/dialect.ts).
 */
export const STATEMENTS: unique symbol = Symbol.for('marquee.sqlite.statements') as never

/**
 * The prepared statement of `text` on the connection under `db`, or null when `db` is not one of
 * openDataset's. For hot point lookups, where Kysely's compile and its connection mutex's awaits
 * cost as much as SQLite's own work.
 */
function preparedOf(db: DB, text: string) {
  const statements = (db as unknown as { [STATEMENTS]?: SqliteDatabase })[STATEMENTS]
  return statements ? statements.prepare(text) : null
}

const BM25: Record<SearchIndex['fts'], string> = {
  titles_fts: 'bm25(titles_fts, 4.0, 2.0, 1.0)',
  names_fts: 'bm25(names_fts)',
}

/** The statement of titleDetails, for the ids matched by `where`. */
const titleDetailSql = (where: string) => `
    SELECT t.id, t.title_type, t.primary_title, t.original_title, t.is_adult, t.start_year, t.end_year,
      t.runtime_minutes, t.genres, t.average_rating, t.num_votes,
      (SELECT json_group_array(json_array(c.role, c.name_id, n.primary_name) ORDER BY c.role, c.ordering)
        FROM crew c LEFT JOIN names n ON n.id = c.name_id WHERE c.title_id = t.id) AS crew,
      e.parent_id, e.season_number, e.episode_number, p.primary_title AS series_title
    FROM titles t
    LEFT JOIN episodes e ON e.id = t.id
    LEFT JOIN titles p ON p.id = e.parent_id
    WHERE ${where}`
/** One title (GET /titles/{tconst}, the hottest query): a primary-key search, no json_each. */
const TITLE_DETAIL_ONE = titleDetailSql('t.id = ?')
const TITLE_DETAIL_MANY = titleDetailSql('t.id IN (SELECT value FROM json_each(?))')

/** Connections whose temp schema has the fts5vocab tables. */
const searchPrepared = new WeakSet<DB>()

const search: SearchStatements = {
  /** fts5vocab tables over the FTS indexes, in the connection's temp schema (the main file is read-only). */
  async prepare(db) {
    if (searchPrepared.has(db)) return
    await sql`CREATE VIRTUAL TABLE IF NOT EXISTS temp.titles_vocab USING fts5vocab(main, titles_fts, 'row')`.execute(
      db,
    )
    await sql`CREATE VIRTUAL TABLE IF NOT EXISTS temp.names_vocab USING fts5vocab(main, names_fts, 'row')`.execute(
      db,
    )
    searchPrepared.add(db)
  },

  async knownWords(db, vocab, candidates) {
    if (candidates.length === 0) return []
    const rows = await sql<{
      term: string
    }>`SELECT term FROM ${sql.table(`temp.${vocab}`)} WHERE term IN (SELECT value FROM json_each(${JSON.stringify(candidates)}))`.execute(
      db,
    )
    return rows.rows.map((r) => r.term)
  },

  async vocabularyWords(db, vocab, prefix, limit) {
    const rows = await sql<{
      term: string
    }>`SELECT term FROM ${sql.table(`temp.${vocab}`)} WHERE term >= ${prefix} AND term < ${`${prefix}\uffff`} LIMIT ${limit}`.execute(
      db,
    )
    return rows.rows.map((r) => r.term)
  },

  async countMatches(db, index, match, limit) {
    const fts = sql.table(index.fts)
    const counted = await sql<{
      n: number
    }>`SELECT count(*) AS n FROM (SELECT 1 FROM ${fts} WHERE ${fts} MATCH ${match} LIMIT ${limit})`.execute(
      db,
    )
    return Number(counted.rows[0]?.n ?? 0)
  },

  async scoredMatches(db, index, match) {
    const fts = sql.table(index.fts)
    return (
      await sql<{ id: number; bm: number; p: number }>`SELECT t.id AS id, ${sql.raw(BM25[index.fts])} AS bm,
        ${sql.ref(`t.${index.popularity}`)} AS p
        FROM ${fts} JOIN ${sql.table(index.table)} t ON t.id = ${fts}.rowid WHERE ${fts} MATCH ${match}`.execute(
        db,
      )
    ).rows
  },

  async popularMatches(db, index, match, limit) {
    const fts = sql.table(index.fts)
    const rows = await sql<{
      id: number
    }>`SELECT t.id AS id FROM ${fts} JOIN ${sql.table(index.table)} t ON t.id = ${fts}.rowid WHERE ${fts} MATCH ${match}
      ORDER BY ${sql.ref(`t.${index.popularity}`)} DESC LIMIT ${limit}`.execute(db)
    return rows.rows.map((r) => r.id)
  },

  async probeHead(db, index, probe, head, limit) {
    const fts = sql.table(index.fts)
    const pop = sql.ref(`t.${index.popularity}`)
    const rows = await sql<{
      id: number
    }>`SELECT h.id AS id FROM (SELECT t.id AS id, ${pop} AS p FROM ${sql.table(index.table)} t ORDER BY ${pop} DESC LIMIT ${head}) h
      WHERE EXISTS (SELECT 1 FROM ${fts} WHERE ${fts} MATCH ${probe} AND ${fts}.rowid = h.id)
      ORDER BY h.p DESC LIMIT ${limit}`.execute(db)
    return rows.rows.map((r) => r.id)
  },

  async startsWith(db, index, typed, limit) {
    const text = sql.ref(`t.${index.text}`)
    const rows = await sql<{ id: number }>`SELECT t.id AS id FROM ${sql.table(index.table)} t
      WHERE ${text} > ${typed} COLLATE NOCASE AND ${text} < ${`${typed}\uffff`} COLLATE NOCASE
      ORDER BY ${text} COLLATE NOCASE LIMIT ${limit}`.execute(db)
    return rows.rows.map((r) => r.id)
  },

  async exactText(db, index, typed, limit) {
    const rows = await sql<{ id: number }>`SELECT t.id AS id FROM ${sql.table(index.table)} t
      WHERE ${sql.ref(`t.${index.text}`)} = ${typed} COLLATE NOCASE
      ORDER BY ${sql.ref(`t.${index.popularity}`)} DESC LIMIT ${limit}`.execute(db)
    return rows.rows.map((r) => r.id)
  },
}

export const sqliteDialect: Dialect = {
  name: 'sqlite',

  // SQLite calls back into JavaScript once every 1024 rows: better-sqlite3 has no binding for
  // sqlite3_interrupt() or a progress handler, so this is how a scan learns it must stop.
  interruptible: (id) => sql<SqlBool>`(${id} % 1024 <> 0 OR ${sql.raw(TICK_FUNCTION)}())`,

  // The unary + keeps a column off every index (see applyFilter in src/db/queries/title-list.ts).
  unindexed: (column) => sql.raw(`+${column}`),

  // In process a slice costs no round trip, and the tick stops one at the budget: FACET_SLICE ids each.
  maxFacetSlices: Number.POSITIVE_INFINITY,

  matchingIds(table, match) {
    const fts = sql.table(`${table}_fts`)
    return sql<number>`(SELECT rowid FROM ${fts} WHERE ${fts} MATCH ${match})`
  },

  ftsJoin: (table, alias, match) => ({
    key: 'f.rowid',
    on: `${alias}.id`,
    where: sql<SqlBool>`${sql.table(`${table}_fts`)} MATCH ${match}`,
    relevance: sql<number>`-${sql.raw(table === 'titles' ? BM25.titles_fts : BM25.names_fts)}`,
  }),

  nocaseKey: (column) => sql<string>`${sql.ref(column)} COLLATE NOCASE`,

  // The collation folds the value as it compares.
  nocaseValue: (value) => sql`${value}`,

  async titleDetails(db, ids) {
    const one = ids.length === 1
    const arg = one ? ids[0] : JSON.stringify(ids)
    const text = one ? TITLE_DETAIL_ONE : TITLE_DETAIL_MANY
    // The prepared statement straight away where the connection is ours: this runs on the main
    // thread for every GET /titles/{tconst}, and Kysely's compile and awaits cost as much as SQLite.
    const stmt = preparedOf(db, text)
    const rows = (
      stmt ? stmt.all([arg]) : (await db.executeQuery(CompiledQuery.raw(text, [arg]))).rows
    ) as (Omit<TitleDetailRow, 'crew'> & { crew: string | CrewEntry[] | null })[]
    for (const r of rows) if (typeof r.crew === 'string') r.crew = JSON.parse(r.crew) as CrewEntry[]
    return rows as TitleDetailRow[]
  },

  sqlConsole: true,

  search,
}
