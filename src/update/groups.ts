/**
 * Reads a dataset file as groups of raw lines that share their first field (the id: one line per
 * title or person, or a title's akas / principals), without parsing or copying the lines: the diff
 * compares groups as bytes and parses only the ones that changed.
 *
 * IMDb sorts every file by its id as text (`tt0999999 < tt10000001 < tt1000001`); each group's id
 * must be greater (as bytes) than the previous one's, else the file is reported as not sorted.
 */

import { createReadStream } from 'node:fs'
import { createGunzip } from 'node:zlib'
import { type DatasetName, datasetSpec } from '../datasets/catalogue.js'
import { DatasetError } from '../datasets/parse.js'
import { statDataset, streamError } from '../datasets/reader.js'

/** Byte order of two short ids. */
export function compareKeys(a: Buffer, as: number, ae: number, b: Buffer, bs: number, be: number): number {
  const la = ae - as
  const lb = be - bs
  const n = Math.min(la, lb)
  for (let i = 0; i < n; i++) {
    const d = a[as + i] - b[bs + i]
    if (d !== 0) return d
  }
  return la - lb
}

const LF = 10
const TAB = 9
const CR = 13

/** The file is not in IMDb's order (or its ids are written in two ways): a diff cannot merge it. */
export class NotSortedError extends Error {
  override name = 'NotSortedError'
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    super(message)
  }
}

export enum Peek {
  Group = 0,
  NeedData = 1,
  End = 2,
}

/**
 * A cursor over the groups of one file. `peek()` parses the next complete group out of the
 * buffered bytes (or says it needs more data, or that the file ended); `fill()` reads the next
 * decompressed chunk; `consume()` moves past the current group. While a group is current, its bytes
 * are `buf[start..end)` (whole lines, the last `\n` included) and its id is `buf[start..keyEnd)`.
 */
export class GroupCursor {
  buf: Buffer = Buffer.alloc(0)
  /** The two buffers fill() copies into, in turn. */
  private pool: Buffer[] = []
  /** Where unconsumed bytes start (the current group, when there is one). */
  pos = 0
  start = 0
  keyEnd = 0
  end = 0
  /** Lines in the current group. */
  lines = 0
  /** Data lines seen so far (blank lines and the header excluded), for `read` counts. */
  linesRead = 0
  /** Line number of the current group's first line (the header is line 1). */
  lineNo = 1
  private nextLineNo = 2
  /** False once identical bytes were skipped without counting their lines. */
  private linesKnown = true
  private has = false
  private eof = false
  private headerSeen = false
  private prevKey: Buffer = Buffer.alloc(64)
  private prevKeyLen = -1
  private readonly chunks: AsyncIterator<Buffer>
  private readonly close: () => void
  private readonly prefix0: number
  private readonly prefix1: number
  /** Compressed bytes read so far. */
  bytesRead = 0

  constructor(
    readonly file: string,
    readonly dataset: DatasetName,
  ) {
    // Bigger output chunks than the reader's: fewer rounds through the stream machinery.
    const input = createReadStream(file, { highWaterMark: 1 << 20 })
    const gunzip = createGunzip({ chunkSize: 1 << 20 })
    input.on('error', (err) => gunzip.destroy(err))
    input.pipe(gunzip)
    this.chunks = gunzip[Symbol.asyncIterator]() as AsyncIterator<Buffer>
    this.close = () => {
      input.destroy()
      gunzip.destroy()
    }
    const first = datasetSpec(dataset).columns[0].type
    this.prefix0 = first === 'nconst' ? 110 : 116
    this.prefix1 = first === 'nconst' ? 109 : 116
    input.on('data', (c) => {
      this.bytesRead += c.length
    })
  }

  static async open(file: string, dataset: DatasetName): Promise<GroupCursor> {
    await statDataset(file, dataset)
    return new GroupCursor(file, dataset)
  }

  destroy(): void {
    this.close()
  }

