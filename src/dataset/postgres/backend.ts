import { PostgresDataset } from '../../db/postgres/dataset.js'
import type { QueryExecutor } from '../../pool/task.js'
import type { DatasetBackend } from '../backend.js'
import { Generation } from '../generation.js'

export interface PostgresBackendOptions {
  databaseUrl: string
  /** Namespace of marquee's schemas. */
  schemaPrefix: string
  /** Connections running queries (at least PG_MIN_CONNECTIONS). */
  poolSize: number
  /** Deadline of a request's queries: statement_timeout backs it up on the server. */
  queryTimeoutMs: number
  extraQueryModules?: readonly string[]
}

/** Connections of the PostgreSQL query pool at least, whatever --pool-size says. */
const PG_MIN_CONNECTIONS = 8

/**
 * The dataset on PostgreSQL: a generation is a schema that never changes once served, named by
 * `<prefix>.current`; queries run on a pg pool (no worker threads: pg is asynchronous, the main
 * thread waits for nothing). A swap by `marquee ingest` on any machine is noticed on its NOTIFY
 * or, failing that (replicas do not relay NOTIFY; a dropped listening connection misses it), at
 * the next poll. Requests in flight finish on the schema they pinned, which the ingest keeps until
 * the next swap, so nothing needs freeing when a generation drains.
 */
export class PostgresBackend implements DatasetBackend {
  readonly locationLabel = 'schema'
  readonly executor: QueryExecutor
  readonly pointLookups: QueryExecutor

  private constructor(private readonly dataset: PostgresDataset) {
    this.executor = dataset.executor
    this.pointLookups = dataset.executor
  }

  static async open(opts: PostgresBackendOptions): Promise<PostgresBackend> {
    const dataset = await PostgresDataset.open({
      databaseUrl: opts.databaseUrl,
      schemaPrefix: opts.schemaPrefix,
      // A connection mostly waits on a round trip: more of them than worker threads.
      poolSize: Math.max(opts.poolSize, PG_MIN_CONNECTIONS),
      queryTimeoutMs: opts.queryTimeoutMs,
      extraQueryModules: opts.extraQueryModules,
    })
    return new PostgresBackend(dataset)
  }

  async next(served: Generation | null): Promise<Generation | null> {
    const g = await this.dataset.read()
    if (g === null || g.generation === served?.id) return null
    return new Generation(g.generation, g.schema, g.manifest, g.cursorSecret)
  }

  async drained(): Promise<void> {}

  watch(onChange: () => void): Promise<void> {
    return this.dataset.watch(onChange)
  }

  close(): Promise<void> {
    return this.dataset.close()
  }
}
