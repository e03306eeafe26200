import { openSqliteUserStore } from './sqlite/store.js'
import type { UserStore } from './store.js'

/**
 * Opens the user store at `location`. Today a SQLite file; a later PostgreSQL backend plugs in here
 * (for example on a `postgres://` location) and returns the same UserStore.
 */
export function openUserStore(
  location: string,
  opts: { create?: boolean; inline?: boolean } = {},
): Promise<UserStore> {
  return openSqliteUserStore(location, opts)
}
