/**
 * The skeleton's credits: who is a principal of each title, with which category, in ordering
 * order (cast, then crew in IMDb's usual order), and what each person is known for.
 */
import { Rng, Zipf } from './random.js'
import { CAT, GENRE_BIT, SELF_GENRES, TITLE_TYPE_NAMES, TYPE_INDEX } from './vocab.js'
import type { WellKnownCredit } from './well-known.js'
import type { World } from './world.js'
import { CLASS, CLASS_COUNT, S, shared, T_WK_EPISODE } from './world-codes.js'
import { type EpisodeLinks, longRunningSeries } from './world-episodes.js'
import type { WorldBase } from './world-ids.js'
import type { People } from './world-people.js'
import type { TitleRatings } from './world-ratings.js'
import type { TitleKinds } from './world-titles.js'

export type Credits = Pick<World, 'pStart' | 'pName' | 'pCat' | 'nCats' | 'nKnown'>

/** Mean principals per title, by title type (about 8.9 over a sample). */
const PRINCIPALS_BASE: readonly number[] = TITLE_TYPE_NAMES.map(
  (t) =>
    ({
      movie: 10.5,
      tvMovie: 10,
      tvSeries: 9,
      tvMiniSeries: 10,
      tvEpisode: 8.4,
      short: 6.5,
      video: 7.5,
      videoGame: 9,
      tvSpecial: 9,
      tvShort: 6,
      tvPilot: 9,
    })[t as string] ?? 8,
)
const MAX_PRINCIPALS = 40

/** The crew part of a title's principals, in IMDb's usual order after the cast. */
const CREW_SEQUENCE: readonly number[] = (
  [
    'director',
    'writer',
    'producer',
    'composer',
    'cinematographer',
    'editor',
    'writer',
    'producer',
    'production_designer',
    'casting_director',
    'producer',
    'writer',
    'director',
    'editor',
    'producer',
  ] as const
).map((c) => CAT[c])
const CREW_CATS: readonly number[] = (
  [
    'director',
    'writer',
    'writer',
    'producer',
    'producer',
    'composer',
    'cinematographer',
    'editor',
    'production_designer',
    'casting_director',
  ] as const
).map((c) => CAT[c])

const SELF_MASK = SELF_GENRES.reduce((m, g) => m | GENRE_BIT[g], 0)

/**
 * How often people of each class are credited: Zipf-Mandelbrot with exponent 1.2 and an offset
 * proportional to the pool, so the shape does not depend on the sample size: about half of those
 * credited have one or two credits, the most credited about a thousand (series regulars add more).
 */
export function poolZipfs(poolStart: Int32Array): Zipf[] {
  const zipfs: Zipf[] = []
  for (let c = 0; c < CLASS_COUNT; c++) {
    const size = Math.max(1, poolStart[c + 1] - poolStart[c])
    zipfs.push(new Zipf(size, Math.max(1, size / 500), 1.2))
  }
  return zipfs
}

/** What crediting the titles reads, and the credits it writes. */
interface Crediting {
  readonly base: WorldBase
  readonly kinds: TitleKinds
  readonly links: EpisodeLinks
  readonly votes: Int32Array
  readonly people: People
  readonly credits: Credits
  readonly zipfs: Zipf[]
  /** The regular cast of each series drawn so far, by its title index. */
  readonly regulars: Map<number, Int32Array>
  /** The cast the long-running well-known series credits on each of its episodes. */
  readonly longRunningCast: readonly WellKnownCredit[]
}

/** Counts, draws and records every title's principals, and what their people are known for. */
export function creditPrincipals(
  base: WorldBase,
  kinds: TitleKinds,
  links: EpisodeLinks,
  ratings: TitleRatings,
  people: People,
): Credits {
  const T = base.titleCount
  const counts = drawPrincipalCounts(base, kinds, ratings)
  const pStart = shared(Int32Array, T + 1)
  for (let i = 0; i < T; i++) pStart[i + 1] = pStart[i] + counts[i]
  const c: Crediting = {
    base,
    kinds,
    links,
    votes: ratings.tVotes,
    people,
    credits: {
      pStart,
      pName: shared(Int32Array, pStart[T]),
      pCat: shared(Uint8Array, pStart[T]),
      nCats: shared(Uint16Array, base.nameCount),
      nKnown: shared(Int32Array, base.nameCount * 4).fill(-1),
    },
    zipfs: poolZipfs(people.poolStart),
    regulars: new Map(),
    longRunningCast: longRunningSeries(base).title.regulars!,
  }
  for (let i = 0; i < T; i++) {
    const wk = base.wkTitle.get(i)
    if (wk) writeWellKnownCredits(c, pStart[i], wk.principals)
    else drawCredits(c, i, counts[i])
    recordCredits(c, i, counts[i])
  }
  return c.credits
}

