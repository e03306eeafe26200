import { newCursorSecret } from '../db/queries/meta.js'
/**
 * Refreshes a dataset database from a newer set of IMDb files, in place of a full rebuild.
 *
 * IMDb republishes the files daily and changes a small part of them. The files a generation was
 * built from are kept (sources.ts); a refresh diffs each old file against its new version in a
 * streaming merge-join (diff.ts, on worker threads), applies only the rows that changed to a copy
 * of the database (apply.ts) in one transaction, and renames the copy over the database: a server
 * watching the file swaps to it, and nothing ever reads a half-updated file. The result is the
 * database a full ingest of the new files builds (tables, derived tables, FTS), with a new
 * generation and a manifest that says what changed.
 *
 * It falls back to a full rebuild (ingest()) when asked (`full`), when there is no database or no
 * kept files to diff against, when a file is not in IMDb's order, or when so much changed that a
 * rebuild is cheaper; `summary.reason` says why.
 */

import { randomBytes } from 'node:crypto'
import { existsSync, constants as fsConstants } from 'node:fs'
import { copyFile, mkdir, open, readFile, rename, rm, stat, unlink } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { dirname, resolve } from 'node:path'
import type { Worker } from 'node:worker_threads'
import { DATASET_NAMES, type DatasetName, isDatasetName } from '../datasets/catalogue.js'
import { DatasetError } from '../datasets/parse.js'
import { datasetPath, statDataset } from '../datasets/reader.js'
import Database from '../db/sqlite/driver.js'
import { SCHEMA_VERSION } from '../db/sqlite/schema.js'
import { type IngestProgress, type IngestSummary, ingest } from '../ingest/index.js'
import { type FileSummary, mtimeOf, totalsOf } from '../ingest/manifest.js'
import { spawnWorker, workerUrl } from '../lib/worker-url.js'
import { processAlive } from '../process-alive.js'
import { Applier, type ApplyContext } from './apply.js'
import type { FileDiff, RatingsTable, RowCounts } from './diff.js'
import type { DiffJob, DiffReport } from './diff.worker.js'
import {
  commitStaged,
  discardStaged,
  type KeptSources,
  keepFiles,
  pruneGenerations,
  readKept,
  type StagedFiles,
  stageFiles,
} from './sources.js'

export { generationsDir, keptDir } from './sources.js'

export type UpdatePhase = 'prepare' | 'diff' | 'copy' | 'apply' | 'fts' | 'commit' | 'swap' | 'keep'

export type UpdateProgress =
  | {
      type: 'file'
      dataset: DatasetName
      /** Compressed bytes of the new file read so far, of bytesTotal. */
      bytesRead: number
      bytesTotal: number
      done: boolean
      /** Rows inserted, changed and deleted (when done). */
      counts: RowCounts | null
      elapsedMs: number
    }
  | { type: 'phase'; phase: UpdatePhase }
  /** The refresh rebuilds the database in full instead, for this reason. */
  | { type: 'full'; reason: string }
  /** Progress of the full rebuild. */
  | { type: 'ingest'; event: IngestProgress }

export interface UpdateOptions {
  /** The database to refresh (or build). */
  dbPath: string
  /** Directory of the new `.tsv.gz` files. */
  dataDir: string
  /** Rebuild in full (ingest) instead of applying the differences. */
  full?: boolean
  onProgress?: (e: UpdateProgress) => void
  /** Aborting stops the refresh, removes its temporary files and rejects with UPDATE_ABORTED. */
  signal?: AbortSignal
  /** Diff threads (default: the cores, at most 4). */
  threads?: number
  /**
   * Changes a file may have before a full rebuild is preferred, as a fraction of its rows
   * (default 0.25).
   */
  maxChangeRatio?: number
  /** Rows of changes per chunk handed from a diff to the apply while the diff goes on. */
  chunkRows?: number
}

