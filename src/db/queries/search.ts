import { sql } from 'kysely'
import { dialectOf, type SearchIndex, type Vocab } from '../dialect.js'
import { type DB, nm, tt } from './sql.js'
import { edits1, fold, ftsPrefixExpression, queryTokens, tokenize } from './text.js'

/**
 * GET /search: autocomplete over titles (primary, original and alternate titles) and people.
 *
 * 1. The query's words, folded like the FTS tokenizer (lower case, no diacritics).
 * 2. Each word is a prefix (`godf` finds `godfather`). A word that prefixes nothing in an index's
 *    vocabulary (fts5vocab) is replaced by the vocabulary words within one edit of it
 *    (`godfathr` -> `godfathe`, `godfather`), tried as prefixes too; words shorter than 4 letters are
 *    not corrected (one edit away from them is half the vocabulary).
 * 3. Candidates: the most popular matches of each index (num_votes, names.popularity), plus the
 *    best text matches (bm25), so an exact but obscure title is not crowded out.
 * 4. Ranking: text relevance (exact title, title prefix, whole words, primary vs alternate title,
 *    corrected words) plus a log-popularity term; at most `limit` results.
 */

export interface TitleHit {
  kind: 'title'
  id: string
  title: string
  type: string
  startYear: number | null
  endYear: number | null
  rating: number | null
  votes: number
  /** The alternate title that matched, when the match was not on the primary or original title. */
  matchedTitle: string | null
  episodeOf: {
    seriesId: string
    seriesTitle: string | null
    season: number | null
    episode: number | null
  } | null
  score: number
}

export interface NameHit {
  kind: 'name'
  id: string
  name: string
  professions: string[]
  birthYear: number | null
  deathYear: number | null
  popularity: number
  score: number
}

export type SearchHit = TitleHit | NameHit

export interface SearchResult {
  query: string
  /** The words searched for, after folding and typo correction (one list of alternatives per word). */
  words: string[][]
  corrected: boolean
  results: SearchHit[]
  /** Paged searches only: how many results the ranking holds (at most SEARCH_DEPTH). */
  total?: number
  /** Paged searches only: false when more titles or people match than were ranked. */
  totalIsExact?: boolean
}

export interface SearchOptions {
  limit: number
  /** Only titles or only people. */
  kind?: 'title' | 'name'
  /**
   * Results to skip. When `offset` or `kind` is given the search is paged: it ranks SEARCH_DEPTH
   * candidates per index (the same ranking whatever the page) and answers `total`.
   */
  offset?: number
}

/** A paged search ranks this many candidates per index: the results a results page can reach. */
export const SEARCH_DEPTH = 500

/** Words shorter than this are not typo-corrected. */
const MIN_CORRECTABLE = 3
/** At most this many corrections of one word are searched. */
const MAX_CORRECTIONS = 6
/** Candidates fetched per index and strategy before ranking. */
const CANDIDATES = 40
/** Weight of log10(popularity) in the score. */
const POPULARITY = 0.6

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789'

/**
 * Scripts where one character is a syllable or a word (CJK, kana, Hangul): a single character is a
 * useful search. Elsewhere one letter starts half the vocabulary (and unicode61 cuts Indic words
 * into single letters at each vowel sign), so a lone letter only filters candidates found otherwise.
 */
const SYLLABIC = /^[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]$/u

/** The dialect's statements for the vocabulary lookups below. */
const knownWords = (db: DB, vocab: Vocab, candidates: readonly string[]) =>
  dialectOf(db).search.knownWords(db, vocab, candidates)
const vocabularyWords = (db: DB, vocab: Vocab, prefix: string, limit: number) =>
  dialectOf(db).search.vocabularyWords(db, vocab, prefix, limit)

/**
 * Typo alternatives for each word (itself included): the vocabulary words of either index within
 * one edit of it, or failing that, itself minus one letter when some word starts with that (a typo
 * in a word not finished yet). Words shorter than MIN_CORRECTABLE stay as they are.
 */
