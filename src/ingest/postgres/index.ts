/**
 * Loads the IMDb dataset files into a new PostgreSQL schema and swaps it in atomically.
 *
 * 1. Under an advisory lock (one ingest per namespace at a time), leftovers of interrupted ingests
 *    are dropped and a schema `<prefix>_g_<generation>` is created with every table, unindexed.
 * 2. title.ratings is read into memory (it is merged into titles and summed into popularity), then
 *    the other files stream in parallel: gunzip and parse (the reader's columnar batches), encode
 *    COPY text rows (encode.ts), and write them with `COPY ... FROM STDIN (FREEZE)` on one
 *    connection per target table, each in its own transaction. Back-pressure runs the whole way:
 *    a COPY stream that is not drained pauses its encoder, which pauses the gunzip stream, which
 *    pauses the file. No intermediate file is written.
 * 3. As each table finishes loading, its primary key and secondary indexes are built (in
 *    parallel, on a small pool), the text-search documents merged and indexed, statistics
 *    gathered; this overlaps with the files still loading.
 * 4. The manifest goes into the schema's `meta` table, then one transaction repoints
 *    `<prefix>.current` to the new schema (see src/db/postgres/generations.ts). The generation
 *    before it stays for requests in flight; older ones are dropped.
 *
 * A failure or an abort (signal, SIGINT, SIGTERM) terminates the loading sessions and drops the new
 * schema; the served generation is never touched. If the process dies outright, its sessions stop
 * on their own (client_connection_check_interval) and the next ingest drops the schema.
 */

import { once } from 'node:events'
import { availableParallelism } from 'node:os'
import { finished } from 'node:stream/promises'
import pg from 'pg'
import { type CopyStreamQuery, from as copyFrom } from 'pg-copy-streams'
import { DATASET_NAMES, type DatasetName, isDatasetName } from '../../datasets/catalogue.js'
import { type BadLine, type ColumnarBatch, type ParseStats, TsvParser } from '../../datasets/parse.js'
import { datasetPath, openGzip, statDataset, streamError } from '../../datasets/reader.js'
import {
  dropSchema,
  dropStaleGenerations,
  ensureControl,
  swapGeneration,
} from '../../db/postgres/generations.js'
import {
  checkSchemaPrefix,
  DEFAULT_SCHEMA_PREFIX,
  generationSchema,
  ident,
  primaryKeyConstraint,
  primaryKeyIndex,
  REPORTED_TABLES,
  SCHEMA_VERSION,
  SECONDARY_INDEXES,
  STAGING_TABLES,
  TABLES,
  type TableDef,
  tableDef,
} from '../../db/postgres/schema.js'
import { newCursorSecret } from '../../db/queries/meta.js'
import { IngestError, type IngestPhase, type IngestProgress } from '../index.js'
import { buildManifest, type IngestSummary, mtimeOf, type SourceFile } from '../manifest.js'
import { Ratings } from '../ratings.js'
import { IdSet } from '../refs.js'
import type { FileCounts, TableStat } from '../sqlite-writer.js'
import { LOAD_ORDER } from '../sqlite-writer.js'
import { type EncodeContext, type Encoder, encoderFor, Refs } from './encode.js'

export interface PostgresIngestOptions {
  /** Directory holding the `*.tsv.gz` files. */
  dataDir: string
  /** `postgres://user@host:port/database` */
  databaseUrl: string
  /** Namespace: the control schema's name and the prefix of generation schemas (default `marquee`). */
  schemaPrefix?: string
  /** Load only these datasets (default: all seven). */
  only?: DatasetName[]
  /** A bad line fails the ingest instead of being skipped. */
  strict?: boolean
  onProgress?: (e: IngestProgress) => void
  /** Aborting stops the ingest, drops the new schema and rejects with INGEST_ABORTED. */
  signal?: AbortSignal
  /** Connections building indexes at once (default: the number of cores, at least 2). */
  indexConcurrency?: number
  /** `maintenance_work_mem` of the index builds (default 64MB). */
  maintenanceWorkMem?: string
  /**
   * Called with each statement of the index phase and its milliseconds on its connection, once it
   * is done (benchmarks: `npm run bench:ingest:postgres -- --profile`).
   */
  onStatement?: (sql: string, ms: number) => void
}

