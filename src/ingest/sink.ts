/**
 * The one interface between the ingest pipeline (pipeline.ts) and a database: a RowSink builds a
 * new generation beside the served one, fills it, and either makes it the served one or removes
 * it. Implementations side by side: sqlite/sink.ts and postgres/sink.ts.
 *
 * Rows reach a sink's tables on the thread that writes them, without a detour through this one:
 * the SQLite writer threads read the parse workers' batches from their ports (parsers.ts), the
 * PostgreSQL sink parses and encodes straight into its COPY streams.
 */

import type { DatasetName } from '../datasets/catalogue.js'
import type { FileProgress } from './file-progress.js'
import type { IngestSummary, SourceFile } from './manifest.js'

/** What the pipeline decided, for a sink to build. */
export interface IngestPlan {
  /** Directory holding the `*.tsv.gz` files. */
  dataDir: string
  /** The datasets to load, in load order (load-order.ts). */
  datasets: DatasetName[]
  sources: SourceFile[]
  /** The new generation's id: sortable by time, unique across hosts and runs. */
  generation: string
  startedAt: Date
  /** A bad line fails the ingest instead of being skipped. */
  strict: boolean
  /** Run threads at a lower CPU priority. */
  background: boolean
  /** Aborted on a signal, the caller's abort, or the first failure. */
  signal: AbortSignal
  progress: FileProgress
}

export interface RowSink {
  /** Creates the new generation: every table, empty and unindexed. Nothing is served from it yet. */
  open(plan: IngestPlan): Promise<void>
  /** Streams every planned file into its tables; resolves once all are loaded. */
  load(): Promise<void>
  /** Builds what the tables need to be served (indexes, search, statistics) and writes the manifest. */
  finish(): Promise<IngestSummary>
  /** Makes the new generation the served one. */
  swap(): Promise<void>
  /** After a failure: stops all work and removes the new generation. The served one is untouched. */
  abort(reason: unknown): Promise<void>
  /** Frees the threads and connections it holds, after success or failure. */
  close(): Promise<void>
}
