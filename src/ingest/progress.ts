/**
 * Progress display for `marquee ingest`: one line per file (compressed bytes read, rows/s, ETA),
 * redrawn in place on a TTY, plain lines every few seconds otherwise; and a summary printer.
 */

import type { DatasetName } from '../datasets/catalogue.js'
import type { ManifestChanges } from '../db/history.js'
import { formatDuration } from '../format.js'
import type { IngestPhase, IngestProgress } from './events.js'
import type { IngestSummary } from './manifest.js'

export interface ProgressOptions {
  /** Where to draw (default process.stderr). */
  out?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }
  /** Redraw in place (default: out.isTTY). */
  tty?: boolean
  /** Minimum milliseconds between plain lines for one file (default 5000). */
  plainIntervalMs?: number
}

type FileEvent = Extract<IngestProgress, { type: 'file' }>

/** Returns an `onProgress` callback for ingest() that draws on `out`. */
export function createProgressRenderer(opts: ProgressOptions = {}): (e: IngestProgress) => void {
  const out = opts.out ?? process.stderr
  const tty = opts.tty ?? out.isTTY === true
  const interval = opts.plainIntervalMs ?? 5000
  const files = new Map<DatasetName, FileEvent>()
  const lastPlain = new Map<DatasetName, number>()
  const finished = new Set<DatasetName>()
  let drawn = 0
  let lastDraw = 0

  const redraw = (force: boolean) => {
    const now = Date.now()
    if (!force && now - lastDraw < 100) return
    lastDraw = now
    // Move up over the previous drawing and rewrite it.
    let s = drawn > 0 ? `\x1b[${drawn}F` : ''
    for (const f of files.values()) s += `\x1b[2K${formatFile(f)}\n`
    drawn = files.size
    out.write(s)
  }

  return (e) => {
    switch (e.type) {
      case 'file': {
        files.set(e.dataset, e)
        if (tty) redraw(e.done)
        else {
          // Plain output: a line when a file is done, and one every `interval` while it is read.
          const now = Date.now()
          if (!lastPlain.has(e.dataset)) lastPlain.set(e.dataset, now)
          if (e.done ? finished.has(e.dataset) : now - lastPlain.get(e.dataset)! < interval) break
          lastPlain.set(e.dataset, now)
          if (e.done) finished.add(e.dataset)
          out.write(`${formatFile(e)}\n`)
        }
        break
      }
      case 'bad-line':
        if (tty) drawn = 0
        out.write(`warning: ${e.file}:${e.line}: ${e.reason} (line skipped)\n`)
        if (tty) redraw(true)
        break
      case 'phase':
        if (tty) redraw(true)
        drawn = 0
        out.write(`${PHASES[e.phase]}\n`)
        break
    }
  }
}

const PHASES: Record<IngestPhase, string> = {
  fts: 'building full-text indexes…',
  indexes: 'building secondary indexes…',
  merge: 'copying in the tables built in parallel…',
  analyze: 'gathering query statistics…',
  sizes: 'measuring table sizes…',
  history: 'recording what changed since the previous generation…',
  swap: 'moving the new database into place…',
}

/** One line for a file: `title.basics  42.1/180.3 MB  23%  1.2M rows  410k rows/s  ETA 14s`. */
export function formatFile(f: FileEvent): string {
  const secs = f.elapsedMs / 1000
  const rate = secs > 0 ? f.rowsWritten / secs : 0
  const frac = f.bytesTotal > 0 ? Math.min(1, f.bytesRead / f.bytesTotal) : 1
  let eta = ''
  if (f.done) eta = `done in ${formatDuration(f.elapsedMs)}`
  else if (frac > 0.02 && secs > 0.5) eta = `ETA ${formatDuration(((1 - frac) / frac) * f.elapsedMs)}`
  return [
    f.dataset.padEnd(16),
    `${mb(f.bytesRead)}/${mb(f.bytesTotal)} MB`.padStart(17),
    `${Math.round(frac * 100)}%`.padStart(4),
    `${count(f.rowsWritten)} rows`.padStart(11),
    `${count(rate)} rows/s`.padStart(13),
    eta,
  ].join('  ')
}

/** Prints what ingest() returned: per file, per table, timings. */
export function printSummary(s: IngestSummary, out: NodeJS.WritableStream = process.stdout): void {
  const lines: string[] = []
  lines.push(`ingest finished in ${formatDuration(s.durationMs)} (generation ${s.generation})`)
  lines.push('')
  lines.push(
    `${'file'.padEnd(18)}${'read'.padStart(12)}${'kept'.padStart(12)}${'skipped'.padStart(9)}${'dupes'.padStart(9)}${'dangling'.padStart(10)}${'time'.padStart(9)}`,
  )
  for (const f of s.files) {
    lines.push(
      `${f.dataset.padEnd(18)}${String(f.read).padStart(12)}${String(f.kept).padStart(12)}${String(f.skipped).padStart(9)}` +
        `${String(f.duplicates).padStart(9)}${(f.dangling === null ? '-' : String(f.dangling)).padStart(10)}${formatDuration(f.ms).padStart(9)}`,
    )
  }
  if (s.notLoaded.length > 0) lines.push(`not loaded: ${s.notLoaded.join(', ')}`)
  lines.push('')
  lines.push(`${'table'.padEnd(18)}${'rows'.padStart(12)}${'size'.padStart(12)}`)
  for (const [name, t] of Object.entries(s.tables)) {
    lines.push(
      `${name.padEnd(18)}${String(t.rows).padStart(12)}${(t.bytes === null ? '-' : `${mb(t.bytes)} MB`).padStart(12)}`,
    )
  }
  lines.push('')
  const phases = ['fts', 'indexes', 'analyze', 'sizes', 'history'].filter((p) => p in s.timings)
  lines.push(`phases: ${phases.map((p) => `${p} ${formatDuration(s.timings[p])}`).join(', ')}`)
  if (s.changes) lines.push(changesLine(s.changes))
  out.write(`${lines.join('\n')}\n`)
}

/** `changes since <generation>: title +1 -2 ~3, ...` (GET /changes serves them). */
export function changesLine(changes: ManifestChanges): string {
  const parts = Object.entries(changes.counts).map(
    ([entity, c]) => `${entity} +${c.added} -${c.removed} ~${c.changed}`,
  )
  return `changes since ${changes.since} (GET /changes): ${parts.join(', ')}`
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1)
}

function count(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`
  if (n >= 1e4) return `${Math.round(n / 1e3)}k`
  return String(Math.round(n))
}
