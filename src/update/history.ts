/**
 * What a refresh records of its change set (src/db/history.ts): the keys each applied file diff
 * touched, per entity of the change feed. The history compares only those rows of the database
 * before the refresh and after it (no file is diffed again), so its cost follows the size of the
 * change, not of the dataset.
 */

import type { DatasetName } from '../datasets/catalogue.js'
import type { HistoryEntity } from '../db/history.js'
import type { FileDiff } from './diff.js'

/** The entities whose rows a file's diff may change. */
const ENTITIES_OF: Partial<Record<DatasetName, readonly HistoryEntity[]>> = {
  // A title's rating lives in its titles row: a title added or removed adds or removes it too.
  'title.basics': ['title', 'rating'],
  'title.ratings': ['rating'],
  'name.basics': ['person'],
  'title.episode': ['episode'],
  'title.akas': ['aka'],
  'title.principals': ['credit'],
}

const COMPOSITE: ReadonlySet<HistoryEntity> = new Set(['aka', 'credit'])

const TAB = 9
const LF = 10

/** Calls `each(id, sub)` for every line of `lines`: the number of its first field (`tt0000001` -> 1), and of its second. */
function keysOfLines(lines: Uint8Array, composite: boolean, each: (id: number, sub: number) => void): void {
  let i = 0
  const n = lines.length
  while (i < n) {
    // Skip the two-letter prefix of the id.
    i += 2
    let id = 0
    while (i < n && lines[i] !== TAB && lines[i] !== LF) id = id * 10 + (lines[i++] - 48)
    let sub = 0
    if (composite && lines[i] === TAB) {
      i++
      while (i < n && lines[i] !== TAB && lines[i] !== LF) sub = sub * 10 + (lines[i++] - 48)
    }
    while (i < n && lines[i] !== LF) i++
    i++
    each(id, sub)
  }
}

/** The keys touched by the diffs applied so far, per entity. */
export class HistoryKeys {
  private readonly simple = new Map<HistoryEntity, Set<number>>()
  private readonly pairs = new Map<HistoryEntity, number[][]>()

  /** Adds the keys of one applied diff (or chunk of one). */
  add(d: FileDiff): void {
    for (const entity of ENTITIES_OF[d.dataset] ?? []) {
      if (COMPOSITE.has(entity)) {
        const list = this.pairs.get(entity) ?? []
        this.pairs.set(entity, list)
        for (let i = 0; i + 1 < d.deletes.length; i += 2) list.push([d.deletes[i], d.deletes[i + 1]])
        const push = (id: number, sub: number) => list.push([id, sub])
        keysOfLines(d.updates, true, push)
        keysOfLines(d.inserts, true, push)
      } else {
        const set = this.simple.get(entity) ?? new Set<number>()
        this.simple.set(entity, set)
        for (const id of d.deletes) set.add(id)
        const add = (id: number) => set.add(id)
        keysOfLines(d.updates, false, add)
        keysOfLines(d.inserts, false, add)
      }
    }
  }

  /** The keys per entity, as recordSqliteHistory takes them. */
  byEntity(): Map<HistoryEntity, { composite: boolean; keys: Iterable<number[]> }> {
    const out = new Map<HistoryEntity, { composite: boolean; keys: Iterable<number[]> }>()
    for (const [entity, set] of this.simple) {
      out.set(entity, { composite: false, keys: [...set].map((id) => [id]) })
    }
    for (const [entity, list] of this.pairs) out.set(entity, { composite: true, keys: list })
    return out
  }
}
