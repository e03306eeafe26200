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
import { ChangeSet } from './diff-changes.js'
import { PopularityCheck } from './diff-popularity.js'
import { COMPOSITE, GroupLines, GroupParser, type Row, sameBytes } from './diff-rows.js'
import { skipEqual } from './diff-skip.js'
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
  const merge = new GroupMerge(dataset, a, b, opts)
  try {
    await merge.run()
    a.checkEnded()
    b.checkEnded()
  } finally {
    a.destroy()
    b.destroy()
  }
  return merge.result(started)
}

/** The merge-join of the old file's groups (`a`) with the new file's (`b`), group by group. */
class GroupMerge {
  private readonly oldParser: GroupParser
  private readonly newParser: GroupParser
  private readonly changes: ChangeSet
  private readonly pop: PopularityCheck | null
  private readonly composite: boolean
  private readonly canSkip: boolean
  private readonly maxBytes: number
  private readonly chunkRows: number
  /** Bytes skipped unread in equal stretches. */
  private skipped = 0
  private lastProgress = 0
  // Reused by compareLines().
  private readonly oldLines = new GroupLines()
  private readonly newLines = new GroupLines()
  private readonly oldRows: Row[] = []
  private readonly newRows: Row[] = []

  constructor(
    private readonly dataset: DatasetName,
    private readonly a: GroupCursor,
    private readonly b: GroupCursor,
    private readonly opts: DiffOptions,
  ) {
    this.oldParser = new GroupParser(a.file, dataset)
    this.newParser = new GroupParser(b.file, dataset)
    this.changes = new ChangeSet(dataset, Boolean(opts.popularity))
    this.pop = this.changes.popularity ? new PopularityCheck(opts.popularity!) : null
    this.composite = COMPOSITE.has(dataset)
    this.canSkip = opts.trustOld === true
    this.maxBytes = opts.maxChangedBytes ?? Number.POSITIVE_INFINITY
    this.chunkRows = opts.onChunk ? (opts.chunkRows ?? 16384) : Number.POSITIVE_INFINITY
  }

  /** Walks both files to their ends, recording the changes of every group. */
  async run(): Promise<void> {
    const { a, b } = this
    for (;;) {
      const sa = a.peek()
      if (sa === Peek.NeedData) {
        await a.fill()
        continue
      }
      const sb = b.peek()
      if (sb === Peek.NeedData) {
        await this.fillNew()
        continue
      }
      if (sa === Peek.End && sb === Peek.End) return
      // Lines whose first field is not an id are skipped by the ingest, wherever they are.
      if (sa === Peek.Group && !a.valid) {
        a.consume()
        continue
      }
      if (sb === Peek.Group && !b.valid) {
        this.newParser.bad++
        b.consume()
        continue
      }
      let cmp: number
      if (sa === Peek.End) cmp = 1
      else if (sb === Peek.End) cmp = -1
      else cmp = compareKeys(a.buf, a.start, a.keyEnd, b.buf, b.start, b.keyEnd)
      if (cmp === 0) this.sameId()
      else if (cmp < 0) this.onlyOld()
      else this.onlyNew()
    }
  }

  /** Reads on in the new file, the one progress is reported by; stops when aborted. */
  private async fillNew(): Promise<void> {
    const { a, b, opts } = this
    await b.fill()
    if (opts.onProgress && performance.now() - this.lastProgress > 200) {
      this.lastProgress = performance.now()
      opts.onProgress({ oldBytes: a.bytesRead, newBytes: b.bytesRead })
    }
    if (opts.signal?.aborted) throw opts.signal.reason
  }

  /** A group in both files: compared unless its bytes are equal; then the equal stretch after it. */
  private sameId(): void {
    const { a, b } = this
    if (!sameBytes(a.buf, a.start, a.end, b.buf, b.start, b.end)) {
      if (this.composite) this.compareLines()
      else
        this.compareRows(
          this.oldParser.rows(a.buf, a.start, a.end),
          this.newParser.rows(b.buf, b.start, b.end),
        )
    } else if (this.pop) {
      this.pop.check(b, this.newParser, this.changes.popularity!)
    }
    a.consume()
    b.consume()
    if (this.canSkip) this.skipEqualStretch()
  }

  /** A group only in the old file: its rows are deleted. */
  private onlyOld(): void {
    const a = this.a
    this.compareRows(this.oldParser.rows(a.buf, a.start, a.end), [])
    a.consume()
  }

  /** A group only in the new file: its rows are inserted. */
  private onlyNew(): void {
    const b = this.b
    this.compareRows([], this.newParser.rows(b.buf, b.start, b.end))
    b.consume()
  }

  private skipEqualStretch(): void {
    const from = this.b.pos
    const n = skipEqual(this.a, this.b)
    // People in the skipped stretch may still have a new popularity.
    if (n > 0 && this.pop) {
      this.pop.region(this.b.buf, from, from + n, this.newParser, this.changes.popularity!)
      this.handOver()
    }
    this.skipped += n
  }

  /**
   * A changed group of akas or principals: lines equal on both sides are left alone (the same line
   * parses the same way), only the others are parsed and compared.
   */
  private compareLines(): void {
    const { a, b, oldLines, newLines, oldRows, newRows } = this
    if (!oldLines.read(a.buf, a.start, a.end) || !newLines.read(b.buf, b.start, b.end)) {
      this.compareRows(this.oldParser.rows(a.buf, a.start, a.end), this.newParser.rows(b.buf, b.start, b.end))
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
      const row = this.oldParser.rowOf(a.buf, oldLines.s[i], oldLines.e[i])
      if (row) oldRows.push(row)
    }
    for (let j = 0; j < newLines.n; j++) {
      if (newLines.same[j]) continue
      const row = this.newParser.rowOf(b.buf, newLines.s[j], newLines.e[j])
      if (row) newRows.push(row)
    }
    this.compareRows(oldRows, newRows)
  }

  /** Compares the stored rows of an old and a new group (either may be empty). */
  private compareRows(oldRows: Row[], newRows: Row[]): void {
    this.changes.compare(this.a.buf, oldRows, this.b.buf, newRows)
    this.handOver()
  }

  /** Hands a chunk over once it is big enough; gives up once the changes pass maxChangedBytes. */
  private handOver(): void {
    const { a, b, changes } = this
    if (changes.pendingRows >= this.chunkRows) {
      this.opts.onChunk!({
        ...changes.take(),
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
    if (changes.bytes > this.maxBytes) {
      throw new TooManyChangesError(
        `${datasetSpec(this.dataset).file}: more than ${Math.round(this.maxBytes / 2 ** 20)} MB of changes`,
      )
    }
  }

  /** The diff of the whole file: the changes not handed over yet, and all the counts. */
  result(started: number): FileDiff {
    const { a, b } = this
    return {
      ...this.changes.take(),
      counts: this.changes.counts,
      read: this.skipped > 0 ? null : b.linesRead,
      readDelta: b.linesRead - a.linesRead,
      badOld: this.oldParser.bad,
      badNew: this.newParser.bad,
      votesChanged: this.changes.votesChanged?.done(),
      oldBytes: a.bytesRead,
      newBytes: b.bytesRead,
      ms: Math.round(performance.now() - started),
    }
  }
}
