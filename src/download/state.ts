import { open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { processAlive } from '../process-alive.js'
import { LocalIoError } from './errors.js'

/**
 * What the download keeps next to each file, all in the target directory:
 * - `<file>`: the last verified file, replaced only by an atomic rename;
 * - `.<file>.meta.json`: its validators (ETag, Last-Modified) and size, for conditional requests;
 * - `<file>.part`: an unfinished download, resumed with `Range` on the next attempt or run;
 * - `.<file>.part.json`: the validators of the response the `.part` came from, for `If-Range`.
 */
export interface FilePaths {
  readonly dest: string
  readonly meta: string
  readonly part: string
  readonly partMeta: string
}

export function filePaths(dir: string, file: string): FilePaths {
  return {
    dest: path.join(dir, file),
    meta: path.join(dir, `.${file}.meta.json`),
    part: path.join(dir, `${file}.part`),
    partMeta: path.join(dir, `.${file}.part.json`),
  }
}

/** The validators of one response. */
export interface Validators {
  etag: string | null
  lastModified: string | null
}

/** The sidecar of a complete, verified file. */
export interface FileMeta extends Validators {
  size: number
  url: string
  downloadedAt: string
}

/** The sidecar of a `.part` file. `total` is the full size the server announced, when it did. */
export interface PartMeta extends Validators {
  total: number | null
  url: string
}

const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null)

/** Reads a sidecar; a missing or unreadable one is `null` (the file is then simply fetched again). */
async function readJson(file: string): Promise<Record<string, unknown> | null> {
  try {
    const v: unknown = JSON.parse(await readFile(file, 'utf8'))
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null
  } catch {
    return null
  }
}

export async function readFileMeta(file: string): Promise<FileMeta | null> {
  const v = await readJson(file)
  if (!v || typeof v.size !== 'number' || !Number.isSafeInteger(v.size)) return null
  return {
    etag: str(v.etag),
    lastModified: str(v.lastModified),
    size: v.size,
    url: str(v.url) ?? '',
    downloadedAt: str(v.downloadedAt) ?? '',
  }
}

export async function readPartMeta(file: string): Promise<PartMeta | null> {
  const v = await readJson(file)
  if (!v) return null
  const total = typeof v.total === 'number' && Number.isSafeInteger(v.total) ? v.total : null
  return { etag: str(v.etag), lastModified: str(v.lastModified), total, url: str(v.url) ?? '' }
}

/** Writes a sidecar atomically: a temporary file in the same directory, renamed over the old one. */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`)
  await rename(tmp, file)
}

export async function sizeOf(file: string): Promise<number | null> {
  try {
    const s = await stat(file)
    return s.isFile() ? s.size : null
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
}

/** Drops an unfinished download and its validators. */
export async function discardPart(p: FilePaths): Promise<void> {
  await rm(p.part, { force: true })
  await rm(p.partMeta, { force: true })
}

/** Flushes a file to disk, so the rename that installs it never exposes unwritten data after a crash. */
export async function fsyncFile(file: string): Promise<void> {
  const fh = await open(file, 'r+')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/** Another download is already writing into the same directory. */
export class DownloadLockedError extends Error {
  readonly code = 'DOWNLOAD_LOCKED'
  constructor(
    readonly lockFile: string,
    readonly pid: number,
  ) {
    super(
      `another marquee download (pid ${pid}) is already writing into ${path.dirname(lockFile)}; ` +
        `wait for it to finish, or delete ${lockFile} if that process no longer exists`,
    )
    this.name = 'DownloadLockedError'
  }
}

/**
 * Takes `<dir>/.download.lock` (created exclusively, holding our pid) so that two runs never
 * write the same `.part` files. A lock left by a process that no longer exists is taken over.
 * Returns the release function.
 */
export async function acquireLock(dir: string): Promise<() => Promise<void>> {
  const lockFile = path.join(dir, '.download.lock')
  for (let tries = 0; ; tries++) {
    try {
      await writeFile(lockFile, `${process.pid}\n`, { flag: 'wx' })
      return () => rm(lockFile, { force: true })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new LocalIoError(`cannot create ${lockFile}: ${(err as Error).message}`, { cause: err })
      }
      if (tries >= 2) throw err
    }
    const pid = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim())
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) {
      throw new DownloadLockedError(lockFile, pid)
    }
    if (pid === process.pid) throw new DownloadLockedError(lockFile, pid)
    await rm(lockFile, { force: true })
  }
}
