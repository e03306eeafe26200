/**
 * Dangling references: ids in one file that point to a title or person missing from the loaded
 * title.basics / name.basics. The writer that loads those files builds the id sets; a writer on
 * another thread gets copies, and until they arrive it keeps the ids it has to check.
 */

import type { DatasetName } from '../datasets/catalogue.js'

export type RefKind = 'title' | 'name'

/** A set of integer ids as bits: 12.5 MB covers every 8-digit id. */
export class IdSet {
  constructor(public bits: Uint8Array = new Uint8Array(1 << 20)) {}

  add(id: number): void {
    const byte = id >>> 3
    if (byte >= this.bits.length) {
      const bigger = new Uint8Array(Math.max(this.bits.length * 2, byte + 1))
      bigger.set(this.bits)
      this.bits = bigger
    }
    this.bits[byte] |= 1 << (id & 7)
  }

  has(id: number): boolean {
    const byte = id >>> 3
    return byte < this.bits.length && (this.bits[byte] & (1 << (id & 7))) !== 0
  }
}

/** What each file refers to. */
export const REF_TARGETS: Record<DatasetName, readonly RefKind[]> = {
  'title.basics': [],
  'title.ratings': ['title'],
  'name.basics': ['title'],
  'title.akas': ['title'],
  'title.episode': ['title'],
  'title.crew': ['title', 'name'],
  'title.principals': ['title', 'name'],
}

/** The file that holds each kind of id. */
export const REF_SOURCE: Record<RefKind, DatasetName> = { title: 'title.basics', name: 'name.basics' }

/**
 * Ids waiting for their set, run-length encoded: references by title come in title order (akas,
 * crew, principals are keyed by title), so a title's nine principals cost one entry, not nine.
 */
export class Pending {
  ids = new Float64Array(1024)
  runs = new Uint32Array(1024)
  n = 0
  push(id: number): void {
    const n = this.n
    if (n > 0 && this.ids[n - 1] === id) {
      this.runs[n - 1]++
      return
    }
    if (n === this.ids.length) {
      const ids = new Float64Array(n * 2)
      ids.set(this.ids)
      this.ids = ids
      const runs = new Uint32Array(n * 2)
      runs.set(this.runs)
      this.runs = runs
    }
    this.ids[n] = id
    this.runs[n] = 1
    this.n = n + 1
  }
}

export class RefChecker {
  /** undefined: not known yet; null: the target file is not loaded, nothing to check against. */
  private readonly sets: Record<RefKind, IdSet | null | undefined>
  private readonly pending: Record<RefKind, Map<DatasetName, Pending>> = { title: new Map(), name: new Map() }
  private readonly dangling = new Map<DatasetName, number>()
  /** Entries (runs of one id) waiting for a set to arrive; 12 bytes each. */
  pendingCount = 0

  constructor(private readonly loaded: ReadonlySet<DatasetName>) {
    this.sets = {
      title: loaded.has(REF_SOURCE.title) ? undefined : null,
      name: loaded.has(REF_SOURCE.name) ? undefined : null,
    }
  }

  /** Whether references of `dataset` can be checked at all (some target file is loaded). */
  checks(dataset: DatasetName): boolean {
    return REF_TARGETS[dataset].some((k) => this.loaded.has(REF_SOURCE[k]))
  }

  /** Whether both sets are known (or not needed). */
  get complete(): boolean {
    return this.sets.title !== undefined && this.sets.name !== undefined
  }

  set(kind: RefKind): IdSet | null | undefined {
    return this.sets[kind]
  }

  /** Supplies a finished id set and checks the ids that waited for it. */
  provide(kind: RefKind, set: IdSet): void {
    this.sets[kind] = set
    for (const [dataset, p] of this.pending[kind]) {
      let missing = 0
      for (let i = 0; i < p.n; i++) if (!set.has(p.ids[i])) missing += p.runs[i]
      this.add(dataset, missing)
      this.pendingCount -= p.n
    }
    this.pending[kind].clear()
  }

  check(dataset: DatasetName, kind: RefKind, id: number): void {
    const set = this.sets[kind]
    if (set === null) return
    if (set === undefined) {
      let p = this.pending[kind].get(dataset)
      if (!p) {
        p = new Pending()
        this.pending[kind].set(dataset, p)
      }
      const before = p.n
      p.push(id)
      this.pendingCount += p.n - before
    } else if (!set.has(id)) this.add(dataset, 1)
  }

  add(dataset: DatasetName, n: number): void {
    this.dangling.set(dataset, (this.dangling.get(dataset) ?? 0) + n)
  }

  /** Dangling references of a file so far, or null when nothing it refers to was loaded. */
  count(dataset: DatasetName): number | null {
    return this.checks(dataset) ? (this.dangling.get(dataset) ?? 0) : null
  }
}
