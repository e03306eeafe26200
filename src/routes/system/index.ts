import path from 'node:path'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { noDataset } from '../../errors.js'
import { problemResponses } from '../problem-responses.js'

const ReadySchema = Type.Object(
  {
    status: Type.Literal('ready'),
    generation: Type.String({ description: 'Id of the loaded dataset generation' }),
    loadedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    datasets: Type.Array(Type.String(), { description: 'IMDb files the loaded database was built from' }),
    manifest: Type.Unknown({ description: "The ingest's manifest: files, rows, timings" }),
  },
  { additionalProperties: false },
)

/** The manifest with its files named, not located: where the server keeps them is for admins. */
function withoutPaths(manifest: unknown): unknown {
  const m = manifest as { files?: { file?: unknown }[] } | null
  if (!m || !Array.isArray(m.files)) return manifest
  return {
    ...m,
    files: m.files.map((f) => (typeof f.file === 'string' ? { ...f, file: path.basename(f.file) } : f)),
  }
}

/** Liveness and readiness. */
const systemRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/health',
    {
      schema: {
        tags: ['system'],
        summary: 'Liveness: answers OK without touching the database',
        security: [],
        response: {
          200: { type: 'string', description: 'OK', content: { 'text/plain': { schema: Type.String() } } },
        },
      },
      // Liveness must not wait for anything: no key, no rate limit, no load shedding, no database.
      config: { public: true },
    },
    async (_request, reply) => reply.type('text/plain').send('OK'),
  )

  app.get(
    '/ready',
    {
      schema: {
        tags: ['system'],
        summary: "Readiness: the loaded dataset's generation, or 503 while none is loaded",
        description: 'The manifest names its source files; their full paths only for admin keys.',
        response: { 200: ReadySchema, ...problemResponses(503) },
      },
    },
    async (request) => {
      const info = app.dataset.info()
      if (!info) throw noDataset()
      return {
        status: 'ready' as const,
        generation: info.generation,
        loadedAt: info.loadedAt,
        datasets: info.datasets,
        manifest: request.ctx.user?.role === 'admin' ? info.manifest : withoutPaths(info.manifest),
      }
    },
  )
}

export default systemRoutes
