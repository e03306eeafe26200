/**
 * The numeric skeleton of a sample, built once before any file is written: ids, title types,
 * series and their episodes, years, ratings, who is credited on what, and what people are known
 * for. Everything that must agree between files lives here (an episode's parent, a principal's
 * nconst, a name's knownForTitles); everything that does not (title text, characters, akas) is
 * rendered later from `(seed, stream, index)` alone.
 *
 * Arrays live in SharedArrayBuffers so worker threads read the same memory without copies. Each
 * step draws from its own random streams, in the order buildWorld calls them; the same
 * `(titles, seed)` gives the same world, so the steps' order and draws must not change.
 */
import { linkEpisodes } from './world-episodes.js'
import { placeIds, stringOrder } from './world-ids.js'
import { drawPeople } from './world-people.js'
import { creditPrincipals } from './world-principals.js'
import { drawRatings } from './world-ratings.js'
import { drawTitleKinds } from './world-titles.js'
import { drawYears } from './world-years.js'

export type { Category } from './vocab.js'

/** Smaller samples cannot hold the well-known series' episodes and still look like IMDb. */
export const MIN_TITLES = 500
/** The largest sample ids stay within 8 digits for. */
export const MAX_TITLES = 20_000_000

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

/** Builds the skeleton of a sample of `titles` titles. Pure: the same arguments give the same world. */
export function buildWorld(titles: number, seed: number): World {
  if (!Number.isInteger(titles) || titles < MIN_TITLES || titles > MAX_TITLES) {
    throw new RangeError(`titles must be an integer from ${MIN_TITLES} to ${MAX_TITLES}, got ${titles}`)
  }
  const base = placeIds(titles, seed)
  const kinds = drawTitleKinds(base)
  const links = linkEpisodes(base, kinds)
  const years = drawYears(base, kinds, links)
  const ratings = drawRatings(base, kinds, years)
  const people = drawPeople(base)
  const credits = creditPrincipals(base, kinds, links, ratings, people)
  return {
    seed,
    titleCount: base.titleCount,
    nameCount: base.nameCount,
    tId: base.tId,
    ...kinds,
    ...years,
    tParent: links.tParent,
    tParentIdx: links.tParentIdx,
    tSeason: links.tSeason,
    tEpisode: links.tEpisode,
    ...ratings,
    tOrder: stringOrder(base.tId),
    pStart: credits.pStart,
    pName: credits.pName,
    pCat: credits.pCat,
    nId: base.nId,
    nClass: people.nClass,
    nFlags: people.nFlags,
    nCats: credits.nCats,
    nKnown: credits.nKnown,
    nOrder: stringOrder(base.nId),
    poolStart: people.poolStart,
    poolNames: people.poolNames,
  }
}
