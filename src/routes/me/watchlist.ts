import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { parseId } from '../../datasets/catalogue.js'
import { notFound } from '../../errors.js'
import { nowIso } from '../../users/store.js'
import { problemResponses } from '../problem-responses.js'
import {
  pageOptions,
  pageWithTitles,
  REMOVED_RESPONSE,
  SECURITY,
  storeOf,
  titleFacts,
  titleToWrite,
  userIdOf,
  watchlistItem,
} from './common.js'
import { PageQuery, TconstParams, WatchlistItem, WatchlistPage } from './schemas.js'

const tags = ['me']

/** GET /me/watchlist, and GET/PUT/DELETE /me/watchlist/{tconst}. */
const watchlistRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/watchlist',
    {
      config: { export: {} },
      schema: {
        tags,
        summary: 'Your watchlist, most recently added first, with the titles and your ratings',
        security: SECURITY,
        querystring: PageQuery,
        response: { 200: WatchlistPage, ...problemResponses(400, 401, 403, 503) },
      },
    },
    async (request) => {
      const page = await (await storeOf(app)).reads.watchlist(userIdOf(request), pageOptions(request.query))
      return pageWithTitles(app.users.titlesFor(request), page, watchlistItem)
    },
  )

  app.get(
    '/watchlist/:tconst',
    {
      schema: {
        tags,
        summary: 'One title of your watchlist (404 when it is not on it)',
        security: SECURITY,
        params: TconstParams,
        response: { 200: WatchlistItem, ...problemResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request) => {
      const { tconst } = request.params
      const id = parseId(tconst)
      const entry = await (await storeOf(app)).reads.watchlistEntry(userIdOf(request), id)
      if (!entry) throw notFound(`${tconst} is not on your watchlist.`)
      return watchlistItem(entry, await titleFacts(app.users.titlesFor(request), id))
    },
  )

  app.put(
    '/watchlist/:tconst',
    {
      schema: {
        tags,
        summary: 'Add a title to your watchlist (201; 200 when it was already there)',
        security: SECURITY,
        params: TconstParams,
        response: { 200: WatchlistItem, 201: WatchlistItem, ...problemResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request, reply) => {
      const { tconst } = request.params
      const { id, title } = await titleToWrite(app.users.titlesFor(request), tconst)
      const userId = userIdOf(request)
      const { created, entry } = await request.uow.write((tx) => tx.addToWatchlist(userId, id, nowIso()))
      if (created) reply.code(201).header('location', `/me/watchlist/${tconst}`)
      return watchlistItem(entry, title)
    },
  )

  app.delete(
    '/watchlist/:tconst',
    {
      schema: {
        tags,
        summary: 'Remove a title from your watchlist (404 when it is not on it)',
        security: SECURITY,
        params: TconstParams,
        response: { 204: REMOVED_RESPONSE, ...problemResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request, reply) => {
      const { tconst } = request.params
      const userId = userIdOf(request)
      const removed = await request.uow.write((tx) => tx.removeFromWatchlist(userId, parseId(tconst)))
      if (!removed) throw notFound(`${tconst} is not on your watchlist.`)
      return reply.code(204).send(null)
    },
  )
}

export default watchlistRoutes
