/**
 * The database side of the ingest: takes columnar batches dataset by dataset and writes them into a
 * fresh database file with the schema of src/db/sqlite/schema.ts, then builds FTS, secondary
 * indexes and statistics. Runs on one thread (a writer worker); parsing happens elsewhere.
 *
 * The big tables (DIRECT_DATASETS, genres, professions) are not INSERTed: their pages are laid out
 * directly in files of their own (btree.ts) and copied in with INSERT ... SELECT *, which SQLite
 * does record for record without decoding them. INSERTs remain for crew, episodes, the rows a
 * page-built file cannot take, and batches that were not valid UTF-8.
 */

import { rmSync } from 'node:fs'
import type { DatasetName } from '../../datasets/catalogue.js'
import {
  type ColumnarBatch,
  DatasetError,
  type Layout,
  layoutOf,
  type ParseStats,
} from '../../datasets/parse.js'
import { newCursorSecret } from '../../db/queries/meta.js'
import Database, { type Statement } from '../../db/sqlite/driver.js'
import { FTS_TABLES, SCHEMA_VERSION, SECONDARY_INDEXES, TABLES } from '../../db/sqlite/schema.js'
import { SIZED_TABLES } from '../../db/tables.js'
import type { FileCounts, TableStat } from '../manifest.js'
import { Ratings } from '../ratings.js'
import { IdSet, RefChecker } from '../refs.js'
import { type ColumnKind, TableFile } from './btree.js'

/**
 * Datasets whose main table is written page by page (see btree.ts) rather than through INSERTs:
 * principals and akas (75% of all rows), titles and names. The small derived tables (genres,
 * professions, crew) and episodes still go through INSERTs.
 */
export const DIRECT_DATASETS: ReadonlySet<DatasetName> = new Set([
  'title.principals',
  'title.akas',
  'title.basics',
  'name.basics',
])

/** Rows per INSERT statement: PERF-NOTES measured 64-256 as the sweet spot. */
const ROWS_PER_STATEMENT = 128

/**
 * Page cache while building indexes. The sorter sizes its runs from it, and a small one sorts
 * faster here (PERF-NOTES: a large one makes principals_by_name 4x slower; 16 -> 4 MB measured
 * 20% faster).
 */
const INDEX_CACHE = -4000

/** FTS5 pending-terms memory during the bulk load (default 1 MB: hundreds of segments to merge). */
const FTS_HASH_BYTES = 128 << 20

export interface WriterOptions {
  strict: boolean
  loaded: readonly DatasetName[]
  /** Where to write page-built tables: `${directPrefix}-${table}`, removed once copied in. */
  directPrefix: string
  /**
   * Leave page-built files for another writer to copy (with their indexes built), instead of
   * copying them into this writer's database at the end of their dataset.
   */
  keepDirect: boolean
  onBadRow?: (dataset: DatasetName, line: number, reason: string) => void
}

/**
 * The table each dataset's rows are INSERTed into, with the columns in the order the writers fill
 * them (title.ratings has none: it is merged into titles).
 */
export const INSERT_COLUMNS: Partial<Record<DatasetName, { table: string; columns: readonly string[] }>> = {
  'title.basics': {
    table: 'titles',
    columns: [
      'id',
      'title_type',
      'primary_title',
      'original_title',
      'is_adult',
      'start_year',
      'end_year',
      'runtime_minutes',
      'genres',
      'average_rating',
      'num_votes',
    ],
  },
  'name.basics': {
    table: 'names',
    columns: [
      'id',
      'primary_name',
      'birth_year',
      'death_year',
      'primary_profession',
      'known_for_titles',
      'popularity',
    ],
  },
  'title.akas': {
    table: 'akas',
    columns: [
      'title_id',
      'ordering',
      'title',
      'region',
      'language',
      'types',
      'attributes',
      'is_original_title',
    ],
  },
  'title.crew': {
    table: 'crew',
    columns: ['title_id', 'role', 'ordering', 'name_id'],
  },
  'title.episode': {
    table: 'episodes',
    columns: ['id', 'parent_id', 'season_number', 'episode_number'],
  },
  'title.principals': {
    table: 'principals',
    columns: ['title_id', 'ordering', 'name_id', 'category', 'job', 'characters'],
  },
}

/** A multi-row INSERT OR IGNORE: callers write a row's values into `args` at `k`, then call `endRow()`. */
class Bulk {
  readonly args: unknown[]
  k = 0
  /** Rows stored (duplicates ignored by the primary key are not). */
  changes = 0
  private readonly full: Statement
  private readonly width: number
  private readonly tails = new Map<number, Statement>()

  constructor(
    private readonly db: Database,
    readonly table: string,
    private readonly columns: readonly string[],
  ) {
    this.width = columns.length
    this.args = new Array(ROWS_PER_STATEMENT * this.width)
    this.full = this.prepare(ROWS_PER_STATEMENT)
  }

  private prepare(rows: number): Statement {
    const one = `(${this.columns.map(() => '?').join(',')})`
    return this.db.prepare(
      `INSERT OR IGNORE INTO ${this.table} (${this.columns.join(',')}) VALUES ${Array(rows).fill(one).join(',')}`,
    )
  }

