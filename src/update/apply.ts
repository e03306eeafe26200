/**
 * Applies file diffs to a copy of a dataset database, with the ingest's rules for every table a
 * file feeds: the main table, title_genres and name_professions, crew rows, the rating columns of
 * titles, names.popularity, and the contentless FTS tables (a row is deleted by rowid and inserted
 * again). Everything happens in the one transaction the caller opened; nothing here touches a file
 * being served.
 */

import { type DatasetName, datasetSpec } from '../datasets/catalogue.js'
import { type ColumnarBatch, type Layout, layoutOf, TsvParser } from '../datasets/parse.js'
import type Database from '../db/sqlite/driver.js'
import type { Statement } from '../db/sqlite/driver.js'
import { columnNames, type TableName, tableSpec } from '../db/tables.js'
import { indexOfSorted } from '../lib/sorted.js'
import type { FileDiff, RatingsTable } from './diff.js'

/** Rows added (or removed, negative) per table by an apply. */
export type TableDeltas = Record<string, number>

const num = (v: number): number | null => (Number.isNaN(v) ? null : v)

/** Parses the insert lines of a diff (known good: the diff only keeps rows the ingest keeps). */
function parseLines(dataset: DatasetName, lines: Uint8Array, onBatch: (b: ColumnarBatch) => void): void {
  if (lines.length === 0) return
  const parser = new TsvParser(`${dataset} (changes)`, dataset, { batchRows: 4096, onBatch })
  parser.push(
    Buffer.from(
      `${datasetSpec(dataset)
        .columns.map((c) => c.name)
        .join('\t')}\n`,
    ),
  )
  parser.push(Buffer.from(lines.buffer, lines.byteOffset, lines.byteLength))
  parser.end()
}

interface Slots {
  [column: string]: { num: number; text: number; ids: number }
}

function slotsOf(layout: Layout): Slots {
  return Object.fromEntries(layout.slots.map((s) => [s.column.name, s]))
}

/** The text of a slot of row r, or null. */
function textOf(b: ColumnarBatch, layout: Layout, r: number, slot: number): string | null {
  const p = 2 * (r * layout.textCols + slot)
  return b.textPos[p] < 0 ? null : b.text.slice(b.textPos[p], b.textPos[p + 1])
}

/** Distinct values of a comma-separated list, as the ingest stores them in title_genres. */
function distinct(list: string | null): string[] {
  return list === null ? [] : [...new Set(list.split(','))]
}

/**
 * The table each refreshed file's lines are rows of. Its first columns are the file's, in the
 * file's order (catalogue column i is table column i), and its primary key is the file's key.
 */
export const TABLE_OF_FILE: Partial<Record<DatasetName, TableName>> = {
  'title.basics': 'titles',
  'name.basics': 'names',
  'title.akas': 'akas',
  'title.episode': 'episodes',
  'title.principals': 'principals',
}

/** How the columns of a dataset (catalogue order) map to its table, for in-place updates. */
interface UpdateSpec {
  table: TableName
  /** Catalogue column index -> table column, for the key (WHERE) and the values (SET). */
  key: [number, string][]
  columns: [number, string][]
}

function updateSpecOf(dataset: DatasetName): UpdateSpec | undefined {
  const table = TABLE_OF_FILE[dataset]
  if (!table) return undefined
  const names = columnNames(table)
  const keyLength = tableSpec(table).primaryKey.length
  const fromFile = names
    .slice(0, datasetSpec(dataset).columns.length)
    .map((name, c) => [c, name] as [number, string])
  return { table, key: fromFile.slice(0, keyLength), columns: fromFile.slice(keyLength) }
}

/** `INSERT INTO table (every column) VALUES (?, ...)`: run it with the values in column order. */
function insertSql(table: TableName, verb = 'INSERT'): string {
  const names = columnNames(table)
  return `${verb} INTO ${table} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})`
}

export interface ApplyContext {
  /** The datasets the database was built from (titles get ratings only when title.ratings is one). */
  loaded: ReadonlySet<DatasetName>
  /** The new title.ratings (empty when it is not loaded), set when its diff arrives. */
  ratings: RatingsTable
}

