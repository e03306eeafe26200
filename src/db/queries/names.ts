import { type SqlBool, sql } from 'kysely'
import { parseId } from '../../datasets/catalogue.js'
import { dialectOf } from '../dialect.js'
import type { NamesTable } from '../types.js'
import { type DB, nm, parseCharacters, splitList, tt } from './sql.js'
import type { Keyset, Order } from './title-list.js'
import { type EpisodeOf, TITLE_COLUMNS, type TitleRow, type TitleSummary, titleSummary } from './titles.js'

export interface NameSummary {
  id: string
  name: string
  birthYear: number | null
  deathYear: number | null
  professions: string[]
  /** Sum of the votes of the known-for titles: how search ranks people. */
  popularity: number
}

export interface NameDetail extends NameSummary {
  knownFor: TitleSummary[]
}

/** A names row as NAME_COLUMNS select it. */
type NameRow = NamesTable

const NAME_COLUMNS = [
  'n.id',
  'n.primary_name',
  'n.birth_year',
  'n.death_year',
  'n.primary_profession',
  'n.known_for_titles',
  'n.popularity',
] as const

function nameSummary(r: NameRow): NameSummary {
  return {
    id: nm(r.id),
    name: r.primary_name,
    birthYear: r.birth_year,
    deathYear: r.death_year,
    professions: splitList(r.primary_profession),
    popularity: r.popularity,
  }
}

/** GET /names/{nconst}: the person with their known-for titles resolved (in the file's order). */
export async function findName(db: DB, id: number): Promise<NameDetail | null> {
  const row = await db.selectFrom('names as n').select(NAME_COLUMNS).where('n.id', '=', id).executeTakeFirst()
  if (!row) return null
  const known = splitList(row.known_for_titles)
    .filter((t) => /^tt\d+$/.test(t))
    .map(parseId)
  let knownFor: TitleSummary[] = []
  if (known.length > 0) {
    const titles = await db
      .selectFrom('titles as t')
      .select(TITLE_COLUMNS)
      .where('t.id', 'in', known)
      .execute()
    const byId = new Map(titles.map((t) => [t.id, titleSummary(t)]))
    knownFor = known.map((k) => byId.get(k)).filter((t): t is TitleSummary => t !== undefined)
  }
  return { ...nameSummary(row), knownFor }
}

export interface NamePage {
  items: NameSummary[]
  next: Keyset | null
}

export type NameSort = 'popularity' | 'name' | 'relevance'

/**
 * GET /names: by popularity (names_by_popularity), by name (names_by_name), or, with a text query,
 * by relevance (FTS5 bm25 with popularity); `profession` through name_professions.
 */
export async function listNames(
  db: DB,
  filter: { match?: string; profession?: string },
  opts: { sort: NameSort; order: Order; limit: number; after?: Keyset },
): Promise<NamePage> {
  const { sort, order, limit } = opts
  const op = sql.raw(order === 'asc' ? '>' : '<')
  const dialect = dialectOf(db)
  let q = db
    .selectFrom('names as n')
    .select(NAME_COLUMNS)
    .where(dialect.interruptible(sql.ref('n.id')))
  if (filter.profession !== undefined) {
    const profession = filter.profession
    q = q.where('n.id', 'in', (eb) =>
      eb.selectFrom('name_professions').select('name_id').where('profession', '=', profession),
    )
  }
  let rows: (NameRow & { relevance?: number })[]
  if (sort === 'relevance') {
    if (filter.match === undefined) throw new Error('relevance sort needs a text query')
    const fts = dialect.ftsJoin('names', 'n', filter.match)
    const relevance = sql<number>`(${fts.relevance} + 0.5 * ln(1 + n.popularity))`
    const inner = q
      .innerJoin(sql<{ rowid: number; id: number }>`names_fts`.as('f'), (j) =>
        j.onRef(sql.ref(fts.key), '=', sql.ref(fts.on)),
      )
      .select(relevance.as('relevance'))
      .where(fts.where)
    let outer = db.selectFrom(inner.as('r')).selectAll()
    if (opts.after)
      outer = outer.where(sql<SqlBool>`(r.relevance, r.id) ${op} (${opts.after.key}, ${opts.after.id})`)
    rows = (await outer
      .orderBy(sql.ref('r.relevance'), order)
      .orderBy(sql.ref('r.id'), order)
      .limit(limit + 1)
      .execute()) as unknown as (NameRow & { relevance: number })[]
  } else {
    if (filter.match !== undefined) {
      q = q.where('n.id', 'in', dialect.matchingIds('names', filter.match))
    }
    const key = sort === 'popularity' ? sql.ref('n.popularity') : dialect.nocaseKey('n.primary_name')
    if (opts.after) {
      const value = sort === 'name' ? dialect.nocaseValue(opts.after.key) : sql`${opts.after.key}`
      q = q.where(sql<SqlBool>`(${key}, n.id) ${op} (${value}, ${opts.after.id})`)
    }
    rows = await q
      .orderBy(key, order)
      .orderBy('n.id', order)
      .limit(limit + 1)
      .execute()
  }
  const more = rows.length > limit
  if (more) rows.length = limit
  const last = rows[rows.length - 1]
  const keyOf = (r: NameRow & { relevance?: number }) =>
    sort === 'relevance' ? r.relevance! : sort === 'popularity' ? r.popularity : r.primary_name
  return { items: rows.map(nameSummary), next: more && last ? { key: keyOf(last), id: last.id } : null }
}

