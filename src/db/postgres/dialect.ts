import { type SqlBool, sql } from 'kysely'
import type { Dialect, SearchStatements, TitleDetailRow } from '../dialect.js'
import { rank, tsquery } from './fts.js'
import { nocase } from './schema.js'

/**
 * The dataset queries on PostgreSQL: GIN over the `doc` tsvectors (prefix matches are `:*` lexemes),
 * the vocabulary tables the ingest built (btree in the "C" collation, so a prefix is a range), and
 * lower(... COLLATE "C") for SQLite's NOCASE (it folds ASCII only and orders by bytes, as NOCASE
 * does). Deadlines are the executor's business (statement_timeout, pg_cancel_backend).
 */

/** lower(text) in the "C" collation: SQLite's NOCASE (ASCII case folding, byte order). */
const folded = (expr: string) => sql.raw(nocase(expr))

const search: SearchStatements = {
  async prepare() {},

  async knownWords(db, vocab, candidates) {
    if (candidates.length === 0) return []
    const rows = await sql<{ term: string }>`SELECT term FROM ${sql.table(vocab)}
      WHERE term = ANY(${[...candidates]}::text[])`.execute(db)
    return rows.rows.map((r) => r.term)
  },

  async vocabularyWords(db, vocab, prefix, limit) {
    const rows = await sql<{ term: string }>`SELECT term FROM ${sql.table(vocab)}
      WHERE term >= ${prefix} AND term < ${`${prefix}\uffff`} ORDER BY term LIMIT ${limit}`.execute(db)
    return rows.rows.map((r) => r.term)
  },

  async countMatches(db, index, match, limit) {
    const counted = await sql<{ n: number }>`SELECT count(*)::int AS n FROM
      (SELECT 1 FROM ${sql.table(index.fts)} f WHERE f.doc @@ ${tsquery(match)} LIMIT ${limit}) m`.execute(db)
    return Number(counted.rows[0]?.n ?? 0)
  },

  async scoredMatches(db, index, match) {
    const q = tsquery(match)
    return (
      await sql<{ id: number; bm: number; p: number }>`SELECT t.id AS id, -${rank(sql`f.doc`, q)} AS bm,
        ${sql.ref(`t.${index.popularity}`)} AS p
        FROM ${sql.table(index.fts)} f JOIN ${sql.table(index.table)} t ON t.id = f.id WHERE f.doc @@ ${q}`.execute(
        db,
      )
    ).rows
  },

  async popularMatches(db, index, match, limit) {
    // The matches first (search asks only when they are few, or the most popular rows hold too few
    // of them): left to itself the planner walks the popularity index and probes every row's
    // document, tens of thousands of probes for a word that is rare among popular rows. Then each
    // match's popularity by its key, as SQLite does: joined, the planner prefers hashing the whole
    // table to 10,000 key lookups (a sequential scan of 1.2M names: 0.3-0.4 s for `gre`; by key
    // 0.08 s).
    const rows = await sql<{ id: number }>`WITH m AS MATERIALIZED
      (SELECT f.id FROM ${sql.table(index.fts)} f WHERE f.doc @@ ${tsquery(match)})
      SELECT m.id AS id FROM m
      ORDER BY (SELECT ${sql.ref(`t.${index.popularity}`)} FROM ${sql.table(index.table)} t WHERE t.id = m.id)
        DESC NULLS LAST
      LIMIT ${limit}`.execute(db)
    return rows.rows.map((r) => r.id)
  },

  async probeHead(db, index, probe, head, limit) {
    const pop = sql.ref(`t.${index.popularity}`)
    const rows = await sql<{ id: number }>`SELECT h.id AS id
      FROM (SELECT t.id AS id, ${pop} AS p FROM ${sql.table(index.table)} t ORDER BY ${pop} DESC LIMIT ${head}) h
      WHERE EXISTS (SELECT 1 FROM ${sql.table(index.fts)} f WHERE f.id = h.id AND f.doc @@ ${tsquery(probe)})
      ORDER BY h.p DESC LIMIT ${limit}`.execute(db)
    return rows.rows.map((r) => r.id)
  },

  async startsWith(db, index, typed, limit) {
    const text = folded(`t.${index.text}`)
    const rows = await sql<{ id: number }>`SELECT t.id AS id FROM ${sql.table(index.table)} t
      WHERE ${text} > lower(${typed}::text COLLATE "C") AND ${text} < lower(${`${typed}\uffff`}::text COLLATE "C")
      ORDER BY ${text} LIMIT ${limit}`.execute(db)
    return rows.rows.map((r) => r.id)
  },

  async exactText(db, index, typed, limit) {
    const rows = await sql<{ id: number }>`SELECT t.id AS id FROM ${sql.table(index.table)} t
      WHERE ${folded(`t.${index.text}`)} = lower(${typed}::text COLLATE "C")
      ORDER BY ${sql.ref(`t.${index.popularity}`)} DESC LIMIT ${limit}`.execute(db)
    return rows.rows.map((r) => r.id)
  },
}

export const postgresDialect: Dialect = {
  name: 'postgres',

  // statement_timeout and the executor's cancel stop a statement on the server.
  interruptible: () => sql<SqlBool>`true`,

  // The planner needs no hint to walk the sort's index.
  unindexed: (column) => sql.ref(column),

  // A slice is a round trip, and statement_timeout already bounds it: fewer, larger slices, each
  // still giving partial counts at the budget.
  maxFacetSlices: 8,

  matchingIds: (table, match) =>
    sql<number>`(SELECT id FROM ${sql.table(`${table}_fts`)} WHERE doc @@ ${tsquery(match)})`,

  ftsJoin(_table, alias, match) {
    const q = tsquery(match)
    return {
      key: 'f.id',
      on: `${alias}.id`,
      where: sql<SqlBool>`f.doc @@ ${q}`,
      relevance: rank(sql`f.doc`, q),
    }
  },

  nocaseKey: (column) => sql<string>`${folded(column)}`,

  nocaseValue: (value) => sql`lower(${value}::text COLLATE "C")`,

  // json_agg for the crew (pg parses the json): one round trip instead of three.
  async titleDetails(db, ids) {
    const { rows } = await sql<TitleDetailRow>`
    SELECT t.id, t.title_type, t.primary_title, t.original_title, t.is_adult, t.start_year, t.end_year,
      t.runtime_minutes, t.genres, t.average_rating, t.num_votes,
      (SELECT json_agg(json_build_array(c.role, c.name_id, n.primary_name) ORDER BY c.role, c.ordering)
        FROM crew c LEFT JOIN names n ON n.id = c.name_id WHERE c.title_id = t.id) AS crew,
      e.parent_id, e.season_number, e.episode_number, p.primary_title AS series_title
    FROM titles t
    LEFT JOIN episodes e ON e.id = t.id
    LEFT JOIN titles p ON p.id = e.parent_id
    WHERE t.id = ANY(${ids}::int[])`.execute(db)
    return rows
  },

  // The console runs a dataset file in a child process it can kill (src/db/queries/sql-console.ts).
  sqlConsole: false,

  search,
}
