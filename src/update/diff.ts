/**
 * The difference between two versions of a dataset file, in bounded memory: a streaming merge-join
 * of the old and new files' groups (lines sharing an id, see groups.ts), both in IMDb's order.
 * Groups whose bytes are equal are skipped without parsing; the others are parsed with the ingest's
 * own parser and rules (duplicates dropped, bad lines skipped, the first row of a key kept) into
 * the rows the ingest would store for them, and those are compared row by row.
 *
 * The result is what an apply needs: the keys of rows to delete (deleted or changed) and the lines
 * of rows to insert (inserted or changed), plus counts. The memory it holds is proportional to the
 * change, and capped: past `maxChangedBytes` the diff gives up (a full rebuild is then cheaper).
 */

import { type DatasetName, datasetSpec } from '../datasets/catalogue.js'
import { type ColumnarBatch, type Layout, layoutOf, parseIdBytes, TsvParser } from '../datasets/parse.js'
import { compareKeys, GroupCursor, Peek } from './groups.js'

/** Rows the ingest would store, by what changed. */
export interface RowCounts {
  inserted: number
  changed: number
  deleted: number
}

export interface FileDiff {
  dataset: DatasetName
  /** Keys of the rows to delete, flattened: `[id]` per row, or `[id, ordering]` for akas and principals. */
  deletes: Float64Array
  deleteRows: number
  /** The lines of the rows to insert, each ending in `\n`, in key order. */
  inserts: Uint8Array
  insertRows: number
  /**
   * The new lines of rows whose key stays and some value changed, in key order, and for each a bit
   * mask of the columns that differ (bit i: column i of the catalogue).
   */
  updates: Uint8Array
  updateMasks: Uint32Array
  updateRows: number
  counts: RowCounts
  /** Data lines of the new file, or null when identical stretches were skipped uncounted. */
  read: number | null
  /** Data lines in the new file's groups that were looked at, less the old file's. */
  readDelta: number
  /** Bad lines among the groups that changed: in the old version, in the new one. */
  badOld: number
  badNew: number
  /** title.ratings: ids whose vote count changed (names.popularity depends on them). */
  votesChanged?: Float64Array
  /** name.basics: `[id, popularity]` of people whose line is unchanged but whose popularity moved. */
  popularity?: Float64Array
  oldBytes: number
  newBytes: number
  ms: number
  /** A chunk handed over while the diff went on (its counts are in the final result's). */
  partial?: boolean
}

/** title.ratings as the ingest holds it: ids ascending, first row of an id kept. */
export interface RatingsTable {
  ids: Float64Array
  votes: Float64Array
  avg: Float64Array
}

export interface DiffOptions {
  /**
   * The old file is known to be sorted (it was checked as a new file before): stretches equal in
   * both files are then skipped without looking at their lines, as their order needs no check.
   */
  trustOld?: boolean
  /** name.basics: the new ratings and the ids whose votes changed, to find popularity changes. */
  popularity?: { ratings: RatingsTable; changed: Uint8Array }
  /** Stop with TooManyChangesError once the buffered change exceeds this many bytes. */
  maxChangedBytes?: number
  onProgress?: (p: { oldBytes: number; newBytes: number }) => void
  /**
   * Receives the changes in chunks of about `chunkRows` rows as they are found (disjoint keys, in
   * file order), so that they can be applied while the diff goes on; the result holds the rest.
   */
  onChunk?: (part: FileDiff) => void
  chunkRows?: number
  signal?: AbortSignal
}

export class TooManyChangesError extends Error {
  override name = 'TooManyChangesError'
}

/**
 * Datasets whose changed rows are updated in place (only the columns that changed, so indexes on
 * other columns are left alone); title.crew's rows are a list per title, replaced whole.
 */
const UPDATED_IN_PLACE: ReadonlySet<DatasetName> = new Set([
  'title.basics',
  'title.akas',
  'title.episode',
  'title.principals',
  'title.ratings',
  'name.basics',
])