/** The table whose rows a file's `kept` counts (crew counts lines; ratings has none). */
const MAIN_TABLE: Partial<Record<DatasetName, string>> = {
  'title.basics': 'titles',
  'name.basics': 'names',
  'title.akas': 'akas',
  'title.episode': 'episodes',
  'title.principals': 'principals',
}

/** SQLSTATE unique_violation. */
const UNIQUE_VIOLATION = '23505'

/** Bad lines of a file reported one by one; the rest are only counted. */
const REPORTED_BAD_LINES = 100

/** Rows per parsed batch. */
const BATCH_ROWS = 4096
/** Bytes a COPY stream buffers before its encoder waits (back-pressure). */
const COPY_HIGH_WATER = 1 << 20
/** Advisory lock namespace of ingests (`marq`); the second key is the prefix's hash. */
const LOCK_NAMESPACE = 0x6d617271

/**
 * A document's words without its prefix lexemes, for the vocabulary: words always have a position
 * (weight A, B or C), prefix lexemes never, and ts_filter keeps only lexemes with a position of the
 * given weights. Dropping them before ts_stat rather than after halves its time (a third of the
 * lexemes to sort into its tree).
 */
const WORDS_ONLY = `ts_filter(doc, ''{a,b,c}'')`

/** Loads the dataset files into a new schema and makes it the served generation (see the module comment). */
export async function ingestPostgres(opts: PostgresIngestOptions): Promise<IngestSummary> {
  const startedAt = new Date()
  const datasets = checkOptions(opts)
  const prefix = checkSchemaPrefix(opts.schemaPrefix ?? DEFAULT_SCHEMA_PREFIX)
  const sources: SourceFile[] = await Promise.all(
    datasets.map(async (dataset) => {
      const file = datasetPath(opts.dataDir, dataset)
      const s = await statDataset(file, dataset)
      return { dataset, file, size: s.size, mtime: mtimeOf(s) }
    }),
  )
  const generation = generationId(startedAt)
  const schema = generationSchema(prefix, generation)

  const local = new AbortController()
  const onSignal = () => local.abort(new IngestError('INGEST_ABORTED', 'ingest interrupted by a signal'))
  const onAbort = () =>
    local.abort(new IngestError('INGEST_ABORTED', 'ingest aborted', { cause: opts.signal?.reason }))
  if (opts.signal?.aborted) onAbort()
  opts.signal?.addEventListener('abort', onAbort, { once: true })
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)

  const control = await connect(opts.databaseUrl, null, 'marquee-ingest')
  const sessions = new Sessions()
  let created = false
  try {
    const { rows } = await control.query<{ ok: boolean }>(
      'SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok',
      [LOCK_NAMESPACE, prefix],
    )
    if (!rows[0].ok) {
      throw new IngestError(
        'INGEST_FAILED',
        `another ingest into the schema prefix "${prefix}" is running on this database; wait for it to finish`,
      )
    }
    await ensureControl(control, prefix)
    await dropStaleGenerations(control, prefix)
    local.signal.throwIfAborted()
    await control.query('BEGIN')
    await control.query(`CREATE SCHEMA ${ident(schema)}`)
    for (const t of [...TABLES, ...STAGING_TABLES]) {
      await control.query(`CREATE TABLE ${ident(schema)}.${t.name} (${t.columns})`)
    }
    await control.query('COMMIT')
    created = true

    const run = new Run(
      opts,
      prefix,
      schema,
      generation,
      datasets,
      sources,
      startedAt,
      local.signal,
      sessions,
    )
    const summary = await run.execute(control)
    return summary
  } catch (err) {
    const reason = local.signal.aborted ? local.signal.reason : err
    if (!local.signal.aborted) local.abort(err)
    await control.query('ROLLBACK').catch(() => {})
    await sessions.terminate(control)
    await sessions.close()
    if (created) await dropBuild(opts.databaseUrl, control, schema)
    throw reason
  } finally {
    await sessions.close()
    await control.query('SELECT pg_advisory_unlock_all()').catch(() => {})
    await control.end().catch(() => {})
    opts.signal?.removeEventListener('abort', onAbort)
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
  }
}

