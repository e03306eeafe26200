/**
 * Text handling shared by search and the `q` filters, matching the FTS5 tokenizer of the schema
 * (`unicode61 remove_diacritics 2`): lower case, diacritics removed, tokens are runs of letters and
 * digits.
 */

/** At most this many words of a query are used. */
export const MAX_TOKENS = 8
/** Words longer than this are cut (no title word is longer; it bounds typo candidates). */
export const MAX_TOKEN_LENGTH = 40

/**
 * Lower case without the diacritics of Latin letters, as unicode61 folds them: `Amélie` -> `amelie`,
 * `İstanbul` -> `istanbul`, while `Ærø`, `ß`, `½` and other scripts' letters stay (`ά` stays `ά`; a
 * Devanagari vowel sign stays, and separates tokens, as it does in the index).
 */
export function fold(text: string): string {
  return text
    .normalize('NFD')
    .replace(/(\p{Script=Latin})\p{M}+/gu, '$1')
    .normalize('NFC')
    .toLowerCase()
}

/** The words of a text as the FTS index sees them. */
export function tokenize(text: string): string[] {
  const out: string[] = []
  for (const m of fold(text).matchAll(/[\p{L}\p{N}]+/gu)) {
    out.push(m[0].slice(0, MAX_TOKEN_LENGTH))
  }
  return out
}

/** The tokens of a user query: at most MAX_TOKENS, duplicates kept (the FTS AND makes them harmless). */
export function queryTokens(text: string): string[] {
  return tokenize(text).slice(0, MAX_TOKENS)
}

/** A token as an FTS5 string (tokens hold only letters and digits, so quoting is all it needs). */
const quote = (token: string) => `"${token}"`

/**
 * An FTS5 expression matching rows that contain, for every group, a word starting with one of the
 * group's alternatives: `[["godfather"], ["part","pat"]]` -> `"godfather"* AND ("part"* OR "pat"*)`.
 * A single-character word is matched whole (`"a"`: no prefix index serves one letter, and a finished
 * one-letter word means itself), except in the last group when `lastIsPrefix` (still being typed).
 */
export function ftsPrefixExpression(groups: readonly (readonly string[])[], lastIsPrefix = false): string {
  return groups
    .map((alts, g) => {
      const term = (a: string) =>
        [...a].length > 1 || (lastIsPrefix && g === groups.length - 1) ? `${quote(a)}*` : quote(a)
      return alts.length === 1 ? term(alts[0]) : `(${alts.map(term).join(' OR ')})`
    })
    .join(' AND ')
}

/** `q` of GET /titles and GET /names: every word as a prefix; null when the text has no word. */
export function ftsMatch(text: string): string | null {
  const tokens = queryTokens(text)
  return tokens.length === 0
    ? null
    : ftsPrefixExpression(
        tokens.map((t) => [t]),
        true,
      )
}

/**
 * Every string within one edit (deletion, transposition, substitution, insertion) of `word`,
 * over `alphabet` (the letters and digits that can appear), without `word` itself.
 */
export function edits1(word: string, alphabet: string): string[] {
  const out = new Set<string>()
  const chars = [...word]
  const n = chars.length
  const letters = [...new Set([...alphabet, ...chars])]
  for (let i = 0; i < n; i++) out.add([...chars.slice(0, i), ...chars.slice(i + 1)].join(''))
  for (let i = 0; i < n - 1; i++) {
    out.add([...chars.slice(0, i), chars[i + 1], chars[i], ...chars.slice(i + 2)].join(''))
  }
  for (let i = 0; i < n; i++) {
    for (const c of letters)
      if (c !== chars[i]) out.add([...chars.slice(0, i), c, ...chars.slice(i + 1)].join(''))
  }
  for (let i = 0; i <= n; i++) {
    for (const c of letters) out.add([...chars.slice(0, i), c, ...chars.slice(i)].join(''))
  }
  out.delete(word)
  out.delete('')
  return [...out]
}

/** Levenshtein distance with adjacent transpositions (optimal string alignment), capped at `max + 1`. */
export function editDistance(a: string, b: string, max = 2): number {
  if (Math.abs(a.length - b.length) > max) return max + 1
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [
    i,
    ...new Array<number>(b.length).fill(0),
  ])
  for (let j = 0; j <= b.length; j++) d[0][j] = j
  for (let i = 1; i <= a.length; i++) {
    let rowMin = Number.POSITIVE_INFINITY
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let v = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[i - 2][j - 2] + 1)
      d[i][j] = v
      if (v < rowMin) rowMin = v
    }
    if (rowMin > max) return max + 1
  }
  return Math.min(d[a.length][b.length], max + 1)
}
