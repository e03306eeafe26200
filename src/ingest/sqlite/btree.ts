/**
 * Writes a one-table SQLite database file directly, page by page, from rows that arrive in primary
 * key order: the pages SQLite itself would end up with after appending them, without the per-value
 * binding of better-sqlite3 and the per-row b-tree work of SQLite (together about 0.75 us a row
 * for principals, most of the ingest's CPU). For WITHOUT ROWID tables (index b-trees), whose
 * records are their primary key columns followed by the others in table order, and for tables
 * with an INTEGER PRIMARY KEY (table b-trees keyed by it, the column itself stored as NULL).
 *
 * IMDb sorts its files by id as a string, so `tt10000001` comes between `tt1000000` and `tt1000001`:
 * each id length is an increasing run of its own. Rows with 7-digit ids are appended as they come;
 * longer ids wait in spill files, one per length, appended after them in `finish`.
 *
 * The file format is SQLite's documented, stable one (https://www.sqlite.org/fileformat2.html):
 * page 1 holds the 100-byte header and sqlite_schema, the table's b-tree is built bottom-up. Rows
 * whose key is not above the previous row's, or whose record would need overflow pages, are
 * refused (`add` returns false): the caller inserts those through SQLite once the file is done.
 */

import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs'

const PAGE = 4096
/** Largest payload an index b-tree cell keeps on its page: ((U-12)*64/255)-23. */
export const MAX_LOCAL = Math.floor(((PAGE - 12) * 64) / 255) - 23
/** Largest payload a table (rowid) b-tree leaf cell keeps on its page: U-35. */
const MAX_LOCAL_TABLE = PAGE - 35
const INDEX_LEAF = 0x0a
const INDEX_INTERIOR = 0x02
const TABLE_LEAF = 0x0d
const TABLE_INTERIOR = 0x05
/** SQLITE_VERSION_NUMBER written in the header (3.53.2, what better-sqlite3 12 bundles). */
const SQLITE_VERSION = 3053002

/** `rowid`: the INTEGER PRIMARY KEY of a rowid table (first column; stored as the cell's key). */
export type ColumnKind = 'rowid' | 'int' | 'real' | 'text'

/**
 * One page being filled, laid out as SQLite wants it: cells written from the end of the page down
 * as they come (in key order), their offsets kept for the pointer array written at the end.
 */
class PageFill {
  readonly buf = new Uint8Array(PAGE)
  /** Start of the cell content area. */
  content = PAGE
  count = 0
  readonly ptrs = new Uint16Array(PAGE / 2)
  private readonly sizes = new Uint16Array(PAGE / 2)
  /** `header`: bytes before the cell pointer array (page header, plus 100 on page 1). */
  constructor(readonly header: number) {}
  fits(size: number): boolean {
    return this.header + 2 * (this.count + 1) + (PAGE - this.content) + size <= PAGE
  }
  /** Room for a cell of `size` bytes; its offset in `buf`. */
  reserve(size: number): number {
    this.content -= size
    this.ptrs[this.count] = this.content
    this.sizes[this.count] = size
    this.count++
    return this.content
  }
  push(cell: Uint8Array): void {
    this.buf.set(cell, this.reserve(cell.length))
  }
  /** Takes the last cell back out (a copy). */
  pop(): Uint8Array {
    this.count--
    const size = this.sizes[this.count]
    const cell = this.buf.slice(this.content, this.content + size)
    this.content += size
    return cell
  }
  reset(): void {
    this.content = PAGE
    this.count = 0
  }
}

export class TableFile {
  private readonly fd: number
  private nextPage = 2
  private readonly out = Buffer.alloc(PAGE * 256)
  private outPages = 0
  private outFirst = 2
  private readonly leaf = new PageFill(8)
  /** A cell on its way to a spill file. */
  private readonly scratch = new Uint8Array(PAGE)
  /** Rowid tables: the largest rowid on the leaf being filled (the divider copied upwards). */
  private leafMax = 0
  private readonly rowid: boolean
  private readonly maxLocal: number
  private readonly leafType: number
  private readonly interiorType: number
  /** Interior levels, bottom (1) up; index 0 unused. */
  private readonly levels: PageFill[] = []
  private rows = 0

