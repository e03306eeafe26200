import { stat } from 'node:fs/promises'
import { Readable } from 'node:stream'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { DATASET_NAMES, type DatasetName, datasetSpec } from '../../datasets/catalogue.js'
import { datasetPath } from '../../datasets/reader.js'
import { badRequest } from '../../errors.js'
import type { IngestSummary } from '../../ingest/manifest.js'
import { addVary, NDJSON_TYPE, negotiateFormat } from '../export-format.js'
import { problemResponses } from '../problem-responses.js'
import { type RowRead, RowReaders } from './rows.js'
import { DatasetNameSchema, DatasetsSchema, RowsPageSchema } from './schemas.js'

export interface DatasetRoutesOptions {
  /** The directory of the IMDb `.tsv.gz` files (config.dataDir). */
  dataDir: string
  /** Reads of the files running at once, and waiting beyond them (default 2 and 8). */
  readers?: { threads: number; queue: number }
}

/** Rows a JSON page holds at most; NDJSON streams any number. */
export const JSON_ROWS_MAX = 1000
/**
 * Rows skipped at most to reach `offset`. Skipping means parsing (no index into a gzip stream): it
 * runs on a reader thread, and is bounded so one request cannot hold a reader for long.
 */
export const OFFSET_MAX = 100_000

const iso = (ms: number) => new Date(ms).toISOString()

/** Size or modification time differ from the manifest's (which keeps whole milliseconds), or it is gone. */
function changed(
  now: { size: number; mtimeMs: number } | null,
  read: { size: number; mtime: string },
): boolean {
  return now === null || now.size !== read.size || Math.abs(now.mtimeMs - Date.parse(read.mtime)) >= 1
}

const param = (name: string, reason: string) =>
  badRequest(`query parameter "${name}" ${reason}`, {
    errors: [{ parameter: name, in: 'querystring', reason }],
  })

