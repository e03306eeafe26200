import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

export interface SecurityHeadersOptions {
  /** CORS is on: other origins may read the answers, so resources are `cross-origin`. */
  cors: boolean
  /** Strict-Transport-Security max-age in seconds; 0: not sent (config.hstsMaxAge). */
  hstsMaxAge: number
}

/**
 * The response headers an API and its few web pages need, computed once and set on every response:
 * no MIME sniffing, no referrer leaving, no framing by other sites, resources readable by other
 * origins only with CORS on. HSTS only when configured: sent over plain HTTP and passed on by a TLS
 * proxy, it would pin the host to HTTPS for its max-age. (The web shell adds its own CSP; JSON
 * needs none.) Headers for browsers of another age (X-XSS-Protection, X-Download-Options,
 * X-DNS-Prefetch-Control, X-Permitted-Cross-Domain-Policies) are left out.
 */
export function securityHeaders(opts: SecurityHeadersOptions): Record<string, string> {
  return {
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'SAMEORIGIN',
    'referrer-policy': 'no-referrer',
    'cross-origin-resource-policy': opts.cors ? 'cross-origin' : 'same-origin',
    ...(opts.hstsMaxAge > 0 ? { 'strict-transport-security': `max-age=${opts.hstsMaxAge}` } : {}),
  }
}

async function securityHeadersPlugin(app: FastifyInstance, opts: SecurityHeadersOptions) {
  const headers = securityHeaders(opts)
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers)
    done()
  })
}

export default fp(securityHeadersPlugin, { name: 'marquee-security-headers' })
