/**
 * The byte-level TSV parser shared by the row reader and the ingest workers.
 *
 * It turns decompressed chunks into columnar batches: numbers (ids, ints, floats, bools) in one
 * Float64Array, text in one string per batch with UTF-16 positions, the ids of idList columns in a
 * flat Float64Array. A batch crosses threads as a few transferable buffers plus one string, which
 * costs a fraction of structured-cloning row objects, and no JS string is made per field here.
 */

import { isUtf8 } from 'node:buffer'
import { type ColumnSpec, type DatasetName, type DatasetSpec, datasetSpec } from './catalogue.js'

export type DatasetErrorCode =
  | 'DATASET_MISSING'
  | 'DATASET_CORRUPT'
  | 'DATASET_HEADER_MISMATCH'
  | 'DATASET_BAD_LINE'
  | 'DATASET_READ_FAILED'

/** An unusable dataset file. `code` is stable; the message names the file, the line and what to do. */
export class DatasetError extends Error {
  override name = 'DatasetError'
  readonly code: DatasetErrorCode
  readonly file: string
  readonly line: number | undefined

  constructor(
    code: DatasetErrorCode,
    file: string,
    message: string,
    opts: { line?: number; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.code = code
    this.file = file
    this.line = opts.line
  }

  /** Plain data for postMessage (class identity does not survive structured clone). */
  toJSON(): SerializedDatasetError {
    return { name: 'DatasetError', code: this.code, file: this.file, line: this.line, message: this.message }
  }

  static fromJSON(e: SerializedDatasetError): DatasetError {
    return new DatasetError(e.code, e.file, e.message, { line: e.line })
  }
}

export interface SerializedDatasetError {
  name: 'DatasetError'
  code: DatasetErrorCode
  file: string
  line: number | undefined
  message: string
}

/** A line that was skipped: wrong field count or a field that does not parse as its type. */
export interface BadLine {
  line: number
  reason: string
}

type SlotKind = 'tconst' | 'nconst' | 'int' | 'float' | 'bool' | 'text' | 'idList'

export interface Slot {
  readonly column: ColumnSpec
  readonly kind: SlotKind
  /** Index in the row's numbers (ids, ints, floats, bools), or -1. */
  readonly num: number
  /** Index in the row's text positions (text, lists, json, and the raw text of idLists), or -1. */
  readonly text: number
  /** Index in the row's id-list positions, or -1. */
  readonly ids: number
  /** The two prefix bytes of ids in this column (`tt`, `nm`), or empty. */
  readonly prefix: readonly number[]
}

/** Where each column of a dataset lives in a {@link ColumnarBatch}. */
export interface Layout {
  readonly spec: DatasetSpec
  readonly slots: readonly Slot[]
  readonly numCols: number
  readonly textCols: number
  readonly idListCols: number
  /** Number slots of the key columns, in key order. */
  readonly keyNums: readonly number[]
}

const layouts = new Map<DatasetName, Layout>()
const TT = [116, 116]
const NM = [110, 109]

export function layoutOf(name: DatasetName): Layout {
  let layout = layouts.get(name)
  if (layout) return layout
  const spec = datasetSpec(name)
  let num = 0
  let text = 0
  let ids = 0
  const slots: Slot[] = spec.columns.map((column) => {
    switch (column.type) {
      case 'tconst':
        return { column, kind: column.type, num: num++, text: -1, ids: -1, prefix: TT }
      case 'nconst':
        return { column, kind: column.type, num: num++, text: -1, ids: -1, prefix: NM }
      case 'int':
      case 'float':
      case 'bool':
        return { column, kind: column.type, num: num++, text: -1, ids: -1, prefix: [] }
      case 'idList':
        // knownForTitles lists titles; directors and writers list people.
        return {
          column,
          kind: 'idList',
          num: -1,
          text: text++,
          ids: ids++,
          prefix: column.name === 'knownForTitles' ? TT : NM,
        }
      default:
        return { column, kind: 'text', num: -1, text: text++, ids: -1, prefix: [] }
    }
  })
  const keyNums = spec.key.map((k) => slots.find((s) => s.column.name === k)!.num)
  layout = { spec, slots, numCols: num, textCols: text, idListCols: ids, keyNums }
  layouts.set(name, layout)
  return layout
}

/**
 * Rows of one dataset, column-typed. Row r's numbers are `nums[r * numCols + slot.num]` (NaN is
 * null); its text is `text.slice(textPos[2 * (r * textCols + slot.text)], textPos[... + 1])` (start
 * -1 is null); its ids are `ids[idPos[2k]]..ids[idPos[2k + 1]]` with k = r * idListCols + slot.ids.
 */
export interface ColumnarBatch {
  dataset: DatasetName
  rows: number
  /** Line number (1-based, header is line 1) of each row. */
  lines: Int32Array
  nums: Float64Array
  text: string
  textPos: Int32Array
  ids: Float64Array
  idPos: Int32Array
  /**
   * With the `raw` option and valid UTF-8: the text as bytes, `text` and `textPos` left unset. Field
   * k's bytes are `utf8[utf8Pos[2k]..utf8Pos[2k + 1]]`, start -1 for null, k indexed as for textPos.
   */
  utf8?: Uint8Array
  utf8Pos?: Int32Array
}

/** The buffers of a batch that postMessage can move instead of copy. */
export function transferList(b: ColumnarBatch): ArrayBuffer[] {
  const list = [
    b.lines.buffer,
    b.nums.buffer,
    b.textPos.buffer,
    b.ids.buffer,
    b.idPos.buffer,
  ] as ArrayBuffer[]
  if (b.utf8) list.push(b.utf8.buffer as ArrayBuffer, b.utf8Pos!.buffer as ArrayBuffer)
  return list
}

export interface ParseStats {
  /** Data lines seen (header and blank lines excluded). */
  lines: number
  /** Rows emitted. */
  rows: number
  /** Lines skipped as bad. */
  skipped: number
  /** Rows dropped because their key equals the previous row's. */
  duplicates: number
  /** Rows whose key is lower than the previous row's: the file is not sorted as documented. */
  outOfOrder: number
}

export interface ParserOptions {
  /** Rows per batch. */
  batchRows?: number
  /** Make a bad line fatal instead of skipped. */
  strict?: boolean
  /** Drop a row whose key equals the previous row's (counted in `duplicates`). */
  dedupe?: boolean
  /** Hand over text as UTF-8 bytes (`utf8`, `utf8Pos`) instead of a decoded string when valid. */
  raw?: boolean
  /** Called with each full batch; the parser never touches an emitted batch again. */
  onBatch: (batch: ColumnarBatch) => void
  /** Called for each skipped line (not in strict mode, where it throws). */
  onBadLine?: (bad: BadLine) => void
}

const TAB = 9
const LF = 10
const CR = 13
const COMMA = 44
const MINUS = 45
const DOT = 46
const ZERO = 48
const BACKSLASH = 92
const UPPER_N = 78

/** Incremental parser of one dataset file: feed it decompressed chunks, then call `end()`. */
export class TsvParser {
  readonly stats: ParseStats = { lines: 0, rows: 0, skipped: 0, duplicates: 0, outOfOrder: 0 }
  private readonly layout: Layout
  private readonly batchRows: number
  private readonly strict: boolean
  private readonly dedupe: boolean
  private readonly raw: boolean
  private readonly onBatch: (batch: ColumnarBatch) => void
  private readonly onBadLine: ((bad: BadLine) => void) | undefined
  private readonly fieldCount: number
  private readonly fieldStart: Int32Array
  private readonly fieldEnd: Int32Array
  private readonly prevKey: Float64Array
  private readonly curKey: Float64Array
  private havePrev = false
  private lineNo = 0
  private headerSeen = false
  private rest: Buffer | null = null

