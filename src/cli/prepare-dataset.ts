import { existsSync } from 'node:fs'
import path from 'node:path'
import type { FastifyBaseLogger } from 'fastify'
import type { Config } from '../config.js'
import { DATASET_NAMES, datasetSpec } from '../datasets/catalogue.js'
import { DatasetError } from '../datasets/parse.js'
import { ensureSample } from '../datasets/sample/generator.js'
import { type IngestProgress, type IngestSummary, ingest } from '../ingest/index.js'
import type { Metrics } from '../plugins/metrics/index.js'

const hasAllFiles = (dir: string) =>
  DATASET_NAMES.every((n) => existsSync(path.join(dir, datasetSpec(n).file)))

/**
 * Where the first database comes from: the configured IMDb files when they are there; otherwise,
 * unless a data directory was named explicitly, the bundled sample (generated once, no download).
 */
export function datasetSource(config: Config): { dir: string; sample: boolean } {
  if (hasAllFiles(config.dataDir)) return { dir: config.dataDir, sample: false }
  if (config.dataDirExplicit) {
    throw new DatasetError(
      'DATASET_MISSING',
      config.dataDir,
      `${config.dataDir} does not hold the seven IMDb .tsv.gz files; run \`marquee download --dir ${config.dataDir}\`, or leave out --data/MARQUEE_DATA to serve the bundled sample`,
    )
  }
  return { dir: config.sampleDir, sample: true }
}

/** Builds the dataset database at config.dbPath for a server that has none, logging progress. */
export async function buildFirstDataset(
  config: Config,
  log: FastifyBaseLogger,
  metrics?: Metrics,
  signal?: AbortSignal,
): Promise<IngestSummary> {
  const source = datasetSource(config)
  if (source.sample && (await ensureSample(source.dir)))
    log.info({ dir: source.dir }, 'generated the bundled sample dataset')
  log.info(
    { from: source.dir, db: config.databaseUrl ? `postgres (${config.databaseSchema})` : config.dbPath },
    'building the dataset database',
  )
  const onProgress = (e: IngestProgress) => {
    if (e.type === 'file') {
      metrics?.ingestRows.set({ file: e.dataset }, e.rowsRead)
      metrics?.ingestBytes.set({ file: e.dataset }, e.bytesRead)
      metrics?.ingestSize.set({ file: e.dataset }, e.bytesTotal)
      if (e.done) log.info({ file: e.dataset, rows: e.rowsWritten, ms: Math.round(e.elapsedMs) }, 'loaded')
    } else if (e.type === 'bad-line') {
      log.warn({ file: e.file, line: e.line, reason: e.reason }, 'skipped a malformed line')
    } else {
      log.info({ phase: e.phase }, 'ingest phase')
    }
  }
  if (config.databaseUrl) {
    const { ingestPostgres } = await import('../ingest/postgres/index.js')
    return ingestPostgres({
      dataDir: source.dir,
      databaseUrl: config.databaseUrl,
      schemaPrefix: config.databaseSchema,
      onProgress,
      signal,
    })
  }
  const summary = await ingest({
    dataDir: source.dir,
    dbPath: config.dbPath,
    onProgress,
    signal,
    background: true,
  })
  return summary
}
