/**
 * The PostgreSQL RowSink: loads into a new schema and swaps it in atomically.
 *
 * 1. open: under an advisory lock (one ingest per namespace at a time), leftovers of interrupted
 *    ingests are dropped and a schema `<prefix>_g_<generation>` is created with every table,
 *    unindexed.
 * 2. load: title.ratings is read into memory (it is merged into titles and summed into
 *    popularity), then the other files stream in parallel: gunzip and parse (the reader's columnar
 *    batches), encode COPY text rows (encode.ts), and write them with `COPY ... FROM STDIN
 *    (FREEZE)` on one connection per target table, each in its own transaction. Back-pressure runs
 *    the whole way: a COPY stream that is not drained pauses its encoder, which pauses the gunzip
 *    stream, which pauses the file. No intermediate file is written. Files are parsed on this
 *    thread, not on parse workers: each batch goes to an encoder here anyway.
 * 3. As each table finishes loading, its primary key and secondary indexes are built (in
 *    parallel, on a small pool), the text-search documents merged and indexed, statistics
 *    gathered; this overlaps with the files still loading. finish waits for them.
 * 4. finish: the manifest goes into the schema's `meta` table; swap: one transaction repoints
 *    `<prefix>.current` to the new schema (see src/db/postgres/generations.ts). The generation
 *    before it stays for requests in flight; older ones are dropped.
 *
 * abort terminates the loading sessions and drops the new schema; the served generation is never
 * touched. If the process dies outright, its sessions stop on their own
 * (client_connection_check_interval) and the next ingest drops the schema.
 */

import { availableParallelism } from 'node:os'
import pg from 'pg'
import { DATASET_NAMES, type DatasetName } from '../../datasets/catalogue.js'
import { type BadLine, type ColumnarBatch, type ParseStats, TsvParser } from '../../datasets/parse.js'
import { datasetPath, openGzip, streamError } from '../../datasets/reader.js'
import { DEFAULT_RETENTION, type HistoryRetention, type ManifestChanges } from '../../db/history.js'
import {
  dropStaleGenerations,
  ensureControl,
  recordPostgresHistory,
  swapGeneration,
} from '../../db/postgres/generations.js'
import {
  generationSchema,
  ident,
  primaryKeyConstraint,
  primaryKeyIndex,
  SCHEMA_VERSION,
  SECONDARY_INDEXES,
  STAGING_TABLES,
  TABLES,
  type TableDef,
  tableDef,
} from '../../db/postgres/schema.js'
import { newCursorSecret } from '../../db/queries/meta.js'
import { SIZED_TABLES } from '../../db/tables.js'
import { IngestError } from '../errors.js'
import type { IngestPhase } from '../events.js'
import { buildManifest, type FileCounts, type IngestSummary, type TableStat } from '../manifest.js'
import { BATCH_ROWS } from '../parsers.js'
import { Ratings } from '../ratings.js'
import { IdSet } from '../refs.js'
import type { IngestPlan, RowSink } from '../sink.js'
import { type EncodeContext, type Encoder, encoderFor, Refs } from './encode.js'
import { checkInterval, connect, dropBuild, pidOf, Sessions, sessionOptions } from './sessions.js'
import { TableCopy } from './table-copy.js'