  endRow(): void {
    if (this.k === this.args.length) {
      // Spread arguments bind measurably faster than an array argument in better-sqlite3.
      this.changes += this.full.run(...this.args).changes
      this.k = 0
    }
  }

  flush(): void {
    if (this.k === 0) return
    const rows = this.k / this.width
    let stmt = this.tails.get(rows)
    if (!stmt) {
      stmt = this.prepare(rows)
      this.tails.set(rows, stmt)
    }
    this.changes += stmt.run(...this.args.slice(0, this.k)).changes
    this.k = 0
  }
}

/**
 * Rows of a (value, id) table keyed by value first (title_genres, name_professions), gathered per
 * value while the ids stream in and written value by value at the end: in key order, so every
 * insert appends instead of landing in one of a few dozen places in the middle of the b-tree.
 */
class Grouped {
  private readonly groups = new Map<string, { ids: Float64Array; n: number }>()

  add(value: string, id: number): void {
    let g = this.groups.get(value)
    if (!g) {
      g = { ids: new Float64Array(1024), n: 0 }
      this.groups.set(value, g)
    }
    if (g.n === g.ids.length) {
      const bigger = new Float64Array(g.ids.length * 2)
      bigger.set(g.ids)
      g.ids = bigger
    }
    g.ids[g.n++] = id
  }

  /**
   * Writes the rows to a page-built table in key order: values in SQLite's BINARY order (UTF-8
   * bytes), ids ascending, repeated pairs ("Drama,Drama", a title listed twice) once.
   */
  writeToFile(file: TableFile): number {
    const values = [...this.groups.keys()].map((v) => [v, Buffer.from(v)] as const)
    values.sort((a, b) => Buffer.compare(a[1], b[1]))
    let rows = 0
    for (const [value, bytes] of values) {
      const g = this.groups.get(value)!
      const ids = g.ids.subarray(0, g.n).sort()
      for (let i = 0; i < ids.length; i++) {
        if (i > 0 && ids[i] === ids[i - 1]) continue
        file.text(0, bytes, 0, bytes.length)
        file.num(1, ids[i])
        if (!file.add()) throw new Error(`${value}: too long for a ${file.path} row`)
        rows++
      }
    }
    this.groups.clear()
    return rows
  }
}

function createSqlOf(table: string): string {
  return TABLES.find((sql) => sql.startsWith(`CREATE TABLE ${table} `))!
}

/** Decodes text field p (a utf8Pos index) of a raw batch, or null. */
function utf8Reader(b: ColumnarBatch): (p: number) => string | null {
  const u = Buffer.from(b.utf8!.buffer, b.utf8!.byteOffset, b.utf8!.byteLength)
  const up = b.utf8Pos!
  return (p) => (up[p] < 0 ? null : u.toString('utf8', up[p], up[p + 1]))
}

/** Column kinds of the page-built tables, in record order (their primary key comes first). */
const DIRECT_KINDS: Record<string, ColumnKind[]> = {
  principals: ['int', 'int', 'int', 'text', 'text', 'text'],
  akas: ['int', 'int', 'text', 'text', 'text', 'text', 'text', 'int'],
  titles: ['rowid', 'text', 'text', 'text', 'int', 'int', 'int', 'int', 'text', 'real', 'int'],
  names: ['rowid', 'text', 'int', 'int', 'text', 'text', 'int'],
}

const num = (v: number): number | null => (Number.isNaN(v) ? null : v)

function slots(layout: Layout): Record<string, { num: number; text: number; ids: number }> {
  return Object.fromEntries(layout.slots.map((s) => [s.column.name, s]))
}

/** How a dataset's batches are written: through INSERTs, or into a page-built file (`direct`). */
interface BatchPaths {
  insert: (b: ColumnarBatch, into: Bulk) => void
  direct?: (b: ColumnarBatch, file: TableFile, staged: Bulk) => void
}

interface DatasetState {
  dataset: DatasetName
  counts: FileCounts
  started: number
  sent: number
  bulks: Bulk[]
  /** Bulk whose `changes` are this file's kept rows (null for title.ratings). */
  main: Bulk | null
  /** The page-built table file, if this dataset is written directly. */
  direct: TableFile | null
}

export class SqliteDatasetWriter {
  readonly db: Database
  private readonly ratings = new Ratings()
  readonly titleIds = new IdSet()
  readonly nameIds = new IdSet()
  readonly refs: RefChecker
  private readonly loaded: ReadonlySet<DatasetName>
  private readonly rowCounts: Record<string, number> = {}
  private state: DatasetState | null = null
  private ratingsMatched = 0
  /** title_genres or name_professions rows of the dataset being loaded. */
  private readonly grouped = new Grouped()
  /** Counts of every file ended so far, by dataset. */
  readonly fileCounts = new Map<DatasetName, FileCounts>()

