/**
 * Hot swap of the dataset database: a running server moves to a newer database file without
 * dropping or failing a request.
 *
 * A refresh or an ingest never writes the served file: it renames a new file over it. Each loaded
 * generation is opened through a hard link of its own (`<db dir>/.marquee-live/<db>.<pid>.<n>`),
 * so its path names its inode for as long as it lives: requests pin a generation through the
 * dataset service and every query they run (on any worker, even one started after the swap) opens
 * that generation's file, never the newer one that replaced it. New requests get the new
 * generation; once the last request of a retired generation is done, the pool's workers close
 * their connections to it and its link is removed, which frees the old file.
 *
 * Triggers: `reload()` (SIGHUP in `marquee serve`, POST /admin/reload), and a watch of the
 * database's directory (fs.watch, plus a periodic stat in case events are lost; debounced; only the
 * database's own name counts, so the ingest's and the refresh's temporary files are ignored). A new
 * file is loaded only when its `meta` generation differs from the one being served.
 */

import { EventEmitter } from 'node:events'
import { type FSWatcher, watch } from 'node:fs'
import { link, mkdir, readdir, stat, unlink } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import Database from '../db/sqlite/driver.js'
import { QueryPool } from '../pool/pool.js'
import { processAlive } from '../process-alive.js'
import type { Generation } from './dataset.js'

export interface ReloadPluginOptions {
  dbPath: string
  /** Stat the database every this many ms (and watch its directory); 0 turns watching off. */
  watchMs: number
  /** Quiet time after a file event before loading, in ms. */
  debounceMs?: number
}

export interface ReloadResult {
  /** The generation served after the reload (null: none is loaded). */
  generation: string | null
  /** The generation served before. */
  previous: string | null
  /** Whether a new generation was loaded. */
  changed: boolean
}

export interface DatasetReloader {
  /** Loads the database file if it holds another generation than the one served. Serialized. */
  reload(reason: string): Promise<ReloadResult>
  /** Retired generations still finishing requests. */
  draining(): number
  /**
   * 'loaded' (generation, previous); 'drained' (generation): a retired generation's last request
   * ended; 'checked' (ReloadResult): a reload looked at the file, whatever it found (not emitted
   * when the reload fails: that failure goes to its caller).
   */
  readonly events: EventEmitter
}

declare module 'fastify' {
  interface FastifyInstance {
    datasetReload: DatasetReloader
  }
}

/** Where the per-generation links live. */
export function liveDir(dbPath: string): string {
  return join(dirname(resolve(dbPath)), '.marquee-live')
}

function generationOf(path: string): string | null {
  let db: Database | null = null
  try {
    db = new Database(path, { readonly: true, fileMustExist: true })
    const v = db.prepare("SELECT value FROM meta WHERE key = 'generation'").pluck().get()
    return typeof v === 'string' ? v : null
  } catch {
    return null
  } finally {
    db?.close()
  }
}

/** The identity of a file version: a rename puts another inode at the path. */
async function identity(path: string): Promise<string | null> {
  const s = await stat(path).catch(() => null)
  return s ? `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}` : null
}

