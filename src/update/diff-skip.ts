/**
 * With both files at the same id and the old one known to be sorted: the stretch of whole groups
 * that follows, equal in both, is skipped without looking at its lines.
 */
import type { GroupCursor } from './groups.js'

const SKIP_MIN = 512

/**
 * With both cursors just past the same id: the length of the bytes equal in both that follow, as
 * whole groups, skipped in both. Returns the bytes skipped (0 when there is nothing to skip).
 */
export function skipEqual(a: GroupCursor, b: GroupCursor): number {
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
