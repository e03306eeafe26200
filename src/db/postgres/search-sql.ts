import { sql } from 'kysely'
import type { SearchSql } from '../queries/search-sql.js'
import { rank, tsquery } from './fts.js'
import { nocase } from './schema.js'

/**
 * GET /search's statements on PostgreSQL: GIN over the `doc` tsvectors (prefix matches are `:*`
 * lexemes), the vocabulary tables the ingest built (btree in the "C" collation, so a prefix is a
 * range), and the lower(... COLLATE "C") indexes that stand for SQLite's NOCASE.
 */

/** lower(text) in the "C" collation: SQLite's NOCASE (ASCII case folding, byte order). */
const folded = (expr: string) => sql.raw(nocase(expr))

export const postgresSearchSql: SearchSql = {
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
