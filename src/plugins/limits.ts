import cors from '@fastify/cors'
import rateLimit from '@fastify/rate-limit'
import underPressure from '@fastify/under-pressure'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { badRequest, Problem, serviceUnavailable } from '../errors.js'
import { JSON_MAX_DEPTH, jsonDepthExceeds } from '../lib/json.js'
import { isPublicRoute } from './public-routes.js'
import securityHeaders from './security-headers.js'

/**
 * Protects the server: security headers, optional CORS, rate limits per API key (else per IP),
 * load shedding (past the event-loop delay threshold new data requests get 503 with Retry-After
 * while /health keeps answering), and strict query strings on every documented route.
 */
async function limitsPlugin(app: FastifyInstance, config: Config) {
  // An unknown query parameter is a 400 naming it ("is not a known parameter"), never silently
  // ignored: a typo such as `?yaer=1999` must not look like an answer. Routes registered after this
  // plugin that declare no querystring get an empty strict one; an object querystring that does
  // not say otherwise gets additionalProperties: false. Public routes (probes, docs, the web
  // interface) and hidden ones take whatever they are sent.
  app.addHook('onRoute', (route) => {
    const schema = route.schema as (Record<string, unknown> & { hide?: boolean }) | undefined
    if (!schema || schema.hide || route.config?.public) return
    const qs = schema.querystring as Record<string, unknown> | undefined
    if (qs === undefined) {
      schema.querystring = { type: 'object', properties: {}, additionalProperties: false }
    } else if (qs.type === 'object' && qs.additionalProperties === undefined) {
      schema.querystring = { ...qs, additionalProperties: false }
    }
  })

  // JSON bodies: nested at most JSON_MAX_DEPTH levels, checked by a scan that stops at the first
  // level too deep, before anything is parsed (a body of nested brackets cost seconds of parsing).
  // Then Fastify's own parser, with its prototype-poisoning checks.
  const parseJson = app.getDefaultJsonParser('error', 'ignore')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string
    if (jsonDepthExceeds(text, JSON_MAX_DEPTH)) {
      return done(badRequest(`The JSON body is nested deeper than ${JSON_MAX_DEPTH} levels.`), undefined)
    }
    parseJson(request, text, done)
  })

  await app.register(securityHeaders, { cors: !!config.corsOrigin, hstsMaxAge: config.hstsMaxAge })

  if (config.corsOrigin) {
    const origins = config.corsOrigin.split(',').map((o) => o.trim())
    await app.register(cors, {
      origin: origins.includes('*') ? '*' : origins,
      exposedHeaders: ['x-request-id', 'etag', 'retry-after', 'link'],
    })
  }

  if (config.rateLimitPerMinute > 0) {
    await app.register(rateLimit, {
      max: config.rateLimitPerMinute,
      timeWindow: 60_000,
      allowList: (request) => isPublicRoute(request),
      keyGenerator: (request) => (request.ctx?.user ? `key:${request.ctx.user.id}` : `ip:${request.ip}`),
      errorResponseBuilder: (_request, context) => {
        const retryAfter = Math.max(1, Math.ceil(context.ttl / 1000))
        return new Problem('RATE_LIMITED', {
          detail: `More than ${context.max} requests per minute; retry in ${retryAfter} s.`,
          retryAfter,
        })
      },
    })
  }

  if (config.maxEventLoopDelayMs > 0) {
    await app.register(underPressure, {
      maxEventLoopDelay: config.maxEventLoopDelayMs,
      sampleInterval: 200,
      // A rejected promise goes to the error handler: problem+json with Retry-After.
      pressureHandler: async (request, _reply, type, value) => {
        if (isPublicRoute(request)) return
        request.log.warn({ type, value }, 'shedding load')
        throw serviceUnavailable('OVERLOADED', `The server is overloaded (${type}); retry shortly.`, 1)
      },
    })
  }
}

export default fp(limitsPlugin, { name: 'marquee-limits', dependencies: ['marquee-request-context'] })