/** The columns (catalogue order, as bits) whose values differ between row r of two batches. */
function changedColumns(layout: Layout, a: ColumnarBatch, b: ColumnarBatch): number {
  let mask = 0
  const slots = layout.slots
  for (let c = 0; c < slots.length; c++) {
    const slot = slots[c]
    if (slot.num >= 0) {
      const x = a.nums[slot.num]
      const y = b.nums[slot.num]
      if (x !== y && !(Number.isNaN(x) && Number.isNaN(y))) mask |= 1 << c
      continue
    }
    const p = 2 * slot.text
    const xs = a.textPos[p]
    const ys = b.textPos[p]
    if (xs < 0 || ys < 0) {
      // One null, or both.
      if (xs >= 0 || ys >= 0) mask |= 1 << c
      continue
    }
    if (a.text.slice(xs, a.textPos[p + 1]) !== b.text.slice(ys, b.textPos[p + 1])) mask |= 1 << c
  }
  return mask
}

/** Datasets keyed by (id, ordering): a group holds several rows. */
const COMPOSITE: ReadonlySet<DatasetName> = new Set(['title.akas', 'title.principals'])

/** A growable array of doubles. */
class Floats {
  a = new Float64Array(1024)
  n = 0
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = new Float64Array(this.a.length * 2)
      b.set(this.a)
      this.a = b
    }
    this.a[this.n++] = v
  }
  done(): Float64Array {
    return this.a.slice(0, this.n)
  }
}

/** A growable byte buffer. */
class Bytes {
  b = Buffer.allocUnsafe(1 << 16)
  n = 0
  append(src: Uint8Array, s: number, e: number): void {
    const len = e - s
    if (this.n + len + 1 > this.b.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.b.length * 2, this.n + len + 1))
      this.b.copy(bigger, 0, 0, this.n)
      this.b = bigger
    }
    this.b.set(src.subarray(s, e), this.n)
    this.n += len
    this.b[this.n++] = 10
  }
  done(): Uint8Array {
    return new Uint8Array(this.b.subarray(0, this.n))
  }
}

/** One row the ingest would store for a group: its line's bytes and its parsed form. */
interface Row {
  ord: number
  s: number
  e: number
  batch: ColumnarBatch
}

/** Whether the ingest's writer keeps a parsed row (it rejects rows missing a required field). */
export function writerAccepts(dataset: DatasetName, layout: Layout, b: ColumnarBatch, r: number): boolean {
  const text = (name: string) => {
    const slot = layout.slots.find((s) => s.column.name === name)!
    return b.textPos[2 * (r * layout.textCols + slot.text)] >= 0
  }
  const num = (name: string) => {
    const slot = layout.slots.find((s) => s.column.name === name)!
    return !Number.isNaN(b.nums[r * layout.numCols + slot.num])
  }
  switch (dataset) {
    case 'title.basics':
      return text('titleType') && text('primaryTitle')
    case 'name.basics':
      return text('primaryName')
    case 'title.akas':
      return text('title')
    case 'title.episode':
      return num('parentTconst')
    case 'title.principals':
      return num('nconst') && text('category')
    default:
      return true
  }
}

const NL = Buffer.from('\n')

/**
 * Runs lines of one side through the ingest's parser (dedupe on, one row per batch) and its
 * writer's checks, giving the rows the ingest would store for a group.
 */
class GroupParser {
  private readonly parser: TsvParser
  private readonly layout: Layout
  private readonly composite: boolean
  private readonly ordNum: number
  private last: ColumnarBatch | null = null
  bad = 0

  constructor(
    file: string,
    private readonly dataset: DatasetName,
  ) {
    this.layout = layoutOf(dataset)
    this.composite = COMPOSITE.has(dataset)
    this.ordNum = this.composite ? this.layout.keyNums[1] : -1
    this.parser = new TsvParser(file, dataset, {
      batchRows: 1,
      dedupe: true,
      onBatch: (b) => {
        this.last = b
      },
      onBadLine: () => {
        this.bad++
      },
    })
    this.parser.push(
      Buffer.from(
        `${datasetSpec(dataset)
          .columns.map((c) => c.name)
          .join('\t')}\n`,
      ),
    )
  }

  /** The row the ingest would store for the line `buf[s..e)` (no `\n`), or null when it skips the line. */
  rowOf(buf: Buffer, s: number, e: number): Row | null {
    this.last = null
    this.parser.push(buf.subarray(s, e))
    this.parser.push(NL)
    const b = this.last as ColumnarBatch | null
    if (b === null) return null
    if (!writerAccepts(this.dataset, this.layout, b, 0)) {
      this.bad++
      return null
    }
    return { ord: this.composite ? b.nums[this.ordNum] : 0, s, e, batch: b }
  }

