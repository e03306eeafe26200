import type { FastifyRequest } from 'fastify'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Liveness and docs: no key needed, never rate-limited or shed under load. */
    public?: boolean
  }
}

/** Routes that must answer whatever happens: probes and newcomers are never locked out. */
export function isPublicRoute(request: FastifyRequest): boolean {
  return (
    request.routeOptions.config?.public === true ||
    request.url === '/openapi.json' ||
    request.url.startsWith('/docs')
  )
}
