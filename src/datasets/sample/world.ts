/**
 * The numeric skeleton of a sample, built once before any file is written: ids, title types,
 * series and their episodes, years, ratings, who is credited on what, and what people are known
 * for. Everything that must agree between files lives here (an episode's parent, a principal's
 * nconst, a name's knownForTitles); everything that does not (title text, characters, akas) is
 * rendered later from `(seed, stream, index)` alone.
 *
 * Arrays live in SharedArrayBuffers so worker threads read the same memory without copies.
 */
import { Rng, Weighted, Zipf } from './random.js'
import {
  CAT,
  type Category,
  GENRE_BIT,
  GENRE_WEIGHTS,
  GENRES,
  ORIGINS,
  SELF_GENRES,
  TITLE_TYPE_NAMES,
  TITLE_TYPES,
  TYPE_INDEX,
} from './vocab.js'
import { WELL_KNOWN_NAMES, WELL_KNOWN_TITLES, type WellKnownTitle } from './well-known.js'

/** Smaller samples cannot hold the well-known series' episodes and still look like IMDb. */
export const MIN_TITLES = 500
/** The largest sample ids stay within 8 digits for. */
export const MAX_TITLES = 20_000_000

/** People per title, as in the real dumps (about 1.25). */
const NAMES_PER_TITLE = 1.25
/** Share of ids with 8 digits (`tt10000001`), the rest have 7. */
const EIGHT_DIGIT_SHARE = 0.15
/** The latest year of a released title; a few titles are announced for later years. */
export const CURRENT_YEAR = 2025

/** Independent random streams; a row's draws come from `(seed, stream, index)`. */
export const S = {
  titleIds: 1,
  nameIds: 2,
  types: 3,
  origins: 4,
  genres: 5,
  shuffle: 6,
  episodes: 7,
  seriesParams: 8,
  years: 9,
  ratings: 10,
  nameClass: 11,
  nameFlags: 12,
  principals: 13,
  regulars: 14,
  // render-time streams (see render.ts)
  titleText: 20,
  basics: 21,
  akas: 22,
  foreign: 23, // + language index
  characters: 40,
  jobs: 41,
  crew: 42,
  names: 43,
  nameText: 44,
  episodeRow: 45,
} as const

export const T_ADULT = 1
export const T_WELL_KNOWN = 2
export const T_WK_EPISODE = 4

export const N_MISSING = 1
export const N_DUPLICATE = 2
export const N_WELL_KNOWN = 4

/**
 * People's classes: which principals categories draw them. 0-10 map to categories' pools, 11 is
 * crew who are in name.basics but never principals.
 */
export const CLASS = {
  actor: 0,
  actress: 1,
  self: 2,
  director: 3,
  writer: 4,
  producer: 5,
  composer: 6,
  cinematographer: 7,
  editor: 8,
  production_designer: 9,
  casting_director: 10,
  crew: 11,
} as const
export const CLASS_COUNT = 12
const CLASS_WEIGHTS = [24, 17, 10, 7, 9, 8, 3, 3, 3, 1, 1, 14]

