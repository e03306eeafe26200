/**
 * Parse workers (src/datasets/parse.worker.ts) for a set of lanes: one worker per lane, fed that
 * lane's files in load order, so the file a writer waits for is always being parsed and the next
 * one waits in a bounded window. Batches go straight to each dataset's port; this thread only
 * sees progress, bad lines and failures.
 */

import type { MessagePort, Worker } from 'node:worker_threads'
import type { DatasetName } from '../datasets/catalogue.js'
import { DatasetError } from '../datasets/parse.js'
import type { ParseJob, ParseReport } from '../datasets/parse.worker.js'
import { datasetPath } from '../datasets/reader.js'
import { spawnWorker, workerUrl } from '../lib/worker-url.js'
import { IngestError } from './errors.js'
import type { IngestPlan } from './sink.js'

/** Rows per batch sent from a parser to a writer. */
export const BATCH_ROWS = 4096
/** Unacknowledged batches per file: bounds memory at about WINDOW * batch size per parser. */
export const WINDOW = 8

export interface ParserLanes {
  lanes: DatasetName[][]
  /** Where each dataset's batches go. */
  ports: Map<DatasetName, MessagePort>
  /** Whether a dataset's batches carry text as UTF-8 bytes (ColumnarBatch.utf8). */
  raw: (dataset: DatasetName) => boolean
  /** Gets the first failure. */
  fail: (err: unknown) => void
}

/** Starts one parse worker per lane; returns them, for the caller to terminate. */
export function startParsers(plan: IngestPlan, p: ParserLanes): Worker[] {
  return p.lanes.map((order) => {
    const jobs = order.map(
      (dataset): ParseJob => ({
        type: 'parse',
        file: datasetPath(plan.dataDir, dataset),
        dataset,
        port: p.ports.get(dataset)!,
        strict: plan.strict,
        batchRows: BATCH_ROWS,
        window: WINDOW,
        raw: p.raw(dataset),
      }),
    )
    const w = spawnWorker(workerUrl('../datasets/parse.worker.js', import.meta.url), {
      background: plan.background,
    })
    w.on('error', (err) =>
      p.fail(new IngestError('INGEST_FAILED', `ingest parser crashed: ${err.message}`, { cause: err })),
    )
    const dispatch = () => {
      const job = jobs.shift()
      if (job) w.postMessage(job, [job.port])
    }
    w.on('message', (m: ParseReport) => onReport(plan, m, dispatch, p.fail))
    dispatch()
    return w
  })
}

function onReport(plan: IngestPlan, m: ParseReport, next: () => void, fail: (err: unknown) => void): void {
  switch (m.type) {
    case 'progress': {
      const f = plan.progress.of(m.dataset)
      // Threads race: the writer may have finished the file before this report arrives.
      if (f.done) break
      f.bytesRead = m.bytesRead
      f.rowsRead = m.rows
      plan.progress.emit(m.dataset)
      break
    }
    case 'bad-line':
      plan.progress.badLine(m.dataset, m.line, m.reason, m.file)
      break
    case 'done':
      next()
      break
    case 'failed':
      fail(DatasetError.fromJSON(m.error))
      break
  }
}
