import { AsyncLocalStorage } from 'node:async_hooks'
import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely'
import pg from 'pg'
import { withDialect } from '../dialect.js'
import type { DatasetDB } from '../types.js'
import { postgresDialect } from './dialect.js'

/**
 * PostgreSQL connections of the API: pools with marquee's type parsing, and a Kysely instance that
 * runs on whichever client the current task holds (so one query function, written once for every
 * dialect, runs on the connection whose search_path is the request's generation).
 */

/** The server's 8-byte integers and numerics as JS numbers (counts, sums: all far below 2^53). */
export const PG_TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === pg.types.builtins.INT8 || oid === pg.types.builtins.NUMERIC) return (v: string) => Number(v)
    return pg.types.getTypeParser(oid, format)
  }) as pg.CustomTypesConfig['getTypeParser'],
}

/** `-c name=value` startup options (settings that hold for the whole session). */
export function sessionOptions(settings: Record<string, string | number>): string {
  return Object.entries(settings)
    .map(([k, v]) => `-c ${k}=${String(v).replace(/[\\ ]/g, (c) => `\\${c}`)}`)
    .join(' ')
}

export interface PoolOptions {
  max: number
  application: string
  /** Session settings (search_path, statement_timeout, ...). */
  settings?: Record<string, string | number>
}

/** A pool on `url`; idle clients that break are dropped quietly (the next query reconnects). */
export function createPool(url: string, opts: PoolOptions): pg.Pool {
  const settings = opts.settings ?? {}
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max,
    application_name: opts.application,
    types: PG_TYPES,
    idleTimeoutMillis: 30_000,
    ...(Object.keys(settings).length > 0 ? { options: sessionOptions(settings) } : {}),
  })
  pool.on('error', () => {})
  return pool
}

/**
 * A Kysely instance whose queries run on the client bound by `run()` (an AsyncLocalStorage scope):
 * the task keeps its client from first query to last, and Kysely never releases it. Once the
 * task's signal has fired, its next query is refused instead of sent.
 */
export class ScopedKysely {
  readonly #scope = new AsyncLocalStorage<PostgresPoolClient>()
  readonly db: Kysely<DatasetDB>

  constructor() {
    const pool: PostgresPool = {
      connect: async () => {
        const client = this.#scope.getStore()
        if (!client) throw new Error('a PostgreSQL query ran outside of a task scope')
        return client
      },
      end: async () => {},
    }
    this.db = withDialect(new Kysely<DatasetDB>({ dialect: new PostgresDialect({ pool }) }), postgresDialect)
  }

  run<T>(client: pg.PoolClient, fn: (db: Kysely<DatasetDB>) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const scoped: PostgresPoolClient = {
      query: ((sql: string, params: readonly unknown[]) => {
        if (signal?.aborted) return Promise.reject(signal.reason)
        return client.query(sql, params as unknown[])
      }) as PostgresPoolClient['query'],
      // The task releases its client, not Kysely.
      release: () => {},
    }
    return this.#scope.run(scoped, () => fn(this.db))
  }
}