  /** The rows of the group `buf[start..end)`: the first the ingest stores of each key. */
  rows(buf: Buffer, start: number, end: number): Row[] {
    const out: Row[] = []
    let s = start
    while (s < end) {
      let nl = buf.indexOf(10, s)
      if (nl < 0 || nl >= end) nl = end
      let e = nl
      if (e > s && buf[e - 1] === 13) e--
      if (e > s) {
        const row = this.rowOf(buf, s, e)
        if (row !== null && findOrd(out, row.ord) === undefined) out.push(row)
      }
      s = nl + 1
    }
    return out
  }
}

function findOrd(rows: readonly Row[], ord: number): Row | undefined {
  for (let i = 0; i < rows.length; i++) if (rows[i].ord === ord) return rows[i]
  return undefined
}

/**
 * The lines of a group with their ordering (second field), for a line-by-line comparison. False
 * when an ordering is not a plain number or appears twice: then only the ingest's own rules (the
 * parser's duplicate check, first row kept) can tell which line counts.
 */
class GroupLines {
  n = 0
  s = new Int32Array(64)
  e = new Int32Array(64)
  ord = new Float64Array(64)
  /** Set when the line was matched with an identical line on the other side. */
  same = new Uint8Array(64)

  read(buf: Buffer, start: number, end: number): boolean {
    this.n = 0
    let s = start
    while (s < end) {
      let nl = buf.indexOf(10, s)
      if (nl < 0 || nl >= end) nl = end
      let e = nl
      if (e > s && buf[e - 1] === 13) e--
      if (e > s) {
        // The ordering: after the first tab, digits without a leading zero, then a tab.
        let i = buf.indexOf(9, s) + 1
        if (i <= 0 || i >= e) return false
        const from = i
        let v = 0
        for (; i < e && buf[i] !== 9; i++) {
          const d = buf[i] - 48
          if (d < 0 || d > 9) return false
          v = v * 10 + d
        }
        if (i === from || (buf[from] === 48 && i - from > 1)) return false
        const n = this.n
        for (let k = 0; k < n; k++) if (this.ord[k] === v) return false
        if (n === this.s.length) this.grow()
        this.s[n] = s
        this.e[n] = e
        this.ord[n] = v
        this.same[n] = 0
        this.n = n + 1
      }
      s = nl + 1
    }
    return true
  }

  private grow(): void {
    const m = this.s.length * 2
    const s = new Int32Array(m)
    s.set(this.s)
    this.s = s
    const e = new Int32Array(m)
    e.set(this.e)
    this.e = e
    const o = new Float64Array(m)
    o.set(this.ord)
    this.ord = o
    this.same = new Uint8Array(m)
  }
}

function sameBytes(a: Buffer, as: number, ae: number, b: Buffer, bs: number, be: number): boolean {
  return ae - as === be - bs && a.compare(b, bs, be, as, ae) === 0
}