export interface PostgresSinkOptions {
  databaseUrl: string
  /** Namespace: the control schema's name and the prefix of generation schemas (checked). */
  prefix: string
  indexConcurrency?: number
  maintenanceWorkMem?: string
  onStatement?: (sql: string, ms: number) => void
  /** How much change history the control schema keeps (default: 7 generations, any age). */
  history?: HistoryRetention
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

/** Advisory lock namespace of ingests (`marq`); the second key is the prefix's hash. */
const LOCK_NAMESPACE = 0x6d617271

/**
 * A document's words without its prefix lexemes, for the vocabulary: words always have a position
 * (weight A, B or C), prefix lexemes never, and ts_filter keeps only lexemes with a position of the
 * given weights. Dropping them before ts_stat rather than after halves its time (a third of the
 * lexemes to sort into its tree).
 */
const WORDS_ONLY = `ts_filter(doc, ''{a,b,c}'')`

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

export class PostgresSink implements RowSink {
  private plan!: IngestPlan
  private schema = ''
  private control: pg.Client | null = null
  private created = false
  private readonly sessions = new Sessions()
  private ctx!: EncodeContext
  private loadedSet: ReadonlySet<DatasetName> = new Set()
  private readonly counts = new Map<DatasetName, FileCounts>()
  private readonly tableRows: Record<string, number> = {}
  private readonly spans = new Map<string, Span>()
  private readonly phasesAnnounced = new Set<IngestPhase>()
  private readonly fileTimings: Record<string, number> = {}
  private pool: pg.Pool | null = null
  private failure: unknown = null
  /** Every load and build started, so a failure can wait for them to unwind. */
  private readonly pending: Promise<unknown>[] = []
  /** Every table's indexes and every search build, started as their files load. */
  private builds: Promise<unknown> = Promise.resolve()
  private readonly signalAbort = () => this.fail(this.plan.signal.reason)

  constructor(private readonly opts: PostgresSinkOptions) {}

  async open(plan: IngestPlan): Promise<void> {
    this.plan = plan
    this.schema = generationSchema(this.opts.prefix, plan.generation)
    this.loadedSet = new Set(plan.datasets)
    this.ctx = {
      ratings: new Ratings(),
      refs: new Refs(this.loadedSet),
      titleIds: new IdSet(),
      nameIds: new IdSet(),
      loaded: this.loadedSet,
      strict: plan.strict,
      ratingsMatched: 0,
      onBadRow: (dataset, file, line, reason) => plan.progress.badLine(dataset, line, reason, file),
    }
    this.control = await connect(this.opts.databaseUrl, null, 'marquee-ingest')
    await this.lock(this.control)
    await this.createSchema(this.control)
    plan.signal.throwIfAborted()
    this.pool = await this.indexPool(this.control)
    plan.signal.addEventListener('abort', this.signalAbort, { once: true })
  }

  /** One ingest per namespace at a time. */
  private async lock(control: pg.Client): Promise<void> {
    const { prefix } = this.opts
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
  }

  /** Drops leftovers of interrupted ingests, then creates the new schema with every table. */
  private async createSchema(control: pg.Client): Promise<void> {
    await ensureControl(control, this.opts.prefix)
    await dropStaleGenerations(control, this.opts.prefix)
    this.plan.signal.throwIfAborted()
    await control.query('BEGIN')
    await control.query(`CREATE SCHEMA ${ident(this.schema)}`)
    for (const t of [...TABLES, ...STAGING_TABLES]) {
      await control.query(`CREATE TABLE ${ident(this.schema)}.${t.name} (${t.columns})`)
    }
    await control.query('COMMIT')
    this.created = true
  }

