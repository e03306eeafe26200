import { Readable } from 'node:stream'
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { Type } from 'typebox'
import type { Generation } from '../dataset/generation.js'
import type { DatasetHandle, ReleasableHandle } from '../dataset/handle.js'
import type { DatasetService } from '../dataset/service.js'
import { noDataset } from '../errors.js'
import { type CsvText, csvLine } from '../lib/csv.js'
import { QueryAbortedError } from '../pool/task.js'
import {
  addVary,
  CSV_TYPE,
  CsvTextParam,
  FormatParam,
  NDJSON_TYPE,
  negotiateFormat,
} from '../routes/export-format.js'

/**
 * Whole-result exports of the list routes as CSV or NDJSON.
 *
 * A list route opts in with one line, `config: { export: {} }`. This plugin then (at route
 * registration) adds a `format` query parameter and the CSV and NDJSON media types to the route's
 * schema, so both show in the OpenAPI document, and wraps its handler: a request that asks for
 * `?format=csv|ndjson` (or `Accept: text/csv` / `application/x-ndjson`) runs the route's own handler
 * once per page, following the `next` cursor of each page, and streams the rows as they come.
 *
 * - Constant memory: one page is fetched only when the previous one has been taken by the socket
 *   (the body is a pull stream piped to the response, which waits for 'drain'); a reader that stops
 *   reading stops the export.
 * - Each page's queries get their own deadline (a fresh dataset handle per page), all pages read one
 *   pinned dataset generation, and a client that disconnects stops the export (the page in flight is
 *   aborted, the generation released).
 * - The first page is fetched before the response starts, so a bad parameter, an unknown id or a
 *   timeout still answers problem+json; a failure on a later page ends the response without its
 *   final chunk (the connection is dropped), so a partial export is never mistaken for a whole one.
 *
 * CSV (RFC 4180): a header row of the item's field names, CRLF line ends, a field quoted when it
 * holds a comma, quote, CR or LF, quotes doubled. Nested objects become dotted columns
 * (`title.primaryTitle`), arrays of strings or numbers are joined with `|` (`Crime|Drama`), arrays
 * of objects are JSON, null is an empty field, booleans are `true`/`false`.
 * NDJSON: one item per line, exactly as in the JSON pages.
 */

export interface ExportOption {
  /** The property of a page's body holding the rows (default `items`). */
  items?: string
  /** Query parameters an export ignores (per-page extras such as facets). */
  omit?: readonly string[]
  /** Rows per internal page (default: the route's `limit` maximum, else 100). */
  pageSize?: number
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Stream the whole result as CSV or NDJSON on request (see src/plugins/export.ts). */
    export?: ExportOption
  }
  interface FastifyInstance {
    exports: { stats(): ExportStats }
  }
}

export interface ExportStats {
  started: number
  /** Exports sent to the end. */
  completed: number
  /** Exports stopped by the client going away. */
  aborted: number
  /** Exports that failed after they started (a page query failed). */
  failed: number
  /** Exports streaming now. */
  open: number
  /** Pages fetched by exports, first pages included. */
  pages: number
}

interface JsonSchema {
  type?: string | string[]
  properties?: Record<string, JsonSchema>
  anyOf?: JsonSchema[]
  items?: JsonSchema
}

/** `anyOf [X, null]` -> X. */
function nonNull(schema: JsonSchema): JsonSchema {
  const variants = schema.anyOf?.filter((s) => s.type !== 'null')
  return variants && variants.length === 1 ? nonNull(variants[0]) : schema
}

export interface Column {
  /** Dotted path of camelCase property names. */
  name: string
  path: readonly string[]
}

/** The CSV columns of an item schema: its properties in order, nested objects flattened with dots. */
export function columnsOf(schema: JsonSchema, prefix: readonly string[] = []): Column[] {
  const out: Column[] = []
  for (const [key, prop] of Object.entries(schema.properties ?? {})) {
    const s = nonNull(prop)
    const path = [...prefix, key]
    if (s.type === 'object' && s.properties) out.push(...columnsOf(s, path))
    else out.push({ name: path.join('.'), path })
  }
  return out
}

function at(item: unknown, path: readonly string[]): unknown {
  let v = item
  for (const key of path) {
    if (v === null || typeof v !== 'object') return null
    v = (v as Record<string, unknown>)[key]
  }
  return v
}

// ---------------------------------------------------------------------------------------------
// The shared mechanism: pages in, a body stream out

export interface ExportPage<T = unknown> {
  items: readonly T[]
  /** The cursor of the next page, or null on the last page. */
  next: string | null
}

/** Turns rows into the bytes of one format. */
export interface RowEncoder<T = unknown> {
  readonly contentType: string
  /** Written once before the first row (the CSV header). */
  head(): string
  rows(items: readonly T[]): string
}

export function csvEncoder<T>(columns: readonly Column[], text?: CsvText): RowEncoder<T> {
  return {
    contentType: CSV_TYPE,
    head: () => csvLine(columns.map((c) => c.name)),
    rows(items) {
      let out = ''
      for (const item of items)
        out += csvLine(
          columns.map((c) => at(item, c.path)),
          text,
        )
      return out
    },
  }
}

