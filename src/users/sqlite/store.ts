import { existsSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import { Kysely, SqliteDialect } from 'kysely'
import Database from '../../db/sqlite/driver.js'
import { KyselyUserStore } from '../kysely-store.js'
import type { UserStore } from '../store.js'
import type { UsersDB } from '../types.js'
import { migrateSqlite } from './migrations.js'
import { SqliteWorkerDialect } from './worker-dialect.js'

export interface OpenSqliteUserStoreOptions {
  /** Create the file (and its directory) when missing; otherwise a missing file is an error. */
  create?: boolean
  /**
   * One connection on the calling thread instead of worker threads: for short-lived processes (the
   * CLI) that run a statement or two and would only pay for starting threads. Never in the server.
   */
  inline?: boolean
}

/**
 * The user store in a SQLite file, in WAL mode so reads never wait for a write: migrations are
 * applied first (refusing a newer schema), then one writer connection and one reader connection,
 * each on its own worker thread. Write transactions are serialised by the store's async gate and
 * take the write lock up front (BEGIN IMMEDIATE); `synchronous = NORMAL` keeps commits free of
 * fsync (WAL stays consistent; a power cut may lose the last commits, never corrupt the file).
 */
export async function openSqliteUserStore(
  file: string,
  opts: OpenSqliteUserStoreOptions = {},
): Promise<UserStore> {
  const resolved = path.resolve(file)
  if (!existsSync(resolved)) {
    if (!opts.create) throw new Error(`the user database ${resolved} does not exist`)
    mkdirSync(path.dirname(resolved), { recursive: true })
  }
  await migrateSqlite(resolved)
  const pragmas = ['foreign_keys = ON', 'synchronous = NORMAL']
  if (opts.inline) {
    const sqlite = new Database(resolved)
    sqlite.pragma('busy_timeout = 5000')
    for (const p of pragmas) sqlite.pragma(p)
    const db = new Kysely<UsersDB>({ dialect: new SqliteDialect({ database: sqlite }) })
    return new KyselyUserStore({ reader: db, writer: db, maxWriters: 1 })
  }
  const writer = new Kysely<UsersDB>({
    dialect: new SqliteWorkerDialect({ file: resolved, mode: 'write', pragmas }),
  })
  const reader = new Kysely<UsersDB>({
    dialect: new SqliteWorkerDialect({ file: resolved, mode: 'read', pragmas }),
  })
  return new KyselyUserStore({ reader, writer, maxWriters: 1 })
}