  // The record being built.
  private readonly kinds: readonly ColumnKind[]
  private readonly types: Int32Array
  private readonly nums: Float64Array
  private readonly texts: (Uint8Array | null)[]
  private readonly textStart: Int32Array
  private readonly textEnd: Int32Array
  private readonly keyCols: number
  /** Last key appended per id length (7 for up to 7 digits). */
  private readonly lastKeys = new Map<number, Float64Array>()
  private readonly spills = new Map<number, Spill>()

  constructor(
    readonly path: string,
    private readonly table: string,
    private readonly createSql: string,
    kinds: readonly ColumnKind[],
    keyCols: number,
  ) {
    this.kinds = kinds
    this.types = new Int32Array(kinds.length)
    this.nums = new Float64Array(kinds.length)
    this.texts = new Array(kinds.length).fill(null)
    this.textStart = new Int32Array(kinds.length)
    this.textEnd = new Int32Array(kinds.length)
    this.keyCols = keyCols
    this.rowid = kinds[0] === 'rowid'
    this.maxLocal = this.rowid ? MAX_LOCAL_TABLE : MAX_LOCAL
    this.leafType = this.rowid ? TABLE_LEAF : INDEX_LEAF
    this.interiorType = this.rowid ? TABLE_INTERIOR : INDEX_INTERIOR
    this.fd = openSync(path, 'w')
  }

  /** Column i of the next row: a number (int or real column), or null. */
  num(i: number, v: number | null): void {
    if (v === null || Number.isNaN(v)) {
      this.types[i] = 0
      return
    }
    this.nums[i] = v
    if (this.kinds[i] === 'real') {
      // Integral reals are stored as integers by SQLite too (REAL affinity keeps them REAL on read).
      this.types[i] = Number.isInteger(v) && Math.abs(v) < 2 ** 47 ? intType(v) : 7
    } else this.types[i] = intType(v)
  }

  /** Column i of the next row: UTF-8 bytes buf[start, end), or null when start < 0. */
  text(i: number, buf: Uint8Array, start: number, end: number): void {
    if (start < 0) {
      this.types[i] = 0
      return
    }
    this.texts[i] = buf
    this.textStart[i] = start
    this.textEnd[i] = end
    this.types[i] = 13 + 2 * (end - start)
  }

  /**
   * Appends the row set with num/text. False when it cannot go in here (see the module comment).
   * With keyCols 0 the caller guarantees the order: rows are appended as they come.
   */
  add(): boolean {
    const k = this.keyCols
    if (k === 0) {
      // The caller guarantees key order (and no duplicates).
      const size = this.measure()
      if (size < 0) return false
      if (!this.leaf.fits(size)) this.splitLeaf()
      this.writeCell(this.leaf.buf, this.leaf.reserve(size))
      this.rows++
      return true
    }
    const id = this.nums[0]
    const run = id < 1e7 ? 7 : String(id).length
    let last = this.lastKeys.get(run)
    if (last) {
      let cmp = 0
      for (let i = 0; i < k && cmp === 0; i++) cmp = this.nums[i] - last[i]
      if (cmp <= 0) return false
    } else {
      last = new Float64Array(k)
      this.lastKeys.set(run, last)
    }
    const size = this.measure()
    if (size < 0) return false
    for (let i = 0; i < k; i++) last[i] = this.nums[i]
    if (run === 7) {
      if (!this.leaf.fits(size)) this.splitLeaf()
      this.writeCell(this.leaf.buf, this.leaf.reserve(size))
      this.leafMax = id
    } else {
      let spill = this.spills.get(run)
      if (!spill) {
        spill = new Spill(`${this.path}-spill${run}`)
        this.spills.set(run, spill)
      }
      this.writeCell(this.scratch, 0)
      spill.write(this.scratch.subarray(0, size))
    }
    this.rows++
    return true
  }

  /** Sizes of the record being written, from measure(). */
  private headerLen = 0
  private payloadLen = 0

