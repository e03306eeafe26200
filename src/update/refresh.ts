/**
 * The incremental refresh: diffs each kept file against its new version (on worker threads),
 * applies the rows that changed to a copy of the database in one transaction while the diffs go
 * on, and renames the copy over the database. Any failure it cannot report as such becomes a
 * Fallback, on which update() rebuilds in full.
 */
import { randomBytes } from 'node:crypto'
import { existsSync, constants as fsConstants } from 'node:fs'
import { copyFile, rename, rm, stat } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { Worker } from 'node:worker_threads'
import { DATASET_NAMES, type DatasetName } from '../datasets/catalogue.js'
import { DatasetError } from '../datasets/parse.js'
import { datasetPath, statDataset } from '../datasets/reader.js'
import { DEFAULT_RETENTION } from '../db/history.js'
import { newCursorSecret } from '../db/queries/meta.js'
import Database from '../db/sqlite/driver.js'
import { recordSqliteHistory } from '../db/sqlite/history.js'
import { Applier, type ApplyContext } from './apply.js'
import type { FileDiff } from './diff.js'
import { runDiffs } from './diff-threads.js'
import { aborted, Fallback, UpdateError } from './errors.js'
import { HistoryKeys } from './history.js'
import { updateManifest } from './refresh-manifest.js'
import {
  commitStaged,
  discardStaged,
  type KeptSources,
  pruneGenerations,
  type StagedFiles,
  stageFiles,
} from './sources.js'
import type { Base, FileChange, UpdateOptions, UpdateProgress, UpdateSummary } from './types.js'

/** The files FTS rows are made of. */
const FTS_INPUTS: readonly DatasetName[] = ['title.basics', 'title.akas', 'name.basics']

/** The apply order: ratings first (titles' rating columns and popularity read the new table). */
const APPLY_FIRST: DatasetName = 'title.ratings'

/** What the steps of a refresh share. */
interface Refresh {
  readonly dbPath: string
  readonly base: Base
  readonly kept: KeptSources
  readonly opts: UpdateOptions
  readonly emit: (e: UpdateProgress) => void
  /** performance.now() when the update began. */
  readonly started: number
  readonly startedAt: Date
  /** Milliseconds per phase, in the order they ended (the manifest lists them so). */
  readonly timings: Record<string, number>
  readonly newFiles: { dataset: DatasetName; path: string }[]
  readonly stats: { size: number; mtimeMs: number }[]
  readonly staged: StagedFiles
  /** The copy of the database the changes are applied to. */
  readonly tmpPath: string
  readonly workers: Worker[]
  /** The copy, while it is open. */
  db: Database | null
  /** Aborted with the caller's signal, or on a failure: stops the diffs. */
  readonly local: AbortController
}

/** Refreshes the database at dbPath from opts.dataDir by applying the differences to `kept`. */
export async function refresh(
  dbPath: string,
  base: Base,
  kept: KeptSources,
  opts: UpdateOptions,
  started: number,
): Promise<UpdateSummary> {
  const emit = (e: UpdateProgress) => opts.onProgress?.(e)
  const startedAt = new Date()
  const timings: Record<string, number> = {}
  emit({ type: 'phase', phase: 'prepare' })
  const newFiles = base.loaded.map((dataset) => ({ dataset, path: datasetPath(opts.dataDir, dataset) }))
  const stats = await Promise.all(newFiles.map((f) => statDataset(f.path, f.dataset)))
  if (await sameFiles(newFiles, kept)) return unchangedSummary(base, [], timings, started)

  const r: Refresh = {
    dbPath,
    base,
    kept,
    opts,
    emit,
    started,
    startedAt,
    timings,
    newFiles,
    stats,
    staged: await stageFiles(dbPath, newFiles),
    tmpPath: `${dbPath}.updating-${process.pid}`,
    workers: [],
    db: null,
    local: new AbortController(),
  }
  const onAbort = () => r.local.abort(opts.signal?.reason)
  opts.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    const applied = await diffAndApply(r)
    const changes = applied.changes.filter((c) => !c.partial)
    if (!anyRowChanged(applied.changes)) return await keepServingBase(r, changes)
    if (!applied.ftsDone) finishFts(r, applied.applier)
    const generation = generationId(startedAt)
    const manifest = commitCopy(r, applied, generation, changes)
    await swapCopyIn(r)
    await keepNewFiles(r, generation)
    const durationMs = Math.round(performance.now() - started)
    manifest.durationMs = durationMs
    return {
      mode: 'incremental',
      reason: null,
      generation,
      previousGeneration: base.generation,
      files: summaryFiles(changes, opts.dataDir),
      timings,
      durationMs,
      manifest,
    }
  } catch (err) {
    await abandon(r, err)
    throw failureOf(r, err)
  } finally {
    opts.signal?.removeEventListener('abort', onAbort)
    await Promise.all(r.workers.map((w) => w.terminate()))
  }
}

