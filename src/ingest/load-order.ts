/** Which dataset files an ingest loads, and in which order: the same for every backend. */

import { DATASET_NAMES, type DatasetName, isDatasetName } from '../datasets/catalogue.js'
import { IngestError } from './errors.js'

/**
 * The order datasets load in: ratings first (merged into titles, summed into
 * popularity), then titles and names (their ids decide what counts as a dangling reference), then
 * the files that refer to them. Titles before names, so that the main writer checks knownForTitles
 * at once instead of keeping millions of ids: only the side writer keeps ids, up to a bound.
 */
export const LOAD_ORDER: readonly DatasetName[] = [
  'title.ratings',
  'title.basics',
  'name.basics',
  'title.episode',
  'title.crew',
  'title.akas',
  'title.principals',
]

/** Rejects a missing required option, naming it. */
export function requireOption(name: string, value: string | undefined): void {
  if (!value) throw new IngestError('INGEST_BAD_OPTIONS', `ingest: ${name} is required`)
}

/** The datasets to load (`only`, default all seven), in load order; rejects unknown names. */
export function datasetsToLoad(only: readonly DatasetName[] | undefined): DatasetName[] {
  if (only !== undefined) {
    const bad = only.filter((n) => !isDatasetName(n))
    if (bad.length > 0 || only.length === 0) {
      throw new IngestError(
        'INGEST_BAD_OPTIONS',
        `ingest: only must list dataset names (${DATASET_NAMES.join(', ')}); got ${bad.length > 0 ? bad.join(', ') : 'none'}`,
      )
    }
  }
  const wanted = new Set(only ?? DATASET_NAMES)
  return LOAD_ORDER.filter((d) => wanted.has(d))
}
