import path from 'node:path'
import type { ConfigInput } from '../../src/config.js'
import { formatId } from '../../src/datasets/catalogue.js'
import Database from '../../src/db/sqlite/driver.js'
import { FTS_TABLES, SECONDARY_INDEXES, TABLES } from '../../src/db/sqlite/schema.js'
import { hashApiKey, newApiKey } from '../../src/users/api-keys.js'
import type { UserStore } from '../../src/users/store.js'
import type { Dialect } from '../helpers/dialects.js'
import { dropPrefix, TEST_DATABASE_URL, uniquePrefix, writeGeneration } from '../helpers/postgres.js'
import { startTestServer, type TestServer, tempDir } from '../helpers/server.js'

/** Titles tt0000001 .. tt{n}: "Title i", a movie, rated (i % 10) + 0.5 by i voters. */
export function writeDataset(file: string, n: number): void {
  const db = new Database(file)
  try {
    for (const ddl of [...TABLES, ...SECONDARY_INDEXES, ...FTS_TABLES]) db.exec(ddl)
    const insert = db.prepare(
      `INSERT INTO titles (id, title_type, primary_title, original_title, is_adult, start_year, end_year,
         runtime_minutes, genres, average_rating, num_votes) VALUES (?, 'movie', ?, NULL, 0, ?, NULL, 90, 'Drama,Comedy', ?, ?)`,
    )
    db.transaction(() => {
      for (let i = 1; i <= n; i++) insert.run(i, `Title ${i}`, 1900 + (i % 120), (i % 10) + 0.5, i)
    })()
    const meta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)')
    meta.run('generation', 'users-test')
    meta.run('schema_version', '1')
  } finally {
    db.close()
  }
}

/** The same titles as writeDataset, as a PostgreSQL generation of `prefix`. */
export async function writePostgresTitles(prefix: string, n: number): Promise<void> {
  await writeGeneration(prefix, 'users-test', async (client) => {
    await client.query(
      `INSERT INTO titles (id, title_type, primary_title, original_title, is_adult, start_year, end_year,
         runtime_minutes, genres, average_rating, num_votes)
       SELECT i, 'movie', 'Title ' || i, NULL, 0, 1900 + i % 120, NULL, 90, 'Drama,Comedy', i % 10 + 0.5, i
       FROM generate_series(1, $1::int) AS i`,
      [n],
    )
  })
}

export const tt = (n: number) => formatId('tt', n)

export interface UsersFixture {
  server: TestServer
  store: UserStore
  dir: string
  /** Command-line settings naming the same user store (`marquee keys ... <storeArgs>`). */
  storeArgs: string[]
  /** A new store user's key. */
  key(name?: string, role?: 'user' | 'analyst' | 'admin'): Promise<{ key: string; userId: number }>
  headers(key: string): Record<string, string>
  close(): Promise<void>
}

/** A real server over a temp dataset of `titles` titles and a temp user store (created up front). */
export async function usersFixture(
  titles = 2000,
  opts: Parameters<typeof startTestServer>[1] & {
    /** More settings, given the temp directory (to write files they name). */
    config?: (dir: string) => Promise<ConfigInput>
    /** The backend of the dataset and the user store (default SQLite). */
    dialect?: Dialect
  } = {},
): Promise<UsersFixture> {
  const { dir, cleanup } = await tempDir('marquee-users-')
  const dbPath = path.join(dir, 'marquee.db')
  const usersDbPath = path.join(dir, 'users.db')
  let backend: ConfigInput = { dbPath, usersDbPath }
  let storeArgs = ['--users-db', usersDbPath]
  let dropBackend = async () => {}
  if (opts.dialect === 'postgres') {
    const prefix = uniquePrefix('users')
    await writePostgresTitles(prefix, titles)
    backend = { dbPath, databaseUrl: TEST_DATABASE_URL, databaseSchema: prefix }
    storeArgs = ['--database-url', TEST_DATABASE_URL, '--database-schema', prefix]
    dropBackend = () => dropPrefix(prefix)
  } else writeDataset(dbPath, titles)
  const more = (await opts.config?.(dir)) ?? {}
  const server = await startTestServer({ ...backend, ...more }, opts)
  const store = (await server.app.users.store({ create: true }))!
  let n = 0
  return {
    server,
    store,
    dir,
    storeArgs,
    async key(name = `user${++n}`, role = 'user') {
      const key = newApiKey()
      const rec = await store.createKey({
        name,
        role,
        keyHash: hashApiKey(key),
        at: new Date().toISOString(),
      })
      return { key, userId: rec.id }
    },
    headers: (key) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' }),
    async close() {
      await server.close()
      await dropBackend()
      await cleanup()
    },
  }
}
