import { AsyncLocalStorage } from 'node:async_hooks'
import { Kysely, type KyselyConfig, type SqliteDatabase, SqliteDialect, type SqliteStatement } from 'kysely'
import { withDialect } from '../dialect.js'
import type { DatasetDB } from '../types.js'
import { STATEMENTS, sqliteDialect, TICK_FUNCTION } from './dialect.js'
import Database from './driver.js'

/**
 * Read-only connections to a dataset database, as the query workers (and the inline executor on the
 * main thread) use them: one better-sqlite3 connection per file, opened lazily and reused, wrapped in
 * a Kysely instance that carries the SQLite dialect (src/db/sqlite/dialect.ts) for the query functions
 * in `src/db/queries/`.
 *
 * Interruptibility. better-sqlite3 has no binding for sqlite3_interrupt() or a progress handler, and
 * terminating a worker thread only takes effect when the thread next runs JavaScript: a thread inside
 * one long sqlite3_step() keeps burning its core until that step returns (measured: a terminated
 * worker running a 300M-row count kept going for 56 s). So every query that may scan many rows
 * carries a sampled `marquee_tick()` term (the dialect's `interruptible()`): SQLite
 * calls back into JavaScript every 1024 rows, which (a) lets a terminated worker stop within a
 * millisecond, (b) enforces a cooperative budget (`withBudget`) so facet and total counts can stop
 * early and say so instead of stalling, and (c) enforces the deadline of inline (main-thread) queries
 * (`withDeadline`), where there is no worker to terminate.
 */

/** Thrown from inside SQLite (through marquee_tick) when the current budget is spent. */
export class BudgetExceeded extends Error {
  constructor() {
    super('query budget exceeded')
    this.name = 'BudgetExceeded'
  }
}

export function isBudgetExceeded(err: unknown): boolean {
  return err instanceof BudgetExceeded || (err instanceof Error && err.name === 'BudgetExceeded')
}

/** Thrown from inside SQLite (through marquee_tick) when the query's caller cancelled it. */
export class QueryCancelled extends Error {
  constructor() {
    super('query cancelled')
    this.name = 'QueryCancelled'
  }
}

/** The limits marquee_tick() enforces for the code running inside them. */
interface Limits {
  /** The request's deadline (epoch ms): the inline executor's substitute for a cancel flag. */
  readonly deadline: number
  /** A cooperative budget (epoch ms), for work whose partial result is still useful. */
  readonly budget: number
  /** Set (index 0 non-zero) by another thread to stop the query: see withCancel. */
  readonly cancel?: Int32Array
}

// AsyncLocalStorage, not module state: inline queries of concurrent requests interleave on the main
// thread, and SQLite calls marquee_tick() synchronously inside the statement, in the caller's context.
const scope = new AsyncLocalStorage<Limits>()
const NO_LIMITS: Limits = { deadline: Number.POSITIVE_INFINITY, budget: Number.POSITIVE_INFINITY }

function tick(): number {
  const limits = scope.getStore()
  if (limits === undefined) return 1
  if (limits.cancel !== undefined && Atomics.load(limits.cancel, 0) !== 0) throw new QueryCancelled()
  if (Date.now() > Math.min(limits.deadline, limits.budget)) throw new BudgetExceeded()
  return 1
}

/**
 * Runs `fn` with a cooperative budget: scans carrying a tick term throw BudgetExceeded once `until`
 * (epoch ms) has passed. Budgets nest (the tighter one wins).
 */
export function withBudget<T>(until: number, fn: () => Promise<T>): Promise<T> {
  const current = scope.getStore() ?? NO_LIMITS
  return scope.run({ ...current, budget: Math.min(current.budget, until) }, fn)
}

/**
 * Runs `fn` so that every tick throws QueryCancelled once `flag[0]` is set (Atomics.store from the
 * thread that submitted the query): how a worker's query stops at its deadline or when its client
 * goes away, without terminating the worker. Terminating is the fallback only: better-sqlite3 13
 * (Node-API, Node 22 and 24) keeps a terminated thread inside its statement, burning a core.
 */
export function withCancel<T>(flag: Int32Array, fn: () => Promise<T>): Promise<T> {
  const current = scope.getStore() ?? NO_LIMITS
  return scope.run({ ...current, cancel: flag }, fn)
}

/** Runs `fn` under a deadline (epoch ms) that every tick enforces. */
export function withDeadline<T>(at: number, fn: () => Promise<T>): Promise<T> {
  const current = scope.getStore() ?? NO_LIMITS
  return scope.run({ ...current, deadline: Math.min(current.deadline, at) }, fn)
}

