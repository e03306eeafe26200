/**
 * Loads the IMDb dataset files into a new SQLite database and swaps it into place.
 *
 * Threads: two writers, each owning its database files (the main one: titles, names, akas, FTS; a
 * side one built in parallel and copied in at the end: episodes, crew, principals), each fed by its
 * own parse worker that gunzips and parses; this thread only wires them and reports progress. The
 * big tables are written page by page rather than INSERTed (see sqlite-writer.ts and btree.ts).
 * Batches go from a parser to a writer over a dedicated MessagePort per file, at most WINDOW
 * unacknowledged per file, so memory stays bounded whatever the input size. On one core there is
 * a single writer.
 *
 * The database is built in `${dbPath}.building-<pid>` (side files: `${that}-<name>`) and renamed
 * over dbPath after it is closed; a failed or aborted ingest deletes those files and leaves dbPath
 * as it was.
 *
 * Subsets (`only`): tables of datasets left out exist and are empty, and the manifest lists the
 * datasets loaded and not loaded. title.ratings is merged into titles, so without title.basics the
 * ratings only feed names.popularity; without title.ratings every title is unrated (average_rating
 * NULL, num_votes 0) and popularity is 0. title_genres comes from title.basics and is empty without
 * it. Dangling references are only counted against files that were loaded (null otherwise).
 */

import { randomBytes } from 'node:crypto'
import { mkdir, readdir, rename, rm } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import { MessageChannel, type Worker } from 'node:worker_threads'
import { DATASET_NAMES, type DatasetName, isDatasetName } from '../datasets/catalogue.js'
import { DatasetError } from '../datasets/parse.js'
import type { ParseJob, ParseReport } from '../datasets/parse.worker.js'
import { datasetPath, statDataset } from '../datasets/reader.js'
import { spawnWorker, workerUrl } from '../lib/worker-url.js'
import { processAlive } from '../process-alive.js'
import type { IngestSummary, SourceFile } from './manifest.js'
import { mtimeOf } from './manifest.js'
import { DIRECT_DATASETS, LOAD_ORDER } from './sqlite-writer.js'
import type { WriterData, WriterReport } from './writer.worker.js'

export type { FileSummary, IngestSummary } from './manifest.js'
export type { FileCounts, TableStat } from './sqlite-writer.js'

export type IngestPhase = 'fts' | 'indexes' | 'merge' | 'analyze' | 'sizes' | 'swap'

export type IngestProgress =
  | {
      type: 'file'
      dataset: DatasetName
      file: string
      /** Compressed bytes read so far, of bytesTotal. */
      bytesRead: number
      bytesTotal: number
      /** Rows parsed / rows handed to SQLite so far. */
      rowsRead: number
      rowsWritten: number
      done: boolean
      /** Since this file's first progress event. */
      elapsedMs: number
    }
  | { type: 'bad-line'; dataset: DatasetName; file: string; line: number; reason: string }
  | { type: 'phase'; phase: IngestPhase }

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
}

export type IngestErrorCode = 'INGEST_ABORTED' | 'INGEST_FAILED' | 'INGEST_BAD_OPTIONS' | 'INGEST_DISK_FULL'

/** Out of space (or over a file-size or quota limit), from Node's writes or from SQLite. */
function isDiskFull(error: { code?: string; message: string }): boolean {
  return (
    ['ENOSPC', 'EFBIG', 'EDQUOT', 'SQLITE_FULL'].includes(error.code ?? '') ||
    /database or disk is full/.test(error.message)
  )
}

export class IngestError extends Error {
  override name = 'IngestError'
  constructor(
    readonly code: IngestErrorCode,
    message: string,
    opts?: { cause?: unknown },
  ) {
    super(message, opts)
  }
}

/** Rows per batch sent from a parser to a writer. */
const BATCH_ROWS = 4096
/** Unacknowledged batches per file: bounds memory at about WINDOW * batch size per parser. */
const WINDOW = 8

