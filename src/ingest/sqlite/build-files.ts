/** The files an ingest builds beside the database (`${dbPath}.building-<pid>` and `${that}-<name>`). */

import { readdir, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { processAlive } from '../../process-alive.js'

export const buildPathOf = (dbPath: string) => `${dbPath}.building-${process.pid}`

/** Removes the build file (unless `keepMain`) and the files built beside it (`${buildPath}-...`). */
export async function removeBuildFiles(buildPath: string, keepMain = false): Promise<void> {
  const dir = dirname(buildPath)
  const base = basename(buildPath)
  const names = await readdir(dir).catch(() => [] as string[])
  const doomed = names.filter((n) => n.startsWith(`${base}-`) || (n === base && !keepMain))
  await Promise.all(doomed.map((n) => rm(join(dir, n), { force: true })))
}

/** Build files left by an ingest that was killed (kill -9, power loss): their process is gone. */
export async function removeStaleBuilds(dbPath: string): Promise<void> {
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

/** Moves the built file over dbPath. */
export async function swapInto(buildPath: string, dbPath: string): Promise<void> {
  // A stale -wal next to the new file would be replayed into it: remove the old one's first.
  await rm(`${dbPath}-wal`, { force: true })
  await rm(`${dbPath}-shm`, { force: true })
  await rm(`${dbPath}-journal`, { force: true })
  await rename(buildPath, dbPath)
}