/** How many principals each title has: more for popular titles, the well-known ones' own. */
function drawPrincipalCounts(base: WorldBase, kinds: TitleKinds, ratings: TitleRatings): Uint8Array {
  const { rng, seed } = base
  const counts = new Uint8Array(base.titleCount)
  for (let i = 0; i < base.titleCount; i++) {
    const wk = base.wkTitle.get(i)
    let k: number
    if (wk) k = wk.principals.length
    else {
      rng.at(seed, S.principals, i)
      const mean = PRINCIPALS_BASE[kinds.tType[i]] + 0.35 + 0.7 * Math.log10(1 + ratings.tVotes[i])
      k = Math.round(mean + 2.6 * rng.normal())
      k = Math.min(MAX_PRINCIPALS, Math.max(1, k))
      if (kinds.tFlags[i] & T_WK_EPISODE) k = Math.max(k, 6)
    }
    counts[i] = k
  }
  return counts
}

/** Writes `list` into the slots from `s0`; returns how many. */
function writeWellKnownCredits(c: Crediting, s0: number, list: readonly WellKnownCredit[]): number {
  const { pName, pCat } = c.credits
  for (let j = 0; j < list.length; j++) {
    pName[s0 + j] = c.base.wkName.get(list[j].name)!
    pCat[s0 + j] = CAT[list[j].category]
  }
  return list.length
}

/** The `k` principals of generated title `i`: its cast (regulars first for episodes), then crew. */
function drawCredits(c: Crediting, i: number, k: number): void {
  const { rng, seed } = c.base
  const { pName, pCat, pStart } = c.credits
  const s0 = pStart[i]
  rng.at(seed, S.principals, i)
  rng.normal() // the draw spent on the count
  const type = c.kinds.tType[i]
  const isWkEpisode = (c.kinds.tFlags[i] & T_WK_EPISODE) !== 0
  const parent = type === TYPE_INDEX.tvEpisode ? c.links.tParentIdx[i] : -1
  const selfish = (c.kinds.tGenres[i] & SELF_MASK) !== 0
  let cast: number
  let j = 0
  if (isWkEpisode) {
    j = writeWellKnownCredits(c, s0, c.longRunningCast)
    cast = j
  } else {
    const share = type === TYPE_INDEX.videoGame ? 0.7 : 0.55
    cast = Math.min(k, Math.max(1, Math.round(k * share + rng.normal())))
  }
  const regs = parent >= 0 && !isWkEpisode ? regularsOf(c, parent) : null
  for (; j < k; j++) {
    let name = -1
    let cat: number
    if (j < cast) {
      if (regs && j < regs.length && rng.chance(0.7)) {
        name = regs[j]
        cat = regularCategory(c.people.nClass[name])
      } else {
        cat = castCategory(rng, selfish)
      }
    } else {
      cat = crewCategory(rng, j - cast)
      if ((cat === CAT.writer && rng.chance(0.25)) || (cat === CAT.producer && rng.chance(0.1))) {
        name = lastDirector(c.credits, s0 + cast, s0 + j)
      }
    }
    if (name < 0) name = drawUncredited(c, cat, s0, s0 + j)
    pName[s0 + j] = name
    pCat[s0 + j] = cat
  }
}

function castCategory(rng: Rng, selfish: boolean): number {
  const u = rng.float()
  if (u < 0.015) return CAT.archive_footage
  if (u < 0.017) return CAT.archive_sound
  if (selfish && rng.chance(0.85)) return CAT.self
  return rng.chance(0.57) ? CAT.actor : CAT.actress
}

/** The category of the `c`th crew slot: mostly IMDb's usual sequence, sometimes any crew. */
function crewCategory(rng: Rng, c: number): number {
  return c < CREW_SEQUENCE.length && !rng.chance(0.15) ? CREW_SEQUENCE[c] : rng.pick(CREW_CATS)
}

