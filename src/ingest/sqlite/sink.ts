/**
 * The SQLite RowSink: builds a new database file beside dbPath and renames it over dbPath.
 *
 * Threads: two writers, each owning its database files (the main one: titles, names, akas, FTS; a
 * side one built in parallel and copied in at the end: episodes, crew, principals), each fed by its
 * own parse worker that gunzips and parses; this thread only wires them and reports progress. The
 * big tables are written page by page rather than INSERTed (see sqlite-writer.ts and btree.ts).
 * Batches go from a parser to a writer over a dedicated MessagePort per file, at most WINDOW
 * unacknowledged per file (../parsers.ts), so memory stays bounded whatever the input size. On one
 * core there is a single writer.
 *
 * The database is built in `${dbPath}.building-<pid>` (side files: `${that}-<name>`) and renamed
 * over dbPath after it is closed; a failed or aborted ingest deletes those files and leaves dbPath
 * as it was.
 */

import { mkdir } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { dirname } from 'node:path'
import { MessageChannel, type Worker } from 'node:worker_threads'
import { DATASET_NAMES, type DatasetName } from '../../datasets/catalogue.js'
import { DatasetError } from '../../datasets/parse.js'
import { DEFAULT_RETENTION, type HistoryRetention, type ManifestChanges } from '../../db/history.js'
import { spawnWorker, workerUrl } from '../../lib/worker-url.js'
import { IngestError } from '../errors.js'
import type { IngestPhase } from '../events.js'
import type { IngestSummary } from '../manifest.js'
import { startParsers } from '../parsers.js'
import type { IngestPlan, RowSink } from '../sink.js'
import { buildPathOf, removeBuildFiles, removeStaleBuilds, swapInto } from './build-files.js'
import type { HistoryWorkerData, HistoryWorkerReport } from './history.worker.js'
import { DIRECT_DATASETS } from './sqlite-writer.js'
import type { WriterData, WriterReport } from './writer.worker.js'

/**
 * Datasets the side writer loads into its own file when there is a core for it: principals is
 * half of all rows, and with crew and episodes it balances titles, names, akas and the FTS build.
 */
const SIDE_DATASETS: ReadonlySet<DatasetName> = new Set(['title.episode', 'title.crew', 'title.principals'])
const SIDE_TABLES = ['episodes', 'crew', 'principals']
const MAIN_TABLES = ['titles', 'title_genres', 'akas', 'names', 'name_professions']

/** A settled-once outcome: the first failure wins, later ones are ignored. */
class Outcome {
  settled = false
  private filesLeft: number
  private markLoaded!: () => void
  private rejectLoaded!: (err: unknown) => void
  private markDone!: (summary: IngestSummary) => void
  private rejectDone!: (err: unknown) => void
  /** Every file is in its writer. */
  readonly loaded = new Promise<void>((resolve, reject) => {
    this.markLoaded = resolve
    this.rejectLoaded = reject
  })
  /** The main writer wrote the manifest and closed the database. */
  readonly done = new Promise<IngestSummary>((resolve, reject) => {
    this.markDone = resolve
    this.rejectDone = reject
  })

  constructor(files: number) {
    this.filesLeft = files
    // Whichever the pipeline is not awaiting when a failure comes must not be an unhandled rejection.
    this.loaded.catch(() => {})
    this.done.catch(() => {})
  }

  fileDone(): void {
    if (--this.filesLeft === 0) this.markLoaded()
  }

  succeed(summary: IngestSummary): void {
    if (this.settled) return
    this.settled = true
    this.markDone(summary)
  }

  readonly fail = (err: unknown): void => {
    if (this.settled) return
    this.settled = true
    this.rejectLoaded(err)
    this.rejectDone(err)
  }
}

export class SqliteSink implements RowSink {
  private readonly buildPath: string
  private plan!: IngestPlan
  private outcome!: Outcome
  private readonly workers: Worker[] = []

