/**
 * Loads the IMDb dataset files into a new SQLite database and swaps it into place: the pipeline
 * (pipeline.ts) driving the SQLite sink (sqlite/sink.ts). ingestPostgres (postgres/index.ts) is
 * the same pipeline with the PostgreSQL sink.
 *
 * Subsets (`only`): tables of datasets left out exist and are empty, and the manifest lists the
 * datasets loaded and not loaded. title.ratings is merged into titles, so without title.basics the
 * ratings only feed names.popularity; without title.ratings every title is unrated (average_rating
 * NULL, num_votes 0) and popularity is 0. title_genres comes from title.basics and is empty without
 * it. Dangling references are only counted against files that were loaded (null otherwise).
 */

import { resolve } from 'node:path'
import type { DatasetName } from '../datasets/catalogue.js'
import type { HistoryRetention } from '../db/history.js'
import type { IngestProgress } from './events.js'
import { datasetsToLoad, requireOption } from './load-order.js'
import type { IngestSummary } from './manifest.js'
import { runIngest } from './pipeline.js'
import { SqliteSink } from './sqlite/sink.js'

export { IngestError, type IngestErrorCode } from './errors.js'
export type { IngestPhase, IngestProgress } from './events.js'
export type { FileCounts, FileSummary, IngestSummary, TableStat } from './manifest.js'

export interface IngestOptions {
  /** Directory holding the `*.tsv.gz` files. */
  dataDir: string
  /** The database to create or replace. */
  dbPath: string
  /** Load only these datasets (default: all seven). */
  only?: DatasetName[]
  /** A bad line fails the ingest instead of being skipped. */
  strict?: boolean
  onProgress?: (e: IngestProgress) => void
  /** Aborting stops the ingest, deletes the partial file and rejects with INGEST_ABORTED. */
  signal?: AbortSignal
  /** Run the threads at a lower CPU priority (an ingest inside a server that is answering). */
  background?: boolean
  /** How much change history the new file keeps (default: 7 generations, any age). */
  history?: HistoryRetention
}

/** Loads the dataset files into a new database at dbPath (see the module comment). */
export async function ingest(opts: IngestOptions): Promise<IngestSummary> {
  requireOption('dataDir', opts.dataDir)
  requireOption('dbPath', opts.dbPath)
  const datasets = datasetsToLoad(opts.only)
  return runIngest(new SqliteSink(resolve(opts.dbPath), opts.history), datasets, opts)
}