/** The director credited last in slots `from .. to-1`, or -1 (writers and producers may be them). */
function lastDirector({ pName, pCat }: Credits, from: number, to: number): number {
  let name = -1
  for (let q = from; q < to; q++) if (pCat[q] === CAT.director) name = pName[q]
  return name
}

/** A person for category `cat` not yet credited with it in slots `s0 .. end-1` (a few tries). */
function drawUncredited(c: Crediting, cat: number, s0: number, end: number): number {
  const { rng } = c.base
  const { pName, pCat } = c.credits
  for (let attempt = 0; attempt < 4; attempt++) {
    const candidate = drawFrom(c, poolFor(cat, rng))
    let clash = false
    for (let q = s0; q < end; q++) if (pName[q] === candidate && pCat[q] === cat) clash = true
    if (!clash) return candidate
  }
  return drawFrom(c, poolFor(cat, rng))
}

/** A person of class `cls`, the most credited most likely. */
function drawFrom(c: Crediting, cls: number): number {
  const { poolStart, poolNames } = c.people
  const size = poolStart[cls + 1] - poolStart[cls]
  if (size === 0) return poolNames[0]
  return poolNames[poolStart[cls] + c.zipfs[cls].sample(c.base.rng)]
}

/** Which class of people a category draws from (self and archive categories are mixed). */
function poolFor(cat: number, rng: Rng): number {
  switch (cat) {
    case CAT.actor:
      return CLASS.actor
    case CAT.actress:
      return CLASS.actress
    case CAT.self: {
      const u = rng.float()
      return u < 0.6 ? CLASS.self : u < 0.85 ? CLASS.actor : CLASS.actress
    }
    case CAT.archive_footage:
      return rng.chance(0.55) ? CLASS.actor : CLASS.actress
    case CAT.archive_sound:
      return rng.chance(0.5) ? CLASS.composer : CLASS.self
    default:
      // director .. casting_director share their index with their class
      return cat
  }
}

/** The regular cast of series `p`, drawn from its own stream the first time it is asked for. */
function regularsOf(c: Crediting, p: number): Int32Array {
  let regs = c.regulars.get(p)
  if (regs) return regs
  const { poolStart, poolNames } = c.people
  const r = new Rng().at(c.base.seed, S.regulars, p)
  const selfish = (c.kinds.tGenres[p] & SELF_MASK) !== 0
  regs = new Int32Array(2 + r.int(5))
  for (let k = 0; k < regs.length; k++) {
    const cls = selfish && k < 2 ? CLASS.self : r.chance(0.55) ? CLASS.actor : CLASS.actress
    const size = poolStart[cls + 1] - poolStart[cls]
    regs[k] = poolNames[poolStart[cls] + r.int(Math.max(1, size))]
  }
  c.regulars.set(p, regs)
  return regs
}

/** The category a person of `cls` is credited with when they are a series regular. */
function regularCategory(cls: number): number {
  return cls === CLASS.actress ? CAT.actress : cls === CLASS.self ? CAT.self : CAT.actor
}

/** Records the categories of title `i`'s people, and the title among what they are known for. */
function recordCredits(c: Crediting, i: number, k: number): void {
  const { pName, pCat, pStart, nCats } = c.credits
  const s0 = pStart[i]
  // people are known for the series rather than one of its episodes
  const parent = c.links.tParentIdx[i]
  const knownAs = c.kinds.tType[i] === TYPE_INDEX.tvEpisode && parent >= 0 ? parent : i
  for (let s = s0; s < s0 + k; s++) {
    const n = pName[s]
    nCats[n] |= 1 << pCat[s]
    addKnownFor(c, n, knownAs)
  }
}

/** Adds title `t` to person `n`'s four known-for titles, kept most voted first. */
function addKnownFor(c: Crediting, n: number, t: number): void {
  const { nKnown } = c.credits
  const votes = c.votes
  const base = n * 4
  const v = votes[t]
  let pos = 4
  for (let k = 0; k < 4; k++) {
    const cur = nKnown[base + k]
    if (cur === t) return
    if (pos === 4 && (cur < 0 || votes[cur] < v)) pos = k
  }
  if (pos === 4) return
  for (let k = 3; k > pos; k--) nKnown[base + k] = nKnown[base + k - 1]
  nKnown[base + pos] = t
}