/** SQLite's varint, as FTS5 writes its records. */
function readVarints(b: Uint8Array): number[] {
  const out: number[] = []
  let i = 0
  while (i < b.length) {
    let v = 0
    for (let k = 0; k < 9 && i < b.length; k++) {
      const byte = b[i++]
      if (k === 8) {
        v = v * 256 + byte
        break
      }
      v = v * 128 + (byte & 0x7f)
      if ((byte & 0x80) === 0) break
    }
    out.push(v)
  }
  return out
}

function writeVarints(values: readonly number[]): Buffer {
  const out: number[] = []
  for (let v of values) {
    if (v < 0 || !Number.isSafeInteger(v)) throw new Error(`FTS total out of range: ${v}`)
    const groups: number[] = []
    do {
      groups.push(v % 128)
      v = Math.floor(v / 128)
    } while (v > 0)
    for (let k = groups.length - 1; k >= 0; k--) out.push(groups[k] | (k > 0 ? 0x80 : 0))
  }
  return Buffer.from(out)
}

/**
 * The row count and per-column token totals of a contentless FTS5 table (its "averages" record,
 * which bm25 reads). FTS5 cannot subtract a deleted row's tokens from them in a contentless_delete
 * table, so a refresh keeps them here from each deleted and inserted row's docsize and writes the
 * record back at the end: the ranks are then those of a full rebuild.
 */
class FtsTotals {
  private readonly values: number[]
  private readonly size: Statement
  changed = false

  constructor(
    db: Database,
    readonly table: string,
  ) {
    const block = db.prepare(`SELECT block FROM ${table}_data WHERE id = 1`).pluck().get() as
      | Buffer
      | undefined
    this.values = block ? readVarints(block) : []
    this.size = db.prepare(`SELECT sz FROM ${table}_docsize WHERE id = ?`).pluck()
  }

  /** Call before deleting row `id` (-1) or after inserting it (+1). */
  track(id: number, sign: 1 | -1): void {
    const sz = this.size.get(id) as Buffer | undefined
    if (!sz || this.values.length === 0) return
    this.values[0] += sign
    const cols = readVarints(sz)
    for (let c = 0; c < cols.length; c++) this.values[c + 1] = (this.values[c + 1] ?? 0) + sign * cols[c]
    this.changed = true
  }

  /** Writes the record (outside the transaction that changed the table: FTS5 saves its own copy at commit). */
  save(db: Database): void {
    if (!this.changed) return
    db.prepare(`UPDATE ${this.table}_data SET block = ? WHERE id = 1`).run(writeVarints(this.values))
  }
}

export class Applier {
  readonly deltas: TableDeltas = {}
  /**
   * Titles whose FTS row must be written again: deleted, new or changed titles, titles whose akas
   * changed. FTS5 writes are done last, in rowid order: out of order, each write flushes its
   * pending terms into a new segment (measured 100x slower).
   */
  private readonly ftsTitles = new Set<number>()
  /** Of those, the ones whose titles row existed before (and so had an FTS row), and the new rows. */
  private readonly titlesExisted = new Set<number>()
  private readonly titlesInserted = new Set<number>()
  /** names_fts rows to delete (people deleted or changed), and to insert. */
  private readonly namesFtsDeletes: number[] = []
  private readonly namesFtsInserts = new Map<number, string | null>()
  private readonly stmts = new Map<string, Statement>()

  private readonly titlesFts: FtsTotals
  private readonly namesFts: FtsTotals

  constructor(
    private readonly db: Database,
    private readonly ctx: ApplyContext,
  ) {
    this.titlesFts = new FtsTotals(db, 'titles_fts')
    this.namesFts = new FtsTotals(db, 'names_fts')
  }

  /**
   * Writes the FTS totals back; call after the transaction of the changes committed. Shadow tables
   * are written only with SQLite's defensive mode off, for this statement.
   */
  saveFtsTotals(): void {
    this.db.unsafeMode(true)
    try {
      this.db.exec('BEGIN')
      this.titlesFts.save(this.db)
      this.namesFts.save(this.db)
      this.db.exec('COMMIT')
    } finally {
      this.db.unsafeMode(false)
    }
  }

  private st(sql: string): Statement {
    let s = this.stmts.get(sql)
    if (!s) {
      s = this.db.prepare(sql)
      this.stmts.set(sql, s)
    }
    return s
  }

