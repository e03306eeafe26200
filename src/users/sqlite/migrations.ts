import Database from 'better-sqlite3'
import { Kysely, type Migration, type MigrationProvider, Migrator, SqliteDialect, sql } from 'kysely'
import { UsersSchemaTooNewError } from '../store.js'

/**
 * The user store's schema, as versioned Kysely migrations provided in code. Names start with a
 * zero-padded version (`0001_...`); a PostgreSQL backend keeps the same versions with its own DDL.
 * Append new migrations; never edit one that has shipped.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as typed now
type AnyDB = Kysely<any>

export const MIGRATIONS: Record<string, Migration> = {
  '0001_users_watchlist_ratings': {
    async up(db: AnyDB) {
      await db.schema
        .createTable('users')
        // AUTOINCREMENT: a revoked key's id is never handed to another key.
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull().check(sql`role IN ('user', 'analyst', 'admin')`))
        .addColumn('key_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .execute()
      await db.schema
        .createTable('watchlist')
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
        .addColumn('title_id', 'integer', (c) => c.notNull())
        .addColumn('added_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('watchlist_pk', ['user_id', 'title_id'])
        .modifyEnd(sql`WITHOUT ROWID`)
        .execute()
      await db.schema
        .createIndex('watchlist_by_added')
        .on('watchlist')
        .columns(['user_id', 'added_at', 'title_id'])
        .execute()
      await db.schema
        .createTable('ratings')
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
        .addColumn('title_id', 'integer', (c) => c.notNull())
        .addColumn('rating', 'integer', (c) => c.notNull().check(sql`rating BETWEEN 1 AND 10`))
        .addColumn('rated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('ratings_pk', ['user_id', 'title_id'])
        .modifyEnd(sql`WITHOUT ROWID`)
        .execute()
      await db.schema
        .createIndex('ratings_by_rated')
        .on('ratings')
        .columns(['user_id', 'rated_at', 'title_id'])
        .execute()
    },
  },
}

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS }

/** `0003_add_x` -> 3 */
export function versionOf(name: string): number {
  const m = /^(\d+)_/.exec(name)
  if (!m) throw new Error(`migration name "${name}" does not start with a version number`)
  return Number(m[1])
}

export const SCHEMA_VERSION = Math.max(...Object.keys(MIGRATIONS).map(versionOf))

/**
 * Brings the file up to the latest schema: WAL mode, then every pending migration inside one
 * `BEGIN IMMEDIATE` transaction (so two processes starting at once apply them once, and a failure
 * leaves the previous version intact). Refuses a database written by a newer marquee. Idempotent.
 * Runs on the calling thread: it is start-up work, done before the store serves anything.
 */
export async function migrateSqlite(file: string): Promise<{ applied: string[]; version: number }> {
  const sqlite = new Database(file)
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: sqlite }) })
  try {
    sqlite.pragma('busy_timeout = 5000')
    sqlite.pragma('journal_mode = WAL')
    sqlite.pragma('foreign_keys = ON')
    sqlite.exec('BEGIN IMMEDIATE')
    try {
      refuseNewer(sqlite, file)
      const { error, results } = await new Migrator({ db, provider }).migrateToLatest()
      if (error) throw error
      sqlite.exec('COMMIT')
      const applied = (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName)
      return { applied, version: SCHEMA_VERSION }
    } catch (err) {
      if (sqlite.inTransaction) sqlite.exec('ROLLBACK')
      throw err
    }
  } finally {
    await db.destroy()
  }
}

function refuseNewer(sqlite: Database.Database, file: string): void {
  const table = sqlite
    .prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'kysely_migration'`)
    .get()
  if (!table) return
  const names = sqlite.prepare('SELECT name FROM kysely_migration').pluck().all() as string[]
  const unknown = names.filter((name) => !(name in MIGRATIONS))
  if (unknown.length === 0) return
  const versions = unknown.filter((name) => /^\d+_/.test(name)).map(versionOf)
  const newest = versions.length > 0 ? Math.max(...versions) : 0
  if (newest > SCHEMA_VERSION) throw new UsersSchemaTooNewError(file, newest, SCHEMA_VERSION)
  throw new Error(
    `the user database ${file} records migrations this marquee does not know (${unknown.join(', ')}); ` +
      'it was not written by marquee, or its history was edited',
  )
}
