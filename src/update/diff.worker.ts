/**
 * Worker entry: diffs dataset files (diff.ts) off the applying thread, one job at a time, and posts
 * each result with its buffers transferred. A `ratings` job also reads the new title.ratings in full
 * (the table the ingest holds in memory for titles' ratings and names.popularity).
 */

import { parentPort } from 'node:worker_threads'
import type { DatasetName } from '../datasets/catalogue.js'
import { DatasetError } from '../datasets/parse.js'
import { diffFile, type FileDiff, type RatingsTable, TooManyChangesError } from './diff.js'
import { NotSortedError } from './groups.js'
import { readRatings } from './ratings.js'

export interface DiffJob {
  type: 'diff'
  dataset: DatasetName
  oldFile: string
  newFile: string
  maxChangedBytes: number
  /** The old file was checked to be sorted: equal stretches may be skipped unread. */
  trustOld: boolean
  chunkRows?: number
  popularity?: { ratings: RatingsTable; changed: Uint8Array }
}

export type DiffReport =
  | { type: 'progress'; dataset: DatasetName; oldBytes: number; newBytes: number }
  | { type: 'chunk'; diff: FileDiff }
  | { type: 'done'; diff: FileDiff; ratings?: RatingsTable }
  | {
      type: 'failed'
      dataset: DatasetName
      error: { name: string; message: string; code?: string; file?: string; line?: number }
    }

const parent = parentPort!

parent.on('message', (job: DiffJob) => {
  run(job).catch((err: unknown) => {
    const e = err as Error & { code?: string; file?: string; line?: number }
    const error =
      err instanceof DatasetError
        ? err.toJSON()
        : err instanceof NotSortedError || err instanceof TooManyChangesError
          ? { name: e.name, message: e.message }
          : { name: e?.name ?? 'Error', message: e?.stack ?? String(err) }
    parent.postMessage({ type: 'failed', dataset: job.dataset, error } satisfies DiffReport)
  })
})

async function run(job: DiffJob): Promise<void> {
  const [diff, ratings] = await Promise.all([
    diffFile(job.dataset, job.oldFile, job.newFile, {
      maxChangedBytes: job.maxChangedBytes,
      trustOld: job.trustOld,
      chunkRows: job.chunkRows,
      // Changes go out in chunks, applied while the diff goes on (title.ratings comes whole: the
      // other files' rows read the new ratings).
      onChunk:
        job.dataset === 'title.ratings'
          ? undefined
          : (part) => parent.postMessage({ type: 'chunk', diff: part } satisfies DiffReport, buffersOf(part)),
      popularity: job.popularity,
      onProgress: (p) =>
        parent.postMessage({ type: 'progress', dataset: job.dataset, ...p } satisfies DiffReport),
    }),
    job.dataset === 'title.ratings' ? readRatings(job.newFile) : undefined,
  ])
  const transfer = buffersOf(diff)
  if (diff.votesChanged) transfer.push(diff.votesChanged.buffer as ArrayBuffer)
  if (ratings)
    transfer.push(...([ratings.ids.buffer, ratings.votes.buffer, ratings.avg.buffer] as ArrayBuffer[]))
  parent.postMessage({ type: 'done', diff, ratings } satisfies DiffReport, transfer)
}

/** The buffers of a diff that postMessage can move instead of copy. */
function buffersOf(d: FileDiff): ArrayBuffer[] {
  const list = [d.deletes.buffer, d.inserts.buffer, d.updates.buffer, d.updateMasks.buffer] as ArrayBuffer[]
  if (d.popularity) list.push(d.popularity.buffer as ArrayBuffer)
  return list
}