/** Loads the dataset files into a new database at dbPath (see the module comment). */
export async function ingest(opts: IngestOptions): Promise<IngestSummary> {
  const startedAt = new Date()
  const datasets = checkOptions(opts)
  const dbPath = resolve(opts.dbPath)
  const sources: SourceFile[] = await Promise.all(
    datasets.map(async (dataset) => {
      const file = datasetPath(opts.dataDir, dataset)
      const s = await statDataset(file, dataset)
      return { dataset, file, size: s.size, mtime: mtimeOf(s) }
    }),
  )
  await mkdir(dirname(dbPath), { recursive: true })
  const tmpPath = `${dbPath}.building-${process.pid}`
  const sidePath = `${tmpPath}-side`
  await removeBuildFiles(tmpPath)
  await removeStaleBuilds(dbPath)

  const local = new AbortController()
  const onSignal = () => local.abort(new IngestError('INGEST_ABORTED', 'ingest interrupted by a signal'))
  const onAbort = () =>
    local.abort(new IngestError('INGEST_ABORTED', 'ingest aborted', { cause: opts.signal?.reason }))
  if (opts.signal?.aborted) onAbort()
  opts.signal?.addEventListener('abort', onAbort, { once: true })
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)

  const workers: Worker[] = []
  try {
    const summary = await run({
      opts,
      datasets,
      sources,
      tmpPath,
      sidePath,
      startedAt,
      signal: local.signal,
      workers,
    })
    opts.onProgress?.({ type: 'phase', phase: 'swap' })
    // A stale -wal next to the new file would be replayed into it: remove the old one's first.
    await rm(`${dbPath}-wal`, { force: true })
    await rm(`${dbPath}-shm`, { force: true })
    await rm(`${dbPath}-journal`, { force: true })
    await rename(tmpPath, dbPath)
    return summary
  } catch (err) {
    await Promise.all(workers.map((w) => w.terminate()))
    await removeBuildFiles(tmpPath)
    throw err
  } finally {
    await Promise.all(workers.map((w) => w.terminate()))
    await removeBuildFiles(tmpPath, true)
    opts.signal?.removeEventListener('abort', onAbort)
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
  }
}

function checkOptions(opts: IngestOptions): DatasetName[] {
  if (!opts.dataDir) throw new IngestError('INGEST_BAD_OPTIONS', 'ingest: dataDir is required')
  if (!opts.dbPath) throw new IngestError('INGEST_BAD_OPTIONS', 'ingest: dbPath is required')
  if (opts.only !== undefined) {
    const bad = opts.only.filter((n) => !isDatasetName(n))
    if (bad.length > 0 || opts.only.length === 0) {
      throw new IngestError(
        'INGEST_BAD_OPTIONS',
        `ingest: only must list dataset names (${DATASET_NAMES.join(', ')}); got ${bad.length > 0 ? bad.join(', ') : 'none'}`,
      )
    }
  }
  const wanted = new Set(opts.only ?? DATASET_NAMES)
  return LOAD_ORDER.filter((d) => wanted.has(d))
}

/** Removes the build file (unless `keepMain`) and the files built beside it (`${tmpPath}-...`). */
async function removeBuildFiles(tmpPath: string, keepMain = false): Promise<void> {
  const dir = dirname(tmpPath)
  const base = basename(tmpPath)
  const names = await readdir(dir).catch(() => [] as string[])
  const doomed = names.filter((n) => n.startsWith(`${base}-`) || (n === base && !keepMain))
  await Promise.all(doomed.map((n) => rm(join(dir, n), { force: true })))
}