export interface World {
  readonly seed: number
  readonly titleCount: number
  readonly nameCount: number
  /** Title ids (numeric part of tconst), ascending. Everything `t*` is indexed like this. */
  readonly tId: Int32Array
  /** Index into TITLE_TYPE_NAMES. */
  readonly tType: Uint8Array
  readonly tFlags: Uint8Array
  /** Bit i set: GENRES[i]. */
  readonly tGenres: Uint32Array
  /** Index into ORIGINS. */
  readonly tOrigin: Uint8Array
  /** 0 = `\N`. */
  readonly tStart: Uint16Array
  readonly tEnd: Uint16Array
  /** Episodes: the parent's id (0 otherwise); the parent may be absent from the sample (dangling). */
  readonly tParent: Int32Array
  /** Episodes: the parent's index, -1 when absent. */
  readonly tParentIdx: Int32Array
  /** 0 = `\N`. */
  readonly tSeason: Uint16Array
  readonly tEpisode: Uint16Array
  /** 0 = not in title.ratings. */
  readonly tVotes: Int32Array
  /** averageRating x 10. */
  readonly tRating: Uint8Array
  /** Title indexes in the files' (tconst string) order. */
  readonly tOrder: Int32Array
  /** Principals of title i are slots pStart[i] .. pStart[i+1]-1, in ordering order. */
  readonly pStart: Int32Array
  /** Name index of each principal slot. */
  readonly pName: Int32Array
  /** Index into CATEGORIES. */
  readonly pCat: Uint8Array
  /** Name ids (numeric part of nconst), ascending. Everything `n*` is indexed like this. */
  readonly nId: Int32Array
  readonly nClass: Uint8Array
  readonly nFlags: Uint8Array
  /** Bit c set: credited at least once with category c. */
  readonly nCats: Uint16Array
  /** Up to four title indexes per name (-1 = none), most voted first. */
  readonly nKnown: Int32Array
  /** Name indexes in the file's (nconst string) order. */
  readonly nOrder: Int32Array
  /** Names of class c are poolNames[poolStart[c] .. poolStart[c+1]-1], most credited first. */
  readonly poolStart: Int32Array
  readonly poolNames: Int32Array
}

