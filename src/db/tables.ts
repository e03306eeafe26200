/**
 * The tables of a dataset database: the one description both backends build from. The SQLite and
 * PostgreSQL DDL (sqlite/schema.ts, postgres/schema.ts), the Kysely row types (types.ts) and the
 * refresh's statements (src/update/apply.ts) are derived from it; test/db/schema-source.test.ts
 * checks the ingest writers' column lists against it.
 *
 * Ids are the numeric part of IMDb ids (`tt0000001` -> 1, `nm0000001` -> 1): integer keys keep
 * tables in key order and indexes small; `formatId` turns them back into IMDb ids.
 * Columns are listed in the order rows are written (the writers' INSERT and COPY order); a file's
 * table starts with that file's columns, in the file's order.
 */

/** Version of the logical schema (these tables and columns), stored in every dataset's `meta`. */
export const SCHEMA_VERSION = 1

/** How a column's values are stored. `flag` is a 0/1 integer (IMDb's booleans). */
export type ColumnType = 'int' | 'real' | 'text' | 'flag'

export interface ColumnSpec {
  readonly name: string
  readonly type: ColumnType
  /** NULL allowed (columns are NOT NULL unless they say so). */
  readonly nullable?: boolean
  readonly default?: number
}

/** A column of an index: by name, or compared case-insensitively (SQLite's COLLATE NOCASE). */
export type IndexColumn = string | { readonly nocase: string }

export interface IndexSpec {
  readonly name: string
  readonly columns: readonly IndexColumn[]
  /**
   * Columns the index's lookups read besides its key, so a lookup needs no visit to the table.
   * SQLite's WITHOUT ROWID indexes hold the primary key already; PostgreSQL appends them to the key.
   */
  readonly covers?: readonly string[]
}

export interface TableSpec {
  readonly columns: readonly ColumnSpec[]
  readonly primaryKey: readonly string[]
  /** Every access path of the API; built once the rows are in. */
  readonly indexes: readonly IndexSpec[]
}

