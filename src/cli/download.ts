import { loadConfig } from '../config.js'
import { DATASET_NAMES, type DatasetName, datasetSpec } from '../datasets/catalogue.js'
import { LocalIoError } from '../download/errors.js'
import { DownloadLockedError, download as downloadFiles, resolveBaseUrls } from '../download/index.js'
import { createProgressReporter, formatSummary } from '../download/progress.js'
import { EXIT } from './exit-codes.js'

/**
 * `marquee download`: fetches the IMDb files into --dir. Exit 0 when every file was downloaded or
 * is unchanged, 1 when any failed (each failure names the file, the URL and what to do), 130 on
 * SIGINT (the requests are aborted and the `.part` files kept, so the next run resumes).
 */
export default async function download(opts: Record<string, unknown>): Promise<number> {
  const baseUrls = resolveBaseUrls(opts.baseUrl as string[] | undefined)
  const only = opts.only as DatasetName[] | undefined
  // --dir defaults to the data directory the other commands read (--data / MARQUEE_DATA).
  const dir = (opts.dir as string | undefined) ?? loadConfig({}).dataDir
  const files = DATASET_NAMES.filter((n) => !only || only.includes(n)).map((n) => datasetSpec(n).file)

  const tty = process.stderr.isTTY === true
  const reporter = createProgressReporter(process.stderr, files, { tty, columns: process.stderr.columns })

  const controller = new AbortController()
  const onSigint = () => {
    reporter.log(
      'marquee download: interrupted, stopping; partial files are kept and the next run resumes them (Ctrl-C again to force)',
    )
    controller.abort()
  }
  // `once`: a second Ctrl-C gets Node's default and ends the process at once.
  process.once('SIGINT', onSigint)
  let summary: Awaited<ReturnType<typeof downloadFiles>>
  try {
    summary = await downloadFiles({
      dir,
      only,
      baseUrls,
      concurrency: opts.concurrency as number | undefined,
      signal: controller.signal,
      onProgress: reporter.onProgress,
    })
  } catch (err) {
    if (err instanceof DownloadLockedError) {
      process.stderr.write(`marquee download: ${err.message}\n`)
      return EXIT.FAILURE
    }
    if (err instanceof LocalIoError) {
      process.stderr.write(
        `marquee download: ${err.message}\n  Check that ${dir} can be written and that the disk has free space; no file was changed.\n`,
      )
      return EXIT.FAILURE
    }
    throw err
  } finally {
    reporter.stop()
    process.removeListener('SIGINT', onSigint)
  }

  process.stdout.write(formatSummary(summary))
  if (summary.aborted) return EXIT.INTERRUPTED
  for (const f of summary.files) {
    if (f.status !== 'failed') continue
    const from = f.url && !f.error?.includes(f.url) ? ` (from ${f.url})` : ''
    process.stderr.write(`marquee download: ${f.file} failed: ${f.error}${from}\n  ${f.hint}\n`)
  }
  return summary.ok ? EXIT.OK : EXIT.FAILURE
}