function shared<T extends Int32Array | Uint8Array | Uint16Array | Uint32Array>(
  Ctor: { new (buffer: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number },
  length: number,
): T {
  return new Ctor(new SharedArrayBuffer(Math.max(1, length) * Ctor.BYTES_PER_ELEMENT))
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

const YEAR_DECADES = new Weighted(
  [1890, 1900, 1910, 1920, 1930, 1940, 1950, 1960, 1970, 1980, 1990, 2000, 2010, 2020],
  [0.3, 0.8, 2, 1.5, 1.5, 1.5, 2, 3, 4, 5, 7, 13, 28, 18],
)

/** A release year, recent years most likely, none before `min`; 2% future (announced) titles. */
function drawYear(rng: Rng, min: number): number {
  if (rng.chance(0.005)) return rng.range(CURRENT_YEAR + 1, CURRENT_YEAR + 3)
  let y = YEAR_DECADES.sample(rng) + rng.int(10)
  if (y < 1894) y = 1894
  if (y > CURRENT_YEAR) y = rng.range(2020, CURRENT_YEAR)
  if (y < min) y = rng.range(min, CURRENT_YEAR)
  return y
}

const MIN_YEAR: readonly number[] = TITLE_TYPE_NAMES.map(
  (t) =>
    ({
      tvSeries: 1946,
      tvMiniSeries: 1950,
      tvEpisode: 1946,
      tvMovie: 1940,
      tvSpecial: 1940,
      tvShort: 1946,
      tvPilot: 1946,
      video: 1975,
      videoGame: 1972,
    })[t as string] ?? 1894,
)

/** Chance a title has a rating, and how its votes scale, by title type. */
const RATED: readonly number[] = TITLE_TYPE_NAMES.map(
  (t) =>
    ({
      movie: 0.55,
      tvSeries: 0.45,
      tvMiniSeries: 0.45,
      short: 0.25,
      tvMovie: 0.5,
      video: 0.35,
      videoGame: 0.35,
      tvSpecial: 0.3,
      tvShort: 0.2,
      tvPilot: 0.2,
      tvEpisode: 0.15,
    })[t as string] ?? 0.2,
)
const VOTE_SCALE: readonly number[] = TITLE_TYPE_NAMES.map(
  (t) => ({ movie: 3, tvSeries: 3, tvMiniSeries: 1.5, tvEpisode: 0.4, short: 0.5 })[t as string] ?? 1,
)
const MAX_VOTES = 3_100_000

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

/** The category a person of `cls` is credited with when they are a series regular. */
function regularCategory(cls: number): number {
  return cls === CLASS.actress ? CAT.actress : cls === CLASS.self ? CAT.self : CAT.actor
}

/** Builds the skeleton of a sample of `titles` titles. Pure: the same arguments give the same world. */
export function buildWorld(titles: number, seed: number): World {
  if (!Number.isInteger(titles) || titles < MIN_TITLES || titles > MAX_TITLES) {
    throw new RangeError(`titles must be an integer from ${MIN_TITLES} to ${MAX_TITLES}, got ${titles}`)
  }
  const T = titles
  const N = Math.round(T * NAMES_PER_TITLE)
  const rng = new Rng()

  // ---- ids -----------------------------------------------------------------------------------
  const tId = sparseIds(
    T,
    WELL_KNOWN_TITLES.map((t) => t.tconst),
    rng.at(seed, S.titleIds, 0),
  )
  const nId = sparseIds(
    N,
    WELL_KNOWN_NAMES.map((p) => p.nconst),
    rng.at(seed, S.nameIds, 0),
  )
  const wkTitle = new Map<number, WellKnownTitle>()
  for (const t of WELL_KNOWN_TITLES) wkTitle.set(indexOfId(tId, t.tconst), t)
  const wkName = new Map<string, number>()
  for (const p of WELL_KNOWN_NAMES) wkName.set(p.key, indexOfId(nId, p.nconst))

  // ---- types, origins, genres ------------------------------------------------------------------
  const tType = shared(Uint8Array, T)
  const tFlags = shared(Uint8Array, T)
  const tGenres = shared(Uint32Array, T)
  const tOrigin = shared(Uint8Array, T)
  const typeTable = new Weighted(
    TITLE_TYPES.map((_, i) => i),
    TITLE_TYPES.map((t) => t[1]),
  )
  const originTable = new Weighted(
    ORIGINS.map((_, i) => i),
    ORIGINS.map((o) => o[1]),
  )
  const genreTable = new Weighted(
    GENRES.map((_, i) => i),
    GENRE_WEIGHTS,
  )
  const shortTypes = new Set([TYPE_INDEX.short, TYPE_INDEX.tvShort])
  for (let i = 0; i < T; i++) {
    const wk = wkTitle.get(i)
    if (wk) {
      tType[i] = TYPE_INDEX[wk.titleType]
      tFlags[i] = T_WELL_KNOWN
      tOrigin[i] = Math.max(
        0,
        ORIGINS.findIndex((o) => o[0] === wk.origin),
      )
      for (const g of wk.genres) tGenres[i] |= GENRE_BIT[g]
      continue
    }
    rng.at(seed, S.types, i)
    const type = typeTable.sample(rng)
    tType[i] = type
    tOrigin[i] = originTable.sample(rng.at(seed, S.origins, i))
    rng.at(seed, S.genres, i)
    if (type !== TYPE_INDEX.tvEpisode && rng.chance(0.015)) {
      tFlags[i] |= T_ADULT
      tGenres[i] = GENRE_BIT.Adult | (rng.chance(0.5) ? 1 << genreTable.index(rng) : 0)
      continue
    }
    const u = rng.float()
    let count = u < 0.06 ? 0 : u < 0.46 ? 1 : u < 0.76 ? 2 : 3
    let mask = 0
    if (shortTypes.has(type) && count > 0) {
      mask = GENRE_BIT.Short
      count--
    }
    for (let k = 0; k < count; k++) mask |= 1 << genreTable.index(rng)
    tGenres[i] = mask
  }

  // ---- series and episodes -------------------------------------------------------------------
  const tParent = shared(Int32Array, T)
  const tParentIdx = shared(Int32Array, T).fill(-1)
  const tSeason = shared(Uint16Array, T)
  const tEpisode = shared(Uint16Array, T)
  const series: number[] = []
  const minis: number[] = []
  const episodes: number[] = []
  for (let i = 0; i < T; i++) {
    const type = tType[i]
    if (type === TYPE_INDEX.tvEpisode) episodes.push(i)
    else if (wkTitle.has(i)) continue
    else if (type === TYPE_INDEX.tvSeries) series.push(i)
    else if (type === TYPE_INDEX.tvMiniSeries) minis.push(i)
  }
  const assigned = new Uint8Array(T)
  const setParent = (e: number, p: number): void => {
    tParentIdx[e] = p
    tParent[e] = tId[p]
    assigned[e] = 1
  }

  // the long-running well-known series: 36 seasons of evenly spread episodes after its own id
  const simpsons = [...wkTitle].find(([, t]) => t.seasons)!
  const simpsonsIdx = simpsons[0]
  const simpsonsSeasons = simpsons[1].seasons!
  const perSeasonWk = Math.min(22, Math.max(2, Math.floor(T / 5000)))
  {
    const need = simpsonsSeasons * perSeasonWk
    const after = episodes.filter((e) => e > simpsonsIdx)
    const candidates = after.length >= need ? after : episodes
    if (candidates.length < need) throw new RangeError(`titles too small for the well-known series`)
    for (let j = 0; j < need; j++) {
      const e = candidates[Math.floor((j * candidates.length) / need)]
      setParent(e, simpsonsIdx)
      tFlags[e] |= T_WK_EPISODE
    }
  }

  const pool = Int32Array.from(episodes.filter((e) => !assigned[e]))
  rng.at(seed, S.shuffle, 0)
  for (let i = pool.length - 1; i > 0; i--) {
    const j = rng.int(i + 1)
    const tmp = pool[i]
    pool[i] = pool[j]
    pool[j] = tmp
  }
  let next = 0
  // a few episodes whose parent is missing from title.basics, as in the real dump
  const dangling = Math.max(2, Math.round(pool.length * 5e-5))
  rng.at(seed, S.episodes, 0)
  for (let d = 0; d < dangling && next < pool.length; d++) {
    const e = pool[next++]
    let id = 0
    do id = rng.range(1, 9_999_999)
    while (indexOfId(tId, id) >= 0)
    tParent[e] = id
    assigned[e] = 1
  }
  for (const m of minis) {
    const count = Math.min(10, 2 + rng.geometric(0.65))
    for (let k = 0; k < count && next < pool.length; k++) setParent(pool[next++], m)
  }
  const seriesByPopularity = Int32Array.from(series)
  for (let i = seriesByPopularity.length - 1; i > 0; i--) {
    const j = rng.int(i + 1)
    const tmp = seriesByPopularity[i]
    seriesByPopularity[i] = seriesByPopularity[j]
    seriesByPopularity[j] = tmp
  }
  if (seriesByPopularity.length > 0) {
    const zipf = new Zipf(seriesByPopularity.length, Math.max(1, seriesByPopularity.length / 2000))
    // a series is mostly created before its episodes: prefer parents with a smaller id
    while (next < pool.length) {
      const e = pool[next++]
      let p = seriesByPopularity[zipf.sample(rng)]
      for (let attempt = 0; p > e && attempt < 6; attempt++) p = seriesByPopularity[zipf.sample(rng)]
      setParent(e, p)
    }
  } else {
    while (next < pool.length) setParent(pool[next++], simpsonsIdx)
  }
  // episodes copy their parent's genres (mostly) and adult flag
  for (const e of episodes) {
    const p = tParentIdx[e]
    if (p < 0) continue
    if (tFlags[p] & T_ADULT) tFlags[e] |= T_ADULT
    if (tFlags[e] & T_WK_EPISODE || rng.at(seed, S.genres, T + e).chance(0.85)) tGenres[e] = tGenres[p]
  }

  // numbering: per series, seasons of `perSeason` episodes in id order; some series unnumbered
  const counters = new Int32Array(T)
  const seasonsOf = new Uint16Array(T)
  const episodesOf = new Int32Array(T)
  const perSeasonOf = (p: number): number =>
    p === simpsonsIdx ? perSeasonWk : 6 + rng.at(seed, S.seriesParams, p).int(19)
  for (const e of episodes) {
    const p = tParentIdx[e]
    rng.at(seed, S.episodes, e)
    if (p < 0) {
      if (rng.chance(0.7)) {
        tSeason[e] = rng.range(1, 5)
        tEpisode[e] = rng.range(1, 20)
      }
      continue
    }
    episodesOf[p]++
    let numbered = true
    if (p !== simpsonsIdx) {
      const mode = rng.at(seed, S.seriesParams, p + T).float()
      rng.at(seed, S.episodes, e)
      if (mode < 0.08) numbered = false
      else if (mode < 0.12) numbered = rng.chance(0.5)
      else numbered = !rng.chance(0.015)
    }
    if (!numbered) continue
    const per = perSeasonOf(p)
    const k = counters[p]++
    const season = Math.floor(k / per) + 1
    tSeason[e] = season
    tEpisode[e] = (k % per) + 1
    if (season > seasonsOf[p]) seasonsOf[p] = season
  }

  // ---- years ---------------------------------------------------------------------------------
  const tStart = shared(Uint16Array, T)
  const tEnd = shared(Uint16Array, T)
  for (let i = 0; i < T; i++) {
    const wk = wkTitle.get(i)
    if (wk) {
      tStart[i] = wk.startYear
      tEnd[i] = wk.endYear ?? 0
      continue
    }
    const type = tType[i]
    if (type === TYPE_INDEX.tvEpisode) continue
    rng.at(seed, S.years, i)
    if (rng.chance(0.02)) continue // \N: not yet dated
    const start = drawYear(rng, MIN_YEAR[type])
    tStart[i] = start
    if (type === TYPE_INDEX.tvSeries || type === TYPE_INDEX.tvMiniSeries) {
      const seasons = seasonsOf[i] || Math.max(1, Math.ceil(episodesOf[i] / 20))
      const ongoing = type === TYPE_INDEX.tvSeries && rng.chance(start >= 2005 ? 0.35 : 0.05)
      const end =
        type === TYPE_INDEX.tvMiniSeries ? start + rng.int(2) : start + Math.max(0, seasons - 1) + rng.int(2)
      if (!ongoing && end <= CURRENT_YEAR) tEnd[i] = end
    }
  }
  for (const e of episodes) {
    const p = tParentIdx[e]
    rng.at(seed, S.years, e)
    if (rng.chance(0.03)) continue
    if (p < 0) {
      tStart[e] = drawYear(rng, 1946)
      continue
    }
    const start = tStart[p] || drawYear(rng, 1946)
    const last = tEnd[p] || Math.max(start, CURRENT_YEAR)
    const y = tSeason[e] ? start + tSeason[e] - 1 : start + rng.int(last - start + 1)
    tStart[e] = Math.min(y, last, CURRENT_YEAR + 1)
  }

  // ---- ratings -------------------------------------------------------------------------------
  const tVotes = shared(Int32Array, T)
  const tRating = shared(Uint8Array, T)
  for (let i = 0; i < T; i++) {
    const wk = wkTitle.get(i)
    if (wk) {
      tVotes[i] = wk.numVotes
      tRating[i] = Math.round(wk.averageRating * 10)
      continue
    }
    const type = tType[i]
    rng.at(seed, S.ratings, i)
    const p = tFlags[i] & T_WK_EPISODE ? 0.9 : RATED[type]
    if (!tStart[i] || tStart[i] > CURRENT_YEAR || !rng.chance(p)) continue
    const votes = Math.min(MAX_VOTES, Math.max(5, Math.floor(rng.pareto(5, 0.95) * VOTE_SCALE[type])))
    tVotes[i] = votes
    const mean = type === TYPE_INDEX.tvEpisode ? 7.2 : 6.4
    const sd = 0.9 + 1.6 / Math.log10(votes + 1)
    const r = Math.min(10, Math.max(1, mean + rng.normal() * sd))
    tRating[i] = Math.round(r * 10)
  }

  // ---- people --------------------------------------------------------------------------------
  const nClass = shared(Uint8Array, N)
  const nFlags = shared(Uint8Array, N)
  const classTable = new Weighted(
    CLASS_WEIGHTS.map((_, i) => i),
    CLASS_WEIGHTS,
  )
  const wkNameIdx = new Set(wkName.values())
  for (let n = 0; n < N; n++) {
    if (wkNameIdx.has(n)) {
      nFlags[n] = N_WELL_KNOWN
      const first = WELL_KNOWN_NAMES.find((p) => wkName.get(p.key) === n)!.professions[0]
      nClass[n] = (CLASS as Record<string, number>)[first] ?? CLASS.self
      continue
    }
    nClass[n] = classTable.sample(rng.at(seed, S.nameClass, n))
  }
  const poolStart = shared(Int32Array, CLASS_COUNT + 1)
  for (let n = 0; n < N; n++) if (!wkNameIdx.has(n)) poolStart[nClass[n] + 1]++
  for (let c = 0; c < CLASS_COUNT; c++) poolStart[c + 1] += poolStart[c]
  const poolNames = shared(Int32Array, poolStart[CLASS_COUNT])
  {
    const fill = Int32Array.from(poolStart)
    for (let n = 0; n < N; n++) if (!wkNameIdx.has(n)) poolNames[fill[nClass[n]]++] = n
  }
  // a few people credited but missing from name.basics; never the most credited ones
  for (let c = 0; c < CLASS_COUNT; c++) {
    for (let k = poolStart[c] + 200; k < poolStart[c + 1]; k++) {
      const n = poolNames[k]
      if (rng.at(seed, S.nameFlags, n).chance(0.006)) nFlags[n] |= N_MISSING
    }
  }
  // a few exact duplicate lines, as the real dump occasionally has
  {
    const want = Math.max(3, Math.round(N * 2e-5))
    rng.at(seed, S.nameFlags, -1)
    for (let got = 0, tries = 0; got < want && tries < want * 100; tries++) {
      const n = rng.int(N)
      if (nFlags[n]) continue
      nFlags[n] |= N_DUPLICATE
      got++
    }
  }

  // ---- principals ----------------------------------------------------------------------------
  const zipfs = poolZipfs(poolStart)
  const drawFrom = (cls: number): number => {
    const size = poolStart[cls + 1] - poolStart[cls]
    if (size === 0) return poolNames[0]
    return poolNames[poolStart[cls] + zipfs[cls].sample(rng)]
  }
  const selfMask = SELF_GENRES.reduce((m, g) => m | GENRE_BIT[g], 0)
  const regularsCache = new Map<number, Int32Array>()
  const regularsOf = (p: number): Int32Array => {
    let regs = regularsCache.get(p)
    if (regs) return regs
    const r = new Rng().at(seed, S.regulars, p)
    const selfish = (tGenres[p] & selfMask) !== 0
    regs = new Int32Array(2 + r.int(5))
    for (let k = 0; k < regs.length; k++) {
      const cls = selfish && k < 2 ? CLASS.self : r.chance(0.55) ? CLASS.actor : CLASS.actress
      const size = poolStart[cls + 1] - poolStart[cls]
      regs[k] = poolNames[poolStart[cls] + r.int(Math.max(1, size))]
    }
    regularsCache.set(p, regs)
    return regs
  }

  const counts = new Uint8Array(T)
  let P = 0
  for (let i = 0; i < T; i++) {
    const wk = wkTitle.get(i)
    let k: number
    if (wk) k = wk.principals.length
    else {
      rng.at(seed, S.principals, i)
      const base = PRINCIPALS_BASE[tType[i]] + 0.35 + 0.7 * Math.log10(1 + tVotes[i])
      k = Math.round(base + 2.6 * rng.normal())
      k = Math.min(MAX_PRINCIPALS, Math.max(1, k))
      if (tFlags[i] & T_WK_EPISODE) k = Math.max(k, 6)
    }
    counts[i] = k
    P += k
  }
  const pStart = shared(Int32Array, T + 1)
  for (let i = 0; i < T; i++) pStart[i + 1] = pStart[i] + counts[i]
  const pName = shared(Int32Array, P)
  const pCat = shared(Uint8Array, P)
  const nCats = shared(Uint16Array, N)
  const nKnown = shared(Int32Array, N * 4).fill(-1)

  const addKnown = (n: number, t: number): void => {
    const base = n * 4
    const v = tVotes[t]
    let pos = 4
    for (let k = 0; k < 4; k++) {
      const cur = nKnown[base + k]
      if (cur === t) return
      if (pos === 4 && (cur < 0 || tVotes[cur] < v)) pos = k
    }
    if (pos === 4) return
    for (let k = 3; k > pos; k--) nKnown[base + k] = nKnown[base + k - 1]
    nKnown[base + pos] = t
  }

  const simpsonsRegulars = simpsons[1].regulars!
  for (let i = 0; i < T; i++) {
    const s0 = pStart[i]
    const k = counts[i]
    const wk = wkTitle.get(i)
    if (wk) {
      wk.principals.forEach((credit, j) => {
        pName[s0 + j] = wkName.get(credit.name)!
        pCat[s0 + j] = CAT[credit.category]
      })
    } else {
      rng.at(seed, S.principals, i)
      rng.normal() // the draw spent on the count above
      const type = tType[i]
      const isWkEpisode = (tFlags[i] & T_WK_EPISODE) !== 0
      const parent = type === TYPE_INDEX.tvEpisode ? tParentIdx[i] : -1
      const selfish = (tGenres[i] & selfMask) !== 0
      let cast: number
      let j = 0
      if (isWkEpisode) {
        for (const credit of simpsonsRegulars) {
          pName[s0 + j] = wkName.get(credit.name)!
          pCat[s0 + j] = CAT[credit.category]
          j++
        }
        cast = j
      } else {
        const share = type === TYPE_INDEX.videoGame ? 0.7 : 0.55
        cast = Math.min(k, Math.max(1, Math.round(k * share + rng.normal())))
      }
      const regs = parent >= 0 && !isWkEpisode ? regularsOf(parent) : null
      for (; j < k; j++) {
        let name = -1
        let cat: number
        if (j < cast) {
          if (regs && j < regs.length && rng.chance(0.7)) {
            name = regs[j]
            cat = regularCategory(nClass[name])
          } else {
            const u = rng.float()
            cat =
              u < 0.015
                ? CAT.archive_footage
                : u < 0.017
                  ? CAT.archive_sound
                  : selfish && rng.chance(0.85)
                    ? CAT.self
                    : rng.chance(0.57)
                      ? CAT.actor
                      : CAT.actress
          }
        } else {
          const c = j - cast
          cat = c < CREW_SEQUENCE.length && !rng.chance(0.15) ? CREW_SEQUENCE[c] : rng.pick(CREW_CATS)
          if ((cat === CAT.writer && rng.chance(0.25)) || (cat === CAT.producer && rng.chance(0.1))) {
            for (let q = s0 + cast; q < s0 + j; q++) if (pCat[q] === CAT.director) name = pName[q]
          }
        }
        for (let attempt = 0; name < 0 && attempt < 4; attempt++) {
          const candidate = drawFrom(poolFor(cat, rng))
          let clash = false
          for (let q = s0; q < s0 + j; q++) if (pName[q] === candidate && pCat[q] === cat) clash = true
          if (!clash) name = candidate
        }
        if (name < 0) name = drawFrom(poolFor(cat, rng))
        pName[s0 + j] = name
        pCat[s0 + j] = cat
      }
    }
    // people are known for the series rather than one of its episodes
    const knownAs = tType[i] === TYPE_INDEX.tvEpisode && tParentIdx[i] >= 0 ? tParentIdx[i] : i
    for (let s = s0; s < s0 + k; s++) {
      const n = pName[s]
      nCats[n] |= 1 << pCat[s]
      addKnown(n, knownAs)
    }
  }

  return {
    seed,
    titleCount: T,
    nameCount: N,
    tId,
    tType,
    tFlags,
    tGenres,
    tOrigin,
    tStart,
    tEnd,
    tParent,
    tParentIdx,
    tSeason,
    tEpisode,
    tVotes,
    tRating,
    tOrder: stringOrder(tId),
    pStart,
    pName,
    pCat,
    nId,
    nClass,
    nFlags,
    nCats,
    nKnown,
    nOrder: stringOrder(nId),
    poolStart,
    poolNames,
  }
}

export type { Category }
