import { randomBytes } from 'node:crypto'
import type { DB } from './sql.js'

export interface DatasetMeta {
  generation: string | null
  schemaVersion: number | null
  /** The ingest's manifest (JSON in the meta table), or null. */
  manifest: unknown
  /** The key that seals the generation's cursors (random per generation), or null (older databases). */
  cursorSecret: string | null
}

/** A fresh `cursor_secret` meta value: every way of making a generation writes one. */
export function newCursorSecret(): string {
  return randomBytes(32).toString('base64url')
}

/** The meta table as one object. */
export async function datasetMeta(db: DB): Promise<DatasetMeta> {
  const rows = await db.selectFrom('meta').select(['key', 'value']).execute()
  const meta = new Map(rows.map((r) => [r.key, r.value]))
  let manifest: unknown = null
  const raw = meta.get('manifest')
  if (raw !== undefined) {
    try {
      manifest = JSON.parse(raw)
    } catch {
      manifest = null
    }
  }
  const version = meta.get('schema_version')
  return {
    generation: meta.get('generation') ?? null,
    schemaVersion: version === undefined ? null : Number(version),
    manifest,
    cursorSecret: meta.get('cursor_secret') ?? null,
  }
}