  private count(table: string, n: number): void {
    this.deltas[table] = (this.deltas[table] ?? 0) + n
  }

  private votesOf(id: number): { avg: number | null; votes: number } {
    if (!this.ctx.loaded.has('title.ratings')) return { avg: null, votes: 0 }
    const i = indexOfSorted(this.ctx.ratings.ids, id)
    return i < 0
      ? { avg: null, votes: 0 }
      : { avg: num(this.ctx.ratings.avg[i]), votes: this.ctx.ratings.votes[i] }
  }

  /** The value of catalogue column c of row r, as the ingest stores it. */
  private valueOf(l: Layout, b: ColumnarBatch, r: number, c: number): unknown {
    const slot = l.slots[c]
    if (slot.num >= 0) {
      const v = b.nums[r * l.numCols + slot.num]
      // isAdult: \N is stored as 0.
      if (Number.isNaN(v)) return l.spec.name === 'title.basics' && c === 4 ? 0 : null
      return v
    }
    return textOf(b, l, r, slot.text)
  }

  /**
   * Rows whose key stays: UPDATE of the columns that changed only, so that indexes on the others
   * are left alone. `each` runs first for what the row feeds elsewhere (genres, FTS, popularity)
   * and may add columns to set.
   */
  private updates(
    d: FileDiff,
    each?: (b: ColumnarBatch, r: number, mask: number, id: number) => Record<string, unknown> | undefined,
  ): void {
    const spec = updateSpecOf(d.dataset)
    if (!spec || d.updateRows === 0) return
    const l = layoutOf(d.dataset)
    const columns = spec.columns
    // One statement per set of changed columns (and extra ones), built once.
    const byMask = new Map<string, { stmt: Statement; cols: number[] }>()
    let k = 0
    parseLines(d.dataset, d.updates, (b) => {
      for (let r = 0; r < b.rows; r++) {
        const mask = d.updateMasks[k++]
        const id = b.nums[r * l.numCols + l.keyNums[0]]
        const extra = each?.(b, r, mask, id)
        const extraNames = extra ? Object.keys(extra) : []
        const key = extraNames.length > 0 ? `${mask}:${extraNames.join(',')}` : String(mask)
        let plan = byMask.get(key)
        if (!plan) {
          const cols = columns.filter(([c]) => (mask & (1 << c)) !== 0)
          const set = [...cols.map(([, name]) => name), ...extraNames]
          if (set.length === 0) continue
          const where = spec.key.map(([, n]) => `${n} = ?`).join(' AND ')
          plan = {
            stmt: this.db.prepare(
              `UPDATE ${spec.table} SET ${set.map((c) => `${c} = ?`).join(', ')} WHERE ${where}`,
            ),
            cols: cols.map(([c]) => c),
          }
          byMask.set(key, plan)
        }
        const args: unknown[] = []
        for (const c of plan.cols) args.push(this.valueOf(l, b, r, c))
        for (const name of extraNames) args.push(extra![name])
        for (const [c] of spec.key) args.push(this.valueOf(l, b, r, c))
        plan.stmt.run(args)
      }
    })
  }

  /** Applies one file's diff: its deletes first, then rows changed in place, then its inserts. */
  apply(d: FileDiff): void {
    switch (d.dataset) {
      case 'title.ratings':
        this.ratings(d)
        break
      case 'title.basics':
        this.titles(d)
        break
      case 'name.basics':
        this.names(d)
        break
      case 'title.akas':
        this.akas(d)
        break
      case 'title.episode':
        this.episodes(d)
        break
      case 'title.crew':
        this.crew(d)
        break
      case 'title.principals':
        this.principals(d)
        break
    }
  }

  /** Titles whose vote count changed (names.popularity sums them). */
  private readonly votesChanged = new Set<number>()

