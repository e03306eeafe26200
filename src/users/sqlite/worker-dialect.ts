import type { Worker } from 'node:worker_threads'
import {
  CompiledQuery,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely'
import { spawnWorker, workerUrl } from '../../lib/worker-url.js'
import { Gate } from '../gate.js'
import type { WorkerReply, WorkerRequest, WorkerSetup } from './worker-protocol.js'

/** An error raised inside the worker, with SQLite's `code` (e.g. SQLITE_CONSTRAINT_CHECK) kept. */
export class SqliteWorkerError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    name: string,
  ) {
    super(message)
    this.name = name
  }
}

type Pending = { resolve: (r: WorkerReply) => void; reject: (e: unknown) => void }

/**
 * One SQLite connection living on its own worker thread. Statements are posted with an id and
 * answered in order; the thread is unref'd while idle so an open store never keeps a process alive.
 */
export class SqliteWorkerClient {
  readonly #worker: Worker
  readonly #pending = new Map<number, Pending>()
  #next = 1
  #failure: Error | null = null
  #closing = false
  #exited: Promise<void>

  constructor(setup: WorkerSetup) {
    this.#worker = spawnWorker(workerUrl('./sqlite.worker.js', import.meta.url), { workerData: setup })
    this.#worker.unref()
    this.#worker.on('message', (reply: WorkerReply) => {
      const p = this.#pending.get(reply.id)
      if (!p) return
      this.#pending.delete(reply.id)
      if (this.#pending.size === 0 && !this.#closing) this.#worker.unref()
      if ('error' in reply)
        p.reject(new SqliteWorkerError(reply.error.message, reply.error.code, reply.error.name))
      else p.resolve(reply)
    })
    this.#worker.on('error', (err) => this.#fail(err))
    this.#exited = new Promise((resolve) =>
      this.#worker.once('exit', (code) => {
        this.#fail(new Error(`the SQLite worker for ${setup.file} exited (code ${code})`))
        resolve()
      }),
    )
  }

  #fail(err: Error): void {
    this.#failure ??= err
    for (const p of this.#pending.values()) p.reject(err)
    this.#pending.clear()
  }

  #post(msg: WorkerRequest): Promise<WorkerReply> {
    if (this.#failure) return Promise.reject(this.#failure)
    return new Promise<WorkerReply>((resolve, reject) => {
      this.#pending.set(msg.id, { resolve, reject })
      if (this.#pending.size === 1) this.#worker.ref()
      this.#worker.postMessage(msg)
    })
  }

  run(sql: string, params: readonly unknown[]): Promise<WorkerReply> {
    return this.#post({ id: this.#next++, sql, params })
  }

  /** Closes the connection (SQLite rolls back a transaction left open) and ends the thread. */
  async close(): Promise<void> {
    // Referenced until it has exited: the caller awaits the exit, so it must keep the process alive.
    this.#closing = true
    this.#worker.ref()
    if (!this.#failure) await this.#post({ id: this.#next++, close: true }).catch(() => {})
    await this.#exited
  }
}

class WorkerConnection implements DatabaseConnection {
  constructor(private readonly client: SqliteWorkerClient) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const reply = await this.client.run(query.sql, query.parameters)
    if ('rows' in reply) return { rows: reply.rows as R[] }
    if ('changes' in reply) {
      return {
        rows: [],
        numAffectedRows: BigInt(reply.changes),
        insertId: BigInt(reply.lastInsertRowid),
      }
    }
    throw new Error('unexpected reply from the SQLite worker')
  }

  async *streamQuery<R>(query: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    yield await this.executeQuery<R>(query)
  }
}

export interface SqliteWorkerDialectOptions {
  file: string
  /**
   * `write`: one connection handed to one user at a time (FIFO), transactions `BEGIN IMMEDIATE` so
   * the write lock is taken up front. `read`: any number of concurrent statements (queued on the
   * worker); `query_only` unless `readonly`.
   */
  mode: 'write' | 'read'
  /** Open the file read-only (a database owned by someone else). */
  readonly?: boolean
  /** Wait this long for another process's lock, on the worker thread only. */
  busyTimeoutMs?: number
  pragmas?: string[]
}

class SqliteWorkerDriver implements Driver {
  #client: SqliteWorkerClient | null = null
  #connection: WorkerConnection | null = null
  readonly #mutex: Gate | null

  constructor(private readonly opts: SqliteWorkerDialectOptions) {
    this.#mutex = opts.mode === 'write' ? new Gate(1) : null
  }

  async init(): Promise<void> {
    const pragmas = [...(this.opts.pragmas ?? [])]
    if (this.opts.mode === 'read' && !this.opts.readonly) pragmas.push('query_only = ON')
    this.#client = new SqliteWorkerClient({
      file: this.opts.file,
      readonly: this.opts.readonly ?? false,
      busyTimeoutMs: this.opts.busyTimeoutMs ?? 5000,
      pragmas,
    })
    this.#connection = new WorkerConnection(this.#client)
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#mutex?.acquire()
    return this.#connection!
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(this.opts.mode === 'write' ? 'begin immediate' : 'begin'))
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'))
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'))
  }

  async releaseConnection(): Promise<void> {
    this.#mutex?.release()
  }

  async destroy(): Promise<void> {
    await this.#client?.close()
    this.#client = null
  }
}

/**
 * Kysely over a SQLite connection on a worker thread: SQLite's adapter, compiler and introspector,
 * with statements executed off the event loop. Kysely starts the worker on the first query.
 */
export class SqliteWorkerDialect implements Dialect {
  constructor(private readonly opts: SqliteWorkerDialectOptions) {}

  createAdapter(): DialectAdapter {
    return new SqliteAdapter()
  }

  createDriver(): Driver {
    return new SqliteWorkerDriver(this.opts)
  }

  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler()
  }

  // biome-ignore lint/suspicious/noExplicitAny: Kysely's Dialect signature
  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new SqliteIntrospector(db)
  }
}