  /** The connections that build indexes and run the other statements of the build. */
  private async indexPool(control: pg.Client): Promise<pg.Pool> {
    const pool = new pg.Pool({
      connectionString: this.opts.databaseUrl,
      application_name: 'marquee-ingest-index',
      max: this.opts.indexConcurrency ?? Math.max(2, availableParallelism()),
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
    pool.on('connect', (c) => {
      const pid = pidOf(c)
      if (pid) this.sessions.pids.add(pid)
    })
    pool.on('error', () => {})
    this.sessions.pool = pool
    return pool
  }

  async load(): Promise<void> {
    const settings = await checkInterval(this.control!)
    const loadStart = performance.now()
    // title.ratings first: titles and names need it while they stream.
    if (this.loadedSet.has('title.ratings')) await this.loadFile('title.ratings', settings)

    const loads = new Map<DatasetName, Promise<Loaded | null>>()
    for (const dataset of this.plan.datasets) {
      if (dataset === 'title.ratings') continue
      loads.set(dataset, this.failing(this.loadFile(dataset, settings)))
    }
    this.pending.push(...loads.values())
    /** Resolves once the file's tables are loaded (at once for a file left out). */
    const loaded = (dataset: DatasetName): Promise<Loaded | null> =>
      loads.get(dataset) ?? Promise.resolve(null)
    const allLoaded = Promise.all(loads.values()).then(() => {
      this.spans.set('load', { start: loadStart, end: performance.now() })
    })
    const builds = this.startBuilds(loaded).map((p) => this.failing(p))
    this.pending.push(...builds)
    this.builds = Promise.all(builds)
    // A build that fails while files still load fails the load.
    await Promise.race([allLoaded, this.builds.then(() => allLoaded)])
  }

  /** Per table, as soon as its rows are in: the primary key and the secondary indexes, then statistics. */
  private startBuilds(loaded: (d: DatasetName) => Promise<Loaded | null>): Promise<void>[] {
    const build = async (table: string, dataset: DatasetName) => {
      await loaded(dataset)
      await this.indexes(table, dataset)
      await this.sql('analyze', `ANALYZE ${table}`)
    }
    return [
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
    ]
  }

  /** `p`, recording its failure as the ingest's (which stops the rest). */
  private failing<T>(p: Promise<T>): Promise<T> {
    return p.catch((err) => {
      this.fail(err)
      throw err
    })
  }

  /** Waits for the builds, then the manifest, the primary keys as constraints, and sizes. */
  async finish(): Promise<IngestSummary> {
    await this.builds
    this.check()
    const counts = new Map(this.plan.datasets.map((d) => [d, this.counts.get(d)!]))
    this.updateDangling(counts)
    const tables = await this.tableStats()
    const timings: Record<string, number> = { ...this.fileTimings }
    for (const [name, span] of this.spans) timings[name] = Math.round(span.end - span.start)
    const manifest = buildManifest({
      schemaVersion: SCHEMA_VERSION,
      generation: this.plan.generation,
      loaded: this.plan.datasets,
      notLoaded: DATASET_NAMES.filter((d) => !this.loadedSet.has(d)),
      sources: this.plan.sources,
      counts,
      tables,
      timings,
      startedAt: this.plan.startedAt,
    })
    await this.query(
      `INSERT INTO meta (key, value) VALUES ('schema_version', '${SCHEMA_VERSION}'), ('generation', ${literal(this.plan.generation)}), ('manifest', ${literal(JSON.stringify(manifest))}), ('cursor_secret', ${literal(newCursorSecret())})`,
    )
    await this.query(primaryKeyIndex(tableDef('meta')))
    await this.constrainKeys()
    this.check()
    let changes: ManifestChanges | null = null
    await this.phase('history', async () => {
      changes = await recordPostgresHistory(this.control!, this.opts.prefix, {
        schema: this.schema,
        generation: this.plan.generation,
        retention: this.opts.history ?? DEFAULT_RETENTION,
      })
    })
    const recorded = { ...manifest, changes }
    await this.query(`UPDATE meta SET value = ${literal(JSON.stringify(recorded))} WHERE key = 'manifest'`)
    this.check()
    return recorded
  }

  /** The primary keys become constraints, and the staging tables go, in one transaction. */
  private async constrainKeys(): Promise<void> {
    const client = await this.pool!.connect()
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
  }

  async swap(): Promise<void> {
    const control = this.control!
    await swapGeneration(control, this.opts.prefix, this.schema, this.plan.generation)
    await dropStaleGenerations(control, this.opts.prefix).catch(() => {})
  }

  async abort(reason: unknown): Promise<void> {
    const control = this.control
    this.fail(reason)
    if (!control) return
    await control.query('ROLLBACK').catch(() => {})
    // Stop everything still running, and let it unwind, before the schema is dropped.
    await this.sessions.terminate(control)
    await Promise.race([Promise.allSettled(this.pending), new Promise((r) => setTimeout(r, 15_000).unref())])
    await this.sessions.terminate(control)
    await this.sessions.close()
    if (this.created) await dropBuild(this.opts.databaseUrl, control, this.schema)
  }

  async close(): Promise<void> {
    this.plan?.signal.removeEventListener('abort', this.signalAbort)
    await this.sessions.close()
    await this.control?.query('SELECT pg_advisory_unlock_all()').catch(() => {})
    await this.control?.end().catch(() => {})
  }

  /** Records the first failure and stops everything else. */
  private readonly fail = (err: unknown) => {
    this.failure ??= err
  }

  private check(): void {
    if (this.failure !== null) throw this.failure
    this.plan.signal.throwIfAborted()
  }

  private phase(name: IngestPhase | 'load', fn: () => Promise<void>): Promise<void> {
    const start = performance.now()
    if (name !== 'load' && !this.phasesAnnounced.has(name)) {
      this.phasesAnnounced.add(name)
      this.plan.progress.phase(name)
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
    if (!this.opts.onStatement) return this.pool!.query(text)
    // Timed on its connection: the wait for a free one is not the statement's.
    const client = await this.pool!.connect()
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

  /** Streams one file into its tables; returns null for title.ratings (kept in memory). */
  private async loadFile(dataset: DatasetName, settings: Record<string, string>): Promise<Loaded | null> {
    const { progress } = this.plan
    const file = datasetPath(this.plan.dataDir, dataset)
    const encoder = encoderFor(dataset, this.ctx, file)
    const counters = progress.of(dataset)
    progress.start(dataset)
    const started = performance.now()
    let lastReport = 0
    const report = (force = false) => {
      const now = performance.now()
      if (!force && now - lastReport < 100) return
      lastReport = now
      progress.emit(dataset)
    }
    const copies = await this.openCopies(encoder, settings)
    const flush = async (all: boolean) => {
      const writes: Promise<void>[] = []
      encoder.bufs.forEach((buf, i) => {
        if (all ? buf.pos > 0 : buf.full) writes.push(copies[i].write(buf.take()))
      })
      if (writes.length > 0) await Promise.all(writes)
    }
    const stats = await this.parse(
      file,
      dataset,
      (b) => {
        encoder.batch(b)
        counters.rowsRead += b.rows
        counters.rowsWritten = encoder.sent
        return flush(false)
      },
      (bytes) => {
        counters.bytesRead = bytes
        report()
      },
    )
    encoder.end()
    await flush(true)
    const rows: Record<string, number> = {}
    await Promise.all(
      copies.map(async (copy, i) => {
        rows[encoder.outputs[i].table] = await copy.end()
      }),
    )
    const counts = this.recordFile(encoder, stats, rows, started)
    progress.done(dataset)
    counters.rowsWritten = encoder.sent
    report(true)
    return dataset === 'title.ratings' ? null : { counts, rows, stats, regrouped: encoder.regrouped }
  }

  /** One COPY per table the encoder writes, each on a session of its own. */
  private async openCopies(encoder: Encoder, settings: Record<string, string>): Promise<TableCopy[]> {
    const copies: TableCopy[] = []
    for (const out of encoder.outputs) {
      const client = await this.sessions.add(
        await connect(this.opts.databaseUrl, this.schema, `marquee-ingest-${out.table}`, {
          synchronous_commit: 'off',
          ...settings,
        }),
      )
      copies.push(await TableCopy.open(client, out.table, out.columns, this.fail))
    }
    return copies
  }

  /** Keeps a loaded file's counts and rows; its ids now decide what the other files' references dangle. */
  private recordFile(
    encoder: Encoder,
    stats: ParseStats,
    rows: Record<string, number>,
    started: number,
  ): FileCounts {
    const { dataset } = encoder
    const counts = this.fileCounts(encoder, stats, rows)
    counts.ms = Math.round(performance.now() - started)
    this.fileTimings[dataset] = counts.ms
    this.counts.set(dataset, counts)
    Object.assign(this.tableRows, rows)
    if (dataset === 'title.basics') this.ctx.refs.provide('title', this.ctx.titleIds)
    if (dataset === 'name.basics') this.ctx.refs.provide('name', this.ctx.nameIds)
    return counts
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
        if (reported++ < REPORTED_BAD_LINES) this.plan.progress.badLine(dataset, bad.line, bad.reason, file)
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
      for (const name of SIZED_TABLES) {
        out[name] = { rows: Math.max(0, this.tableRows[name] ?? 0), bytes: bytes.get(name) ?? 0 }
      }
    })
    return out
  }
}

const literal = (value: string) => `'${value.replace(/'/g, "''")}'`
