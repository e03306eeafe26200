/**
 * What the personal-data routes need from the dataset: which title ids exist, and the facts shown
 * next to a watchlist or ratings entry. Behind an interface so the source can change (a direct
 * read-only connection today, the dataset service's per-request handle when it offers a batch
 * lookup) without touching the routes.
 */

/** A title as personal lists show it (the shape of the dataset's title summaries). */
export interface TitleFacts {
  id: string
  type: string
  primaryTitle: string
  originalTitle: string | null
  isAdult: boolean
  startYear: number | null
  endYear: number | null
  runtimeMinutes: number | null
  genres: string[]
  /** IMDb's average rating; null when the title has none. */
  rating: number | null
  votes: number
}

export interface TitleLookup {
  /** The ids among `ids` that the loaded dataset has. Rejects with 503 NO_DATASET when none is loaded. */
  existing(ids: readonly number[]): Promise<Set<number>>
  /** Facts of the ids the dataset has (unknown ids are simply absent). */
  facts(ids: readonly number[]): Promise<Map<number, TitleFacts>>
}

/** Ids per lookup query: small enough for any bound-parameter limit, large enough to amortise. */
export const LOOKUP_CHUNK = 500
