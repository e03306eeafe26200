import { loadConfig } from '../config.js'
import type { DatasetName } from '../datasets/catalogue.js'
import { ingest } from '../ingest/index.js'
import { createProgressRenderer, printSummary } from '../ingest/progress.js'
import { reportFailure } from './errors.js'
import { EXIT } from './exit-codes.js'
import { settingsFrom } from './options.js'

export default async function ingestCommand(opts: Record<string, unknown>): Promise<number> {
  const config = loadConfig(settingsFrom(opts))
  try {
    const summary = await ingest({
      dataDir: config.dataDir,
      dbPath: config.dbPath,
      only: opts.only as DatasetName[] | undefined,
      strict: opts.strict === true,
      onProgress: createProgressRenderer(),
    })
    printSummary(summary)
    process.stdout.write(`database: ${config.dbPath}\n`)
    return EXIT.OK
  } catch (err) {
    return reportFailure('ingest', err)
  }
}
