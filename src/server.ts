import { EventEmitter, once } from 'node:events'
import type { Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { type BuildAppOptions, buildApp } from './app.js'
import type { Config } from './config.js'

export interface RunningServer {
  app: FastifyInstance
  url: string
  /**
   * Drains (keeps answering, each response closing its connection, until every connection has
   * closed or shutdownDrainMs passed), then stops accepting and lets in-flight requests finish,
   * all within shutdownTimeoutMs, and closes resources.
   */
  close(): Promise<{ forced: boolean }>
}

/** Builds the app and listens on config.host:config.port; `opts.setup` runs before listen. */
export async function startServer(
  config: Config,
  opts: BuildAppOptions & { setup?: (app: FastifyInstance) => void | Promise<void> } = {},
): Promise<RunningServer> {
  const app = await buildApp(config, opts)
  // Responses that finish during shutdown close their keep-alive connection, so the drain ends as
  // soon as clients have their answers, and close() is not held up by idle sockets.
  let shuttingDown = false
  app.addHook('preClose', async () => {
    shuttingDown = true
  })
  const connections = new Set<Socket>()
  const lastClosed = new EventEmitter()
  app.server.on('connection', (socket: Socket) => {
    connections.add(socket)
    socket.once('close', () => {
      connections.delete(socket)
      if (connections.size === 0) lastClosed.emit('empty')
    })
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
      // Closing the server resets its idle kept-alive sockets, and a request a client sends on one
      // at that moment meets ECONNRESET. So first drain: answer whatever arrives, telling each
      // client to close, until the connections are gone or the drain's bound.
      shuttingDown = true
      const drainEnd = new AbortController()
      const { signal } = drainEnd
      await Promise.race([
        connections.size === 0 ? undefined : once(lastClosed, 'empty', { signal }).catch(() => {}),
        sleep(config.shutdownDrainMs, undefined, { signal }).catch(() => {}),
        deadline,
      ])
      drainEnd.abort()
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
