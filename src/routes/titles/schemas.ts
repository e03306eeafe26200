import { type TSchema, Type } from 'typebox'
import { NCONST_PATTERN, TCONST_PATTERN } from '../../datasets/catalogue.js'

/** Response schemas shared by the title, name and search routes (camelCase, real nulls, arrays). */

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])

/** IMDb's title types and genres (as title.basics spells them). */
export const TITLE_TYPES = [
  'movie',
  'short',
  'tvSeries',
  'tvEpisode',
  'tvMovie',
  'tvMiniSeries',
  'tvSpecial',
  'tvShort',
  'tvPilot',
  'video',
  'videoGame',
] as const

export { GENRES } from '../../datasets/catalogue.js'

// maxLength 12: ten digits, two more than IMDb uses today, well inside a safe integer (parseId).
export const Tconst = Type.String({
  pattern: TCONST_PATTERN,
  maxLength: 12,
  description: 'IMDb title id',
  examples: ['tt0068646'],
})
export const Nconst = Type.String({
  pattern: NCONST_PATTERN,
  maxLength: 12,
  description: 'IMDb name id',
  examples: ['nm0000338'],
})

export const TitleSummarySchema = Type.Object(
  {
    id: Tconst,
    type: Type.String({ description: 'IMDb title type: movie, short, tvSeries, tvEpisode, ...' }),
    primaryTitle: Type.String(),
    originalTitle: Nullable(Type.String()),
    isAdult: Type.Boolean(),
    startYear: Nullable(Type.Integer()),
    endYear: Nullable(Type.Integer()),
    runtimeMinutes: Nullable(Type.Integer()),
    genres: Type.Array(Type.String()),
    rating: Nullable(Type.Number({ description: 'Weighted average rating, 1-10; null when unrated' })),
    votes: Type.Integer({ description: 'Number of votes; 0 when unrated' }),
  },
  { additionalProperties: false },
)

export const PersonRefSchema = Type.Object(
  { id: Nconst, name: Nullable(Type.String({ description: 'null when the person is not in name.basics' })) },
  { additionalProperties: false },
)

export const EpisodeOfSchema = Type.Object(
  {
    seriesId: Tconst,
    seriesTitle: Nullable(Type.String()),
    season: Nullable(Type.Integer()),
    episode: Nullable(Type.Integer()),
  },
  { additionalProperties: false, description: 'The series, season and number of an episode' },
)

export const CreditSchema = Type.Object(
  {
    person: PersonRefSchema,
    category: Type.String({ description: 'actor, actress, director, writer, producer, ...' }),
    job: Nullable(Type.String()),
    characters: Type.Array(Type.String()),
    ordering: Nullable(
      Type.Integer({
        description: 'Billing position; null for a director or writer listed only in title.crew',
      }),
    ),
  },
  { additionalProperties: false },
)

export const AkaSchema = Type.Object(
  {
    ordering: Type.Integer(),
    title: Type.String(),
    region: Nullable(Type.String()),
    language: Nullable(Type.String()),
    types: Type.Array(Type.String()),
    attributes: Type.Array(Type.String()),
    isOriginalTitle: Nullable(Type.Boolean()),
  },
  { additionalProperties: false },
)

export const EpisodeItemSchema = Type.Object(
  {
    id: Tconst,
    primaryTitle: Nullable(Type.String()),
    season: Nullable(Type.Integer()),
    episode: Nullable(Type.Integer()),
    startYear: Nullable(Type.Integer()),
    runtimeMinutes: Nullable(Type.Integer()),
    rating: Nullable(Type.Number()),
    votes: Type.Integer(),
  },
  { additionalProperties: false },
)

export const SeasonSchema = Type.Object(
  {
    season: Nullable(Type.Integer({ description: 'null gathers episodes without a season number' })),
    episodes: Type.Array(EpisodeItemSchema),
  },
  { additionalProperties: false },
)

export const EpisodesSchema = Type.Object(
  {
    seriesId: Tconst,
    episodeCount: Type.Integer(),
    truncated: Type.Boolean({
      description: 'True when the series has more episodes than one response holds',
    }),
    seasons: Type.Array(SeasonSchema),
  },
  { additionalProperties: false },
)

export const TitleDetailSchema = Type.Object(
  {
    ...TitleSummarySchema.properties,
    directors: Nullable(Type.Array(PersonRefSchema, { description: 'null when title.crew was not loaded' })),
    writers: Nullable(Type.Array(PersonRefSchema, { description: 'null when title.crew was not loaded' })),
    episodeOf: Nullable(EpisodeOfSchema),
    credits: Type.Optional(Type.Array(CreditSchema)),
    akas: Type.Optional(Type.Array(AkaSchema)),
    episodes: Type.Optional(Nullable(EpisodesSchema)),
  },
  { additionalProperties: false },
)

export const TotalSchema = {
  total: Type.Integer({ description: 'Matching items: exact up to 10,000, else a lower bound' }),
  totalIsExact: Type.Boolean({ description: 'False when total is a lower bound ("more than")' }),
}

export const NextSchema = Nullable(
  Type.String({
    description: 'Relative URL of the next page (same filters, with its cursor); null on the last page',
  }),
)

export const NameSummarySchema = Type.Object(
  {
    id: Nconst,
    name: Type.String(),
    birthYear: Nullable(Type.Integer()),
    deathYear: Nullable(Type.Integer()),
    professions: Type.Array(Type.String()),
    popularity: Type.Integer({ description: 'Sum of the votes of the known-for titles' }),
  },
  { additionalProperties: false },
)
