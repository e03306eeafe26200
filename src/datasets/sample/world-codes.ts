/**
 * The codes the sample's skeleton (world.ts) stores and the renderer reads back: random streams,
 * title and name flags, people's classes.
 */

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

/** A typed array over a SharedArrayBuffer, so worker threads read the same memory without copies. */
export function shared<T extends Int32Array | Uint8Array | Uint16Array | Uint32Array>(
  Ctor: { new (buffer: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number },
  length: number,
): T {
  return new Ctor(new SharedArrayBuffer(Math.max(1, length) * Ctor.BYTES_PER_ELEMENT))
}