  private ratings(d: FileDiff): void {
    for (const id of d.votesChanged ?? []) this.votesChanged.add(id)
    // The rating columns of titles; names.popularity follows from name.basics' diff.
    if (!this.ctx.loaded.has('title.basics')) return
    const clear = this.st('UPDATE titles SET average_rating = NULL, num_votes = 0 WHERE id = ?')
    for (const id of d.deletes) clear.run(id)
    const set = this.st('UPDATE titles SET average_rating = ?, num_votes = ? WHERE id = ?')
    const l = layoutOf('title.ratings')
    const s = slotsOf(l)
    const each = (b: ColumnarBatch) => {
      for (let r = 0; r < b.rows; r++) {
        const id = b.nums[r * l.numCols + s.tconst.num]
        const v = this.votesOf(id)
        set.run(v.avg, v.votes, id)
      }
    }
    parseLines(d.dataset, d.updates, each)
    parseLines(d.dataset, d.inserts, each)
  }

  /**
   * A table of one row per distinct value of a comma-separated column (title_genres of
   * titles.genres, name_professions of names.primary_profession), kept in step with that column.
   */
  private splitTable(table: 'title_genres' | 'name_professions') {
    const [valueColumn, idColumn] = columnNames(table)
    const del = this.st(`DELETE FROM ${table} WHERE ${valueColumn} = ? AND ${idColumn} = ?`)
    const ins = this.st(insertSql(table, 'INSERT OR IGNORE'))
    return {
      remove: (id: number, list: string | null) => {
        for (const v of distinct(list)) this.count(table, -del.run(v, id).changes)
      },
      add: (id: number, list: string | null) => {
        for (const v of distinct(list)) this.count(table, ins.run(v, id).changes)
      },
    }
  }

  private titles(d: FileDiff): void {
    const find = this.st('SELECT genres FROM titles WHERE id = ?').pluck()
    const titleGenres = this.splitTable('title_genres')
    const del = this.st('DELETE FROM titles WHERE id = ?')
    for (const id of d.deletes) {
      const genres = find.get(id) as string | null | undefined
      if (genres === undefined) continue
      titleGenres.remove(id, genres)
      // Its FTS row goes at the end, with the others, in rowid order.
      this.ftsTitles.add(id)
      this.titlesExisted.add(id)
      this.count('titles', -del.run(id).changes)
    }
    const l = layoutOf('title.basics')
    const s = slotsOf(l)
    this.updates(d, (b, r, mask, id) => {
      // A new primary or original title: a new FTS row.
      if (mask & ((1 << 2) | (1 << 3))) this.ftsTitles.add(id)
      if (mask & (1 << 8)) {
        titleGenres.remove(id, find.get(id) as string | null)
        titleGenres.add(id, textOf(b, l, r, s.genres.text))
      }
      return undefined
    })
    const ins = this.st(insertSql('titles'))
    parseLines(d.dataset, d.inserts, (b) => {
      for (let r = 0; r < b.rows; r++) {
        const n = r * l.numCols
        const id = b.nums[n + s.tconst.num]
        const genres = textOf(b, l, r, s.genres.text)
        const adult = b.nums[n + s.isAdult.num]
        const v = this.votesOf(id)
        ins.run(
          id,
          textOf(b, l, r, s.titleType.text),
          textOf(b, l, r, s.primaryTitle.text),
          textOf(b, l, r, s.originalTitle.text),
          Number.isNaN(adult) ? 0 : adult,
          num(b.nums[n + s.startYear.num]),
          num(b.nums[n + s.endYear.num]),
          num(b.nums[n + s.runtimeMinutes.num]),
          genres,
          v.avg,
          v.votes,
        )
        this.count('titles', 1)
        titleGenres.add(id, genres)
        this.ftsTitles.add(id)
        this.titlesInserted.add(id)
      }
    })
  }

  private popularityOf(b: ColumnarBatch, l: Layout, r: number, slot: number): number {
    if (!this.ctx.loaded.has('title.ratings')) return 0
    const q = 2 * (r * l.idListCols + slot)
    let sum = 0
    for (let i = b.idPos[q]; i < b.idPos[q + 1]; i++) {
      const j = indexOfSorted(this.ctx.ratings.ids, b.ids[i])
      if (j >= 0) sum += this.ctx.ratings.votes[j]
    }
    return sum
  }

