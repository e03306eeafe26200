import { type RawBuilder, sql } from 'kysely'

/**
 * Full-text search on PostgreSQL, in the terms the query functions use on SQLite. The queries build
 * FTS5 match expressions (`"godfather"* AND ("part"* OR "pat"*)`, see src/db/queries/text.ts); here
 * they become tsqueries (`'godfather':* & ( 'part':* | 'pat':* )`) over the `doc` columns that the
 * ingest wrote with the same tokenizer, so both backends match the same rows.
 *
 * Ranking: FTS5's bm25 weighs the columns 4/2/1 (primary, original, alternate titles); the
 * documents carry those columns as weights A/B/C, ranked by ts_rank with weights 1/0.5/0.25 and
 * normalised by document length (as bm25 prefers short documents). ts_rank has no inverse document
 * frequency, so the scale below only puts it in bm25's range next to the popularity term.
 */

/** Weights of D, C, B, A: alternate titles 1, original 2, primary 4 (relative, as in bm25). */
export const RANK_WEIGHTS = '{0, 0.25, 0.5, 1}'
/** ts_rank (about 0..1) times this is comparable to -bm25 (about 0..15). */
export const RANK_SCALE = 10

/**
 * An FTS5 match expression of the query layer as tsquery text: quoted words become lexemes (a
 * trailing `*` a prefix match), AND/OR/NOT become & | !, parentheses stay.
 */
export function ftsToTsquery(expr: string): string {
  const out: string[] = []
  const re = /"((?:[^"]|"")*)"(\*?)|(\()|(\))|\b(AND|OR|NOT)\b|(\S)/g
  for (let m = re.exec(expr); m !== null; m = re.exec(expr)) {
    if (m[1] !== undefined) {
      const raw = m[1].replace(/""/g, '"')
      const word = raw.replace(/\\/g, '\\\\').replace(/'/g, "''")
      const length = [...raw].length
      // A 2-3 character prefix is one lexeme of the documents (see src/ingest/postgres/tsvector.ts).
      if (m[2] && (length === 2 || length === 3)) out.push(`'^${word}'`)
      else out.push(`'${word}'${m[2] ? ':*' : ''}`)
    } else if (m[3]) out.push('(')
    else if (m[4]) out.push(')')
    else if (m[5] === 'AND') out.push('&')
    else if (m[5] === 'OR') out.push('|')
    else if (m[5] === 'NOT') out.push('!')
    else throw new Error(`unexpected ${JSON.stringify(m[6])} in a match expression`)
  }
  return out.join(' ')
}

/** The tsquery of a match expression, as a SQL value. */
export const tsquery = (match: string): RawBuilder<unknown> => sql`${ftsToTsquery(match)}::tsquery`

/** `-bm25`-like relevance of the document `doc` (a column reference) for `query` (higher is better). */
export const rank = (doc: RawBuilder<unknown>, query: RawBuilder<unknown>): RawBuilder<number> =>
  sql<number>`(${sql.lit(RANK_SCALE)} * ts_rank(${RANK_WEIGHTS}::float4[], ${doc}, ${query}, 1))`
