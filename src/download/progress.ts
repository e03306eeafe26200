import { formatDuration } from '../format.js'
import type { DownloadProgress, DownloadSummary, FileResult } from './index.js'

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let u = 0
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  return u === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`
}

type Phase =
  | 'waiting'
  | 'connecting'
  | 'downloading'
  | 'retrying'
  | 'verifying'
  | 'downloaded'
  | 'unchanged'
  | 'failed'
  | 'aborted'

interface FileState {
  file: string
  phase: Phase
  received: number
  total: number | null
  note: string
  /** Recent (time, received) samples for the rate: a window of a few seconds. */
  samples: Array<[number, number]>
  result?: FileResult
}

const RATE_WINDOW_MS = 5000

export interface ReporterOptions {
  /** Redraw one line per file in place (a terminal); otherwise print plain lines. */
  tty: boolean
  /** How often progress is redrawn (tty) or printed (plain). Defaults: 150 ms / 5 s. */
  intervalMs?: number
  /** Terminal width (tty); lines are cut to fit so redrawing in place stays aligned. */
  columns?: number
  now?: () => number
}

export interface ProgressReporter {
  onProgress(e: DownloadProgress): void
  /** Prints a message line; on a terminal above the redrawn block, which is drawn again below it. */
  log(line: string): void
  /** Draws the final state and stops the timer. */
  stop(): void
}

/**
 * Shows download progress on `out`: on a terminal one line per file redrawn in place (bytes/total,
 * rate, ETA); otherwise a line per event plus a progress line per active file every few seconds.
 */
export function createProgressReporter(
  out: { write(s: string): unknown },
  files: readonly string[],
  opts: ReporterOptions,
): ProgressReporter {
  const now = opts.now ?? (() => performance.now())
  const interval = opts.intervalMs ?? (opts.tty ? 150 : 5000)
  const states = new Map<string, FileState>(
    files.map((file) => [file, { file, phase: 'waiting', received: 0, total: null, note: '', samples: [] }]),
  )
  const width = Math.max(...files.map((f) => f.length), 10)
  let drawnLines = 0
  let dirty = true
  let stopped = false

  const rate = (s: FileState): number | null => {
    if (s.samples.length < 2) return null
    const [t0, b0] = s.samples[0]
    const [t1, b1] = s.samples[s.samples.length - 1]
    return t1 > t0 ? ((b1 - b0) * 1000) / (t1 - t0) : null
  }

  const progressText = (s: FileState): string => {
    const r = rate(s)
    const parts = [
      s.total !== null ? `${formatBytes(s.received)} / ${formatBytes(s.total)}` : formatBytes(s.received),
    ]
    if (s.total) parts.push(`${Math.floor((s.received * 100) / s.total)}%`)
    if (r !== null) parts.push(`${formatBytes(r)}/s`)
    if (r && s.total !== null) parts.push(`ETA ${formatDuration(((s.total - s.received) * 1000) / r)}`)
    return parts.join('  ')
  }

  const lineFor = (s: FileState): string => {
    const name = s.file.padEnd(width)
    switch (s.phase) {
      case 'downloading':
        return `${name}  ${progressText(s)}`
      case 'downloaded':
        return `${name}  downloaded ${formatBytes(s.result?.size ?? s.received)}${s.result?.resumed ? ' (resumed)' : ''}`
      case 'failed':
        return `${name}  FAILED: ${s.note}`
      case 'retrying':
        return `${name}  ${s.note}`
      default:
        return `${name}  ${s.phase}${s.note ? ` ${s.note}` : ''}`
    }
  }

  const fit = (line: string) =>
    opts.columns && line.length >= opts.columns ? line.slice(0, opts.columns - 1) : line

  const redraw = () => {
    if (!dirty) return
    dirty = false
    let text = drawnLines > 0 ? `\x1b[${drawnLines}A` : ''
    for (const s of states.values()) text += `\r\x1b[2K${fit(lineFor(s))}\n`
    drawnLines = states.size
    out.write(text)
  }

  const plain = (s: FileState, text: string) => out.write(`${s.file}: ${text}\n`)

  const tick = () => {
    if (opts.tty) redraw()
    else for (const s of states.values()) if (s.phase === 'downloading') plain(s, progressText(s))
  }
  const timer = setInterval(tick, interval)
  timer.unref()
  if (opts.tty) redraw()

  return {
    onProgress(e) {
      if (stopped) return
      const s = states.get(e.type === 'done' ? e.result.file : e.file)
      if (!s) return
      dirty = true
      switch (e.type) {
        case 'start':
          s.phase = 'connecting'
          s.note = ''
          break
        case 'response':
          s.total = e.total
          s.received = e.offset
          s.samples = [[now(), e.offset]]
          if (e.status === 304) {
            s.phase = 'unchanged'
          } else {
            s.phase = 'downloading'
            s.note = ''
            if (!opts.tty) {
              const of = e.total !== null ? ` of ${formatBytes(e.total)}` : ''
              plain(
                s,
                e.offset > 0
                  ? `resuming at ${formatBytes(e.offset)}${of} from ${e.url}`
                  : `downloading${e.total !== null ? ` ${formatBytes(e.total)}` : ''} from ${e.url}`,
              )
            }
          }
          break
        case 'data': {
          s.received = e.received
          s.total = e.total
          const t = now()
          const last = s.samples[s.samples.length - 1]
          if (!last || t - last[0] >= 100) {
            s.samples.push([t, e.received])
            while (s.samples.length > 2 && t - s.samples[0][0] > RATE_WINDOW_MS) s.samples.shift()
          }
          break
        }
        case 'retry':
          s.phase = 'retrying'
          s.note = `${e.error}; retrying in ${formatDuration(e.delayMs)} (retry ${e.attempt} of ${e.maxAttempts - 1})`
          if (!opts.tty) plain(s, s.note)
          break
        case 'restart':
          s.phase = 'connecting'
          s.note = `(restarting from zero: ${e.reason})`
          if (!opts.tty) plain(s, `restarting from zero: ${e.reason}`)
          break
        case 'verify':
          s.phase = 'verifying'
          s.note = ''
          if (!opts.tty) plain(s, 'verifying')
          break
        case 'done':
          s.result = e.result
          s.phase = e.result.status
          s.note = e.result.error ?? ''
          if (!opts.tty) {
            if (e.result.status === 'failed') plain(s, `FAILED: ${e.result.error}`)
            else if (e.result.status === 'aborted') plain(s, 'aborted (partial file kept for the next run)')
            else plain(s, lineFor(s).slice(width + 2))
          }
          break
      }
      // Phase changes show at once on a terminal; byte counts wait for the timer.
      if (opts.tty && e.type !== 'data') redraw()
    },
    log(line) {
      if (opts.tty && drawnLines > 0) {
        out.write(`\x1b[${drawnLines}A\r\x1b[J${line}\n`)
        drawnLines = 0
        dirty = true
        if (!stopped) redraw()
      } else out.write(`${line}\n`)
    },
    stop() {
      if (stopped) return
      stopped = true
      clearInterval(timer)
      if (opts.tty) {
        dirty = true
        redraw()
      }
    },
  }
}

/** The final report: one line per file, then totals. */
export function formatSummary(summary: DownloadSummary): string {
  const width = Math.max(...summary.files.map((f) => f.file.length), 10)
  const lines = summary.files.map((f) => {
    const detail =
      f.status === 'downloaded'
        ? `${formatBytes(f.size ?? 0)} in ${formatDuration(f.durationMs)}${f.resumed ? ', resumed' : ''}${f.bytes !== f.size ? ` (${formatBytes(f.bytes)} transferred)` : ''}`
        : f.status === 'unchanged'
          ? 'not modified on the server'
          : f.status === 'aborted'
            ? 'interrupted; the partial file is kept and resumed by the next run'
            : (f.error ?? '')
    return `${f.status.padEnd(10)}  ${f.file.padEnd(width)}  ${detail}`
  })
  const count = (s: FileResult['status']) => summary.files.filter((f) => f.status === s).length
  const totals = [
    `${count('downloaded')} downloaded`,
    `${count('unchanged')} unchanged`,
    `${count('failed')} failed`,
    ...(count('aborted') > 0 ? [`${count('aborted')} interrupted`] : []),
  ]
  lines.push(`${totals.join(', ')}: ${formatBytes(summary.bytes)} in ${formatDuration(summary.durationMs)}`)
  return `${lines.join('\n')}\n`
}