export interface FileChange extends RowCounts {
  dataset: DatasetName
  /** The new file. */
  file: string
  /** Data lines of the new file. */
  read: number
  /** Milliseconds the diff of this file took (on its thread). */
  ms: number
}

export interface UpdateSummary {
  /** `incremental`: the changes were applied; `full`: rebuilt; `unchanged`: the files are those of the database. */
  mode: 'incremental' | 'full' | 'unchanged'
  /** Why the database was rebuilt in full, or null. */
  reason: string | null
  generation: string
  previousGeneration: string | null
  /** Per file: rows inserted, changed, deleted (incremental only). */
  files: FileChange[]
  /** Milliseconds per phase. */
  timings: Record<string, number>
  durationMs: number
  /** The manifest of the new generation (an IngestSummary, plus `update` for a refresh). */
  manifest: IngestSummary | null
}

export type UpdateErrorCode = 'UPDATE_LOCKED' | 'UPDATE_ABORTED' | 'UPDATE_FAILED'

export class UpdateError extends Error {
  override name = 'UpdateError'
  constructor(
    readonly code: UpdateErrorCode,
    message: string,
    opts?: { cause?: unknown },
  ) {
    super(message, opts)
  }
}

/** Why a refresh gives up on applying differences; the update then rebuilds in full. */
class Fallback extends Error {
  override name = 'Fallback'
}

/** The database being refreshed: its generation and manifest. */
export interface Base {
  generation: string
  schemaVersion: number | null
  manifest: IngestSummary | null
  loaded: DatasetName[]
}

/** Reads the generation and manifest of a database file, or null when there is none. */
export function readBase(dbPath: string): Base | null {
  if (!existsSync(dbPath)) return null
  let db: Database
  try {
    db = new Database(dbPath, { readonly: true, fileMustExist: true })
  } catch {
    return null
  }
  try {
    const rows = db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]
    const meta = new Map(rows.map((r) => [r.key, r.value]))
    const generation = meta.get('generation')
    if (!generation) return null
    let manifest: IngestSummary | null = null
    try {
      manifest = JSON.parse(meta.get('manifest') ?? 'null') as IngestSummary | null
    } catch {
      manifest = null
    }
    const version = meta.get('schema_version')
    const loaded = (manifest?.loaded ?? DATASET_NAMES).filter(isDatasetName)
    return { generation, schemaVersion: version === undefined ? null : Number(version), manifest, loaded }
  } catch {
    return null
  } finally {
    db.close()
  }
}

function generationId(now: Date): string {
  // As the ingest's: sortable by time, unique across hosts and runs.
  return `${now.toISOString().replace(/[-:.]/g, '')}-${randomBytes(6).toString('hex')}`
}

/** Holds `${dbPath}.update.lock` for the life of a refresh. */
async function lock(dbPath: string): Promise<() => Promise<void>> {
  const file = `${dbPath}.update.lock`
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(file, 'wx')
      await fh.writeFile(String(process.pid))
      await fh.close()
      return () => rm(file, { force: true })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim())
      if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) {
        throw new UpdateError(
          'UPDATE_LOCKED',
          `another update (process ${pid}) is refreshing ${dbPath}; wait for it, or remove ${file} if that process is gone`,
        )
      }
      await unlink(file).catch(() => {})
    }
  }
  throw new UpdateError('UPDATE_LOCKED', `cannot take ${file}`)
}

/**
 * Makes sure the files the current database was built from are kept, so that the next refresh can
 * diff against them. When they are not kept yet (the database came from `marquee ingest`), the
 * files of the data directory are kept if they are still the ones the manifest names (same size and
 * modification time). Call before a download replaces them. Returns the kept set, or null.
 */
