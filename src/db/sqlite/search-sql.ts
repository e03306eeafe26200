import { sql } from 'kysely'
import type { SearchIndex, SearchSql, Vocab } from '../queries/search-sql.js'
import type { DB } from '../queries/sql.js'

/** GET /search's statements on SQLite: FTS5 with its prefix indexes, fts5vocab, NOCASE indexes. */

const BM25: Record<SearchIndex['fts'], string> = {
  titles_fts: 'bm25(titles_fts, 4.0, 2.0, 1.0)',
  names_fts: 'bm25(names_fts)',
}

const prepared = new WeakSet<DB>()

export const sqliteSearchSql: SearchSql = {
  /** fts5vocab tables over the FTS indexes, in the connection's temp schema (the main file is read-only). */
  async prepare(db) {
    if (prepared.has(db)) return
    await sql`CREATE VIRTUAL TABLE IF NOT EXISTS temp.titles_vocab USING fts5vocab(main, titles_fts, 'row')`.execute(
      db,
    )
    await sql`CREATE VIRTUAL TABLE IF NOT EXISTS temp.names_vocab USING fts5vocab(main, names_fts, 'row')`.execute(
      db,
    )
    prepared.add(db)
  },

  async knownWords(db, vocab: Vocab, candidates) {
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
