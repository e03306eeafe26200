/**
 * The PostgreSQL dataset schema: the tables and columns of src/db/types.ts (so the Kysely query
 * functions of src/db/queries/ run unchanged), each generation in a schema of its own.
 *
 * Layout of a namespace `prefix` (default `marquee`):
 * - `prefix` (the control schema): `prefix.current`, one row naming the schema being served and
 *   the one served before it. The ingest swaps it in one transaction; API servers read it.
 * - `prefix_g_<generation>`: one dataset generation, complete with its indexes, statistics and
 *   `meta` rows (generation, schema_version, manifest). Never modified once it is current.
 *
 * Text search. Words are folded and split by the same code as the queries' (src/db/queries/text.ts:
 * lower case, diacritics removed, runs of letters and digits) when the ingest writes the
 * `tsvector` documents, so a query word and an indexed word are always spelled alike on both
 * backends (`amelie` finds `Amélie`, `ærø` stays `ærø` as in SQLite's unicode61). Weights mirror the
 * SQLite bm25 column weights: primary title A, original title B, alternate titles C.
 * `titles_vocab` / `names_vocab` hold every indexed word (the fts5vocab of SQLite): typo
 * correction and prefix expansion look words up there.
 */

/** Version of the logical dataset schema (tables and columns), the same number as SQLite's. */
export const SCHEMA_VERSION = 1

/** The default namespace: control schema name and prefix of the generation schemas. */
export const DEFAULT_SCHEMA_PREFIX = 'marquee'

const PREFIX_PATTERN = /^[a-z_][a-z0-9_]{0,29}$/

/** Throws unless `prefix` is a plain lower-case identifier (it is spliced into SQL as a name). */
export function checkSchemaPrefix(prefix: string): string {
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new Error(
      `invalid schema prefix "${prefix}": use 1-30 lower-case letters, digits or _, not starting with a digit`,
    )
  }
  return prefix
}

/** The schema of one generation: `marquee_g_20250101t000000000z_0123456789ab`. */
export function generationSchema(prefix: string, generation: string): string {
  return `${checkSchemaPrefix(prefix)}_g_${generation.toLowerCase().replace(/[^a-z0-9]+/g, '_')}`
}

/** Whether `schema` is a generation schema of `prefix` (what cleanup may drop). */
export function isGenerationSchema(prefix: string, schema: string): boolean {
  return schema.startsWith(`${prefix}_g_`) && /^[a-z0-9_]+$/.test(schema)
}

