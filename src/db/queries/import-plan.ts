import { parseId } from '../../datasets/catalogue.js'
import { JSON_MAX_DEPTH, jsonDepthExceeds } from '../../lib/json.js'
import { chunks } from '../../lib/limit.js'
import { compileValidator, type ValidationError } from '../../lib/validator.js'
import type { DB } from './sql.js'

/** In `ImportPlan.ratings` and `.watchlist`: the item did not set the field. */
export const NOT_GIVEN = -1

/**
 * A POST /me/import body read, checked and reduced to one change per title: what the route applies.
 * Columns, not objects, so the answer crosses to the main thread as a few byte copies.
 */
export type ImportPlan =
  | { kind: 'malformed'; detail: string }
  | { kind: 'invalid'; errors: ValidationError[] }
  | { kind: 'unknown'; items: number; unknownCount: number; unknown: { index: number; tconst: string }[] }
  | {
      kind: 'ok'
      items: number
      titleIds: Float64Array
      /** 1-10 sets the rating, 0 removes it, NOT_GIVEN leaves it. */
      ratings: Int8Array
      /** 1 adds to the watchlist, 0 removes, NOT_GIVEN leaves it. */
      watchlist: Int8Array
    }

interface ImportItem {
  tconst: string
  rating?: number | null
  watchlist?: boolean
}

/** Unknown titles listed in a plan at most (the count is always complete). */
export const MAX_LISTED_UNKNOWN = 1000
/** Ids per existence query. */
const IDS_PER_QUERY = 500

const validators = new Map<string, ReturnType<typeof compileValidator>>()

/**
 * Reads an import body where the query runs (a worker thread for SQLite): the depth check, JSON
 * parsing and validation against `schema` (the route's body schema) that Fastify would otherwise do
 * on the main thread (10,000 items: about 10 ms each, and 16 clients' bodies arrive together), then
 * merges the items per title (a later item's field wins) and checks that every title exists.
 */
export async function importPlan(db: DB, body: Uint8Array, schema: object): Promise<ImportPlan> {
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8')
  if (jsonDepthExceeds(text, JSON_MAX_DEPTH)) {
    return { kind: 'malformed', detail: `The JSON body is nested deeper than ${JSON_MAX_DEPTH} levels.` }
  }
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (err) {
    return { kind: 'malformed', detail: (err as Error).message }
  }
  const key = JSON.stringify(schema)
  let validate = validators.get(key)
  if (!validate) {
    validate = compileValidator(schema)
    validators.set(key, validate)
  }
  if (!validate(data)) return { kind: 'invalid', errors: validate.errors ?? [] }

  const items = (data as { items: ImportItem[] }).items
  const slot = new Map<number, number>()
  const ids: number[] = []
  const ratings: number[] = []
  const watchlist: number[] = []
  for (const item of items) {
    const id = parseId(item.tconst)
    let i = slot.get(id)
    if (i === undefined) {
      i = ids.push(id) - 1
      slot.set(id, i)
      ratings.push(NOT_GIVEN)
      watchlist.push(NOT_GIVEN)
    }
    if (item.rating !== undefined) ratings[i] = item.rating ?? 0
    if (item.watchlist !== undefined) watchlist[i] = item.watchlist ? 1 : 0
  }

  const known = new Set<number>()
  for (const part of chunks(ids, IDS_PER_QUERY)) {
    const rows = await db.selectFrom('titles').select('id').where('id', 'in', part).execute()
    for (const r of rows) known.add(r.id)
  }
  if (known.size < ids.length) {
    const unknown: { index: number; tconst: string }[] = []
    let unknownCount = 0
    items.forEach((item, index) => {
      if (known.has(parseId(item.tconst))) return
      if (++unknownCount <= MAX_LISTED_UNKNOWN) unknown.push({ index, tconst: item.tconst })
    })
    return { kind: 'unknown', items: items.length, unknownCount, unknown }
  }
  return {
    kind: 'ok',
    items: items.length,
    titleIds: Float64Array.from(ids),
    ratings: Int8Array.from(ratings),
    watchlist: Int8Array.from(watchlist),
  }
}