async function corrections(db: DB, tokens: readonly string[]): Promise<string[][]> {
  const live: boolean[] = []
  for (const token of tokens) {
    live.push(
      (await vocabularyWords(db, 'titles_vocab', token, 1)).length > 0 ||
        (await vocabularyWords(db, 'names_vocab', token, 1)).length > 0,
    )
  }
  // Correct the words that prefix nothing; when each prefixes something but not together, any word.
  const correctAll = live.every(Boolean)
  const groups: string[][] = []
  for (const [i, token] of tokens.entries()) {
    if ([...token].length < MIN_CORRECTABLE || (live[i] && !correctAll)) {
      groups.push([token])
      continue
    }
    const candidates = edits1(token, ALPHABET)
    const found = new Set([
      ...(await knownWords(db, 'titles_vocab', candidates)),
      ...(await knownWords(db, 'names_vocab', candidates)),
    ])
    if (found.size === 0 && !live[i]) {
      const chars = [...token]
      for (let i = 0; i < chars.length; i++) {
        const shorter = [...chars.slice(0, i), ...chars.slice(i + 1)].join('')
        for (const vocab of ['titles_vocab', 'names_vocab'] as const) {
          if (!found.has(shorter) && (await vocabularyWords(db, vocab, shorter, 1)).length > 0)
            found.add(shorter)
        }
      }
    }
    found.delete(token)
    groups.push([token, ...found].slice(0, MAX_CORRECTIONS + 1))
  }
  return groups
}

const TITLES: SearchIndex = {
  fts: 'titles_fts',
  vocab: 'titles_vocab',
  table: 'titles',
  popularity: 'num_votes',
  text: 'primary_title',
}

const NAMES: SearchIndex = {
  fts: 'names_fts',
  vocab: 'names_vocab',
  table: 'names',
  popularity: 'popularity',
  text: 'primary_name',
}

/** Up to this many matches, ranking them all by bm25 too is cheap (~6 µs a match). */
const NARROW = 2000
/** Up to this many matches, ranking them all by popularity is cheap (~0.3 µs a match). */
const MEDIUM = 20_000
/** The most popular rows probed one by one for a broad query. */
const HEAD = 3000
/** A word of 4+ letters expands to at most this many vocabulary words for probing. */
const MAX_EXPANSION = 8

/**
 * Candidate ids from one index for the words `groups`: the most popular matches and the best text
 * matches. Ranking all matches costs about 0.3 µs per match (a popularity lookup each), so a broad
 * query (`the`, `st`: hundreds of thousands of matches) instead probes the most popular rows one by
 * one against the index (cheap when each word is a 2-3 letter prefix, which the FTS prefix index
 * serves, or a handful of whole vocabulary words) and takes its text matches from the NOCASE index
 * on the display text (titles starting with what was typed).
 */
async function candidateIds(
  db: DB,
  index: SearchIndex,
  groups: string[][],
  typed: string,
  depth: number,
): Promise<{ ids: number[]; matches: number }> {
  const statements = dialectOf(db).search
  const match = ftsPrefixExpression(groups, true)
  const ids = new Set<number>()
  // Counting matches costs ~50 ns each: cheap next to ranking them (a popularity lookup and bm25).
  const n = await statements.countMatches(db, index, match, MEDIUM + 1)
  if (n === 0) return { ids: [], matches: 0 }
  if (n <= NARROW) {
    // One more pass yields every match with its text rank and popularity.
    const rows = await statements.scoredMatches(db, index, match)
    for (const r of [...rows].sort((a, b) => b.p - a.p).slice(0, depth)) ids.add(r.id)
    for (const r of [...rows].sort((a, b) => a.bm - b.bm).slice(0, depth / 2)) ids.add(r.id)
    return { ids: [...ids], matches: n }
  }
  const probe = n > MEDIUM ? await probeExpression(db, index, groups) : null
  let popular: number[] = []
  if (probe !== null) popular = await statements.probeHead(db, index, probe, HEAD, depth)
  // The head holds too few matches: the matches are mostly unpopular, rank them all.
  if (popular.length < CANDIDATES / 4) popular = await statements.popularMatches(db, index, match, depth)
  for (const id of popular) ids.add(id)
  const lower = typed.trim()
  if (lower.length > 0) {
    // Exactly what was typed (a broad query may be a whole, much repeated title: "The Love"), the
    // most popular first; then what starts with it.
    const same = await exactText(db, index, lower, depth)
    const starts = await statements.startsWith(db, index, lower, depth / 2)
    for (const id of same) ids.add(id)
    for (const id of starts) ids.add(id)
  }
  return { ids: [...ids], matches: n }
}