  /** Reads the next chunk; the unconsumed tail of the buffer is kept in front of it. */
  async fill(): Promise<void> {
    let next: IteratorResult<Buffer>
    try {
      next = await this.chunks.next()
    } catch (err) {
      throw streamError(this.file, this.dataset, err)
    }
    if (next.done) {
      this.eof = true
      return
    }
    const rest = this.buf.length - this.pos
    if (rest === 0) this.buf = next.value
    else {
      // The unconsumed tail, then the chunk, in one of two buffers used in turn: fresh memory for
      // every chunk costs page faults.
      const need = rest + next.value.length
      let work = this.pool.find((w) => w.buffer !== this.buf.buffer && w.length >= need)
      if (!work) {
        work = Buffer.allocUnsafeSlow(Math.max(need, 2 << 20))
        const other = this.pool.find((w) => w.buffer === this.buf.buffer)
        this.pool = other ? [other, work] : [work]
      }
      this.buf.copy(work, 0, this.pos)
      next.value.copy(work, rest)
      this.buf = work.subarray(0, need)
    }
    this.pos = 0
  }

  consume(): void {
    this.has = false
    this.pos = this.end
    this.lineNo = this.nextLineNo
  }

  /** Parses the next group if the buffer holds all of it. */
  peek(): Peek {
    if (this.has) return Peek.Group
    const buf = this.buf
    const len = buf.length
    for (;;) {
      const pos = this.pos
      if (pos >= len) return this.eof ? Peek.End : Peek.NeedData
      let nl = buf.indexOf(LF, pos)
      if (nl < 0) {
        if (!this.eof) return Peek.NeedData
        // The last line has no newline: treat the end of the data as its end.
        nl = len
      }
      if (!this.headerSeen) {
        this.header(pos, nl)
        this.pos = Math.min(nl + 1, len)
        this.nextLineNo++
        continue
      }
      const lineEnd = nl > pos && buf[nl - 1] === CR ? nl - 1 : nl
      if (lineEnd === pos) {
        // A blank line: the parser skips it.
        this.pos = Math.min(nl + 1, len)
        this.nextLineNo++
        continue
      }
      // The id: the first field. A line whose first field is not an id is a bad line the ingest
      // skips whatever its position, so it is a group of its own and never checked for order.
      let keyEnd = buf.indexOf(TAB, pos)
      if (keyEnd < 0 || keyEnd > lineEnd) keyEnd = lineEnd
      const valid = this.isId(pos, keyEnd)
      const keyLen = keyEnd - pos
      let lines = 1
      let end = Math.min(nl + 1, len)
      // Following lines with the same id belong to the group.
      if (valid) {
        for (;;) {
          if (end >= len) {
            if (!this.eof) return Peek.NeedData
            break
          }
          if (end + keyLen >= len && !this.eof) return Peek.NeedData
          if (buf[end + keyLen] !== TAB) break
          let same = true
          for (let i = 0; i < keyLen; i++) {
            if (buf[end + i] !== buf[pos + i]) {
              same = false
              break
            }
          }
          if (!same) break
          let next = buf.indexOf(LF, end)
          if (next < 0) {
            if (!this.eof) return Peek.NeedData
            next = len
          }
          lines++
          end = Math.min(next + 1, len)
        }
        this.checkOrder(pos, keyEnd)
      }
      this.start = pos
      this.keyEnd = valid ? keyEnd : pos
      this.end = end
      this.lines = lines
      this.lineNo = this.nextLineNo
      this.nextLineNo += lines
      this.linesRead += lines
      this.has = true
      return Peek.Group
    }
  }

  /** Whether the current group's first field is a well-formed id (the ingest skips other lines). */
  get valid(): boolean {
    return this.keyEnd > this.start
  }

