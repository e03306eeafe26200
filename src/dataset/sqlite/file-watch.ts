import { type FSWatcher, watch } from 'node:fs'
import { stat } from 'node:fs/promises'
import { basename, dirname } from 'node:path'
import type { WarningLog } from '../backend.js'

/** The identity of a file version: a rename puts another inode at the path. */
export async function fileVersion(path: string): Promise<string | null> {
  const s = await stat(path).catch(() => null)
  return s ? `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}` : null
}

export interface FileWatchOptions {
  /** Stat the file every this many ms (besides watching its directory). */
  pollMs: number
  /** Quiet time after a file event before `onChange`, in ms. */
  debounceMs: number
  /** The file version last seen: the poll reports only another one. */
  seen: () => string | null
}

/**
 * Calls `onChange` (debounced) when the file at `path` may have been replaced: fs.watch of its
 * directory, counting only events for its own name (so an ingest's or a refresh's temporary files
 * are ignored), and a periodic stat in case events are lost. Returns the function that stops it.
 */
export function watchFile(
  path: string,
  opts: FileWatchOptions,
  log: WarningLog,
  onChange: () => void,
): () => void {
  const base = basename(path)
  let closed = false
  let debounce: NodeJS.Timeout | null = null
  const schedule = () => {
    if (closed) return
    if (debounce) clearTimeout(debounce)
    debounce = setTimeout(() => {
      debounce = null
      onChange()
    }, opts.debounceMs)
    debounce.unref()
  }
  let watcher: FSWatcher | null = null
  try {
    watcher = watch(dirname(path), { persistent: false }, (_event, name) => {
      if (name === null || name === base) schedule()
    })
    watcher.on('error', (err) => log.warn({ err }, 'watching the database directory failed; polling only'))
  } catch (err) {
    log.warn({ err }, 'cannot watch the database directory; polling only')
  }
  const poll = setInterval(() => {
    void fileVersion(path).then((v) => {
      if (v !== null && v !== opts.seen() && !debounce) schedule()
    })
  }, opts.pollMs)
  poll.unref()
  return () => {
    closed = true
    watcher?.close()
    clearInterval(poll)
    if (debounce) clearTimeout(debounce)
  }
}
