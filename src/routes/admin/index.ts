import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { serviceUnavailable } from '../../errors.js'
import { requireRole } from '../../plugins/request-context.js'
import { problemResponses } from '../problem-responses.js'

const ReloadSchema = Type.Object(
  {
    generation: Type.String({ description: 'The generation served from now on' }),
    previous: Type.Union([Type.String(), Type.Null()], {
      description: 'The generation served before; requests in flight finish on it',
    }),
    changed: Type.Boolean({ description: 'Whether a new generation was loaded' }),
    loadedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
      description: 'When the served generation was built',
    }),
  },
  { additionalProperties: false },
)

/** Operations on the running server (admin keys only). */
const adminRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/admin/reload',
    {
      onRequest: async (request) => requireRole(request, ['admin'], 'This'),
      schema: {
        tags: ['admin'],
        summary: 'Load the newest dataset generation now, if it differs from the one served (hot swap)',
        description:
          'What SIGHUP does, and what the server does by itself when it sees a new generation: on SQLite ' +
          'the database file is loaded when its generation differs from the one served; on PostgreSQL the ' +
          'current-generation pointer is read again. Requests in flight finish ' +
          'on the generation they started with, new requests get the new one, and the old one is closed ' +
          'once its last request is done. Needs an API key with the admin role.',
        security: [{ bearer: [] }, { apiKey: [] }],
        response: { 200: ReloadSchema, ...problemResponses(401, 403, 503) },
      },
    },
    async (_request, reply) => {
      const r = await app.dataset.reload('POST /admin/reload')
      if (r.generation === null) {
        throw serviceUnavailable('NO_DATASET', 'There is no dataset database to load yet.', 5)
      }
      reply.header('cache-control', 'no-store')
      return {
        generation: r.generation,
        previous: r.previous,
        changed: r.changed,
        loadedAt: app.dataset.info()?.loadedAt ?? null,
      }
    },
  )
}

export default adminRoutes
