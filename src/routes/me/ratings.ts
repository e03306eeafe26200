import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { parseId } from '../../datasets/catalogue.js'
import { notFound } from '../../errors.js'
import { nowIso } from '../../users/store.js'
import { problemResponses } from '../problem-responses.js'
import {
  pageOptions,
  pageWithTitles,
  REMOVED_RESPONSE,
  ratingItem,
  SECURITY,
  storeOf,
  titleFacts,
  titleToWrite,
  userIdOf,
} from './common.js'
import { PageQuery, RatingBody, RatingItem, RatingsPage, TconstParams } from './schemas.js'

const tags = ['me']

/** GET /me/ratings, and GET/PUT/DELETE /me/ratings/{tconst}. */
const ratingsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/ratings',
    {
      config: { export: {} },
      schema: {
        tags,
        summary: 'Your ratings, most recent first, with the titles',
        security: SECURITY,
        querystring: PageQuery,
        response: { 200: RatingsPage, ...problemResponses(400, 401, 403, 503) },
      },
    },
    async (request) => {
      const page = await (await storeOf(app)).reads.ratings(userIdOf(request), pageOptions(request.query))
      return pageWithTitles(app.users.titlesFor(request), page, ratingItem)
    },
  )

  app.get(
    '/ratings/:tconst',
    {
      schema: {
        tags,
        summary: 'Your rating of one title (404 when you have not rated it)',
        security: SECURITY,
        params: TconstParams,
        response: { 200: RatingItem, ...problemResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request) => {
      const { tconst } = request.params
      const id = parseId(tconst)
      const entry = await (await storeOf(app)).reads.rating(userIdOf(request), id)
      if (!entry) throw notFound(`You have not rated ${tconst}.`)
      return ratingItem(entry, await titleFacts(app.users.titlesFor(request), id))
    },
  )

  app.put(
    '/ratings/:tconst',
    {
      schema: {
        tags,
        summary: 'Rate a title 1 to 10 (201; 200 when it replaces your earlier rating)',
        security: SECURITY,
        params: TconstParams,
        body: RatingBody,
        response: { 200: RatingItem, 201: RatingItem, ...problemResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request, reply) => {
      const { tconst } = request.params
      const { id, title } = await titleToWrite(app.users.titlesFor(request), tconst)
      const userId = userIdOf(request)
      const { rating } = request.body
      const { created, entry } = await request.uow.write((tx) => tx.setRating(userId, id, rating, nowIso()))
      if (created) reply.code(201).header('location', `/me/ratings/${tconst}`)
      return ratingItem(entry, title)
    },
  )

  app.delete(
    '/ratings/:tconst',
    {
      schema: {
        tags,
        summary: 'Remove your rating of a title (404 when you have not rated it)',
        security: SECURITY,
        params: TconstParams,
        response: { 204: REMOVED_RESPONSE, ...problemResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request, reply) => {
      const { tconst } = request.params
      const userId = userIdOf(request)
      const removed = await request.uow.write((tx) => tx.removeRating(userId, parseId(tconst)))
      if (!removed) throw notFound(`You have not rated ${tconst}.`)
      return reply.code(204).send(null)
    },
  )
}

export default ratingsRoutes