  constructor(
    path: string,
    private readonly opts: WriterOptions,
  ) {
    this.loaded = new Set(opts.loaded)
    this.refs = new RefChecker(this.loaded)
    this.db = new Database(path)
    // A throwaway file until it is renamed into place: no journal, no fsync, one connection.
    this.db.pragma('journal_mode = OFF')
    this.db.pragma('synchronous = OFF')
    this.db.pragma('locking_mode = EXCLUSIVE')
    this.db.pragma('temp_store = FILE')
    this.db.exec('BEGIN')
    for (const sql of TABLES) this.db.exec(sql)
    for (const sql of FTS_TABLES) this.db.exec(sql)
    this.db.exec('COMMIT')
  }

  begin(dataset: DatasetName): void {
    const into = INSERT_COLUMNS[dataset]
    const main = into ? new Bulk(this.db, into.table, into.columns) : null
    const bulks = main ? [main] : []
    this.state = {
      dataset,
      counts: { read: 0, kept: 0, skipped: 0, duplicates: 0, dangling: 0, outOfOrder: 0, ms: 0 },
      started: performance.now(),
      sent: 0,
      bulks,
      main,
      direct: null,
    }
    if (DIRECT_DATASETS.has(dataset) && main) {
      const table = main.table
      this.state.direct = new TableFile(
        `${this.opts.directPrefix}-${table}`,
        table,
        createSqlOf(table),
        DIRECT_KINDS[table],
        DIRECT_KINDS[table][0] === 'rowid' ? 1 : 2,
      )
    }
    this.db.exec('BEGIN')
  }

  /**
   * Per dataset: its INSERT path, and for a page-built table its direct path, which takes the
   * batches that carry raw UTF-8 (the others, not valid UTF-8, go through INSERTs).
   */
  private readonly paths: Record<DatasetName, BatchPaths> = {
    'title.ratings': { insert: (b) => this.ratingsBatch(b) },
    'title.basics': {
      insert: (b, t) => this.titlesBatch(b, t),
      direct: (b, d, t) => this.titlesDirect(b, d, t),
    },
    'name.basics': {
      insert: (b, t) => this.namesBatch(b, t),
      direct: (b, d, t) => this.namesDirect(b, d, t),
    },
    'title.episode': { insert: (b, t) => this.episodesBatch(b, t) },
    'title.crew': { insert: (b, t) => this.crewBatch(b, t) },
    'title.akas': { insert: (b, t) => this.akasBatch(b, t), direct: (b, d, t) => this.akasDirect(b, d, t) },
    'title.principals': {
      insert: (b, t) => this.principalsBatch(b, t),
      direct: (b, d, t) => this.principalsDirect(b, d, t),
    },
  }

  /** Writes one batch of the current dataset. */
  write(b: ColumnarBatch): void {
    const st = this.state!
    const path = this.paths[st.dataset]
    if (st.direct && b.utf8 && path.direct) path.direct(b, st.direct, st.bulks[0])
    else path.insert(b, st.bulks[0])
  }

  /** Ends the current dataset; returns its counts. */
  end(stats: ParseStats): FileCounts {
    const st = this.state!
    if (st.dataset === 'title.basics' || st.dataset === 'name.basics') {
      const table = st.dataset === 'title.basics' ? 'title_genres' : 'name_professions'
      const file = new TableFile(
        `${this.opts.directPrefix}-${table}`,
        table,
        createSqlOf(table),
        ['text', 'int'],
        0,
      )
      this.grouped.writeToFile(file)
      for (const bulk of st.bulks) bulk.flush()
      this.db.exec('COMMIT')
      this.rowCounts[table] = this.finishDirect(file, table)
    } else {
      for (const bulk of st.bulks) bulk.flush()
      this.db.exec('COMMIT')
    }
    const c = st.counts
    c.read = stats.lines
    c.skipped += stats.skipped
    c.outOfOrder = stats.outOfOrder
    if (st.dataset === 'title.crew') {
      // One line makes several crew rows: count lines, duplicates are the parser's.
      c.kept = st.sent
      c.duplicates = stats.duplicates
    } else if (st.direct) {
      c.kept = this.finishDirect(st.direct, st.main!.table)
      c.duplicates = stats.duplicates + (st.sent - c.kept)
    } else if (st.main) {
      c.kept = st.main.changes
      c.duplicates = stats.duplicates + (st.sent - st.main.changes)
    } else {
      const dropped = this.ratings.seal()
      c.kept = this.ratings.n
      c.duplicates = stats.duplicates + dropped
    }
    this.fileCounts.set(st.dataset, c)
    if (st.dataset === 'title.basics') this.refs.provide('title', this.titleIds)
    if (st.dataset === 'name.basics') this.refs.provide('name', this.nameIds)
    this.updateDangling()
    for (const bulk of st.bulks) this.rowCounts[bulk.table] ??= bulk.changes
    if (st.direct) this.rowCounts[st.main!.table] = c.kept
    c.ms = Math.round(performance.now() - st.started)
    this.state = null
    return c
  }

  /** Page-built files left for another writer to copy in (keepDirect), with their tables. */
  readonly directFiles: { path: string; tables: string[] }[] = []

