/** What an update is asked to do, what it reports while it runs, and what it returns. */
import type { DatasetName } from '../datasets/catalogue.js'
import type { HistoryRetention } from '../db/history.js'
import type { IngestProgress, IngestSummary } from '../ingest/index.js'
import type { RowCounts } from './diff.js'

export type UpdatePhase =
  | 'prepare'
  | 'diff'
  | 'copy'
  | 'apply'
  | 'fts'
  | 'history'
  | 'commit'
  | 'swap'
  | 'keep'

export type UpdateProgress =
  | {
      type: 'file'
      dataset: DatasetName
      /** Compressed bytes of the new file read so far, of bytesTotal. */
      bytesRead: number
      bytesTotal: number
      done: boolean
      /** Rows inserted, changed and deleted (when done). */
      counts: RowCounts | null
      elapsedMs: number
    }
  | { type: 'phase'; phase: UpdatePhase }
  /** The refresh rebuilds the database in full instead, for this reason. */
  | { type: 'full'; reason: string }
  /** Progress of the full rebuild. */
  | { type: 'ingest'; event: IngestProgress }

export interface UpdateOptions {
  /** The database to refresh (or build). */
  dbPath: string
  /** Directory of the new `.tsv.gz` files. */
  dataDir: string
  /** Rebuild in full (ingest) instead of applying the differences. */
  full?: boolean
  onProgress?: (e: UpdateProgress) => void
  /** Aborting stops the refresh, removes its temporary files and rejects with UPDATE_ABORTED. */
  signal?: AbortSignal
  /** Diff threads (default: the cores, at most 4). */
  threads?: number
  /**
   * Changes a file may have before a full rebuild is preferred, as a fraction of its rows
   * (default 0.25).
   */
  maxChangeRatio?: number
  /** Rows of changes per chunk handed from a diff to the apply while the diff goes on. */
  chunkRows?: number
  /** How much change history the database keeps (default: 7 generations, any age). */
  history?: HistoryRetention
}

export interface FileChange extends RowCounts {
  dataset: DatasetName
  /** The new file. */
  file: string
  /** Data lines of the new file. */
  read: number
  /** Milliseconds the diff of this file took (on its thread). */
  ms: number
}

export interface UpdateSummary {
  /** `incremental`: the changes were applied; `full`: rebuilt; `unchanged`: the files are those of the database. */
  mode: 'incremental' | 'full' | 'unchanged'
  /** Why the database was rebuilt in full, or null. */
  reason: string | null
  generation: string
  previousGeneration: string | null
  /** Per file: rows inserted, changed, deleted (incremental only). */
  files: FileChange[]
  /** Milliseconds per phase. */
  timings: Record<string, number>
  durationMs: number
  /** The manifest of the new generation (an IngestSummary, plus `update` for a refresh). */
  manifest: IngestSummary | null
}

/** The database being refreshed: its generation and manifest. */
export interface Base {
  generation: string
  schemaVersion: number | null
  manifest: IngestSummary | null
  loaded: DatasetName[]
}
