/**
 * What an ingest did, stored as JSON in the `manifest` meta row and returned as the summary: the
 * API reads it to say which files were loaded, when, and how clean they were.
 */

import type { DatasetName } from '../datasets/catalogue.js'
import type { ManifestChanges } from '../db/history.js'

export interface SourceFile {
  dataset: DatasetName
  /** The file as given (path under the data directory). */
  file: string
  size: number
  /** Modification time in whole milliseconds (mtimeOf). */
  mtime: string
}

/**
 * A file's modification time as the manifest and the kept sources record it: whole milliseconds,
 * truncated. One function for every writer and reader, as `stats.mtime` rounds where
 * `new Date(mtimeMs)` truncates, and the two differ for half the files a fast writer leaves.
 */
export function mtimeOf(stats: { mtimeMs: number }): string {
  return new Date(Math.trunc(stats.mtimeMs)).toISOString()
}

export interface FileCounts {
  /** Data lines read (header excluded). */
  read: number
  /** Rows stored (for title.ratings: ratings kept for the merge into titles). */
  kept: number
  /** Bad lines skipped. */
  skipped: number
  /** Rows dropped because another row had the same key. */
  duplicates: number
  /** References to a title or person missing from the loaded files (null: the target file was not loaded). */
  dangling: number | null
  /** Rows found below their predecessor's key: the file was not sorted as IMDb documents. */
  outOfOrder: number
  /** Time from the first batch to the last, on the writer. */
  ms: number
}

export interface TableStat {
  rows: number
  /** Bytes on disk from dbstat (tables with their indexes), or null when dbstat is not compiled in. */
  bytes: number | null
}

export interface FileSummary extends SourceFile, FileCounts {}

export interface IngestSummary {
  schemaVersion: number
  generation: string
  /** Datasets loaded, in load order. */
  loaded: DatasetName[]
  /** Datasets left out (`only`): their tables exist and are empty. */
  notLoaded: DatasetName[]
  files: FileSummary[]
  tables: Record<string, TableStat>
  /** Milliseconds per phase: load (all files), fts, indexes, analyze, sizes. */
  timings: Record<string, number>
  startedAt: string
  finishedAt: string
  durationMs: number
  /** Totals over all files. */
  totals: { read: number; kept: number; skipped: number; duplicates: number; dangling: number }
  /**
   * What changed against the previous generation, per entity (src/db/history.ts); null for a first
   * generation, or one whose previous generation could not be compared.
   */
  changes?: ManifestChanges | null
}

/** The counts of every file, added up. */
export function totalsOf(files: readonly FileSummary[]): IngestSummary['totals'] {
  const totals = { read: 0, kept: 0, skipped: 0, duplicates: 0, dangling: 0 }
  for (const f of files) {
    totals.read += f.read
    totals.kept += f.kept
    totals.skipped += f.skipped
    totals.duplicates += f.duplicates
    totals.dangling += f.dangling ?? 0
  }
  return totals
}

export function buildManifest(args: {
  schemaVersion: number
  generation: string
  loaded: DatasetName[]
  notLoaded: DatasetName[]
  sources: SourceFile[]
  counts: ReadonlyMap<DatasetName, FileCounts>
  tables: Record<string, TableStat>
  timings: Record<string, number>
  startedAt: Date
}): IngestSummary {
  const finished = new Date()
  const files = args.sources.map((s) => ({ ...s, ...args.counts.get(s.dataset)! }))
  return {
    schemaVersion: args.schemaVersion,
    generation: args.generation,
    loaded: args.loaded,
    notLoaded: args.notLoaded,
    files,
    tables: args.tables,
    timings: args.timings,
    startedAt: args.startedAt.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - args.startedAt.getTime(),
    totals: totalsOf(files),
  }
}
