import {
  type Expression,
  type ExpressionBuilder,
  type RawBuilder,
  type SelectQueryBuilder,
  type SqlBool,
  sql,
} from 'kysely'
import { dialectOf } from '../dialect.js'
import { isBudgetExceeded, withBudget } from '../sqlite/connection.js'
import type { DatasetDB } from '../types.js'
import type { DB } from './sql.js'
import { TITLE_COLUMNS, type TitleRow, type TitleSummary, titleSummary } from './titles.js'

export const TITLE_SORTS = ['relevance', 'votes', 'rating', 'year', 'title', 'weighted'] as const
export type TitleSort = (typeof TITLE_SORTS)[number]
export type Order = 'asc' | 'desc'

/** The filters of GET /titles, already validated. */
export interface TitleFilter {
  /** An FTS5 match expression (see ftsMatch in search.ts), not raw user text. */
  match?: string
  types?: readonly string[]
  /** Every genre must match. */
  genres?: readonly string[]
  yearFrom?: number
  yearTo?: number
  minRating?: number
  minVotes?: number
  runtimeMin?: number
  runtimeMax?: number
  /** Include adult titles (excluded by default). */
  adult: boolean
}

/** Where the previous page stopped: the sort key and id of its last row. */
export interface Keyset {
  key: number | string
  id: number
}

export interface TitlePage {
  items: TitleSummary[]
  /** Keyset of the last item when there is a next page. */
  next: Keyset | null
}

/**
 * The weighted (Bayesian) rating of the `weighted` sort, as IMDb ranks its top lists:
 * WR = v/(v+m) * R + m/(v+m) * C, where R is the title's rating, v its votes, m the votes a title
 * needs before its own rating counts as much as the prior, and C the prior: WEIGHTED_PRIOR, about
 * the mean rating of the titles with many votes. Only titles with at least m votes are ranked, so
 * the candidates are a range of titles_by_votes (or titles_by_type_votes for one type).
 */
export const WEIGHTED_PRIOR = 6.9
/** Default m of the weighted sort (IMDb's Top 250 used 25,000). */
export const WEIGHTED_MIN_VOTES = 25_000
/** The smallest m allowed: it bounds how many titles a weighted page ranks. */
export const WEIGHTED_MIN_VOTES_FLOOR = 100

/**
 * The weighted rating in double precision, the same on SQLite and PostgreSQL: the rating is
 * rounded to its one decimal first (PostgreSQL stores it as a 4-byte real), then the same IEEE
 * operations run on both.
 */
function weightedKey(m: number): RawBuilder<number> {
  const v = sql`CAST(t.num_votes AS DOUBLE PRECISION)`
  const r = sql`(ROUND(CAST(t.average_rating AS DOUBLE PRECISION) * 10) / 10)`
  return sql<number>`((${v} * ${r} + ${sql.lit(m)} * ${sql.lit(WEIGHTED_PRIOR)}) / (${v} + ${sql.lit(m)}))`
}

/** Weight of popularity against text relevance (bm25) in the relevance sort. */
const POPULARITY_WEIGHT = 0.5

type TitlesQB = SelectQueryBuilder<DatasetDB & { t: DatasetDB['titles'] }, 't', object>

/**
 * Applies every filter. `withMatch` is false when the FTS match already drives the query.
 *
 * `walk` names the sort whose index a page query walks in order: SQLite's planner, left alone,
 * often prefers a filter's index (title_genres, titles_by_year) and then sorts every match, a few
 * hundred milliseconds on a million titles, where walking the sort index stops after `limit`
 * matches. So for a page, genres become correlated EXISTS probes and filters on columns outside the
 * sort index are written unindexed (`+column`, which SQLite never serves from an index; PostgreSQL's
 * planner needs no such hint). Counts and facets (`walk` undefined) leave the planner free: there
 * the filter's index is the right driver.
 */