/** The rows whose display text is `typed` (case-insensitive index), the most popular first. */
async function exactText(db: DB, index: SearchIndex, typed: string, depth = CANDIDATES): Promise<number[]> {
  const text = typed.trim()
  if (text.length === 0) return []
  return dialectOf(db).search.exactText(db, index, text, depth / 2)
}

/**
 * The match expression for probing single rows, or null when a probe would be slow: a 2-3 letter
 * prefix is one read of the FTS prefix index; a longer prefix becomes its (few) vocabulary words,
 * since FTS would otherwise merge every word with that prefix again for each probe.
 */
async function probeExpression(db: DB, index: SearchIndex, groups: string[][]): Promise<string | null> {
  const parts: string[] = []
  for (const [g, alts] of groups.entries()) {
    const terms: string[] = []
    for (const alt of alts) {
      const len = [...alt].length
      if (len < 2) {
        // A last single letter of a script without case is a prefix no index serves: no probing.
        if (g === groups.length - 1) return null
        terms.push(`"${alt}"`)
        continue
      }
      if (len <= 3) {
        terms.push(`"${alt}"*`)
        continue
      }
      const words = await vocabularyWords(db, index.vocab, alt, MAX_EXPANSION + 1)
      if (words.length > MAX_EXPANSION) return null
      terms.push(...words.map((w) => `"${w}"`))
    }
    if (terms.length === 0) return null
    parts.push(terms.length === 1 ? terms[0] : `(${terms.join(' OR ')})`)
  }
  return parts.join(' AND ')
}

/**
 * For a query of single letters only (no index serves them): the most popular rows having a word
 * that starts with each letter, filtered here.
 */
async function headIds(
  db: DB,
  index: SearchIndex,
  letters: readonly string[],
  depth: number,
): Promise<number[]> {
  const other = index.table === 'titles' ? sql.ref('original_title') : sql.lit(null)
  const rows = await sql<{
    id: number
    a: string
    b: string | null
  }>`SELECT id, ${sql.ref(index.text)} AS a, ${other} AS b
    FROM ${sql.table(index.table)} ORDER BY ${sql.ref(index.popularity)} DESC LIMIT ${HEAD}`.execute(db)
  const ids: number[] = []
  for (const r of rows.rows) {
    const words = [...tokenize(r.a), ...(r.b ? tokenize(r.b) : [])]
    if (letters.every((l) => words.some((w) => w.startsWith(l)))) ids.push(r.id)
    if (ids.length >= depth) break
  }
  return ids
}

interface TitleCandidate {
  id: number
  title_type: string
  primary_title: string
  original_title: string | null
  start_year: number | null
  end_year: number | null
  average_rating: number | null
  num_votes: number
}

async function titleCandidates(db: DB, ids: number[]): Promise<TitleCandidate[]> {
  if (ids.length === 0) return []
  return db
    .selectFrom('titles as t')
    .select([
      't.id',
      't.title_type',
      't.primary_title',
      't.original_title',
      't.start_year',
      't.end_year',
      't.average_rating',
      't.num_votes',
    ])
    .where('t.id', 'in', ids)
    .execute()
}

interface NameCandidate {
  id: number
  primary_name: string
  primary_profession: string | null
  birth_year: number | null
  death_year: number | null
  popularity: number
}

async function nameCandidates(db: DB, ids: number[]): Promise<NameCandidate[]> {
  if (ids.length === 0) return []
  return db
    .selectFrom('names as n')
    .select([
      'n.id',
      'n.primary_name',
      'n.primary_profession',
      'n.birth_year',
      'n.death_year',
      'n.popularity',
    ])
    .where('n.id', 'in', ids)
    .execute()
}

/**
 * How well a text matches the query words: 1, +3 when it is exactly the query, +2 when it starts
 * with it, +1 when every query word is a whole word of it, -0.5 per word matched only through a
 * correction, -0.1 per extra word, never below MATCH_FLOOR; -1 (no match) when some word has no
 * alternative prefixing one of its words.
 */