/** Diffs the old and new versions of one dataset file (see the module comment). */
export async function diffFile(
  dataset: DatasetName,
  oldFile: string,
  newFile: string,
  opts: DiffOptions = {},
): Promise<FileDiff> {
  const started = performance.now()
  const a = await GroupCursor.open(oldFile, dataset)
  const b = await GroupCursor.open(newFile, dataset)
  const layout = layoutOf(dataset)
  const idNum = layout.keyNums[0]
  const composite = COMPOSITE.has(dataset)
  const oldParser = new GroupParser(oldFile, dataset)
  const newParser = new GroupParser(newFile, dataset)
  let deletes = new Floats()
  let inserts = new Bytes()
  const votesChanged = dataset === 'title.ratings' ? new Floats() : null
  let popularity = opts.popularity && dataset === 'name.basics' ? new Floats() : null
  const counts: RowCounts = { inserted: 0, changed: 0, deleted: 0 }
  let deleteRows = 0
  let insertRows = 0
  /** Bytes of changes handed over in chunks so far. */
  let flushed = 0
  const maxBytes = opts.maxChangedBytes ?? Number.POSITIVE_INFINITY
  const votesSlot =
    dataset === 'title.ratings' ? layout.slots.find((s) => s.column.name === 'numVotes')!.num : -1
  const votesOf = (row: Row | undefined) => {
    if (!row) return 0
    const v = row.batch.nums[votesSlot]
    return Number.isNaN(v) ? 0 : v
  }

  const del = (row: Row) => {
    deletes.push(row.batch.nums[idNum])
    if (composite) deletes.push(row.ord)
    deleteRows++
  }
  // Where each inserted line starts, and its key, to hand the lines over in numeric key order.
  let insertKeys = new Floats()
  const ins = (buf: Buffer, row: Row) => {
    insertKeys.push(row.batch.nums[idNum])
    insertKeys.push(row.ord)
    insertKeys.push(inserts.n)
    inserts.append(buf, row.s, row.e)
    insertRows++
  }

  let updates = new Bytes()
  let updateKeys = new Floats()
  let updateRows = 0
  const inPlace = UPDATED_IN_PLACE.has(dataset)
  const upd = (o: Row, n: Row) => {
    const mask = changedColumns(layout, o.batch, n.batch)
    // Other bytes, same values (a line ending, say): nothing to write.
    if (mask === 0) return
    counts.changed++
    updateKeys.push(n.batch.nums[idNum])
    updateKeys.push(n.ord)
    updateKeys.push(updates.n)
    updateKeys.push(mask)
    updates.append(b.buf, n.s, n.e)
    updateRows++
  }

  /** The changes gathered since the last chunk, sorted, as a diff of their own. */
  const take = (): Omit<
    FileDiff,
    'counts' | 'read' | 'readDelta' | 'badOld' | 'badNew' | 'oldBytes' | 'newBytes' | 'ms'
  > => {
    const part = {
      dataset,
      deletes: sortKeys(deletes.done(), composite ? 2 : 1),
      deleteRows,
      inserts: sortLines(inserts.done(), insertKeys.done(), 3).lines,
      insertRows,
      ...sortedUpdates(updates.done(), updateKeys.done()),
      updateRows,
      popularity: popularity ? sortKeys(popularity.done(), 2) : undefined,
    }
    flushed += inserts.n + updates.n + deletes.n * 8
    deletes = new Floats()
    inserts = new Bytes()
    insertKeys = new Floats()
    updates = new Bytes()
    updateKeys = new Floats()
    if (popularity) popularity = new Floats()
    deleteRows = 0
    insertRows = 0
    updateRows = 0
    return part
  }
  const chunkRows = opts.onChunk ? (opts.chunkRows ?? 16384) : Number.POSITIVE_INFINITY

  const checkSize = () => {
    if (deleteRows + insertRows + updateRows + (popularity ? popularity.n / 2 : 0) >= chunkRows) {
      const part = take()
      opts.onChunk!({
        ...part,
        counts: { inserted: 0, changed: 0, deleted: 0 },
        read: null,
        readDelta: 0,
        badOld: 0,
        badNew: 0,
        oldBytes: a.bytesRead,
        newBytes: b.bytesRead,
        ms: 0,
        partial: true,
      })
    }
    if (flushed + inserts.n + updates.n + deletes.n * 8 > maxBytes) {
      throw new TooManyChangesError(
        `${datasetSpec(dataset).file}: more than ${Math.round(maxBytes / 2 ** 20)} MB of changes`,
      )
    }
  }

  /** Compares the stored rows of an old and a new group (either may be empty). */
  const compare = (oldRows: Row[], newRows: Row[]) => {
    for (let i = 0; i < oldRows.length; i++) {
      const o = oldRows[i]
      const n = findOrd(newRows, o.ord)
      if (!n) {
        counts.deleted++
        del(o)
      } else if (!sameBytes(a.buf, o.s, o.e, b.buf, n.s, n.e)) {
        if (inPlace) upd(o, n)
        else {
          counts.changed++
          del(o)
          ins(b.buf, n)
        }
      }
      if (votesChanged && votesOf(o) !== votesOf(n)) votesChanged.push(o.batch.nums[idNum])
    }
    for (let i = 0; i < newRows.length; i++) {
      const n = newRows[i]
      if (findOrd(oldRows, n.ord)) continue
      counts.inserted++
      ins(b.buf, n)
      if (votesChanged && votesOf(n) !== 0) votesChanged.push(n.batch.nums[idNum])
    }
    checkSize()
  }

  /**
   * A changed group of akas or principals: lines equal on both sides are left alone (the same line
   * parses the same way), only the others are parsed and compared.
   */
  const oldLines = new GroupLines()
  const newLines = new GroupLines()
  const oldRows: Row[] = []
  const newRows: Row[] = []
  const compareLines = () => {
    if (!oldLines.read(a.buf, a.start, a.end) || !newLines.read(b.buf, b.start, b.end)) {
      compare(oldParser.rows(a.buf, a.start, a.end), newParser.rows(b.buf, b.start, b.end))
      return
    }
    for (let i = 0; i < oldLines.n; i++) {
      for (let j = 0; j < newLines.n; j++) {
        if (newLines.ord[j] !== oldLines.ord[i]) continue
        if (sameBytes(a.buf, oldLines.s[i], oldLines.e[i], b.buf, newLines.s[j], newLines.e[j])) {
          oldLines.same[i] = 1
          newLines.same[j] = 1
        }
        break
      }
    }
    oldRows.length = 0
    newRows.length = 0
    for (let i = 0; i < oldLines.n; i++) {
      if (oldLines.same[i]) continue
      const row = oldParser.rowOf(a.buf, oldLines.s[i], oldLines.e[i])
      if (row) oldRows.push(row)
    }
    for (let j = 0; j < newLines.n; j++) {
      if (newLines.same[j]) continue
      const row = newParser.rowOf(b.buf, newLines.s[j], newLines.e[j])
      if (row) newRows.push(row)
    }
    compare(oldRows, newRows)
  }

  const pop = popularity ? new PopularityCheck(opts.popularity!) : null
  const canSkip = opts.trustOld === true
  let skipped = 0
  let lastProgress = 0
  try {
    for (;;) {
      const sa = a.peek()
      if (sa === Peek.NeedData) {
        await a.fill()
        continue
      }
      const sb = b.peek()
      if (sb === Peek.NeedData) {
        await b.fill()
        if (opts.onProgress && performance.now() - lastProgress > 200) {
          lastProgress = performance.now()
          opts.onProgress({ oldBytes: a.bytesRead, newBytes: b.bytesRead })
        }
        if (opts.signal?.aborted) throw opts.signal.reason
        continue
      }
      if (sa === Peek.End && sb === Peek.End) break
      // Lines whose first field is not an id are skipped by the ingest, wherever they are.
      if (sa === Peek.Group && !a.valid) {
        a.consume()
        continue
      }
      if (sb === Peek.Group && !b.valid) {
        newParser.bad++
        b.consume()
        continue
      }
      let cmp: number
      if (sa === Peek.End) cmp = 1
      else if (sb === Peek.End) cmp = -1
      else cmp = compareKeys(a.buf, a.start, a.keyEnd, b.buf, b.start, b.keyEnd)
      if (cmp === 0) {
        if (!sameBytes(a.buf, a.start, a.end, b.buf, b.start, b.end)) {
          if (composite) compareLines()
          else compare(oldParser.rows(a.buf, a.start, a.end), newParser.rows(b.buf, b.start, b.end))
        } else if (pop) {
          pop.check(b, newParser, popularity!)
        }
        a.consume()
        b.consume()
        if (canSkip) {
          const from = b.pos
          const n = skipEqual(a, b)
          // People in the skipped stretch may still have a new popularity.
          if (n > 0 && pop) {
            pop.region(b.buf, from, from + n, newParser, popularity!)
            checkSize()
          }
          skipped += n
        }
      } else if (cmp < 0) {
        compare(oldParser.rows(a.buf, a.start, a.end), [])
        a.consume()
      } else {
        compare([], newParser.rows(b.buf, b.start, b.end))
        b.consume()
      }
    }
    a.checkEnded()
    b.checkEnded()
  } finally {
    a.destroy()
    b.destroy()
  }
  return {
    ...take(),
    counts,
    read: skipped > 0 ? null : b.linesRead,
    readDelta: b.linesRead - a.linesRead,
    badOld: oldParser.bad,
    badNew: newParser.bad,
    votesChanged: votesChanged?.done(),
    oldBytes: a.bytesRead,
    newBytes: b.bytesRead,
    ms: Math.round(performance.now() - started),
  }
}

