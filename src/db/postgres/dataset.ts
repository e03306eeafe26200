import pg from 'pg'
import { datasetMeta } from '../queries/meta.js'
import { PostgresExecutor } from './executor.js'
import { currentGeneration, swapChannel } from './generations.js'
import { checkSchemaPrefix, DEFAULT_SCHEMA_PREFIX, ident } from './schema.js'

export interface PostgresDatasetOptions {
  databaseUrl: string
  /** Namespace of marquee's schemas (default `marquee`). */
  schemaPrefix?: string
  /** Connections running queries. */
  poolSize: number
  /** Deadline of a request's queries: statement_timeout backs it up on the server. */
  queryTimeoutMs: number
  extraQueryModules?: readonly string[]
  /** How often the generation pointer is read when no notification arrives (default 5 s). */
  pollMs?: number
}

/** What the dataset service needs to know about the served generation. */
export interface PostgresGeneration {
  generation: string
  /** The generation's schema: the `dbPath` of the tasks that query it. */
  schema: string
  manifest: unknown
  cursorSecret: string | null
}

/**
 * The dataset on PostgreSQL, as the dataset service sees it: an executor running the query
 * functions on a pg pool, the generation currently served (`<prefix>.current`, then the `meta` of
 * its schema), and a watch that reports a swap as soon as the ingest's NOTIFY arrives (or, failing
 * that, at the next poll), so every API server behind a load balancer follows an update.
 */
export class PostgresDataset {
  readonly executor: PostgresExecutor
  readonly prefix: string
  readonly #url: string
  readonly #pollMs: number
  #listener: pg.Client | null = null
  #poll: NodeJS.Timeout | null = null
  #closed = false

  private constructor(opts: PostgresDatasetOptions, executor: PostgresExecutor) {
    this.executor = executor
    this.prefix = checkSchemaPrefix(opts.schemaPrefix ?? DEFAULT_SCHEMA_PREFIX)
    this.#url = opts.databaseUrl
    this.#pollMs = opts.pollMs ?? 5000
  }

  static async open(opts: PostgresDatasetOptions): Promise<PostgresDataset> {
    const executor = await PostgresExecutor.create({
      databaseUrl: opts.databaseUrl,
      poolSize: opts.poolSize,
      // The request's deadline cancels a statement; this only catches one that outlives it.
      statementTimeoutMs: opts.queryTimeoutMs + 1000,
      extraQueryModules: opts.extraQueryModules,
    })
    return new PostgresDataset(opts, executor)
  }

  /** The served generation, or null when none was ingested (or its schema is gone). */
  async read(): Promise<PostgresGeneration | null> {
    const current = await currentGeneration(this.executor.pool, this.prefix)
    if (!current) return null
    try {
      const meta = await this.executor.withSchema(current.schema, (db) => datasetMeta(db))
      if (!meta.generation) return null
      const { generation, manifest, cursorSecret } = meta
      return { generation, schema: current.schema, manifest, cursorSecret }
    } catch (err) {
      // 42P01: the pointer names a schema without a meta table (dropped by hand).
      if ((err as { code?: string }).code === '42P01') return null
      throw err
    }
  }

  /**
   * Calls `onChange` when the served schema may have changed: on the ingest's NOTIFY, and every
   * `pollMs` (a notification is lost while the listening connection is down).
   */
  async watch(onChange: () => void): Promise<void> {
    this.#poll = setInterval(onChange, this.#pollMs)
    this.#poll.unref()
    await this.#listen(onChange)
  }

  async #listen(onChange: () => void): Promise<void> {
    if (this.#closed) return
    const client = new pg.Client({ connectionString: this.#url, application_name: 'marquee-api-listen' })
    client.on('error', () => {
      // Reconnect after a pause; the poll covers the gap.
      if (this.#listener === client) this.#listener = null
      client.end().catch(() => {})
      setTimeout(() => void this.#listen(onChange).catch(() => {}), 1000).unref()
    })
    client.on('notification', () => onChange())
    try {
      await client.connect()
      await client.query(`LISTEN ${ident(swapChannel(this.prefix))}`)
      if (this.#closed) {
        await client.end()
        return
      }
      this.#listener = client
    } catch {
      client.emit('error', new Error('listen failed'))
    }
  }

  async close(): Promise<void> {
    this.#closed = true
    if (this.#poll) clearInterval(this.#poll)
    await this.#listener?.end().catch(() => {})
    this.#listener = null
    await this.executor.close()
  }
}
