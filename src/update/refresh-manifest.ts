import type { DatasetName } from '../datasets/catalogue.js'
import type { ManifestChanges } from '../db/history.js'
import type { IngestSummary } from '../ingest/index.js'
import { type FileSummary, mtimeOf, totalsOf } from '../ingest/manifest.js'
import type { FileDiff } from './diff.js'
import type { Base } from './types.js'

/**
 * The manifest of a refreshed generation: the base's, with the new files, counts moved by what
 * changed, table rows moved by the apply, and an `update` section. Table bytes and dangling
 * references are those of the last full ingest (`update.danglingAsOf`): counting them again would
 * read every row.
 */
export function updateManifest(
  base: Base,
  u: {
    generation: string
    startedAt: Date
    changes: FileDiff[]
    stats: { dataset: DatasetName; path: string; size: number; mtimeMs: number }[]
    deltas: Record<string, number>
    timings: Record<string, number>
    kept: string
    /** The change set recorded for the history (manifest `changes`). */
    history: ManifestChanges | null
  },
): IngestSummary & { update: unknown } {
  const m = base.manifest!
  const files: FileSummary[] = m.files.map((f) => {
    const c = u.changes.find((x) => x.dataset === f.dataset)
    const s = u.stats.find((x) => x.dataset === f.dataset)
    if (!c || !s) return f
    return {
      ...f,
      file: s.path,
      size: s.size,
      mtime: mtimeOf(s),
      read: c.read ?? f.read,
      kept: f.kept + c.counts.inserted - c.counts.deleted,
      skipped: Math.max(0, f.skipped + c.badNew - c.badOld),
      outOfOrder: 0,
      ms: c.ms,
    }
  })
  const tables: IngestSummary['tables'] = {}
  for (const [name, t] of Object.entries(m.tables)) {
    const delta =
      name === 'titles_fts'
        ? (u.deltas.titles ?? 0)
        : name === 'names_fts'
          ? (u.deltas.names ?? 0)
          : (u.deltas[name] ?? 0)
    tables[name] = { rows: t.rows + delta, bytes: t.bytes }
  }
  const finished = new Date()
  const prev = (m as IngestSummary & { update?: { danglingAsOf?: string } }).update
  return {
    ...m,
    generation: u.generation,
    files,
    tables,
    timings: u.timings,
    startedAt: u.startedAt.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - u.startedAt.getTime(),
    totals: totalsOf(files),
    changes: u.history,
    update: {
      mode: 'incremental',
      from: base.generation,
      changes: Object.fromEntries(u.changes.map((c) => [c.dataset, c.counts])),
      danglingAsOf: prev?.danglingAsOf ?? base.generation,
      sourcesKeptIn: u.kept,
    },
  }
}
