import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { DatasetHandle } from '../../dataset/handle.js'
import { parseId } from '../../datasets/catalogue.js'
import { ftsMatch } from '../../db/queries/text.js'
import {
  FACETS,
  type Facet,
  type TitleFilter,
  type TitleSort,
  WEIGHTED_MIN_VOTES,
  WEIGHTED_MIN_VOTES_FLOOR,
  WEIGHTED_PRIOR,
} from '../../db/queries/title-list.js'
import { badRequest, notFound } from '../../errors.js'
import { chunks, mapLimit } from '../../lib/limit.js'
import { notModified } from '../conditional-get.js'
import { problemResponses } from '../problem-responses.js'
import { decodeCursor, encodeCursor, nextLink, queryFingerprint } from './cursor.js'
import {
  AkaSchema,
  CreditSchema,
  EpisodesSchema,
  GENRES,
  NextSchema,
  Tconst,
  TITLE_TYPES,
  TitleDetailSchema,
  TitleSummarySchema,
  TotalSchema,
} from './schemas.js'

const NotModified = Type.Null({ description: 'Not Modified: the ETag given in If-None-Match is current' })
const TconstParams = Type.Object({ tconst: Tconst }, { additionalProperties: false })

const INCLUDES = ['credits', 'akas', 'episodes'] as const
const listOf = (values: readonly string[]) => `^(${values.join('|')})(,(${values.join('|')}))*$`

const NULL_JSON = Buffer.from('null')
const EMPTY_LIST_JSON = Buffer.from('[]')
const CLOSE_BRACE = Buffer.from('}')

/** Directors and writers are null, not empty, when title.crew was not loaded. */
function withCrew<T extends { directors: unknown; writers: unknown }>(title: T, h: DatasetHandle): T {
  if (h.generation.has('title.crew')) return title
  return { ...title, directors: null, writers: null }
}

/** `?include=credits,akas` or `?include=credits&include=akas` -> a set. */
function commaSet<T extends string>(values: readonly string[] | undefined): Set<T> {
  return new Set((values ?? []).flatMap((v) => v.split(',')) as T[])
}

const param = (name: string, reason: string) =>
  badRequest(`query parameter "${name}" ${reason}`, {
    errors: [{ parameter: name, in: 'querystring', reason }],
  })

/** Batch lookups: ids per task, and tasks in flight per request (a request never takes every worker). */
const BATCH_CHUNK = 25
const BATCH_CONCURRENCY = 2

const ListQuery = Type.Object(
  {
    q: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'Words of the title (each a prefix)' }),
    ),
    type: Type.Optional(
      Type.Array(Type.Enum([...TITLE_TYPES]), {
        maxItems: TITLE_TYPES.length,
        description: 'Title types (repeatable; any matches)',
      }),
    ),
    genre: Type.Optional(
      Type.Array(Type.Enum([...GENRES]), { maxItems: 3, description: 'Genres (repeatable; all must match)' }),
    ),
    yearFrom: Type.Optional(Type.Integer({ minimum: 1800, maximum: 2200 })),
    yearTo: Type.Optional(Type.Integer({ minimum: 1800, maximum: 2200 })),
    minRating: Type.Optional(Type.Number({ minimum: 0, maximum: 10 })),
    minVotes: Type.Optional(Type.Integer({ minimum: 0 })),
    runtimeMin: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
    runtimeMax: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
    adult: Type.Boolean({ default: false, description: 'Include adult titles' }),
    sort: Type.Optional(
      Type.Enum(['relevance', 'votes', 'rating', 'year', 'title', 'weighted'], {
        description:
          'relevance (default with q; text match and popularity), votes (default otherwise), rating and year ' +
          '(titles without a rating or year are left out), title, weighted (the Bayesian weighted rating ' +
          `of IMDb's top lists, WR = v/(v+m)·R + m/(v+m)·C with C = ${WEIGHTED_PRIOR}, over the titles ` +
          'with at least `m` votes)',
      }),
    ),
    m: Type.Optional(
      Type.Integer({
        minimum: WEIGHTED_MIN_VOTES_FLOOR,
        maximum: 100_000_000,
        description:
          `For sort=weighted: the votes a title needs to be ranked, and the weight of the prior C ` +
          `(default ${WEIGHTED_MIN_VOTES}); minVotes, when higher, raises the floor`,
      }),
    ),
    order: Type.Optional(
      Type.Enum(['asc', 'desc'], { description: 'Default: asc for title, desc otherwise' }),
    ),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'From the `next` link' })),
    facets: Type.Optional(
      Type.Array(Type.String({ pattern: listOf(FACETS) }), {
        description: 'Counts per value over the filtered titles: genre, type, decade (comma-separated)',
      }),
    ),
  },
  { additionalProperties: false },
)

