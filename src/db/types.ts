/**
 * Kysely table types of a dataset database, the same on SQLite and PostgreSQL.
 * Ids are the numeric part of IMDb ids (`tt0000001` -> 1, `nm0000001` -> 1): integer keys keep
 * tables in key order and indexes small; `formatId` turns them back into IMDb ids.
 */

export interface TitlesTable {
  id: number
  title_type: string
  primary_title: string
  original_title: string | null
  is_adult: number
  start_year: number | null
  end_year: number | null
  runtime_minutes: number | null
  /** As shipped, comma-separated ("Drama,Romance"); the normalised copy is title_genres. */
  genres: string | null
  /** From title.ratings; NULL when the title has no rating. */
  average_rating: number | null
  /** From title.ratings; 0 when the title has no rating, so sorting and keysets need no NULL cases. */
  num_votes: number
}

export interface TitleGenresTable {
  genre: string
  title_id: number
}

export interface AkasTable {
  title_id: number
  ordering: number
  title: string
  region: string | null
  language: string | null
  /** As shipped, separated by the \x02 byte. */
  types: string | null
  /** As shipped, separated by the \x02 byte. */
  attributes: string | null
  is_original_title: number | null
}

export interface CrewTable {
  title_id: number
  /** 'director' or 'writer' */
  role: string
  /** Position in the file's list, from 1. */
  ordering: number
  name_id: number
}

export interface EpisodesTable {
  id: number
  parent_id: number
  season_number: number | null
  episode_number: number | null
}

export interface PrincipalsTable {
  title_id: number
  ordering: number
  name_id: number
  category: string
  job: string | null
  /** As shipped: a JSON array of strings. */
  characters: string | null
}

export interface NamesTable {
  id: number
  primary_name: string
  birth_year: number | null
  death_year: number | null
  /** As shipped, comma-separated; the normalised copy is name_professions. */
  primary_profession: string | null
  /** As shipped, comma-separated tconsts. */
  known_for_titles: string | null
  /** Sum of num_votes of the known-for titles: ranks people in search. */
  popularity: number
}

export interface NameProfessionsTable {
  profession: string
  name_id: number
}

/** Key-value facts about the dataset: `generation`, `manifest` (JSON), `schema_version`. */
export interface MetaTable {
  key: string
  value: string
}

export interface DatasetDB {
  titles: TitlesTable
  title_genres: TitleGenresTable
  akas: AkasTable
  crew: CrewTable
  episodes: EpisodesTable
  principals: PrincipalsTable
  names: NamesTable
  name_professions: NameProfessionsTable
  meta: MetaTable
}
