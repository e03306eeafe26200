import { randomBytes } from 'node:crypto'
import type { DatasetName } from '../datasets/catalogue.js'

export interface DatasetInfo {
  generation: string
  loadedAt: string | null
  /** The IMDb files loaded into this generation (the manifest's `loaded`). */
  datasets: string[]
  manifest: unknown
}

interface Manifest {
  loaded?: string[]
  notLoaded?: string[]
  finishedAt?: string
}

/** Bump when a response shape changes, so caches do not serve the old shape under the old ETag. */
const API_REVISION = 'r1'

/**
 * One loaded dataset generation (a database file, or a PostgreSQL schema). Requests pin it; a hot
 * swap retires it, and once none holds it its backend frees it.
 */
export class Generation {
  refs = 0
  retired = false
  readonly loaded: ReadonlySet<string>
  readonly notLoaded: ReadonlySet<string>
  /** Strong validator of every representation served from this generation. */
  readonly etag: string
  /** HTTP date of the ingest that built it. */
  readonly lastModified: string | null
  /**
   * Seals the generation's cursors (routes/titles/cursor.ts): its `cursor_secret`, or for a database
   * written before those existed a key of this process's own (its cursors then end with the process).
   */
  readonly cursorKey: Buffer

  constructor(
    readonly id: string,
    /** Where its queries go: the (pinned) database file, or the PostgreSQL schema. */
    readonly dbPath: string,
    readonly manifest: unknown,
    cursorSecret: string | null = null,
  ) {
    this.cursorKey = cursorSecret ? Buffer.from(cursorSecret, 'base64url') : randomBytes(32)
    const m = (manifest ?? {}) as Manifest
    this.loaded = new Set(m.loaded ?? [])
    this.notLoaded = new Set(m.notLoaded ?? [])
    this.etag = `"${id}.${API_REVISION}"`
    const finished = m.finishedAt ? new Date(m.finishedAt) : null
    this.lastModified = finished && !Number.isNaN(finished.getTime()) ? finished.toUTCString() : null
  }

  /** Whether `dataset` was ingested (a database without a manifest counts as complete). */
  has(dataset: DatasetName): boolean {
    if (this.loaded.size === 0 && this.notLoaded.size === 0) return true
    return this.loaded.has(dataset)
  }

  info(): DatasetInfo {
    const m = (this.manifest ?? {}) as Manifest
    return {
      generation: this.id,
      loadedAt: m.finishedAt ?? null,
      datasets: [...this.loaded],
      manifest: this.manifest,
    }
  }
}