const FacetCountSchema = Type.Object(
  { value: Type.String(), count: Type.Integer() },
  { additionalProperties: false },
)

const TitleListSchema = Type.Object(
  {
    items: Type.Array(TitleSummarySchema),
    ...TotalSchema,
    next: NextSchema,
    facets: Type.Optional(
      Type.Object(
        {
          genre: Type.Optional(Type.Array(FacetCountSchema)),
          type: Type.Optional(Type.Array(FacetCountSchema)),
          decade: Type.Optional(Type.Array(FacetCountSchema)),
          truncated: Type.Boolean({
            description: 'True when the deadline cut the counts short (partial counts)',
          }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
)

/** The title routes: one title and its sub-resources, the filtered list, batch lookups. */
const titleRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/titles/:tconst',
    {
      schema: {
        tags: ['titles'],
        summary: 'A title: basics, rating, genres, directors and writers, episode facts',
        description:
          '`include=credits,akas,episodes` embeds those sub-resources, fetched concurrently. ' +
          'ETag and Last-Modified follow the loaded dataset generation.',
        params: TconstParams,
        querystring: Type.Object(
          {
            include: Type.Optional(
              Type.Array(Type.String({ pattern: listOf(INCLUDES) }), {
                description: 'Sub-resources to embed: credits, akas, episodes (comma-separated)',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: TitleDetailSchema, 304: NotModified, ...problemResponses(400, 404, 409, 503) },
      },
    },
    async (request, reply) => {
      const h = await request.dataset()
      h.require('title.basics')
      const include = commaSet<(typeof INCLUDES)[number]>(request.query.include)
      if (include.has('credits')) h.require('title.principals')
      if (include.has('akas')) h.require('title.akas')
      if (include.has('episodes')) h.require('title.episode')
      if (notModified(request, reply, h)) return reply
      const id = parseId(request.params.tconst)
      if (include.size === 0) {
        const title = await h.lookup('findTitle', id)
        if (!title) throw notFound(`No title ${request.params.tconst} in the loaded dataset.`)
        return withCrew(title, h)
      }
      // The embedded lists can be large (5,000 episodes: 700 kB), so they arrive as JSON bytes
      // encoded by the query workers and are spliced after the title, never parsed or serialized
      // here; the title itself goes through the response schema's serializer.
      const [title, credits, akas, episodes] = await Promise.all([
        h.query('findTitle', id),
        include.has('credits') ? h.queryJson('titleCredits', id, creditSources(h)) : undefined,
        include.has('akas') ? h.queryJson('titleAkas', id, {}) : undefined,
        include.has('episodes') ? h.queryJson('titleEpisodesEmbed', id) : undefined,
      ])
      if (!title) throw notFound(`No title ${request.params.tconst} in the loaded dataset.`)
      const head = reply.serialize(withCrew(title, h)) as string
      const parts: Uint8Array[] = [Buffer.from(head.slice(0, -1))]
      for (const [name, json] of Object.entries({ credits, akas, episodes })) {
        if (!json) continue
        // An unknown title answers null: the lists are then empty (the title was found above).
        const value = name !== 'episodes' && json.equals(NULL_JSON) ? EMPTY_LIST_JSON : json
        parts.push(Buffer.from(`,"${name}":`), value)
      }
      parts.push(CLOSE_BRACE)
      return reply.type('application/json; charset=utf-8').send(Buffer.concat(parts) as never)
    },
  )

  app.get(
    '/titles',
    {
      config: { export: { omit: ['facets'] } },
      schema: {
        tags: ['titles'],
        summary: 'Titles matching filters, sorted, keyset-paginated, with optional facet counts',
        description:
          'Every filter and sort is served by an index or the full-text index. `total` is exact up to ' +
          '10,000 (`totalIsExact`); facet counts stop at the query deadline and say `truncated`.',
        querystring: ListQuery,
        response: { 200: TitleListSchema, 304: NotModified, ...problemResponses(400, 409, 503) },
      },
    },
    async (request, reply) => {
      const q = request.query
      const match = q.q === undefined ? undefined : ftsMatch(q.q)
      if (match === null) throw param('q', 'must contain at least one letter or digit')
      const sort: TitleSort = q.sort ?? (match ? 'relevance' : 'votes')
      if (sort === 'relevance' && !match) throw param('sort', 'relevance needs a text query q')
      const order = q.order ?? (sort === 'title' ? 'asc' : 'desc')
      if (q.m !== undefined && sort !== 'weighted') throw param('m', 'applies only to sort=weighted')
      const m = sort === 'weighted' ? (q.m ?? WEIGHTED_MIN_VOTES) : undefined
      if (q.yearFrom !== undefined && q.yearTo !== undefined && q.yearFrom > q.yearTo) {
        throw param('yearFrom', `must not be after yearTo (${q.yearTo})`)
      }
      if (q.runtimeMin !== undefined && q.runtimeMax !== undefined && q.runtimeMin > q.runtimeMax) {
        throw param('runtimeMin', `must not be above runtimeMax (${q.runtimeMax})`)
      }
      const facets = [...commaSet<Facet>(q.facets)]
      const filter: TitleFilter = {
        match,
        types: q.type && [...new Set(q.type)].sort(),
        genres: q.genre && [...new Set(q.genre)].sort(),
        yearFrom: q.yearFrom,
        yearTo: q.yearTo,
        minRating: q.minRating,
        // The weighted sort ranks only titles with at least m votes: counts and facets agree.
        minVotes: m === undefined ? q.minVotes : Math.max(q.minVotes ?? 0, m),
        runtimeMin: q.runtimeMin,
        runtimeMax: q.runtimeMax,
        adult: q.adult,
      }
      const fingerprint = queryFingerprint({ ...filter, sort, order, m })
      const h = await request.dataset()
      const key = h.generation.cursorKey
      const after = q.cursor
        ? decodeCursor(q.cursor, fingerprint, sort === 'title' ? 'string' : 'number', key)
        : undefined

      h.require('title.basics')
      if (
        q.minRating !== undefined ||
        q.minVotes !== undefined ||
        sort === 'rating' ||
        sort === 'weighted' ||
        q.sort === 'votes'
      ) {
        h.require('title.ratings')
      }
      if (notModified(request, reply, h)) return reply
      const [page, total, facetCounts] = await Promise.all([
        h.query('listTitles', filter, { sort, order, limit: q.limit, after, m }),
        h.query('countTitles', filter, { budgetUntil: h.budget(0.6), sort }),
        facets.length > 0
          ? h.query('titleFacets', filter, facets, { budgetUntil: h.budget(0.6) })
          : undefined,
      ])
      return {
        items: page.items,
        total: total.totalIsExact ? total.total : Math.max(total.total, page.items.length),
        totalIsExact: total.totalIsExact,
        next: page.next ? nextLink(request.url, encodeCursor(page.next, fingerprint, key)) : null,
        ...(facetCounts ? { facets: facetCounts } : {}),
      }
    },
  )

  app.get(
    '/titles/:tconst/credits',
    {
      config: { export: { items: 'credits' } },
      schema: {
        tags: ['titles'],
        summary:
          'Cast and crew: title.principals in billing order, then directors and writers from title.crew',
        params: TconstParams,
        querystring: Type.Object(
          {
            category: Type.Optional(
              Type.String({
                pattern: '^[a-z_]{1,40}$',
                description: 'actor, actress, director, writer, ...',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            { titleId: Tconst, credits: Type.Array(CreditSchema) },
            { additionalProperties: false },
          ),
          304: NotModified,
          ...problemResponses(400, 404, 409, 503),
        },
      },
    },
    async (request, reply) => {
      const h = await request.dataset()
      h.require('title.basics', 'title.principals')
      if (notModified(request, reply, h)) return reply
      const credits = await h.query('titleCredits', parseId(request.params.tconst), {
        ...creditSources(h),
        category: request.query.category,
      })
      if (!credits) throw notFound(`No title ${request.params.tconst} in the loaded dataset.`)
      return { titleId: request.params.tconst, credits }
    },
  )

  app.get(
    '/titles/:tconst/akas',
    {
      config: { export: { items: 'akas' } },
      schema: {
        tags: ['titles'],
        summary: 'Alternate titles by region and language',
        params: TconstParams,
        querystring: Type.Object(
          {
            region: Type.Optional(
              Type.String({ pattern: '^[A-Za-z]{2,4}$', description: 'e.g. US, DE, XWW' }),
            ),
            language: Type.Optional(Type.String({ pattern: '^[A-Za-z]{2,3}$', description: 'e.g. en, de' })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ titleId: Tconst, akas: Type.Array(AkaSchema) }, { additionalProperties: false }),
          304: NotModified,
          ...problemResponses(400, 404, 409, 503),
        },
      },
    },
    async (request, reply) => {
      const h = await request.dataset()
      h.require('title.basics', 'title.akas')
      if (notModified(request, reply, h)) return reply
      const { region, language } = request.query
      const akas = await h.query('titleAkas', parseId(request.params.tconst), {
        region: region?.toUpperCase(),
        language: language?.toLowerCase(),
      })
      if (!akas) throw notFound(`No title ${request.params.tconst} in the loaded dataset.`)
      return { titleId: request.params.tconst, akas }
    },
  )

  app.get(
    '/titles/:tconst/episodes',
    {
      schema: {
        tags: ['titles'],
        summary: 'Episodes of a series by season, with ratings',
        description: 'Only for series (tvSeries, tvMiniSeries): other titles answer 404.',
        params: TconstParams,
        querystring: Type.Object(
          { season: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })) },
          { additionalProperties: false },
        ),
        response: { 200: EpisodesSchema, 304: NotModified, ...problemResponses(400, 404, 409, 503) },
      },
    },
    async (request, reply) => {
      const h = await request.dataset()
      h.require('title.basics', 'title.episode')
      if (notModified(request, reply, h)) return reply
      const tconst = request.params.tconst
      const result = await h.query('titleEpisodes', parseId(tconst), { season: request.query.season })
      if (result.kind === 'unknown') throw notFound(`No title ${tconst} in the loaded dataset.`)
      if (result.kind === 'not-series')
        throw notFound(`${tconst} is a ${result.type}, not a series: it has no episodes.`)
      return {
        seriesId: tconst,
        episodeCount: result.episodeCount,
        truncated: result.truncated,
        seasons: result.seasons,
      }
    },
  )

  app.post(
    '/titles/batch',
    {
      schema: {
        tags: ['titles'],
        summary: 'Up to 100 titles at once, in the order asked, unknown ids as null',
        body: Type.Object(
          { ids: Type.Array(Tconst, { minItems: 1, maxItems: 100 }) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            { items: Type.Array(Type.Union([TitleDetailSchema, Type.Null()])) },
            { additionalProperties: false },
          ),
          ...problemResponses(400, 409, 503),
        },
      },
    },
    async (request) => {
      const h = await request.dataset()
      h.require('title.basics')
      const ids = request.body.ids.map(parseId)
      // A few ids per task (three IN queries each), a bounded number of tasks in flight.
      const parts = await mapLimit(chunks(ids, BATCH_CHUNK), BATCH_CONCURRENCY, (part) =>
        h.query('findTitles', part),
      )
      const crewLoaded = h.generation.has('title.crew')
      return {
        items: parts.flat().map((t) => (t && !crewLoaded ? { ...t, directors: null, writers: null } : t)),
      }
    },
  )
}

/** Which credit sources to read: principals always (the route requires them), crew when loaded. */
function creditSources(h: DatasetHandle): { principals: boolean; crew: boolean } {
  return { principals: h.generation.has('title.principals'), crew: h.generation.has('title.crew') }
}

export default titleRoutes