/** The new files are the kept ones (links to them, as after a download that found nothing new). */
async function sameFiles(newFiles: { path: string }[], kept: KeptSources): Promise<boolean> {
  const same = await Promise.all(
    newFiles.map(async (f, i) => {
      const [a, b] = await Promise.all([stat(f.path), stat(kept.files[i].path)])
      return a.ino === b.ino && a.dev === b.dev
    }),
  )
  return same.every(Boolean)
}

/** The summary of a refresh that leaves the current generation served. */
function unchangedSummary(
  base: Base,
  files: FileChange[],
  timings: Record<string, number>,
  started: number,
): UpdateSummary {
  return {
    mode: 'unchanged',
    reason: null,
    generation: base.generation,
    previousGeneration: base.generation,
    files,
    timings,
    durationMs: Math.round(performance.now() - started),
    manifest: base.manifest,
  }
}

function anyRowChanged(changes: FileDiff[]): boolean {
  return !changes.every(
    (c) => c.insertRows === 0 && c.deleteRows === 0 && c.updateRows === 0 && !c.popularity?.length,
  )
}

/** New files, same rows: the copy is dropped and the current generation stays served. */
async function keepServingBase(r: Refresh, changes: FileDiff[]): Promise<UpdateSummary> {
  r.db!.close()
  r.db = null
  await rm(r.tmpPath, { force: true })
  await discardStaged(r.staged)
  return unchangedSummary(r.base, summaryFiles(changes, r.opts.dataDir), r.timings, r.started)
}

/**
 * Copies the database while the diffs run (on libuv's threads and the diff threads), then applies
 * each diff to the copy as it arrives. Returns with every diff applied, in one open transaction.
 */
async function diffAndApply(r: Refresh): Promise<ApplyQueue> {
  const { base, timings } = r
  r.emit({ type: 'phase', phase: 'diff' })
  const diffStarted = performance.now()
  const copying = copyDatabase(r.dbPath, r.tmpPath).then(() => {
    timings.copy = Math.round(performance.now() - diffStarted)
  })
  copying.catch(() => {})
  const diffs = runDiffs(
    base.loaded,
    r.kept,
    r.staged,
    r.stats.map((s) => s.size),
    r.opts,
    r.local.signal,
    r.workers,
    r.emit,
  )
  const queue = new ApplyQueue(r)
  for await (const result of diffs) {
    if (result.ratings) queue.ctx.ratings = result.ratings
    const d = result.diff
    if (!d.partial) {
      // When each diff ended (ms from the start): what the refresh waited for.
      timings[`diff ${d.dataset} done at`] = Math.round(performance.now() - diffStarted)
      // Lines of the new file: counted, or the old count moved by the lines that changed.
      d.read ??= (base.manifest!.files.find((f) => f.dataset === d.dataset)?.read ?? 0) + d.readDelta
    }
    if (!queue.opened) {
      await copying
      queue.open()
    }
    queue.add(d)
  }
  if (!queue.opened) throw new Fallback('nothing to diff')
  queue.applyReady()
  timings.diff = Math.round(performance.now() - diffStarted)
  return queue
}

/**
 * Diffs applied in the order they may be: title.ratings before any other (their rows read the new
 * ratings). FTS rows depend on titles, akas and names only: they are written as soon as those are
 * in, while the other diffs still run, rather than in a single-threaded tail.
 */
