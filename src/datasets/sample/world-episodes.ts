/**
 * The skeleton's series: which series each episode belongs to (a few to a parent missing from
 * the sample, as in the real dump), what it inherits from its parent, and its season and number.
 */
import { type Rng, Zipf } from './random.js'
import { TYPE_INDEX } from './vocab.js'
import type { WellKnownTitle } from './well-known.js'
import type { World } from './world.js'
import { S, shared, T_ADULT, T_WK_EPISODE } from './world-codes.js'
import { indexOfId, type WorldBase } from './world-ids.js'
import type { TitleKinds } from './world-titles.js'

export interface EpisodeLinks extends Pick<World, 'tParent' | 'tParentIdx' | 'tSeason' | 'tEpisode'> {
  /** Title indexes of the episodes, ascending. */
  readonly episodes: readonly number[]
  /** Per series (by title index): its seasons and its episodes, which its end year follows. */
  readonly seasonsOf: Uint16Array
  readonly episodesOf: Int32Array
}

/** The well-known series that runs for decades (its title index and its well-known data). */
export interface LongRunningSeries {
  readonly index: number
  readonly title: WellKnownTitle
}

export function longRunningSeries(base: WorldBase): LongRunningSeries {
  const [index, title] = [...base.wkTitle].find(([, t]) => t.seasons)!
  return { index, title }
}

/** What the linking steps share: the parents set so far, and which episodes have one. */
interface Linking {
  readonly base: WorldBase
  readonly kinds: TitleKinds
  readonly tParent: Int32Array
  readonly tParentIdx: Int32Array
  readonly assigned: Uint8Array
  readonly episodes: readonly number[]
}

/** Links every episode to a parent series, then numbers the episodes of each. */
export function linkEpisodes(base: WorldBase, kinds: TitleKinds): EpisodeLinks {
  const T = base.titleCount
  const { series, minis, episodes } = findSeriesAndEpisodes(base, kinds)
  const linking: Linking = {
    base,
    kinds,
    tParent: shared(Int32Array, T),
    tParentIdx: shared(Int32Array, T).fill(-1),
    assigned: new Uint8Array(T),
    episodes,
  }
  const longRunning = longRunningSeries(base)
  const perSeasonWk = Math.min(22, Math.max(2, Math.floor(T / 5000)))
  linkLongRunningSeries(linking, longRunning, perSeasonWk)

  const queue = new EpisodeQueue(shuffledUnlinked(linking))
  base.rng.at(base.seed, S.episodes, 0)
  linkDangling(linking, queue)
  linkMiniSeries(linking, queue, minis)
  linkSeriesByPopularity(linking, queue, series, longRunning.index)

  inheritFromParents(linking)
  return {
    tParent: linking.tParent,
    tParentIdx: linking.tParentIdx,
    episodes,
    ...numberEpisodes(linking, longRunning.index, perSeasonWk),
  }
}

/** Episodes, and the series and mini-series other than the well-known ones, by title index. */
function findSeriesAndEpisodes(
  base: WorldBase,
  kinds: TitleKinds,
): { series: number[]; minis: number[]; episodes: number[] } {
  const series: number[] = []
  const minis: number[] = []
  const episodes: number[] = []
  for (let i = 0; i < base.titleCount; i++) {
    const type = kinds.tType[i]
    if (type === TYPE_INDEX.tvEpisode) episodes.push(i)
    else if (base.wkTitle.has(i)) continue
    else if (type === TYPE_INDEX.tvSeries) series.push(i)
    else if (type === TYPE_INDEX.tvMiniSeries) minis.push(i)
  }
  return { series, minis, episodes }
}

function setParent(l: Linking, e: number, p: number): void {
  l.tParentIdx[e] = p
  l.tParent[e] = l.base.tId[p]
  l.assigned[e] = 1
}

/** The long-running well-known series: 36 seasons of evenly spread episodes after its own id. */
function linkLongRunningSeries(l: Linking, series: LongRunningSeries, perSeason: number): void {
  const need = series.title.seasons! * perSeason
  const after = l.episodes.filter((e) => e > series.index)
  const candidates = after.length >= need ? after : l.episodes
  if (candidates.length < need) throw new RangeError(`titles too small for the well-known series`)
  for (let j = 0; j < need; j++) {
    const e = candidates[Math.floor((j * candidates.length) / need)]
    setParent(l, e, series.index)
    l.kinds.tFlags[e] |= T_WK_EPISODE
  }
}

function shuffleInPlace(a: Int32Array, rng: Rng): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1)
    const tmp = a[i]
    a[i] = a[j]
    a[j] = tmp
  }
}

/** The episodes without a parent yet, in random order. */
function shuffledUnlinked(l: Linking): Int32Array {
  const pool = Int32Array.from(l.episodes.filter((e) => !l.assigned[e]))
  shuffleInPlace(pool, l.base.rng.at(l.base.seed, S.shuffle, 0))
  return pool
}

