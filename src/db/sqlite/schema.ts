/**
 * The SQLite dataset schema. Tables are created before the load without secondary indexes;
 * tables keyed by (id) or (title_id, ordering) are filled in key order, so their primary keys
 * cost nothing; SECONDARY_INDEXES are built once the rows are in.
 */

export const SCHEMA_VERSION = 1

export const TABLES: readonly string[] = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID`,
  `CREATE TABLE titles (
    id INTEGER PRIMARY KEY,
    title_type TEXT NOT NULL,
    primary_title TEXT NOT NULL,
    original_title TEXT,
    is_adult INTEGER NOT NULL DEFAULT 0,
    start_year INTEGER,
    end_year INTEGER,
    runtime_minutes INTEGER,
    genres TEXT,
    average_rating REAL,
    num_votes INTEGER NOT NULL DEFAULT 0
  )`,
  `CREATE TABLE title_genres (genre TEXT NOT NULL, title_id INTEGER NOT NULL, PRIMARY KEY (genre, title_id)) WITHOUT ROWID`,
  `CREATE TABLE akas (
    title_id INTEGER NOT NULL,
    ordering INTEGER NOT NULL,
    title TEXT NOT NULL,
    region TEXT,
    language TEXT,
    types TEXT,
    attributes TEXT,
    is_original_title INTEGER,
    PRIMARY KEY (title_id, ordering)
  ) WITHOUT ROWID`,
  `CREATE TABLE crew (
    title_id INTEGER NOT NULL,
    role TEXT NOT NULL,
    ordering INTEGER NOT NULL,
    name_id INTEGER NOT NULL,
    PRIMARY KEY (title_id, role, ordering)
  ) WITHOUT ROWID`,
  `CREATE TABLE episodes (
    id INTEGER PRIMARY KEY,
    parent_id INTEGER NOT NULL,
    season_number INTEGER,
    episode_number INTEGER
  )`,
  `CREATE TABLE principals (
    title_id INTEGER NOT NULL,
    ordering INTEGER NOT NULL,
    name_id INTEGER NOT NULL,
    category TEXT NOT NULL,
    job TEXT,
    characters TEXT,
    PRIMARY KEY (title_id, ordering)
  ) WITHOUT ROWID`,
  `CREATE TABLE names (
    id INTEGER PRIMARY KEY,
    primary_name TEXT NOT NULL,
    birth_year INTEGER,
    death_year INTEGER,
    primary_profession TEXT,
    known_for_titles TEXT,
    popularity INTEGER NOT NULL DEFAULT 0
  )`,
  `CREATE TABLE name_professions (profession TEXT NOT NULL, name_id INTEGER NOT NULL, PRIMARY KEY (profession, name_id)) WITHOUT ROWID`,
]

/** Every access path of the API; built after the load. */
export const SECONDARY_INDEXES: readonly string[] = [
  `CREATE INDEX titles_by_votes ON titles (num_votes, id)`,
  `CREATE INDEX titles_by_type_votes ON titles (title_type, num_votes, id)`,
  `CREATE INDEX titles_by_year ON titles (start_year, id)`,
  `CREATE INDEX titles_by_rating ON titles (average_rating, id)`,
  `CREATE INDEX titles_by_title ON titles (primary_title COLLATE NOCASE, id)`,
  `CREATE INDEX title_genres_by_title ON title_genres (title_id)`,
  `CREATE INDEX crew_by_name ON crew (name_id)`,
  `CREATE INDEX episodes_by_parent ON episodes (parent_id, season_number, episode_number)`,
  `CREATE INDEX principals_by_name ON principals (name_id)`,
  `CREATE INDEX names_by_popularity ON names (popularity, id)`,
  `CREATE INDEX names_by_name ON names (primary_name COLLATE NOCASE, id)`,
]

/**
 * Full-text indexes. Contentless (rows are joined back by rowid = id) with contentless_delete so the
 * in-place refresh can delete rows; diacritics folded so `amelie` finds `Amélie`; prefix indexes
 * make autocomplete prefix queries index lookups.
 * titles_fts.akas holds the distinct alternate titles of the title, space-joined.
 */
export const FTS_TABLES: readonly string[] = [
  `CREATE VIRTUAL TABLE titles_fts USING fts5(
    primary_title, original_title, akas,
    content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2', prefix='2 3'
  )`,
  `CREATE VIRTUAL TABLE names_fts USING fts5(
    primary_name,
    content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2', prefix='2 3'
  )`,
]
