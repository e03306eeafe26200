/**
 * The rows of a group as the ingest would store them: lines parsed with the ingest's own parser
 * and rules (duplicates dropped, bad lines skipped, the first row of a key kept), and the plain
 * line-by-line view of an akas or principals group that lets equal lines go unparsed.
 */
import { type DatasetName, datasetSpec } from '../datasets/catalogue.js'
import { type ColumnarBatch, type Layout, layoutOf, TsvParser } from '../datasets/parse.js'

/** Datasets keyed by (id, ordering): a group holds several rows. */
export const COMPOSITE: ReadonlySet<DatasetName> = new Set(['title.akas', 'title.principals'])

/** One row the ingest would store for a group: its line's bytes and its parsed form. */
export interface Row {
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
export class GroupParser {
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

export function findOrd(rows: readonly Row[], ord: number): Row | undefined {
  for (let i = 0; i < rows.length; i++) if (rows[i].ord === ord) return rows[i]
  return undefined
}

/**
 * The lines of a group with their ordering (second field), for a line-by-line comparison. False
 * when an ordering is not a plain number or appears twice: then only the ingest's own rules (the
 * parser's duplicate check, first row kept) can tell which line counts.
 */
export class GroupLines {
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

export function sameBytes(a: Buffer, as: number, ae: number, b: Buffer, bs: number, be: number): boolean {
  return ae - as === be - bs && a.compare(b, bs, be, as, ae) === 0
}
