import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { datasetMeta } from '../../db/queries/meta.js'
import { openDataset } from '../../db/sqlite/connection.js'
import { InlineExecutor } from '../../pool/inline.js'
import { QueryPool } from '../../pool/pool.js'
import type { QueryExecutor } from '../../pool/task.js'
import type { DatasetBackend, WarningLog } from '../backend.js'
import { Generation } from '../generation.js'
import { fileVersion, watchFile } from './file-watch.js'
import { GenerationLinks } from './links.js'

export interface SqliteBackendOptions {
  dbPath: string
  /** Query worker threads. */
  poolSize: number
  /** Run every query on the main thread (benchmark contrast). */
  inlineQueries?: boolean
  /** Run point lookups on the main thread. */
  inlinePointLookups?: boolean
  /** How long a cancelled query may take to reach its next tick before its worker is terminated. */
  cancelGraceMs?: number
  /** Modules adding queries to the registry, on the workers and inline (tests add slow queries). */
  extraQueryModules?: readonly string[]
  /** Stat the database every this many ms (and watch its directory); 0 turns watching off. */
  watchMs: number
  /** Quiet time after a file event before loading, in ms. */
  debounceMs?: number
  log: WarningLog
}

/** The generation in the database file at `path`, or null when it holds none. */
async function readGeneration(path: string): Promise<Generation | null> {
  if (!existsSync(path)) return null
  const conn = openDataset(path)
  try {
    const meta = await datasetMeta(conn.db)
    if (!meta.generation) return null
    return new Generation(meta.generation, path, meta.manifest, meta.cursorSecret)
  } finally {
    conn.close()
  }
}

/**
 * The dataset in a SQLite file: queries on a pool of worker threads (each with its own read-only
 * connection), or on the main thread; generations pinned by hard links (links.ts), so a swap (an
 * ingest or a refresh renaming a new file over the database) never changes what a request in
 * flight reads; the database's directory watched for such a swap.
 */
export class SqliteBackend implements DatasetBackend {
  readonly locationLabel = 'db'
  readonly executor: QueryExecutor
  readonly pointLookups: QueryExecutor
  /** The file version last looked at (loaded, or found to hold the served generation). */
  #seen: string | null = null
  /** The path the current generation is read through. */
  #served: string | null = null
  #stopWatching = () => {}

  private constructor(
    private readonly opts: SqliteBackendOptions,
    private readonly dbPath: string,
    private readonly pool: QueryPool | null,
    private readonly inline: InlineExecutor,
    private readonly links: GenerationLinks,
  ) {
    this.executor = pool ?? inline
    this.pointLookups = opts.inlinePointLookups ? inline : this.executor
  }

  static async open(opts: SqliteBackendOptions): Promise<SqliteBackend> {
    const extra = opts.extraQueryModules ?? []
    const inline = await InlineExecutor.create(extra)
    const pool = opts.inlineQueries
      ? null
      : new QueryPool({ size: opts.poolSize, extraQueryModules: extra, cancelGraceMs: opts.cancelGraceMs })
    const dbPath = resolve(opts.dbPath)
    return new SqliteBackend(opts, dbPath, pool, inline, await GenerationLinks.open(dbPath, opts.log))
  }

  async next(served: Generation | null): Promise<Generation | null> {
    const version = await fileVersion(this.dbPath)
    if (version === null) return null
    const path = await this.links.pin()
    const generation = await readGeneration(path).catch(async (err) => {
      await this.links.unpin(path)
      throw err
    })
    this.#seen = version
    if (generation === null || generation.id === served?.id) {
      await this.links.unpin(path)
      if (generation === null)
        this.opts.log.warn({ db: this.dbPath }, 'the database file holds no dataset generation')
      return null
    }
    this.#served = path
    // Replacement workers open the current generation's file while they boot.
    this.pool?.setWarmPath(path)
    if (served === null) await this.pool?.warmUp()
    return generation
  }

  async drained(g: Generation): Promise<void> {
    // Without links, generations share the plain path: its connections are the current one's.
    if (g.dbPath === this.#served) return
    this.inline.evict(g.dbPath)
    await this.pool?.evict(g.dbPath).catch(() => {})
    await this.links.unpin(g.dbPath)
  }

  async watch(onChange: () => void): Promise<void> {
    if (this.opts.watchMs <= 0) return
    this.#seen ??= await fileVersion(this.dbPath)
    this.#stopWatching = watchFile(
      this.dbPath,
      { pollMs: this.opts.watchMs, debounceMs: this.opts.debounceMs ?? 200, seen: () => this.#seen },
      this.opts.log,
      onChange,
    )
  }

  async close(): Promise<void> {
    this.#stopWatching()
    await this.executor.close()
    if (this.inline !== this.executor) await this.inline.close()
    await this.links.unpinAll()
  }
}
