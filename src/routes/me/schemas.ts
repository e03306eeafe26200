import { type Static, Type } from 'typebox'
import { TCONST_PATTERN } from '../../datasets/catalogue.js'

export const Tconst = Type.String({
  pattern: TCONST_PATTERN,
  maxLength: 12,
  description: 'An IMDb title id',
  examples: ['tt0111161'],
})

export const TconstParams = Type.Object({ tconst: Tconst }, { additionalProperties: false })

const DateTime = Type.String({ format: 'date-time' })
const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()])

export const PersonalRating = Type.Integer({ minimum: 1, maximum: 10, description: 'Your rating, 1 to 10' })

export const TitleFactsSchema = Type.Object(
  {
    id: Type.String(),
    type: Type.String(),
    primaryTitle: Type.String(),
    originalTitle: nullable(Type.String()),
    isAdult: Type.Boolean(),
    startYear: nullable(Type.Integer()),
    endYear: nullable(Type.Integer()),
    runtimeMinutes: nullable(Type.Integer()),
    genres: Type.Array(Type.String()),
    rating: nullable(Type.Number({ description: "IMDb's average rating" })),
    votes: Type.Integer({ description: 'IMDb votes' }),
  },
  { additionalProperties: false, description: 'The title as the loaded dataset has it' },
)

const TitleOrGone = Type.Union([TitleFactsSchema, Type.Null()], {
  description: 'Null when the loaded dataset no longer has the title',
})

export const WatchlistItem = Type.Object(
  {
    tconst: Tconst,
    addedAt: DateTime,
    yourRating: nullable(PersonalRating),
    title: TitleOrGone,
  },
  { additionalProperties: false },
)

export const RatingItem = Type.Object(
  {
    tconst: Tconst,
    rating: PersonalRating,
    ratedAt: DateTime,
    onWatchlist: Type.Boolean(),
    title: TitleOrGone,
  },
  { additionalProperties: false },
)

const Next = nullable(
  Type.String({ description: 'Pass as `cursor` for the next page; null on the last page' }),
)

export const WatchlistPage = Type.Object(
  { items: Type.Array(WatchlistItem), next: Next },
  { additionalProperties: false },
)
export const RatingsPage = Type.Object(
  { items: Type.Array(RatingItem), next: Next },
  { additionalProperties: false },
)

export const PageQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Items per page' }),
    cursor: Type.Optional(Type.String({ maxLength: 200, description: "The previous page's `next`" })),
  },
  { additionalProperties: false },
)

export const RatingBody = Type.Object({ rating: PersonalRating }, { additionalProperties: false })

export const IMPORT_MAX_ITEMS = 10_000

export const ImportItem = Type.Object(
  {
    tconst: Tconst,
    rating: Type.Optional(
      Type.Union([PersonalRating, Type.Null()], { description: 'Sets your rating; null removes it' }),
    ),
    watchlist: Type.Optional(
      Type.Boolean({ description: 'true adds the title to your watchlist, false removes it' }),
    ),
  },
  {
    additionalProperties: false,
    minProperties: 2,
    description: 'One title: `rating`, `watchlist` or both. A title given twice: the later fields win.',
  },
)

export const ImportBody = Type.Object(
  { items: Type.Array(ImportItem, { minItems: 1, maxItems: IMPORT_MAX_ITEMS }) },
  { additionalProperties: false },
)

export const ImportResult = Type.Object(
  {
    items: Type.Integer({ description: 'Items received' }),
    titles: Type.Integer({ description: 'Distinct titles among them' }),
    watchlist: Type.Object(
      { added: Type.Integer(), removed: Type.Integer() },
      { additionalProperties: false },
    ),
    ratings: Type.Object({ set: Type.Integer(), removed: Type.Integer() }, { additionalProperties: false }),
  },
  { additionalProperties: false },
)

export type ImportBodyT = Static<typeof ImportBody>
