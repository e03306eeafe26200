/**
 * The changes a diff has found and not yet handed over, and the counts of all it found: keys of
 * rows to delete, lines of rows to insert, new lines of rows updated in place with the columns
 * that changed. Handed over sorted in numeric key order (take()).
 */
import type { DatasetName } from '../datasets/catalogue.js'
import { type ColumnarBatch, type Layout, layoutOf } from '../datasets/parse.js'
import type { FileDiff, RowCounts } from './diff.js'
import { COMPOSITE, findOrd, type Row, sameBytes } from './diff-rows.js'

/** The changes themselves, without the file's counts and statistics: what a chunk hands over. */
export type ChangeChunk = Omit<
  FileDiff,
  'counts' | 'read' | 'readDelta' | 'badOld' | 'badNew' | 'oldBytes' | 'newBytes' | 'ms'
>

/** A growable array of doubles. */
export class Floats {
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

/** The changes found in a file, as they are found; counts cover the chunks already taken. */
export class ChangeSet {
  readonly counts: RowCounts = { inserted: 0, changed: 0, deleted: 0 }
  /** title.ratings: ids whose vote count changed. */
  readonly votesChanged: Floats | null
  /** name.basics: `[id, popularity]` pairs found since the last chunk (see PopularityCheck). */
  popularity: Floats | null
  private deletes = new Floats()
  private deleteRows = 0
  private inserts = new Bytes()
  // Where each inserted line starts, and its key, to hand the lines over in numeric key order.
  private insertKeys = new Floats()
  private insertRows = 0
  private updates = new Bytes()
  private updateKeys = new Floats()
  private updateRows = 0
  /** Bytes of changes handed over in chunks so far. */
  private flushed = 0
  private readonly layout: Layout
  private readonly idNum: number
  private readonly composite: boolean
  private readonly inPlace: boolean
  private readonly votesSlot: number

  constructor(
    private readonly dataset: DatasetName,
    withPopularity: boolean,
  ) {
    this.layout = layoutOf(dataset)
    this.idNum = this.layout.keyNums[0]
    this.composite = COMPOSITE.has(dataset)
    this.inPlace = UPDATED_IN_PLACE.has(dataset)
    this.votesChanged = dataset === 'title.ratings' ? new Floats() : null
    this.popularity = withPopularity && dataset === 'name.basics' ? new Floats() : null
    this.votesSlot =
      dataset === 'title.ratings' ? this.layout.slots.find((s) => s.column.name === 'numVotes')!.num : -1
  }

  /** Records how the stored rows of an old and a new group differ (either may be empty). */
  compare(oldBuf: Buffer, oldRows: Row[], newBuf: Buffer, newRows: Row[]): void {
    const counts = this.counts
    const votesChanged = this.votesChanged
    for (let i = 0; i < oldRows.length; i++) {
      const o = oldRows[i]
      const n = findOrd(newRows, o.ord)
      if (!n) {
        counts.deleted++
        this.delete(o)
      } else if (!sameBytes(oldBuf, o.s, o.e, newBuf, n.s, n.e)) {
        if (this.inPlace) this.update(newBuf, o, n)
        else {
          counts.changed++
          this.delete(o)
          this.insert(newBuf, n)
        }
      }
      if (votesChanged && this.votesOf(o) !== this.votesOf(n)) votesChanged.push(o.batch.nums[this.idNum])
    }
    for (let i = 0; i < newRows.length; i++) {
      const n = newRows[i]
      if (findOrd(oldRows, n.ord)) continue
      counts.inserted++
      this.insert(newBuf, n)
      if (votesChanged && this.votesOf(n) !== 0) votesChanged.push(n.batch.nums[this.idNum])
    }
  }

  /** Rows found since the last chunk (a popularity change counts as one). */
  get pendingRows(): number {
    return this.deleteRows + this.insertRows + this.updateRows + (this.popularity ? this.popularity.n / 2 : 0)
  }

  /** Bytes of all the changes found, taken or not. */
  get bytes(): number {
    return this.flushed + this.inserts.n + this.updates.n + this.deletes.n * 8
  }

  /** The changes found since the last chunk, sorted, as a diff of their own; starts a new chunk. */
  take(): ChangeChunk {
    const part = {
      dataset: this.dataset,
      deletes: sortKeys(this.deletes.done(), this.composite ? 2 : 1),
      deleteRows: this.deleteRows,
      inserts: sortLines(this.inserts.done(), this.insertKeys.done(), 3).lines,
      insertRows: this.insertRows,
      ...sortedUpdates(this.updates.done(), this.updateKeys.done()),
      updateRows: this.updateRows,
      popularity: this.popularity ? sortKeys(this.popularity.done(), 2) : undefined,
    }
    this.flushed = this.bytes
    this.deletes = new Floats()
    this.inserts = new Bytes()
    this.insertKeys = new Floats()
    this.updates = new Bytes()
    this.updateKeys = new Floats()
    if (this.popularity) this.popularity = new Floats()
    this.deleteRows = 0
    this.insertRows = 0
    this.updateRows = 0
    return part
  }

  private votesOf(row: Row | undefined): number {
    if (!row) return 0
    const v = row.batch.nums[this.votesSlot]
    return Number.isNaN(v) ? 0 : v
  }

  private delete(row: Row): void {
    this.deletes.push(row.batch.nums[this.idNum])
    if (this.composite) this.deletes.push(row.ord)
    this.deleteRows++
  }

  private insert(buf: Buffer, row: Row): void {
    this.insertKeys.push(row.batch.nums[this.idNum])
    this.insertKeys.push(row.ord)
    this.insertKeys.push(this.inserts.n)
    this.inserts.append(buf, row.s, row.e)
    this.insertRows++
  }

  /** Row `n` keeps `o`'s key: records the columns that changed and `n`'s line. */
  private update(buf: Buffer, o: Row, n: Row): void {
    const mask = changedColumns(this.layout, o.batch, n.batch)
    // Other bytes, same values (a line ending, say): nothing to write.
    if (mask === 0) return
    this.counts.changed++
    this.updateKeys.push(n.batch.nums[this.idNum])
    this.updateKeys.push(n.ord)
    this.updateKeys.push(this.updates.n)
    this.updateKeys.push(mask)
    this.updates.append(buf, n.s, n.e)
    this.updateRows++
  }
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