export function textScore(
  text: string,
  groups: readonly (readonly string[])[],
  query: readonly string[],
): number {
  const words = tokenize(text)
  if (words.length === 0) return -1
  let score = 0
  let whole = true
  for (let i = 0; i < groups.length; i++) {
    const alts = groups[i]
    const original = query[i]
    if (words.some((w) => w.startsWith(original))) {
      if (!words.includes(original)) whole = false
      continue
    }
    const alt = alts.find((a) => words.some((w) => w.startsWith(a)))
    if (alt === undefined) return -1
    score -= 0.5
    if (!words.includes(alt)) whole = false
  }
  const joinedText = words.join(' ')
  const joinedQuery = query.join(' ')
  if (joinedText === joinedQuery) score += 3
  else if (joinedText.startsWith(joinedQuery)) score += 2
  if (whole) score += 1
  // Shorter texts are closer to what was typed.
  score -= Math.min(0.9, Math.max(0, words.length - query.length) * 0.1)
  // Any match of the display text outranks a match through an alternate title (AKA_SCORE).
  return Math.max(MATCH_FLOOR, 1 + score)
}

/** The lowest score of a text that matches; an alternate-title match scores AKA_SCORE, below it. */
const MATCH_FLOOR = 0.6
const AKA_SCORE = 0.5

const popularity = (n: number) => POPULARITY * Math.log10(1 + Math.max(0, n))