async function reloadPlugin(app: FastifyInstance, opts: ReloadPluginOptions) {
  const dbPath = resolve(opts.dbPath)
  const dir = liveDir(dbPath)
  const base = basename(dbPath)
  const service = app.dataset
  const pool = service.executor instanceof QueryPool ? service.executor : null
  const events = new EventEmitter()
  /** Links this process made, by path. */
  const links = new Set<string>()
  const retired = new Set<Generation>()
  let seq = 0
  let linksWork = true
  /** The file version last looked at (loaded or found to hold the served generation). */
  let seen: string | null = null

  try {
    await mkdir(dir, { recursive: true })
  } catch (err) {
    // A read-only directory, say: serve the plain path (see pin()).
    linksWork = false
    app.log.warn({ err, dir }, 'cannot create the directory of per-generation links')
  }
  // Links of processes that are gone.
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const m = /\.(\d+)\.\d+$/.exec(name)
    if (name.startsWith(`${base}.`) && m && !processAlive(Number(m[1])))
      await unlink(join(dir, name)).catch(() => {})
  }

  /** A stable path to the file now at dbPath: a fresh hard link, or dbPath itself if links fail. */
  const pin = async (): Promise<string> => {
    if (!linksWork) return dbPath
    const path = join(dir, `${base}.${process.pid}.${++seq}`)
    try {
      await link(dbPath, path)
      links.add(path)
      return path
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw err
      linksWork = false
      app.log.warn(
        { err, dir },
        'cannot hard-link the dataset database: generations share its path, so a request in flight during a swap may read the newer file',
      )
      return dbPath
    }
  }

  const unpin = async (path: string) => {
    if (!links.delete(path)) return
    await unlink(path).catch(() => {})
  }

  /** A retired generation no request uses any more: close its connections, free its file. */
  const drained = (g: Generation) => {
    if (!retired.delete(g)) return
    void (pool?.evict(g.dbPath) ?? Promise.resolve())
      .catch(() => {})
      .then(() => unpin(g.dbPath))
      .then(() => events.emit('drained', g))
  }
  service.events.on('release', (g: Generation) => {
    if (g.retired && g.refs === 0) drained(g)
  })

  const load = async (reason: string, force: boolean): Promise<ReloadResult> => {
    const previous = service.current()
    const version = await identity(dbPath)
    if (version === null)
      return { generation: previous?.id ?? null, previous: previous?.id ?? null, changed: false }
    const path = await pin()
    const generation = generationOf(path)
    if (generation === null || (generation === previous?.id && !force)) {
      seen = version
      if (path !== dbPath) await unpin(path)
      if (generation === null)
        app.log.warn({ db: dbPath, reason }, 'reload: the file holds no dataset generation')
      return { generation: previous?.id ?? null, previous: previous?.id ?? null, changed: false }
    }
    const next = await service.load(path)
    if (next === null) {
      await unpin(path)
      return { generation: previous?.id ?? null, previous: previous?.id ?? null, changed: false }
    }
    seen = version
    if (previous && previous !== next) {
      retired.add(previous)
      if (previous.refs === 0) drained(previous)
    }
    if (previous?.id !== next.id) {
      app.log.info(
        { generation: next.id, previous: previous?.id ?? null, reason },
        'dataset generation loaded',
      )
      events.emit('loaded', next, previous)
    }
    return { generation: next.id, previous: previous?.id ?? null, changed: previous?.id !== next.id }
  }

  // One reload at a time; a request while one runs is served by the next one after it.
  let chain: Promise<unknown> = Promise.resolve()
  const reload = (reason: string, force = false): Promise<ReloadResult> => {
    const run = chain.then(() => load(reason, force))
    chain = run.catch(() => {})
    // Outside the chain: a listener that throws must not fail the next reload.
    void run.then(
      (result) => {
        try {
          events.emit('checked', result)
        } catch (err) {
          app.log.error({ err }, "a listener of the reloader's 'checked' event failed")
        }
      },
      () => {},
    )
    return run
  }

  app.decorate('datasetReload', {
    reload: (reason: string) => reload(reason),
    draining: () => retired.size,
    events,
  } satisfies DatasetReloader)

  // The generation loaded at start was opened by its plain path: serve it through a link too, so
  // that a swap cannot change what its path names under requests in flight.
  if (service.current()?.dbPath === dbPath) await reload('start', true)

  let closed = false
  let watcher: FSWatcher | null = null
  let poll: NodeJS.Timeout | null = null
  let debounce: NodeJS.Timeout | null = null
  const schedule = () => {
    if (closed) return
    if (debounce) clearTimeout(debounce)
    debounce = setTimeout(() => {
      debounce = null
      reload('the database file changed').catch((err) => app.log.error({ err }, 'reload failed'))
    }, opts.debounceMs ?? 200)
    debounce.unref()
  }
  if (opts.watchMs > 0) {
    seen ??= await identity(dbPath)
    try {
      watcher = watch(dirname(dbPath), { persistent: false }, (_event, name) => {
        if (name === null || name === base) schedule()
      })
      watcher.on('error', (err) =>
        app.log.warn({ err }, 'watching the database directory failed; polling only'),
      )
    } catch (err) {
      app.log.warn({ err }, 'cannot watch the database directory; polling only')
    }
    poll = setInterval(() => {
      void identity(dbPath).then((v) => {
        if (v !== null && v !== seen && !debounce) schedule()
      })
    }, opts.watchMs)
    poll.unref()
  }

  app.addHook('onClose', async () => {
    closed = true
    watcher?.close()
    if (poll) clearInterval(poll)
    if (debounce) clearTimeout(debounce)
    await chain
    for (const path of [...links]) await unpin(path)
  })
}

export default fp(reloadPlugin, { name: 'marquee-reload', dependencies: ['marquee-dataset'] })
