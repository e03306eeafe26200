import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Kysely, SqliteDialect } from 'kysely'
import { parseId } from '../../src/datasets/catalogue.js'
import { dialectOf, withDialect } from '../../src/db/dialect.js'
import { ScopedKysely } from '../../src/db/postgres/connection.js'
import { postgresDialect } from '../../src/db/postgres/dialect.js'
import type { DB } from '../../src/db/queries/sql.js'
import { openDataset, sqliteKysely } from '../../src/db/sqlite/connection.js'
import { sqliteDialect } from '../../src/db/sqlite/dialect.js'
import Database from '../../src/db/sqlite/driver.js'
import type { DatasetDB } from '../../src/db/types.js'
import { buildTestDataset, FIXTURE } from '../helpers/dataset.js'
import { tempDir } from '../helpers/server.js'

describe('every dataset handle carries the dialect of the backend that created it', () => {
  let dbPath: string
  let cleanup: () => Promise<void>

  before(async () => {
    const tmp = await tempDir()
    cleanup = tmp.cleanup
    dbPath = (await buildTestDataset(tmp.dir)).dbPath
  })
  after(() => cleanup())

  it("openDataset's handle yields the SQLite dialect, and runs the queries that need it", async () => {
    const conn = openDataset(dbPath)
    try {
      assert.equal(dialectOf(conn.db), sqliteDialect)
      const [godfather] = await sqliteDialect.titleDetails(conn.db, [parseId(FIXTURE.godfather)])
      assert.ok(
        godfather?.crew?.some(([role]) => role === 'director'),
        'the crew comes back parsed',
      )
    } finally {
      conn.close()
    }
  })

  it("sqliteKysely's handle (a connection of the caller's own) yields the SQLite dialect", async () => {
    const sqlite = new Database(dbPath, { readonly: true, fileMustExist: true })
    const db = sqliteKysely(sqlite)
    try {
      assert.equal(dialectOf(db), sqliteDialect)
    } finally {
      await db.destroy()
    }
  })

  it("ScopedKysely's handle (the PostgreSQL executor's) yields the PostgreSQL dialect", () => {
    assert.equal(dialectOf(new ScopedKysely().db), postgresDialect)
  })

  it('a handle created elsewhere has no dialect, and says so rather than guessing', async () => {
    const db = new Kysely<DatasetDB>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) })
    try {
      assert.throws(() => dialectOf(db), /without a dialect/)
    } finally {
      await db.destroy()
    }
  })

  it('a second copy of the module (another loader) finds the dialect the first attached', async () => {
    const copy = (await import(
      `../../src/db/dialect.js?copy=${Date.now()}`
    )) as typeof import('../../src/db/dialect.js')
    assert.notEqual(copy.dialectOf, dialectOf, 'a second module instance')
    const db = withDialect({}, postgresDialect) as unknown as DB
    assert.equal(copy.dialectOf(db), postgresDialect)
  })
})