  /** `dbPath`: the database to create or replace, an absolute path. */
  constructor(
    private readonly dbPath: string,
    private readonly history: HistoryRetention = DEFAULT_RETENTION,
  ) {
    this.buildPath = buildPathOf(dbPath)
  }

  async open(plan: IngestPlan): Promise<void> {
    this.plan = plan
    this.outcome = new Outcome(plan.datasets.length)
    await mkdir(dirname(this.dbPath), { recursive: true })
    await removeBuildFiles(this.buildPath)
    await removeStaleBuilds(this.dbPath)
  }

  load(): Promise<void> {
    const { signal, datasets } = this.plan
    const { fail } = this.outcome
    if (signal.aborted) fail(signal.reason)
    else {
      signal.addEventListener('abort', () => fail(signal.reason), { once: true })
      const lanes = this.lanes()
      const channels = new Map(datasets.map((d) => [d, new MessageChannel()]))
      this.startWriters(lanes, channels)
      const ports = new Map([...channels].map(([d, c]) => [d, c.port1]))
      this.workers.push(
        ...startParsers(this.plan, { lanes, ports, raw: (d) => DIRECT_DATASETS.has(d), fail }),
      )
    }
    return this.outcome.loaded
  }

  /** The writers' manifest, once the change history is recorded into the new file (and its manifest). */
  async finish(): Promise<IngestSummary> {
    const summary = await this.outcome.done
    this.plan.signal.throwIfAborted()
    this.plan.progress.phase('history')
    const started = performance.now()
    const changes = await this.recordHistory()
    const timings = { ...summary.timings, history: Math.round(performance.now() - started) }
    return { ...summary, timings, changes }
  }

  /** Runs history.worker.ts on the closed build file; rejects when it fails or the ingest is aborted. */
  private recordHistory(): Promise<ManifestChanges | null> {
    const data: HistoryWorkerData = {
      buildPath: this.buildPath,
      dbPath: this.dbPath,
      generation: this.plan.generation,
      retention: this.history,
    }
    const w = spawnWorker(workerUrl('./history.worker.js', import.meta.url), {
      background: this.plan.background,
      workerData: data,
    })
    this.workers.push(w)
    return new Promise((resolve, reject) => {
      const signal = this.plan.signal
      const onAbort = () => reject(signal.reason)
      signal.addEventListener('abort', onAbort, { once: true })
      w.once('message', (m: HistoryWorkerReport) => {
        signal.removeEventListener('abort', onAbort)
        if (m.type === 'done') resolve(m.changes)
        else
          reject(new IngestError('INGEST_FAILED', `recording the change history failed: ${m.error.message}`))
      })
      w.once('error', (err) => {
        signal.removeEventListener('abort', onAbort)
        reject(new IngestError('INGEST_FAILED', `recording the change history failed: ${err.message}`))
      })
      w.once('exit', (code) => {
        if (code !== 0) reject(new IngestError('INGEST_FAILED', `the history thread exited (code ${code})`))
      })
    })
  }

  swap(): Promise<void> {
    return swapInto(this.buildPath, this.dbPath)
  }

  async abort(): Promise<void> {
    await this.terminate()
    await removeBuildFiles(this.buildPath)
  }

  async close(): Promise<void> {
    await this.terminate()
    await removeBuildFiles(this.buildPath, true)
  }