export async function keepBaseFiles(
  dbPath: string,
  base = readBase(resolve(dbPath)),
): Promise<KeptSources | null> {
  if (!base) return null
  const kept = await readKept(dbPath, base.generation, base.loaded)
  if (kept) return kept
  const sources = base.manifest?.files
  if (!sources || (base.manifest as { update?: unknown } | null)?.update) return null
  const files: { dataset: DatasetName; path: string }[] = []
  for (const dataset of base.loaded) {
    const f = sources.find((s) => s.dataset === dataset)
    if (!f) return null
    const s = await stat(f.file).catch(() => null)
    if (!s || s.size !== f.size || mtimeOf(s) !== f.mtime) return null
    files.push({ dataset, path: f.file })
  }
  const keptSet = await keepFiles(dbPath, base.generation, files)
  // The files may have changed while they were linked: check what was kept.
  for (const f of keptSet.files) {
    const src = sources.find((s) => s.dataset === f.dataset)!
    if (f.size !== src.size || f.mtime !== src.mtime) {
      await rm(keptSet.dir, { recursive: true, force: true })
      return null
    }
  }
  return keptSet
}

/** Refreshes (or builds) the database at opts.dbPath from the files in opts.dataDir. */
export async function update(opts: UpdateOptions): Promise<UpdateSummary> {
  const started = performance.now()
  const dbPath = resolve(opts.dbPath)
  const emit = (e: UpdateProgress) => opts.onProgress?.(e)
  if (opts.signal?.aborted) throw aborted(opts.signal)
  await mkdir(dirname(dbPath), { recursive: true })
  const unlock = await lock(dbPath)
  try {
    const base = readBase(dbPath)
    const datasets = base?.loaded ?? [...DATASET_NAMES]
    const why = await incrementalBlocker(dbPath, base, opts)
    if (why === null) {
      const kept = (await keepBaseFiles(dbPath, base))!
      try {
        return await refresh(dbPath, base!, kept, opts, started)
      } catch (err) {
        if (!(err instanceof Fallback)) throw err
        emit({ type: 'full', reason: err.message })
        return await rebuild(dbPath, base, datasets, opts, started, err.message)
      }
    }
    if (why !== 'unchanged') emit({ type: 'full', reason: why })
    return await rebuild(dbPath, base, datasets, opts, started, why)
  } finally {
    await unlock()
  }
}

/** Why the refresh cannot apply differences (null: it can). */
async function incrementalBlocker(
  dbPath: string,
  base: Base | null,
  opts: UpdateOptions,
): Promise<string | null> {
  if (opts.full) return 'a full rebuild was asked for (--full)'
  if (!base) return `there is no database at ${dbPath} yet`
  if (base.schemaVersion !== SCHEMA_VERSION) {
    return `the database has schema version ${base.schemaVersion}, this marquee writes ${SCHEMA_VERSION}`
  }
  if (!base.manifest) return 'the database has no manifest'
  const kept = await keepBaseFiles(dbPath, base)
  if (!kept) {
    return `the files generation ${base.generation} was built from are not kept (in ${dirname(dbPath)}/generations/), so there is nothing to compare the new files with`
  }
  return null
}

function aborted(signal: AbortSignal): UpdateError {
  return new UpdateError('UPDATE_ABORTED', 'update interrupted; nothing was replaced', {
    cause: signal.reason,
  })
}

/** A full rebuild through the ingest, keeping the files it was built from. */
async function rebuild(
  dbPath: string,
  base: Base | null,
  datasets: DatasetName[],
  opts: UpdateOptions,
  started: number,
  reason: string,
): Promise<UpdateSummary> {
  // Link the files first, so that what is kept is what the ingest read even if a download runs.
  const files = datasets.map((dataset) => ({ dataset, path: datasetPath(opts.dataDir, dataset) }))
  for (const f of files) await statDataset(f.path, f.dataset)
  const staged = await stageFiles(dbPath, files)
  try {
    let summary: IngestSummary
    try {
      summary = await ingest({
        dataDir: opts.dataDir,
        dbPath,
        only: datasets.length === DATASET_NAMES.length ? undefined : datasets,
        signal: opts.signal,
        onProgress: (event) => opts.onProgress?.({ type: 'ingest', event }),
      })
    } catch (err) {
      if (opts.signal?.aborted) throw aborted(opts.signal)
      throw err
    }
    opts.onProgress?.({ type: 'phase', phase: 'keep' })
    const same = staged.files.every((k) => {
      const src = summary.files.find((f) => f.dataset === k.dataset)
      return src !== undefined && src.size === k.size && src.mtime === k.mtime
    })
    if (same) await commitStaged(dbPath, staged, summary.generation)
    else await discardStaged(staged)
    await pruneGenerations(dbPath, [summary.generation])
    return {
      mode: 'full',
      reason,
      generation: summary.generation,
      previousGeneration: base?.generation ?? null,
      files: [],
      timings: { ingest: summary.durationMs },
      durationMs: Math.round(performance.now() - started),
      manifest: summary,
    }
  } catch (err) {
    await discardStaged(staged)
    throw err
  }
}

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