function checkOptions(opts: PostgresIngestOptions): DatasetName[] {
  if (!opts.dataDir) throw new IngestError('INGEST_BAD_OPTIONS', 'ingest: dataDir is required')
  if (!opts.databaseUrl) throw new IngestError('INGEST_BAD_OPTIONS', 'ingest: databaseUrl is required')
  if (opts.only !== undefined) {
    const bad = opts.only.filter((n) => !isDatasetName(n))
    if (bad.length > 0 || opts.only.length === 0) {
      throw new IngestError(
        'INGEST_BAD_OPTIONS',
        `ingest: only must list dataset names (${DATASET_NAMES.join(', ')}); got ${bad.length > 0 ? bad.join(', ') : 'none'}`,
      )
    }
  }
  const wanted = new Set(opts.only ?? DATASET_NAMES)
  return LOAD_ORDER.filter((d) => wanted.has(d))
}

function generationId(now: Date): string {
  const random = Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, '0'))
  return `${now.toISOString().replace(/[-:.]/g, '')}-${random.join('')}`
}

/** Drops the schema being built; on a broken control connection, from a fresh one. */
async function dropBuild(url: string, control: pg.Client, schema: string): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      if (await dropSchema(control, schema, 10_000)) return
    } catch {
      try {
        const fresh = await connect(url, null, 'marquee-ingest-cleanup')
        try {
          if (await dropSchema(fresh, schema, 10_000)) return
        } finally {
          await fresh.end().catch(() => {})
        }
      } catch {
        // The next ingest drops it (it is not the served generation).
      }
    }
  }
}

/** Opens a session; `schema` becomes its search_path. */
async function connect(
  url: string,
  schema: string | null,
  application: string,
  settings: Record<string, string> = {},
): Promise<pg.Client> {
  const options = Object.entries({ ...(schema ? { search_path: schema } : {}), ...settings })
    .map(([k, v]) => `-c ${k}=${v}`)
    .join(' ')
  const client = new pg.Client({
    connectionString: url,
    application_name: application,
    ...(options ? { options } : {}),
  })
  // An idle client whose connection drops emits 'error'; the query that notices reports it.
  client.on('error', () => {})
  await client.connect()
  return client
}

const pidOf = (c: pg.ClientBase) => (c as unknown as { processID: number | null }).processID

/** Every session the ingest opened, so a failure can stop their work on the server. */
class Sessions {
  readonly clients = new Set<pg.Client>()
  readonly pids = new Set<number>()
  pool: pg.Pool | null = null
  /** Set once the ingest failed: a session opened late is closed at once. */
  closed = false

  /** Registers a new session; throws (after ending it) when the ingest has already failed. */
  async add(client: pg.Client): Promise<pg.Client> {
    if (this.closed) {
      await client.end().catch(() => {})
      throw new IngestError('INGEST_ABORTED', 'the ingest is stopping')
    }
    this.clients.add(client)
    const pid = pidOf(client)
    if (pid) this.pids.add(pid)
    return client
  }

  /**
   * Stops every session's work on the server: a client that goes away does not stop a running
   * CREATE INDEX, and an open COPY transaction holds its table's lock until its session ends.
   */
  async terminate(control: pg.Client): Promise<void> {
    this.closed = true
    if (this.pids.size > 0) {
      await control
        .query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = ANY($1::int[])', [
          [...this.pids],
        ])
        .catch(() => {})
    }
  }

  async close(): Promise<void> {
    this.closed = true
    await Promise.all([...this.clients].map((c) => c.end().catch(() => {})))
    this.clients.clear()
    await this.pool?.end().catch(() => {})
    this.pool = null
  }
}

