import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
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
          'is corrected within one typo (`godfathr`). Ranked by text relevance and popularity.',
        querystring: Type.Object(
          {
            q: Type.String({ minLength: 1, maxLength: 200, description: 'What the user typed so far' }),
            limit: Type.Integer({ minimum: 1, maximum: 20, default: 10 }),
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
            },
            { additionalProperties: false },
          ),
          304: Type.Null({ description: 'Not Modified' }),
          ...problemResponses(400, 409, 503),
        },
      },
    },
    async (request, reply) => {
      const { q, limit } = request.query
      if (queryTokens(q).length === 0) {
        const reason = 'must contain at least one letter or digit'
        throw badRequest(`query parameter "q" ${reason}`, {
          errors: [{ parameter: 'q', in: 'querystring', reason }],
        })
      }
      const h = await request.dataset()
      if (!h.generation.has('title.basics') && !h.generation.has('name.basics')) {
        throw conflict(
          'Neither title.basics nor name.basics was loaded into this database: there is nothing to search.',
        )
      }
      if (notModified(request, reply, h)) return reply
      return h.query('search', q, { limit })
    },
  )
}

export default searchRoutes
