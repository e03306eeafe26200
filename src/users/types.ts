import type { Generated } from 'kysely'
import type { Role } from './user.js'

/**
 * Kysely table types of the user store, the same on every backend (SQLite now, PostgreSQL later).
 * Title ids are the numeric part of IMDb ids (`tt0111161` -> 111161), as in the dataset, so the
 * store joins the dataset by plain integers. Times are ISO-8601 UTC strings with milliseconds
 * (`2026-01-31T12:00:00.000Z`): fixed width, so they sort as text on every backend.
 */

/** One API key, and the user it stands for: personal data hangs off `id`. */
export interface UsersTable {
  id: Generated<number>
  name: string
  role: Role
  /** SHA-256 of the key, lowercase hex; the key itself is never stored. */
  key_hash: string
  created_at: string
  revoked_at: string | null
}

export interface WatchlistTable {
  user_id: number
  title_id: number
  added_at: string
}

export interface RatingsTable {
  user_id: number
  title_id: number
  /** 1..10 */
  rating: number
  rated_at: string
}

export interface UsersDB {
  users: UsersTable
  watchlist: WatchlistTable
  ratings: RatingsTable
}