class ApplyQueue {
  /** The diffs applied, in order. */
  readonly changes: FileDiff[] = []
  /** The keys they touched, for the change history. */
  readonly keys = new HistoryKeys()
  ftsDone = false
  /** What the apply reads: the loaded datasets, and the new title.ratings once its diff arrives. */
  readonly ctx: ApplyContext
  private readonly pending: FileDiff[] = []
  private readonly ftsInputs: DatasetName[]
  private readonly ratingsFirst: boolean
  #applier: Applier | null = null

  constructor(private readonly r: Refresh) {
    const datasets = r.base.loaded
    this.ctx = {
      loaded: new Set(datasets),
      ratings: { ids: new Float64Array(0), votes: new Float64Array(0), avg: new Float64Array(0) },
    }
    this.ftsInputs = FTS_INPUTS.filter((d) => datasets.includes(d))
    this.ratingsFirst = datasets.includes(APPLY_FIRST)
  }

  get opened(): boolean {
    return this.#applier !== null
  }

  get applier(): Applier {
    return this.#applier!
  }

  /** Opens the copy (once it is complete) in a transaction. */
  open(): void {
    const db = openCopy(this.r.tmpPath, this.r.base.generation)
    this.r.db = db
    // The database being refreshed, read by the change history (the copy's rows before the apply).
    db.prepare('ATTACH ? AS prev').run(this.r.dbPath)
    db.exec('PRAGMA prev.locking_mode = NORMAL')
    db.exec('BEGIN')
    this.#applier = new Applier(db, this.ctx)
  }

  add(d: FileDiff): void {
    this.pending.push(d)
    this.applyReady()
  }

  /** Applies the pending diffs that may be applied now, then FTS when its inputs are all in. */
  applyReady(): void {
    const { timings } = this.r
    while (this.pending.length > 0) {
      const first = this.ratingsFirst && !this.changes.some((c) => c.dataset === APPLY_FIRST)
      const i = first ? this.pending.findIndex((d) => d.dataset === APPLY_FIRST) : 0
      if (i < 0) return
      const d = this.pending.splice(i, 1)[0]
      const t0 = performance.now()
      this.applier.apply(d)
      timings[`apply ${d.dataset}`] =
        (timings[`apply ${d.dataset}`] ?? 0) + Math.round(performance.now() - t0)
      this.changes.push(d)
      this.keys.add(d)
    }
    if (
      !this.ftsDone &&
      this.ftsInputs.every((f) => this.changes.some((c) => c.dataset === f && !c.partial))
    ) {
      this.ftsDone = true
      finishFts(this.r, this.applier)
    }
  }
}

function finishFts(r: Refresh, applier: Applier): void {
  r.emit({ type: 'phase', phase: 'fts' })
  const t0 = performance.now()
  applier.finishFts()
  r.timings.fts = Math.round(performance.now() - t0)
}

/** Writes the new generation and its manifest into the copy, commits and closes it. */
function commitCopy(
  r: Refresh,
  applied: ApplyQueue,
  generation: string,
  changes: FileDiff[],
): ReturnType<typeof updateManifest> {
  const applier = applied.applier
  const db = r.db!
  r.emit({ type: 'phase', phase: 'history' })
  const th = performance.now()
  const history = recordSqliteHistory(db, {
    generation,
    previous: {
      generation: r.base.generation,
      madeAt: r.base.manifest?.finishedAt ?? new Date().toISOString(),
    },
    carryForward: false,
    keys: applied.keys.byEntity(),
    retention: r.opts.history ?? DEFAULT_RETENTION,
  })
  r.timings.history = Math.round(performance.now() - th)
  r.emit({ type: 'phase', phase: 'commit' })
  const t = performance.now()
  const manifest = updateManifest(r.base, {
    generation,
    startedAt: r.startedAt,
    changes,
    stats: r.newFiles.map((f, i) => ({ ...f, ...r.stats[i] })),
    deltas: applier.deltas,
    timings: r.timings,
    kept: dirname(r.kept.dir),
    history,
  })
  const put = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)')
  put.run('generation', generation)
  put.run('manifest', JSON.stringify(manifest))
  put.run('cursor_secret', newCursorSecret())
  db.exec('COMMIT')
  db.exec('DETACH prev')
  applier.saveFtsTotals()
  // Fresh statistics where a table changed much (cheap when none did).
  db.pragma('analysis_limit = 1000')
  db.pragma('optimize')
  db.pragma('journal_mode = DELETE')
  db.close()
  r.db = null
  r.timings.commit = Math.round(performance.now() - t)
  return manifest
}

