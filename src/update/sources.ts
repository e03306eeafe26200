/**
 * The source files of a generation, kept for the next refresh to diff against:
 * `<db dir>/generations/<generation>/` holds hard links to (or, across file systems, copies of) the
 * `.tsv.gz` files the database was built from, and `source.json` saying which database and which
 * generation they belong to. A download replaces files in the data directory by renaming, so a link
 * keeps the old bytes while the data directory moves on.
 */

import { copyFile, link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import type { DatasetName } from '../datasets/catalogue.js'
import { datasetPath } from '../datasets/reader.js'
import { mtimeOf } from '../ingest/manifest.js'
import { processAlive } from '../process-alive.js'

export interface KeptFile {
  dataset: DatasetName
  /** Where it is kept. */
  path: string
  size: number
  mtime: string
}

export interface KeptSources {
  db: string
  generation: string
  dir: string
  files: KeptFile[]
  /** The files were checked to be in IMDb's order (a refresh read them all as new files). */
  sorted?: boolean
}

export function generationsDir(dbPath: string): string {
  return join(dirname(resolve(dbPath)), 'generations')
}

export function keptDir(dbPath: string, generation: string): string {
  return join(generationsDir(dbPath), generation)
}

/** Hard-links `src` to `dest`, or copies it when a link is impossible (another file system...). */
export async function linkOrCopy(src: string, dest: string): Promise<'link' | 'copy'> {
  await rm(dest, { force: true })
  try {
    await link(src, dest)
    return 'link'
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw err
    await copyFile(src, dest)
    return 'copy'
  }
}

/** The kept files of a generation, when all of `datasets` are there. */
export async function readKept(
  dbPath: string,
  generation: string,
  datasets: readonly DatasetName[],
): Promise<KeptSources | null> {
  const dir = keptDir(dbPath, generation)
  let meta: KeptSources
  try {
    meta = JSON.parse(await readFile(join(dir, 'source.json'), 'utf8')) as KeptSources
  } catch {
    return null
  }
  if (meta.generation !== generation) return null
  const files: KeptFile[] = []
  for (const d of datasets) {
    const f = meta.files.find((x) => x.dataset === d)
    if (!f) return null
    const path = join(dir, f.path)
    const s = await stat(path).catch(() => null)
    if (!s || s.size !== f.size) return null
    files.push({ ...f, path })
  }
  return { ...meta, dir, files }
}

/** Files linked into a staging directory, to be kept as a generation's sources once it exists. */
export interface StagedFiles {
  dir: string
  files: KeptFile[]
}

/**
 * Links `files` into a staging directory under generations/, so they stay as they are whatever
 * happens in the data directory meanwhile (a download renames new files over them).
 */
export async function stageFiles(
  dbPath: string,
  files: readonly { dataset: DatasetName; path: string }[],
): Promise<StagedFiles> {
  const dir = join(generationsDir(dbPath), `.incoming-${process.pid}-${Date.now()}`)
  await mkdir(dir, { recursive: true })
  try {
    const kept: KeptFile[] = []
    for (const f of files) {
      const path = join(dir, datasetPath('', f.dataset))
      await linkOrCopy(f.path, path)
      const s = await stat(path)
      kept.push({ dataset: f.dataset, path, size: s.size, mtime: mtimeOf(s) })
    }
    return { dir, files: kept }
  } catch (err) {
    await rm(dir, { recursive: true, force: true })
    throw err
  }
}

/** Makes staged files the kept sources of `generation` (replacing an older copy). */
export async function commitStaged(
  dbPath: string,
  staged: StagedFiles,
  generation: string,
  sorted = false,
): Promise<KeptSources> {
  const dir = keptDir(dbPath, generation)
  const files = staged.files.map((f) => ({ ...f, path: f.path.slice(staged.dir.length + 1) }))
  const meta = { db: resolve(dbPath), generation, files, sorted }
  await writeFile(join(staged.dir, 'source.json'), `${JSON.stringify(meta, null, 2)}\n`)
  await rm(dir, { recursive: true, force: true })
  await rename(staged.dir, dir)
  return { ...meta, dir, files: files.map((k) => ({ ...k, path: join(dir, k.path) })) }
}

export async function discardStaged(staged: StagedFiles | null): Promise<void> {
  if (staged) await rm(staged.dir, { recursive: true, force: true })
}

/** Keeps `files` as the sources of `generation`. */
export async function keepFiles(
  dbPath: string,
  generation: string,
  files: readonly { dataset: DatasetName; path: string }[],
): Promise<KeptSources> {
  return commitStaged(dbPath, await stageFiles(dbPath, files), generation)
}

/** Removes the kept sources of this database's other generations, and abandoned staging directories. */
export async function pruneGenerations(dbPath: string, keep: readonly string[]): Promise<void> {
  const root = generationsDir(dbPath)
  const db = resolve(dbPath)
  const names = await readdir(root).catch(() => [] as string[])
  for (const name of names) {
    const dir = join(root, name)
    const staging = /^\.incoming-(\d+)-/.exec(name)
    if (staging) {
      if (!processAlive(Number(staging[1]))) await rm(dir, { recursive: true, force: true })
      continue
    }
    if (keep.includes(name)) continue
    const meta = await readFile(join(dir, 'source.json'), 'utf8')
      .then((t) => JSON.parse(t) as KeptSources)
      .catch(() => null)
    if (meta?.db === db) await rm(dir, { recursive: true, force: true })
  }
}
