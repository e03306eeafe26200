import { createRequire } from 'node:module'
import type BetterSqlite3 from 'better-sqlite3'

/**
 * better-sqlite3 in the major that runs on this Node; every module opens SQLite through here.
 *
 * 12 aborts on Node 24 when statements are collected while promise callbacks run (`Assertion
 * failed: (env) != nullptr` in node::RemoveEnvironmentCleanupHook; upstream issue 1515): it wraps
 * node::ObjectWrap, whose cleanup hook Node 24 changed. 13 is built on Node-API and fine on 22 and
 * 24, but needs Node-API 10, which Node 20 lacks (loading it there crashes the process). One
 * lockfile holds both: 13 as the optional dependency `better-sqlite3-13`, which npm skips without a
 * word where its engines do not match (Node 20). So: 13 where Node-API 10 exists and 13 was
 * installed, else 12. `MARQUEE_SQLITE_DRIVER=12` forces 12 (for comparisons).
 */
function load(): { Database: typeof BetterSqlite3; version: string } {
  const require = createRequire(import.meta.url)
  const of = (name: string) => ({
    Database: require(name) as typeof BetterSqlite3,
    version: (require(`${name}/package.json`) as { version: string }).version,
  })
  if (Number(process.versions.napi) >= 10 && process.env.MARQUEE_SQLITE_DRIVER !== '12') {
    try {
      return of('better-sqlite3-13')
    } catch (err) {
      if ((err as { code?: string }).code !== 'MODULE_NOT_FOUND') throw err
    }
  }
  return of('better-sqlite3')
}

const driver = load()
const Database = driver.Database
type Database = BetterSqlite3.Database
export type Statement<P extends unknown[] | object = unknown[], R = unknown> = BetterSqlite3.Statement<P, R>
export default Database

/** The better-sqlite3 version in use (12.x or 13.x), for logs and tests. */
export const SQLITE_DRIVER_VERSION = driver.version
