import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { type TSchema, Type } from 'typebox'
import { parseId, TCONST_PATTERN } from '../../datasets/catalogue.js'
import { MAX_RATING_IDS } from '../../db/queries/ratings.js'
import { badRequest, notFound } from '../../errors.js'
import { notModified } from '../conditional-get.js'
import { problemResponses } from '../problem-responses.js'
import { Tconst } from '../titles/schemas.js'

/**
 * Bulk lookups for apps that keep IMDb ratings in sync: the ratings of up to MAX_RATING_IDS titles
 * in one call (GET /ratings?ids=..., or POST /ratings/lookup when the ids do not fit in a URL), and
 * the ratings of every episode of a series (GET /ratings/series/{tconst}).
 *
 * Limits. Node parses the request line and headers within 16 KiB (HEADERS_TOO_LARGE past that):
 * 1,000 ids of today's 9 or 10 characters are 10-11 KiB of URL, which fits beside ordinary headers,
 * but not beside a large cookie or token, and not at 12 characters an id. Fastify's querystring
 * parser has no count or length limit of its own, and `maxParamLength` concerns path parameters
 * only. So GET takes them, and POST /ratings/lookup, with a body limit of its own fitted to 1,000
 * ids of the longest form, takes any.
 */

const NotModified = Type.Null({ description: 'Not Modified: the ETag given in If-None-Match is current' })
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])

/** An id as the routes accept it: `tt` and 7 to 10 digits (Tconst's maxLength 12). */
const TCONST = new RegExp(TCONST_PATTERN)

/**
 * Bytes of a POST /ratings/lookup body at most: 1,000 ids of 12 characters, quoted, with a comma
 * and a little white space each (~17 KiB), and room for pretty printing: 64 KiB.
 */
const LOOKUP_BODY_LIMIT = 64 * 1024

/** Characters of the `ids` query parameter at most: 1,000 ids of 12 characters and their commas. */
const MAX_IDS_CHARS = MAX_RATING_IDS * 13

const RatingSchema = Type.Object(
  {
    id: Tconst,
    rating: Nullable(Type.Number({ description: 'Weighted average rating, 1-10; null when unrated' })),
    votes: Type.Integer({ description: 'Number of votes; 0 when unrated' }),
  },
  { additionalProperties: false },
)

const RatingsAnswer = Type.Object(
  {
    generation: Type.String({
      description: 'The dataset generation answered from (for GET /changes?since=)',
    }),
    items: Type.Array(RatingSchema, {
      description: 'Each known title asked for, once, in the order first asked (ids as written)',
    }),
    unknown: Type.Array(Tconst, { description: 'The ids asked for that are not in the loaded dataset' }),
  },
  { additionalProperties: false },
)

const EpisodeRatingSchema = Type.Object(
  {
    id: Tconst,
    season: Nullable(Type.Integer()),
    episode: Nullable(Type.Integer()),
    title: Nullable(Type.String({ description: 'null when the episode is not in title.basics' })),
    rating: Nullable(Type.Number({ description: 'Weighted average rating, 1-10; null when unrated' })),
    votes: Type.Integer({ description: 'Number of votes; 0 when unrated' }),
  },
  { additionalProperties: false },
)

const idsError = (parameter: string, where: 'querystring' | 'body', reason: string) =>
  badRequest(`${where === 'body' ? 'body' : 'query'} parameter "${parameter}" ${reason}`, {
    errors: [{ parameter, in: where, reason }],
  })

/**
 * The distinct ids of `ids` with their numeric form, in the order first asked; throws 400 naming
 * the malformed ones, or the limit when there are more than MAX_RATING_IDS.
 */
export function parseIds(
  ids: readonly string[],
  parameter: string,
  where: 'querystring' | 'body',
): Map<number, string> {
  if (ids.length > MAX_RATING_IDS) {
    throw idsError(parameter, where, `must hold at most ${MAX_RATING_IDS} ids, got ${ids.length}`)
  }
  const bad = ids.filter((id) => !TCONST.test(id) || id.length > 12)
  if (bad.length > 0) {
    const shown = bad
      .slice(0, 5)
      .map((id) => JSON.stringify(id.slice(0, 20)))
      .join(', ')
    throw idsError(
      parameter,
      where,
      `must be IMDb title ids (tt and 7 to 10 digits); not ${shown}${bad.length > 5 ? ` and ${bad.length - 5} more` : ''}`,
    )
  }
  const byNumber = new Map<number, string>()
  for (const id of ids) {
    const n = parseId(id)
    if (!byNumber.has(n)) byNumber.set(n, id)
  }
  return byNumber
}

