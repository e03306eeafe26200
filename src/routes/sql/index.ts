import { Readable } from 'node:stream'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Type } from 'typebox'
import type { Generation } from '../../dataset/generation.js'
import type { SqlConsoleLimits, SqlConsoleResult } from '../../db/queries/sql-console.js'
import { Problem, poolBusy, queryTimeout, requestAborted } from '../../errors.js'
import type { CsvText } from '../../lib/csv.js'
import { requireRole } from '../../plugins/request-context.js'
import { ProcessExecutor } from '../../pool/process-executor.js'
import { PoolBusyError, QueryAbortedError, QueryDeadlineError, QueryFailedError } from '../../pool/task.js'
import { addVary, CSV_TYPE, CsvTextParam, negotiateFormat } from '../export-format.js'
import { problemResponses } from '../problem-responses.js'

export interface SqlRoutesOptions {
  /** config.sqlEnabled: when off, GET /sql answers 404 SQL_DISABLED (and is not documented). */
  enabled: boolean
  /**
   * The dataset is served from PostgreSQL: the console (SQLite statements in a child process over
   * the database file) cannot run there, enabled or not, and its 404 says so.
   */
  postgres?: boolean
  /** config.sqlRowLimit */
  rowLimit: number
  /** config.queryTimeoutMs: the statement is stopped (its process killed) past it. */
  queryTimeoutMs: number
  /** Query processes, i.e. statements running at once (default 1). */
  processes?: number
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The SQL console's query processes; null while the console is off. */
    sqlExecutor: ProcessExecutor | null
  }
}

/** Bytes of the answer (UTF-8, JSON or CSV) at most, whatever the row count: the rest is `truncated`. */
export const SQL_MAX_BYTES = 32 * 1024 * 1024

/** Characters of a statement in GET /sql's URL: percent-encoded, it fits Node's 16 KiB of headers. */
export const GET_MAX_CHARS = 4000
/** Characters of a statement in POST /sql's body, and the body's bytes (4 per character at most). */
export const POST_MAX_CHARS = 100_000
const POST_BODY_LIMIT = 4 * POST_MAX_CHARS + 1024

const SqlResultSchema = Type.Object(
  {
    columns: Type.Array(Type.String(), { description: 'Column names, in order' }),
    rows: Type.Array(Type.Array(Type.Unknown()), {
      description:
        'Rows as arrays of values: numbers, strings, null; integers beyond 2^53 as strings, blobs as base64',
    }),
    truncated: Type.Boolean({
      description: 'True when the row limit (or the size limit) cut the result short',
    }),
  },
  { additionalProperties: false },
)

/** Only keys with the analyst or admin role. */
const checkRole = (request: FastifyRequest) => requireRole(request, ['analyst', 'admin'], 'The SQL console')

/** An executor failure as the client sees it. */
function problemOf(err: unknown, timeoutMs: number): unknown {
  if (err instanceof QueryDeadlineError) return queryTimeout(timeoutMs)
  if (err instanceof PoolBusyError) return poolBusy()
  if (err instanceof QueryAbortedError) {
    return requestAborted()
  }
  if (err instanceof QueryFailedError) {
    const { name, message, code } = err.remote
    if (name === 'SqlRejectedError') {
      return new Problem('SQL_REJECTED', {
        detail: `Not run: ${message}. The console runs one read-only query.`,
      })
    }
    if (name === 'SqlFailedError') {
      return new Problem('SQL_ERROR', {
        detail: message,
        extensions: { sqliteCode: code },
      })
    }
  }
  return err
}

