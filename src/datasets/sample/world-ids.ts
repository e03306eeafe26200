/**
 * The first step of the skeleton: the sample's title and name ids, sparse as IMDb's, with the
 * well-known titles and people at their real ids; and the order the files list ids in.
 */
import { Rng } from './random.js'
import { WELL_KNOWN_NAMES, WELL_KNOWN_TITLES, type WellKnownTitle } from './well-known.js'
import type { World } from './world.js'
import { S, shared } from './world-codes.js'

/** People per title, as in the real dumps (about 1.25). */
const NAMES_PER_TITLE = 1.25
/** Share of ids with 8 digits (`tt10000001`), the rest have 7. */
const EIGHT_DIGIT_SHARE = 0.15

/** What every step of the skeleton reads: the sample's size and seed, the generator, the ids. */
export interface WorldBase extends Pick<World, 'seed' | 'titleCount' | 'nameCount' | 'tId' | 'nId'> {
  /** The one generator every step draws from, re-seeded with `rng.at(seed, stream, index)`. */
  readonly rng: Rng
  /** The well-known titles by title index. */
  readonly wkTitle: ReadonlyMap<number, WellKnownTitle>
  /** The name index of each well-known person, by their key. */
  readonly wkName: ReadonlyMap<string, number>
}

/** Draws the ids of a sample of `titles` titles, with the well-known ones among them. */
export function placeIds(titles: number, seed: number): WorldBase {
  const rng = new Rng()
  const nameCount = Math.round(titles * NAMES_PER_TITLE)
  const tId = sparseIds(
    titles,
    WELL_KNOWN_TITLES.map((t) => t.tconst),
    rng.at(seed, S.titleIds, 0),
  )
  const nId = sparseIds(
    nameCount,
    WELL_KNOWN_NAMES.map((p) => p.nconst),
    rng.at(seed, S.nameIds, 0),
  )
  const wkTitle = new Map<number, WellKnownTitle>()
  for (const t of WELL_KNOWN_TITLES) wkTitle.set(indexOfId(tId, t.tconst), t)
  const wkName = new Map<string, number>()
  for (const p of WELL_KNOWN_NAMES) wkName.set(p.key, indexOfId(nId, p.nconst))
  return { seed, titleCount: titles, nameCount, rng, tId, nId, wkTitle, wkName }
}

/** Ascending ids `lo..hi` for `count` items, with random (exponential) gaps between them. */
function spread(count: number, lo: number, hi: number, rng: Rng): Int32Array {
  const out = new Int32Array(count)
  if (count === 0) return out
  const gaps = new Float64Array(count + 1)
  let total = 0
  for (let i = 0; i <= count; i++) {
    total += -Math.log(1 - rng.float())
    gaps[i] = total
  }
  const slack = hi - lo + 1 - count
  for (let i = 0; i < count; i++) out[i] = lo + Math.floor((gaps[i] / total) * slack) + i
  return out
}

/** `count` sparse ascending ids (85% with 7 digits, 15% with 8) that include every `fixed` id. */
export function sparseIds(count: number, fixed: readonly number[], rng: Rng): Int32Array {
  const c8 = Math.max(1, Math.floor(count * EIGHT_DIGIT_SHARE))
  const c7 = count - c8 - fixed.length
  const all = shared(Int32Array, count)
  all.set(spread(c7, 1, 9_999_999, rng), 0)
  all.set(fixed, c7)
  all.set(spread(c8, 10_000_000, 10_000_000 + c8 * 12, rng), c7 + fixed.length)
  all.sort()
  // a generated id equal to a fixed one moves up; every value present before stays present
  for (let i = 1; i < count; i++) if (all[i] <= all[i - 1]) all[i] = all[i - 1] + 1
  return all
}

/** Index of `id` in ascending `ids`, or -1. */
export function indexOfId(ids: Int32Array, id: number): number {
  let lo = 0
  let hi = ids.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    const v = ids[mid]
    if (v === id) return mid
    if (v < id) lo = mid + 1
    else hi = mid - 1
  }
  return -1
}

/**
 * The order IMDb ships ids in: by the id as a string (`tt0999999` < `tt10000001` < `tt1000001`),
 * for ascending numeric `ids`. Seven-digit id a sorts before eight-digit id b iff a*10 <= b.
 */
export function stringOrder(ids: Int32Array): Int32Array {
  const order = shared(Int32Array, ids.length)
  let split = 0
  while (split < ids.length && ids[split] < 10_000_000) split++
  let a = 0
  let b = split
  let k = 0
  while (a < split && b < ids.length) {
    if (ids[a] * 10 <= ids[b]) order[k++] = a++
    else order[k++] = b++
  }
  while (a < split) order[k++] = a++
  while (b < ids.length) order[k++] = b++
  return order
}