/** Renames the committed copy over the database: a server watching the file swaps to it. */
async function swapCopyIn(r: Refresh): Promise<void> {
  if (r.local.signal.aborted) throw aborted(r.local.signal)
  r.emit({ type: 'phase', phase: 'swap' })
  // As the ingest: a stale journal next to the new file would be replayed into it.
  await rm(`${r.dbPath}-wal`, { force: true })
  await rm(`${r.dbPath}-shm`, { force: true })
  await rm(`${r.dbPath}-journal`, { force: true })
  await rename(r.tmpPath, r.dbPath)
}

/** Keeps the new files as the sources of the new generation, for the next refresh to diff. */
async function keepNewFiles(r: Refresh, generation: string): Promise<void> {
  r.emit({ type: 'phase', phase: 'keep' })
  // Every new file was read through (or equal to a checked one where it was not): in order.
  await commitStaged(r.dbPath, r.staged, generation, true)
  await pruneGenerations(r.dbPath, [generation])
}

/** Stops the diffs and removes what the refresh made: the copy, its journal, the staged files. */
async function abandon(r: Refresh, err: unknown): Promise<void> {
  r.local.abort(err)
  if (r.db?.open) r.db.close()
  await Promise.all(r.workers.map((w) => w.terminate()))
  await rm(r.tmpPath, { force: true })
  await rm(`${r.tmpPath}-journal`, { force: true })
  await discardStaged(r.staged)
}

/** What a failed refresh rejects with. */
function failureOf(r: Refresh, err: unknown): unknown {
  if (r.opts.signal?.aborted) return aborted(r.opts.signal)
  if (err instanceof DatasetError || err instanceof UpdateError || err instanceof Fallback) return err
  // Anything else (a constraint the diff should have made impossible, a disk error...): the full
  // rebuild is the safe answer, and says so.
  return new Fallback(`applying the changes failed (${(err as Error).message})`)
}

function generationId(now: Date): string {
  // As the ingest's: sortable by time, unique across hosts and runs.
  return `${now.toISOString().replace(/[-:.]/g, '')}-${randomBytes(6).toString('hex')}`
}

function summaryFiles(changes: FileDiff[], dataDir: string): FileChange[] {
  return changes
    .map((c) => ({
      dataset: c.dataset,
      file: datasetPath(dataDir, c.dataset),
      ...c.counts,
      read: c.read ?? 0,
      ms: c.ms,
    }))
    .sort((a, b) => DATASET_NAMES.indexOf(a.dataset) - DATASET_NAMES.indexOf(b.dataset))
}
/** Copies the database file (a plain copy: the served file is never written in place). */
async function copyDatabase(src: string, dest: string): Promise<void> {
  await rm(dest, { force: true })
  if (existsSync(`${src}-wal`)) {
    // A WAL database: SQLite's backup copies a consistent snapshot.
    const db = new Database(src, { readonly: true, fileMustExist: true })
    try {
      await db.backup(dest)
    } finally {
      db.close()
    }
    return
  }
  // A reflink where the file system has them (btrfs, xfs): instant, no space used until written.
  await copyFile(src, dest, fsConstants.COPYFILE_FICLONE)
}

/** Opens the copy for writing, as the ingest writes: no journal (the copy is thrown away on failure). */
function openCopy(path: string, generation: string): Database {
  const db = new Database(path, { fileMustExist: true })
  try {
    const found =
      (db.prepare("SELECT value FROM meta WHERE key = 'generation'").pluck().get() as string) ?? null
    if (found !== generation) {
      throw new UpdateError(
        'UPDATE_FAILED',
        `the database changed while it was being refreshed (generation ${found}, expected ${generation}); run the update again`,
      )
    }
    db.pragma('journal_mode = OFF')
    db.pragma('synchronous = OFF')
    db.pragma('locking_mode = EXCLUSIVE')
    db.pragma('cache_size = -262144')
    return db
  } catch (err) {
    db.close()
    throw err
  }
}
