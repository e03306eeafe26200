import { loadConfig } from '../config.js'
import { handleSignals, startServer } from '../server.js'
import { EXIT } from './exit-codes.js'
import { settingsFrom } from './options.js'

export default async function serve(opts: Record<string, unknown>): Promise<number> {
  const config = loadConfig(settingsFrom(opts))
  const server = await startServer(config)
  server.app.log.info(`marquee serving on ${server.url} (docs at ${server.url}/docs)`)
  return new Promise<number>((resolve) => handleSignals(server, resolve)).then((code) =>
    code === 0 ? EXIT.OK : EXIT.FAILURE,
  )
}
