import type { FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'

/**
 * The representations a route can answer besides one JSON page (CSV, NDJSON), and how a request
 * picks one. Used by the routes that stream on their own (/sql, /datasets) and by the export plugin.
 */

export type ExportFormat = 'json' | 'csv' | 'ndjson'

export const CSV_TYPE = 'text/csv; charset=utf-8; header=present'
export const NDJSON_TYPE = 'application/x-ndjson'

const MEDIA: Record<Exclude<ExportFormat, 'json'>, string> = {
  csv: 'text/csv',
  ndjson: 'application/x-ndjson',
}

/** `csvText`, on every route that answers CSV (see CsvText). */
export const CsvTextParam = Type.Enum(['neutralized', 'raw'], {
  description:
    "CSV only. neutralized (default): a text field beginning with =, +, -, @, tab or CR gets a leading ' " +
    'so spreadsheets do not run it as a formula. raw: every field exactly as stored.',
})

export const FormatParam = Type.Enum(['json', 'csv', 'ndjson'], {
  description:
    'json (default): one page. csv or ndjson: the WHOLE result, streamed page after page (a `cursor` ' +
    'sets where it starts; `limit` does not apply). Also chosen by `Accept: text/csv` or ' +
    '`application/x-ndjson`. CSV: RFC 4180 with a header row; nested fields as dotted columns ' +
    '(`title.primaryTitle`), lists of strings or numbers joined with `|`, lists of objects as JSON.',
})

/**
 * How an Accept header rates `media`: the quality of its most specific matching range, and how
 * specific that range is (2 the type itself, 1 `type/*`, 0 `*\/*`, -1 no match).
 */
function acceptQuality(accept: string, media: string): { q: number; specificity: number } {
  const [type] = media.split('/')
  let q = 0
  let specificity = -1
  for (const part of accept.split(',')) {
    const [range, ...params] = part.trim().toLowerCase().split(';')
    const r = range.trim()
    const spec = r === media ? 2 : r === `${type}/*` ? 1 : r === '*/*' ? 0 : -1
    if (spec < 0 || spec < specificity) continue
    const given = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
    const quality = given ? Number(given.slice(2)) : 1
    const value = Number.isFinite(quality) ? quality : 0
    q = spec > specificity ? value : Math.max(q, value)
    specificity = spec
  }
  return { q, specificity }
}

/**
 * The representation a request asks for: `?format=` wins, else the Accept header: CSV or NDJSON
 * when it names them and rates them above JSON; wildcards, ties and anything else mean JSON.
 */
export function negotiateFormat(request: FastifyRequest): ExportFormat {
  const given = (request.query as Record<string, unknown> | undefined)?.format
  if (given === 'json' || given === 'csv' || given === 'ndjson') return given
  const accept = request.headers.accept
  if (!accept) return 'json'
  let chosen: ExportFormat = 'json'
  let best = acceptQuality(accept, 'application/json').q
  for (const f of ['csv', 'ndjson'] as const) {
    const { q, specificity } = acceptQuality(accept, MEDIA[f])
    if (specificity === 2 && q > best) {
      chosen = f
      best = q
    }
  }
  return chosen
}

/** Adds `header` to Vary, keeping what is there (CORS adds Origin). */
export function addVary(reply: FastifyReply, header: string): void {
  const current = reply.getHeader('vary')
  if (current === undefined) reply.header('vary', header)
  else if (
    !String(current)
      .toLowerCase()
      .split(/\s*,\s*/)
      .includes(header.toLowerCase())
  ) {
    reply.header('vary', `${current}, ${header}`)
  }
}