/** Episodes handed out in turn to the parents that take them. */
class EpisodeQueue {
  private next = 0
  constructor(private readonly pool: Int32Array) {}
  get size(): number {
    return this.pool.length
  }
  get empty(): boolean {
    return this.next >= this.pool.length
  }
  take(): number {
    return this.pool[this.next++]
  }
}

/** A few episodes whose parent is missing from title.basics, as in the real dump. */
function linkDangling(l: Linking, queue: EpisodeQueue): void {
  const { rng, tId } = l.base
  const dangling = Math.max(2, Math.round(queue.size * 5e-5))
  for (let d = 0; d < dangling && !queue.empty; d++) {
    const e = queue.take()
    let id = 0
    do id = rng.range(1, 9_999_999)
    while (indexOfId(tId, id) >= 0)
    l.tParent[e] = id
    l.assigned[e] = 1
  }
}

/** Mini-series have a handful of episodes each. */
function linkMiniSeries(l: Linking, queue: EpisodeQueue, minis: readonly number[]): void {
  for (const m of minis) {
    const count = Math.min(10, 2 + l.base.rng.geometric(0.65))
    for (let k = 0; k < count && !queue.empty; k++) setParent(l, queue.take(), m)
  }
}

/** The other episodes go to series drawn by popularity (Zipf), or all to `fallback` without any. */
function linkSeriesByPopularity(
  l: Linking,
  queue: EpisodeQueue,
  series: readonly number[],
  fallback: number,
): void {
  const rng = l.base.rng
  const byPopularity = Int32Array.from(series)
  shuffleInPlace(byPopularity, rng)
  if (byPopularity.length === 0) {
    while (!queue.empty) setParent(l, queue.take(), fallback)
    return
  }
  const zipf = new Zipf(byPopularity.length, Math.max(1, byPopularity.length / 2000))
  // a series is mostly created before its episodes: prefer parents with a smaller id
  while (!queue.empty) {
    const e = queue.take()
    let p = byPopularity[zipf.sample(rng)]
    for (let attempt = 0; p > e && attempt < 6; attempt++) p = byPopularity[zipf.sample(rng)]
    setParent(l, e, p)
  }
}

/** Episodes copy their parent's genres (mostly) and adult flag. */
function inheritFromParents(l: Linking): void {
  const { rng, seed, titleCount: T } = l.base
  const { tFlags, tGenres } = l.kinds
  for (const e of l.episodes) {
    const p = l.tParentIdx[e]
    if (p < 0) continue
    if (tFlags[p] & T_ADULT) tFlags[e] |= T_ADULT
    if (tFlags[e] & T_WK_EPISODE || rng.at(seed, S.genres, T + e).chance(0.85)) tGenres[e] = tGenres[p]
  }
}

/** Per series, seasons of `perSeason` episodes in id order; some series unnumbered. */
function numberEpisodes(
  l: Linking,
  longRunning: number,
  perSeasonWk: number,
): Pick<EpisodeLinks, 'tSeason' | 'tEpisode' | 'seasonsOf' | 'episodesOf'> {
  const { rng, seed, titleCount: T } = l.base
  const tSeason = shared(Uint16Array, T)
  const tEpisode = shared(Uint16Array, T)
  const counters = new Int32Array(T)
  const seasonsOf = new Uint16Array(T)
  const episodesOf = new Int32Array(T)
  const perSeasonOf = (p: number): number =>
    p === longRunning ? perSeasonWk : 6 + rng.at(seed, S.seriesParams, p).int(19)
  for (const e of l.episodes) {
    const p = l.tParentIdx[e]
    rng.at(seed, S.episodes, e)
    if (p < 0) {
      if (rng.chance(0.7)) {
        tSeason[e] = rng.range(1, 5)
        tEpisode[e] = rng.range(1, 20)
      }
      continue
    }
    episodesOf[p]++
    if (p !== longRunning && !isNumbered(l.base, p, e)) continue
    const per = perSeasonOf(p)
    const k = counters[p]++
    const season = Math.floor(k / per) + 1
    tSeason[e] = season
    tEpisode[e] = (k % per) + 1
    if (season > seasonsOf[p]) seasonsOf[p] = season
  }
  return { tSeason, tEpisode, seasonsOf, episodesOf }
}

/** Whether episode `e` of series `p` has a number: most series number all, a few none or some. */
function isNumbered({ rng, seed, titleCount: T }: WorldBase, p: number, e: number): boolean {
  const mode = rng.at(seed, S.seriesParams, p + T).float()
  rng.at(seed, S.episodes, e)
  if (mode < 0.08) return false
  if (mode < 0.12) return rng.chance(0.5)
  return !rng.chance(0.015)
}