  // The batch being filled.
  private rows = 0
  private lines!: Int32Array
  private nums!: Float64Array
  private textPos!: Int32Array
  /** Byte positions of the text fields in textBytes, only used to recover from invalid UTF-8. */
  private textBytePos: Int32Array
  private idPos!: Int32Array
  private ids!: Float64Array
  private idLen = 0
  private textBytes: Buffer = Buffer.allocUnsafeSlow(1 << 16)
  private textLen = 0
  /** UTF-16 length of the text so far, valid while the bytes are well-formed UTF-8. */
  private textUnits = 0

  constructor(
    readonly file: string,
    dataset: DatasetName,
    opts: ParserOptions,
  ) {
    this.layout = layoutOf(dataset)
    this.batchRows = opts.batchRows ?? 4096
    this.strict = opts.strict ?? false
    this.dedupe = opts.dedupe ?? false
    this.raw = opts.raw ?? false
    this.onBatch = opts.onBatch
    this.onBadLine = opts.onBadLine
    this.fieldCount = this.layout.slots.length
    this.fieldStart = new Int32Array(this.fieldCount)
    this.fieldEnd = new Int32Array(this.fieldCount)
    this.textBytePos = new Int32Array(this.batchRows * this.layout.textCols * 2)
    this.prevKey = new Float64Array(this.layout.keyNums.length)
    this.curKey = new Float64Array(this.layout.keyNums.length)
    this.newBatch()
  }