/** The files FTS rows are made of. */
const FTS_INPUTS: readonly DatasetName[] = ['title.basics', 'title.akas', 'name.basics']

/** Changes held for one file at most: past this a full rebuild is both cheaper and leaner. */
const MAX_CHANGED_BYTES = 256 << 20

/** The apply order: ratings first (titles' rating columns and popularity read the new table). */
const APPLY_FIRST: DatasetName = 'title.ratings'

async function refresh(
  dbPath: string,
  base: Base,
  kept: KeptSources,
  opts: UpdateOptions,
  started: number,
): Promise<UpdateSummary> {
  const emit = (e: UpdateProgress) => opts.onProgress?.(e)
  const startedAt = new Date()
  const timings: Record<string, number> = {}
  const datasets = base.loaded
  emit({ type: 'phase', phase: 'prepare' })
  const newFiles = datasets.map((dataset) => ({ dataset, path: datasetPath(opts.dataDir, dataset) }))
  const stats = await Promise.all(newFiles.map((f) => statDataset(f.path, f.dataset)))

  // The same files (links to them, as after a download that found nothing new): nothing to do.
  const inodes = await Promise.all(
    newFiles.map(async (f, i) => {
      const [a, b] = await Promise.all([stat(f.path), stat(kept.files[i].path)])
      return a.ino === b.ino && a.dev === b.dev
    }),
  )
  if (inodes.every(Boolean)) {
    return {
      mode: 'unchanged',
      reason: null,
      generation: base.generation,
      previousGeneration: base.generation,
      files: [],
      timings,
      durationMs: Math.round(performance.now() - started),
      manifest: base.manifest,
    }
  }

  const staged = await stageFiles(dbPath, newFiles)
  const tmpPath = `${dbPath}.updating-${process.pid}`
  const workers: Worker[] = []
  let db: Database | null = null
  const local = new AbortController()
  const onAbort = () => local.abort(opts.signal?.reason)
  opts.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    // The copy runs (on libuv's threads) while the diffs run on theirs.
    emit({ type: 'phase', phase: 'diff' })
    const t0all = performance.now()
    let t = t0all
    const copying = copyDatabase(dbPath, tmpPath).then(() => {
      timings.copy = Math.round(performance.now() - t)
    })
    copying.catch(() => {})
    const diffs = runDiffs(
      datasets,
      kept,
      staged,
      stats.map((s) => s.size),
      opts,
      local.signal,
      workers,
      emit,
    )

    const generation = generationId(startedAt)
    const changes: FileDiff[] = []
    // The new title.ratings, once its diff arrives (applied first: other rows read it).
    const ctx: ApplyContext = {
      loaded: new Set(datasets),
      ratings: { ids: new Float64Array(0), votes: new Float64Array(0), avg: new Float64Array(0) },
    }
    let applier: Applier | null = null
    const pending: FileDiff[] = []
    // FTS rows depend on titles, akas and names only: written as soon as those are in, while the
    // other diffs still run, rather than in a single-threaded tail.
    const ftsInputs = FTS_INPUTS.filter((d) => datasets.includes(d))
    let ftsDone = false
    const applyReady = () => {
      while (pending.length > 0) {
        // Ratings first when they are loaded: the other files' rows read the new ratings.
        const first = datasets.includes(APPLY_FIRST) && !changes.some((c) => c.dataset === APPLY_FIRST)
        const i = first ? pending.findIndex((d) => d.dataset === APPLY_FIRST) : 0
        if (i < 0) return
        const d = pending.splice(i, 1)[0]
        const t0 = performance.now()
        applier!.apply(d)
        timings[`apply ${d.dataset}`] =
          (timings[`apply ${d.dataset}`] ?? 0) + Math.round(performance.now() - t0)
        changes.push(d)
      }
      if (!ftsDone && ftsInputs.every((f) => changes.some((c) => c.dataset === f && !c.partial))) {
        ftsDone = true
        emit({ type: 'phase', phase: 'fts' })
        const t0 = performance.now()
        applier!.finishFts()
        timings.fts = Math.round(performance.now() - t0)
      }
    }
    for await (const result of diffs) {
      if (result.ratings) ctx.ratings = result.ratings
      const d = result.diff
      if (!d.partial) {
        // When each diff ended (ms from the start): what the refresh waited for.
        timings[`diff ${d.dataset} done at`] = Math.round(performance.now() - t0all)
        // Lines of the new file: counted, or the old count moved by the lines that changed.
        d.read ??= (base.manifest!.files.find((f) => f.dataset === d.dataset)?.read ?? 0) + d.readDelta
      }
      pending.push(result.diff)
      if (!applier) {
        await copying
        t = performance.now()
        db = openCopy(tmpPath, base.generation)
        db.exec('BEGIN')
        applier = new Applier(db, ctx)
      }
      applyReady()
    }
    if (!applier) throw new Fallback('nothing to diff')
    applyReady()
    timings.diff = Math.round(performance.now() - t0all)
    if (
      changes.every(
        (c) => c.insertRows === 0 && c.deleteRows === 0 && c.updateRows === 0 && !c.popularity?.length,
      )
    ) {
      // New files, same rows: keep serving the current generation.
      db!.close()
      db = null
      await rm(tmpPath, { force: true })
      await discardStaged(staged)
      return {
        mode: 'unchanged',
        reason: null,
        generation: base.generation,
        previousGeneration: base.generation,
        files: summaryFiles(
          changes.filter((c) => !c.partial),
          opts.dataDir,
        ),
        timings,
        durationMs: Math.round(performance.now() - started),
        manifest: base.manifest,
      }
    }

    if (!ftsDone) {
      emit({ type: 'phase', phase: 'fts' })
      t = performance.now()
      applier.finishFts()
      timings.fts = Math.round(performance.now() - t)
    }

    emit({ type: 'phase', phase: 'commit' })
    t = performance.now()
    const manifest = updateManifest(base, {
      generation,
      startedAt,
      changes: changes.filter((c) => !c.partial),
      stats: newFiles.map((f, i) => ({ ...f, ...stats[i] })),
      deltas: applier.deltas,
      timings,
      kept: dirname(kept.dir),
    })
    const put = db!.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)')
    put.run('generation', generation)
    put.run('manifest', JSON.stringify(manifest))
    put.run('cursor_secret', newCursorSecret())
    db!.exec('COMMIT')
    applier.saveFtsTotals()
    // Fresh statistics where a table changed much (cheap when none did).
    db!.pragma('analysis_limit = 1000')
    db!.pragma('optimize')
    db!.pragma('journal_mode = DELETE')
    db!.close()
    db = null
    timings.commit = Math.round(performance.now() - t)

    if (local.signal.aborted) throw aborted(local.signal)
    emit({ type: 'phase', phase: 'swap' })
    // As the ingest: a stale journal next to the new file would be replayed into it.
    await rm(`${dbPath}-wal`, { force: true })
    await rm(`${dbPath}-shm`, { force: true })
    await rm(`${dbPath}-journal`, { force: true })
    await rename(tmpPath, dbPath)

    emit({ type: 'phase', phase: 'keep' })
    // Every new file was read through (or equal to a checked one where it was not): in order.
    await commitStaged(dbPath, staged, generation, true)
    await pruneGenerations(dbPath, [generation])
    const durationMs = Math.round(performance.now() - started)
    manifest.durationMs = durationMs
    return {
      mode: 'incremental',
      reason: null,
      generation,
      previousGeneration: base.generation,
      files: summaryFiles(
        changes.filter((c) => !c.partial),
        opts.dataDir,
      ),
      timings,
      durationMs,
      manifest,
    }
  } catch (err) {
    local.abort(err)
    if (db?.open) db.close()
    await Promise.all(workers.map((w) => w.terminate()))
    await rm(tmpPath, { force: true })
    await rm(`${tmpPath}-journal`, { force: true })
    await discardStaged(staged)
    if (opts.signal?.aborted) throw aborted(opts.signal)
    if (err instanceof DatasetError || err instanceof UpdateError || err instanceof Fallback) throw err
    // Anything else (a constraint the diff should have made impossible, a disk error...): the full
    // rebuild is the safe answer, and says so.
    throw new Fallback(`applying the changes failed (${(err as Error).message})`)
  } finally {
    opts.signal?.removeEventListener('abort', onAbort)
    await Promise.all(workers.map((w) => w.terminate()))
  }
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

