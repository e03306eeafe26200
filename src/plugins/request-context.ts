import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { type RequestStore, runInContext } from '../context/request-context.js'
import { forbidden, Problem, unauthorized } from '../errors.js'
import type { UserResolver } from '../users/api-keys.js'
import { AuthFailures } from '../users/auth-failures.js'
import type { Role } from '../users/user.js'
import { isPublicRoute } from './public-routes.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's context store (also reachable anywhere through requestContext()). */
    ctx: RequestStore
  }
}

export interface RequestContextOptions {
  users: UserResolver
  requireApiKey: boolean
  /** Failed key checks per client address and minute before it gets 429 (0: no limit). */
  authFailuresPerMinute?: number
}

/** 401 without a key, 403 unless its role is one of `roles`; `what` names what needs it. */
export function requireRole(request: FastifyRequest, roles: readonly Role[], what: string): void {
  const user = request.ctx.user
  const named = roles.join(' or ')
  if (!user)
    throw unauthorized(`${what} needs an API key with the ${named} role: send Authorization: Bearer <key>.`)
  if (!roles.includes(user.role))
    throw forbidden(`${what} needs the ${named} role; this key's role is ${user.role}.`)
}

function apiKeyOf(request: FastifyRequest): string | null {
  const auth = request.headers.authorization
  if (auth !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth)
    return m ? m[1] : ''
  }
  const header = request.headers['x-api-key']
  if (typeof header === 'string') return header.trim()
  return null
}

/**
 * Gives every request a store in AsyncLocalStorage: request id (validated X-Request-Id or a
 * UUIDv7, see app.ts genReqId), user, ip, user agent.
 * Everything after onRequest (body parsing, hooks, the handler and what it awaits) runs inside the
 * store: Fastify binds body parsing to the request's async context.
 */
async function requestContextPlugin(app: FastifyInstance, opts: RequestContextOptions) {
  app.decorateRequest('ctx', null as unknown as RequestStore)
  const failures = new AuthFailures(opts.authFailuresPerMinute ?? 0)

  app.addHook('onRequest', (request, reply, done) => {
    const store: RequestStore = {
      requestId: request.id,
      user: null,
      ip: request.ip,
      userAgent: request.headers['user-agent'] ?? null,
    }
    request.ctx = store
    reply.header('x-request-id', request.id)
    runInContext(store, done)
  })

  // Callback-style: a request without a key (most of them) passes synchronously, without a promise.
  app.addHook('onRequest', (request, _reply, done) => {
    if (isPublicRoute(request)) return done()
    const key = apiKeyOf(request)
    if (key === null) {
      if (opts.requireApiKey)
        return done(unauthorized('An API key is required: send Authorization: Bearer <key> or X-API-Key.'))
      return done()
    }
    const wait = failures.retryAfter(request.ip)
    if (wait > 0) {
      return done(
        new Problem('TOO_MANY_AUTH_FAILURES', {
          detail: `Too many requests with unknown API keys from this address; retry in ${wait} s.`,
          retryAfter: wait,
        }),
      )
    }
    const refuse = () => {
      failures.fail(request.ip)
      done(unauthorized('The API key is unknown or revoked.'))
    }
    if (key === '') return refuse()
    opts.users.resolve(key).then((user) => {
      if (user === null) return refuse()
      request.ctx.user = user
      request.log = request.log.child({ user: user.name })
      done()
    }, done)
  })
}

export default fp(requestContextPlugin, { name: 'marquee-request-context' })