  get dataset(): DatasetName {
    return this.layout.spec.name
  }

  /** Parses every complete line of `chunk`; the incomplete tail waits for the next chunk. */
  push(chunk: Buffer): void {
    let pos = 0
    if (this.rest !== null) {
      const nl = chunk.indexOf(LF)
      if (nl < 0) {
        this.rest = Buffer.concat([this.rest, chunk])
        return
      }
      const line = Buffer.concat([this.rest, chunk.subarray(0, nl)])
      this.rest = null
      this.line(line, 0, line.length)
      pos = nl + 1
    }
    const len = chunk.length
    while (pos < len) {
      const nl = chunk.indexOf(LF, pos)
      if (nl < 0) {
        this.rest = Buffer.from(chunk.subarray(pos))
        return
      }
      this.line(chunk, pos, nl)
      pos = nl + 1
    }
  }

  /** Parses a last line without a newline and emits the last batch. */
  end(): void {
    if (this.rest !== null) {
      const line = this.rest
      this.rest = null
      this.line(line, 0, line.length)
    }
    if (!this.headerSeen) {
      throw new DatasetError(
        'DATASET_HEADER_MISMATCH',
        this.file,
        `${this.file}: the file is empty (no header line); download ${this.layout.spec.file} again`,
      )
    }
    this.flush()
  }

  private newBatch(): void {
    const n = this.batchRows
    const l = this.layout
    this.rows = 0
    this.lines = new Int32Array(n)
    this.nums = new Float64Array(n * l.numCols)
    this.textPos = new Int32Array(n * l.textCols * 2)
    this.idPos = new Int32Array(n * l.idListCols * 2)
    this.ids = new Float64Array(l.idListCols > 0 ? n * 4 : 0)
    this.idLen = 0
    this.textLen = 0
    this.textUnits = 0
  }

  private flush(): void {
    if (this.rows === 0) return
    const batch: ColumnarBatch = {
      dataset: this.layout.spec.name,
      rows: this.rows,
      lines: this.lines,
      nums: this.nums,
      text: '',
      textPos: this.textPos,
      ids: this.ids,
      idPos: this.idPos,
    }
    if (this.raw && isUtf8(this.textBytes.subarray(0, this.textLen))) {
      // The bytes themselves go (moved, not copied) to a consumer that writes them as they are.
      batch.utf8 = this.textBytes.subarray(0, this.textLen)
      batch.utf8Pos = this.textBytePos
      this.textBytes = Buffer.allocUnsafeSlow(this.textBytes.length)
      this.textBytePos = new Int32Array(this.textBytePos.length)
    } else {
      batch.text = this.textBytes.toString('utf8', 0, this.textLen)
      // Invalid UTF-8 decodes to U+FFFD and breaks the counted positions: recount this batch by
      // decoding each field, which is slow but only happens on broken input.
      if (batch.text.length !== this.textUnits) batch.text = this.recountText()
    }
    this.onBatch(batch)
    this.stats.rows += this.rows
    this.newBatch()
  }

  /** Positions were counted as UTF-16 units assuming valid UTF-8; rebuild them by decoding each field. */
  private recountText(): string {
    const pos = this.textPos
    const bytePos = this.textBytePos
    const parts: string[] = []
    let units = 0
    for (let i = 0; i < this.rows * this.layout.textCols; i++) {
      if (pos[2 * i] < 0) continue
      const str = this.textBytes.toString('utf8', bytePos[2 * i], bytePos[2 * i + 1])
      parts.push(str)
      pos[2 * i] = units
      units += str.length
      pos[2 * i + 1] = units
    }
    return parts.join('')
  }

  private bad(reason: string): void {
    const bad = { line: this.lineNo, reason }
    if (this.strict) {
      throw new DatasetError(
        'DATASET_BAD_LINE',
        this.file,
        `${this.file}:${this.lineNo}: ${reason}; fix or remove the line, or run without --strict to skip it`,
        { line: this.lineNo },
      )
    }
    this.stats.skipped++
    this.onBadLine?.(bad)
  }

  private header(buf: Buffer, start: number, end: number): void {
    this.headerSeen = true
    let text = buf.toString('utf8', start, end)
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
    const found = text.split('\t')
    const expected = this.layout.slots.map((s) => s.column.name)
    if (found.length !== expected.length || found.some((f, i) => f !== expected[i])) {
      throw new DatasetError(
        'DATASET_HEADER_MISMATCH',
        this.file,
        `${this.file}: header does not match the catalogue for ${this.layout.spec.name}: ` +
          `expected "${expected.join('\\t')}", found "${found.join('\\t')}"; IMDb may have changed the format: ` +
          'check the file, then update src/datasets/catalogue.ts and the schema',
        { line: 1 },
      )
    }
  }

