import { loadConfig } from '../config.js'
import type { DatasetName } from '../datasets/catalogue.js'
import { ingest } from '../ingest/index.js'
import { createProgressRenderer, printSummary } from '../ingest/progress.js'
import { reportFailure } from './errors.js'
import { EXIT } from './exit-codes.js'
import { settingsFrom } from './options.js'

export default async function ingestCommand(opts: Record<string, unknown>): Promise<number> {
  const config = loadConfig(settingsFrom(opts))
  const only = opts.only as DatasetName[] | undefined
  const strict = opts.strict === true
  const history = { generations: config.historyGenerations, days: config.historyDays }
  try {
    if (config.databaseUrl) {
      // PostgreSQL: COPY into a new schema, swapped in; running servers follow within seconds.
      const { ingestPostgres } = await import('../ingest/postgres/index.js')
      const summary = await ingestPostgres({
        dataDir: config.dataDir,
        databaseUrl: config.databaseUrl,
        schemaPrefix: config.databaseSchema,
        only,
        strict,
        history,
        onProgress: createProgressRenderer(),
      })
      printSummary(summary)
      process.stdout.write(
        `database: PostgreSQL, ${config.databaseSchema}.current -> generation ${summary.generation}\n`,
      )
      return EXIT.OK
    }
    const summary = await ingest({
      dataDir: config.dataDir,
      dbPath: config.dbPath,
      only,
      strict,
      history,
      onProgress: createProgressRenderer(),
    })
    printSummary(summary)
    process.stdout.write(`database: ${config.dbPath}\n`)
    return EXIT.OK
  } catch (err) {
    return reportFailure('ingest', err)
  }
}
