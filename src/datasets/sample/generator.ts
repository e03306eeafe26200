/**
 * The deterministic sample generator: the seven IMDb dataset files, in IMDb's format (gzipped
 * UTF-8 TSV, catalogue headers, `\N` nulls, no quoting, rows in IMDb's order), shaped like the real
 * dumps (sparse 7- and 8-digit ids, Zipf-like popularity, series and episodes, dangling
 * references, duplicate lines, quotes/backslashes/non-Latin text) and byte-for-byte identical for
 * the same `(titles, seed)`.
 *
 * A numeric skeleton ({@link buildWorld}) is built first on the calling thread; the files are then
 * rendered from it concurrently, on worker threads for large samples.
 */
import { mkdir, stat } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Worker } from 'node:worker_threads'
import { spawnWorker, workerUrl } from '../../lib/worker-url.js'
import { DATASET_NAMES, type DatasetName, datasetSpec } from '../catalogue.js'
import type { SampleWorkerData, SampleWorkerMessage } from './sample.worker.js'
import { buildWorld, MAX_TITLES, MIN_TITLES, type World } from './world.js'
import { type SampleFileSummary, writeDataset } from './write.js'

export { WELL_KNOWN, WELL_KNOWN_NAMES, WELL_KNOWN_TITLES } from './well-known.js'
export { MAX_TITLES, MIN_TITLES } from './world.js'
export type { SampleFileSummary } from './write.js'

/** The seed used when none is given. */
export const DEFAULT_SEED = 1
/** The size of the sample `ensureSample` makes for a fresh clone. */
export const DEFAULT_SAMPLE_TITLES = 20_000
/** From this many titles on, files are rendered on worker threads by default. */
const WORKER_THRESHOLD = 50_000

export interface SampleProgress {
  /** The file being written, e.g. `title.principals.tsv.gz`. */
  readonly file: string
  /** Data rows written to it so far. */
  readonly rows: number
}

export interface SampleOptions {
  /** Rows of title.basics; every other file is proportional (names 1.25x, principals ~8.9x, ...). */
  readonly titles: number
  /** Directory to write into; created if missing. Existing sample files are replaced. */
  readonly out: string
  /** Any integer from 0 to 2^32-1; the default is {@link DEFAULT_SEED}. */
  readonly seed?: number
  /** Called about every MiB of each file, and once when the file is complete. */
  readonly onProgress?: (p: SampleProgress) => void
  /**
   * Worker threads to render files on; 0 renders on the calling thread. Defaults to
   * min(2, available cores) from 50,000 titles up, else 0. Output bytes never depend on it.
   */
  readonly workers?: number
  /** Run the worker threads at a lower CPU priority (a server generating while it answers). */
  readonly background?: boolean
}

export interface SampleSummary {
  readonly dir: string
  readonly titles: number
  readonly seed: number
  /** One entry per file, in catalogue order. */
  readonly files: readonly SampleFileSummary[]
  /** Data rows over all files. */
  readonly rows: number
  /** Gzipped bytes over all files. */
  readonly bytes: number
}

/** Files in descending rendering cost, so the biggest start first. */
const BY_COST: readonly DatasetName[] = [
  'title.principals',
  'title.akas',
  'name.basics',
  'title.basics',
  'title.crew',
  'title.episode',
  'title.ratings',
]

/**
 * Writes a sample of `titles` titles into `out`: all seven `*.tsv.gz` files, each written under a
 * temporary name and renamed once complete. Resolves with per-file row counts and sizes.
 */
export async function generateSample(opts: SampleOptions): Promise<SampleSummary> {
  const { titles, out, onProgress } = opts
  const seed = opts.seed ?? DEFAULT_SEED
  if (!Number.isInteger(titles) || titles < MIN_TITLES || titles > MAX_TITLES) {
    throw new RangeError(`titles must be an integer from ${MIN_TITLES} to ${MAX_TITLES}, got ${titles}`)
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RangeError(`seed must be an integer from 0 to 4294967295, got ${seed}`)
  }
  const workers = opts.workers ?? (titles >= WORKER_THRESHOLD ? Math.min(2, os.availableParallelism()) : 0)
  if (!Number.isInteger(workers) || workers < 0) throw new RangeError(`workers must be >= 0, got ${workers}`)

  const dir = path.resolve(out)
  await mkdir(dir, { recursive: true })
  const world = buildWorld(titles, seed)
  const progress = (name: DatasetName, rows: number): void =>
    onProgress?.({ file: datasetSpec(name).file, rows })

  const written =
    workers === 0
      ? await Promise.all(
          BY_COST.map((name) => writeDataset(world, name, dir, (rows) => progress(name, rows))),
        )
      : await writeInWorkers(world, dir, Math.min(workers, BY_COST.length), progress, opts.background)

  const byName = new Map(written.map((f) => [f.name, f]))
  const files = DATASET_NAMES.map((name) => byName.get(name)!)
  for (const f of files) progress(f.name, f.rows)
  return {
    dir,
    titles,
    seed,
    files,
    rows: files.reduce((sum, f) => sum + f.rows, 0),
    bytes: files.reduce((sum, f) => sum + f.bytes, 0),
  }
}

/** Hands files to `count` workers, biggest first, the next to whichever worker is free. */
async function writeInWorkers(
  world: World,
  dir: string,
  count: number,
  progress: (name: DatasetName, rows: number) => void,
  background = false,
): Promise<SampleFileSummary[]> {
  const queue = [...BY_COST]
  const results: SampleFileSummary[] = []
  const data: SampleWorkerData = { world, dir }
  const pool: Worker[] = []
  try {
    await new Promise<void>((resolve, reject) => {
      let failed = false
      const fail = (err: Error): void => {
        if (!failed) {
          failed = true
          reject(err)
        }
      }
      const feed = (w: Worker): void => {
        const name = queue.shift()
        if (name) w.postMessage(name)
        else if (results.length === BY_COST.length) resolve()
      }
      for (let k = 0; k < count; k++) {
        const w = spawnWorker(workerUrl('./sample.worker.js', import.meta.url), {
          workerData: data,
          background,
        })
        pool.push(w)
        w.on('message', (m: SampleWorkerMessage) => {
          if (m.type === 'progress') progress(m.name, m.rows)
          else if (m.type === 'error') fail(new Error(`sample ${m.name}: ${m.message}`))
          else {
            results.push(m.summary)
            feed(w)
          }
        })
        w.on('error', fail)
        w.on('exit', (code) => {
          if (results.length < BY_COST.length) fail(new Error(`sample worker exited early with code ${code}`))
        })
        feed(w)
      }
    })
  } finally {
    await Promise.all(pool.map((w) => w.terminate()))
  }
  return results
}

/**
 * Generates the default sample into `dir` unless all seven files are already there (say, for
 * `npm start` on a fresh clone). Resolves with whether it generated.
 */
export async function ensureSample(dir: string, titles = DEFAULT_SAMPLE_TITLES): Promise<boolean> {
  const present = await Promise.all(
    DATASET_NAMES.map((name) =>
      stat(path.join(dir, datasetSpec(name).file)).then(
        (s) => s.isFile(),
        () => false,
      ),
    ),
  )
  if (present.every(Boolean)) return false
  // A server generates this while it already listens: render on a worker, not the event loop.
  await generateSample({ titles, out: dir, workers: 1, background: true })
  return true
}
