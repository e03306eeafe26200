import { existsSync } from 'node:fs'
import Database from 'better-sqlite3'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/**
 * MINIMAL PLACEHOLDER written by the lead so /ready works; the query-layer engineer replaces it
 * with the real dataset service (worker pool, per-request handle, generations). Keep `info()`.
 */
export interface DatasetInfo {
  generation: string
  loadedAt: string | null
  datasets: string[]
  manifest: unknown
}

export interface DatasetService {
  /** The loaded generation, or null when no dataset is loaded. */
  info(): DatasetInfo | null
}

declare module 'fastify' {
  interface FastifyInstance {
    dataset: DatasetService
  }
}

function readInfo(dbPath: string): DatasetInfo | null {
  if (!existsSync(dbPath)) return null
  const db = new Database(dbPath, { readonly: true, fileMustExist: true })
  try {
    const rows = db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]
    const meta = new Map(rows.map((r) => [r.key, r.value]))
    const generation = meta.get('generation')
    if (!generation) return null
    const manifest = meta.has('manifest') ? JSON.parse(meta.get('manifest')!) : null
    return {
      generation,
      loadedAt: manifest?.finishedAt ?? null,
      datasets: manifest?.files ? Object.keys(manifest.files) : [],
      manifest,
    }
  } finally {
    db.close()
  }
}

async function datasetPlugin(app: FastifyInstance, opts: { dbPath: string }) {
  const info = readInfo(opts.dbPath)
  app.decorate('dataset', { info: () => info })
}

export default fp(datasetPlugin, { name: 'marquee-dataset' })
