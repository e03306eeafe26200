import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { type ImportPlan, NOT_GIVEN } from '../../db/queries/import-plan.js'
import { badRequest, Problem } from '../../errors.js'
import { compileValidator, type ValidationError } from '../../lib/validator.js'
import { type ImportChange, type ImportCounts, nowIso } from '../../users/store.js'
import { problemResponses } from '../problem-responses.js'
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

const importRejected = (plan: Extract<ImportPlan, { kind: 'unknown' }>) =>
  new Problem('IMPORT_REJECTED', {
    detail: `${plan.unknownCount} of ${plan.items} items name titles that are not in the dataset; nothing was applied.`,
    extensions: {
      errorCount: plan.unknownCount,
      errors: plan.unknown.map((u) => ({ ...u, reason: 'no such title in the dataset' })),
    },
  })

/** A body that failed its schema, as Fastify reports one (the error handler lists the parameters). */
const invalidBody = (errors: ValidationError[]) =>
  Object.assign(new Error('body validation failed'), {
    statusCode: 400,
    validation: errors,
    validationContext: 'body',
  })

/** The route's change i, as the user store takes it. */
function changeAt(plan: Extract<ImportPlan, { kind: 'ok' }>, i: number): ImportChange {
  const change: ImportChange = { titleId: plan.titleIds[i] }
  const rating = plan.ratings[i]
  if (rating !== NOT_GIVEN) change.rating = rating === 0 ? null : rating
  if (plan.watchlist[i] !== NOT_GIVEN) change.watchlist = plan.watchlist[i] === 1
  return change
}

/**
 * POST /me/import: up to 10,000 ratings and watchlist changes, applied all or nothing.
 *
 * The body stays bytes on the main thread: a query worker parses, validates and checks it against
 * the dataset (importPlan), so this scope reads JSON (and nothing else: 415) as a Buffer and its
 * route validates no body.
 */
const importRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) =>
    done(null, body),
  )

  app.post(
    '/import',
    {
      bodyLimit: IMPORT_BODY_LIMIT,
      // The documented body schema is checked by the query worker; the other parts as everywhere.
      validatorCompiler: ({ schema, httpPart }) =>
        httpPart === 'body' ? () => true : compileValidator(schema),
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
      const plan = await app.users
        .titlesFor(request)
        .importPlan(request.body as unknown as Buffer, ImportBody)
      if (plan.kind === 'malformed') throw badRequest(plan.detail)
      if (plan.kind === 'invalid') throw invalidBody(plan.errors)
      if (plan.kind === 'unknown') throw importRejected(plan)

      const userId = userIdOf(request)
      const at = nowIso()
      const uow = request.uow
      const titles = plan.titleIds.length
      const total: ImportCounts = { watchlistAdded: 0, watchlistRemoved: 0, ratingsSet: 0, ratingsRemoved: 0 }
      for (let i = 0; i < titles; i += IMPORT_CHUNK) {
        if (i > 0) await yieldToEventLoop()
        uow.signal.throwIfAborted()
        const chunk = Array.from({ length: Math.min(IMPORT_CHUNK, titles - i) }, (_, k) =>
          changeAt(plan, i + k),
        )
        const counts = await uow.write((tx) => tx.applyImport(userId, chunk, at))
        total.watchlistAdded += counts.watchlistAdded
        total.watchlistRemoved += counts.watchlistRemoved
        total.ratingsSet += counts.ratingsSet
        total.ratingsRemoved += counts.ratingsRemoved
      }
      return {
        items: plan.items,
        titles,
        watchlist: { added: total.watchlistAdded, removed: total.watchlistRemoved },
        ratings: { set: total.ratingsSet, removed: total.ratingsRemoved },
      }
    },
  )
}

export default importRoutes