  /**
   * Completes a page-built table: writes its upper pages, adds the rows it refused (out of order,
   * too big) from where they waited (this database's table, through INSERTs), then either copies
   * it into this database or builds its indexes for the writer that will. Returns the rows kept.
   */
  private finishDirect(direct: TableFile, table: string): number {
    const built = direct.finish()
    const db = this.db
    db.prepare('ATTACH ? AS built').run(direct.path)
    db.exec('BEGIN')
    const late = db.prepare(`INSERT OR IGNORE INTO built.${table} SELECT * FROM main.${table}`).run().changes
    db.exec(`DELETE FROM main.${table}`)
    if (this.opts.keepDirect) {
      db.pragma(`built.cache_size = ${INDEX_CACHE}`)
      for (const sql of indexesOf(new Set([table])))
        db.exec(sql.replace(/^CREATE INDEX /, 'CREATE INDEX built.'))
    } else {
      // Same schema, empty destination: SQLite copies the records as they are.
      db.exec(`INSERT INTO main.${table} SELECT * FROM built.${table}`)
    }
    db.exec('COMMIT')
    db.exec('DETACH built')
    if (this.opts.keepDirect) this.directFiles.push({ path: direct.path, tables: [table] })
    else rmSync(direct.path, { force: true })
    return built + late
  }

  /** Brings dangling counts up to date (ids checked late, once their set arrived, included). */
  updateDangling(): void {
    for (const [dataset, c] of this.fileCounts) {
      if (dataset === 'title.ratings') {
        // Ratings of titles missing from title.basics are known once both are in.
        c.dangling = this.loaded.has('title.basics') ? this.ratings.n - this.ratingsMatched : null
      } else c.dangling = this.refs.count(dataset)
    }
  }

  private badRow(b: ColumnarBatch, r: number, reason: string): void {
    const line = b.lines[r]
    const file = this.state!.dataset
    if (this.opts.strict) {
      throw new DatasetError(
        'DATASET_BAD_LINE',
        file,
        `${file}:${line}: ${reason}; fix or remove the line, or run without --strict to skip it`,
        { line },
      )
    }
    this.state!.counts.skipped++
    this.opts.onBadRow?.(this.state!.dataset, line, reason)
  }

  private ratingsBatch(b: ColumnarBatch): void {
    const l = layoutOf('title.ratings')
    const s = slots(l)
    const nc = l.numCols
    for (let r = 0; r < b.rows; r++) {
      const base = r * nc
      const avg = b.nums[base + s.averageRating.num]
      const votes = b.nums[base + s.numVotes.num]
      this.ratings.add(b.nums[base + s.tconst.num], avg, Number.isNaN(votes) ? 0 : votes)
    }
  }

  private titlesBatch(b: ColumnarBatch, titles: Bulk): void {
    const l = layoutOf('title.basics')
    const s = slots(l)
    const { nums, text, textPos: pos } = b
    const nc = l.numCols
    const tc = l.textCols
    const haveRatings = this.loaded.has('title.ratings')
    const ratings = this.ratings
    for (let r = 0; r < b.rows; r++) {
      const nb = r * nc
      const tb = 2 * r * tc
      const id = nums[nb + s.tconst.num]
      let p = tb + 2 * s.titleType.text
      const typeStart = pos[p]
      const type = typeStart < 0 ? null : text.slice(typeStart, pos[p + 1])
      p = tb + 2 * s.primaryTitle.text
      const primary = pos[p] < 0 ? null : text.slice(pos[p], pos[p + 1])
      if (type === null || primary === null) {
        this.badRow(b, r, type === null ? 'titleType is \\N' : 'primaryTitle is \\N')
        continue
      }
      this.state!.sent++
      this.titleIds.add(id)
      p = tb + 2 * s.originalTitle.text
      const original = pos[p] < 0 ? null : text.slice(pos[p], pos[p + 1])
      p = tb + 2 * s.genres.text
      const genreList = pos[p] < 0 ? null : text.slice(pos[p], pos[p + 1])
      let avg: number | null = null
      let votes = 0
      if (haveRatings) {
        const i = ratings.indexOf(id)
        if (i >= 0) {
          avg = num(ratings.avg[i])
          votes = ratings.votes[i]
          this.ratingsMatched++
        }
      }
      const a = titles.args
      let k = titles.k
      a[k++] = id
      a[k++] = type
      a[k++] = primary
      a[k++] = original
      const adult = nums[nb + s.isAdult.num]
      a[k++] = Number.isNaN(adult) ? 0 : adult
      a[k++] = num(nums[nb + s.startYear.num])
      a[k++] = num(nums[nb + s.endYear.num])
      a[k++] = num(nums[nb + s.runtimeMinutes.num])
      a[k++] = genreList
      a[k++] = avg
      a[k++] = votes
      titles.k = k
      titles.endRow()
      if (genreList !== null) {
        for (const g of genreList.split(',')) {
          this.grouped.add(g, id)
        }
      }
    }
  }

