/**
 * The PostgreSQL dataset schema: the tables of ../tables.ts, as SQLite has them (so the Kysely query
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

import {
  type ColumnSpec,
  type ColumnType,
  DATASET_TABLES,
  type IndexColumn,
  type IndexSpec,
  TABLE_NAMES,
} from '../tables.js'

export { SCHEMA_VERSION } from '../tables.js'

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

/** A table of ../tables.ts, or one of text search (which only PostgreSQL keeps in tables). */
interface PostgresTableSpec {
  readonly columns: readonly PostgresColumnSpec[]
  readonly primaryKey: readonly string[]
}

type PostgresColumnSpec = Omit<ColumnSpec, 'type'> & { readonly type: ColumnType | 'tsvector' }

/**
 * Integer ids (4-byte: IMDb ids have at most 8 digits), `double precision` ratings (what SQLite's
 * REAL returns), text as shipped in the "C" collation: bytes order it, as SQLite's BINARY does, and
 * sorting it for an index costs a memcmp, not a strcoll.
 */
const POSTGRES_TYPES: Record<ColumnType | 'tsvector', string> = {
  int: 'integer',
  flag: 'smallint',
  real: 'double precision',
  text: 'text COLLATE "C"',
  tsvector: 'tsvector',
}

function columnDdl(c: PostgresColumnSpec): string {
  const defaultValue = c.default === undefined ? '' : ` DEFAULT ${c.default}`
  return `${c.name} ${POSTGRES_TYPES[c.type]}${c.nullable ? '' : ' NOT NULL'}${defaultValue}`
}

function tableDefOf(name: string, t: PostgresTableSpec): TableDef {
  return { name, columns: t.columns.map(columnDdl).join(', '), key: t.primaryKey }
}

const documentTable = (key: string): PostgresTableSpec => ({
  columns: [
    { name: key, type: 'int' },
    { name: 'doc', type: 'tsvector' },
  ],
  primaryKey: [key],
})

const vocabularyTable: PostgresTableSpec = { columns: [{ name: 'term', type: 'text' }], primaryKey: ['term'] }

/** Every table of a generation: the dataset's tables, then those of text search. No index until the rows are in. */
export const TABLES: readonly TableDef[] = [
  ...TABLE_NAMES.map((name) => tableDefOf(name, DATASET_TABLES[name])),
  tableDefOf('titles_fts', documentTable('id')),
  tableDefOf('names_fts', documentTable('id')),
  tableDefOf('titles_vocab', vocabularyTable),
  tableDefOf('names_vocab', vocabularyTable),
]

/**
 * Load-time tables, dropped before the swap: the A/B-weighted documents of title.basics and the
 * C-weighted alternate-title documents of title.akas, merged into titles_fts once both are in.
 */
export const STAGING_TABLES: readonly TableDef[] = [
  tableDefOf('titles_doc', documentTable('id')),
  tableDefOf('akas_doc', documentTable('title_id')),
]

export function tableDef(name: string): TableDef {
  const t = TABLES.find((d) => d.name === name) ?? STAGING_TABLES.find((d) => d.name === name)
  if (!t) throw new Error(`no table ${name}`)
  return t
}

/** The case-insensitive sort key of SQLite's `COLLATE NOCASE`: ASCII-only lower case, byte order. */
export const nocase = (column: string) => `lower(${column} COLLATE "C")`

const indexColumn = (c: IndexColumn) => (typeof c === 'string' ? c : nocase(c.nocase))

/**
 * An index's `covers` columns go at the end of its key: a person's titles then come from the index
 * alone (index-only scans: the tables are frozen and all-visible), as SQLite's covering WITHOUT
 * ROWID indexes give them; the index is no larger (an int4 key pads to 8 bytes anyway).
 */
function createIndex(table: string, i: IndexSpec): string {
  const columns = [...i.columns.map(indexColumn), ...(i.covers ?? [])]
  return `CREATE INDEX ${i.name} ON ${table} (${columns.join(', ')})`
}

/**
 * The secondary indexes, by table: every access path of the API (those of ../tables.ts, as
 * SQLite's SECONDARY_INDEXES), plus GIN over the text-search documents.
 */
export const SECONDARY_INDEXES: Readonly<Record<string, readonly string[]>> = {
  ...Object.fromEntries(
    TABLE_NAMES.filter((name) => DATASET_TABLES[name].indexes.length > 0).map((name) => [
      name,
      DATASET_TABLES[name].indexes.map((i: IndexSpec) => createIndex(name, i)),
    ]),
  ),
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
