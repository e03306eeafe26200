import { CompiledQuery, sql } from 'kysely'
import { dialectOf } from '../dialect.js'
import type { DB } from './sql.js'
import { tt } from './sql.js'
import { SERIES_TYPES, titleType } from './titles.js'

/**
 * The bulk lookups of apps that keep ratings in sync (GET /ratings, POST /ratings/lookup,
 * GET /ratings/series/{tconst}). Ratings live in `titles` (average_rating, num_votes), so both are
 * reads of a primary key or of episodes_by_parent, never a scan.
 */

/** One title's rating as the bulk lookup reads it: its numeric id, rating (null: unrated), votes. */
export interface RatingRow {
  id: number
  rating: number | null
  votes: number
}

/** Ids one bulk lookup takes at most (the routes refuse more with 400). */
export const MAX_RATING_IDS = 1000

/**
 * SQLite: one statement, the ids bound as one JSON array and walked by json_each, each a search of
 * the primary key. Through Kysely's executeQuery: bench/ratings.ts found the connection's prepared
 * statement run directly (titleDetails' path) at most ~0.3 ms faster for 1,000 ids (p50 1.5 ms
 * against 1.5-1.8 ms over two runs at 20,000 titles on a shared machine): SQLite's thousand
 * searches dominate Kysely's fixed cost, so the simpler path stays.
 */
const SQLITE_RATINGS =
  'SELECT id, average_rating AS rating, num_votes AS votes FROM titles WHERE id IN (SELECT value FROM json_each(?))'

/** The ratings of the distinct titles of `ids` that exist, in no particular order. */
export async function ratingsOf(db: DB, ids: readonly number[]): Promise<RatingRow[]> {
  if (ids.length === 0) return []
  if (dialectOf(db).name === 'sqlite') {
    return (await db.executeQuery<RatingRow>(CompiledQuery.raw(SQLITE_RATINGS, [JSON.stringify(ids)]))).rows
  }
  // PostgreSQL: the ids as one array parameter; `= ANY($1)` is an index scan of the primary key.
  // integer and double precision columns: pg answers them as numbers.
  return db
    .selectFrom('titles')
    .select(['id', 'average_rating as rating', 'num_votes as votes'])
    .where(sql<boolean>`id = ANY(${[...ids]})`)
    .execute()
}

/** One episode of GET /ratings/series/{tconst}. */
export interface EpisodeRating {
  id: string
  season: number | null
  episode: number | null
  title: string | null
  rating: number | null
  votes: number
}

export type SeriesRatings =
  | { kind: 'unknown' }
  | { kind: 'not-series'; type: string }
  | { kind: 'ok'; episodes: EpisodeRating[] }

/**
 * Every episode of a series with its rating, by season then episode number (unknown ones last,
 * then by id), read through episodes_by_parent. Not capped: the longest-running daily shows have
 * some tens of thousands of episodes, a few MB of JSON, and a syncing app wants them all.
 */
export async function seriesRatings(db: DB, id: number): Promise<SeriesRatings> {
  const type = await titleType(db, id)
  if (type === null) return { kind: 'unknown' }
  if (!(SERIES_TYPES as readonly string[]).includes(type)) return { kind: 'not-series', type }
  const rows = await db
    .selectFrom('episodes as e')
    .leftJoin('titles as t', 't.id', 'e.id')
    .select([
      'e.id',
      'e.season_number',
      'e.episode_number',
      't.primary_title',
      't.average_rating',
      't.num_votes',
    ])
    .where('e.parent_id', '=', id)
    .orderBy(sql`e.season_number IS NULL`)
    .orderBy('e.season_number')
    .orderBy(sql`e.episode_number IS NULL`)
    .orderBy('e.episode_number')
    .orderBy('e.id')
    .execute()
  return {
    kind: 'ok',
    episodes: rows.map((r) => ({
      id: tt(r.id),
      season: r.season_number,
      episode: r.episode_number,
      title: r.primary_title,
      rating: r.average_rating,
      votes: r.num_votes ?? 0,
    })),
  }
}
