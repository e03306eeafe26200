/**
 * The SQLite dataset schema, built from the table descriptions of ../tables.ts. Tables are created
 * before the load without secondary indexes; tables keyed by (id) or (title_id, ordering) are
 * filled in key order, so their primary keys cost nothing; SECONDARY_INDEXES are built once the
 * rows are in.
 */

import {
  type ColumnSpec,
  type ColumnType,
  DATASET_TABLES,
  type IndexColumn,
  type IndexSpec,
  TABLE_NAMES,
  type TableName,
  type TableSpec,
} from '../tables.js'

export { SCHEMA_VERSION } from '../tables.js'

const SQLITE_TYPES: Record<ColumnType, string> = {
  int: 'INTEGER',
  flag: 'INTEGER',
  real: 'REAL',
  text: 'TEXT',
}

/**
 * Whether the table is keyed by its rowid (an INTEGER PRIMARY KEY). Every other table is WITHOUT
 * ROWID: stored in its primary key's order, and its secondary indexes hold the primary key.
 */
function keyedByRowid(t: TableSpec): boolean {
  return t.primaryKey.length === 1 && t.columns.find((c) => c.name === t.primaryKey[0])?.type === 'int'
}

/** A one-column primary key is declared on the column (which is then NOT NULL by definition). */
function columnDdl(c: ColumnSpec, t: TableSpec): string {
  const key = t.primaryKey.length === 1 && t.primaryKey[0] === c.name
  const constraint = key ? ' PRIMARY KEY' : c.nullable ? '' : ' NOT NULL'
  const defaultValue = c.default === undefined ? '' : ` DEFAULT ${c.default}`
  return `${c.name} ${SQLITE_TYPES[c.type]}${constraint}${defaultValue}`
}

/**
 * CREATE TABLE of a table. The text is stored as written in each database's sqlite_schema (and in
 * the page-built files of the ingest), so it keeps the layout it always had: two-column tables on
 * one line, the others one column a line.
 */
function createTable(name: TableName): string {
  const t: TableSpec = DATASET_TABLES[name]
  const parts = t.columns.map((c) => columnDdl(c, t))
  if (t.primaryKey.length > 1) parts.push(`PRIMARY KEY (${t.primaryKey.join(', ')})`)
  const body = t.columns.length <= 2 ? parts.join(', ') : `\n    ${parts.join(',\n    ')}\n  `
  return `CREATE TABLE ${name} (${body})${keyedByRowid(t) ? '' : ' WITHOUT ROWID'}`
}

const indexColumn = (c: IndexColumn) => (typeof c === 'string' ? c : `${c.nocase} COLLATE NOCASE`)

/** An index's `covers` columns are left out: they are in the primary key the index holds. */
function createIndex(table: TableName, i: IndexSpec): string {
  return `CREATE INDEX ${i.name} ON ${table} (${i.columns.map(indexColumn).join(', ')})`
}

export const TABLES: readonly string[] = TABLE_NAMES.map(createTable)

/** Every access path of the API; built after the load. */
export const SECONDARY_INDEXES: readonly string[] = TABLE_NAMES.flatMap((name) =>
  DATASET_TABLES[name].indexes.map((i: IndexSpec) => createIndex(name, i)),
)

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