function applyFilter(db: DB, qb: TitlesQB, f: TitleFilter, withMatch: boolean, walk?: TitleSort): TitlesQB {
  const dialect = dialectOf(db)
  // The weighted sort walks the votes index (its candidates are a range of votes).
  const walked = walk === 'weighted' ? 'votes' : walk
  const col = (name: string, servedBy: TitleSort) =>
    walked !== undefined && walked !== servedBy ? dialect.unindexed(`t.${name}`) : sql.ref(`t.${name}`)
  // First, so it runs on every row the scan visits (see Dialect.interruptible).
  let q = qb.where(dialect.interruptible(sql.ref('t.id')))
  if (withMatch && f.match !== undefined) {
    q = q.where('t.id', 'in', dialect.matchingIds('titles', f.match))
  }
  if (f.types && f.types.length > 0) {
    // One type with the votes sort is a prefix of titles_by_type_votes: keep it indexable.
    const type =
      walked === 'votes' && f.types.length === 1 ? sql.ref('t.title_type') : col('title_type', 'relevance')
    q = q.where(type, 'in', [...f.types])
  }
  for (const genre of f.genres ?? []) {
    q =
      walk === undefined
        ? q.where('t.id', 'in', (eb) =>
            eb.selectFrom('title_genres').select('title_id').where('genre', '=', genre),
          )
        : q.where(({ exists, selectFrom }) =>
            exists(
              selectFrom('title_genres as g')
                .select('g.title_id')
                .where('g.genre', '=', genre)
                .whereRef('g.title_id', '=', 't.id'),
            ),
          )
  }
  if (f.yearFrom !== undefined) q = q.where(col('start_year', 'year'), '>=', f.yearFrom)
  if (f.yearTo !== undefined) q = q.where(col('start_year', 'year'), '<=', f.yearTo)
  if (f.minRating !== undefined) q = q.where(col('average_rating', 'rating'), '>=', f.minRating)
  if (f.minVotes !== undefined) q = q.where(col('num_votes', 'votes'), '>=', f.minVotes)
  const runtime = dialect.unindexed('t.runtime_minutes')
  if (f.runtimeMin !== undefined) q = q.where(runtime, '>=', f.runtimeMin)
  if (f.runtimeMax !== undefined) q = q.where(runtime, '<=', f.runtimeMax)
  if (!f.adult) q = q.where('t.is_adult', '=', 0)
  return q
}

/** The sort column of a non-relevance sort; NOCASE for titles so the titles_by_title index serves it. */
function sortKey(db: DB, sort: Exclude<TitleSort, 'relevance'>, m: number): Expression<unknown> {
  switch (sort) {
    case 'weighted':
      return weightedKey(m)
    case 'votes':
      return sql.ref('t.num_votes')
    case 'rating':
      return sql.ref('t.average_rating')
    case 'year':
      return sql.ref('t.start_year')
    case 'title':
      return dialectOf(db).nocaseKey('t.primary_title')
  }
}

function keyOf(sort: TitleSort, r: TitleRow & { relevance?: number; weighted?: number }): number | string {
  switch (sort) {
    case 'relevance':
      return r.relevance!
    case 'weighted':
      return Number(r.weighted!)
    case 'votes':
      return r.num_votes
    case 'rating':
      return r.average_rating!
    case 'year':
      return r.start_year!
    case 'title':
      return r.primary_title
  }
}

/**
 * `(key, id) > (k, i)` or `<`: a row-value comparison the database turns into an index range.
 * `value` adapts the key value to the key (a case-insensitive key lowers it on PostgreSQL).
 */
function after(
  key: Expression<unknown>,
  idRef: Expression<unknown>,
  order: Order,
  k: Keyset,
  value: (v: unknown) => Expression<unknown> = (v) => sql`${v}`,
): Expression<SqlBool> {
  const op = order === 'asc' ? sql.raw('>') : sql.raw('<')
  return sql<SqlBool>`(${key}, ${idRef}) ${op} (${value(k.key)}, ${k.id})`
}

/**
 * One page of GET /titles. Every sort walks an index in order (titles_by_votes, titles_by_type_votes,
 * titles_by_rating, titles_by_year, titles_by_title) and stops after `limit` rows, or, for
 * relevance, ranks the FTS matches. Rating and year sorts leave out titles without a rating or year.
 * The weighted sort ranks the titles with at least `m` votes (the caller puts that floor in
 * `filter.minVotes`, so counts and facets agree), read from a range of the votes index.
 */
