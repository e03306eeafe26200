/**
 * The seven IMDb non-commercial dataset files, as IMDb documents and ships them
 * (https://developer.imdb.com/non-commercial-datasets/): gzipped UTF-8 TSV, a header line first,
 * `\N` for null, no quoting at all (a `"` is a literal character).
 *
 * This catalogue is the single source of truth for file names, header columns and column types:
 * the reader checks every header against it, the generator writes it, the ingest maps it to tables.
 */

export const DATASET_NAMES = [
  'title.basics',
  'title.akas',
  'title.crew',
  'title.episode',
  'title.principals',
  'title.ratings',
  'name.basics',
] as const

export type DatasetName = (typeof DATASET_NAMES)[number]

/**
 * How a field is typed:
 * - `tconst` / `nconst`: an IMDb id (`tt0000001`, `nm0000001`, 7 or more digits)
 * - `text`: a string, kept byte for byte (quotes and backslashes included)
 * - `int` / `float`: a number
 * - `bool`: `0` or `1`
 * - `list`: comma-separated strings (genres, professions)
 * - `idList`: comma-separated ids (knownForTitles, directors, writers)
 * - `list02`: strings separated by the `\x02` byte (title.akas `types` and `attributes`)
 * - `json`: a JSON array of strings (title.principals `characters`)
 */
export type ColumnType =
  | 'tconst'
  | 'nconst'
  | 'text'
  | 'int'
  | 'float'
  | 'bool'
  | 'list'
  | 'idList'
  | 'list02'
  | 'json'

export interface ColumnSpec {
  readonly name: string
  readonly type: ColumnType
}

export interface DatasetSpec {
  readonly name: DatasetName
  readonly file: string
  readonly columns: readonly ColumnSpec[]
  /** Columns that identify a row; IMDb ships each file sorted by them. */
  readonly key: readonly string[]
}

const col = (name: string, type: ColumnType): ColumnSpec => ({ name, type })

const specs: readonly DatasetSpec[] = [
  {
    name: 'title.basics',
    file: 'title.basics.tsv.gz',
    key: ['tconst'],
    columns: [
      col('tconst', 'tconst'),
      col('titleType', 'text'),
      col('primaryTitle', 'text'),
      col('originalTitle', 'text'),
      col('isAdult', 'bool'),
      col('startYear', 'int'),
      col('endYear', 'int'),
      col('runtimeMinutes', 'int'),
      col('genres', 'list'),
    ],
  },
  {
    name: 'title.akas',
    file: 'title.akas.tsv.gz',
    key: ['titleId', 'ordering'],
    columns: [
      col('titleId', 'tconst'),
      col('ordering', 'int'),
      col('title', 'text'),
      col('region', 'text'),
      col('language', 'text'),
      col('types', 'list02'),
      col('attributes', 'list02'),
      col('isOriginalTitle', 'bool'),
    ],
  },
  {
    name: 'title.crew',
    file: 'title.crew.tsv.gz',
    key: ['tconst'],
    columns: [col('tconst', 'tconst'), col('directors', 'idList'), col('writers', 'idList')],
  },
  {
    name: 'title.episode',
    file: 'title.episode.tsv.gz',
    key: ['tconst'],
    columns: [
      col('tconst', 'tconst'),
      col('parentTconst', 'tconst'),
      col('seasonNumber', 'int'),
      col('episodeNumber', 'int'),
    ],
  },
  {
    name: 'title.principals',
    file: 'title.principals.tsv.gz',
    key: ['tconst', 'ordering'],
    columns: [
      col('tconst', 'tconst'),
      col('ordering', 'int'),
      col('nconst', 'nconst'),
      col('category', 'text'),
      col('job', 'text'),
      col('characters', 'json'),
    ],
  },
  {
    name: 'title.ratings',
    file: 'title.ratings.tsv.gz',
    key: ['tconst'],
    columns: [col('tconst', 'tconst'), col('averageRating', 'float'), col('numVotes', 'int')],
  },
  {
    name: 'name.basics',
    file: 'name.basics.tsv.gz',
    key: ['nconst'],
    columns: [
      col('nconst', 'nconst'),
      col('primaryName', 'text'),
      col('birthYear', 'int'),
      col('deathYear', 'int'),
      col('primaryProfession', 'list'),
      col('knownForTitles', 'idList'),
    ],
  },
]

export const DATASETS: ReadonlyMap<DatasetName, DatasetSpec> = new Map(specs.map((s) => [s.name, s]))

export function datasetSpec(name: DatasetName): DatasetSpec {
  return DATASETS.get(name)!
}

export function isDatasetName(name: string): name is DatasetName {
  return DATASETS.has(name as DatasetName)
}

/** The null marker of the IMDb files. */
export const NULL_FIELD = '\\N'

/** `tt0000001` -> 1. Ids are stored as integers; see {@link formatId}. */
export function parseId(id: string): number {
  return Number(id.slice(2))
}

/** 1 -> `tt0000001`: IMDb pads ids to at least seven digits. */
export function formatId(prefix: 'tt' | 'nm', n: number): string {
  return prefix + String(n).padStart(7, '0')
}

export const TCONST_PATTERN = '^tt\\d{7,}$'
export const NCONST_PATTERN = '^nm\\d{7,}$'

/** IMDb's genres, in the alphabetical order IMDb lists them within a title. */
export const GENRES = [
  'Action',
  'Adult',
  'Adventure',
  'Animation',
  'Biography',
  'Comedy',
  'Crime',
  'Documentary',
  'Drama',
  'Family',
  'Fantasy',
  'Film-Noir',
  'Game-Show',
  'History',
  'Horror',
  'Music',
  'Musical',
  'Mystery',
  'News',
  'Reality-TV',
  'Romance',
  'Sci-Fi',
  'Short',
  'Sport',
  'Talk-Show',
  'Thriller',
  'War',
  'Western',
] as const
