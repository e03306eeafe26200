/**
 * Worker entry: gunzips and parses dataset files off the writer's thread and posts columnar batches
 * (transferred, not copied) to the port it is given, at most `window` unacknowledged at a time: when
 * the window is full it pauses the gunzip stream, which pauses the file stream.
 */

import { type MessagePort, parentPort } from 'node:worker_threads'
import { AckWindow } from './ack-window.js'
import type { DatasetName } from './catalogue.js'
import { DatasetError, TsvParser, transferList } from './parse.js'
import { openGzip, statDataset, streamError } from './reader.js'

export interface ParseJob {
  type: 'parse'
  file: string
  dataset: DatasetName
  /** Where batches go; the receiver answers each with `{ type: 'ack' }`. */
  port: MessagePort
  strict: boolean
  batchRows: number
  window: number
  /** Batches carry text as UTF-8 bytes (see ColumnarBatch.utf8). */
  raw: boolean
}

/** Messages on the job's port. */
export type ParseMessage =
  | { type: 'batch'; batch: import('./parse.js').ColumnarBatch }
  | { type: 'end'; stats: import('./parse.js').ParseStats }
  | { type: 'error'; error: import('./parse.js').SerializedDatasetError }

/** Messages to the parent. */
export type ParseReport =
  | { type: 'progress'; dataset: DatasetName; bytesRead: number; bytesTotal: number; rows: number }
  | { type: 'bad-line'; dataset: DatasetName; file: string; line: number; reason: string }
  | { type: 'done'; dataset: DatasetName; bytesTotal: number }
  | { type: 'failed'; dataset: DatasetName; error: import('./parse.js').SerializedDatasetError }

/** Bad lines reported one by one per file; the rest are only counted. */
const REPORTED_BAD_LINES = 100

const parent = parentPort!

parent.on('message', (job: ParseJob) => {
  run(job).catch((err) => {
    const error = streamError(job.file, job.dataset, err).toJSON()
    job.port.postMessage({ type: 'error', error } satisfies ParseMessage)
    parent.postMessage({ type: 'failed', dataset: job.dataset, error } satisfies ParseReport)
  })
})

async function run(job: ParseJob): Promise<void> {
  const { size } = await statDataset(job.file, job.dataset)
  const port = job.port
  let reported = 0
  const acks = new AckWindow(job.window)
  port.on('message', (m: { type: string }) => {
    if (m.type === 'ack') acks.acked()
  })
  const parser = new TsvParser(job.file, job.dataset, {
    batchRows: job.batchRows,
    strict: job.strict,
    dedupe: true,
    raw: job.raw,
    onBatch: (batch) => {
      acks.sent()
      port.postMessage({ type: 'batch', batch } satisfies ParseMessage, transferList(batch))
    },
    onBadLine: (bad) => {
      if (reported++ < REPORTED_BAD_LINES) {
        parent.postMessage({
          type: 'bad-line',
          dataset: job.dataset,
          file: job.file,
          ...bad,
        } satisfies ParseReport)
      }
    },
  })
  const { input, gunzip } = openGzip(job.file)
  let lastReport = 0
  try {
    for await (const chunk of gunzip) {
      parser.push(chunk as Buffer)
      const now = performance.now()
      if (now - lastReport > 100) {
        lastReport = now
        parent.postMessage({
          type: 'progress',
          dataset: job.dataset,
          bytesRead: input.bytesRead,
          bytesTotal: size,
          rows: parser.stats.rows,
        } satisfies ParseReport)
      }
      // Back-pressure: leaving this loop body late keeps the stream paused.
      await acks.room()
    }
    parser.end()
  } catch (err) {
    throw err instanceof DatasetError ? err : streamError(job.file, job.dataset, err)
  } finally {
    input.destroy()
    gunzip.destroy()
  }
  port.postMessage({ type: 'end', stats: parser.stats } satisfies ParseMessage)
  parent.postMessage({
    type: 'progress',
    dataset: job.dataset,
    bytesRead: size,
    bytesTotal: size,
    rows: parser.stats.rows,
  } satisfies ParseReport)
  parent.postMessage({ type: 'done', dataset: job.dataset, bytesTotal: size } satisfies ParseReport)
  // The receiver closes the port once it has read 'end'.
}
