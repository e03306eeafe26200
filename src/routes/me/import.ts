import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { parseId } from '../../datasets/catalogue.js'
import { Problem } from '../../errors.js'
import { problemResponses } from '../../plugins/docs.js'
import { type ImportChange, type ImportCounts, nowIso } from '../../users/store.js'
import { SECURITY, userIdOf } from './common.js'
import { IMPORT_MAX_ITEMS, ImportBody, ImportResult } from './schemas.js'

/**
 * Titles written per statement batch. Between batches the import yields to the event loop, so other
 * requests keep being served and a client disconnect is noticed (the import then rolls back).
 */
export const IMPORT_CHUNK = 500

/**
 * 10,000 items of about 55 bytes (`{"tconst":"tt12345678","rating":10,"watchlist":false}`), or about
 * 85 pretty-printed: the largest import fits, and parsing the largest body costs the event loop a
 * few milliseconds, not seconds.
 */
export const IMPORT_BODY_LIMIT = 1024 * 1024

/** Per-item errors listed in a 422 at most (the count is always complete). */
const MAX_LISTED_ERRORS = 1000

const importRejected = (errors: { index: number; tconst: string; reason: string }[], total: number) =>
  new Problem(422, 'IMPORT_REJECTED', 'Unprocessable Content', {
    detail: `${errors.length} of ${total} items name titles that are not in the dataset; nothing was applied.`,
    extensions: { errorCount: errors.length, errors: errors.slice(0, MAX_LISTED_ERRORS) },
  })

/** POST /me/import: up to 10,000 ratings and watchlist changes, applied all or nothing. */
const importRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/import',
    {
      bodyLimit: IMPORT_BODY_LIMIT,
      schema: {
        tags: ['me'],
        summary: `Import up to ${IMPORT_MAX_ITEMS.toLocaleString('en')} ratings and watchlist changes, all or nothing`,
        description:
          'Every title must be in the dataset: otherwise the answer is 422 with the failing items ' +
          '(`errors[].index`) and nothing is applied. A client that disconnects before the answer ' +
          'leaves nothing applied either.',
        security: SECURITY,
        body: ImportBody,
        response: { 200: ImportResult, ...problemResponses(400, 401, 403, 413, 422, 503) },
      },
    },
    async (request) => {
      const { items } = request.body
      const ids = items.map((item) => parseId(item.tconst))
      const known = await app.users.titlesFor(request).existing(ids)
      const errors = items.flatMap((item, index) =>
        known.has(ids[index]) ? [] : [{ index, tconst: item.tconst, reason: 'no such title in the dataset' }],
      )
      if (errors.length > 0) throw importRejected(errors, items.length)

      // One change per title, fields merged in order (a later item's field wins), so a batch never
      // touches one row twice.
      const merged = new Map<number, ImportChange>()
      items.forEach((item, i) => {
        const change: ImportChange = merged.get(ids[i]) ?? { titleId: ids[i] }
        if (item.rating !== undefined) change.rating = item.rating
        if (item.watchlist !== undefined) change.watchlist = item.watchlist
        merged.set(ids[i], change)
      })
      const changes = [...merged.values()]

      const userId = userIdOf(request)
      const at = nowIso()
      const uow = request.uow
      const total: ImportCounts = { watchlistAdded: 0, watchlistRemoved: 0, ratingsSet: 0, ratingsRemoved: 0 }
      for (let i = 0; i < changes.length; i += IMPORT_CHUNK) {
        if (i > 0) await yieldToEventLoop()
        uow.signal.throwIfAborted()
        const chunk = changes.slice(i, i + IMPORT_CHUNK)
        const counts = await uow.write((tx) => tx.applyImport(userId, chunk, at))
        total.watchlistAdded += counts.watchlistAdded
        total.watchlistRemoved += counts.watchlistRemoved
        total.ratingsSet += counts.ratingsSet
        total.ratingsRemoved += counts.ratingsRemoved
      }
      return {
        items: items.length,
        titles: changes.length,
        watchlist: { added: total.watchlistAdded, removed: total.watchlistRemoved },
        ratings: { set: total.ratingsSet, removed: total.ratingsRemoved },
      }
    },
  )
}

export default importRoutes
