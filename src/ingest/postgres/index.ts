/**
 * Loads the IMDb dataset files into a new PostgreSQL schema and swaps it in atomically: the
 * pipeline (../pipeline.ts) driving the PostgreSQL sink (sink.ts, which describes the steps).
 */

import type { DatasetName } from '../../datasets/catalogue.js'
import type { HistoryRetention } from '../../db/history.js'
import { checkSchemaPrefix, DEFAULT_SCHEMA_PREFIX } from '../../db/postgres/schema.js'
import type { IngestProgress } from '../events.js'
import { datasetsToLoad, requireOption } from '../load-order.js'
import type { IngestSummary } from '../manifest.js'
import { runIngest } from '../pipeline.js'
import { PostgresSink } from './sink.js'

export interface PostgresIngestOptions {
  /** Directory holding the `*.tsv.gz` files. */
  dataDir: string
  /** `postgres://user@host:port/database` */
  databaseUrl: string
  /** Namespace: the control schema's name and the prefix of generation schemas (default `marquee`). */
  schemaPrefix?: string
  /** Load only these datasets (default: all seven). */
  only?: DatasetName[]
  /** A bad line fails the ingest instead of being skipped. */
  strict?: boolean
  onProgress?: (e: IngestProgress) => void
  /** Aborting stops the ingest, drops the new schema and rejects with INGEST_ABORTED. */
  signal?: AbortSignal
  /** Connections building indexes at once (default: the number of cores, at least 2). */
  indexConcurrency?: number
  /** `maintenance_work_mem` of the index builds (default 64MB). */
  maintenanceWorkMem?: string
  /**
   * Called with each statement of the index phase and its milliseconds on its connection, once it
   * is done (benchmarks: `npm run bench:ingest:postgres -- --profile`).
   */
  onStatement?: (sql: string, ms: number) => void
  /** How much change history the control schema keeps (default: 7 generations, any age). */
  history?: HistoryRetention
}

/** Loads the dataset files into a new schema and makes it the served generation (see sink.ts). */
export async function ingestPostgres(opts: PostgresIngestOptions): Promise<IngestSummary> {
  requireOption('dataDir', opts.dataDir)
  requireOption('databaseUrl', opts.databaseUrl)
  const datasets = datasetsToLoad(opts.only)
  const prefix = checkSchemaPrefix(opts.schemaPrefix ?? DEFAULT_SCHEMA_PREFIX)
  const sink = new PostgresSink({
    databaseUrl: opts.databaseUrl,
    prefix,
    indexConcurrency: opts.indexConcurrency,
    maintenanceWorkMem: opts.maintenanceWorkMem,
    onStatement: opts.onStatement,
    history: opts.history,
  })
  return runIngest(sink, datasets, opts)
}
