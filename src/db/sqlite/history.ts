/**
 * Records a new SQLite generation's change set into its own file (see ../history.ts): the history
 * of the file before it is carried forward, the new generation's changes are added, the oldest
 * pruned. The caller has attached the previous generation's file as `prev` (or has none) and runs
 * this before the new file is renamed over the old one, so a generation never goes live without its
 * history, and a failure leaves nothing behind but the build file it throws away.
 */

import {
  changedKeysStatements,
  countsOf,
  countsSql,
  ENTITY_SPECS,
  HISTORY_ENTITIES,
  type HistoryEntity,
  type HistoryRetention,
  historyDdl,
  type ManifestChanges,
  pruneStatements,
  recordStatements,
} from '../history.js'
import type Database from './driver.js'

export interface SqliteHistoryOptions {
  /** The new generation's id. */
  generation: string
  /** The previous generation, its file attached as `prev`; null when there was none. */
  previous: { generation: string; madeAt: string } | null
  /**
   * Ingest: copy `prev`'s history tables into the new file first (a refresh's copy has them).
   * Only when `previous` is set.
   */
  carryForward: boolean
  /**
   * Refresh: compare only these keys, per entity (`[id]` or `[id, sub]` per row). Absent (ingest):
   * the keys of the rows that differ are found first (changedKeysStatements).
   */
  keys?: Map<HistoryEntity, { composite: boolean; keys: Iterable<number[]> }>
  retention: HistoryRetention
  now?: Date
}

/** Whether `schema` (main, prev) has the history tables. */
function hasHistory(db: Database, schema: string): boolean {
  return (
    db
      .prepare(`SELECT 1 FROM ${schema}.sqlite_master WHERE type = 'table' AND name = 'history_generations'`)
      .get() !== undefined
  )
}

/**
 * Records the new generation; call inside the transaction that writes the generation (or wrap it
 * in one). Returns what the manifest says of the changes (null: there is no previous generation).
 */
export function recordSqliteHistory(db: Database, o: SqliteHistoryOptions): ManifestChanges | null {
  const now = o.now ?? new Date()
  for (const s of historyDdl('sqlite', 'main.')) db.exec(s)
  const prev = o.previous
  if (prev && o.carryForward && hasHistory(db, 'prev')) {
    db.exec('DELETE FROM main.history_generations')
    db.exec('DELETE FROM main.history_changes')
    db.exec('INSERT INTO main.history_generations SELECT * FROM prev.history_generations')
    db.exec(
      'INSERT INTO main.history_changes (n, seq, entity, id, sub, kind, title_type, data) SELECT n, seq, entity, id, sub, kind, title_type, data FROM prev.history_changes ORDER BY n',
    )
  }
  const seqOf = db.prepare('SELECT seq FROM main.history_generations WHERE generation = ?').pluck()
  const insertGeneration = db.prepare(
    'INSERT INTO main.history_generations (seq, generation, previous, made_at, counts) VALUES (?, ?, ?, ?, ?)',
  )
  let prevSeq = prev ? (seqOf.get(prev.generation) as number | undefined) : undefined
  if (prev && prevSeq === undefined) {
    // The previous generation has no history (made before it was kept, or by other means): the
    // history starts again from it.
    db.exec('DELETE FROM main.history_generations')
    db.exec('DELETE FROM main.history_changes')
    insertGeneration.run(1, prev.generation, null, prev.madeAt, null)
    prevSeq = 1
  }
  if (!prev) {
    db.exec('DELETE FROM main.history_generations')
    db.exec('DELETE FROM main.history_changes')
  }
  const seq = (prevSeq ?? 0) + 1
  // Anything recorded after the previous generation belongs to no generation that went live.
  db.prepare('DELETE FROM main.history_generations WHERE seq >= ?').run(seq)
  db.prepare('DELETE FROM main.history_changes WHERE seq >= ?').run(seq)
  insertGeneration.run(seq, o.generation, prev?.generation ?? null, now.toISOString(), null)
  if (!prev) return null

  // The same order whichever way the generation was made: entity by entity, each in key order.
  const entities = HISTORY_ENTITIES.filter((e) => !o.keys || o.keys.has(e))
  for (const entity of entities) {
    const composite = ENTITY_SPECS[entity].key.length === 2
    const keys = `temp.history_keys_${entity}`
    db.exec(
      composite
        ? `CREATE TEMP TABLE IF NOT EXISTS history_keys_${entity} (id INTEGER, sub INTEGER, PRIMARY KEY (id, sub)) WITHOUT ROWID`
        : `CREATE TEMP TABLE IF NOT EXISTS history_keys_${entity} (id INTEGER PRIMARY KEY)`,
    )
    db.exec(`DELETE FROM ${keys}`)
    const restrict = o.keys?.get(entity)
    if (restrict) {
      // A refresh: the keys its diffs touched.
      const ins = db.prepare(
        composite
          ? `INSERT OR IGNORE INTO ${keys} VALUES (?, ?)`
          : `INSERT OR IGNORE INTO ${keys} VALUES (?)`,
      )
      for (const k of restrict.keys) ins.run(composite ? k : [k[0]])
    } else {
      // An ingest: the keys of the rows that differ, found by merging the two files' tables.
      for (const sql of changedKeysStatements(entity, { oldNs: 'prev.', newNs: 'main.', keys })) db.exec(sql)
    }
    if (db.prepare(`SELECT 1 FROM ${keys} LIMIT 1`).get() === undefined) continue
    for (const sql of recordStatements('sqlite', entity, {
      seq,
      oldNs: 'prev.',
      newNs: 'main.',
      into: 'main.',
      keys,
    })) {
      db.exec(sql)
    }
    db.exec(`DELETE FROM ${keys}`)
  }
  const counts = countsOf(
    db.prepare(countsSql('main.', seq)).all() as { entity: string; kind: string; c: number }[],
  )
  db.prepare('UPDATE main.history_generations SET counts = ? WHERE seq = ?').run(JSON.stringify(counts), seq)
  for (const sql of pruneStatements('main.', seq, o.retention, now)) db.exec(sql)
  return { since: prev.generation, counts }
}

/** The generation of the file attached as `prev`, and when it was made; null when it has none. */
export function attachedGeneration(db: Database): { generation: string; madeAt: string } | null {
  try {
    const rows = db
      .prepare("SELECT key, value FROM prev.meta WHERE key IN ('generation', 'manifest')")
      .all() as {
      key: string
      value: string
    }[]
    const meta = new Map(rows.map((r) => [r.key, r.value]))
    const generation = meta.get('generation')
    if (!generation) return null
    let madeAt = new Date().toISOString()
    try {
      madeAt = (JSON.parse(meta.get('manifest') ?? '{}') as { finishedAt?: string }).finishedAt ?? madeAt
    } catch {}
    return { generation, madeAt }
  } catch {
    return null
  }
}

/** Puts `changes` into the manifest meta row of `main` (and returns the manifest written). */
export function writeManifestChanges(db: Database, changes: ManifestChanges | null): unknown {
  const raw = db.prepare("SELECT value FROM main.meta WHERE key = 'manifest'").pluck().get() as
    | string
    | undefined
  if (raw === undefined) return null
  const manifest = { ...(JSON.parse(raw) as Record<string, unknown>), changes }
  db.prepare("UPDATE main.meta SET value = ? WHERE key = 'manifest'").run(JSON.stringify(manifest))
  return manifest
}
