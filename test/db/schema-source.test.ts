import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { type DatasetName, datasetSpec } from '../../src/datasets/catalogue.js'
import { ident, TABLES as POSTGRES_TABLES, STAGING_TABLES, tableDef } from '../../src/db/postgres/schema.js'
import Database from '../../src/db/sqlite/driver.js'
import { SECONDARY_INDEXES, TABLES as SQLITE_TABLES } from '../../src/db/sqlite/schema.js'
import { type ColumnType, columnNames, DATASET_TABLES, TABLE_NAMES, tableSpec } from '../../src/db/tables.js'
import { LOAD_ORDER } from '../../src/ingest/load-order.js'
import { encoderFor, Refs } from '../../src/ingest/postgres/encode.js'
import { Ratings } from '../../src/ingest/ratings.js'
import { IdSet } from '../../src/ingest/refs.js'
import { INSERT_COLUMNS } from '../../src/ingest/sqlite/sqlite-writer.js'
import { TABLE_OF_FILE } from '../../src/update/apply.js'
import { dropPrefix, postgresAvailable, testClient, uniquePrefix } from '../helpers/postgres.js'

/**
 * src/db/tables.ts is the one description of the dataset tables. The DDL of both backends is built
 * from it; the ingest writers keep column lists of their own, checked against it here.
 */

const SQLITE_TYPES: Record<ColumnType, string> = {
  int: 'INTEGER',
  flag: 'INTEGER',
  real: 'REAL',
  text: 'TEXT',
}
const POSTGRES_TYPES: Record<ColumnType, string> = {
  int: 'integer',
  flag: 'smallint',
  real: 'double precision',
  text: 'text',
}

describe('the table descriptions', () => {
  it('name only columns of their own table in keys and indexes', () => {
    for (const name of TABLE_NAMES) {
      const t = tableSpec(name)
      const columns = new Set(columnNames(name))
      assert.equal(columns.size, t.columns.length, `${name}: a column is listed twice`)
      for (const c of t.primaryKey) assert.ok(columns.has(c), `${name}: key column ${c}`)
      for (const i of t.indexes) {
        for (const c of i.columns) {
          const column = typeof c === 'string' ? c : c.nocase
          assert.ok(columns.has(column), `${i.name}: column ${column}`)
        }
        for (const c of i.covers ?? []) assert.ok(columns.has(c), `${i.name}: covered column ${c}`)
      }
    }
  })

  it("cover only primary-key columns, which SQLite's WITHOUT ROWID indexes hold anyway", () => {
    for (const name of TABLE_NAMES) {
      const t = tableSpec(name)
      for (const i of t.indexes) {
        for (const c of i.covers ?? []) {
          assert.ok(t.primaryKey.length > 1 && t.primaryKey.includes(c), `${i.name} covers ${c}`)
        }
      }
    }
  })
})