/** Build files left by an ingest that was killed (kill -9, power loss): their process is gone. */
async function removeStaleBuilds(dbPath: string): Promise<void> {
  const dir = dirname(dbPath)
  const prefix = `${basename(dbPath)}.building-`
  const names = await readdir(dir).catch(() => [] as string[])
  const stale = names.filter((n) => {
    if (!n.startsWith(prefix)) return false
    const pid = Number.parseInt(n.slice(prefix.length), 10)
    return Number.isInteger(pid) && pid !== process.pid && !processAlive(pid)
  })
  await Promise.all(stale.map((n) => rm(join(dir, n), { force: true })))
}

function generationId(now: Date): string {
  // Sortable by time, unique across hosts and runs.
  return `${now.toISOString().replace(/[-:.]/g, '')}-${randomBytes(6).toString('hex')}`
}

interface RunArgs {
  opts: IngestOptions
  datasets: DatasetName[]
  sources: SourceFile[]
  tmpPath: string
  sidePath: string
  startedAt: Date
  signal: AbortSignal
  workers: Worker[]
}

/**
 * Datasets the side writer loads into its own file when there is a core for it: principals is
 * half of all rows, and with crew and episodes it balances titles, names, akas and the FTS build.
 */
const SIDE_DATASETS: ReadonlySet<DatasetName> = new Set(['title.episode', 'title.crew', 'title.principals'])
const SIDE_TABLES = ['episodes', 'crew', 'principals']
const MAIN_TABLES = ['titles', 'title_genres', 'akas', 'names', 'name_professions']

