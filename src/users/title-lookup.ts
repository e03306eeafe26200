/**
 * What the personal-data routes need from the dataset: which title ids exist, and the facts shown
 * next to a watchlist or ratings entry. Behind an interface so the routes do not depend on where
 * titles come from: the dataset service's per-request handle (dataset-title-lookup.ts), or a
 * substitute in tests.
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
