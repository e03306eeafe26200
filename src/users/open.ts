import { openPostgresUserStore } from './postgres/store.js'
import { openSqliteUserStore } from './sqlite/store.js'
import type { UserStore } from './store.js'

/** Whether a user-store location is a PostgreSQL URL rather than a SQLite file. */
export const isPostgresUrl = (location: string) => /^postgres(?:ql)?:\/\//.test(location)

/**
 * Opens the user store at `location`: a SQLite file, or a `postgres://` URL (the tables then live
 * in the `<schemaPrefix>_users` schema; `create` and `inline` only concern SQLite files).
 */
export function openUserStore(
  location: string,
  opts: { create?: boolean; inline?: boolean; schemaPrefix?: string } = {},
): Promise<UserStore> {
  if (isPostgresUrl(location)) return openPostgresUserStore(location, { schemaPrefix: opts.schemaPrefix })
  return openSqliteUserStore(location, opts)
}