export async function listTitles(
  db: DB,
  filter: TitleFilter,
  opts: { sort: TitleSort; order: Order; limit: number; after?: Keyset; m?: number },
): Promise<TitlePage> {
  const { sort, order, limit } = opts
  let rows: (TitleRow & { relevance?: number; weighted?: number })[]
  if (sort === 'relevance') {
    if (filter.match === undefined) throw new Error('relevance sort needs a text query')
    const fts = dialectOf(db).ftsJoin('titles', 't', filter.match)
    const relevance = sql<number>`(${fts.relevance} + ${sql.lit(POPULARITY_WEIGHT)} * ln(1 + t.num_votes))`
    const inner = applyFilter(
      db,
      db
        .selectFrom('titles as t')
        .innerJoin(sql<{ rowid: number; id: number }>`titles_fts`.as('f'), (j) =>
          j.onRef(sql.ref(fts.key), '=', sql.ref(fts.on)),
        )
        .select([...TITLE_COLUMNS, relevance.as('relevance')])
        .where(fts.where) as unknown as TitlesQB,
      filter,
      false,
    )
    let outer = db.selectFrom(inner.as('r')).selectAll()
    if (opts.after) outer = outer.where(after(sql.ref('r.relevance'), sql.ref('r.id'), order, opts.after))
    rows = (await outer
      .orderBy(sql.ref('r.relevance'), order)
      .orderBy(sql.ref('r.id'), order)
      .limit(limit + 1)
      .execute()) as unknown as (TitleRow & { relevance: number })[]
  } else {
    const m = opts.m ?? WEIGHTED_MIN_VOTES
    const key = sortKey(db, sort, m)
    let q = applyFilter(
      db,
      (sort === 'weighted'
        ? db.selectFrom('titles as t').select([...TITLE_COLUMNS, weightedKey(m).as('weighted')])
        : db.selectFrom('titles as t').select(TITLE_COLUMNS)) as unknown as TitlesQB,
      filter,
      true,
      sort,
    )
    if (sort === 'rating') q = q.where('t.average_rating', 'is not', null)
    if (sort === 'weighted') q = q.where(dialectOf(db).unindexed('t.average_rating'), 'is not', null)
    if (sort === 'year') q = q.where('t.start_year', 'is not', null)
    if (opts.after) {
      const dialect = dialectOf(db)
      const value = sort === 'title' ? (v: unknown) => dialect.nocaseValue(v) : undefined
      q = q.where(after(key, sql.ref('t.id'), order, opts.after, value))
    }
    rows = (await q
      .orderBy(key, order)
      .orderBy('t.id', order)
      .limit(limit + 1)
      .execute()) as unknown as TitleRow[]
  }
  const more = rows.length > limit
  if (more) rows.length = limit
  const last = rows[rows.length - 1]
  return {
    items: rows.map(titleSummary),
    next: more && last ? { key: keyOf(sort, last), id: last.id } : null,
  }
}

/** Totals are exact up to this many rows, and a lower bound beyond. */
export const TOTAL_CAP = 10_000

export interface Total {
  total: number
  totalIsExact: boolean
}

/**
 * How many titles match (for `total`): counts at most TOTAL_CAP + 1 rows, so no request pays for a
 * full count; stops at `budgetUntil` (epoch ms), answering the lower bound `atLeast` then.
 */
export async function countTitles(
  db: DB,
  filter: TitleFilter,
  opts: { budgetUntil: number; atLeast?: number; sort?: TitleSort },
): Promise<Total> {
  let inner = applyFilter(
    db,
    db.selectFrom('titles as t').select(sql.lit(1).as('one')) as unknown as TitlesQB,
    filter,
    true,
  )
  if (opts.sort === 'rating' || opts.sort === 'weighted')
    inner = inner.where('t.average_rating', 'is not', null)
  if (opts.sort === 'year') inner = inner.where('t.start_year', 'is not', null)
  try {
    const row = await withBudget(opts.budgetUntil, () =>
      db
        .selectFrom(inner.limit(TOTAL_CAP + 1).as('x'))
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow(),
    )
    const n = Number(row.n)
    return n > TOTAL_CAP ? { total: TOTAL_CAP, totalIsExact: false } : { total: n, totalIsExact: true }
  } catch (err) {
    if (isBudgetExceeded(err)) return { total: opts.atLeast ?? 0, totalIsExact: false }
    throw err
  }
}

export const FACETS = ['genre', 'type', 'decade'] as const
export type Facet = (typeof FACETS)[number]

export interface FacetCount {
  value: string
  count: number
}

export interface Facets {
  genre?: FacetCount[]
  type?: FacetCount[]
  decade?: FacetCount[]
  /** True when the deadline cut a count short: the counts cover part of the matching titles. */
  truncated: boolean
}

/** Ids per facet slice: small enough that one slice finishes quickly, large enough to amortise. */
const FACET_SLICE = 1 << 17
/** Up to this many matching titles, the counts run over the whole set in one pass per facet. */
const FACET_SMALL_SET = 20_000
/** What finding out whether the set is small may cost, at most. */
const FACET_PROBE_MS = 150

/**
 * Counts per genre, type and decade over the filtered titles. A filter an index narrows to at most
 * `smallSet` titles (a vote floor: the top lists) is counted in one pass per facet, driven by that
 * index. Otherwise the counts go slice by slice of the id range so that when `budgetUntil` (epoch
 * ms) passes, the slices done so far are answered with `truncated: true` instead of stalling the
 * request.
 */