  private namesBatch(b: ColumnarBatch, names: Bulk): void {
    const l = layoutOf('name.basics')
    const s = slots(l)
    const { nums, text, textPos: pos, ids, idPos } = b
    const nc = l.numCols
    const tc = l.textCols
    const ic = l.idListCols
    const ratings = this.ratings
    const refs = this.refs
    for (let r = 0; r < b.rows; r++) {
      const nb = r * nc
      const tb = 2 * r * tc
      const id = nums[nb + s.nconst.num]
      let p = tb + 2 * s.primaryName.text
      if (pos[p] < 0) {
        this.badRow(b, r, 'primaryName is \\N')
        continue
      }
      this.state!.sent++
      this.nameIds.add(id)
      const name = text.slice(pos[p], pos[p + 1])
      p = tb + 2 * s.primaryProfession.text
      const prof = pos[p] < 0 ? null : text.slice(pos[p], pos[p + 1])
      p = tb + 2 * s.knownForTitles.text
      const known = pos[p] < 0 ? null : text.slice(pos[p], pos[p + 1])
      let popularity = 0
      const q = 2 * (r * ic + s.knownForTitles.ids)
      for (let i = idPos[q]; i < idPos[q + 1]; i++) {
        const t = ids[i]
        const j = ratings.indexOf(t)
        if (j >= 0) popularity += ratings.votes[j]
        refs.check('name.basics', 'title', t)
      }
      const a = names.args
      let k = names.k
      a[k++] = id
      a[k++] = name
      a[k++] = num(nums[nb + s.birthYear.num])
      a[k++] = num(nums[nb + s.deathYear.num])
      a[k++] = prof
      a[k++] = known
      a[k++] = popularity
      names.k = k
      names.endRow()
      if (prof !== null) {
        for (const pr of prof.split(',')) {
          this.grouped.add(pr, id)
        }
      }
    }
  }

  private episodesBatch(b: ColumnarBatch, episodes: Bulk): void {
    const l = layoutOf('title.episode')
    const s = slots(l)
    const nums = b.nums
    const nc = l.numCols
    const refs = this.refs
    for (let r = 0; r < b.rows; r++) {
      const nb = r * nc
      const id = nums[nb + s.tconst.num]
      const parent = nums[nb + s.parentTconst.num]
      if (Number.isNaN(parent)) {
        this.badRow(b, r, 'parentTconst is \\N')
        continue
      }
      this.state!.sent++
      refs.check('title.episode', 'title', id)
      refs.check('title.episode', 'title', parent)
      const a = episodes.args
      let k = episodes.k
      a[k++] = id
      a[k++] = parent
      a[k++] = num(nums[nb + s.seasonNumber.num])
      a[k++] = num(nums[nb + s.episodeNumber.num])
      episodes.k = k
      episodes.endRow()
    }
  }

  private crewBatch(b: ColumnarBatch, crew: Bulk): void {
    const l = layoutOf('title.crew')
    const s = slots(l)
    const { nums, ids, idPos } = b
    const nc = l.numCols
    const ic = l.idListCols
    const refs = this.refs
    this.state!.sent += b.rows
    for (let r = 0; r < b.rows; r++) {
      const id = nums[r * nc + s.tconst.num]
      refs.check('title.crew', 'title', id)
      for (const [role, slot] of [
        ['director', s.directors.ids],
        ['writer', s.writers.ids],
      ] as const) {
        const q = 2 * (r * ic + slot)
        const from = idPos[q]
        for (let i = from; i < idPos[q + 1]; i++) {
          const nameId = ids[i]
          refs.check('title.crew', 'name', nameId)
          const a = crew.args
          a[crew.k++] = id
          a[crew.k++] = role
          a[crew.k++] = i - from + 1
          a[crew.k++] = nameId
          crew.endRow()
        }
      }
    }
  }

  /** titles rows into the page-built file; rows it refuses wait in this database's table. */
  private titlesDirect(b: ColumnarBatch, d: TableFile, staged: Bulk): void {
    const l = layoutOf('title.basics')
    const s = slots(l)
    const nums = b.nums
    const u = b.utf8!
    const up = b.utf8Pos!
    const str = utf8Reader(b)
    const nc = l.numCols
    const tc = l.textCols
    const haveRatings = this.loaded.has('title.ratings')
    const ratings = this.ratings
    for (let r = 0; r < b.rows; r++) {
      const nb = r * nc
      const tb = 2 * r * tc
      const id = nums[nb + s.tconst.num]
      const pType = tb + 2 * s.titleType.text
      const pPrimary = tb + 2 * s.primaryTitle.text
      if (up[pType] < 0 || up[pPrimary] < 0) {
        this.badRow(b, r, up[pType] < 0 ? 'titleType is \\N' : 'primaryTitle is \\N')
        continue
      }
      this.state!.sent++
      this.titleIds.add(id)
      let avg: number | null = null
      let votes = 0
      if (haveRatings) {
        const i = ratings.indexOf(id)
        if (i >= 0) {
          avg = num(ratings.avg[i])
          votes = ratings.votes[i]
          this.ratingsMatched++
        }
      }
      const pOriginal = tb + 2 * s.originalTitle.text
      const pGenres = tb + 2 * s.genres.text
      const adult = nums[nb + s.isAdult.num]
      d.num(0, id)
      d.text(1, u, up[pType], up[pType + 1])
      d.text(2, u, up[pPrimary], up[pPrimary + 1])
      d.text(3, u, up[pOriginal], up[pOriginal + 1])
      d.num(4, Number.isNaN(adult) ? 0 : adult)
      d.num(5, num(nums[nb + s.startYear.num]))
      d.num(6, num(nums[nb + s.endYear.num]))
      d.num(7, num(nums[nb + s.runtimeMinutes.num]))
      d.text(8, u, up[pGenres], up[pGenres + 1])
      d.num(9, avg)
      d.num(10, votes)
      const genres = str(pGenres)
      if (!d.add()) {
        const a = staged.args
        let k = staged.k
        a[k++] = id
        a[k++] = str(pType)
        a[k++] = str(pPrimary)
        a[k++] = str(pOriginal)
        a[k++] = Number.isNaN(adult) ? 0 : adult
        a[k++] = num(nums[nb + s.startYear.num])
        a[k++] = num(nums[nb + s.endYear.num])
        a[k++] = num(nums[nb + s.runtimeMinutes.num])
        a[k++] = genres
        a[k++] = avg
        a[k++] = votes
        staged.k = k
        staged.endRow()
      }
      if (genres !== null) for (const g of genres.split(',')) this.grouped.add(g, id)
    }
  }