  private names(d: FileDiff): void {
    const find = this.st('SELECT primary_profession FROM names WHERE id = ?').pluck()
    const nameProfessions = this.splitTable('name_professions')
    const del = this.st('DELETE FROM names WHERE id = ?')
    for (const id of d.deletes) {
      const prof = find.get(id) as string | null | undefined
      if (prof === undefined) continue
      nameProfessions.remove(id, prof)
      this.namesFtsDeletes.push(id)
      this.count('names', -del.run(id).changes)
    }
    const l = layoutOf('name.basics')
    const s = slotsOf(l)
    this.updates(d, (b, r, mask, id) => {
      if (mask & (1 << 1)) {
        this.namesFtsDeletes.push(id)
        this.namesFtsInserts.set(id, textOf(b, l, r, s.primaryName.text))
      }
      if (mask & (1 << 4)) {
        nameProfessions.remove(id, find.get(id) as string | null)
        nameProfessions.add(id, textOf(b, l, r, s.primaryProfession.text))
      }
      // Popularity moves with the known-for titles, and with their votes.
      const q = 2 * (r * l.idListCols + s.knownForTitles.ids)
      let moved = (mask & (1 << 5)) !== 0
      for (let i = b.idPos[q]; i < b.idPos[q + 1] && !moved; i++) moved = this.votesChanged.has(b.ids[i])
      return moved ? { popularity: this.popularityOf(b, l, r, s.knownForTitles.ids) } : undefined
    })
    const ins = this.st(insertSql('names'))
    parseLines(d.dataset, d.inserts, (b) => {
      for (let r = 0; r < b.rows; r++) {
        const n = r * l.numCols
        const id = b.nums[n + s.nconst.num]
        const name = textOf(b, l, r, s.primaryName.text)
        const prof = textOf(b, l, r, s.primaryProfession.text)
        ins.run(
          id,
          name,
          num(b.nums[n + s.birthYear.num]),
          num(b.nums[n + s.deathYear.num]),
          prof,
          textOf(b, l, r, s.knownForTitles.text),
          this.popularityOf(b, l, r, s.knownForTitles.ids),
        )
        this.count('names', 1)
        nameProfessions.add(id, prof)
        this.namesFtsInserts.set(id, name)
      }
    })
    // People whose line did not change but whose known-for titles' votes did.
    if (d.popularity && d.popularity.length > 0) {
      const set = this.st('UPDATE names SET popularity = ? WHERE id = ?')
      for (let i = 0; i < d.popularity.length; i += 2) set.run(d.popularity[i + 1], d.popularity[i])
    }
  }

  private akas(d: FileDiff): void {
    const del = this.st('DELETE FROM akas WHERE title_id = ? AND ordering = ?')
    for (let i = 0; i < d.deletes.length; i += 2) {
      this.count('akas', -del.run(d.deletes[i], d.deletes[i + 1]).changes)
      this.ftsTitles.add(d.deletes[i])
    }
    this.updates(d, (_b, _r, mask, id) => {
      if (mask & (1 << 2)) this.ftsTitles.add(id)
      return undefined
    })
    const ins = this.st(insertSql('akas'))
    const l = layoutOf('title.akas')
    const s = slotsOf(l)
    parseLines(d.dataset, d.inserts, (b) => {
      for (let r = 0; r < b.rows; r++) {
        const n = r * l.numCols
        const id = b.nums[n + s.titleId.num]
        ins.run(
          id,
          b.nums[n + s.ordering.num],
          textOf(b, l, r, s.title.text),
          textOf(b, l, r, s.region.text),
          textOf(b, l, r, s.language.text),
          textOf(b, l, r, s.types.text),
          textOf(b, l, r, s.attributes.text),
          num(b.nums[n + s.isOriginalTitle.num]),
        )
        this.count('akas', 1)
        this.ftsTitles.add(id)
      }
    })
  }

  private episodes(d: FileDiff): void {
    const del = this.st('DELETE FROM episodes WHERE id = ?')
    for (const id of d.deletes) this.count('episodes', -del.run(id).changes)
    this.updates(d)
    const ins = this.st(insertSql('episodes'))
    const l = layoutOf('title.episode')
    const s = slotsOf(l)
    parseLines(d.dataset, d.inserts, (b) => {
      for (let r = 0; r < b.rows; r++) {
        const n = r * l.numCols
        ins.run(
          b.nums[n + s.tconst.num],
          b.nums[n + s.parentTconst.num],
          num(b.nums[n + s.seasonNumber.num]),
          num(b.nums[n + s.episodeNumber.num]),
        )
        this.count('episodes', 1)
      }
    })
  }

