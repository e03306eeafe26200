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

import { existsSync } from 'node:fs'
import { mkdir, open, readFile, rm, stat, unlink } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { DATASET_NAMES, type DatasetName, isDatasetName } from '../datasets/catalogue.js'
import { datasetPath, statDataset } from '../datasets/reader.js'
import Database from '../db/sqlite/driver.js'
import { SCHEMA_VERSION } from '../db/sqlite/schema.js'
import { type IngestSummary, ingest } from '../ingest/index.js'
import { mtimeOf } from '../ingest/manifest.js'
import { processAlive } from '../process-alive.js'
import { aborted, Fallback, UpdateError } from './errors.js'
import { refresh } from './refresh.js'
import {
  commitStaged,
  discardStaged,
  type KeptSources,
  keepFiles,
  pruneGenerations,
  readKept,
  stageFiles,
} from './sources.js'
import type { Base, UpdateOptions, UpdateProgress, UpdateSummary } from './types.js'

export { UpdateError, type UpdateErrorCode } from './errors.js'
export { generationsDir, keptDir } from './sources.js'
export type { Base, FileChange, UpdateOptions, UpdatePhase, UpdateProgress, UpdateSummary } from './types.js'

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
        history: opts.history,
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
