import type { Socket } from 'node:net'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { newRequestId } from '../context/request-id.js'
import { isDiskFull, Problem, type ProblemCode } from '../errors.js'

export const PROBLEM_CONTENT_TYPE = 'application/problem+json'

interface ParamError {
  parameter: string
  in: string
  reason: string
}

/** At most this many parameter errors are listed (ajv reports them all: a bad 10,000-item body). */
const MAX_PARAM_ERRORS = 20

/** Fastify's validation errors, as "which parameter, where, why", one per parameter and reason. */
function paramErrors(err: FastifyError): ParamError[] {
  const where = err.validationContext ?? 'request'
  const seen = new Set<string>()
  const out: ParamError[] = []
  for (const v of err.validation ?? []) {
    const params = v.params as Record<string, unknown>
    const fromPath = v.instancePath.replace(/^\//, '').replaceAll('/', '.')
    const missing = typeof params?.missingProperty === 'string' ? params.missingProperty : undefined
    const extra = typeof params?.additionalProperty === 'string' ? params.additionalProperty : undefined
    const parameter = [fromPath, missing ?? extra].filter(Boolean).join('.') || where
    const allowed = Array.isArray(params?.allowedValues) ? params.allowedValues : undefined
    const reason = extra
      ? 'is not a known parameter'
      : allowed
        ? `must be one of: ${allowed.join(', ')}`
        : (v.message ?? 'is invalid')
    const key = `${parameter}\0${reason}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push({ parameter, in: where, reason })
  }
  return out
}

/** The RFC 9457 document of `problem`; `instance` is the request id. */
function problemDocument(problem: Problem, requestId: string) {
  return {
    type: problem.type,
    title: problem.title,
    status: problem.status,
    detail: problem.detail,
    instance: requestId,
    code: problem.code,
    ...problem.extensions,
  }
}

/** Answers `problem` as RFC 9457 problem+json carrying the request id. */
export function sendProblem(reply: FastifyReply, request: FastifyRequest, problem: Problem) {
  if (problem.retryAfter !== undefined) reply.header('retry-after', String(problem.retryAfter))
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problemDocument(problem, request.id))
}

/**
 * Requests Node's HTTP parser refuses before Fastify sees them (headers or URL over 16 KiB, a
 * malformed request line, a request that took too long to arrive) get problem+json too, with a
 * request id of their own; then the connection closes, as Node does.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const problem =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? new Problem('HEADERS_TOO_LARGE', {
          detail: 'The request line and headers exceed 16 KiB; send long input in a request body.',
        })
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new Problem('REQUEST_TIMEOUT', {
            detail: 'The request did not arrive in time.',
          })
        : new Problem('BAD_REQUEST', { detail: 'The request is not valid HTTP/1.1.' })
  const id = newRequestId()
  const body = JSON.stringify(problemDocument(problem, id))
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${problem.status} ${problem.title}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${id}\r\nConnection: close\r\n\r\n${body}`,
    )
  }
  socket.destroy(err)
}

/** 507: nothing was written (the transaction rolled back); retrying helps once space is freed. */
const storageFull = () =>
  new Problem('STORAGE_FULL', {
    detail:
      'The server ran out of disk space; nothing of this request was written. Retry once space is freed.',
    retryAfter: 60,
  })

/**
 * The problem `err` is answered with: itself when it is one; a validation failure naming each
 * parameter; Fastify's own 4xx refusals (a body too large, an unknown media type, ...) in the
 * catalogue's terms; a full disk; anything else INTERNAL, without internals. The error handler and
 * the metrics' error counter both go through here, so a dashboard counts what clients were told.
 */
export function toProblem(err: FastifyError | Problem, request: FastifyRequest): Problem {
  if (err instanceof Problem) return err
  if (err.validation) {
    const all = paramErrors(err)
    const errors = all.slice(0, MAX_PARAM_ERRORS)
    const more = all.length - errors.length
    const detail =
      errors.map((e) => `${e.in} parameter "${e.parameter}" ${e.reason}`).join('; ') +
      (more > 0 ? `; and ${more} more` : '')
    return new Problem('BAD_REQUEST', { detail, extensions: { errors } })
  }
  const status = err.statusCode ?? 500
  if (status >= 400 && status < 500) {
    const code = BY_STATUS[status] ?? 'BAD_REQUEST'
    return new Problem(code, { detail: err.message })
  }
  if (isDiskFull(err)) return storageFull()
  return new Problem('INTERNAL', {
    detail: `Something went wrong on our side. Quote the request id ${request.id} when reporting it.`,
  })
}

/** Turns every error into RFC 9457 problem+json carrying the request id; 5xx bodies carry no internals. */
async function errorsPlugin(app: FastifyInstance) {
  app.setErrorHandler((err: FastifyError | Problem, request, reply) => {
    const problem = toProblem(err, request)
    if (problem === err) {
      if (problem.status >= 500) request.log.warn({ code: problem.code }, problem.message)
    } else if (problem.code === 'STORAGE_FULL') {
      request.log.error({ err }, 'disk full')
    } else if (problem.code === 'INTERNAL') {
      request.log.error({ err }, 'unhandled error')
    }
    return sendProblem(reply, request, problem)
  })

  app.setNotFoundHandler((request, reply) => {
    const html = htmlNotFound.get(app.server)
    if (html && wantsHtml(request)) return html(request, reply)
    return sendProblem(
      reply,
      request,
      new Problem('ROUTE_NOT_FOUND', {
        detail: `No route ${request.method} ${request.url}`,
      }),
    )
  })
}

type NotFoundPage = (request: FastifyRequest, reply: FastifyReply) => unknown
/** The HTML 404 page the web interface registers, by the HTTP server (one per app, shared by its plugins). */
const htmlNotFound = new WeakMap<object, NotFoundPage>()

/**
 * The web interface's 404 page, answered instead of problem+json to a browser's GET of an unknown
 * path. `app` may be an encapsulated child: the page is kept by the app's HTTP server, which the
 * root instance's not-found handler shares.
 */
export function setHtmlNotFound(app: FastifyInstance, page: NotFoundPage): void {
  htmlNotFound.set(app.server, page)
}

/**
 * A browser opening a page: a GET or HEAD whose Accept names text/html before any JSON type.
 * API clients (Accept: application/json, any type, or none) keep problem+json.
 */
export function wantsHtml(request: FastifyRequest): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false
  const accept = String(request.headers.accept ?? '').toLowerCase()
  const html = accept.indexOf('text/html')
  if (html === -1) return false
  const json = accept.search(/application\/(?:problem\+)?json/)
  return json === -1 || html < json
}

/**
 * The catalogue's code for each 4xx status Fastify and its plugins answer with (test/errors.test.ts
 * checks every 4xx of Fastify's error codes is here; @fastify/static adds 412 and 416).
 */
export const BY_STATUS: Partial<Record<number, ProblemCode>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  408: 'REQUEST_TIMEOUT',
  412: 'PRECONDITION_FAILED',
  413: 'CONTENT_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  416: 'RANGE_NOT_SATISFIABLE',
  429: 'RATE_LIMITED',
  431: 'HEADERS_TOO_LARGE',
}

/** The schema of a problem+json body, for route response schemas and the OpenAPI document. */
export { ProblemSchema } from './problem-schema.js'

export default fp(errorsPlugin, { name: 'marquee-errors' })