  /** names rows into the page-built file; rows it refuses wait in this database's table. */
  private namesDirect(b: ColumnarBatch, d: TableFile, staged: Bulk): void {
    const l = layoutOf('name.basics')
    const s = slots(l)
    const { nums, ids, idPos } = b
    const u = b.utf8!
    const up = b.utf8Pos!
    const str = utf8Reader(b)
    const nc = l.numCols
    const tc = l.textCols
    const ic = l.idListCols
    const ratings = this.ratings
    const refs = this.refs
    for (let r = 0; r < b.rows; r++) {
      const nb = r * nc
      const tb = 2 * r * tc
      const id = nums[nb + s.nconst.num]
      const pName = tb + 2 * s.primaryName.text
      if (up[pName] < 0) {
        this.badRow(b, r, 'primaryName is \\N')
        continue
      }
      this.state!.sent++
      this.nameIds.add(id)
      let popularity = 0
      const q = 2 * (r * ic + s.knownForTitles.ids)
      for (let i = idPos[q]; i < idPos[q + 1]; i++) {
        const t = ids[i]
        const j = ratings.indexOf(t)
        if (j >= 0) popularity += ratings.votes[j]
        refs.check('name.basics', 'title', t)
      }
      const pProf = tb + 2 * s.primaryProfession.text
      const pKnown = tb + 2 * s.knownForTitles.text
      d.num(0, id)
      d.text(1, u, up[pName], up[pName + 1])
      d.num(2, num(nums[nb + s.birthYear.num]))
      d.num(3, num(nums[nb + s.deathYear.num]))
      d.text(4, u, up[pProf], up[pProf + 1])
      d.text(5, u, up[pKnown], up[pKnown + 1])
      d.num(6, popularity)
      const prof = str(pProf)
      if (!d.add()) {
        const a = staged.args
        let k = staged.k
        a[k++] = id
        a[k++] = str(pName)
        a[k++] = num(nums[nb + s.birthYear.num])
        a[k++] = num(nums[nb + s.deathYear.num])
        a[k++] = prof
        a[k++] = str(pKnown)
        a[k++] = popularity
        staged.k = k
        staged.endRow()
      }
      if (prof !== null) for (const p of prof.split(',')) this.grouped.add(p, id)
    }
  }

  /** akas rows into the page-built file; rows it refuses wait in this database's table. */
  private akasDirect(b: ColumnarBatch, d: TableFile, staged: Bulk): void {
    const l = layoutOf('title.akas')
    const s = slots(l)
    const nums = b.nums
    const u = b.utf8!
    const up = b.utf8Pos!
    const nc = l.numCols
    const tc = l.textCols
    const refs = this.refs
    for (let r = 0; r < b.rows; r++) {
      const nb = r * nc
      const tb = 2 * r * tc
      const pt = tb + 2 * s.title.text
      if (up[pt] < 0) {
        this.badRow(b, r, 'title is \\N')
        continue
      }
      this.state!.sent++
      const titleId = nums[nb + s.titleId.num]
      refs.check('title.akas', 'title', titleId)
      d.num(0, titleId)
      d.num(1, nums[nb + s.ordering.num])
      d.text(2, u, up[pt], up[pt + 1])
      let p = tb + 2 * s.region.text
      d.text(3, u, up[p], up[p + 1])
      p = tb + 2 * s.language.text
      d.text(4, u, up[p], up[p + 1])
      p = tb + 2 * s.types.text
      d.text(5, u, up[p], up[p + 1])
      p = tb + 2 * s.attributes.text
      d.text(6, u, up[p], up[p + 1])
      d.num(7, nums[nb + s.isOriginalTitle.num])
      if (!d.add()) this.stageRow(b, r, staged)
    }
  }