export function ndjsonEncoder<T>(serialize: (item: T) => string = JSON.stringify): RowEncoder<T> {
  return {
    contentType: NDJSON_TYPE,
    head: () => '',
    rows(items) {
      let out = ''
      for (const item of items) out += `${serialize(item)}\n`
      return out
    },
  }
}

export type ExportEnd = 'completed' | 'aborted' | 'failed'

/**
 * The body of an export: the first page (already fetched), then `more(cursor)` for each next page,
 * one page at a time and only as the consumer reads: piped to a response, a page is fetched when the
 * previous one has drained to the socket. Destroying the stream (the client went away) stops it;
 * `onEnd` says how it ended.
 */
export function exportBody<T>(opts: {
  first: ExportPage<T>
  more: (cursor: string) => Promise<ExportPage<T>>
  encoder: RowEncoder<T>
  /** Aborted when the consumer went away: a page failing after that counts as aborted, not failed. */
  signal?: AbortSignal
  onEnd?: (how: ExportEnd, err?: unknown) => void
}): Readable {
  let ended = false
  const end = (how: ExportEnd, err?: unknown) => {
    if (ended) return
    ended = true
    opts.onEnd?.(how, err)
  }
  async function* chunks(): AsyncGenerator<string> {
    let page = opts.first
    let finished = false
    try {
      const head = opts.encoder.head()
      const rows = opts.encoder.rows(page.items)
      if (head || rows) yield head + rows
      while (page.next !== null) {
        const cursor = page.next
        page = await opts.more(cursor)
        // A page pointing at itself would never end.
        if (page.next === cursor) throw new Error(`the page after cursor ${cursor} has the same cursor`)
        const text = opts.encoder.rows(page.items)
        if (text) yield text
      }
      finished = true
      end('completed')
    } catch (err) {
      end(opts.signal?.aborted ? 'aborted' : 'failed', err)
      throw err
    } finally {
      // Left early: the stream was destroyed (client gone) while a page was pending or buffered.
      if (!finished) end('aborted')
    }
  }
  // Byte mode: the buffer holds at most about one page (objectMode would queue 16 pages).
  return Readable.from(chunks(), { objectMode: false, highWaterMark: 64 * 1024 })
}

// ---------------------------------------------------------------------------------------------
// Dataset handles of an export: one generation pinned for the whole export, a deadline per page

/**
 * Stands in for `request.dataset()` while an export runs the route's handler page after page:
 * the first call pins the current generation for the whole export; each page gets a fresh handle
 * (a fresh deadline) shared by that page's concurrent queries.
 */
class ExportSession {
  readonly #abort = new AbortController()
  #generation: Generation | null = null
  #page: Promise<DatasetHandle> | null = null
  #handle: ReleasableHandle | null = null
  #closed = false

  constructor(
    private readonly service: DatasetService,
    private readonly timeoutMs: number,
    private readonly onDeadline: () => void,
  ) {}

  get signal(): AbortSignal {
    return this.#abort.signal
  }

