import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import {
  CHANGE_KINDS,
  type ChangeKind,
  GENERATION_PATTERN,
  HISTORY_ENTITIES,
  type HistoryEntity,
} from '../../db/history.js'
import type { HistoryGeneration } from '../../db/queries/changes.js'
import { badRequest, changesExpired } from '../../errors.js'
import { problemResponses } from '../problem-responses.js'
import { TITLE_TYPES } from '../titles/schemas.js'

/**
 * GET /changes: the change feed for apps that keep a copy of the data in sync. Every generation
 * records what changed against the one before it (src/db/history.ts); `since` names the generation
 * a client last synced to, and the answer is every change made after it, up to the generation
 * served, in order: one page at a time with `next`, or whole as NDJSON or CSV (src/plugins/export.ts).
 */

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()])
const listOf = (values: readonly string[]) => `^(${values.join('|')})(,(${values.join('|')}))*$`

const Generation = Type.String({
  pattern: GENERATION_PATTERN,
  description: 'A dataset generation id (GET /datasets, or `generation` of this route)',
  examples: ['20250101T000000000Z-0123456789ab'],
})

const Counts = Type.Object(
  { added: Type.Integer(), removed: Type.Integer(), changed: Type.Integer() },
  { additionalProperties: false },
)

const CountsByEntity = Type.Object(
  Object.fromEntries(HISTORY_ENTITIES.map((e) => [e, Type.Optional(Counts)])) as Record<
    HistoryEntity,
    ReturnType<typeof Type.Optional<typeof Counts>>
  >,
  { additionalProperties: false, description: 'Rows added, removed and changed, per entity' },
)

const GenerationSchema = Type.Object(
  {
    generation: Type.String(),
    previous: Nullable(Type.String({ description: 'The generation its changes are against' })),
    madeAt: Type.String({ format: 'date-time' }),
    counts: Nullable(CountsByEntity),
  },
  {
    additionalProperties: false,
    description:
      'A generation a `since` may name. `counts` is null for the oldest one kept when its own changes are not',
  },
)

const Value = Nullable(Type.Union([Type.String(), Type.Number(), Type.Boolean()]))

export const ChangeSchema = Type.Object(
  {
    generation: Type.String({ description: 'The generation that made this change' }),
    entity: Type.Enum([...HISTORY_ENTITIES], {
      description:
        'title (title.basics), rating (title.ratings), person (name.basics), episode (the link of an ' +
        'episode to its series, title.episode), aka (an alternate title, title.akas), credit ' +
        '(title.principals)',
    }),
    id: Type.String({ description: 'tt… for every entity but person (nm…)' }),
    ordering: Nullable(
      Type.Integer({ description: "aka and credit: the row's position in its title's list; else null" }),
    ),
    kind: Type.Enum([...CHANGE_KINDS]),
    titleType: Nullable(
      Type.String({ description: 'The type of the title the row belongs to (null: people)' }),
    ),
    fields: Type.Array(
      Type.Object({ name: Type.String(), old: Value, new: Value }, { additionalProperties: false }),
      {
        description:
          'changed: the fields that changed, old and new value; added: every field (old null); removed: empty. ' +
          'A rating has `rating` and `votes`.',
      },
    ),
  },
  { additionalProperties: false },
)

const ChangesSchema = Type.Object(
  {
    generation: Type.String({
      description: 'The generation served: sync to it, then ask `since` it next time',
    }),
    since: Nullable(Type.String()),
    oldest: Nullable(Type.String({ description: 'The oldest generation a `since` may name' })),
    generations: Type.Optional(
      Type.Array(GenerationSchema, { description: 'Without `since`: the generations kept, oldest first' }),
    ),
    items: Type.Array(ChangeSchema),
    next: Nullable(Type.String({ description: 'The next page, or null on the last' })),
  },
  { additionalProperties: false },
)

const ChangesQuery = Type.Object(
  {
    since: Type.Optional(Generation),
    kind: Type.Optional(
      Type.String({
        pattern: listOf(CHANGE_KINDS),
        description: 'added, removed, changed (comma-separated)',
      }),
    ),
    entity: Type.Optional(
      Type.String({
        pattern: listOf(HISTORY_ENTITIES),
        description: 'title, rating, person, episode, aka, credit (comma-separated)',
      }),
    ),
    type: Type.Optional(
      Type.String({
        pattern: listOf(TITLE_TYPES),
        description:
          'Only rows of titles of these types (comma-separated), e.g. tvEpisode; leaves out people',
      }),
    ),
    cursor: Type.Optional(
      Type.String({ pattern: '^[0-9]{1,15}$', description: '`next` of the previous page' }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  },
  { additionalProperties: false },
)

const commaList = <T extends string>(value: string | undefined): T[] | undefined =>
  value ? [...new Set(value.split(','))].map((v) => v as T) : undefined

const changeRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/changes',
    {
      config: { export: {} },
      schema: {
        tags: ['changes'],
        summary: 'What changed since a generation: the feed for keeping a copy in sync',
        description:
          'Every change between generation `since` and the generation served, in the order they were ' +
          'made, keyset-paged with `next`. Each entry names the entity, its id, the kind of change, and ' +
          'the fields with their old and new values. Without `since`: the generations kept and what each ' +
          'changed, in counts. A `since` older than the history kept answers 410 (CHANGES_EXPIRED): re-sync ' +
          'in full, then follow the changes from the generation synced. An unknown or malformed `since` ' +
          'answers 400. How much history is kept: --history-generations, --history-days.',
        querystring: ChangesQuery,
        response: { 200: ChangesSchema, ...problemResponses(400, 410, 503) },
      },
    },
    async (request) => {
      const h = await request.dataset()
      const q = request.query
      const served = h.generation.id
      const generations = await h.query('changeGenerations', served)
      const oldest = generations[0]?.generation ?? null
      if (q.since === undefined) {
        return { generation: served, since: null, oldest, generations, items: [], next: null }
      }
      const from = resolveSince(q.since, generations)
      const limit = q.limit ?? 100
      const page = await h.query('listChanges', {
        afterSeq: from.seq,
        toSeq: generations[generations.length - 1]?.seq ?? 0,
        afterN: q.cursor === undefined ? 0 : Number(q.cursor),
        limit,
        kinds: commaList<ChangeKind>(q.kind),
        entities: commaList<HistoryEntity>(q.entity),
        titleTypes: commaList<string>(q.type),
      })
      return {
        generation: served,
        since: q.since,
        oldest,
        items: page.items,
        next: page.next === null ? null : nextLink(request.url, String(page.next)),
      }
    },
  )
}

/** The generation `since` names, or the 400 / 410 it answers. */
function resolveSince(since: string, generations: readonly HistoryGeneration[]): HistoryGeneration {
  const found = generations.find((g) => g.generation === since)
  if (found) return found
  const oldest = generations[0]?.generation ?? null
  // Generation ids sort by the time they were made: one before the oldest kept was pruned.
  if (oldest === null || since < oldest) throw changesExpired(since, oldest)
  throw badRequest(
    `No generation ${since} in the change history (the generations kept are listed by GET /changes without since).`,
    { errors: [{ parameter: 'since', in: 'querystring', reason: 'is not a generation of this dataset' }] },
  )
}

/** The request's own path and query with `cursor` replaced. */
function nextLink(url: string, cursor: string): string {
  const u = new URL(url, 'http://x')
  u.searchParams.set('cursor', cursor)
  return `${u.pathname}?${u.searchParams.toString()}`
}

export default changeRoutes