  private async terminate(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()))
  }

  /** The datasets of each writer, in load order: one lane, or main and side with a core for each. */
  private lanes(): DatasetName[][] {
    const { datasets } = this.plan
    const split =
      availableParallelism() >= 2 &&
      datasets.some((d) => SIDE_DATASETS.has(d)) &&
      datasets.some((d) => !SIDE_DATASETS.has(d))
    return split
      ? [datasets.filter((d) => !SIDE_DATASETS.has(d)), datasets.filter((d) => SIDE_DATASETS.has(d))]
      : [datasets]
  }

  private writerData(lanes: DatasetName[][], channels: Map<DatasetName, MessageChannel>): WriterData[] {
    const { plan } = this
    const split = lanes.length > 1
    return lanes.map((order, i) => ({
      strict: plan.strict,
      loaded: plan.datasets,
      generation: plan.generation,
      startedAt: plan.startedAt.toISOString(),
      notLoaded: DATASET_NAMES.filter((d) => !plan.datasets.includes(d)),
      sources: plan.sources,
      lane: i === 0 ? 'main' : 'side',
      path: i === 0 ? this.buildPath : `${this.buildPath}-side`,
      order,
      ports: Object.fromEntries(order.map((d) => [d, channels.get(d)!.port2])),
      side: i === 0 && split,
      tables: i === 0 && split ? MAIN_TABLES : i === 0 ? [...MAIN_TABLES, ...SIDE_TABLES] : SIDE_TABLES,
    }))
  }

  private startWriters(lanes: DatasetName[][], channels: Map<DatasetName, MessageChannel>): void {
    const { fail } = this.outcome
    const writers = this.writerData(lanes, channels).map((wd) => {
      const w = spawnWorker(workerUrl('./writer.worker.js', import.meta.url), {
        background: this.plan.background,
        workerData: wd,
        transferList: Object.values(wd.ports),
      })
      this.workers.push(w)
      w.on('error', (err) =>
        fail(new IngestError('INGEST_FAILED', `ingest writer crashed: ${err.message}`, { cause: err })),
      )
      w.on('exit', (code) => {
        if (!this.outcome.settled)
          fail(new IngestError('INGEST_FAILED', `ingest writer exited (code ${code}) before finishing`))
      })
      return w
    })
    for (const w of writers) w.on('message', (m: WriterReport) => this.onWriterReport(m, writers))
  }

  private onWriterReport(m: WriterReport, [mainWriter, sideWriter]: Worker[]): void {
    const { progress } = this.plan
    switch (m.type) {
      case 'rows':
        progress.of(m.dataset).rowsWritten = m.rows
        progress.emit(m.dataset)
        break
      case 'file-done':
        // The parser's last progress report may still be in flight: the writer's count is final.
        progress.done(m.dataset, m.rowsRead)
        progress.emit(m.dataset)
        this.outcome.fileDone()
        break
      case 'bad-line':
        progress.badLine(m.dataset, m.line, m.reason)
        break
      case 'phase':
        progress.phase(m.phase as IngestPhase)
        break
      // Between the writers: id sets for dangling references, then the side file is ready.
      case 'ids':
        sideWriter?.postMessage(m, [m.bits.buffer as ArrayBuffer])
        break
      case 'side-done':
        mainWriter.postMessage(m)
        break
      case 'done':
        this.outcome.succeed(m.summary)
        break
      case 'error':
        this.outcome.fail(this.writerError(m.error))
        break
    }
  }

  private writerError(error: Extract<WriterReport, { type: 'error' }>['error']): Error {
    if (error.name === 'DatasetError') return DatasetError.fromJSON(error as never)
    if (isDiskFull(error)) {
      return new IngestError(
        'INGEST_DISK_FULL',
        `the disk is full: no room to build ${this.dbPath} (${error.code ?? 'SQLITE_FULL'}); ` +
          'free some space, or pass --db a path on a larger disk. The served database is unchanged',
      )
    }
    return new IngestError('INGEST_FAILED', `ingest failed: ${error.message}`)
  }
}

/** Out of space (or over a file-size or quota limit), from Node's writes or from SQLite. */
function isDiskFull(error: { code?: string; message: string }): boolean {
  return (
    ['ENOSPC', 'EFBIG', 'EDQUOT', 'SQLITE_FULL'].includes(error.code ?? '') ||
    /database or disk is full/.test(error.message)
  )
}
