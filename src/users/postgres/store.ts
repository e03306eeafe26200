import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import { createPool } from '../../db/postgres/connection.js'
import { checkSchemaPrefix, DEFAULT_SCHEMA_PREFIX } from '../../db/postgres/schema.js'
import { KyselyUserStore } from '../kysely-store.js'
import type { UserStore } from '../store.js'
import type { UsersDB } from '../types.js'
import { migratePostgres } from './migrations.js'

export interface OpenPostgresUserStoreOptions {
  /** marquee's schema prefix; the user tables live in `<prefix>_users`. */
  schemaPrefix?: string
  /** Connections for committed reads (default 4). */
  readers?: number
  /** Connections for write transactions, i.e. transactions open at once (default 4). */
  writers?: number
}

/** The schema of the user tables: apart from the dataset generations, which ingests replace. */
export const usersSchema = (prefix: string) => `${checkSchemaPrefix(prefix)}_users`

/**
 * The user store on PostgreSQL: the same tables, migrations (by version) and queries as the SQLite
 * store (KyselyUserStore). Committed reads and write transactions use separate pools, so reads never
 * queue behind writes. Each write transaction holds one pooled client from BEGIN to COMMIT or
 * ROLLBACK (Kysely's controlled transaction), which always goes back to its pool; PostgreSQL runs
 * several at once (`writers`), where SQLite serialises them.
 */
export async function openPostgresUserStore(
  url: string,
  opts: OpenPostgresUserStoreOptions = {},
): Promise<UserStore> {
  const schema = usersSchema(opts.schemaPrefix ?? DEFAULT_SCHEMA_PREFIX)
  const settings = { search_path: schema }
  const writerPool = createPool(url, { max: opts.writers ?? 4, application: 'marquee-users', settings })
  const readerPool = createPool(url, { max: opts.readers ?? 4, application: 'marquee-users-read', settings })
  const writer = new Kysely<UsersDB>({ dialect: new PostgresDialect({ pool: writerPool }) })
  const reader = new Kysely<UsersDB>({ dialect: new PostgresDialect({ pool: readerPool }) })
  try {
    await migratePostgres(writer, schema, `${redact(url)} (schema ${schema})`)
  } catch (err) {
    await writer.destroy()
    await reader.destroy()
    throw err
  }
  return new KyselyUserStore({ reader, writer, maxWriters: opts.writers ?? 4 })
}

/** Whether the user schema was created (by `marquee keys create` or a first personal write). */
export async function usersSchemaExists(url: string, schemaPrefix?: string): Promise<boolean> {
  const schema = usersSchema(schemaPrefix ?? DEFAULT_SCHEMA_PREFIX)
  const client = new pg.Client({ connectionString: url, application_name: 'marquee-users' })
  client.on('error', () => {})
  await client.connect()
  try {
    const { rows } = await client.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [
      `${schema}.kysely_migration`,
    ])
    return rows[0]?.t != null
  } finally {
    await client.end().catch(() => {})
  }
}

export const redact = (url: string) => url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@')
