import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/**
 * The request log: one line per request when its response is done (method, url, status, time in
 * ms; the request id and, for a signed-in key, the user come from the request's logger), or when
 * the client went away first. At debug level, also a line when each request arrives.
 *
 * One line instead of Fastify's two ("incoming request" and "request completed") halves the cost
 * of the largest per-request feature (bench:api scenario 0).
 */
async function requestLogPlugin(app: FastifyInstance) {
  if (app.log.level === 'debug' || app.log.level === 'trace') {
    app.addHook('onRequest', (request, _reply, done) => {
      request.log.debug({ method: request.method, url: request.url }, 'incoming request')
      done()
    })
  }
  // Through the server's logger, with the request's bindings written here: a request that logs
  // nothing else never makes a child logger (see lazyChildLogger).
  app.addHook('onResponse', (request, reply, done) => {
    const user = request.ctx?.user?.name
    app.log.info(
      {
        requestId: request.id,
        ...(user === undefined ? {} : { user }),
        method: request.method,
        url: request.url,
        status: reply.statusCode,
        ms: round(reply.elapsedTime),
      },
      'request',
    )
    done()
  })
  app.addHook('onRequestAbort', (request, done) => {
    request.log.info({ method: request.method, url: request.url, aborted: true }, 'request aborted')
    done()
  })
}

const round = (ms: number) => Math.round(ms * 10) / 10

export default fp(requestLogPlugin, { name: 'marquee-request-log' })