/** GET and POST /sql: read-only SQL over the loaded dataset, for analyst and admin keys, when enabled. */
async function sqlRoutes(parent: FastifyInstance, opts: SqlRoutesOptions) {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>()
  if (!opts.enabled || opts.postgres) {
    const detail = opts.postgres
      ? 'The SQL console is not available when the dataset is served from PostgreSQL (--database-url), ' +
        'with or without --enable-sql: it runs SQLite statements over the SQLite database file. ' +
        'Query PostgreSQL with its own tools (psql), or serve a SQLite database to use the console.'
      : 'The SQL console is off; start marquee with --enable-sql (MARQUEE_ENABLE_SQL=1) to serve it.'
    app.decorate('sqlExecutor', null)
    const disabled = async () => {
      throw new Problem('SQL_DISABLED', { detail })
    }
    app.get('/sql', { schema: { hide: true } }, disabled)
    app.post('/sql', { schema: { hide: true } }, disabled)
    return
  }

  const executor = new ProcessExecutor({ size: opts.processes ?? 1 })
  app.decorate('sqlExecutor', executor)
  void executor.warmUp()
  app.addHook('onClose', () => executor.close())
  // After a hot swap, the processes let go of the retired generation's file.
  let served: string | null = null
  app.dataset.events.on('acquire', (g: Generation) => {
    if (g.dbPath === served) return
    served = g.dbPath
    executor.retain(g.dbPath)
  })

  const Statement = (maxLength: number) =>
    Type.String({ minLength: 1, maxLength, description: 'The SQL statement' })
  const Format = Type.Optional(Type.Enum(['json', 'csv'], { description: 'Default: from Accept, else json' }))
  const schema = {
    tags: ['sql'],
    summary: 'Read-only SQL over the loaded dataset (analyst and admin keys)',
    description:
      'One SELECT, WITH, VALUES or EXPLAIN statement, on a read-only connection of the loaded generation; ' +
      'anything that would write, ATTACH, PRAGMA, or a second statement is refused with 400. The ' +
      `statement is stopped at the query deadline (503) and returns at most ${opts.rowLimit.toLocaleString('en')} ` +
      'rows (`truncated: true` when there were more). JSON by default; CSV with `format=csv` or ' +
      '`Accept: text/csv` (header row of the column names; `X-Truncated` says whether rows were cut). ' +
      `Statements longer than ${GET_MAX_CHARS.toLocaleString('en')} characters go in the body of a POST ` +
      '(a URL must fit in 16 KiB with the headers).',
    security: [{ bearer: [] as string[] }, { apiKey: [] as string[] }] as { [scheme: string]: string[] }[],
    response: {
      200: {
        description: 'The result',
        content: {
          'application/json': { schema: SqlResultSchema },
          'text/csv': { schema: { type: 'string', description: 'RFC 4180 CSV with a header row' } },
        },
      },
      ...problemResponses(400, 401, 403, 503),
    },
  }

  async function runStatement(request: FastifyRequest, reply: FastifyReply, q: string, csvText?: CsvText) {
    const h = await request.dataset()
    const dbPath = h.generation.dbPath
    request.log.info({ sql: q.slice(0, 2000) }, 'sql console')
    const format = negotiateFormat(request) === 'csv' ? 'csv' : 'json'
    const limits: SqlConsoleLimits = { rowLimit: opts.rowLimit, maxBytes: SQL_MAX_BYTES, format, csvText }
    let result: SqlConsoleResult
    try {
      result = (await executor.run(
        { dbPath, query: 'sqlConsole', args: [dbPath, q, limits] },
        { signal: h.signal, deadlineAt: h.deadlineAt, timeoutMs: opts.queryTimeoutMs },
      )) as SqlConsoleResult
    } catch (err) {
      if (err instanceof QueryDeadlineError && app.hasDecorator('metrics')) app.metrics.queryTimeouts.inc()
      throw problemOf(err, opts.queryTimeoutMs)
    }
    reply.header('cache-control', 'no-store')
    addVary(reply, 'Accept')
    reply.header('x-truncated', String(result.truncated))
    // The query process encoded the body; here its pieces only pass through to the socket.
    let length = 0
    for (const c of result.chunks) length += c.byteLength
    reply.header('content-length', length)
    reply.type(format === 'csv' ? CSV_TYPE : 'application/json; charset=utf-8')
    // The stream is the encoded representation of the documented shape.
    return reply.send(Readable.from(result.chunks, { objectMode: false }) as never)
  }

  app.get(
    '/sql',
    {
      // HEAD would run the statement for nothing.
      exposeHeadRoute: false,
      onRequest: async (request) => checkRole(request),
      schema: {
        ...schema,
        querystring: Type.Object(
          { q: Statement(GET_MAX_CHARS), format: Format, csvText: Type.Optional(CsvTextParam) },
          { additionalProperties: false },
        ),
      },
    },
    (request, reply) => runStatement(request, reply, request.query.q, request.query.csvText),
  )

  app.post(
    '/sql',
    {
      bodyLimit: POST_BODY_LIMIT,
      onRequest: async (request) => checkRole(request),
      schema: {
        ...schema,
        summary: 'Read-only SQL over the loaded dataset, the statement in the body (analyst and admin keys)',
        querystring: Type.Object(
          { format: Format, csvText: Type.Optional(CsvTextParam) },
          { additionalProperties: false },
        ),
        body: Type.Object({ q: Statement(POST_MAX_CHARS) }, { additionalProperties: false }),
      },
    },
    (request, reply) => runStatement(request, reply, request.body.q, request.query.csvText),
  )
}

export default fp(sqlRoutes, { name: 'marquee-sql', dependencies: ['marquee-dataset'] })