/** A double-quoted identifier. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

/** A single-quoted string literal (for DDL, where parameters cannot be used). */
export function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`
}

/** The control schema's table: which generation is served, and which was before. */
export function controlDdl(prefix: string): string[] {
  const p = ident(checkSchemaPrefix(prefix))
  return [
    `CREATE SCHEMA IF NOT EXISTS ${p}`,
    `CREATE TABLE IF NOT EXISTS ${p}.current (
      singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
      schema text NOT NULL,
      generation text NOT NULL,
      previous_schema text,
      swapped_at timestamptz NOT NULL DEFAULT now()
    )`,
  ]
}

/** A table of a generation: its columns (in COPY order) and the key its rows are unique on. */
export interface TableDef {
  readonly name: string
  readonly columns: string
  /** Columns of the primary key, built as a unique index after the load. */
  readonly key: readonly string[]
}

/**
 * Every table of a generation. Integer ids (4-byte: IMDb ids have at most 8 digits), `double
 * precision` ratings (what SQLite's REAL returns), text as shipped in the "C" collation: bytes
 * order it, as SQLite's BINARY does, and sorting it for an index costs a memcmp, not a strcoll.
 * No index until the rows are in.
 */
export const TABLES: readonly TableDef[] = [
  { name: 'meta', columns: 'key text COLLATE "C" NOT NULL, value text COLLATE "C" NOT NULL', key: ['key'] },
  {
    name: 'titles',
    columns: `id integer NOT NULL, title_type text COLLATE "C" NOT NULL, primary_title text COLLATE "C" NOT NULL, original_title text COLLATE "C",
      is_adult smallint NOT NULL DEFAULT 0, start_year integer, end_year integer, runtime_minutes integer,
      genres text COLLATE "C", average_rating double precision, num_votes integer NOT NULL DEFAULT 0`,
    key: ['id'],
  },
  {
    name: 'title_genres',
    columns: 'genre text COLLATE "C" NOT NULL, title_id integer NOT NULL',
    key: ['genre', 'title_id'],
  },
  {
    name: 'akas',
    columns: `title_id integer NOT NULL, ordering integer NOT NULL, title text COLLATE "C" NOT NULL, region text COLLATE "C",
      language text COLLATE "C", types text COLLATE "C", attributes text COLLATE "C", is_original_title smallint`,
    key: ['title_id', 'ordering'],
  },
  {
    name: 'crew',
    columns:
      'title_id integer NOT NULL, role text COLLATE "C" NOT NULL, ordering integer NOT NULL, name_id integer NOT NULL',
    key: ['title_id', 'role', 'ordering'],
  },
  {
    name: 'episodes',
    columns: 'id integer NOT NULL, parent_id integer NOT NULL, season_number integer, episode_number integer',
    key: ['id'],
  },
  {
    name: 'principals',
    columns: `title_id integer NOT NULL, ordering integer NOT NULL, name_id integer NOT NULL,
      category text COLLATE "C" NOT NULL, job text COLLATE "C", characters text COLLATE "C"`,
    key: ['title_id', 'ordering'],
  },
  {
    name: 'names',
    columns: `id integer NOT NULL, primary_name text COLLATE "C" NOT NULL, birth_year integer, death_year integer,
      primary_profession text COLLATE "C", known_for_titles text COLLATE "C", popularity integer NOT NULL DEFAULT 0`,
    key: ['id'],
  },
  {
    name: 'name_professions',
    columns: 'profession text COLLATE "C" NOT NULL, name_id integer NOT NULL',
    key: ['profession', 'name_id'],
  },
  { name: 'titles_fts', columns: 'id integer NOT NULL, doc tsvector NOT NULL', key: ['id'] },
  { name: 'names_fts', columns: 'id integer NOT NULL, doc tsvector NOT NULL', key: ['id'] },
  { name: 'titles_vocab', columns: 'term text COLLATE "C" NOT NULL', key: ['term'] },
  { name: 'names_vocab', columns: 'term text COLLATE "C" NOT NULL', key: ['term'] },
]

/**
 * Load-time tables, dropped before the swap: the A/B-weighted documents of title.basics and the
 * C-weighted alternate-title documents of title.akas, merged into titles_fts once both are in.
 */
export const STAGING_TABLES: readonly TableDef[] = [
  { name: 'titles_doc', columns: 'id integer NOT NULL, doc tsvector NOT NULL', key: ['id'] },
  { name: 'akas_doc', columns: 'title_id integer NOT NULL, doc tsvector NOT NULL', key: ['title_id'] },
]

export function tableDef(name: string): TableDef {
  const t = TABLES.find((d) => d.name === name) ?? STAGING_TABLES.find((d) => d.name === name)
  if (!t) throw new Error(`no table ${name}`)
  return t
}

/** The case-insensitive sort key of SQLite's `COLLATE NOCASE`: ASCII-only lower case, byte order. */
export const nocase = (column: string) => `lower(${column} COLLATE "C")`

/**
 * The secondary indexes, by table: every access path of the API (the SQLite schema's
 * SECONDARY_INDEXES, plus GIN over the text-search documents).
 */
export const SECONDARY_INDEXES: Readonly<Record<string, readonly string[]>> = {
  titles: [
    'CREATE INDEX titles_by_votes ON titles (num_votes, id)',
    'CREATE INDEX titles_by_type_votes ON titles (title_type, num_votes, id)',
    'CREATE INDEX titles_by_year ON titles (start_year, id)',
    'CREATE INDEX titles_by_rating ON titles (average_rating, id)',
    `CREATE INDEX titles_by_title ON titles (${nocase('primary_title')}, id)`,
  ],
  title_genres: ['CREATE INDEX title_genres_by_title ON title_genres (title_id)'],
  // With title_id in the key a person's titles come from the index alone (index-only scans: the
  // tables are frozen and all-visible), as SQLite's covering WITHOUT ROWID indexes give them; the
  // index is no larger (an int4 key pads to 8 bytes anyway).
  crew: ['CREATE INDEX crew_by_name ON crew (name_id, title_id)'],
  episodes: ['CREATE INDEX episodes_by_parent ON episodes (parent_id, season_number, episode_number)'],
  principals: ['CREATE INDEX principals_by_name ON principals (name_id, title_id)'],
  names: [
    'CREATE INDEX names_by_popularity ON names (popularity, id)',
    `CREATE INDEX names_by_name ON names (${nocase('primary_name')}, id)`,
  ],
  titles_fts: ['CREATE INDEX titles_fts_doc ON titles_fts USING gin (doc)'],
  names_fts: ['CREATE INDEX names_fts_doc ON names_fts USING gin (doc)'],
}

/** The unique index that becomes the table's primary key. */
export function primaryKeyIndex(t: TableDef): string {
  return `CREATE UNIQUE INDEX ${t.name}_pkey ON ${t.name} (${t.key.join(', ')})`
}

/** Turns the unique index into the primary key (a catalog change: the index is already built). */
export function primaryKeyConstraint(t: TableDef): string {
  return `ALTER TABLE ${t.name} ADD CONSTRAINT ${t.name}_pkey PRIMARY KEY USING INDEX ${t.name}_pkey`
}

/** Tables whose sizes the manifest reports (as the SQLite manifest does). */
export const REPORTED_TABLES = [
  'titles',
  'title_genres',
  'akas',
  'crew',
  'episodes',
  'principals',
  'names',
  'name_professions',
  'titles_fts',
  'names_fts',
] as const