/** GET /search. `text` must contain at least one letter or digit (the route checks). */
export async function search(db: DB, text: string, opts: SearchOptions): Promise<SearchResult> {
  const paged = opts.kind !== undefined || opts.offset !== undefined
  const depth = paged ? SEARCH_DEPTH : CANDIDATES
  const offset = opts.offset ?? 0
  const tokens = queryTokens(text)
  if (tokens.length === 0)
    return {
      query: text,
      words: [],
      corrected: false,
      results: [],
      ...(paged ? { total: 0, totalIsExact: true } : {}),
    }
  await dialectOf(db).search.prepare(db)
  // A single letter still being typed (the last word) is too broad for the index (no prefix index
  // serves one letter): it filters the candidates the other words found, or, alone, the most popular
  // rows. An earlier single letter is a finished word, matched whole.
  const last = tokens.length - 1
  const long = tokens.filter((t) => [...t].length >= 2 || SYLLABIC.test(t))
  const isIndexed = (t: string, i: number) =>
    [...t].length >= 2 || SYLLABIC.test(t) || (i < last && long.length > 0)
  const indexed = tokens.filter(isIndexed)

  // Whether every match of the indexes searched was ranked (for a paged search's totalIsExact).
  let complete = true
  const attempt = async (groups: string[][]) => {
    complete = true
    const find = async (index: SearchIndex): Promise<number[]> => {
      if (indexed.length === 0) {
        complete = false
        return [
          ...new Set([
            ...(await exactText(db, index, text, depth)),
            ...(await headIds(db, index, tokens, depth)),
          ]),
        ]
      }
      const { ids, matches } = await candidateIds(db, index, groups, text, depth)
      if (matches > depth) complete = false
      return ids
    }
    return {
      titles: opts.kind === 'name' ? [] : await titleCandidates(db, await find(TITLES)),
      names: opts.kind === 'title' ? [] : await nameCandidates(db, await find(NAMES)),
    }
  }
  let groups = indexed.map((t) => [t])
  let corrected = false
  let found = await attempt(groups)
  // Nothing matches every word: some word may hold a typo. Retry with its corrections.
  if (found.titles.length === 0 && found.names.length === 0 && indexed.length > 0) {
    const alternatives = await corrections(db, indexed)
    if (alternatives.some((a) => a.length > 1)) {
      groups = alternatives
      corrected = true
      found = await attempt(groups)
    }
  }
  const { titles, names } = found

  /** Alternatives per query word, aligned with `tokens` (single letters stand for themselves). */
  const align = (groups: string[][] | undefined): string[][] => {
    let k = 0
    return tokens.map((t, i) => (isIndexed(t, i) && groups ? groups[k++] : [t]))
  }
  const titleGroups = align(groups)
  const nameGroups = titleGroups

  // Titles the index matched through an alternate title (contentless FTS does not say which column
  // matched): score their best matching alternate title, a little below the same match on the title.
  const viaAka = titles.filter(
    (t) =>
      textScore(t.primary_title, titleGroups, tokens) < 0 &&
      (!t.original_title || textScore(t.original_title, titleGroups, tokens) < 0),
  )
  const akaMatch = new Map<number, { title: string; score: number }>()
  if (viaAka.length > 0 && indexed.length === tokens.length) {
    const rows = await db
      .selectFrom('akas')
      .select(['title_id', 'title'])
      .where(
        'title_id',
        'in',
        viaAka.map((t) => t.id),
      )
      .orderBy('title_id')
      .orderBy('ordering')
      .execute()
    for (const r of rows) {
      const score = textScore(r.title, titleGroups, tokens) - 0.25
      const best = akaMatch.get(r.title_id)
      if (score >= 0 && (!best || score > best.score)) akaMatch.set(r.title_id, { title: r.title, score })
    }
  }

  const hits: (SearchHit & { rawId: number })[] = []
  for (const t of titles) {
    const primary = textScore(t.primary_title, titleGroups, tokens)
    const original = t.original_title ? textScore(t.original_title, titleGroups, tokens) - 0.25 : -1
    let score = Math.max(primary, original)
    let matchedTitle: string | null = null
    if (score < 0) {
      const aka = akaMatch.get(t.id)
      if (aka === undefined) {
        // Matched only through words the alternate titles hold across several of them; keep it last.
        if (indexed.length < tokens.length || indexed.length === 0) continue
        score = AKA_SCORE
      } else {
        score = Math.max(AKA_SCORE, aka.score)
        matchedTitle = aka.title
      }
    }
    hits.push({
      kind: 'title',
      rawId: t.id,
      id: tt(t.id),
      title: t.primary_title,
      type: t.title_type,
      startYear: t.start_year,
      endYear: t.end_year,
      rating: t.average_rating,
      votes: t.num_votes,
      matchedTitle,
      episodeOf: null,
      score: round(score + popularity(t.num_votes)),
    })
  }
  for (const n of names) {
    const score = textScore(n.primary_name, nameGroups, tokens)
    if (score < 0) continue
    hits.push({
      kind: 'name',
      rawId: n.id,
      id: nm(n.id),
      name: n.primary_name,
      professions: n.primary_profession ? n.primary_profession.split(',') : [],
      birthYear: n.birth_year,
      deathYear: n.death_year,
      popularity: n.popularity,
      score: round(score + popularity(n.popularity)),
    })
  }
  hits.sort((a, b) => b.score - a.score || a.id.localeCompare(b.id))
  const top = hits.slice(offset, offset + opts.limit)

  // Details for the few results shown: the series of episodes.
  const titleHits = top.filter((h): h is TitleHit & { rawId: number } => h.kind === 'title')
  const episodeIds = titleHits.filter((h) => h.type === 'tvEpisode').map((h) => h.rawId)
  if (episodeIds.length > 0) {
    const rows = await db
      .selectFrom('episodes as e')
      .leftJoin('titles as p', 'p.id', 'e.parent_id')
      .select(['e.id', 'e.parent_id', 'e.season_number', 'e.episode_number', 'p.primary_title'])
      .where('e.id', 'in', episodeIds)
      .execute()
    const byId = new Map(rows.map((r) => [r.id, r]))
    for (const h of titleHits) {
      const e = byId.get(h.rawId)
      if (e) {
        h.episodeOf = {
          seriesId: tt(e.parent_id),
          seriesTitle: e.primary_title,
          season: e.season_number,
          episode: e.episode_number,
        }
      }
    }
  }
  const results: SearchHit[] = top.map(({ rawId: _r, ...h }) => h)
  if (!paged) return { query: text, words: titleGroups, corrected: corrected && results.length > 0, results }
  const total = Math.min(hits.length, SEARCH_DEPTH)
  return {
    query: text,
    words: titleGroups,
    corrected: corrected && hits.length > 0,
    results,
    total,
    totalIsExact: complete && hits.length <= SEARCH_DEPTH,
  }
}

const round = (n: number) => Math.round(n * 1000) / 1000

/** For tests and the search benchmark: the folded form the index stores. */
export const normalize = (text: string) => tokenize(fold(text)).join(' ')