/**
 * Runs the diff jobs on worker threads; yields each result as it completes. name.basics waits for
 * title.ratings, whose new table and changed votes it needs for popularity.
 */
async function* runDiffs(
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

/**
 * The manifest of a refreshed generation: the base's, with the new files, counts moved by what
 * changed, table rows moved by the apply, and an `update` section. Table bytes and dangling
 * references are those of the last full ingest (`update.danglingAsOf`): counting them again would
 * read every row.
 */
function updateManifest(
  base: Base,
  u: {
    generation: string
    startedAt: Date
    changes: FileDiff[]
    stats: { dataset: DatasetName; path: string; size: number; mtimeMs: number }[]
    deltas: Record<string, number>
    timings: Record<string, number>
    kept: string
  },
): IngestSummary & { update: unknown } {
  const m = base.manifest!
  const files: FileSummary[] = m.files.map((f) => {
    const c = u.changes.find((x) => x.dataset === f.dataset)
    const s = u.stats.find((x) => x.dataset === f.dataset)
    if (!c || !s) return f
    return {
      ...f,
      file: s.path,
      size: s.size,
      mtime: mtimeOf(s),
      read: c.read ?? f.read,
      kept: f.kept + c.counts.inserted - c.counts.deleted,
      skipped: Math.max(0, f.skipped + c.badNew - c.badOld),
      outOfOrder: 0,
      ms: c.ms,
    }
  })
  const tables: IngestSummary['tables'] = {}
  for (const [name, t] of Object.entries(m.tables)) {
    const delta =
      name === 'titles_fts'
        ? (u.deltas.titles ?? 0)
        : name === 'names_fts'
          ? (u.deltas.names ?? 0)
          : (u.deltas[name] ?? 0)
    tables[name] = { rows: t.rows + delta, bytes: t.bytes }
  }
  const finished = new Date()
  const prev = (m as IngestSummary & { update?: { danglingAsOf?: string } }).update
  return {
    ...m,
    generation: u.generation,
    files,
    tables,
    timings: u.timings,
    startedAt: u.startedAt.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - u.startedAt.getTime(),
    totals: totalsOf(files),
    update: {
      mode: 'incremental',
      from: base.generation,
      changes: Object.fromEntries(u.changes.map((c) => [c.dataset, c.counts])),
      danglingAsOf: prev?.danglingAsOf ?? base.generation,
      sourcesKeptIn: u.kept,
    },
  }
}
