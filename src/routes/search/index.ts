import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { SEARCH_DEPTH } from '../../db/queries/search.js'
import { queryTokens } from '../../db/queries/text.js'
import { badRequest, conflict } from '../../errors.js'
import { notModified } from '../conditional-get.js'
import { problemResponses } from '../problem-responses.js'
import { EpisodeOfSchema, Nconst, Tconst } from '../titles/schemas.js'

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()])

const TitleHitSchema = Type.Object(
  {
    kind: Type.Literal('title'),
    id: Tconst,
    title: Type.String(),
    type: Type.String(),
    startYear: Nullable(Type.Integer()),
    endYear: Nullable(Type.Integer()),
    rating: Nullable(Type.Number()),
    votes: Type.Integer(),
    matchedTitle: Nullable(
      Type.String({
        description: 'The alternate title that matched, when not the primary or original title',
      }),
    ),
    episodeOf: Nullable(EpisodeOfSchema),
    score: Type.Number(),
  },
  { additionalProperties: false },
)

const NameHitSchema = Type.Object(
  {
    kind: Type.Literal('name'),
    id: Nconst,
    name: Type.String(),
    professions: Type.Array(Type.String()),
    birthYear: Nullable(Type.Integer()),
    deathYear: Nullable(Type.Integer()),
    popularity: Type.Integer(),
    score: Type.Number(),
  },
  { additionalProperties: false },
)

/** GET /search: the search box. */
const searchRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/search',
    {
      schema: {
        tags: ['search'],
        summary: 'Autocomplete across titles (including alternate titles) and people',
        description:
          'Every word is a prefix; accents are ignored (`amelie` finds Amélie); a word that matches nothing ' +
          'is corrected within one typo (`godfathr`). Ranked by text relevance and popularity. ' +
          `\`kind\` or \`offset\` make it a paged search (a results page): the best ${SEARCH_DEPTH} titles ` +
          'and people are ranked, the same ranking for every page, and the answer adds `total` and `next`.',
        querystring: Type.Object(
          {
            q: Type.String({ minLength: 1, maxLength: 200, description: 'What the user typed so far' }),
            limit: Type.Integer({ minimum: 1, maximum: 50, default: 10 }),
            kind: Type.Optional(
              Type.Enum(['title', 'name'], { description: 'Only titles or only people (a paged search)' }),
            ),
            offset: Type.Optional(
              Type.Integer({
                minimum: 0,
                maximum: SEARCH_DEPTH - 1,
                description: `Results to skip (a paged search); offset + limit at most ${SEARCH_DEPTH}`,
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            {
              query: Type.String(),
              words: Type.Array(Type.Array(Type.String()), {
                description: 'The words searched for, one list of alternatives (typo corrections) per word',
              }),
              corrected: Type.Boolean({ description: 'True when a word was replaced by a correction' }),
              results: Type.Array(Type.Union([TitleHitSchema, NameHitSchema])),
              total: Type.Optional(
                Type.Integer({
                  description: `Paged searches: the results ranked, at most ${SEARCH_DEPTH} (the pages reachable)`,
                }),
              ),
              totalIsExact: Type.Optional(
                Type.Boolean({
                  description: 'Paged searches: false when more match than were ranked ("500+")',
                }),
              ),
              next: Type.Optional(
                Type.Union([
                  Type.String({ description: 'Paged searches: relative URL of the next page' }),
                  Type.Null(),
                ]),
              ),
            },
            { additionalProperties: false },
          ),
          304: Type.Null({ description: 'Not Modified' }),
          ...problemResponses(400, 409, 503),
        },
      },
    },
    async (request, reply) => {
      const { q, limit, kind, offset } = request.query
      if (queryTokens(q).length === 0) {
        const reason = 'must contain at least one letter or digit'
        throw badRequest(`query parameter "q" ${reason}`, {
          errors: [{ parameter: 'q', in: 'querystring', reason }],
        })
      }
      if (offset !== undefined && offset + limit > SEARCH_DEPTH) {
        const reason = `plus limit must be at most ${SEARCH_DEPTH} (the results a paged search ranks)`
        throw badRequest(`query parameter "offset" ${reason}`, {
          errors: [{ parameter: 'offset', in: 'querystring', reason }],
        })
      }
      const h = await request.dataset()
      if (!h.generation.has('title.basics') && !h.generation.has('name.basics')) {
        throw conflict(
          'Neither title.basics nor name.basics was loaded into this database: there is nothing to search.',
        )
      }
      if (notModified(request, reply, h)) return reply
      if (kind === undefined && offset === undefined) return h.query('search', q, { limit })
      const result = await h.query('search', q, { limit, kind, offset: offset ?? 0 })
      const end = (offset ?? 0) + limit
      const more = result.total !== undefined && end < result.total
      return { ...result, next: more ? nextOffset(request.url, end) : null }
    },
  )
}

/** The request's own path and query with `offset` replaced. */
function nextOffset(url: string, offset: number): string {
  const u = new URL(url, 'http://x')
  u.searchParams.set('offset', String(offset))
  return `${u.pathname}?${u.searchParams.toString()}`
}

export default searchRoutes