  /**
   * The size of the row's leaf cell (payload size, the rowid for rowid tables, then the record), or
   * -1 when it would not fit on a page.
   */
  private measure(): number {
    const n = this.kinds.length
    const types = this.types
    // The INTEGER PRIMARY KEY is the cell's key; the record holds NULL in its place.
    if (this.rowid) types[0] = 0
    let headerLen = 0
    let bodyLen = 0
    for (let i = 0; i < n; i++) {
      const t = types[i]
      headerLen += t < 128 ? 1 : varintLen(t)
      bodyLen += t >= 12 ? (t - 13) >> 1 : SERIAL_SIZE[t]
    }
    // The header size counts itself; one byte while under 128.
    headerLen += headerLen + 1 < 128 ? 1 : 2
    const total = headerLen + bodyLen
    if (total > this.maxLocal) return -1
    this.headerLen = headerLen
    this.payloadLen = total
    return total + varintLen(total) + (this.rowid ? varintLen(this.nums[0]) : 0)
  }

  /** Writes the measured cell at r[o]. */
  private writeCell(r: Uint8Array, o: number): void {
    const n = this.kinds.length
    const types = this.types
    o = putVarint(r, o, this.payloadLen)
    if (this.rowid) o = putVarint(r, o, this.nums[0])
    o = putVarint(r, o, this.headerLen)
    for (let i = 0; i < n; i++) o = putVarint(r, o, types[i])
    for (let i = 0; i < n; i++) {
      const t = types[i]
      if (t === 0 || t === 8 || t === 9) continue
      if (t >= 13) {
        const s = this.textStart[i]
        const e = this.textEnd[i]
        const src = this.texts[i]!
        if (e - s > 32) r.set(src.subarray(s, e), o)
        else for (let j = s; j < e; j++) r[o + j - s] = src[j]
        o += e - s
      } else if (t === 7) {
        new DataView(r.buffer, r.byteOffset).setFloat64(o, this.nums[i])
        o += 8
      } else o = putInt(r, o, this.nums[i], SERIAL_SIZE[t])
    }
  }

  private addLeafCell(cell: Uint8Array, rowid: number): void {
    if (!this.leaf.fits(cell.length)) this.splitLeaf()
    this.leaf.push(cell)
    this.leafMax = rowid
  }

  /**
   * Writes the full leaf out and sends a divider up. Index b-trees: the leaf's last entry moves up
   * as the divider between this leaf and the next. Table b-trees: the leaf keeps its rows and its
   * largest rowid is copied up.
   */
  private splitLeaf(): void {
    const divider = this.rowid ? varintBytes(this.leafMax) : this.leaf.pop()
    const page = this.writePage(this.leaf, this.leafType, 0)
    this.leaf.reset()
    this.addDivider(1, page, divider)
  }

  /** Adds (left child, divider) to interior level `level`. */
  private addDivider(level: number, child: number, divider: Uint8Array): void {
    // An interior cell is the child's page number, then the divider: the entry as the leaf had it
    // (index b-trees) or the rowid as a varint (table b-trees).
    const cell = new Uint8Array(4 + divider.length)
    new DataView(cell.buffer).setUint32(0, child)
    cell.set(divider, 4)
    let fill = this.levels[level]
    if (!fill) {
      fill = new PageFill(12)
      this.levels[level] = fill
    }
    if (fill.fits(cell.length)) {
      fill.push(cell)
      return
    }
    // Full: its last cell's child becomes the page's right-most child, its entry moves up.
    const last = fill.pop()
    const right = new DataView(last.buffer, last.byteOffset).getUint32(0)
    const page = this.writePage(fill, this.interiorType, right)
    fill.reset()
    fill.push(cell)
    this.addDivider(level + 1, page, last.subarray(4))
  }

