/** The skeleton's years: when each title started and, for series, ended. */
import { type Rng, Weighted } from './random.js'
import { TITLE_TYPE_NAMES, TYPE_INDEX } from './vocab.js'
import type { World } from './world.js'
import { CURRENT_YEAR, S, shared } from './world-codes.js'
import type { EpisodeLinks } from './world-episodes.js'
import type { WorldBase } from './world-ids.js'
import type { TitleKinds } from './world-titles.js'

export type TitleYears = Pick<World, 'tStart' | 'tEnd'>

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

/** Dates the titles, then the episodes within their series' years. */
export function drawYears(base: WorldBase, kinds: TitleKinds, links: EpisodeLinks): TitleYears {
  const years: TitleYears = {
    tStart: shared(Uint16Array, base.titleCount),
    tEnd: shared(Uint16Array, base.titleCount),
  }
  drawTitleYears(base, kinds, links, years)
  drawEpisodeYears(base, links, years)
  return years
}

/** Every title but episodes: the well-known ones' real years, the others drawn by type. */
function drawTitleYears(base: WorldBase, kinds: TitleKinds, links: EpisodeLinks, years: TitleYears): void {
  const { rng, seed } = base
  const { tStart, tEnd } = years
  for (let i = 0; i < base.titleCount; i++) {
    const wk = base.wkTitle.get(i)
    if (wk) {
      tStart[i] = wk.startYear
      tEnd[i] = wk.endYear ?? 0
      continue
    }
    const type = kinds.tType[i]
    if (type === TYPE_INDEX.tvEpisode) continue
    rng.at(seed, S.years, i)
    if (rng.chance(0.02)) continue // \N: not yet dated
    const start = drawYear(rng, MIN_YEAR[type])
    tStart[i] = start
    if (type === TYPE_INDEX.tvSeries || type === TYPE_INDEX.tvMiniSeries) {
      const seasons = links.seasonsOf[i] || Math.max(1, Math.ceil(links.episodesOf[i] / 20))
      const ongoing = type === TYPE_INDEX.tvSeries && rng.chance(start >= 2005 ? 0.35 : 0.05)
      const end =
        type === TYPE_INDEX.tvMiniSeries ? start + rng.int(2) : start + Math.max(0, seasons - 1) + rng.int(2)
      if (!ongoing && end <= CURRENT_YEAR) tEnd[i] = end
    }
  }
}

/** An episode airs in its season's year, or any year of its series when it has no season. */
function drawEpisodeYears({ rng, seed }: WorldBase, links: EpisodeLinks, years: TitleYears): void {
  const { tStart, tEnd } = years
  for (const e of links.episodes) {
    const p = links.tParentIdx[e]
    rng.at(seed, S.years, e)
    if (rng.chance(0.03)) continue
    if (p < 0) {
      tStart[e] = drawYear(rng, 1946)
      continue
    }
    const start = tStart[p] || drawYear(rng, 1946)
    const last = tEnd[p] || Math.max(start, CURRENT_YEAR)
    const y = links.tSeason[e] ? start + links.tSeason[e] - 1 : start + rng.int(last - start + 1)
    tStart[e] = Math.min(y, last, CURRENT_YEAR + 1)
  }
}
