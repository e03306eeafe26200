/** The skeleton's ratings: which titles are in title.ratings, with their votes and average. */
import { TITLE_TYPE_NAMES, TYPE_INDEX } from './vocab.js'
import type { World } from './world.js'
import { CURRENT_YEAR, S, shared, T_WK_EPISODE } from './world-codes.js'
import type { WorldBase } from './world-ids.js'
import type { TitleKinds } from './world-titles.js'
import type { TitleYears } from './world-years.js'

export type TitleRatings = Pick<World, 'tVotes' | 'tRating'>

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

/** Rates released titles: votes heavy-tailed by type, averages spread less the more votes. */
export function drawRatings(base: WorldBase, kinds: TitleKinds, years: TitleYears): TitleRatings {
  const { rng, seed } = base
  const tVotes = shared(Int32Array, base.titleCount)
  const tRating = shared(Uint8Array, base.titleCount)
  for (let i = 0; i < base.titleCount; i++) {
    const wk = base.wkTitle.get(i)
    if (wk) {
      tVotes[i] = wk.numVotes
      tRating[i] = Math.round(wk.averageRating * 10)
      continue
    }
    const type = kinds.tType[i]
    rng.at(seed, S.ratings, i)
    const p = kinds.tFlags[i] & T_WK_EPISODE ? 0.9 : RATED[type]
    const start = years.tStart[i]
    if (!start || start > CURRENT_YEAR || !rng.chance(p)) continue
    const votes = Math.min(MAX_VOTES, Math.max(5, Math.floor(rng.pareto(5, 0.95) * VOTE_SCALE[type])))
    tVotes[i] = votes
    const mean = type === TYPE_INDEX.tvEpisode ? 7.2 : 6.4
    const sd = 0.9 + 1.6 / Math.log10(votes + 1)
    const r = Math.min(10, Math.max(1, mean + rng.normal() * sd))
    tRating[i] = Math.round(r * 10)
  }
  return { tVotes, tRating }
}