  /** Lays out a page (cells from the end, pointers after the header) and queues it; its number. */
  private writePage(fill: PageFill, type: number, right: number, pageNo = this.nextPage++): number {
    const page = pageNo === 1 ? Buffer.alloc(PAGE) : this.slot()
    const h = pageNo === 1 ? 100 : 0
    const n = fill.count
    const content = fill.content
    page.set(fill.buf.subarray(content), content)
    const interior = type === INDEX_INTERIOR || type === TABLE_INTERIOR
    let ptr = h + (interior ? 12 : 8)
    for (let i = 0; i < n; i++) {
      page[ptr++] = fill.ptrs[i] >> 8
      page[ptr++] = fill.ptrs[i] & 0xff
    }
    page[h] = type
    page.writeUInt16BE(0, h + 1)
    page.writeUInt16BE(n, h + 3)
    page.writeUInt16BE(content, h + 5)
    page[h + 7] = 0
    if (interior) page.writeUInt32BE(right, h + 8)
    if (pageNo === 1) {
      this.header(page)
      writeSync(this.fd, page, 0, PAGE, 0)
    }
    return pageNo
  }

  /** The next page of the output buffer, zeroed, flushing the buffer when full. */
  private slot(): Buffer {
    if (this.outPages * PAGE === this.out.length) this.flush()
    const page = this.out.subarray(this.outPages * PAGE, (this.outPages + 1) * PAGE)
    page.fill(0)
    this.outPages++
    return page
  }

  private flush(): void {
    if (this.outPages === 0) return
    writeSync(this.fd, this.out, 0, this.outPages * PAGE, (this.outFirst - 1) * PAGE)
    this.outFirst += this.outPages
    this.outPages = 0
  }

  /** Writes the upper levels, then page 1 (header and schema), and closes the file. Returns rows written. */
  finish(): number {
    for (const run of [...this.spills.keys()].sort((a, b) => a - b)) {
      this.spills.get(run)!.drain((cell) => this.addLeafCell(cell, this.rowid ? cellRowid(cell) : 0))
    }
    let root: number
    if (this.leaf.count === 0 && !this.levels[1]) {
      // No rows: the root is an empty leaf, which SQLite allows for a root page.
      root = this.writePage(this.leaf, this.leafType, 0)
    } else {
      let child = this.writePage(this.leaf, this.leafType, 0)
      let level = 1
      while (this.levels[level]) {
        child = this.writePage(this.levels[level], this.interiorType, child)
        level++
      }
      root = child
    }
    this.flush()
    const schema = new PageFill(108)
    const record = schemaRecord(this.table, root, this.createSql)
    const cell = new Uint8Array(record.length + varintLen(record.length) + 1)
    let o = putVarint(cell, 0, record.length)
    o = putVarint(cell, o, 1)
    cell.set(record, o)
    schema.push(cell)
    this.writePage(schema, TABLE_LEAF, 0, 1)
    closeSync(this.fd)
    return this.rows
  }

  private header(page: Buffer): void {
    page.write('SQLite format 3\0', 0, 'latin1')
    page.writeUInt16BE(PAGE, 16)
    page[18] = 1
    page[19] = 1
    page[20] = 0
    page[21] = 64
    page[22] = 32
    page[23] = 32
    page.writeUInt32BE(1, 24)
    page.writeUInt32BE(this.nextPage - 1, 28)
    page.writeUInt32BE(1, 40)
    page.writeUInt32BE(4, 44)
    page.writeUInt32BE(1, 56)
    page.writeUInt32BE(1, 92)
    page.writeUInt32BE(SQLITE_VERSION, 96)
  }
}

/** Cells written to a temporary file in order and read back in order, to bound memory. */
class Spill {
  private readonly fd: number
  private readonly buf = Buffer.alloc(1 << 20)
  private len = 0
  private size = 0

  constructor(private readonly path: string) {
    this.fd = openSync(path, 'w+')
  }

  /** Appends a cell, framed by its length as a varint. */
  write(cell: Uint8Array): void {
    if (this.len + cell.length + 2 > this.buf.length) this.flush()
    this.len = putVarint(this.buf, this.len, cell.length)
    this.buf.set(cell, this.len)
    this.len += cell.length
  }

  private flush(): void {
    writeSync(this.fd, this.buf, 0, this.len, this.size)
    this.size += this.len
    this.len = 0
  }