  private line(buf: Buffer, start: number, end: number): void {
    this.lineNo++
    if (end > start && buf[end - 1] === CR) end--
    if (!this.headerSeen) {
      this.header(buf, start, end)
      return
    }
    if (end === start) return
    this.stats.lines++

    // Split into fields.
    const fs = this.fieldStart
    const fe = this.fieldEnd
    const want = this.fieldCount
    let n = 0
    fs[0] = start
    for (let i = start; i < end; i++) {
      if (buf[i] === TAB) {
        if (n + 1 >= want) {
          n = -1
          break
        }
        fe[n] = i
        fs[++n] = i + 1
      }
    }
    if (n === -1) {
      let found = 1
      for (let i = start; i < end; i++) if (buf[i] === TAB) found++
      this.bad(`expected ${want} fields, found ${found}`)
      return
    }
    fe[n] = end
    if (n + 1 !== want) {
      this.bad(`expected ${want} fields, found ${n + 1}`)
      return
    }

    const l = this.layout
    const slots = l.slots
    const r = this.rows
    const numBase = r * l.numCols
    const nums = this.nums

    // Numbers first: a bad number rejects the line before any text is copied.
    for (let c = 0; c < want; c++) {
      const slot = slots[c]
      if (slot.num < 0) continue
      const s = fs[c]
      const e = fe[c]
      let v: number
      if (e - s === 2 && buf[s] === BACKSLASH && buf[s + 1] === UPPER_N) v = Number.NaN
      else if (slot.kind === 'tconst' || slot.kind === 'nconst') {
        v = parseIdBytes(buf, s, e, slot.prefix[0], slot.prefix[1])
        if (Number.isNaN(v)) {
          this.bad(`${slot.column.name}: "${buf.toString('utf8', s, e)}" is not a ${slot.kind}`)
          return
        }
      } else if (slot.kind === 'float') {
        v = parseFloatBytes(buf, s, e)
        if (Number.isNaN(v)) {
          this.bad(`${slot.column.name}: "${buf.toString('utf8', s, e)}" is not a number`)
          return
        }
      } else {
        v = parseIntBytes(buf, s, e)
        if (Number.isNaN(v) || (slot.kind === 'bool' && v !== 0 && v !== 1)) {
          this.bad(
            `${slot.column.name}: "${buf.toString('utf8', s, e)}" is not ${slot.kind === 'bool' ? '0 or 1' : 'an integer'}`,
          )
          return
        }
      }
      nums[numBase + slot.num] = v
    }

    // Required ids are never null.
    const keyNums = l.keyNums
    for (let k = 0; k < keyNums.length; k++) {
      const v = nums[numBase + keyNums[k]]
      if (Number.isNaN(v)) {
        this.bad(`key column ${l.spec.key[k]} is \\N`)
        return
      }
      this.curKey[k] = v
    }
    if (this.havePrev) {
      const cmp = compareKeys(this.curKey, this.prevKey)
      if (cmp === 0 && this.dedupe) {
        this.stats.duplicates++
        return
      }
      if (cmp < 0) this.stats.outOfOrder++
    }
    for (let k = 0; k < keyNums.length; k++) this.prevKey[k] = this.curKey[k]
    this.havePrev = true

    // Text and id lists.
    if (l.textCols > 0) {
      const textBase = r * l.textCols * 2
      const pos = this.textPos
      for (let c = 0; c < want; c++) {
        const slot = slots[c]
        if (slot.text < 0) continue
        const s = fs[c]
        const e = fe[c]
        const p = textBase + 2 * slot.text
        if (e - s === 2 && buf[s] === BACKSLASH && buf[s + 1] === UPPER_N) {
          pos[p] = -1
          pos[p + 1] = -1
          this.textBytePos[p] = -1
          this.textBytePos[p + 1] = -1
          if (slot.ids >= 0) {
            const q = 2 * (r * l.idListCols + slot.ids)
            this.idPos[q] = -1
            this.idPos[q + 1] = -1
          }
          continue
        }
        pos[p] = this.textUnits
        this.textBytePos[p] = this.textLen
        this.appendText(buf, s, e)
        pos[p + 1] = this.textUnits
        this.textBytePos[p + 1] = this.textLen
        if (slot.ids >= 0 && !this.parseIdList(buf, s, e, r, slot)) return
      }
    }
    this.lines[r] = this.lineNo
    this.rows = r + 1
    if (this.rows === this.batchRows) this.flush()
  }