  /** `tt`/`nm` and digits, in the one way IMDb writes an id: seven digits, or more without a leading zero. */
  private isId(s: number, e: number): boolean {
    const buf = this.buf
    const digits = e - s - 2
    if (digits < 1 || buf[s] !== this.prefix0 || buf[s + 1] !== this.prefix1) return false
    for (let i = s + 2; i < e; i++) {
      const d = buf[i] - 48
      if (d < 0 || d > 9) return false
    }
    if (digits < 7 || (digits > 7 && buf[s + 2] === 48)) {
      // Parsed as the same number as its canonical form, so the merge could not match the two.
      throw new NotSortedError(
        this.file,
        this.nextLineNo,
        `${this.where()}: the id "${buf.toString('latin1', s, e)}" is not written as IMDb writes ids`,
      )
    }
    return true
  }

  private where(): string {
    return this.linesKnown ? `${this.file}:${this.nextLineNo}` : this.file
  }

  /**
   * Moves past `n` bytes of whole groups that need no look (equal to the other file's), taking
   * `key` (the last id in them) as the id the next group must follow.
   */
  skip(n: number, key: Buffer, ks: number, ke: number): void {
    this.pos += n
    this.linesKnown = false
    const len = ke - ks
    if (len > this.prevKey.length) this.prevKey = Buffer.alloc(len * 2)
    key.copy(this.prevKey, 0, ks, ke)
    this.prevKeyLen = len
  }

  /** Whether bytes s..e are an id as IMDb writes it (without the errors of the checks above). */
  isPlainId(buf: Buffer, s: number, e: number): boolean {
    const digits = e - s - 2
    if (digits < 7 || buf[s] !== this.prefix0 || buf[s + 1] !== this.prefix1) return false
    if (digits > 7 && buf[s + 2] === 48) return false
    for (let i = s + 2; i < e; i++) {
      const d = buf[i] - 48
      if (d < 0 || d > 9) return false
    }
    return true
  }

  private checkOrder(s: number, e: number): void {
    const len = e - s
    if (this.prevKeyLen >= 0) {
      const cmp = compareKeys(this.buf, s, e, this.prevKey, 0, this.prevKeyLen)
      // The group's id must be greater than the previous one's: equal ids are merged into one group
      // only when adjacent.
      if (cmp <= 0) {
        const id = this.buf.toString('latin1', s, e)
        const prev = this.prevKey.toString('latin1', 0, this.prevKeyLen)
        throw new NotSortedError(
          this.file,
          this.nextLineNo,
          `${this.where()}: ${id} comes after ${prev}; the file is not sorted by id as text, as IMDb ships it`,
        )
      }
    }
    if (len > this.prevKey.length) this.prevKey = Buffer.alloc(len * 2)
    this.buf.copy(this.prevKey, 0, s, e)
    this.prevKeyLen = len
  }

  private header(s: number, e: number): void {
    this.headerSeen = true
    let end = e
    if (end > s && this.buf[end - 1] === CR) end--
    let text = this.buf.toString('utf8', s, end)
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
    const expected = datasetSpec(this.dataset).columns.map((c) => c.name)
    if (text !== expected.join('\t')) {
      throw new DatasetError(
        'DATASET_HEADER_MISMATCH',
        this.file,
        `${this.file}: header does not match the catalogue for ${this.dataset}: expected "${expected.join('\\t')}", found "${text.split('\t').join('\\t')}"`,
        { line: 1 },
      )
    }
  }

  /** Call at the end: an empty file (no header) is an error, as for the ingest. */
  checkEnded(): void {
    if (!this.headerSeen) {
      throw new DatasetError(
        'DATASET_HEADER_MISMATCH',
        this.file,
        `${this.file}: the file is empty (no header line); download ${datasetSpec(this.dataset).file} again`,
      )
    }
  }
}

/**
 * Reads a whole file and checks that it is in IMDb's order (throws NotSortedError otherwise): what a
 * refresh checks of every new file, for files no refresh has read yet.
 */
export async function checkSorted(file: string, dataset: DatasetName): Promise<void> {
  const c = await GroupCursor.open(file, dataset)
  try {
    for (;;) {
      const p = c.peek()
      if (p === Peek.NeedData) await c.fill()
      else if (p === Peek.End) break
      else c.consume()
    }
    c.checkEnded()
  } finally {
    c.destroy()
  }
}
