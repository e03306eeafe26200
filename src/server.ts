import type { FastifyInstance } from 'fastify'
import { type BuildAppOptions, buildApp } from './app.js'
import type { Config } from './config.js'

export interface RunningServer {
  app: FastifyInstance
  url: string
  /** Stops accepting, lets in-flight requests finish (bounded by shutdownTimeoutMs), closes resources. */
  close(): Promise<{ forced: boolean }>
}

/** Builds the app and listens on config.host:config.port; `opts.setup` runs before listen. */
export async function startServer(
  config: Config,
  opts: BuildAppOptions & { setup?: (app: FastifyInstance) => void | Promise<void> } = {},
): Promise<RunningServer> {
  const app = await buildApp(config, opts)
  // Responses that finish during shutdown close their keep-alive connection, so close() is not
  // held up by clients that would otherwise keep an idle socket open.
  let shuttingDown = false
  app.addHook('preClose', async () => {
    shuttingDown = true
  })
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (shuttingDown) reply.header('connection', 'close')
    done(null, payload)
  })
  await opts.setup?.(app)
  const url = await app.listen({ host: config.host, port: config.port })
  let closing: Promise<{ forced: boolean }> | null = null
  const close = () => {
    closing ??= (async () => {
      let timer: NodeJS.Timeout | undefined
      const deadline = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), config.shutdownTimeoutMs)
      })
      const outcome = await Promise.race([app.close().then(() => 'closed' as const), deadline])
      clearTimeout(timer)
      if (outcome === 'timeout') {
        app.server.closeAllConnections()
        return { forced: true }
      }
      return { forced: false }
    })()
    return closing
  }
  return { app, url, close }
}

/** SIGINT/SIGTERM: graceful shutdown, exit 0 when everything finished in time, 1 when it had to force. */
export function handleSignals(
  server: RunningServer,
  onExit: (code: number) => void = (c) => process.exit(c),
) {
  const stop = async (signal: NodeJS.Signals) => {
    server.app.log.info({ signal }, 'shutting down: finishing in-flight requests')
    const { forced } = await server.close()
    if (forced) server.app.log.warn('shutdown timeout reached: remaining connections were closed')
    onExit(forced ? 1 : 0)
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
