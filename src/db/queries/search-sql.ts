import { postgresSearchSql } from '../postgres/search-sql.js'
import { sqliteSearchSql } from '../sqlite/search-sql.js'
import { type DB, isSqlite } from './sql.js'

/**
 * The statements of GET /search that differ between SQLite (FTS5, fts5vocab, NOCASE) and
 * PostgreSQL (tsvector and GIN, vocabulary tables, lower() in the "C" collation): search.ts keeps
 * the algorithm, once, and asks the dialect of its handle for these.
 */

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

export interface SearchSql {
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

export const searchSql = (db: DB): SearchSql => (isSqlite(db) ? sqliteSearchSql : postgresSearchSql)