export interface OpenOptions {
  /** Prepared statements kept per connection. */
  statementCacheSize?: number
  /** Bytes of the file memory-mapped (0 disables). */
  mmapSize?: number
  /** Page cache per connection, in KiB. */
  cacheSizeKiB?: number
}

export interface DatasetConnection {
  readonly path: string
  readonly sqlite: Database
  readonly db: Kysely<DatasetDB>
  close(): void
}

/** Kysely prepares every query it runs; caching statements by SQL text saves the parse (~10-30 µs). */
class StatementCache implements SqliteDatabase {
  readonly #db: Database
  readonly #max: number
  readonly #cache = new Map<string, SqliteStatement>()

  constructor(db: Database, max: number) {
    this.#db = db
    this.#max = max
  }

  prepare(sql: string): SqliteStatement {
    let stmt = this.#cache.get(sql)
    if (stmt) {
      // Refresh recency: Map iteration order is insertion order.
      this.#cache.delete(sql)
      this.#cache.set(sql, stmt)
      return stmt
    }
    stmt = this.#db.prepare(sql) as unknown as SqliteStatement
    this.#cache.set(sql, stmt)
    if (this.#cache.size > this.#max) {
      const oldest = this.#cache.keys().next().value
      if (oldest !== undefined) this.#cache.delete(oldest)
    }
    return stmt
  }

  close(): void {
    this.#cache.clear()
    this.#db.close()
  }
}

/**
 * A Kysely handle on a SQLite dataset database, with the SQLite dialect attached. openDataset's
 * handles also run the hottest lookup on their statement cache directly; others (a test's own
 * connection, with a query log) go through Kysely for every statement.
 */
export function sqliteKysely(
  database: SqliteDatabase,
  opts: { log?: KyselyConfig['log'] } = {},
): Kysely<DatasetDB> {
  const db = new Kysely<DatasetDB>({ dialect: new SqliteDialect({ database }), log: opts.log })
  return withDialect(db, sqliteDialect)
}

/** Opens a dataset file read-only (it must exist) with read-tuned pragmas. */
export function openDataset(path: string, opts: OpenOptions = {}): DatasetConnection {
  const sqlite = new Database(path, { readonly: true, fileMustExist: true })
  try {
    sqlite.pragma(`mmap_size = ${opts.mmapSize ?? 1 << 30}`)
    sqlite.pragma(`cache_size = ${-(opts.cacheSizeKiB ?? 32 * 1024)}`)
    sqlite.pragma('temp_store = memory')
    sqlite.function(TICK_FUNCTION, { deterministic: false }, tick)
  } catch (err) {
    sqlite.close()
    throw err
  }
  const cache = new StatementCache(sqlite, opts.statementCacheSize ?? 500)
  const db = sqliteKysely(cache)
  Object.defineProperty(db, STATEMENTS, { value: cache })
  let closed = false
  return {
    path,
    sqlite,
    db,
    close() {
      if (closed) return
      closed = true
      cache.close()
    },
  }
}

/**
 * Connections by file path, opened on first use and reused. A hot swap leaves the previous
 * generation's file in use by requests still in flight, so a few paths may be open at once; beyond
 * `max`, the least recently used connection is closed.
 */
export class ConnectionCache {
  readonly #open = new Map<string, DatasetConnection>()
  readonly #max: number
  readonly #opts: OpenOptions

  constructor(max = 3, opts: OpenOptions = {}) {
    this.#max = max
    this.#opts = opts
  }

  get(path: string): DatasetConnection {
    let conn = this.#open.get(path)
    if (conn) {
      this.#open.delete(path)
      this.#open.set(path, conn)
      return conn
    }
    conn = openDataset(path, this.#opts)
    this.#open.set(path, conn)
    while (this.#open.size > this.#max) {
      const [oldest, c] = this.#open.entries().next().value as [string, DatasetConnection]
      this.#open.delete(oldest)
      c.close()
    }
    return conn
  }

  /** Closes the connection to `path` if open (a generation that is gone). */
  evict(path: string): void {
    const conn = this.#open.get(path)
    if (!conn) return
    this.#open.delete(path)
    conn.close()
  }

  get size(): number {
    return this.#open.size
  }

  closeAll(): void {
    for (const conn of this.#open.values()) conn.close()
    this.#open.clear()
  }
}