export async function titleFacets(
  db: DB,
  filter: TitleFilter,
  facets: readonly Facet[],
  opts: { budgetUntil: number; smallSet?: number },
): Promise<Facets> {
  const small = await facetsOfSmallSet(db, filter, facets, opts.budgetUntil, opts.smallSet ?? FACET_SMALL_SET)
  if (small) return small
  const bounds = await db
    .selectFrom('titles')
    .select((eb) => [eb.fn.min<number>('id').as('lo'), eb.fn.max<number>('id').as('hi')])
    .executeTakeFirst()
  const counts = new Map<Facet, Map<string, number>>(facets.map((f) => [f, new Map()]))
  let truncated = false
  if (bounds?.lo != null && bounds.hi != null) {
    const base = (lo: number, hi: number) =>
      applyFilter(
        db,
        db.selectFrom('titles as t').where('t.id', '>=', lo).where('t.id', '<', hi) as unknown as TitlesQB,
        filter,
        true,
      )
    try {
      await withBudget(opts.budgetUntil, async () => {
        const span = bounds.hi - bounds.lo + 1
        const slice = Math.max(FACET_SLICE, Math.ceil(span / dialectOf(db).maxFacetSlices))
        for (let lo = bounds.lo; lo <= bounds.hi; lo += slice) {
          const hi = lo + slice
          for (const facet of facets) {
            const rows = await facetSlice(base(lo, hi), facet)
            const m = counts.get(facet)!
            for (const r of rows) {
              if (r.value === null) continue
              const v = String(r.value)
              m.set(v, (m.get(v) ?? 0) + Number(r.n))
            }
          }
          if (hi <= bounds.hi && Date.now() > opts.budgetUntil) {
            truncated = true
            return
          }
        }
      })
    } catch (err) {
      if (!isBudgetExceeded(err)) throw err
      truncated = true
    }
  }
  return facetsOut(counts, truncated)
}

/**
 * The counts in one pass per facet when at most `limit` titles match, found out by counting to
 * limit + 1 within FACET_PROBE_MS; null when the set is larger or counting it takes longer.
 */
async function facetsOfSmallSet(
  db: DB,
  filter: TitleFilter,
  facets: readonly Facet[],
  budgetUntil: number,
  limit: number,
): Promise<Facets | null> {
  if (limit <= 0 || Date.now() >= budgetUntil) return null
  const base = () => applyFilter(db, db.selectFrom('titles as t') as unknown as TitlesQB, filter, true)
  try {
    const row = await withBudget(Math.min(budgetUntil, Date.now() + FACET_PROBE_MS), () =>
      db
        .selectFrom(
          base()
            .select(sql.lit(1).as('one'))
            .limit(limit + 1)
            .as('x'),
        )
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow(),
    )
    if (Number(row.n) > limit) return null
  } catch (err) {
    if (isBudgetExceeded(err)) return null
    throw err
  }
  const counts = new Map<Facet, Map<string, number>>()
  try {
    await withBudget(budgetUntil, async () => {
      for (const facet of facets) {
        const m = new Map<string, number>()
        for (const r of await facetSlice(base(), facet)) {
          if (r.value !== null) m.set(String(r.value), Number(r.n))
        }
        counts.set(facet, m)
      }
    })
  } catch (err) {
    // Out of time: the sliced counts answer what they can.
    if (isBudgetExceeded(err)) return null
    throw err
  }
  return facetsOut(counts, false)
}

function facetsOut(counts: Map<Facet, Map<string, number>>, truncated: boolean): Facets {
  const out: Facets = { truncated }
  for (const [facet, m] of counts) {
    out[facet] = [...m.entries()]
      .map(([value, count]) => ({ value: facet === 'decade' ? `${value}s` : value, count }))
      .sort((a, b) => b.count - a.count || a.value.localeCompare(b.value))
  }
  return out
}

function facetSlice(base: TitlesQB, facet: Facet): Promise<{ value: string | number | null; n: number }[]> {
  switch (facet) {
    case 'type':
      return base
        .select(['t.title_type as value', (eb) => eb.fn.countAll<number>().as('n')])
        .groupBy('t.title_type')
        .execute()
    case 'decade': {
      const decade = sql<number | null>`(t.start_year / 10) * 10`
      return base
        .select([decade.as('value'), (eb) => eb.fn.countAll<number>().as('n')])
        .groupBy(decade)
        .execute()
    }
    case 'genre':
      return base
        .innerJoin('title_genres as g', 'g.title_id', 't.id')
        .select([
          'g.genre as value',
          (eb: ExpressionBuilder<DatasetDB & { g: DatasetDB['title_genres'] }, 'g'>) =>
            eb.fn.countAll<number>().as('n'),
        ])
        .groupBy('g.genre')
        .execute() as Promise<{ value: string; n: number }[]>
  }
}
