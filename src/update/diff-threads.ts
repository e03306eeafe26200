/**
 * The diffs of a refresh, on worker threads (diff.worker.ts): jobs handed to the free threads in
 * DIFF_ORDER, results yielded as they complete, chunks included.
 */
import { availableParallelism } from 'node:os'
import type { Worker } from 'node:worker_threads'
import type { DatasetName } from '../datasets/catalogue.js'
import { DatasetError } from '../datasets/parse.js'
import { spawnWorker, workerUrl } from '../lib/worker-url.js'
import type { FileDiff, RatingsTable } from './diff.js'
import type { DiffJob, DiffReport } from './diff.worker.js'
import { Fallback, UpdateError } from './errors.js'
import type { KeptSources, StagedFiles } from './sources.js'
import type { UpdateOptions, UpdateProgress } from './types.js'

/**
 * Diff jobs in the order the threads take them: title.principals (about 40% of the work) on one,
 * the others on the other in about the same time; name.basics waits for title.ratings
 * (popularity), by then done.
 */
const DIFF_ORDER: readonly DatasetName[] = [
  'title.principals',
  'title.ratings',
  'title.akas',
  'name.basics',
  'title.basics',
  'title.crew',
  'title.episode',
]

/** Changes held for one file at most: past this a full rebuild is both cheaper and leaner. */
const MAX_CHANGED_BYTES = 256 << 20

/**
 * Runs the diff jobs on worker threads; yields each result as it completes. name.basics waits for
 * title.ratings, whose new table and changed votes it needs for popularity.
 */
export async function* runDiffs(
  datasets: readonly DatasetName[],
  kept: KeptSources,
  staged: StagedFiles,
  sizes: number[],
  opts: UpdateOptions,
  signal: AbortSignal,
  workers: Worker[],
  emit: (e: UpdateProgress) => void,
): AsyncGenerator<{ diff: FileDiff; ratings?: RatingsTable }> {
  const maxRatio = opts.maxChangeRatio ?? 0.25
  const order = DIFF_ORDER.filter((d) => datasets.includes(d))
  const fileOf = (list: { dataset: DatasetName; path: string }[], d: DatasetName) =>
    list.find((f) => f.dataset === d)!.path
  const sizeOf = (d: DatasetName) => sizes[datasets.indexOf(d)]
  const needsRatings = datasets.includes('title.ratings')
  const threads = Math.max(1, Math.min(opts.threads ?? Math.min(4, availableParallelism()), order.length))
  const results: { diff: FileDiff; ratings?: RatingsTable }[] = []
  let failure: unknown = null
  let wake: (() => void) | null = null
  const notify = () => {
    const w = wake
    wake = null
    w?.()
  }
  let ratingsCtx: { ratings: RatingsTable; changed: Uint8Array } | null = null
  const queue = [...order]
  const started = new Map<DatasetName, number>()
  const idle: Worker[] = []
  let running = 0
  let finished = 0

  const dispatch = () => {
    while (idle.length > 0 && queue.length > 0 && failure === null) {
      const i = queue.findIndex((d) => d !== 'name.basics' || !needsRatings || ratingsCtx !== null)
      if (i < 0) return
      const dataset = queue.splice(i, 1)[0]
      const w = idle.pop()!
      // About a quarter of the rows, in bytes: gzip shrinks these files about 4-5 times.
      const job: DiffJob = {
        type: 'diff',
        dataset,
        oldFile: fileOf(kept.files, dataset),
        newFile: fileOf(staged.files, dataset),
        maxChangedBytes: Math.min(MAX_CHANGED_BYTES, Math.max(32 << 20, sizeOf(dataset) * 5 * maxRatio)),
        trustOld: kept.sorted === true,
        chunkRows: opts.chunkRows,
        popularity: dataset === 'name.basics' && ratingsCtx ? ratingsCtx : undefined,
      }
      started.set(dataset, performance.now())
      running++
      w.postMessage(job)
    }
  }
  const onAbort = () => {
    failure ??= signal.reason ?? new Error('aborted')
    notify()
  }
  signal.addEventListener('abort', onAbort, { once: true })

  for (let i = 0; i < threads; i++) {
    const w = spawnWorker(workerUrl('./diff.worker.js', import.meta.url))
    workers.push(w)
    w.on('error', (err: Error) => {
      failure ??= new UpdateError('UPDATE_FAILED', `update diff worker crashed: ${err.message}`, {
        cause: err,
      })
      notify()
    })
    w.on('message', (m: DiffReport) => {
      switch (m.type) {
        case 'progress':
          emit({
            type: 'file',
            dataset: m.dataset,
            bytesRead: m.newBytes,
            bytesTotal: sizeOf(m.dataset),
            done: false,
            counts: null,
            elapsedMs: Math.round(performance.now() - (started.get(m.dataset) ?? 0)),
          })
          break
        case 'chunk':
          results.push({ diff: m.diff })
          notify()
          break
        case 'done': {
          running--
          finished++
          const d = m.diff
          if (d.dataset === 'title.ratings' && m.ratings) {
            ratingsCtx = { ratings: m.ratings, changed: bitsOf(d.votesChanged ?? new Float64Array(0)) }
          }
          emit({
            type: 'file',
            dataset: d.dataset,
            bytesRead: sizeOf(d.dataset),
            bytesTotal: sizeOf(d.dataset),
            done: true,
            counts: d.counts,
            elapsedMs: Math.round(performance.now() - (started.get(d.dataset) ?? 0)),
          })
          results.push({ diff: d, ratings: m.ratings })
          idle.push(w)
          dispatch()
          notify()
          break
        }
        case 'failed': {
          const e = m.error
          failure ??=
            e.name === 'DatasetError'
              ? DatasetError.fromJSON(e as never)
              : e.name === 'NotSortedError'
                ? new Fallback(`${e.message} (a merge needs sorted files)`)
                : e.name === 'TooManyChangesError'
                  ? new Fallback(`${e.message}: a full rebuild is cheaper`)
                  : new UpdateError('UPDATE_FAILED', `diff of ${m.dataset} failed: ${e.message}`)
          notify()
          break
        }
      }
    })
    idle.push(w)
  }
  try {
    dispatch()
    while (finished < order.length) {
      if (failure !== null) throw failure
      if (results.length > 0) {
        yield results.shift()!
        continue
      }
      await new Promise<void>((r) => (wake = r))
    }
    if (failure !== null) throw failure
    while (results.length > 0) yield results.shift()!
  } finally {
    signal.removeEventListener('abort', onAbort)
    if (running > 0 || failure !== null) await Promise.all(workers.map((w) => w.terminate()))
  }
}

/** A bit set of ids. */
function bitsOf(ids: Float64Array): Uint8Array {
  let max = 0
  for (const id of ids) if (id > max) max = id
  const bits = new Uint8Array((max >>> 3) + 1)
  for (const id of ids) bits[id >>> 3] |= 1 << (id & 7)
  return bits
}
