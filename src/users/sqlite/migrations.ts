import { Kysely, type Migration, type MigrationProvider, Migrator, SqliteDialect, sql } from 'kysely'
import Database from '../../db/sqlite/driver.js'
import { migrateToLatest, refuseUnknownHistory, schemaVersion } from '../migrations.js'

/**
 * The user store's schema on SQLite, as versioned Kysely migrations provided in code (see
 * ../migrations.ts for the naming). Append new migrations; never edit one that has shipped.
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

export const SCHEMA_VERSION = schemaVersion(MIGRATIONS)

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
      refuseUnknownHistory(recordedMigrations(sqlite), MIGRATIONS, { noun: 'database', label: file })
      const applied = await migrateToLatest(new Migrator({ db, provider }))
      sqlite.exec('COMMIT')
      return { applied, version: SCHEMA_VERSION }
    } catch (err) {
      if (sqlite.inTransaction) sqlite.exec('ROLLBACK')
      throw err
    }
  } finally {
    await db.destroy()
  }
}

/** The migration names the file records (none before its first migration). */
function recordedMigrations(sqlite: Database): string[] {
  const table = sqlite
    .prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'kysely_migration'`)
    .get()
  if (!table) return []
  return sqlite.prepare('SELECT name FROM kysely_migration').pluck().all() as string[]
}