  /** principals rows into the page-built file; rows it refuses wait in this database's table. */
  private principalsDirect(b: ColumnarBatch, d: TableFile, staged: Bulk): void {
    const l = layoutOf('title.principals')
    const s = slots(l)
    const nums = b.nums
    const u = b.utf8!
    const up = b.utf8Pos!
    const nc = l.numCols
    const tc = l.textCols
    const refs = this.refs
    for (let r = 0; r < b.rows; r++) {
      const nb = r * nc
      const tb = 2 * r * tc
      const nameId = nums[nb + s.nconst.num]
      const pc = tb + 2 * s.category.text
      if (Number.isNaN(nameId) || up[pc] < 0) {
        this.badRow(b, r, Number.isNaN(nameId) ? 'nconst is \\N' : 'category is \\N')
        continue
      }
      this.state!.sent++
      const titleId = nums[nb + s.tconst.num]
      refs.check('title.principals', 'title', titleId)
      refs.check('title.principals', 'name', nameId)
      d.num(0, titleId)
      d.num(1, nums[nb + s.ordering.num])
      d.num(2, nameId)
      d.text(3, u, up[pc], up[pc + 1])
      let p = tb + 2 * s.job.text
      d.text(4, u, up[p], up[p + 1])
      p = tb + 2 * s.characters.text
      d.text(5, u, up[p], up[p + 1])
      if (!d.add()) this.stageRow(b, r, staged)
    }
  }

  /** A row the page-built file refused, inserted into this database's table to be moved later. */
  private stageRow(b: ColumnarBatch, r: number, staged: Bulk): void {
    const l = layoutOf(b.dataset)
    const str = utf8Reader(b)
    for (const slot of l.slots) {
      if (slot.num >= 0) staged.args[staged.k++] = num(b.nums[r * l.numCols + slot.num])
      else staged.args[staged.k++] = str(2 * (r * l.textCols + slot.text))
    }
    staged.endRow()
  }

  private akasBatch(b: ColumnarBatch, akas: Bulk): void {
    const l = layoutOf('title.akas')
    const s = slots(l)
    const { nums, text, textPos: pos } = b
    const nc = l.numCols
    const tc = l.textCols
    const refs = this.refs
    for (let r = 0; r < b.rows; r++) {
      const nb = r * nc
      const tb = 2 * r * tc
      let p = tb + 2 * s.title.text
      if (pos[p] < 0) {
        this.badRow(b, r, 'title is \\N')
        continue
      }
      this.state!.sent++
      const titleId = nums[nb + s.titleId.num]
      refs.check('title.akas', 'title', titleId)
      const a = akas.args
      let k = akas.k
      a[k++] = titleId
      a[k++] = nums[nb + s.ordering.num]
      a[k++] = text.slice(pos[p], pos[p + 1])
      p = tb + 2 * s.region.text
      a[k++] = pos[p] < 0 ? null : text.slice(pos[p], pos[p + 1])
      p = tb + 2 * s.language.text
      a[k++] = pos[p] < 0 ? null : text.slice(pos[p], pos[p + 1])
      p = tb + 2 * s.types.text
      a[k++] = pos[p] < 0 ? null : text.slice(pos[p], pos[p + 1])
      p = tb + 2 * s.attributes.text
      a[k++] = pos[p] < 0 ? null : text.slice(pos[p], pos[p + 1])
      a[k++] = num(nums[nb + s.isOriginalTitle.num])
      akas.k = k
      akas.endRow()
    }
  }

  private principalsBatch(b: ColumnarBatch, principals: Bulk): void {
    const l = layoutOf('title.principals')
    const s = slots(l)
    const { nums, text, textPos: pos } = b
    const nc = l.numCols
    const tc = l.textCols
    const refs = this.refs
    for (let r = 0; r < b.rows; r++) {
      const nb = r * nc
      const tb = 2 * r * tc
      const nameId = nums[nb + s.nconst.num]
      let p = tb + 2 * s.category.text
      if (Number.isNaN(nameId) || pos[p] < 0) {
        this.badRow(b, r, Number.isNaN(nameId) ? 'nconst is \\N' : 'category is \\N')
        continue
      }
      this.state!.sent++
      const titleId = nums[nb + s.tconst.num]
      refs.check('title.principals', 'title', titleId)
      refs.check('title.principals', 'name', nameId)
      const a = principals.args
      let k = principals.k
      a[k++] = titleId
      a[k++] = nums[nb + s.ordering.num]
      a[k++] = nameId
      a[k++] = text.slice(pos[p], pos[p + 1])
      p = tb + 2 * s.job.text
      a[k++] = pos[p] < 0 ? null : text.slice(pos[p], pos[p + 1])
      p = tb + 2 * s.characters.text
      a[k++] = pos[p] < 0 ? null : text.slice(pos[p], pos[p + 1])
      principals.k = k
      principals.endRow()
    }
  }

  /** Milliseconds per finishing phase (fts, indexes, merge, analyze, sizes). */
  readonly timings: Record<string, number> = {}

  private timed(phase: string, fn: () => void): void {
    const t = performance.now()
    fn()
    this.timings[phase] = (this.timings[phase] ?? 0) + Math.round(performance.now() - t)
  }

