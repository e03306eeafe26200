/**
 * name.basics rows whose line did not change but whose popularity did: found in the groups the
 * diff reads and in the stretches it skips.
 */
import { parseIdBytes } from '../datasets/parse.js'
import { indexOfSorted } from '../lib/sorted.js'
import type { RatingsTable } from './diff.js'
import type { Floats } from './diff-changes.js'
import type { GroupParser } from './diff-rows.js'
import type { GroupCursor } from './groups.js'

/**
 * names.popularity is the sum of the votes of a person's known-for titles: a person whose line did
 * not change still gets a new popularity when one of those titles' votes changed.
 */
export class PopularityCheck {
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
        const j = indexOfSorted(this.ratings.ids, parseIdBytes(buf, from, i, 116, 116))
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
