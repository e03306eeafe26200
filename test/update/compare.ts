/**
 * Compares two dataset databases table by table: every row of every table in primary-key order
 * (values through quote(), so 7 and 7.0 differ), and the FTS tables through their answers to a set
 * of queries (rowids and bm25 ranks).
 */

import { createHash } from 'node:crypto'
import Database from '../../src/db/sqlite/driver.js'

const TABLES: Record<string, string> = {
  titles: 'id',
  title_genres: 'genre, title_id',
  akas: 'title_id, ordering',
  crew: 'title_id, role, ordering',
  episodes: 'id',
  principals: 'title_id, ordering',
  names: 'id',
  name_professions: 'profession, name_id',
}

export interface TableDump {
  rows: number
  sha256: string
}

/** A digest of each table's rows in key order. */
export function dumpTables(path: string): Record<string, TableDump> {
  const db = new Database(path, { readonly: true })
  try {
    const out: Record<string, TableDump> = {}
    for (const [table, key] of Object.entries(TABLES)) {
      const cols = (db.prepare(`SELECT name FROM pragma_table_info('${table}')`).pluck().all() as string[])
        .map((c) => `quote(${c})`)
        .join(" || '|' || ")
      const hash = createHash('sha256')
      let rows = 0
      for (const line of db.prepare(`SELECT ${cols} FROM ${table} ORDER BY ${key}`).pluck().iterate()) {
        hash.update(`${line as string}\n`)
        rows++
      }
      out[table] = { rows, sha256: hash.digest('hex') }
    }
    return out
  } finally {
    db.close()
  }
}

/** The rows of one table in key order (to show a difference). */
export function tableRows(path: string, table: string, limit = 1_000_000): string[] {
  const db = new Database(path, { readonly: true })
  try {
    const cols = (db.prepare(`SELECT name FROM pragma_table_info('${table}')`).pluck().all() as string[])
      .map((c) => `quote(${c})`)
      .join(" || '|' || ")
    return db
      .prepare(`SELECT ${cols} FROM ${table} ORDER BY ${TABLES[table]} LIMIT ?`)
      .pluck()
      .all(limit) as string[]
  } finally {
    db.close()
  }
}

/** FTS answers: for each query, the matching rowids with their bm25 rank, best first. */
export function ftsAnswers(path: string, queries: readonly string[]): Record<string, string> {
  const db = new Database(path, { readonly: true })
  try {
    const out: Record<string, string> = {}
    for (const table of ['titles_fts', 'names_fts']) {
      const stmt = db.prepare(
        `SELECT rowid, round(bm25(${table}), 6) AS r FROM ${table} WHERE ${table} MATCH ? ORDER BY r, rowid`,
      )
      for (const q of queries) {
        const rows = stmt.all(q) as { rowid: number; r: number }[]
        out[`${table} ${q}`] = rows.map((x) => `${x.rowid}:${x.r}`).join(',')
      }
      out[`${table} count`] = String(db.prepare(`SELECT count(*) FROM ${table}`).pluck().get())
    }
    return out
  } finally {
    db.close()
  }
}
