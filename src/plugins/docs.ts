import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { problemResponses } from '../routes/problem-responses.js'
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
        license: { name: 'MIT', identifier: 'MIT' },
      },
      servers: [{ url: '/', description: 'This server' }],
      // Anonymous unless the server requires keys (--require-api-key); /me and /sql need one.
      security: [{}, { bearer: [] }, { apiKey: [] }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An API key as a bearer token' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        },
      },
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (json.$id as string) ?? `def-${i}` },
    transform: ({ schema, url, route }) => {
      const s = { ...(schema as Record<string, unknown>) }
      // Client generators name their methods after operationId.
      if (typeof route.method === 'string') s.operationId ??= operationIdOf(route.method, url)
      if (route.config?.public) s.security = []
      // Node refuses a request line and headers over 16 KiB before any route: every operation can.
      s.response = { ...(s.response as object), ...problemResponses(431) }
      return { schema: s, url }
    },
  })
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { deepLinking: true, validatorUrl: null },
    staticCSP: true,
    // A bar above the docs linking back to the web interface (a script file: the CSP allows no inline ones).
    theme: {
      title: 'marquee API',
      js: [{ filename: 'marquee-home.js', content: HOME_LINK_JS }],
      css: [{ filename: 'marquee-home.css', content: HOME_LINK_CSS }],
    },
  })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}

export default fp(docsPlugin, { name: 'marquee-docs' })

/** Puts a "back to the site" bar at the top of /docs. */
const HOME_LINK_JS = `(function () {
  var nav = document.createElement('nav')
  nav.className = 'marquee-home'
  nav.setAttribute('aria-label', 'Site')
  var a = document.createElement('a')
  a.href = '/'
  a.textContent = '\u2190 marquee: back to the site'
  nav.appendChild(a)
  document.body.insertBefore(nav, document.body.firstChild)
})()
`

const HOME_LINK_CSS = `.marquee-home {
  padding: 0.6rem 1.25rem;
  background: #14161b;
  font: 600 0.95rem system-ui, sans-serif;
}
.marquee-home a {
  color: #fff;
  text-decoration: underline;
}
.marquee-home a:focus-visible {
  outline: 3px solid #ffbf47;
  outline-offset: 2px;
}
`

/** `GET /titles/{tconst}/credits` -> `getTitlesByTconstCredits`: unique per method and path. */
export function operationIdOf(method: string, url: string): string {
  const words = url
    .split('/')
    .filter(Boolean)
    .map((part) => {
      const param = /^[:{](\w+)}?$/.exec(part)
      const word = param ? `By${param[1][0].toUpperCase()}${param[1].slice(1)}` : part
      return word.replace(/(^|[-_.])(\w)/g, (_m, _sep, c: string) => c.toUpperCase())
    })
  return method.toLowerCase() + words.join('')
}
