/**
 * Records the change history of a freshly built database file against the one it replaces (see
 * src/db/history.ts), on a thread of its own: the comparison reads every row of both files (a
 * merge of the two tables' scans in primary-key order, SQLite's EXCEPT: memory bounded by its page
 * cache), which must not hold up the event loop of a server that ingests. Runs after the writers closed the new
 * file and before it is renamed over the old one.
 */

import { existsSync } from 'node:fs'
import { parentPort, workerData } from 'node:worker_threads'
import type { HistoryRetention, ManifestChanges } from '../../db/history.js'
import Database from '../../db/sqlite/driver.js'
import { attachedGeneration, recordSqliteHistory, writeManifestChanges } from '../../db/sqlite/history.js'

export interface HistoryWorkerData {
  buildPath: string
  /** The database being replaced (may not exist). */
  dbPath: string
  generation: string
  retention: HistoryRetention
}

export type HistoryWorkerReport =
  | { type: 'done'; changes: ManifestChanges | null; reset: string | null }
  | { type: 'error'; error: { message: string; code?: string } }

function run(d: HistoryWorkerData): HistoryWorkerReport {
  const db = new Database(d.buildPath, { fileMustExist: true })
  try {
    db.pragma('cache_size = -131072')
    let previous: { generation: string; madeAt: string } | null = null
    try {
      // ATTACH would create a missing file: there is no previous generation to compare with then.
      if (!existsSync(d.dbPath)) throw new Error('no previous database')
      db.prepare('ATTACH ? AS prev').run(d.dbPath)
      // Each file is read in key order, the other probed in the same order: a cache and a memory
      // map per file keep those probes off the disk.
      db.pragma('prev.cache_size = -131072')
      db.pragma('main.mmap_size = 1073741824')
      db.pragma('prev.mmap_size = 1073741824')
      previous = attachedGeneration(db)
    } catch {
      previous = null
    }
    const record = (prev: typeof previous) =>
      db.transaction(() => {
        const changes = recordSqliteHistory(db, {
          generation: d.generation,
          previous: prev,
          carryForward: true,
          retention: d.retention,
        })
        writeManifestChanges(db, changes)
        return changes
      })()
    let reset: string | null = null
    let changes: ManifestChanges | null
    try {
      changes = record(previous)
    } catch (err) {
      // The old file cannot be compared (another schema, damaged): the history starts again here.
      if (previous === null) throw err
      reset = (err as Error).message
      changes = record(null)
    }
    return { type: 'done', changes, reset }
  } finally {
    db.close()
  }
}

try {
  parentPort!.postMessage(run(workerData as HistoryWorkerData))
} catch (err) {
  const e = err as { message: string; code?: string }
  parentPort!.postMessage({ type: 'error', error: { message: e.message, code: e.code } })
}