const SKIP_MIN = 512

/**
 * With both cursors just past the same id: the length of the bytes equal in both that follow, as
 * whole groups, skipped in both. Returns the bytes skipped (0 when there is nothing to skip).
 */
function skipEqual(a: GroupCursor, b: GroupCursor): number {
  const ab = a.buf
  const bb = b.buf
  const as = a.pos
  const bs = b.pos
  const avail = Math.min(ab.length - as, bb.length - bs)
  if (avail < SKIP_MIN) return 0
  // Gallop, then halve: `n` bytes are equal.
  let n = 0
  let w = SKIP_MIN
  while (n + w <= avail && equalAt(ab, as + n, bb, bs + n, w)) {
    n += w
    w = Math.min(w * 2, 1 << 20)
  }
  if (n === 0) return 0
  while (w > 128) {
    w >>= 1
    if (n + w <= avail && equalAt(ab, as + n, bb, bs + n, w)) n += w
  }
  // The last whole line in the equal bytes, then back to the start of its group: everything
  // before that is whole groups, equal in both files.
  const end = bb.lastIndexOf(10, bs + n - 1)
  if (end <= bs) return 0
  let start = bb.lastIndexOf(10, end - 1) + 1
  const len = keyEndIn(bb, start, end) - start
  if (len === 0) return 0
  while (start > bs) {
    const prev = bb.lastIndexOf(10, start - 2) + 1
    if (prev < bs || keyEndIn(bb, prev, end) - prev !== len || !equalAt(bb, start, bb, prev, len)) break
    start = prev
  }
  if (start <= bs) return 0
  // The id the next group must follow: the last one skipped, a well-formed id.
  const lastStart = bb.lastIndexOf(10, start - 2) + 1
  const lastEnd = keyEndIn(bb, lastStart, end)
  if (lastStart < bs || !b.isPlainId(bb, lastStart, lastEnd)) return 0
  const skip = start - bs
  a.skip(skip, bb, lastStart, lastEnd)
  b.skip(skip, bb, lastStart, lastEnd)
  return skip
}

