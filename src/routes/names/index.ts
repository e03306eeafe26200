import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { parseId } from '../../datasets/catalogue.js'
import type { NameSort } from '../../db/queries/names.js'
import { ftsMatch } from '../../db/queries/text.js'
import { badRequest, notFound } from '../../errors.js'
import { notModified } from '../conditional-get.js'
import { problemResponses } from '../problem-responses.js'
import { decodeCursor, encodeCursor, nextLink, queryFingerprint } from '../titles/cursor.js'
import {
  EpisodeOfSchema,
  NameSummarySchema,
  Nconst,
  NextSchema,
  TitleSummarySchema,
} from '../titles/schemas.js'

const NotModified = Type.Null({ description: 'Not Modified: the ETag given in If-None-Match is current' })
const NconstParams = Type.Object({ nconst: Nconst }, { additionalProperties: false })

const param = (name: string, reason: string) =>
  badRequest(`query parameter "${name}" ${reason}`, {
    errors: [{ parameter: name, in: 'querystring', reason }],
  })

const NameDetailSchema = Type.Object(
  { ...NameSummarySchema.properties, knownFor: Type.Array(TitleSummarySchema) },
  { additionalProperties: false },
)

const RoleSchema = Type.Object(
  {
    category: Type.String(),
    job: Type.Union([Type.String(), Type.Null()]),
    characters: Type.Array(Type.String()),
  },
  { additionalProperties: false },
)

/**
 * The most credits one page of /names/{nconst}/credits holds: a whole filmography of the busiest
 * people (1,500 credits and more) in one request, each row a few primary-key lookups.
 */
const MAX_CREDITS_PAGE = 2000

/** The people routes. */
const nameRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/names/:nconst',
    {
      schema: {
        tags: ['names'],
        summary: 'A person, with their known-for titles',
        params: NconstParams,
        response: { 200: NameDetailSchema, 304: NotModified, ...problemResponses(400, 404, 409, 503) },
      },
    },
    async (request, reply) => {
      const h = await request.dataset()
      h.require('name.basics')
      if (notModified(request, reply, h)) return reply
      const person = await h.query('findName', parseId(request.params.nconst))
      if (!person) throw notFound(`No person ${request.params.nconst} in the loaded dataset.`)
      return person
    },
  )

  app.get(
    '/names',
    {
      config: { export: {} },
      schema: {
        tags: ['names'],
        summary: 'People by name words and profession, keyset-paginated',
        querystring: Type.Object(
          {
            q: Type.Optional(
              Type.String({ minLength: 1, maxLength: 200, description: 'Words of the name (prefixes)' }),
            ),
            profession: Type.Optional(
              Type.String({ pattern: '^[a-z_]{1,40}$', description: 'actor, director, writer, ...' }),
            ),
            sort: Type.Optional(
              Type.Enum(['relevance', 'popularity', 'name'], {
                description: 'relevance (default with q), popularity (default otherwise), name',
              }),
            ),
            order: Type.Optional(
              Type.Enum(['asc', 'desc'], { description: 'Default: asc for name, desc otherwise' }),
            ),
            limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
            cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            { items: Type.Array(NameSummarySchema), next: NextSchema },
            { additionalProperties: false },
          ),
          304: NotModified,
          ...problemResponses(400, 409, 503),
        },
      },
    },
    async (request, reply) => {
      const q = request.query
      const match = q.q === undefined ? undefined : ftsMatch(q.q)
      if (match === null) throw param('q', 'must contain at least one letter or digit')
      const sort: NameSort = q.sort ?? (match ? 'relevance' : 'popularity')
      if (sort === 'relevance' && !match) throw param('sort', 'relevance needs a text query q')
      const order = q.order ?? (sort === 'name' ? 'asc' : 'desc')
      const filter = { match, profession: q.profession }
      const fingerprint = queryFingerprint({ ...filter, sort, order })
      const h = await request.dataset()
      const key = h.generation.cursorKey
      const after = q.cursor
        ? decodeCursor(q.cursor, fingerprint, sort === 'name' ? 'string' : 'number', key)
        : undefined
      h.require('name.basics')
      if (notModified(request, reply, h)) return reply
      const page = await h.query('listNames', filter, { sort, order, limit: q.limit, after })
      return {
        items: page.items,
        next: page.next ? nextLink(request.url, encodeCursor(page.next, fingerprint, key)) : null,
      }
    },
  )

  app.get(
    '/names/:nconst/credits',
    {
      config: { export: {} },
      schema: {
        tags: ['names'],
        summary: "A person's filmography: one item per title with their roles there, keyset-paginated",
        description:
          'Sorted by year (unknown years count as 0) or by votes. From title.principals and title.crew. ' +
          'An episode names its series, season and number (episodeOf). Pages hold up to 2,000 credits, ' +
          'so a whole filmography usually comes in one request.',
        params: NconstParams,
        querystring: Type.Object(
          {
            category: Type.Optional(
              Type.String({
                pattern: '^[a-z_]{1,40}$',
                description: 'actor, actress, director, writer, ...',
              }),
            ),
            sort: Type.Enum(['year', 'votes'], { default: 'year' }),
            order: Type.Enum(['asc', 'desc'], { default: 'desc' }),
            limit: Type.Integer({ minimum: 1, maximum: MAX_CREDITS_PAGE, default: 20 }),
            cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            {
              nameId: Nconst,
              items: Type.Array(
                Type.Object(
                  {
                    title: TitleSummarySchema,
                    episodeOf: Type.Union([EpisodeOfSchema, Type.Null()]),
                    roles: Type.Array(RoleSchema),
                  },
                  { additionalProperties: false },
                ),
              ),
              next: NextSchema,
            },
            { additionalProperties: false },
          ),
          304: NotModified,
          ...problemResponses(400, 404, 409, 503),
        },
      },
    },
    async (request, reply) => {
      const q = request.query
      const fingerprint = queryFingerprint({ category: q.category, sort: q.sort, order: q.order })
      const h = await request.dataset()
      const key = h.generation.cursorKey
      const after = q.cursor ? decodeCursor(q.cursor, fingerprint, 'number', key) : undefined
      h.require('name.basics', 'title.basics', 'title.principals')
      if (notModified(request, reply, h)) return reply
      const page = await h.query('nameCredits', parseId(request.params.nconst), {
        category: q.category,
        sort: q.sort,
        order: q.order,
        limit: q.limit,
        after,
        principals: true,
        crew: h.generation.has('title.crew'),
      })
      if (!page) throw notFound(`No person ${request.params.nconst} in the loaded dataset.`)
      return {
        nameId: request.params.nconst,
        items: page.items,
        next: page.next ? nextLink(request.url, encodeCursor(page.next, fingerprint, key)) : null,
      }
    },
  )
}

export default nameRoutes