  handle(): Promise<DatasetHandle> {
    if (this.#page) return this.#page
    if (this.#closed) return Promise.reject(new QueryAbortedError('the export is over'))
    if (!this.#generation) {
      this.#generation = this.service.acquire()
      if (!this.#generation) return Promise.reject(noDataset())
    }
    this.#handle = this.service.openHandle(this.#generation, {
      timeoutMs: this.timeoutMs,
      onDeadline: this.onDeadline,
      signal: this.#abort.signal,
    })
    this.#page = Promise.resolve(this.#handle)
    return this.#page
  }

  /** The page is done: its handle (and deadline) go; the next call starts a new one. */
  endPage(): void {
    this.#handle?.release()
    this.#handle = null
    this.#page = null
  }

  /** Idempotent: stops whatever runs and releases the generation. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#abort.abort(new QueryAbortedError('the export is over'))
    this.endPage()
    if (this.#generation) this.service.release(this.#generation)
  }
}

// ---------------------------------------------------------------------------------------------
// The route option

/** The cursor in a page's `next`: a link carrying `cursor=` (titles, names) or the cursor itself (/me). */
export function cursorOf(next: unknown): string | null {
  if (typeof next !== 'string' || next === '') return null
  if (!next.startsWith('/')) return next
  return new URL(next, 'http://x').searchParams.get('cursor')
}

const CONDITIONAL = ['if-none-match', 'if-modified-since'] as const

type Handler = (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) => unknown

interface Schema {
  querystring?: JsonSchema & Record<string, unknown>
  response?: Record<string | number, unknown>
  description?: string
}

export interface ExportPluginOptions {
  /** Deadline of each page's queries (config.queryTimeoutMs). */
  queryTimeoutMs: number
}

async function exportPlugin(app: FastifyInstance, opts: ExportPluginOptions) {
  const stats: ExportStats = { started: 0, completed: 0, aborted: 0, failed: 0, open: 0, pages: 0 }
  app.decorate('exports', { stats: () => ({ ...stats }) })
  if (app.hasDecorator('metrics')) {
    app.metrics.gauge('marquee_exports_open', 'CSV and NDJSON exports streaming now', () => stats.open)
  }
  const onDeadline = () => {
    if (app.hasDecorator('metrics')) app.metrics.queryTimeouts.inc()
  }

  app.addHook('onRoute', (route: RouteOptions) => {
    const option = route.config?.export
    if (!option) return
    const schema = (route.schema ?? {}) as Schema
    const itemsKey = option.items ?? 'items'
    const okSchema = (schema.response?.[200] ?? {}) as JsonSchema
    const itemSchema = (okSchema.properties?.[itemsKey]?.items ?? {}) as JsonSchema
    const columns = columnsOf(itemSchema)
    const limitMax = (schema.querystring?.properties?.limit as { maximum?: number } | undefined)?.maximum
    const pageSize = option.pageSize ?? limitMax ?? 100
    const hasLimit = limitMax !== undefined

    route.schema = {
      ...schema,
      description:
        `${schema.description ? `${schema.description}\n\n` : ''}` +
        '`format=csv|ndjson` (or `Accept: text/csv` / `application/x-ndjson`) streams the whole result.',
      querystring: {
        ...(schema.querystring ?? { type: 'object', additionalProperties: false }),
        properties: {
          ...(schema.querystring?.properties ?? {}),
          format: Type.Optional(FormatParam),
          csvText: Type.Optional(CsvTextParam),
        },
      },
      response: {
        ...schema.response,
        200: {
          description: 'One page as JSON, or the whole result as CSV or NDJSON',
          content: {
            'application/json': { schema: okSchema },
            'text/csv': {
              schema: {
                type: 'string',
                description: 'RFC 4180 CSV with a header row, every row of the result',
              },
            },
            'application/x-ndjson': {
              schema: { type: 'string', description: 'One JSON item per line, every row of the result' },
            },
          },
        },
      },
    } as RouteOptions['schema']

    const original = route.handler as Handler
    route.handler = async function exportable(this: FastifyInstance, request, reply) {
      addVary(reply, 'Accept')
      const format = negotiateFormat(request)
      const query = request.query as Record<string, unknown>
      const text = query.csvText as CsvText | undefined
      delete query.csvText
      if (format === 'json') return original.call(this, request, reply)

      delete query.format
      for (const p of option.omit ?? []) delete query[p]
      if (hasLimit) query.limit = pageSize

      const session = new ExportSession(app.dataset, opts.queryTimeoutMs, onDeadline)
      // Own property: shadows the dataset plugin's decorator for this request only.
      request.dataset = () => session.handle()
      // The client going away (before or during the stream) stops the page in flight.
      reply.raw.once('close', () => {
        if (!reply.raw.writableFinished) session.close()
      })
      const pageOf = (body: unknown): ExportPage => {
        const b = (body ?? {}) as Record<string, unknown>
        const items = b[itemsKey]
        return { items: Array.isArray(items) ? items : [], next: cursorOf(b.next) }
      }

      let first: unknown
      try {
        first = await original.call(this, request, reply)
      } catch (err) {
        session.close()
        throw err
      } finally {
        session.endPage()
      }
      stats.pages++
      // A 304 (If-None-Match) or any reply the handler sent itself.
      if (first === reply || reply.sent) {
        session.close()
        return reply
      }
      const encoder =
        format === 'csv'
          ? csvEncoder(columns, text)
          : ndjsonEncoder(serializerFor(reply, itemSchema as Record<string, unknown>))
      reply.type(encoder.contentType)
      if (format === 'csv')
        reply.header('content-disposition', `attachment; filename="${fileName(request)}.csv"`)
      if (request.method === 'HEAD') {
        session.close()
        return reply.send()
      }
      // Later pages ask unconditionally: the first page decided.
      for (const h of CONDITIONAL) delete request.headers[h]

      stats.started++
      stats.open++
      const body = exportBody({
        first: pageOf(first),
        encoder,
        signal: session.signal,
        more: async (cursor) => {
          query.cursor = cursor
          try {
            const page = pageOf(await original.call(this, request, reply))
            stats.pages++
            return page
          } finally {
            session.endPage()
          }
        },
        onEnd: (how, err) => {
          stats.open--
          stats[how]++
          session.close()
          if (how === 'failed') request.log.warn({ err }, 'export stopped by a failed page')
        },
      })
      return reply.send(body)
    }
  })
}

/** JSON of one item as the JSON pages serialize it (the route's serializer, extra fields dropped). */
function serializerFor(reply: FastifyReply, schema: Record<string, unknown>): (item: unknown) => string {
  if (!schema.type) return JSON.stringify
  return reply.compileSerializationSchema(schema) as (item: unknown) => string
}

/** `/names/nm0000338/credits?...` -> `names-nm0000338-credits`. */
function fileName(request: FastifyRequest): string {
  const path = request.url.split('?')[0]
  return (
    path
      .split('/')
      .filter(Boolean)
      .join('-')
      .replace(/[^A-Za-z0-9._-]/g, '_') || 'export'
  )
}

export default fp(exportPlugin, { name: 'marquee-export', dependencies: ['marquee-dataset'] })
