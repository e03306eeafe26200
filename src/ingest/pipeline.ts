/**
 * The ingest, written once for every backend: which files in which order, their sizes and times
 * for the manifest, the new generation's id, cancellation (the caller's signal, SIGINT, SIGTERM),
 * progress events, and a RowSink (sink.ts) driven through open, load, finish and swap; on any
 * failure the sink aborts, leaving the served generation as it was.
 */

import { randomBytes } from 'node:crypto'
import type { DatasetName } from '../datasets/catalogue.js'
import { datasetPath, statDataset } from '../datasets/reader.js'
import { IngestError } from './errors.js'
import type { IngestProgress } from './events.js'
import { FileProgress } from './file-progress.js'
import { type IngestSummary, mtimeOf, type SourceFile } from './manifest.js'
import type { RowSink } from './sink.js'

export interface PipelineOptions {
  dataDir: string
  strict?: boolean
  onProgress?: (e: IngestProgress) => void
  signal?: AbortSignal
  background?: boolean
}

/** Loads `datasets` (in load order) through `sink` and makes the result the served generation. */
export async function runIngest(
  sink: RowSink,
  datasets: DatasetName[],
  opts: PipelineOptions,
): Promise<IngestSummary> {
  const startedAt = new Date()
  const sources = await statSources(opts.dataDir, datasets)
  const cancel = cancellation(opts.signal)
  const progress = new FileProgress(sources, opts.onProgress)
  try {
    await sink.open({
      dataDir: opts.dataDir,
      datasets,
      sources,
      generation: generationId(startedAt),
      startedAt,
      strict: opts.strict ?? false,
      background: opts.background ?? false,
      signal: cancel.signal,
      progress,
    })
    await sink.load()
    const summary = await sink.finish()
    progress.phase('swap')
    await sink.swap()
    return summary
  } catch (err) {
    // An abort can surface as whatever error it caused (a terminated session, a killed thread).
    const reason = cancel.signal.aborted ? cancel.signal.reason : err
    cancel.abort(err)
    await sink.abort(reason)
    throw reason
  } finally {
    await sink.close()
    cancel.dispose()
  }
}

async function statSources(dataDir: string, datasets: DatasetName[]): Promise<SourceFile[]> {
  return Promise.all(
    datasets.map(async (dataset) => {
      const file = datasetPath(dataDir, dataset)
      const s = await statDataset(file, dataset)
      return { dataset, file, size: s.size, mtime: mtimeOf(s) }
    }),
  )
}

function generationId(now: Date): string {
  // Sortable by time, unique across hosts and runs.
  return `${now.toISOString().replace(/[-:.]/g, '')}-${randomBytes(6).toString('hex')}`
}

/** One signal for the ingest: aborted by the caller's, by SIGINT or SIGTERM, or by a failure. */
function cancellation(outer: AbortSignal | undefined) {
  const local = new AbortController()
  const onSignal = () => local.abort(new IngestError('INGEST_ABORTED', 'ingest interrupted by a signal'))
  const onAbort = () =>
    local.abort(new IngestError('INGEST_ABORTED', 'ingest aborted', { cause: outer?.reason }))
  if (outer?.aborted) onAbort()
  outer?.addEventListener('abort', onAbort, { once: true })
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  return {
    signal: local.signal,
    abort: (reason: unknown) => {
      if (!local.signal.aborted) local.abort(reason)
    },
    dispose: () => {
      outer?.removeEventListener('abort', onAbort)
      process.removeListener('SIGINT', onSignal)
      process.removeListener('SIGTERM', onSignal)
    },
  }
}