export interface Role {
  category: string
  job: string | null
  characters: string[]
}

export interface Filmography {
  title: TitleSummary
  /** For an episode: its series (id and title), season and number; null otherwise. */
  episodeOf: EpisodeOf | null
  roles: Role[]
}

export interface FilmographyPage {
  items: Filmography[]
  next: Keyset | null
}

export type CreditSort = 'year' | 'votes'

/**
 * GET /names/{nconst}/credits: the titles a person worked on (title.principals and the directors and
 * writers of title.crew, through principals_by_name and crew_by_name), one item per title with the
 * person's roles there, sorted by year (unknown years last) or votes, keyset-paginated; an episode
 * says which series it belongs to (episodes by primary key, the series' title by primary key).
 * Null when the person is unknown.
 *
 * The plan, for a person with n credits: the ids come from principals_by_name and crew_by_name
 * (index-only), each title, episode and series row by primary key, one sort of n keys; then the
 * roles through principals_by_name again. No step reads anything but this person's rows, so a page
 * of 2,000 costs a few thousand b-tree lookups.
 */
export async function nameCredits(
  db: DB,
  id: number,
  opts: {
    category?: string
    sort: CreditSort
    order: Order
    limit: number
    after?: Keyset
    principals: boolean
    crew: boolean
  },
): Promise<FilmographyPage | null> {
  const exists = await db.selectFrom('names').select('id').where('id', '=', id).executeTakeFirst()
  if (!exists) return null
  const sources = []
  if (opts.principals) {
    let p = db.selectFrom('principals').select('title_id').where('name_id', '=', id)
    if (opts.category) p = p.where('category', '=', opts.category)
    sources.push(p)
  }
  if (opts.crew) {
    let c = db.selectFrom('crew').select('title_id').where('name_id', '=', id)
    if (opts.category) c = c.where('role', '=', opts.category)
    sources.push(c)
  }
  if (sources.length === 0) return { items: [], next: null }
  const ids = sources.reduce((a, b) => a.union(b))
  // Year: unknown years sort as 0 (last in descending order, first in ascending), so the key is never null.
  const key = opts.sort === 'votes' ? sql<number>`t.num_votes` : sql<number>`coalesce(t.start_year, 0)`
  const op = sql.raw(opts.order === 'asc' ? '>' : '<')
  let q = db
    .selectFrom('titles as t')
    .leftJoin('episodes as e', 'e.id', 't.id')
    .leftJoin('titles as s', 's.id', 'e.parent_id')
    .select([
      ...TITLE_COLUMNS,
      key.as('k'),
      'e.parent_id',
      'e.season_number',
      'e.episode_number',
      's.primary_title as series_title',
    ])
    .where('t.id', 'in', ids)
  if (opts.after) q = q.where(sql<SqlBool>`(${key}, t.id) ${op} (${opts.after.key}, ${opts.after.id})`)
  const rows = (await q
    .orderBy(key, opts.order)
    .orderBy('t.id', opts.order)
    .limit(opts.limit + 1)
    .execute()) as (TitleRow & {
    k: number
    parent_id: number | null
    season_number: number | null
    episode_number: number | null
    series_title: string | null
  })[]
  const more = rows.length > opts.limit
  if (more) rows.length = opts.limit
  const titleIds = rows.map((r) => r.id)
  const roles = new Map<number, Role[]>(titleIds.map((t) => [t, []]))
  if (titleIds.length > 0) {
    if (opts.principals) {
      let p = db
        .selectFrom('principals')
        .select(['title_id', 'category', 'job', 'characters'])
        .where('name_id', '=', id)
        .where('title_id', 'in', titleIds)
      if (opts.category) p = p.where('category', '=', opts.category)
      for (const r of await p.orderBy('title_id').orderBy('ordering').execute()) {
        roles
          .get(r.title_id)!
          .push({ category: r.category, job: r.job, characters: parseCharacters(r.characters) })
      }
    }
    if (opts.crew) {
      let c = db
        .selectFrom('crew')
        .select(['title_id', 'role'])
        .where('name_id', '=', id)
        .where('title_id', 'in', titleIds)
      if (opts.category) c = c.where('role', '=', opts.category)
      for (const r of await c.orderBy('title_id').orderBy('role').execute()) {
        const list = roles.get(r.title_id)!
        if (!list.some((x) => x.category === r.role))
          list.push({ category: r.role, job: null, characters: [] })
      }
    }
  }
  const last = rows[rows.length - 1]
  return {
    items: rows.map((r) => ({
      title: titleSummary(r),
      episodeOf:
        r.parent_id === null
          ? null
          : {
              seriesId: tt(r.parent_id),
              seriesTitle: r.series_title,
              season: r.season_number,
              episode: r.episode_number,
            },
      roles: roles.get(r.id) ?? [],
    })),
    next: more && last ? { key: last.k, id: last.id } : null,
  }
}
