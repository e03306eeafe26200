/**
 * The skeleton's people: each person's class (which credits draw them), the pools principals
 * are drawn from, and the few people missing from name.basics or listed twice.
 */
import { Weighted } from './random.js'
import { WELL_KNOWN_NAMES } from './well-known.js'
import type { World } from './world.js'
import { CLASS, CLASS_COUNT, N_DUPLICATE, N_MISSING, N_WELL_KNOWN, S, shared } from './world-codes.js'
import type { WorldBase } from './world-ids.js'

export type People = Pick<World, 'nClass' | 'nFlags' | 'poolStart' | 'poolNames'>

const CLASS_WEIGHTS = [24, 17, 10, 7, 9, 8, 3, 3, 3, 1, 1, 14]
const CLASS_TABLE = new Weighted(
  CLASS_WEIGHTS.map((_, i) => i),
  CLASS_WEIGHTS,
)

/** Classifies every person, pools all but the well-known by class, and flags the odd ones. */
export function drawPeople(base: WorldBase): People {
  const nFlags = shared(Uint8Array, base.nameCount)
  const wellKnown = new Set(base.wkName.values())
  const nClass = drawClasses(base, nFlags, wellKnown)
  const { poolStart, poolNames } = poolByClass(base, nClass, wellKnown)
  const people = { nClass, nFlags, poolStart, poolNames }
  flagMissing(base, people)
  flagDuplicates(base, nFlags)
  return people
}

/** The well-known keep the class of their first profession; the others are drawn. */
function drawClasses(base: WorldBase, nFlags: Uint8Array, wellKnown: ReadonlySet<number>): Uint8Array {
  const nClass = shared(Uint8Array, base.nameCount)
  for (let n = 0; n < base.nameCount; n++) {
    if (wellKnown.has(n)) {
      nFlags[n] = N_WELL_KNOWN
      const first = WELL_KNOWN_NAMES.find((p) => base.wkName.get(p.key) === n)!.professions[0]
      nClass[n] = (CLASS as Record<string, number>)[first] ?? CLASS.self
      continue
    }
    nClass[n] = CLASS_TABLE.sample(base.rng.at(base.seed, S.nameClass, n))
  }
  return nClass
}

/** The people of each class but the well-known (credited by hand), in name index order. */
function poolByClass(
  base: WorldBase,
  nClass: Uint8Array,
  wellKnown: ReadonlySet<number>,
): Pick<People, 'poolStart' | 'poolNames'> {
  const N = base.nameCount
  const poolStart = shared(Int32Array, CLASS_COUNT + 1)
  for (let n = 0; n < N; n++) if (!wellKnown.has(n)) poolStart[nClass[n] + 1]++
  for (let c = 0; c < CLASS_COUNT; c++) poolStart[c + 1] += poolStart[c]
  const poolNames = shared(Int32Array, poolStart[CLASS_COUNT])
  const fill = Int32Array.from(poolStart)
  for (let n = 0; n < N; n++) if (!wellKnown.has(n)) poolNames[fill[nClass[n]]++] = n
  return { poolStart, poolNames }
}

/** A few people credited but missing from name.basics; never the most credited ones. */
function flagMissing({ rng, seed }: WorldBase, { nFlags, poolStart, poolNames }: People): void {
  for (let c = 0; c < CLASS_COUNT; c++) {
    for (let k = poolStart[c] + 200; k < poolStart[c + 1]; k++) {
      const n = poolNames[k]
      if (rng.at(seed, S.nameFlags, n).chance(0.006)) nFlags[n] |= N_MISSING
    }
  }
}

/** A few exact duplicate lines, as the real dump occasionally has. */
function flagDuplicates({ rng, seed, nameCount: N }: WorldBase, nFlags: Uint8Array): void {
  const want = Math.max(3, Math.round(N * 2e-5))
  rng.at(seed, S.nameFlags, -1)
  for (let got = 0, tries = 0; got < want && tries < want * 100; tries++) {
    const n = rng.int(N)
    if (nFlags[n]) continue
    nFlags[n] |= N_DUPLICATE
    got++
  }
}
