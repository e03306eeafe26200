import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { ProblemSchema } from './problem-schema.js'

/** OpenAPI 3.1 generated from the route schemas at /openapi.json; interactive docs at /docs, served locally. */
async function docsPlugin(app: FastifyInstance, opts: { version: string }) {
  app.addSchema(ProblemSchema)
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'marquee',
        version: opts.version,
        description:
          'A fast, self-hosted HTTP API over the IMDb non-commercial datasets. Errors are RFC 9457 ' +
          'problem+json whose `instance` is the request id (also sent as `X-Request-Id`).',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An API key as a bearer token' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        },
      },
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (json.$id as string) ?? `def-${i}` },
  })
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { deepLinking: true, validatorUrl: null },
    staticCSP: true,
  })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}

export default fp(docsPlugin, { name: 'marquee-docs' })

/** Response entries for the problem statuses a route can answer, referencing the shared schema. */
export function problemResponses(...statuses: number[]): Record<number, { $ref: string }> {
  return Object.fromEntries(statuses.map((s) => [s, { $ref: 'Problem#' }]))
}