/** One COPY into a table, in its own transaction (FREEZE: the table is truncated in it). */
class CopySink {
  rows = 0
  private constructor(
    private readonly client: pg.Client,
    private readonly stream: CopyStreamQuery,
  ) {}

  static async open(
    client: pg.Client,
    table: string,
    columns: readonly string[],
    fail: (err: unknown) => void,
  ) {
    await client.query('BEGIN')
    await client.query(`TRUNCATE ${table}`)
    const stream = client.query(
      copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN WITH (FREEZE)`, {
        highWaterMark: COPY_HIGH_WATER,
      }),
    )
    stream.on('error', fail)
    return new CopySink(client, stream)
  }

  /** Writes a chunk, waiting while the stream is full. */
  async write(chunk: Buffer): Promise<void> {
    if (chunk.length === 0) return
    if (!this.stream.write(chunk)) await once(this.stream, 'drain')
  }

  /** Ends the COPY and commits; returns the rows the server loaded. */
  async end(): Promise<number> {
    this.stream.end()
    await finished(this.stream)
    await this.client.query('COMMIT')
    this.rows = this.stream.rowCount
    return this.rows
  }
}

interface Span {
  start: number
  end: number
}

/** What one loaded file produced. */
interface Loaded {
  /** title.akas only: a title's rows came in more than one run (the file is not grouped by title). */
  regrouped: boolean
  counts: FileCounts
  /** Rows the server loaded, per table. */
  rows: Record<string, number>
  stats: ParseStats
}

class Run {
  private readonly ctx: EncodeContext
  private readonly loadedSet: ReadonlySet<DatasetName>
  private readonly counts = new Map<DatasetName, FileCounts>()
  private readonly tableRows: Record<string, number> = {}
  private readonly spans = new Map<string, Span>()
  private readonly phasesAnnounced = new Set<IngestPhase>()
  private readonly fileTimings: Record<string, number> = {}
  private pool!: pg.Pool
  private failure: unknown = null
  /** Every load and build started, so a failure can wait for them to unwind. */
  private readonly pending: Promise<unknown>[] = []

  constructor(
    private readonly opts: PostgresIngestOptions,
    private readonly prefix: string,
    private readonly schema: string,
    private readonly generation: string,
    private readonly datasets: DatasetName[],
    private readonly sources: SourceFile[],
    private readonly startedAt: Date,
    private readonly signal: AbortSignal,
    private readonly sessions: Sessions,
  ) {
    this.loadedSet = new Set(datasets)
    this.ctx = {
      ratings: new Ratings(),
      refs: new Refs(this.loadedSet),
      titleIds: new IdSet(),
      nameIds: new IdSet(),
      loaded: this.loadedSet,
      strict: opts.strict ?? false,
      ratingsMatched: 0,
      onBadRow: (dataset, file, line, reason) =>
        this.opts.onProgress?.({ type: 'bad-line', dataset, file, line, reason }),
    }
  }

  /** Records the first failure and stops everything else. */
  private readonly fail = (err: unknown) => {
    this.failure ??= err
  }

  private check(): void {
    if (this.failure !== null) throw this.failure
    this.signal.throwIfAborted()
  }

  private phase(name: IngestPhase | 'load', fn: () => Promise<void>): Promise<void> {
    const start = performance.now()
    if (name !== 'load' && !this.phasesAnnounced.has(name)) {
      this.phasesAnnounced.add(name)
      this.opts.onProgress?.({ type: 'phase', phase: name })
    }
    return fn().finally(() => {
      const span = this.spans.get(name)
      const end = performance.now()
      if (span) {
        span.start = Math.min(span.start, start)
        span.end = Math.max(span.end, end)
      } else this.spans.set(name, { start, end })
    })
  }

  /** Runs one statement on the index pool, timed as part of `phase`. */
  private sql(phase: IngestPhase, text: string): Promise<void> {
    return this.phase(phase, async () => {
      await this.query(text)
    })
  }

  private async query(text: string): Promise<pg.QueryResult> {
    this.check()
    if (!this.opts.onStatement) return this.pool.query(text)
    // Timed on its connection: the wait for a free one is not the statement's.
    const client = await this.pool.connect()
    try {
      const started = performance.now()
      const res = await client.query(text)
      this.opts.onStatement(text.replace(/\s+/g, ' ').trim(), performance.now() - started)
      client.release()
      return res
    } catch (err) {
      client.release(err as Error)
      throw err
    }
  }

  async execute(control: pg.Client): Promise<IngestSummary> {
    const cores = availableParallelism()
    this.signal.throwIfAborted()
    this.pool = new pg.Pool({
      connectionString: this.opts.databaseUrl,
      application_name: 'marquee-ingest-index',
      max: this.opts.indexConcurrency ?? Math.max(2, cores),
      // Tables build side by side on their own connections: no parallel workers inside one build
      // (measured: they cost CPU a busy server does not have). A modest maintenance_work_mem sorts
      // in cache-sized runs, which measured cheaper than one big in-memory sort.
      options: sessionOptions(this.schema, {
        maintenance_work_mem: this.opts.maintenanceWorkMem ?? '64MB',
        max_parallel_maintenance_workers: '0',
        work_mem: '64MB',
        synchronous_commit: 'off',
        ...(await checkInterval(control)),
      }),
    })
    this.pool.on('connect', (c) => {
      const pid = pidOf(c)
      if (pid) this.sessions.pids.add(pid)
    })
    this.pool.on('error', () => {})
    this.sessions.pool = this.pool
    const signalAbort = () => this.fail(this.signal.reason)
    this.signal.addEventListener('abort', signalAbort, { once: true })
    try {
      return await this.stages(control)
    } catch (err) {
      // Stop everything still running, and let it unwind, before the schema is dropped.
      this.fail(err)
      await this.sessions.terminate(control)
      await Promise.race([
        Promise.allSettled(this.pending),
        new Promise((r) => setTimeout(r, 15_000).unref()),
      ])
      await this.sessions.terminate(control)
      throw err
    } finally {
      this.signal.removeEventListener('abort', signalAbort)
    }
  }

  private async stages(control: pg.Client): Promise<IngestSummary> {
    const settings = await checkInterval(control)
    const loadStart = performance.now()
    // title.ratings first: titles and names need it while they stream.
    if (this.loadedSet.has('title.ratings')) await this.loadFile('title.ratings', settings)

    const loads = new Map<DatasetName, Promise<Loaded | null>>()
    for (const dataset of this.datasets) {
      if (dataset === 'title.ratings') continue
      loads.set(
        dataset,
        this.loadFile(dataset, settings).catch((err) => {
          this.fail(err)
          throw err
        }),
      )
    }
    this.pending.push(...loads.values())
    /** Resolves once the file's tables are loaded (at once for a file left out). */
    const loaded = (dataset: DatasetName): Promise<Loaded | null> =>
      loads.get(dataset) ?? Promise.resolve(null)
    const allLoaded = Promise.all(loads.values()).then(() => {
      this.spans.set('load', { start: loadStart, end: performance.now() })
    })

    // Per table, as soon as its rows are in: the primary key and the secondary indexes, then
    // statistics.
    const build = async (table: string, dataset: DatasetName) => {
      await loaded(dataset)
      await this.indexes(table, dataset)
      await this.sql('analyze', `ANALYZE ${table}`)
    }
    const builds = [
      build('titles', 'title.basics'),
      build('title_genres', 'title.basics'),
      build('names', 'name.basics'),
      build('name_professions', 'name.basics'),
      build('akas', 'title.akas'),
      build('crew', 'title.crew'),
      build('episodes', 'title.episode'),
      build('principals', 'title.principals'),
      this.titlesFts(loaded),
      this.namesFts(loaded),
    ].map((p) =>
      p.catch((err) => {
        this.fail(err)
        throw err
      }),
    )
    this.pending.push(...builds)
    await Promise.all([allLoaded, ...builds])
    this.check()

    // The manifest, the primary keys as constraints, then sizes.
    const counts = new Map(this.datasets.map((d) => [d, this.counts.get(d)!]))
    this.updateDangling(counts)
    const tables = await this.tableStats()
    const timings: Record<string, number> = { ...this.fileTimings }
    for (const [name, span] of this.spans) timings[name] = Math.round(span.end - span.start)
    const manifest = buildManifest({
      schemaVersion: SCHEMA_VERSION,
      generation: this.generation,
      loaded: this.datasets,
      notLoaded: DATASET_NAMES.filter((d) => !this.loadedSet.has(d)),
      sources: this.sources,
      counts,
      tables,
      timings,
      startedAt: this.startedAt,
    })
    await this.query(
      `INSERT INTO meta (key, value) VALUES ('schema_version', '${SCHEMA_VERSION}'), ('generation', ${literal(this.generation)}), ('manifest', ${literal(JSON.stringify(manifest))}), ('cursor_secret', ${literal(newCursorSecret())})`,
    )
    await this.query(primaryKeyIndex(tableDef('meta')))
    const client = await this.pool.connect()
    try {
      await client.query('BEGIN')
      for (const t of TABLES) await client.query(primaryKeyConstraint(t))
      for (const t of STAGING_TABLES) await client.query(`DROP TABLE ${t.name}`)
      await client.query('COMMIT')
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {})
      throw err
    } finally {
      client.release()
    }
    this.check()

    this.opts.onProgress?.({ type: 'phase', phase: 'swap' })
    await swapGeneration(control, this.prefix, this.schema, this.generation)
    await dropStaleGenerations(control, this.prefix).catch(() => {})
    return manifest
  }

  /** Streams one file into its tables; returns null for title.ratings (kept in memory). */
  private async loadFile(dataset: DatasetName, settings: Record<string, string>): Promise<Loaded | null> {
    const file = datasetPath(this.opts.dataDir, dataset)
    const encoder = encoderFor(dataset, this.ctx, file)
    const total = this.sources.find((s) => s.dataset === dataset)!.size
    const progress = {
      type: 'file' as const,
      dataset,
      file,
      bytesRead: 0,
      bytesTotal: total,
      rowsRead: 0,
      rowsWritten: 0,
      done: false,
      elapsedMs: 0,
    }
    const started = performance.now()
    let lastReport = 0
    const report = (force = false) => {
      const now = performance.now()
      if (!force && now - lastReport < 100) return
      lastReport = now
      this.opts.onProgress?.({ ...progress, elapsedMs: Math.round(now - started) })
    }
    const sinks: CopySink[] = []
    for (const out of encoder.outputs) {
      const client = await this.sessions.add(
        await connect(this.opts.databaseUrl, this.schema, `marquee-ingest-${out.table}`, {
          synchronous_commit: 'off',
          ...settings,
        }),
      )
      sinks.push(await CopySink.open(client, out.table, out.columns, this.fail))
    }
    const flush = async (all: boolean) => {
      const writes: Promise<void>[] = []
      encoder.bufs.forEach((buf, i) => {
        if (all ? buf.pos > 0 : buf.full) writes.push(sinks[i].write(buf.take()))
      })
      if (writes.length > 0) await Promise.all(writes)
    }
    const stats = await this.parse(
      file,
      dataset,
      (b) => {
        encoder.batch(b)
        progress.rowsRead += b.rows
        progress.rowsWritten = encoder.sent
        return flush(false)
      },
      (bytes) => {
        progress.bytesRead = bytes
        report()
      },
    )
    encoder.end()
    await flush(true)
    const rows: Record<string, number> = {}
    await Promise.all(
      sinks.map(async (sink, i) => {
        rows[encoder.outputs[i].table] = await sink.end()
      }),
    )
    const counts = this.fileCounts(encoder, stats, rows)
    counts.ms = Math.round(performance.now() - started)
    this.fileTimings[dataset] = counts.ms
    this.counts.set(dataset, counts)
    Object.assign(this.tableRows, rows)
    if (dataset === 'title.basics') this.ctx.refs.provide('title', this.ctx.titleIds)
    if (dataset === 'name.basics') this.ctx.refs.provide('name', this.ctx.nameIds)
    progress.done = true
    progress.bytesRead = total
    progress.rowsWritten = encoder.sent
    report(true)
    return dataset === 'title.ratings' ? null : { counts, rows, stats, regrouped: encoder.regrouped }
  }

  private fileCounts(encoder: Encoder, stats: ParseStats, rows: Record<string, number>): FileCounts {
    const c: FileCounts = {
      read: stats.lines,
      kept: 0,
      skipped: stats.skipped + encoder.bad,
      duplicates: stats.duplicates,
      dangling: 0,
      outOfOrder: stats.outOfOrder,
      ms: 0,
    }
    if (encoder.dataset === 'title.ratings') {
      const dropped = this.ctx.ratings.seal()
      c.kept = this.ctx.ratings.n
      c.duplicates += dropped
    } else if (encoder.dataset === 'title.crew') c.kept = encoder.sent
    else c.kept = rows[encoder.outputs[0].table]
    return c
  }

  /** Gunzips and parses a file on this thread, handing each batch to `onBatch` (awaited: back-pressure). */
  private async parse(
    file: string,
    dataset: DatasetName,
    onBatch: (b: ColumnarBatch) => Promise<void>,
    onBytes: (bytes: number) => void,
  ): Promise<ParseStats> {
    const queue: ColumnarBatch[] = []
    let reported = 0
    const parser = new TsvParser(file, dataset, {
      batchRows: BATCH_ROWS,
      strict: this.ctx.strict,
      dedupe: true,
      raw: true,
      onBatch: (b) => queue.push(b),
      onBadLine: (bad: BadLine) => {
        if (reported++ < REPORTED_BAD_LINES)
          this.opts.onProgress?.({ type: 'bad-line', dataset, file, line: bad.line, reason: bad.reason })
      },
    })
    const { input, gunzip } = openGzip(file)
    const chunks = gunzip[Symbol.asyncIterator]()
    try {
      for (;;) {
        this.check()
        let done: boolean | undefined
        try {
          const next = await chunks.next()
          done = next.done
          if (next.done) parser.end()
          else parser.push(next.value as Buffer)
        } catch (err) {
          throw streamError(file, dataset, err)
        }
        onBytes(input.bytesRead)
        while (queue.length > 0) await onBatch(queue.shift()!)
        if (done) return parser.stats
      }
    } finally {
      input.destroy()
      gunzip.destroy()
    }
  }

  /**
   * Drops rows whose key repeats an earlier row's, keeping the first loaded (as SQLite's INSERT OR
   * IGNORE does). The parser drops a repeat that follows its original, which is every repeat of a
   * sorted file (IMDb sorts its files by key as strings); this is for files that are not sorted.
   */
  private async dedupe(t: TableDef, dataset: DatasetName): Promise<void> {
    const key = t.key.join(', ')
    const res = await this.query(
      `DELETE FROM ${t.name} WHERE ctid = ANY (ARRAY(
        SELECT ctid FROM (SELECT ctid, row_number() OVER (PARTITION BY ${key} ORDER BY ctid) AS n FROM ${t.name}) d
        WHERE n > 1))`,
    )
    const removed = res.rowCount ?? 0
    this.tableRows[t.name] = (this.tableRows[t.name] ?? 0) - removed
    const c = this.counts.get(dataset)
    if (c && MAIN_TABLE[dataset] === t.name) {
      c.kept -= removed
      c.duplicates += removed
    }
  }

  /**
   * The primary key's unique index and the secondary indexes of a table, in parallel. A key that
   * repeats (an unsorted file) fails the unique index: the repeats are dropped and it is built again.
   */
  private async indexes(table: string, dataset: DatasetName): Promise<void> {
    const t = tableDef(table)
    const key = async () => {
      try {
        await this.sql('indexes', primaryKeyIndex(t))
      } catch (err) {
        if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err
        await this.dedupe(t, dataset)
        await this.sql('indexes', primaryKeyIndex(t))
      }
    }
    await Promise.all([key(), ...(SECONDARY_INDEXES[table] ?? []).map((sql) => this.sql('indexes', sql))])
  }

  /**
   * titles_fts: each title's A/B document joined with the C document of its alternate titles, then
   * its GIN index and the vocabulary.
   */
  private async titlesFts(loaded: (d: DatasetName) => Promise<Loaded | null>): Promise<void> {
    const [, akas] = await Promise.all([loaded('title.basics'), loaded('title.akas')])
    await this.phase('fts', async () => {
      // An unsorted akas file can split a title's alternate titles into several documents.
      const docs = akas?.regrouped
        ? `(SELECT title_id, array_to_string(array_agg(doc::text), ' ')::tsvector AS doc FROM akas_doc GROUP BY title_id)`
        : 'akas_doc'
      const res = await this.query(
        `INSERT INTO titles_fts (id, doc)
         SELECT d.id, CASE WHEN a.doc IS NULL THEN d.doc ELSE d.doc || a.doc END
         FROM titles_doc d LEFT JOIN ${docs} a ON a.title_id = d.id`,
      )
      this.tableRows.titles_fts = res.rowCount ?? 0
    })
    await this.indexes('titles_fts', 'title.basics')
    await this.sql('analyze', 'VACUUM (ANALYZE) titles_fts')
    await this.phase('fts', async () => {
      await this.query(
        `INSERT INTO titles_vocab (term) SELECT word FROM ts_stat('SELECT ${WORDS_ONLY} FROM titles_fts')`,
      )
    })
    await this.indexes('titles_vocab', 'title.basics')
    await this.sql('analyze', 'VACUUM (ANALYZE) titles_vocab')
  }

  private async namesFts(loaded: (d: DatasetName) => Promise<Loaded | null>): Promise<void> {
    await loaded('name.basics')
    await this.indexes('names_fts', 'name.basics')
    await this.sql('analyze', 'ANALYZE names_fts')
    await this.phase('fts', async () => {
      await this.query(
        `INSERT INTO names_vocab (term) SELECT word FROM ts_stat('SELECT ${WORDS_ONLY} FROM names_fts')`,
      )
    })
    await this.indexes('names_vocab', 'name.basics')
    await this.sql('analyze', 'VACUUM (ANALYZE) names_vocab')
  }

  private updateDangling(counts: Map<DatasetName, FileCounts>): void {
    for (const [dataset, c] of counts) {
      if (dataset === 'title.ratings') {
        c.dangling = this.loadedSet.has('title.basics') ? this.ctx.ratings.n - this.ctx.ratingsMatched : null
      } else c.dangling = this.ctx.refs.count(dataset)
    }
  }

  private async tableStats(): Promise<Record<string, TableStat>> {
    const out: Record<string, TableStat> = {}
    await this.phase('sizes', async () => {
      const { rows } = await this.query(
        `SELECT c.relname AS name, pg_total_relation_size(c.oid) AS bytes
         FROM pg_class c WHERE c.relnamespace = ${literal(this.schema)}::regnamespace AND c.relkind = 'r'`,
      )
      const bytes = new Map(rows.map((r) => [r.name as string, Number(r.bytes)]))
      for (const name of REPORTED_TABLES) {
        out[name] = { rows: Math.max(0, this.tableRows[name] ?? 0), bytes: bytes.get(name) ?? 0 }
      }
    })
    return out
  }
}

/** Startup options of a session: search_path and settings. */
function sessionOptions(schema: string, settings: Record<string, string>): string {
  return Object.entries({ search_path: schema, ...settings })
    .map(([k, v]) => `-c ${k}=${v}`)
    .join(' ')
}

/** Sessions notice a vanished client within a second (PostgreSQL 14+), so a killed ingest stops its work. */
async function checkInterval(control: pg.Client): Promise<Record<string, string>> {
  const { rows } = await control.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`)
  return Number(rows[0].v) >= 140000 ? { client_connection_check_interval: '1000' } : {}
}

const literal = (value: string) => `'${value.replace(/'/g, "''")}'`