  /** Fills titles_fts (primary, original and the distinct aka titles) and names_fts. */
  buildFts(): void {
    const db = this.db
    this.timed('fts', () => {
      db.exec('BEGIN')
      // Bulk load: a big in-memory term hash and no merging while inserting, then one merge
      // ('optimize'); measured 2x faster than the defaults. Both settings persist in the *_config
      // tables, so they are set back to FTS5's defaults for the small incremental updates later.
      for (const t of ['titles_fts', 'names_fts']) {
        db.exec(`INSERT INTO ${t} (${t}, rank) VALUES ('hashsize', ${FTS_HASH_BYTES})`)
        db.exec(`INSERT INTO ${t} (${t}, rank) VALUES ('automerge', 0)`)
      }
      db.exec('INSERT INTO names_fts (rowid, primary_name) SELECT id, primary_name FROM names')
      db.exec(`INSERT INTO titles_fts (rowid, primary_title, original_title, akas)
        SELECT t.id, t.primary_title, t.original_title,
          (SELECT group_concat(title, ' ') FROM (SELECT DISTINCT title FROM akas WHERE title_id = t.id))
        FROM titles t`)
      for (const t of ['titles_fts', 'names_fts']) {
        db.exec(`INSERT INTO ${t} (${t}) VALUES ('optimize')`)
        db.exec(`INSERT INTO ${t} (${t}, rank) VALUES ('hashsize', ${1 << 20})`)
        db.exec(`INSERT INTO ${t} (${t}, rank) VALUES ('automerge', 4)`)
      }
      db.exec('COMMIT')
    })
  }

  /** Builds the secondary indexes of `tables`. */
  buildIndexes(tables: ReadonlySet<string>): void {
    this.timed('indexes', () => {
      const cache = this.db.pragma('cache_size', { simple: true })
      this.db.pragma(`cache_size = ${INDEX_CACHE}`)
      this.db.exec('BEGIN')
      for (const sql of indexesOf(tables)) this.db.exec(sql)
      this.db.exec('COMMIT')
      this.db.pragma(`cache_size = ${cache}`)
    })
  }

  /**
   * Copies `tables` (built with their indexes by another writer in `path`) into this database.
   * With the same indexes declared on the empty destination, INSERT ... SELECT * takes SQLite's
   * transfer path: records and index entries are copied as they are, not rebuilt.
   */
  merge(path: string, tables: ReadonlySet<string>): void {
    const db = this.db
    this.timed('merge', () => {
      db.prepare('ATTACH ? AS side').run(path)
      db.exec('BEGIN')
      for (const sql of indexesOf(tables)) db.exec(sql)
      for (const t of tables) db.exec(`INSERT INTO main.${t} SELECT * FROM side.${t}`)
      db.exec('COMMIT')
      db.exec('DETACH side')
    })
  }

  /** Row counts of tables another writer built (see merge). */
  addRows(rows: Record<string, number>): void {
    for (const [t, n] of Object.entries(rows)) if (n > 0) this.rowCounts[t] = n
  }

  /** Rows written per table by this writer. */
  get tableRows(): Record<string, number> {
    return { ...this.rowCounts }
  }

  /** Sampled statistics for the query planner. */
  analyze(): void {
    this.timed('analyze', () => {
      // A full ANALYZE reads every index of every table.
      this.db.pragma('analysis_limit = 1000')
      this.db.exec('ANALYZE')
    })
  }

  /** Rows and bytes on disk per table. */
  tableStats(): Record<string, TableStat> {
    const tables: Record<string, TableStat> = {}
    this.timed('sizes', () => {
      const counts: Record<string, number> = {
        ...this.rowCounts,
        titles_fts: this.rowCounts.titles ?? 0,
        names_fts: this.rowCounts.names ?? 0,
      }
      const bytes = tableBytes(this.db)
      for (const name of SIZED_TABLES) {
        tables[name] = { rows: counts[name] ?? 0, bytes: bytes ? (bytes.get(name) ?? 0) : null }
      }
    })
    return tables
  }

  /** Writes the meta rows. */
  writeMeta(generation: string, manifest: unknown): void {
    const put = this.db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)')
    put.run('schema_version', String(SCHEMA_VERSION))
    put.run('generation', generation)
    put.run('manifest', JSON.stringify(manifest))
    put.run('cursor_secret', newCursorSecret())
  }

  /** Leaves a file another connection can open: rollback journal, nothing pending. */
  close(): void {
    this.db.pragma('journal_mode = DELETE')
    this.db.close()
  }
}

/** The secondary indexes on `tables`. */
function indexesOf(tables: ReadonlySet<string>): string[] {
  return SECONDARY_INDEXES.filter((sql) => tables.has(/ ON (\w+)/.exec(sql)![1]))
}

/**
 * Bytes per table, its indexes and (for FTS5) its shadow tables included, from dbstat; null when
 * SQLite was built without it.
 */
function tableBytes(db: Database): Map<string, number> | null {
  let rows: { name: string; tbl: string; bytes: number }[]
  try {
    rows = db
      .prepare(
        `SELECT d.name AS name, coalesce(s.tbl_name, d.name) AS tbl, d.pgsize AS bytes
         FROM dbstat AS d LEFT JOIN sqlite_schema AS s ON s.name = d.name WHERE d.aggregate = TRUE`,
      )
      .all() as { name: string; tbl: string; bytes: number }[]
  } catch {
    return null
  }
  const out = new Map<string, number>()
  for (const r of rows) {
    const shadow = /^(titles_fts|names_fts)_/.exec(r.tbl)
    const table = shadow ? shadow[1] : r.tbl
    out.set(table, (out.get(table) ?? 0) + r.bytes)
  }
  return out
}
