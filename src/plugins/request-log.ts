import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { pino } from 'pino'

/**
 * The request log: one line per request when its response is done (request id, the signed-in
 * user, method, url, status, time in ms), or when the client went away first. At debug level, also
 * a line when each request arrives.
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
  const write = lineWriter(app.log)
  app.addHook('onResponse', (request, reply, done) => {
    write(
      request.id,
      request.ctx?.user?.name,
      request.method,
      request.url,
      reply.statusCode,
      reply.elapsedTime,
    )
    done()
  })
  app.addHook('onRequestAbort', (request, done) => {
    request.log.info({ method: request.method, url: request.url, aborted: true }, 'request aborted')
    done()
  })
}

type Write = (
  id: string,
  user: string | undefined,
  method: string,
  url: string,
  status: number,
  ms: number,
) => void

const { streamSym, chindingsSym, timeSym, messageKeySym } = pino.symbols

/**
 * Writes a request line as pino would (level, time, the logger's bindings, the fields, msg), built
 * as one string: pino's serialization of a fields object was 7% of the main thread on /health, the
 * largest cost of any per-request feature. Only the url and the user, which clients choose, need
 * JSON escaping (request ids are validated, methods are HTTP tokens). A logger that is not pino's
 * (tests pass others) gets the same fields through its info().
 */
function lineWriter(log: FastifyBaseLogger): Write {
  const raw = log as unknown as Record<symbol, unknown> & pino.Logger
  const stream = raw[streamSym] as { write(line: string): unknown } | undefined
  const time = raw[timeSym] as (() => string) | undefined
  if (!stream || typeof time !== 'function' || typeof raw.isLevelEnabled !== 'function') {
    return (requestId, user, method, url, status, ms) =>
      log.info(
        { requestId, ...(user === undefined ? {} : { user }), method, url, status, ms: round(ms) },
        'request',
      )
  }
  const head = `{"level":${raw.levels.values.info}`
  const tail = `,"${raw[messageKeySym] as string}":"request"}\n`
  return (requestId, user, method, url, status, ms) => {
    if (!raw.isLevelEnabled('info')) return
    stream.write(
      `${head}${time()}${raw[chindingsSym] as string},"requestId":"${requestId}"` +
        `${user === undefined ? '' : `,"user":${JSON.stringify(user)}`},"method":"${method}"` +
        `,"url":${JSON.stringify(url)},"status":${status},"ms":${round(ms)}${tail}`,
    )
  }
}

const round = (ms: number) => Math.round(ms * 10) / 10

export default fp(requestLogPlugin, { name: 'marquee-request-log' })