  private appendText(buf: Buffer, s: number, e: number): void {
    const n = e - s
    if (this.textLen + n > this.textBytes.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(this.textBytes.length * 2, this.textLen + n))
      this.textBytes.copy(bigger, 0, 0, this.textLen)
      this.textBytes = bigger
    }
    const out = this.textBytes
    let o = this.textLen
    if (this.raw) {
      // Bytes only: UTF-16 positions are computed later, and only if the batch is not valid UTF-8.
      if (n < 24) for (let i = s; i < e; i++) out[o++] = buf[i]
      else o += buf.copy(out, o, s, e)
      this.textLen = o
      return
    }
    let units = 0
    if (n < 48) {
      for (let i = s; i < e; i++) {
        const b = buf[i]
        out[o++] = b
        // Count UTF-16 units: one per non-continuation byte, two for a 4-byte sequence.
        if (b < 0x80) units++
        else if (b >= 0xc0) units += b >= 0xf0 ? 2 : 1
      }
    } else {
      buf.copy(out, o, s, e)
      o += n
      for (let i = s; i < e; i++) {
        const b = buf[i]
        if (b < 0x80) units++
        else if (b >= 0xc0) units += b >= 0xf0 ? 2 : 1
      }
    }
    this.textLen = o
    this.textUnits += units
  }

  private parseIdList(buf: Buffer, s: number, e: number, r: number, slot: Slot): boolean {
    const l = this.layout
    const q = 2 * (r * l.idListCols + slot.ids)
    this.idPos[q] = this.idLen
    let from = s
    for (let i = s; i <= e; i++) {
      if (i === e || buf[i] === COMMA) {
        const id = parseIdBytes(buf, from, i, slot.prefix[0], slot.prefix[1])
        if (Number.isNaN(id)) {
          this.bad(`${slot.column.name}: "${buf.toString('utf8', from, i)}" is not an id`)
          return false
        }
        if (this.idLen === this.ids.length) {
          const bigger = new Float64Array(Math.max(64, this.ids.length * 2))
          bigger.set(this.ids)
          this.ids = bigger
        }
        this.ids[this.idLen++] = id
        from = i + 1
      }
    }
    this.idPos[q + 1] = this.idLen
    return true
  }
}

function compareKeys(a: Float64Array, b: Float64Array): number {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1
  }
  return 0
}

/** `tt0000001` -> 1; NaN when the bytes are not the two-letter prefix followed by digits. */
export function parseIdBytes(buf: Uint8Array, s: number, e: number, p0: number, p1: number): number {
  if (e - s < 3 || e - s > 2 + MAX_DIGITS || buf[s] !== p0 || buf[s + 1] !== p1) return Number.NaN
  let v = 0
  for (let i = s + 2; i < e; i++) {
    const d = buf[i] - ZERO
    if (d < 0 || d > 9) return Number.NaN
    v = v * 10 + d
  }
  return v
}

export function parseIntBytes(buf: Uint8Array, s: number, e: number): number {
  if (e <= s) return Number.NaN
  let neg = false
  if (buf[s] === MINUS) {
    neg = true
    s++
    if (e <= s) return Number.NaN
  }
  if (e - s > MAX_DIGITS) return Number.NaN
  let v = 0
  for (let i = s; i < e; i++) {
    const d = buf[i] - ZERO
    if (d < 0 || d > 9) return Number.NaN
    v = v * 10 + d
  }
  return neg ? -v : v
}

export function parseFloatBytes(buf: Uint8Array, s: number, e: number): number {
  // The common "7.5" form by hand; anything else (exponents, signs) through Number().
  let v = 0
  let i = s
  for (; i < e; i++) {
    const d = buf[i] - ZERO
    if (d < 0 || d > 9) break
    v = v * 10 + d
  }
  if (i === e && e > s && e - s <= MAX_DIGITS) return v
  if (buf[i] === DOT && i > s) {
    let scale = 1
    let f = 0
    for (i++; i < e; i++) {
      const d = buf[i] - ZERO
      if (d < 0 || d > 9) break
      f = f * 10 + d
      scale *= 10
    }
    if (i === e && scale > 1) return v + f / scale
  }
  const text = Buffer.from(buf.buffer, buf.byteOffset + s, e - s).toString('latin1')
  // Decimal notation only (Number() also takes hex, binary and "Infinity"), and finite.
  if (!DECIMAL.test(text)) return Number.NaN
  const n = Number(text)
  return Number.isFinite(n) ? n : Number.NaN
}

/** Digits an integer or id may have: more could not be stored exactly (2^53 has 16). */
const MAX_DIGITS = 15
const DECIMAL = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/