function equalAt(a: Buffer, as: number, b: Buffer, bs: number, len: number): boolean {
  return a.compare(b, bs, bs + len, as, as + len) === 0
}

/** The end of the first field of the line at p (p itself when there is no tab before `limit`). */
function keyEndIn(buf: Buffer, p: number, limit: number): number {
  const t = buf.indexOf(9, p)
  return t < 0 || t > limit ? p : t
}

/**
 * Keys (`width` numbers each, the first two compared) in ascending numeric order. The files are in
 * text order (`tt10000001` before `tt1000001`): SQLite's b-trees are in numeric order, and applying
 * changes in their order touches each page once.
 */
function sortKeys(keys: Float64Array, width: number): Float64Array {
  const n = keys.length / width
  const order = Array.from({ length: n }, (_, i) => i)
  order.sort(
    (x, y) =>
      keys[x * width] - keys[y * width] || (width > 1 ? keys[x * width + 1] - keys[y * width + 1] : 0),
  )
  const out = new Float64Array(keys.length)
  for (let i = 0; i < n; i++) {
    const from = order[i] * width
    for (let j = 0; j < width; j++) out[i * width + j] = keys[from + j]
  }
  return out
}

/**
 * Lines in numeric key order; `keys` holds `width` numbers per line: id, ordering, start, and
 * anything else (carried along in `order`).
 */
function sortLines(
  lines: Uint8Array,
  keys: Float64Array,
  width: number,
): { lines: Uint8Array; order: number[] } {
  const n = keys.length / width
  const order = Array.from({ length: n }, (_, i) => i)
  order.sort((x, y) => keys[x * width] - keys[y * width] || keys[x * width + 1] - keys[y * width + 1])
  const out = new Uint8Array(lines.length)
  let o = 0
  for (const i of order) {
    const end = i + 1 < n ? keys[(i + 1) * width + 2] : lines.length
    for (let p = keys[i * width + 2]; p < end; p++) out[o++] = lines[p]
  }
  return { lines: out, order }
}

function sortedUpdates(
  lines: Uint8Array,
  keys: Float64Array,
): { updates: Uint8Array; updateMasks: Uint32Array } {
  const sorted = sortLines(lines, keys, 4)
  const masks = new Uint32Array(sorted.order.length)
  sorted.order.forEach((i, k) => {
    masks[k] = keys[i * 4 + 3]
  })
  return { updates: sorted.lines, updateMasks: masks }
}

/**
 * names.popularity is the sum of the votes of a person's known-for titles: a person whose line did
 * not change still gets a new popularity when one of those titles' votes changed.
 */
class PopularityCheck {
  private readonly changed: Uint8Array
  private readonly ratings: RatingsTable

  constructor(ctx: { ratings: RatingsTable; changed: Uint8Array }) {
    this.changed = ctx.changed
    this.ratings = ctx.ratings
  }

  private hit(id: number): boolean {
    const byte = id >>> 3
    return byte < this.changed.length && (this.changed[byte] & (1 << (id & 7))) !== 0
  }

