/** The skeleton's titles: each title's type, country of origin, genres and adult flag. */
import { Weighted } from './random.js'
import { GENRE_BIT, GENRE_WEIGHTS, GENRES, ORIGINS, TITLE_TYPES, TYPE_INDEX } from './vocab.js'
import type { WellKnownTitle } from './well-known.js'
import type { World } from './world.js'
import { S, shared, T_ADULT, T_WELL_KNOWN } from './world-codes.js'
import type { WorldBase } from './world-ids.js'

export type TitleKinds = Pick<World, 'tType' | 'tFlags' | 'tGenres' | 'tOrigin'>

const TYPE_TABLE = new Weighted(
  TITLE_TYPES.map((_, i) => i),
  TITLE_TYPES.map((t) => t[1]),
)
const ORIGIN_TABLE = new Weighted(
  ORIGINS.map((_, i) => i),
  ORIGINS.map((o) => o[1]),
)
const GENRE_TABLE = new Weighted(
  GENRES.map((_, i) => i),
  GENRE_WEIGHTS,
)
const SHORT_TYPES: ReadonlySet<number> = new Set([TYPE_INDEX.short, TYPE_INDEX.tvShort])

/** Draws every title's type, origin and genres; the well-known titles keep their own. */
export function drawTitleKinds(base: WorldBase): TitleKinds {
  const T = base.titleCount
  const kinds: TitleKinds = {
    tType: shared(Uint8Array, T),
    tFlags: shared(Uint8Array, T),
    tGenres: shared(Uint32Array, T),
    tOrigin: shared(Uint8Array, T),
  }
  for (let i = 0; i < T; i++) {
    const wk = base.wkTitle.get(i)
    if (wk) copyWellKnownKind(kinds, i, wk)
    else drawKind(base, kinds, i)
  }
  return kinds
}

function copyWellKnownKind(kinds: TitleKinds, i: number, wk: WellKnownTitle): void {
  kinds.tType[i] = TYPE_INDEX[wk.titleType]
  kinds.tFlags[i] = T_WELL_KNOWN
  kinds.tOrigin[i] = Math.max(
    0,
    ORIGINS.findIndex((o) => o[0] === wk.origin),
  )
  for (const g of wk.genres) kinds.tGenres[i] |= GENRE_BIT[g]
}

function drawKind({ rng, seed }: WorldBase, kinds: TitleKinds, i: number): void {
  rng.at(seed, S.types, i)
  const type = TYPE_TABLE.sample(rng)
  kinds.tType[i] = type
  kinds.tOrigin[i] = ORIGIN_TABLE.sample(rng.at(seed, S.origins, i))
  rng.at(seed, S.genres, i)
  if (type !== TYPE_INDEX.tvEpisode && rng.chance(0.015)) {
    kinds.tFlags[i] |= T_ADULT
    kinds.tGenres[i] = GENRE_BIT.Adult | (rng.chance(0.5) ? 1 << GENRE_TABLE.index(rng) : 0)
    return
  }
  const u = rng.float()
  let count = u < 0.06 ? 0 : u < 0.46 ? 1 : u < 0.76 ? 2 : 3
  let mask = 0
  if (SHORT_TYPES.has(type) && count > 0) {
    mask = GENRE_BIT.Short
    count--
  }
  for (let k = 0; k < count; k++) mask |= 1 << GENRE_TABLE.index(rng)
  kinds.tGenres[i] = mask
}