/** Every table, in creation order. */
export const DATASET_TABLES = {
  /** Key-value facts about the dataset: `generation`, `manifest` (JSON), `schema_version`. */
  meta: {
    columns: [
      { name: 'key', type: 'text' },
      { name: 'value', type: 'text' },
    ],
    primaryKey: ['key'],
    indexes: [],
  },
  titles: {
    columns: [
      { name: 'id', type: 'int' },
      { name: 'title_type', type: 'text' },
      { name: 'primary_title', type: 'text' },
      { name: 'original_title', type: 'text', nullable: true },
      { name: 'is_adult', type: 'flag', default: 0 },
      { name: 'start_year', type: 'int', nullable: true },
      { name: 'end_year', type: 'int', nullable: true },
      { name: 'runtime_minutes', type: 'int', nullable: true },
      // As shipped, comma-separated ("Drama,Romance"); the normalised copy is title_genres.
      { name: 'genres', type: 'text', nullable: true },
      // From title.ratings; NULL when the title has no rating.
      { name: 'average_rating', type: 'real', nullable: true },
      // From title.ratings; 0 when the title has no rating, so sorting and keysets need no NULL cases.
      { name: 'num_votes', type: 'int', default: 0 },
    ],
    primaryKey: ['id'],
    indexes: [
      { name: 'titles_by_votes', columns: ['num_votes', 'id'] },
      { name: 'titles_by_type_votes', columns: ['title_type', 'num_votes', 'id'] },
      { name: 'titles_by_year', columns: ['start_year', 'id'] },
      { name: 'titles_by_rating', columns: ['average_rating', 'id'] },
      { name: 'titles_by_title', columns: [{ nocase: 'primary_title' }, 'id'] },
    ],
  },
  title_genres: {
    columns: [
      { name: 'genre', type: 'text' },
      { name: 'title_id', type: 'int' },
    ],
    primaryKey: ['genre', 'title_id'],
    indexes: [{ name: 'title_genres_by_title', columns: ['title_id'] }],
  },
  akas: {
    columns: [
      { name: 'title_id', type: 'int' },
      { name: 'ordering', type: 'int' },
      { name: 'title', type: 'text' },
      { name: 'region', type: 'text', nullable: true },
      { name: 'language', type: 'text', nullable: true },
      // As shipped, separated by the \x02 byte.
      { name: 'types', type: 'text', nullable: true },
      // As shipped, separated by the \x02 byte.
      { name: 'attributes', type: 'text', nullable: true },
      { name: 'is_original_title', type: 'flag', nullable: true },
    ],
    primaryKey: ['title_id', 'ordering'],
    indexes: [],
  },
  crew: {
    columns: [
      { name: 'title_id', type: 'int' },
      // 'director' or 'writer'
      { name: 'role', type: 'text' },
      // Position in the file's list, from 1.
      { name: 'ordering', type: 'int' },
      { name: 'name_id', type: 'int' },
    ],
    primaryKey: ['title_id', 'role', 'ordering'],
    indexes: [{ name: 'crew_by_name', columns: ['name_id'], covers: ['title_id'] }],
  },
  episodes: {
    columns: [
      { name: 'id', type: 'int' },
      { name: 'parent_id', type: 'int' },
      { name: 'season_number', type: 'int', nullable: true },
      { name: 'episode_number', type: 'int', nullable: true },
    ],
    primaryKey: ['id'],
    indexes: [{ name: 'episodes_by_parent', columns: ['parent_id', 'season_number', 'episode_number'] }],
  },
  principals: {
    columns: [
      { name: 'title_id', type: 'int' },
      { name: 'ordering', type: 'int' },
      { name: 'name_id', type: 'int' },
      { name: 'category', type: 'text' },
      { name: 'job', type: 'text', nullable: true },
      // As shipped: a JSON array of strings.
      { name: 'characters', type: 'text', nullable: true },
    ],
    primaryKey: ['title_id', 'ordering'],
    indexes: [{ name: 'principals_by_name', columns: ['name_id'], covers: ['title_id'] }],
  },
  names: {
    columns: [
      { name: 'id', type: 'int' },
      { name: 'primary_name', type: 'text' },
      { name: 'birth_year', type: 'int', nullable: true },
      { name: 'death_year', type: 'int', nullable: true },
      // As shipped, comma-separated; the normalised copy is name_professions.
      { name: 'primary_profession', type: 'text', nullable: true },
      // As shipped, comma-separated tconsts.
      { name: 'known_for_titles', type: 'text', nullable: true },
      // Sum of num_votes of the known-for titles: ranks people in search.
      { name: 'popularity', type: 'int', default: 0 },
    ],
    primaryKey: ['id'],
    indexes: [
      { name: 'names_by_popularity', columns: ['popularity', 'id'] },
      { name: 'names_by_name', columns: [{ nocase: 'primary_name' }, 'id'] },
    ],
  },
  name_professions: {
    columns: [
      { name: 'profession', type: 'text' },
      { name: 'name_id', type: 'int' },
    ],
    primaryKey: ['profession', 'name_id'],
    indexes: [],
  },
} as const satisfies Record<string, TableSpec>

export type TableName = keyof typeof DATASET_TABLES

/** The tables in creation order. */
export const TABLE_NAMES = Object.keys(DATASET_TABLES) as TableName[]

/** The description of one table (widened from the literal types of DATASET_TABLES). */
export function tableSpec(table: TableName): TableSpec {
  return DATASET_TABLES[table]
}

/** A table's column names, in write order. */
export function columnNames(table: TableName): string[] {
  return tableSpec(table).columns.map((c) => c.name)
}

/**
 * The tables whose sizes an ingest's manifest reports: every dataset table but meta, and the two
 * full-text indexes (SQLite's FTS5 tables, PostgreSQL's tsvector tables).
 */
export const SIZED_TABLES: readonly string[] = [
  ...TABLE_NAMES.filter((t) => t !== 'meta'),
  'titles_fts',
  'names_fts',
]
