import { existsSync } from 'node:fs'
import { loadConfig } from '../config.js'
import { handleSignals, startServer } from '../server.js'
import { reportFailure } from './errors.js'
import { EXIT } from './exit-codes.js'
import { settingsFrom } from './options.js'
import { buildFirstDataset, datasetSource } from './prepare-dataset.js'

/**
 * `marquee serve`: listens at once (so /health answers from the first second), and when no
 * database exists yet builds one in the background from the IMDb files or the bundled sample,
 * then loads it; /ready says 503 until then.
 */
export default async function serve(opts: Record<string, unknown>): Promise<number> {
  const config = loadConfig(settingsFrom(opts))
  if (!config.databaseUrl && !existsSync(config.dbPath)) {
    // With no database, fail before listening when the configured data cannot make one.
    try {
      datasetSource(config)
    } catch (err) {
      return reportFailure('serve', err)
    }
  }
  const building = new AbortController()
  const server = await startServer(config, {
    setup: (app) => {
      app.addHook('onClose', async () => building.abort())
    },
  })
  const { app } = server
  app.log.info(`marquee serving on ${server.url} (docs at ${server.url}/docs)`)
  const exit = new Promise<number>((resolve) => handleSignals(server, resolve))
  // SIGHUP: load the database file now if it holds a newer generation (hot swap, no request dropped).
  const onHangup = () => {
    app.dataset
      .reload('SIGHUP')
      .then((r) => {
        if (!r.changed)
          app.log.info({ generation: r.generation }, 'SIGHUP: the database holds the generation served')
      })
      .catch((err) => app.log.error({ err }, 'SIGHUP: reload failed'))
  }
  process.on('SIGHUP', onHangup)

  if (app.dataset.current() === null) {
    buildFirstDataset(config, app.log, app.metrics, building.signal)
      .then(async (summary) => {
        await app.dataset.reload('built')
        app.log.info({ generation: summary.generation, ms: summary.durationMs }, 'dataset ready')
      })
      .catch((err) => {
        if (building.signal.aborted) return
        app.log.error({ err }, 'could not build the dataset; /ready stays 503')
      })
  }
  return exit.then((code) => {
    process.removeListener('SIGHUP', onHangup)
    return code === 0 ? EXIT.OK : EXIT.FAILURE
  })
}