  /** Checks the current (unchanged) group of the new file; records `[id, popularity]` on a hit. */
  check(b: GroupCursor, parser: GroupParser, out: Floats): void {
    this.group(b.buf, b.start, b.end, b.lines, parser, out)
  }

  /**
   * The group `buf[start..end)` (`lines` lines): when its stored row lists a title whose votes
   * changed, records `[id, popularity]`.
   */
  private group(
    buf: Buffer,
    start: number,
    end: number,
    lines: number,
    parser: GroupParser,
    out: Floats,
  ): void {
    let s = start
    let e = end
    if (lines > 1) {
      // Duplicates: the ingest stores the first row it accepts.
      const rows = parser.rows(buf, start, end)
      if (rows.length === 0) return
      s = rows[0].s
      e = rows[0].e
    } else {
      while (e > s && (buf[e - 1] === 10 || buf[e - 1] === 13)) e--
    }
    // knownForTitles is the last field.
    const tab = buf.lastIndexOf(9, e - 1)
    if (tab < s) return
    let any = false
    let from = tab + 1
    if (e - from === 2 && buf[from] === 92 && buf[from + 1] === 78) return
    for (let i = from; i <= e; i++) {
      if (i === e || buf[i] === 44) {
        const id = parseIdBytes(buf, from, i, 116, 116)
        if (Number.isNaN(id)) return
        if (this.hit(id)) any = true
        from = i + 1
      }
    }
    if (!any) return
    let sum = 0
    from = tab + 1
    for (let i = from; i <= e; i++) {
      if (i === e || buf[i] === 44) {
        const j = indexOf(this.ratings.ids, parseIdBytes(buf, from, i, 116, 116))
        if (j >= 0) sum += this.ratings.votes[j]
        from = i + 1
      }
    }
    const keyEnd = buf.indexOf(9, s)
    out.push(parseIdBytes(buf, s, keyEnd < 0 || keyEnd > e ? e : keyEnd, 110, 109))
    out.push(sum)
  }

  /**
   * Whole groups skipped unread (equal in both files): a byte scan for title ids (`tt` and digits
   * after a tab or a comma: only known-for titles look like that) whose votes changed, and a look
   * at the groups they are in.
   */
  region(buf: Buffer, start: number, end: number, parser: GroupParser, out: Floats): void {
    let i = start + 1
    while (i < end - 2) {
      i = buf.indexOf(TT, i)
      if (i < 0 || i >= end - 2) return
      if (buf[i - 1] !== 9 && buf[i - 1] !== 44) {
        i += 2
        continue
      }
      let k = i + 2
      let id = 0
      while (k < end && buf[k] >= 48 && buf[k] <= 57) id = id * 10 + (buf[k++] - 48)
      if (k === i + 2 || !this.hit(id)) {
        i = k
        continue
      }
      // The group of that line: the lines around it with the same id.
      const ls = buf.lastIndexOf(10, i) + 1
      const key = buf.indexOf(9, ls)
      const keyLen = key - ls
      let gs = ls
      while (gs > start) {
        const prev = buf.lastIndexOf(10, gs - 2) + 1
        if (buf[prev + keyLen] !== 9 || buf.compare(buf, ls, key, prev, prev + keyLen) !== 0) break
        gs = prev
      }
      let ge = buf.indexOf(10, i) + 1
      let lines = 1 + (ls - gs > 0 ? countLines(buf, gs, ls) : 0)
      while (
        ge > 0 &&
        ge < end &&
        buf[ge + keyLen] === 9 &&
        buf.compare(buf, ls, key, ge, ge + keyLen) === 0
      ) {
        ge = buf.indexOf(10, ge) + 1
        lines++
      }
      if (ge <= 0) ge = end
      this.group(buf, gs, ge, lines, parser, out)
      i = ge + 1
    }
  }
}

const TT = Buffer.from('tt')

function countLines(buf: Buffer, s: number, e: number): number {
  let n = 0
  for (let i = s; i < e; i++) if (buf[i] === 10) n++
  return n
}

/** Binary search in ascending ids; -1 when absent. */
export function indexOf(ids: Float64Array, id: number): number {
  let lo = 0
  let hi = ids.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    const v = ids[mid]
    if (v < id) lo = mid + 1
    else if (v > id) hi = mid - 1
    else return mid
  }
  return -1
}