/** The ratings of `asked` from the request's generation, as RatingsAnswer. */
async function answer(request: FastifyRequest, asked: Map<number, string>) {
  const h = await request.dataset()
  h.require('title.basics', 'title.ratings')
  const rows = await h.query('ratingsOf', [...asked.keys()])
  const found = new Map(rows.map((r) => [r.id, r]))
  const items: { id: string; rating: number | null; votes: number }[] = []
  const unknown: string[] = []
  for (const [n, id] of asked) {
    const r = found.get(n)
    if (r) items.push({ id, rating: r.rating, votes: r.votes })
    else unknown.push(id)
  }
  return { generation: h.generation.id, items, unknown }
}

/** 304 when the client's copy of the generation is current (GET only). */
async function unchanged(request: FastifyRequest, reply: FastifyReply): Promise<boolean> {
  return notModified(request, reply, await request.dataset())
}

const ratingRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/ratings',
    {
      schema: {
        tags: ['ratings'],
        summary: `Ratings and votes of up to ${MAX_RATING_IDS} titles at once`,
        description:
          'For apps keeping ratings in sync. `ids` is a comma-separated list of title ids; each ' +
          'distinct id is answered once, in `items` (rating null when unrated) or in `unknown`. ' +
          'The request line and headers must fit in 16 KiB (1,000 ids of 9 or 10 characters do, ' +
          'beside ordinary headers); POST /ratings/lookup takes the same ids in a body. ' +
          'ETag and Last-Modified follow the loaded dataset generation.',
        querystring: Type.Object(
          {
            ids: Type.String({
              minLength: 1,
              maxLength: MAX_IDS_CHARS,
              description: `Comma-separated IMDb title ids, at most ${MAX_RATING_IDS}`,
              examples: ['tt0068646,tt0111161'],
            }),
          },
          { additionalProperties: false },
        ),
        response: { 200: RatingsAnswer, 304: NotModified, ...problemResponses(400, 409, 503) },
      },
    },
    async (request, reply) => {
      const asked = parseIds(request.query.ids.split(','), 'ids', 'querystring')
      if (await unchanged(request, reply)) return reply
      return answer(request, asked)
    },
  )

  app.post(
    '/ratings/lookup',
    {
      bodyLimit: LOOKUP_BODY_LIMIT,
      schema: {
        tags: ['ratings'],
        summary: `Ratings and votes of up to ${MAX_RATING_IDS} titles at once, ids in the body`,
        description:
          'GET /ratings for ids that do not fit in a URL: the same answer. The body is at most ' +
          `${LOOKUP_BODY_LIMIT / 1024} KiB (413 past that).`,
        body: Type.Object(
          {
            ids: Type.Array(Tconst, {
              minItems: 1,
              maxItems: MAX_RATING_IDS,
              description: `IMDb title ids, at most ${MAX_RATING_IDS}`,
            }),
          },
          { additionalProperties: false },
        ),
        response: { 200: RatingsAnswer, ...problemResponses(400, 409, 413, 415, 503) },
      },
    },
    async (request) => answer(request, parseIds(request.body.ids, 'ids', 'body')),
  )

  app.get(
    '/ratings/series/:tconst',
    {
      schema: {
        tags: ['ratings'],
        summary: 'The ratings of every episode of a series',
        description:
          'Every episode (id, season, episode, title, rating, votes) by season and episode number, ' +
          'unknown seasons and numbers last. Not paginated: a series is answered whole. ' +
          'ETag and Last-Modified follow the loaded dataset generation.',
        params: Type.Object({ tconst: Tconst }, { additionalProperties: false }),
        response: {
          200: Type.Object(
            {
              seriesId: Tconst,
              generation: Type.String({ description: 'The dataset generation answered from' }),
              episodeCount: Type.Integer(),
              episodes: Type.Array(EpisodeRatingSchema),
            },
            { additionalProperties: false },
          ),
          304: NotModified,
          ...problemResponses(400, 404, 409, 503),
        },
      },
    },
    async (request, reply) => {
      const { tconst } = request.params
      const h = await request.dataset()
      h.require('title.basics', 'title.episode', 'title.ratings')
      if (notModified(request, reply, h)) return reply
      const found = await h.query('seriesRatings', parseId(tconst))
      if (found.kind === 'unknown') throw notFound(`No title ${tconst} in the loaded dataset.`)
      if (found.kind === 'not-series')
        throw notFound(`${tconst} is a ${found.type}, not a series: it has no episodes.`)
      return {
        seriesId: tconst,
        generation: h.generation.id,
        episodeCount: found.episodes.length,
        episodes: found.episodes,
      }
    },
  )
}

export default ratingRoutes
