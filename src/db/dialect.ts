import type { Expression, RawBuilder, SqlBool } from 'kysely'
import type { DB } from './queries/sql.js'
import type { TitlesTable } from './types.js'

/**
 * Everything the dataset queries do differently on SQLite and on PostgreSQL. The query functions of
 * src/db/queries/ hold each algorithm once and ask their handle's dialect (`dialectOf(db)`) for the
 * statements and decisions below; src/db/sqlite/dialect.ts and src/db/postgres/dialect.ts implement
 * it side by side. A handle gets its dialect where it is created (openDataset, ScopedKysely), so no
 * query has to guess the backend from the handle.
 *
 * Full text: `match` arguments are always FTS5 match expressions (src/db/queries/text.ts); SQLite
 * runs them on its FTS5 tables, PostgreSQL turns them into tsqueries over the `doc` tsvectors.
 */
export interface Dialect {
  readonly name: 'sqlite' | 'postgres'

  /**
   * A WHERE term that is always true but makes a long scan over `id` stoppable (worker termination,
   * budgets, inline deadlines). Put it first in the WHERE clause so it runs for every row the scan
   * visits, not only for the rows that pass the other filters.
   */
  interruptible(id: Expression<number>): RawBuilder<SqlBool>
  /** `column` (`t.name`) written so the planner does not serve a filter on it from an index. */
  unindexed(column: string): Expression<unknown>
  /** Slices of the id range that titleFacets counts in, at most. */
  readonly maxFacetSlices: number

  /** `(SELECT id ...)`: the ids whose document matches, for `id IN (...)`. */
  matchingIds(table: FtsTable, match: string): RawBuilder<number>
  /** For ranking by relevance: `{table}_fts` joined as `f` on `{alias}.id`. */
  ftsJoin(table: FtsTable, alias: string, match: string): FtsJoin
  /** The case-insensitive sort key of a text column (served by titles_by_title, names_by_name). */
  nocaseKey(column: string): RawBuilder<string>
  /** A keyset value compared with nocaseKey(). */
  nocaseValue(value: unknown): Expression<unknown>

  /** The rows of findTitles for the distinct `ids`, in one statement, in no particular order. */
  titleDetails(db: DB, ids: readonly number[]): Promise<TitleDetailRow[]>

  /** Whether the SQL console (GET /sql) runs here: it needs a dataset file and a killable process. */
  readonly sqlConsole: boolean

  /** The statements of GET /search. */
  readonly search: SearchStatements
}

export type FtsTable = 'titles' | 'names'

/** ftsJoin(): the join key of `f`, the column it meets, the match condition, the relevance. */
export interface FtsJoin {
  key: string
  on: string
  where: RawBuilder<SqlBool>
  /** Higher is better: -bm25 with the SQLite weights, or the scaled ts_rank. */
  relevance: RawBuilder<number>
}

/** A crew member as titleDetails aggregates them (by role, then billing order). */
export type CrewEntry = [role: string, nameId: number, name: string | null]

/** A row of titleDetails: the title, its crew, and its episode facts when it is one. */
export interface TitleDetailRow extends TitlesTable {
  crew: CrewEntry[] | null
  parent_id: number | null
  season_number: number | null
  episode_number: number | null
  series_title: string | null
}

export type Vocab = 'titles_vocab' | 'names_vocab'

/** One full-text index and the table its ids point into. */
export interface SearchIndex {
  fts: 'titles_fts' | 'names_fts'
  vocab: Vocab
  table: 'titles' | 'names'
  /** The popularity column, and its index: titles_by_votes, names_by_popularity. */
  popularity: 'num_votes' | 'popularity'
  /** The display text, and its case-insensitive index: titles_by_title, names_by_name. */
  text: 'primary_title' | 'primary_name'
}

/** GET /search's statements: src/db/queries/search.ts keeps the algorithm. */
export interface SearchStatements {
  /** Prepares a connection once (SQLite: the fts5vocab tables of its temp schema). */
  prepare(db: DB): Promise<void>
  /** Which of `candidates` are words of the vocabulary. */
  knownWords(db: DB, vocab: Vocab, candidates: readonly string[]): Promise<string[]>
  /** Vocabulary words starting with `prefix`, at most `limit`. */
  vocabularyWords(db: DB, vocab: Vocab, prefix: string, limit: number): Promise<string[]>
  /** Matches of an FTS5 match expression, counted up to `limit`. */
  countMatches(db: DB, index: SearchIndex, match: string, limit: number): Promise<number>
  /** Every match with its text rank (`bm`, lower is better, as bm25) and popularity (`p`). */
  scoredMatches(db: DB, index: SearchIndex, match: string): Promise<{ id: number; bm: number; p: number }[]>
  /** The most popular matches. */
  popularMatches(db: DB, index: SearchIndex, match: string, limit: number): Promise<number[]>
  /** Of the `head` most popular rows, those matching `probe`, most popular first. */
  probeHead(db: DB, index: SearchIndex, probe: string, head: number, limit: number): Promise<number[]>
  /** Rows whose display text starts with `typed` (case-insensitive), in that text's order. */
  startsWith(db: DB, index: SearchIndex, typed: string, limit: number): Promise<number[]>
  /** Rows whose display text is `typed` (case-insensitive), most popular first. */
  exactText(db: DB, index: SearchIndex, typed: string, limit: number): Promise<number[]>
}

/**
 * Where a handle keeps its dialect. A registered symbol, not a class to test with instanceof: tests
 * load query modules through another loader, and a second copy of this module (or of kysely) must
 * still find the dialect a first copy attached.
 */
const DIALECT: unique symbol = Symbol.for('marquee.dialect') as never

/** Gives `db` its dialect, once, where the handle is created; returns `db`. */
export function withDialect<T extends object>(db: T, dialect: Dialect): T {
  Object.defineProperty(db, DIALECT, { value: dialect })
  return db
}

/** The dialect `db` was created with. */
export function dialectOf(db: DB): Dialect {
  const dialect = (db as unknown as { [DIALECT]?: Dialect })[DIALECT]
  if (dialect === undefined) {
    throw new Error(
      'a dataset handle without a dialect: open it with openDataset, sqliteKysely or ScopedKysely',
    )
  }
  return dialect
}