  /** Hands every cell back in write order, then deletes the file. */
  drain(onCell: (cell: Uint8Array) => void): void {
    this.flush()
    let pos = 0
    let have = 0
    while (pos < this.size || have > 0) {
      const n = readSync(this.fd, this.buf, have, this.buf.length - have, pos)
      pos += n
      have += n
      let o = 0
      for (;;) {
        if (have - o < 9 && pos < this.size) break
        if (o >= have) break
        const [len, vl] = getVarint(this.buf, o)
        if (o + vl + len > have) break
        // A copy: the buffer is reused while the page holding the cell is still being filled.
        onCell(Uint8Array.prototype.slice.call(this.buf, o + vl, o + vl + len))
        o += vl + len
      }
      this.buf.copy(this.buf, 0, o, have)
      have -= o
      if (n === 0 && have > 0) throw new Error(`${this.path}: truncated spill file`)
    }
    closeSync(this.fd)
    unlinkSync(this.path)
  }
}

function varintBytes(v: number): Uint8Array {
  const out = new Uint8Array(varintLen(v))
  putVarint(out, 0, v)
  return out
}

/** The rowid of a table leaf cell: the varint after the payload size. */
function cellRowid(cell: Uint8Array): number {
  const [, n] = getVarint(cell, 0)
  return getVarint(cell, n)[0]
}

function getVarint(buf: Uint8Array, o: number): [value: number, length: number] {
  let v = 0
  for (let i = 0; i < 9; i++) {
    const b = buf[o + i]
    v = v * 128 + (b & 0x7f)
    if (b < 0x80) return [v, i + 1]
  }
  throw new Error('bad varint')
}

function schemaRecord(table: string, root: number, sql: string): Uint8Array {
  const enc = (s: string) => Buffer.from(s, 'utf8')
  const values = [enc('table'), enc(table), enc(table), root, enc(sql)] as const
  const types = values.map((v) => (typeof v === 'number' ? intType(v) : 13 + 2 * v.length))
  let headerLen = types.reduce((a, t) => a + varintLen(t), 0)
  headerLen += headerLen + 1 < 128 ? 1 : 2
  const body = types.reduce((a, t) => a + serialSize(t), 0)
  const out = Buffer.alloc(headerLen + body)
  let o = putVarint(out, 0, headerLen)
  for (const t of types) o = putVarint(out, o, t)
  values.forEach((v, i) => {
    if (typeof v === 'number') o = putInt(out, o, v, serialSize(types[i]))
    else {
      out.set(v, o)
      o += v.length
    }
  })
  return out
}

/** The serial type of an integer (schema format 4: 0 and 1 take no bytes). */
function intType(v: number): number {
  if (v === 0) return 8
  if (v === 1) return 9
  if (v >= -128 && v <= 127) return 1
  if (v >= -32768 && v <= 32767) return 2
  if (v >= -8388608 && v <= 8388607) return 3
  if (v >= -2147483648 && v <= 2147483647) return 4
  if (v >= -(2 ** 47) && v < 2 ** 47) return 5
  return 6
}

/** Body bytes of serial types 0-9 (text and blob types are computed). */
const SERIAL_SIZE = [0, 1, 2, 3, 4, 6, 8, 8, 0, 0]

function serialSize(t: number): number {
  if (t >= 12) return (t - (t & 1 ? 13 : 12)) / 2
  return SERIAL_SIZE[t]
}

/** Big-endian two's complement integer of `size` bytes. */
function putInt(buf: Uint8Array, o: number, v: number, size: number): number {
  let x = v < 0 ? 2 ** (8 * size) + v : v
  for (let i = size - 1; i >= 0; i--) {
    buf[o + i] = x % 256
    x = Math.floor(x / 256)
  }
  return o + size
}

function varintLen(v: number): number {
  let n = 1
  while (v >= 128 && n < 9) {
    v = Math.floor(v / 128)
    n++
  }
  return n
}

/** SQLite varint (big-endian base-128; values here stay far below the 9-byte form). */
function putVarint(buf: Uint8Array, o: number, v: number): number {
  if (v < 128) {
    buf[o] = v
    return o + 1
  }
  const n = varintLen(v)
  for (let i = n - 1; i >= 0; i--) {
    buf[o + i] = (v % 128) | (i === n - 1 ? 0 : 0x80)
    v = Math.floor(v / 128)
  }
  return o + n
}