/** GET /datasets and GET /datasets/{name}/rows: the raw files behind the loaded database. */
const datasetRoutes: FastifyPluginAsyncTypebox<DatasetRoutesOptions> = async (app, opts) => {
  const readers = new RowReaders(opts.readers ?? { threads: 2, queue: 8 })
  app.addHook('onClose', () => readers.close())

  app.get(
    '/datasets',
    {
      schema: {
        tags: ['datasets'],
        summary: 'The seven IMDb files in the data directory, and the generation ingested from them',
        description:
          'Each file with its size and modification time now (or missing), whether the loaded generation ' +
          'was built from it and whether it changed since; rows per table and when the last ingest ran ' +
          "and for how long, from the loaded generation's manifest.",
        response: { 200: DatasetsSchema, ...problemResponses(503) },
      },
    },
    async () => {
      const g = app.dataset.current()
      const manifest = (g?.manifest ?? null) as Partial<IngestSummary> | null
      const files = await Promise.all(
        DATASET_NAMES.map(async (name) => {
          const file = datasetPath(opts.dataDir, name)
          const now = await stat(file).then(
            (s) => (s.isFile() ? s : null),
            () => null,
          )
          const read = manifest?.files?.find((f) => f.dataset === name) ?? null
          return {
            name,
            file: datasetSpec(name).file,
            present: now !== null,
            size: now?.size ?? null,
            modifiedAt: now ? iso(now.mtimeMs) : null,
            loaded: g?.has(name) ?? false,
            ingested: read ? { size: read.size, modifiedAt: read.mtime } : null,
            changedSinceIngest: read ? changed(now, read) : null,
            linesRead: typeof read?.read === 'number' ? read.read : null,
            rows: `/datasets/${name}/rows`,
          }
        }),
      )
      const m = manifest ?? {}
      return {
        generation: g?.id ?? null,
        ingest:
          m.startedAt && m.finishedAt && typeof m.durationMs === 'number'
            ? { startedAt: m.startedAt, finishedAt: m.finishedAt, durationMs: m.durationMs }
            : null,
        files,
        tables: Object.entries(m.tables ?? {}).map(([name, t]) => ({
          name,
          rows: t.rows,
          bytes: t.bytes ?? null,
        })),
      }
    },
  )

  app.get(
    '/datasets/:name/rows',
    {
      schema: {
        tags: ['datasets'],
        summary: 'Rows parsed straight from a .tsv.gz file (no database), as JSON or streamed NDJSON',
        description:
          "Typed like the API: the catalogue's camelCase column names, `\\N` as null, lists as arrays. " +
          'The file is read only as far as the page needs, and reading stops when the client disconnects. ' +
          `JSON pages hold up to ${JSON_ROWS_MAX} rows (default 100); with \`Accept: application/x-ndjson\` ` +
          '(or `format=ndjson`) the rows stream one JSON object per line, by default to the end of the file. ' +
          `\`offset\` is at most ${OFFSET_MAX.toLocaleString('en')}: reaching it means parsing every row before it. ` +
          'Files are read on a few reader threads, never on the event loop; when all are busy and their queue ' +
          'is full, the answer is 503 DATASET_READERS_BUSY with Retry-After.',
        params: Type.Object({ name: DatasetNameSchema }, { additionalProperties: false }),
        querystring: Type.Object(
          {
            limit: Type.Optional(
              Type.Integer({
                minimum: 1,
                maximum: 100_000_000,
                description: `Rows: JSON default 100, at most ${JSON_ROWS_MAX}; NDJSON default all`,
              }),
            ),
            offset: Type.Integer({
              minimum: 0,
              maximum: OFFSET_MAX,
              default: 0,
              description: 'Rows to skip',
            }),
            format: Type.Optional(
              Type.Enum(['json', 'ndjson'], { description: 'Default: from Accept, else json' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: {
            description: 'A page of rows as JSON, or rows as NDJSON',
            content: {
              'application/json': { schema: RowsPageSchema },
              'application/x-ndjson': {
                schema: { type: 'string', description: 'One row per line, as the JSON items' },
              },
            },
          },
          ...problemResponses(400, 404, 500, 503),
        },
      },
    },
    async (request, reply) => {
      const name = request.params.name as DatasetName
      const { offset } = request.query
      const ndjson = negotiateFormat(request) === 'ndjson'
      if (!ndjson && request.query.limit !== undefined && request.query.limit > JSON_ROWS_MAX) {
        throw param('limit', `must be at most ${JSON_ROWS_MAX} for JSON; ask for NDJSON to stream more`)
      }
      const limit = request.query.limit ?? (ndjson ? Number.POSITIVE_INFINITY : 100)
      addVary(reply, 'Accept')

      const read = readers.open({
        file: datasetPath(opts.dataDir, name),
        dataset: name,
        offset,
        limit,
        format: ndjson ? 'ndjson' : 'page',
      })
      // Stops the worker's read when the client goes away before the answer is complete.
      const onClose = () => {
        if (!reply.raw.writableFinished) read.cancel()
      }
      reply.raw.once('close', onClose)
      // The first chunk before the headers: a missing or corrupt file still answers problem+json.
      let first: string | null
      try {
        first = await read.next()
      } catch (err) {
        reply.raw.removeListener('close', onClose)
        throw err
      }
      if (!ndjson) {
        reply.raw.removeListener('close', onClose)
        // The worker built the page (its only chunk), already exactly the documented shape.
        return reply.type('application/json; charset=utf-8').send(first ?? '')
      }
      reply.type(NDJSON_TYPE)
      if (request.method === 'HEAD') {
        read.cancel()
        return reply.send(undefined as never)
      }
      const body = Readable.from(chunksOf(read, first), { objectMode: false })
      // Destroyed before its first read, the generator never runs its finally: cancel here too.
      body.once('close', () => read.cancel())
      // The stream is the NDJSON representation (the provider types only the JSON one).
      return reply.send(body as never)
    },
  )
}

/** The read's chunks, `first` included; cancels the read when the consumer stops early. */
async function* chunksOf(read: RowRead, first: string | null): AsyncGenerator<string, void, undefined> {
  try {
    for (let chunk = first; chunk !== null; chunk = await read.next()) yield chunk
  } finally {
    read.cancel()
  }
}

export default datasetRoutes
