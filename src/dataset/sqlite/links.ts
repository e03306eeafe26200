import { link, mkdir, readdir, unlink } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { processAlive } from '../../process-alive.js'
import type { WarningLog } from '../backend.js'

/** Where the per-generation links of a database live. */
export function liveDir(dbPath: string): string {
  return join(dirname(resolve(dbPath)), '.marquee-live')
}

/**
 * Per-generation hard links of the database file. A refresh or an ingest never writes the served
 * file: it renames a new file over it. Each loaded generation is opened through a link of its own
 * (`<db dir>/.marquee-live/<db>.<pid>.<n>`), so its path names its inode for as long as it lives:
 * every query of a request (on any worker, even one started after the swap) opens the generation
 * the request pinned, never the newer file that replaced it. Removing the link of a drained
 * generation frees the old file.
 */
export class GenerationLinks {
  readonly #dir: string
  readonly #base: string
  /** Links this process made. */
  readonly #links = new Set<string>()
  #seq = 0
  #works = true

  private constructor(
    readonly dbPath: string,
    private readonly log: WarningLog,
  ) {
    this.#dir = liveDir(dbPath)
    this.#base = basename(dbPath)
  }

  /** Creates the links' directory and removes the links of processes that are gone. */
  static async open(dbPath: string, log: WarningLog): Promise<GenerationLinks> {
    const links = new GenerationLinks(resolve(dbPath), log)
    try {
      await mkdir(links.#dir, { recursive: true })
    } catch (err) {
      // A read-only directory, say: serve the plain path (see pin()).
      links.#works = false
      log.warn({ err, dir: links.#dir }, 'cannot create the directory of per-generation links')
    }
    for (const name of await readdir(links.#dir).catch(() => [] as string[])) {
      const m = /\.(\d+)\.\d+$/.exec(name)
      if (name.startsWith(`${links.#base}.`) && m && !processAlive(Number(m[1])))
        await unlink(join(links.#dir, name)).catch(() => {})
    }
    return links
  }

  /** A stable path to the file now at dbPath: a fresh hard link, or dbPath itself if links fail. */
  async pin(): Promise<string> {
    if (!this.#works) return this.dbPath
    const path = join(this.#dir, `${this.#base}.${process.pid}.${++this.#seq}`)
    try {
      await link(this.dbPath, path)
      this.#links.add(path)
      return path
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw err
      this.#works = false
      this.log.warn(
        { err, dir: this.#dir },
        'cannot hard-link the dataset database: generations share its path, so a request in flight during a swap may read the newer file',
      )
      return this.dbPath
    }
  }

  /** Removes a link pin() made (the plain path is left alone). */
  async unpin(path: string): Promise<void> {
    if (!this.#links.delete(path)) return
    await unlink(path).catch(() => {})
  }

  async unpinAll(): Promise<void> {
    for (const path of [...this.#links]) await this.unpin(path)
  }
}