describe('the SQLite DDL', () => {
  const db = new Database(':memory:')
  for (const sql of SQLITE_TABLES) db.exec(sql)
  for (const sql of SECONDARY_INDEXES) db.exec(sql)
  after(() => db.close())

  it('creates every table with the columns, types, defaults and primary key described', () => {
    const created = db
      .prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY rowid`)
      .pluck()
      .all()
    assert.deepEqual(created, TABLE_NAMES)
    for (const name of TABLE_NAMES) {
      const t = tableSpec(name)
      const info = db.prepare(`PRAGMA table_info(${name})`).all() as {
        name: string
        type: string
        notnull: number
        dflt_value: string | null
        pk: number
      }[]
      const expected = t.columns.map((c) => ({
        name: c.name,
        type: SQLITE_TYPES[c.type],
        // A WITHOUT ROWID table's key columns are NOT NULL without saying so; a rowid is never NULL.
        notnull: c.nullable ? 0 : 1,
        dflt_value: c.default === undefined ? null : String(c.default),
        pk: t.primaryKey.indexOf(c.name) + 1,
      }))
      const actual = info.map((c) => ({
        name: c.name,
        type: c.type,
        notnull: c.notnull === 1 || c.pk > 0 ? 1 : 0,
        dflt_value: c.dflt_value,
        pk: c.pk,
      }))
      assert.deepEqual(actual, expected, name)
    }
  })

  it('creates every secondary index on the columns described', () => {
    for (const name of TABLE_NAMES) {
      for (const i of tableSpec(name).indexes) {
        const info = db.prepare(`PRAGMA index_xinfo(${i.name})`).all() as {
          name: string | null
          coll: string
          key: number
        }[]
        const key = info.filter((c) => c.key === 1).map((c) => ({ name: c.name, coll: c.coll }))
        const expected = i.columns.map((c) =>
          typeof c === 'string' ? { name: c, coll: 'BINARY' } : { name: c.nocase, coll: 'NOCASE' },
        )
        assert.deepEqual(key, expected, i.name)
        // What the index holds besides its key: the primary key (or rowid), which has what it covers.
        const held = info.filter((c) => c.key === 0).map((c) => c.name)
        for (const c of i.covers ?? []) assert.ok(held.includes(c), `${i.name} holds ${c}`)
      }
    }
  })
})

const available = await postgresAvailable()

describe('the PostgreSQL DDL', { skip: !available }, () => {
  const prefix = uniquePrefix('schemasource')
  const schema = `${prefix}_g_test`
  after(() => dropPrefix(prefix))

  it('creates every table with the columns, types and defaults described', async () => {
    const client = await testClient()
    try {
      await client.query(`CREATE SCHEMA ${ident(schema)}`)
      await client.query(`SET search_path = ${ident(schema)}`)
      for (const t of [...POSTGRES_TABLES, ...STAGING_TABLES]) {
        await client.query(`CREATE TABLE ${t.name} (${t.columns})`)
      }
      const { rows } = await client.query(
        `SELECT table_name, column_name, data_type, is_nullable, column_default, collation_name
           FROM information_schema.columns WHERE table_schema = $1 ORDER BY table_name, ordinal_position`,
        [schema],
      )
      for (const name of TABLE_NAMES) {
        const actual = rows
          .filter((r) => r.table_name === name)
          .map((r) => ({
            name: r.column_name,
            type: r.data_type,
            nullable: r.is_nullable === 'YES',
            default: r.column_default,
            collation: r.collation_name,
          }))
        const expected = tableSpec(name).columns.map((c) => ({
          name: c.name,
          type: POSTGRES_TYPES[c.type],
          nullable: c.nullable === true,
          default: c.default === undefined ? null : String(c.default),
          collation: c.type === 'text' ? 'C' : null,
        }))
        assert.deepEqual(actual, expected, name)
        assert.deepEqual(tableDef(name).key, tableSpec(name).primaryKey, name)
      }
    } finally {
      await client.end()
    }
  })
})

/** The columns of each INSERT the SQLite writer prepares, by table. */
function sqliteWriterColumns(): Map<string, string[]> {
  const inserts = new Map<string, string[]>()
  for (const insert of Object.values(INSERT_COLUMNS)) inserts.set(insert.table, [...insert.columns])
  return inserts
}

describe('the ingest writers', () => {
  it('insert the columns of each SQLite table in the order described', () => {
    const inserts = sqliteWriterColumns()
    // title_genres and name_professions are only ever page-built (from the DDL itself).
    const written = TABLE_NAMES.filter(
      (t) => t !== 'meta' && t !== 'title_genres' && t !== 'name_professions',
    )
    for (const table of written) assert.deepEqual(inserts.get(table), columnNames(table), table)
  })

  it('copy the columns of each PostgreSQL table in the order described', () => {
    const loaded = new Set<DatasetName>(LOAD_ORDER)
    const ctx = {
      ratings: new Ratings(),
      refs: new Refs(loaded),
      titleIds: new IdSet(),
      nameIds: new IdSet(),
      loaded,
      strict: false,
      ratingsMatched: 0,
      onBadRow: () => {},
    }
    const copied = new Set<string>()
    for (const dataset of LOAD_ORDER) {
      for (const out of encoderFor(dataset, ctx, dataset).outputs) {
        copied.add(out.table)
        // Text-search tables are PostgreSQL's own: compare with its DDL.
        const expected = (DATASET_TABLES as Record<string, unknown>)[out.table]
          ? columnNames(out.table as keyof typeof DATASET_TABLES)
          : tableDef(out.table)
              .columns.split(', ')
              .map((c) => c.split(' ')[0])
        assert.deepEqual(out.columns, expected, out.table)
      }
    }
    for (const table of TABLE_NAMES.filter((t) => t !== 'meta')) assert.ok(copied.has(table), table)
  })
})

const snakeCase = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)

describe('the in-place refresh', () => {
  it("takes a file's columns as the first columns of its table, its key as the table's key", () => {
    for (const [dataset, table] of Object.entries(TABLE_OF_FILE) as [
      DatasetName,
      keyof typeof DATASET_TABLES,
    ][]) {
      const file = datasetSpec(dataset)
      const t = tableSpec(table)
      assert.deepEqual(
        t.primaryKey,
        columnNames(table).slice(0, file.key.length),
        `${table}: the key comes first`,
      )
      assert.deepEqual(
        file.key,
        file.columns.slice(0, file.key.length).map((c) => c.name),
        `${dataset}: the key comes first`,
      )
      file.columns.forEach((c, i) => {
        const column = t.columns[i]
        const isId = c.type === 'tconst' || c.type === 'nconst'
        const same = isId
          ? column.type === 'int' && /(^|_)id$/.test(column.name)
          : snakeCase(c.name) === column.name
        assert.ok(same, `${dataset} column ${c.name} is ${table}.${column.name}`)
      })
    }
  })
})