  private crew(d: FileDiff): void {
    const del = this.st('DELETE FROM crew WHERE title_id = ?')
    for (const id of d.deletes) this.count('crew', -del.run(id).changes)
    const ins = this.st(insertSql('crew', 'INSERT OR IGNORE'))
    const l = layoutOf('title.crew')
    const s = slotsOf(l)
    parseLines(d.dataset, d.inserts, (b) => {
      for (let r = 0; r < b.rows; r++) {
        const id = b.nums[r * l.numCols + s.tconst.num]
        for (const [role, slot] of [
          ['director', s.directors.ids],
          ['writer', s.writers.ids],
        ] as const) {
          const q = 2 * (r * l.idListCols + slot)
          const from = b.idPos[q]
          for (let i = from; i < b.idPos[q + 1]; i++) {
            this.count('crew', ins.run(id, role, i - from + 1, b.ids[i]).changes)
          }
        }
      }
    })
  }

  private principals(d: FileDiff): void {
    const del = this.st('DELETE FROM principals WHERE title_id = ? AND ordering = ?')
    for (let i = 0; i < d.deletes.length; i += 2) {
      this.count('principals', -del.run(d.deletes[i], d.deletes[i + 1]).changes)
    }
    this.updates(d)
    const ins = this.st(insertSql('principals'))
    const l = layoutOf('title.principals')
    const s = slotsOf(l)
    parseLines(d.dataset, d.inserts, (b) => {
      for (let r = 0; r < b.rows; r++) {
        const n = r * l.numCols
        ins.run(
          b.nums[n + s.tconst.num],
          b.nums[n + s.ordering.num],
          b.nums[n + s.nconst.num],
          textOf(b, l, r, s.category.text),
          textOf(b, l, r, s.job.text),
          textOf(b, l, r, s.characters.text),
        )
        this.count('principals', 1)
      }
    })
  }

  /**
   * Writes the FTS rows of the titles and people that changed (and of titles whose akas did), with
   * the ingest's own expression for titles (primary title, original title, the distinct aka
   * titles). Deletes first, then inserts, each in rowid order. Call after every diff is applied.
   */
  finishFts(): number {
    const exists = this.st('SELECT 1 FROM titles WHERE id = ?').pluck()
    const ids = [...this.ftsTitles].sort((a, b) => a - b)
    // A title whose titles row was not replaced, but whose akas changed, had an FTS row too.
    const present = ids.filter((id) => exists.get(id) !== undefined)
    const hadRow = ids.filter((id) =>
      this.titlesExisted.has(id) ? true : this.titlesInserted.has(id) ? false : exists.get(id) !== undefined,
    )
    const delTitle = this.st('DELETE FROM titles_fts WHERE rowid = ?')
    for (const id of hadRow) {
      this.titlesFts.track(id, -1)
      delTitle.run(id)
    }
    const values = this.st(`SELECT t.id, t.primary_title, t.original_title,
        (SELECT group_concat(title, ' ') FROM (SELECT DISTINCT title FROM akas WHERE title_id = t.id))
      FROM titles t WHERE t.id = ?`).raw()
    // Values first, then the inserts: an INSERT ... SELECT into FTS5 flushes its terms each time.
    const rows = present.map((id) => values.get(id) as unknown[])
    const insTitle = this.st(
      'INSERT INTO titles_fts (rowid, primary_title, original_title, akas) VALUES (?, ?, ?, ?)',
    )
    for (const r of rows) {
      insTitle.run(r)
      this.titlesFts.track(r[0] as number, 1)
    }

    const delName = this.st('DELETE FROM names_fts WHERE rowid = ?')
    for (const id of this.namesFtsDeletes.sort((a, b) => a - b)) {
      this.namesFts.track(id, -1)
      delName.run(id)
    }
    const insName = this.st('INSERT INTO names_fts (rowid, primary_name) VALUES (?, ?)')
    for (const id of [...this.namesFtsInserts.keys()].sort((a, b) => a - b)) {
      insName.run(id, this.namesFtsInserts.get(id))
      this.namesFts.track(id, 1)
    }
    return rows.length + this.namesFtsInserts.size
  }
}