function run(a: RunArgs): Promise<IngestSummary> {
  const { opts, datasets, sources, signal, workers } = a
  const onProgress = opts.onProgress
  const cores = availableParallelism()
  const split =
    cores >= 2 && datasets.some((d) => SIDE_DATASETS.has(d)) && datasets.some((d) => !SIDE_DATASETS.has(d))
  const lanes = split
    ? [datasets.filter((d) => !SIDE_DATASETS.has(d)), datasets.filter((d) => SIDE_DATASETS.has(d))]
    : [datasets]
  const channels = new Map(datasets.map((d) => [d, new MessageChannel()]))
  const base = {
    strict: opts.strict ?? false,
    loaded: datasets,
    generation: generationId(a.startedAt),
    startedAt: a.startedAt.toISOString(),
    notLoaded: DATASET_NAMES.filter((d) => !datasets.includes(d)),
    sources,
  }
  const writerData: WriterData[] = lanes.map((order, i) => ({
    ...base,
    lane: i === 0 ? 'main' : 'side',
    path: i === 0 ? a.tmpPath : a.sidePath,
    order,
    ports: Object.fromEntries(order.map((d) => [d, channels.get(d)!.port2])),
    side: i === 0 && split,
    tables: i === 0 && split ? MAIN_TABLES : i === 0 ? [...MAIN_TABLES, ...SIDE_TABLES] : SIDE_TABLES,
  }))

  return new Promise<IngestSummary>((resolvePromise, rejectPromise) => {
    let settled = false
    const fail = (err: unknown) => {
      if (settled) return
      settled = true
      rejectPromise(err)
    }
    if (signal.aborted) return fail(signal.reason)
    signal.addEventListener('abort', () => fail(signal.reason), { once: true })

    // Per-file progress, merged from the parser (bytes, rows parsed) and the writer (rows written).
    const files = new Map(
      sources.map((s) => [
        s.dataset,
        {
          type: 'file' as const,
          dataset: s.dataset,
          file: s.file,
          bytesRead: 0,
          bytesTotal: s.size,
          rowsRead: 0,
          rowsWritten: 0,
          done: false,
          elapsedMs: 0,
          started: 0,
        },
      ]),
    )
    const emit = (dataset: DatasetName) => {
      if (!onProgress) return
      const f = files.get(dataset)!
      if (f.started === 0) f.started = performance.now()
      const { started: _, ...event } = f
      onProgress({ ...event, elapsedMs: Math.round(performance.now() - f.started) })
    }

    const writers = writerData.map((wd) => {
      const w = spawnWorker(workerUrl('./writer.worker.js', import.meta.url), {
        background: opts.background,
        workerData: wd,
        transferList: Object.values(wd.ports),
      })
      workers.push(w)
      w.on('error', (err) =>
        fail(new IngestError('INGEST_FAILED', `ingest writer crashed: ${err.message}`, { cause: err })),
      )
      w.on('exit', (code) => {
        if (!settled)
          fail(new IngestError('INGEST_FAILED', `ingest writer exited (code ${code}) before finishing`))
      })
      return w
    })
    const [mainWriter, sideWriter] = writers
    const onWriter = (m: WriterReport) => {
      switch (m.type) {
        case 'rows':
          files.get(m.dataset)!.rowsWritten = m.rows
          emit(m.dataset)
          break
        case 'file-done': {
          const f = files.get(m.dataset)!
          f.done = true
          f.bytesRead = f.bytesTotal
          // The parser's last progress report may still be in flight: the writer's count is final.
          f.rowsRead = m.rowsRead
          emit(m.dataset)
          break
        }
        case 'bad-line':
          onProgress?.({
            type: 'bad-line',
            dataset: m.dataset,
            file: files.get(m.dataset)!.file,
            line: m.line,
            reason: m.reason,
          })
          break
        case 'phase':
          onProgress?.({ type: 'phase', phase: m.phase as IngestPhase })
          break
        // Between the writers: id sets for dangling references, then the side file is ready.
        case 'ids':
          sideWriter?.postMessage(m, [m.bits.buffer as ArrayBuffer])
          break
        case 'side-done':
          mainWriter.postMessage(m)
          break
        case 'done':
          if (!settled) {
            settled = true
            resolvePromise(m.summary)
          }
          break
        case 'error':
          fail(
            m.error.name === 'DatasetError'
              ? DatasetError.fromJSON(m.error as never)
              : isDiskFull(m.error)
                ? new IngestError(
                    'INGEST_DISK_FULL',
                    `the disk is full: no room to build ${resolve(opts.dbPath)} (${m.error.code ?? 'SQLITE_FULL'}); ` +
                      'free some space, or pass --db a path on a larger disk. The served database is unchanged',
                  )
                : new IngestError('INGEST_FAILED', `ingest failed: ${m.error.message}`),
          )
          break
      }
    }
    for (const w of writers) w.on('message', onWriter)

    // One parser per writer, fed that writer's files in load order, so the file a writer waits for
    // is always being parsed and the next one waits in a bounded window.
    for (const order of lanes) {
      const jobs = order.map(
        (dataset): ParseJob => ({
          type: 'parse',
          file: datasetPath(opts.dataDir, dataset),
          dataset,
          port: channels.get(dataset)!.port1,
          strict: opts.strict ?? false,
          batchRows: BATCH_ROWS,
          window: WINDOW,
          raw: DIRECT_DATASETS.has(dataset),
        }),
      )
      const w = spawnWorker(workerUrl('../datasets/parse.worker.js', import.meta.url), {
        background: opts.background,
      })
      workers.push(w)
      w.on('error', (err) =>
        fail(new IngestError('INGEST_FAILED', `ingest parser crashed: ${err.message}`, { cause: err })),
      )
      const dispatch = () => {
        const job = jobs.shift()
        if (job) w.postMessage(job, [job.port])
      }
      w.on('message', (m: ParseReport) => {
        switch (m.type) {
          case 'progress': {
            const f = files.get(m.dataset)!
            // Threads race: the writer may have finished the file before this report arrives.
            if (f.done) break
            f.bytesRead = m.bytesRead
            f.rowsRead = m.rows
            emit(m.dataset)
            break
          }
          case 'bad-line':
            onProgress?.({
              type: 'bad-line',
              dataset: m.dataset,
              file: m.file,
              line: m.line,
              reason: m.reason,
            })
            break
          case 'done':
            dispatch()
            break
          case 'failed':
            fail(DatasetError.fromJSON(m.error))
            break
        }
      })
      dispatch()
    }
  })
}
