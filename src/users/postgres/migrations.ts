import {
  type DatabaseIntrospector,
  type Kysely,
  type Migration,
  type MigrationProvider,
  Migrator,
  sql,
} from 'kysely'
import { migrateToLatest, refuseUnknownHistory, schemaVersion } from '../migrations.js'
import { MIGRATIONS as SQLITE_MIGRATIONS } from '../sqlite/migrations.js'

/**
 * The user store's schema on PostgreSQL: the same migration names (versions) as the SQLite store,
 * with PostgreSQL DDL. Identity ids are never reused (as SQLite's AUTOINCREMENT); times are
 * ISO-8601 text in the "C" collation, so they sort by bytes whatever the database's locale.
 * Append new migrations (and their SQLite twins); never edit one that has shipped.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as typed now
type AnyDB = Kysely<any>

const textC = sql`text COLLATE "C"`

export const MIGRATIONS: Record<string, Migration> = {
  '0001_users_watchlist_ratings': {
    async up(db: AnyDB) {
      await db.schema
        .createTable('users')
        .addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull().check(sql`role IN ('user', 'analyst', 'admin')`))
        .addColumn('key_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', textC, (c) => c.notNull())
        .addColumn('revoked_at', textC)
        .execute()
      await db.schema
        .createTable('watchlist')
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
        .addColumn('title_id', 'integer', (c) => c.notNull())
        .addColumn('added_at', textC, (c) => c.notNull())
        .addPrimaryKeyConstraint('watchlist_pk', ['user_id', 'title_id'])
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
        .addColumn('rated_at', textC, (c) => c.notNull())
        .addPrimaryKeyConstraint('ratings_pk', ['user_id', 'title_id'])
        .execute()
      await db.schema
        .createIndex('ratings_by_rated')
        .on('ratings')
        .columns(['user_id', 'rated_at', 'title_id'])
        .execute()
    },
  },
}

// Both backends must know the same versions, so a store can move between them.
for (const name of Object.keys(SQLITE_MIGRATIONS)) {
  if (!(name in MIGRATIONS)) throw new Error(`the PostgreSQL user store lacks migration ${name}`)
}

export const SCHEMA_VERSION = schemaVersion(MIGRATIONS)

/**
 * Brings the user schema up to date: creates it if missing, refuses one written by a newer marquee,
 * then applies the pending migrations (Kysely takes a transaction-scoped advisory lock, so servers
 * starting together apply them once). `db` must have the user schema as its search_path.
 */
export async function migratePostgres(
  db: AnyDB,
  schema: string,
  label: string,
): Promise<{ applied: string[]; version: number }> {
  // Up to date already: read only (a server on a read-only replica writes nothing at start).
  if (await upToDate(db, schema, label)) return { applied: [], version: SCHEMA_VERSION }
  // One connection, under a session advisory lock: servers starting together (serve --workers)
  // create the schema and apply the migrations once, one after the other.
  return db.connection().execute(async (conn) => {
    await sql`SELECT pg_advisory_lock(${LOCK_NAMESPACE}, hashtext(${schema}))`.execute(conn)
    try {
      await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(schema)}`.execute(conn)
      refuseUnknownHistory(await recordedMigrations(conn, schema), MIGRATIONS, { noun: 'schema', label })
      const migrator = new Migrator({
        db: withSchemaIntrospector(conn, schema),
        provider: { getMigrations: async () => MIGRATIONS } satisfies MigrationProvider,
        migrationTableSchema: schema,
      })
      return { applied: await migrateToLatest(migrator), version: SCHEMA_VERSION }
    } finally {
      await sql`SELECT pg_advisory_unlock(${LOCK_NAMESPACE}, hashtext(${schema}))`.execute(conn)
    }
  })
}

/**
 * `conn` with an introspector that sees `schema` alone, for Kysely's Migrator (which only asks
 * whether its own tables exist). Kysely's reads every column of every schema and looks each schema
 * up by name: one dropped meanwhile (an ingest retiring a generation) fails it with 3F000, and a
 * database holding a few generations makes it slow.
 */
function withSchemaIntrospector(conn: AnyDB, schema: string): AnyDB {
  const introspection: DatabaseIntrospector = {
    async getSchemas() {
      const { rows } = await sql<{ name: string }>`
        SELECT nspname AS name FROM pg_catalog.pg_namespace WHERE nspname = ${schema}`.execute(conn)
      return rows
    },
    async getTables() {
      const { rows } = await sql<{ name: string; kind: string }>`
        SELECT c.relname AS name, c.relkind AS kind
        FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ${schema} AND c.relkind IN ('r', 'v', 'p')`.execute(conn)
      return rows.map((r) => ({ name: r.name, schema, isView: r.kind === 'v', columns: [] }))
    },
    async getMetadata() {
      return { tables: await this.getTables() }
    },
  }
  // Kysely's methods read private fields: they run on the instance itself, not on the proxy.
  return new Proxy(conn, {
    get(target, prop) {
      if (prop === 'introspection') return introspection
      const value = Reflect.get(target, prop, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

/** Advisory lock namespace of user-schema migrations (`usrs`). */
const LOCK_NAMESPACE = 0x75737273

/** Whether every migration is recorded (after refusing a schema from a newer marquee). */
async function upToDate(db: AnyDB, schema: string, label: string): Promise<boolean> {
  const recorded = await recordedMigrations(db, schema)
  refuseUnknownHistory(recorded, MIGRATIONS, { noun: 'schema', label })
  return Object.keys(MIGRATIONS).every((name) => recorded.includes(name))
}

/** The migration names the schema records (none before its first migration, or without the schema). */
async function recordedMigrations(db: AnyDB, schema: string): Promise<string[]> {
  const exists = await sql<{
    t: string | null
  }>`SELECT to_regclass(${`${schema}.kysely_migration`})::text AS t`.execute(db)
  if (!exists.rows[0]?.t) return []
  const { rows } = await sql<{
    name: string
  }>`SELECT name FROM ${sql.id(schema, 'kysely_migration')}`.execute(db)
  return rows.map((r) => r.name)
}
