import { loadConfig } from '../config.js'
import { DATASET_NAMES, type DatasetName, datasetSpec } from '../datasets/catalogue.js'
import { DownloadLockedError, download, resolveBaseUrls } from '../download/index.js'
import { createProgressReporter, formatSummary } from '../download/progress.js'
import { changesLine, createProgressRenderer, printSummary } from '../ingest/progress.js'
import {
  keepBaseFiles,
  readBase,
  update as runUpdate,
  UpdateError,
  type UpdateProgress,
  type UpdateSummary,
} from '../update/index.js'
import { reportFailure } from './errors.js'
import { EXIT } from './exit-codes.js'
import { settingsFrom } from './options.js'

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`
const n = (x: number) => x.toLocaleString('en')

/**
 * `marquee update`: downloads the IMDb files (unless --skip-download, or --data names the files to
 * use), refreshes the database from them in place (only the rows that changed; --full rebuilds),
 * and leaves the new database where a running server picks it up (it watches the file; SIGHUP and
 * POST /admin/reload do it at once). Exit 0 when the database is current, 1 on a failure (a download
 * that failed names the file and the URL), 65 for bad input data, 130 when interrupted.
 */
export default async function update(opts: Record<string, unknown>): Promise<number> {
  const config = loadConfig(settingsFrom(opts))
  // Files named on the command line are used as they are.
  const skipDownload = opts.skipDownload === true || opts.data !== undefined
  const baseUrls = skipDownload ? [] : resolveBaseUrls(opts.baseUrl as string[] | undefined)
  const err = process.stderr
  const controller = new AbortController()
  const onSigint = () => {
    err.write('marquee update: interrupted, stopping (nothing is replaced; Ctrl-C again to force)\n')
    controller.abort()
  }
  process.once('SIGINT', onSigint)
  try {
    const base = readBase(config.dbPath)
    // Keep the files the current database was built from before a download replaces them.
    await keepBaseFiles(config.dbPath, base)

    if (!skipDownload) {
      const only = base && base.loaded.length < DATASET_NAMES.length ? base.loaded : undefined
      const files = DATASET_NAMES.filter((d) => !only || only.includes(d)).map((d) => datasetSpec(d).file)
      const reporter = createProgressReporter(err, files, { tty: err.isTTY === true, columns: err.columns })
      let summary: Awaited<ReturnType<typeof download>>
      try {
        summary = await download({
          dir: config.dataDir,
          only,
          baseUrls,
          concurrency: opts.concurrency as number | undefined,
          signal: controller.signal,
          onProgress: reporter.onProgress,
        })
      } finally {
        reporter.stop()
      }
      err.write(formatSummary(summary))
      if (summary.aborted) return EXIT.INTERRUPTED
      if (!summary.ok) {
        for (const f of summary.files.filter((x) => x.status === 'failed')) {
          err.write(`marquee update: ${f.file} failed: ${f.error}\n  ${f.hint}\n`)
        }
        err.write('marquee update: the database was not changed\n')
        return EXIT.FAILURE
      }
    }

    const s = await runUpdate({
      dbPath: config.dbPath,
      dataDir: config.dataDir,
      full: opts.full === true,
      history: { generations: config.historyGenerations, days: config.historyDays },
      signal: controller.signal,
      onProgress: progress(),
    })
    printResult(s, config.dbPath)
    return EXIT.OK
  } catch (e) {
    if (e instanceof UpdateError && e.code === 'UPDATE_ABORTED') {
      err.write('marquee update: interrupted; nothing was replaced\n')
      return EXIT.INTERRUPTED
    }
    if (e instanceof UpdateError || e instanceof DownloadLockedError) {
      err.write(`marquee update: ${e.message}\n`)
      return EXIT.FAILURE
    }
    return reportFailure('update', e)
  } finally {
    process.removeListener('SIGINT', onSigint)
  }
}

/** Progress on stderr: each file when its diff is done (and every few seconds before), each phase. */
function progress(): (e: UpdateProgress) => void {
  const out = process.stderr
  let ingest: ReturnType<typeof createProgressRenderer> | null = null
  const last = new Map<DatasetName, number>()
  return (e) => {
    switch (e.type) {
      case 'file': {
        if (e.done && e.counts) {
          const c = e.counts
          out.write(
            `${e.dataset.padEnd(17)} compared: ${n(c.inserted)} inserted, ${n(c.changed)} changed, ${n(c.deleted)} deleted (${seconds(e.elapsedMs)})\n`,
          )
        } else if (!last.has(e.dataset)) last.set(e.dataset, Date.now())
        else if (Date.now() - last.get(e.dataset)! >= 5000) {
          last.set(e.dataset, Date.now())
          const pct = e.bytesTotal > 0 ? Math.min(100, Math.round((100 * e.bytesRead) / e.bytesTotal)) : 0
          out.write(`${e.dataset.padEnd(17)} comparing… ${pct}%\n`)
        }
        break
      }
      case 'phase':
        if (e.phase !== 'prepare' && e.phase !== 'diff') out.write(`update: ${e.phase}\n`)
        break
      case 'full':
        out.write(`update: rebuilding in full: ${e.reason}\n`)
        break
      case 'ingest':
        ingest ??= createProgressRenderer({ out })
        ingest(e.event)
        break
    }
  }
}

function printResult(s: UpdateSummary, dbPath: string): void {
  const out = process.stdout
  if (s.mode === 'unchanged') {
    out.write(`database is up to date: generation ${s.generation} was built from these files\n`)
    return
  }
  if (s.mode === 'full') {
    if (s.manifest) printSummary(s.manifest, out)
  } else {
    out.write(
      `refreshed in ${seconds(s.durationMs)}: generation ${s.previousGeneration} -> ${s.generation} (only the changed rows were applied)\n\n`,
    )
    out.write(
      `${'file'.padEnd(18)}${'inserted'.padStart(11)}${'changed'.padStart(11)}${'deleted'.padStart(11)}${'lines'.padStart(13)}\n`,
    )
    for (const f of s.files) {
      out.write(
        `${f.dataset.padEnd(18)}${n(f.inserted).padStart(11)}${n(f.changed).padStart(11)}${n(f.deleted).padStart(11)}${n(f.read).padStart(13)}\n`,
      )
    }
    const t = s.timings
    const apply = Object.entries(t)
      .filter(([k]) => k.startsWith('apply '))
      .reduce((sum, [, v]) => sum + v, 0)
    out.write(
      `\nphases: copy ${seconds(t.copy ?? 0)} and compare ${seconds(t.diff ?? 0)} (together), apply ${seconds(apply)}, fts ${seconds(t.fts ?? 0)}, history ${seconds(t.history ?? 0)}, commit ${seconds(t.commit ?? 0)}\n`,
    )
    if (s.manifest?.changes) out.write(`${changesLine(s.manifest.changes)}\n`)
  }
  out.write(`database: ${dbPath} (generation ${s.generation})\n`)
  out.write(
    'a running server watching this database swaps to it within seconds (or at once on SIGHUP or POST /admin/reload)\n',
  )
}
