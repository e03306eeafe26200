import type { BaseLogger } from 'pino'
import type { QueryExecutor } from '../pool/task.js'
import type { Generation } from './generation.js'

/**
 * Where the served dataset lives and how its queries run: a SQLite file queried on a worker pool
 * (dataset/sqlite/), or PostgreSQL schemas queried on a pg pool (dataset/postgres/). The dataset
 * service (dataset/service.ts) does the rest the same way for both: pinning, swapping, deadlines.
 */
export interface DatasetBackend {
  /** Runs every query. */
  readonly executor: QueryExecutor
  /** Runs point lookups (handle.lookup): the main thread where configured, else `executor`. */
  readonly pointLookups: QueryExecutor
  /** Names where a generation lives in log lines: `db` (a file) or `schema`. */
  readonly locationLabel: 'db' | 'schema'
  /**
   * The generation the source holds now, ready to serve, when it is not `served`; null when there
   * is nothing new to load (no dataset yet, or the one served).
   */
  next(served: Generation | null): Promise<Generation | null>
  /** A retired generation no request holds any more: free what it holds (connections, files). */
  drained(generation: Generation): Promise<void>
  /** Calls `onChange` whenever the source may hold another generation (file watch, NOTIFY, poll). */
  watch(onChange: () => void): Promise<void>
  /** Stops watching and closes the executors; requests have finished. */
  close(): Promise<void>
}

/** Where a backend reports what it works around (the server's logger). */
export type WarningLog = Pick<BaseLogger, 'warn'>
