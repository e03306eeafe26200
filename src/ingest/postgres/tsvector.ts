/**
 * Text-search documents as `tsvector` literals, written by the ingest rather than computed by
 * PostgreSQL's parser: the words are exactly those of `tokenize()` (src/db/queries/text.ts), which
 * also splits the words of every query, so a query word matches an indexed word on PostgreSQL
 * exactly when it does on SQLite's unicode61 tokenizer with remove_diacritics. ASCII text (most of
 * it) is tokenized byte by byte without making strings.
 *
 * A literal lists `'word':position` entries with a weight letter (A, B, C) per position; repeated
 * words are merged by PostgreSQL. Words hold only letters and digits, so they need no escaping in
 * the literal or in COPY text.
 *
 * Prefix lexemes: each word also contributes `'^' + its first 2 and first 3 characters` (no
 * position), the counterpart of the FTS5 index's `prefix='2 3'`. A GIN prefix scan (`'st':*`)
 * merges the posting lists of every word starting with `st` (thousands of them, 100+ ms over a
 * million titles); the query asks for the one lexeme `'^st'` instead (src/db/postgres/fts.ts).
 * `^` never starts a word (words are letters and digits), and the vocabulary tables leave them out.
 */

import { fold, MAX_TOKEN_LENGTH, tokenize } from '../../db/queries/text.js'
import type { CopyBuffer } from './copy-buffer.js'

/** PostgreSQL's largest word position; later words share it. */
const MAX_POSITION = 16383
const QUOTE = 39
const COLON = 58
const SPACE = 32
const CARET = 94

export type Weight = 'A' | 'B' | 'C'
const WEIGHT: Record<Weight, number> = { A: 65, B: 66, C: 67 }

/** Writes one document at a time into a CopyBuffer field. */
export class DocWriter {
  private position = 0
  private words = 0
  private readonly out: CopyBuffer

  constructor(out: CopyBuffer) {
    this.out = out
  }

  /** Starts a new document (word positions restart at 1). */
  begin(): void {
    this.position = 0
    this.words = 0
  }

  /** Words written to the current document. */
  get count(): number {
    return this.words
  }

  private entry(weight: number): void {
    const out = this.out
    out.ensure(12)
    out.buf[out.pos++] = QUOTE
    out.buf[out.pos++] = COLON
    if (this.position < MAX_POSITION) this.position++
    out.int(this.position)
    // int() may have grown the buffer.
    out.buf[out.pos++] = weight
  }

  private word(token: string, weight: number): void {
    const out = this.out
    out.ensure(token.length * 3 + 2)
    if (this.words > 0) out.buf[out.pos++] = SPACE
    out.buf[out.pos++] = QUOTE
    out.pos += out.buf.write(token, out.pos, 'utf8')
    this.entry(weight)
    this.words++
    const chars = [...token]
    if (chars.length >= 2) this.prefixText(chars[0] + chars[1])
    if (chars.length >= 3) this.prefixText(chars[0] + chars[1] + chars[2])
  }

  /** ` '^<prefix>'` */
  private prefixText(prefix: string): void {
    const out = this.out
    out.ensure(prefix.length * 3 + 4)
    out.buf[out.pos++] = SPACE
    out.buf[out.pos++] = QUOTE
    out.buf[out.pos++] = CARET
    out.pos += out.buf.write(prefix, out.pos, 'utf8')
    out.buf[out.pos++] = QUOTE
  }

  /** The prefix lexemes of an ASCII word just written at `out.buf[start..start + n)`. */
  private prefixBytes(start: number, n: number): void {
    if (n < 2) return
    const out = this.out
    out.ensure(16)
    const buf = out.buf
    for (let len = 2; len <= 3 && len <= n; len++) {
      buf[out.pos++] = SPACE
      buf[out.pos++] = QUOTE
      buf[out.pos++] = CARET
      for (let k = 0; k < len; k++) buf[out.pos++] = buf[start + k]
      buf[out.pos++] = QUOTE
    }
  }

  /** Adds the words of UTF-8 bytes `src[s..e)`. */
  addBytes(src: Uint8Array, s: number, e: number, weight: Weight): void {
    for (let i = s; i < e; i++) {
      if (src[i] >= 0x80) {
        this.addText(Buffer.from(src.buffer, src.byteOffset + s, e - s).toString('utf8'), weight)
        return
      }
    }
    const w = WEIGHT[weight]
    const out = this.out
    let i = s
    while (i < e) {
      if (!isAlnum(src[i])) {
        i++
        continue
      }
      out.ensure(MAX_TOKEN_LENGTH + 16)
      const buf = out.buf
      if (this.words > 0) buf[out.pos++] = SPACE
      buf[out.pos++] = QUOTE
      const start = out.pos
      let n = 0
      for (; i < e; i++) {
        const b = src[i]
        if (!isAlnum(b)) break
        if (n < MAX_TOKEN_LENGTH) {
          buf[out.pos++] = b >= 65 && b <= 90 ? b + 32 : b
          n++
        }
      }
      this.entry(w)
      this.words++
      this.prefixBytes(start, n)
    }
  }

  /** Adds the words of a string. */
  addText(text: string, weight: Weight): void {
    const w = WEIGHT[weight]
    for (let i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) >= 0x80) {
        for (const token of fastTokens(text) ?? tokenize(text)) this.word(token, w)
        return
      }
    }
    const out = this.out
    let i = 0
    const e = text.length
    while (i < e) {
      if (!isAlnum(text.charCodeAt(i))) {
        i++
        continue
      }
      out.ensure(MAX_TOKEN_LENGTH + 16)
      const buf = out.buf
      if (this.words > 0) buf[out.pos++] = SPACE
      buf[out.pos++] = QUOTE
      const start = out.pos
      let n = 0
      for (; i < e; i++) {
        const c = text.charCodeAt(i)
        if (!isAlnum(c)) break
        if (n < MAX_TOKEN_LENGTH) {
          buf[out.pos++] = c >= 65 && c <= 90 ? c + 32 : c
          n++
        }
      }
      this.entry(w)
      this.words++
      this.prefixBytes(start, n)
    }
  }
}

/** ASCII letters and digits. */
function isAlnum(b: number): boolean {
  return (b >= 97 && b <= 122) || (b >= 48 && b <= 57) || (b >= 65 && b <= 90)
}

/**
 * `tokenize(text)` without normalizing whole strings, for text whose characters fold one by one:
 * each character's folded form is `fold()` of that character alone (cached), and words are the runs
 * of letters and digits of the folded forms. That equals `tokenize(text)` when no character of the
 * text can combine with its neighbours under NFD/NFC or lower-case differently in context, so any
 * combining mark, Hangul jamo, capital sigma or surrogate makes it return null (the caller then uses
 * `tokenize`). Checked equal on every title, alternate title and name of the 1M-title sample, and by
 * a property test.
 */
export function fastTokens(text: string): string[] | null {
  const out: string[] = []
  let tok = ''
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x80) {
      if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) tok += text[i]
      else if (c >= 65 && c <= 90) tok += String.fromCharCode(c + 32)
      else if (tok !== '') {
        out.push(tok.length > MAX_TOKEN_LENGTH ? tok.slice(0, MAX_TOKEN_LENGTH) : tok)
        tok = ''
      }
      continue
    }
    const piece = pieceOf(c)
    if (piece === null) return null
    for (let k = 0; k < piece.length; k++) {
      if (isWordUnit(piece.charCodeAt(k))) tok += piece[k]
      else if (tok !== '') {
        out.push(tok.length > MAX_TOKEN_LENGTH ? tok.slice(0, MAX_TOKEN_LENGTH) : tok)
        tok = ''
      }
    }
  }
  if (tok !== '') out.push(tok.length > MAX_TOKEN_LENGTH ? tok.slice(0, MAX_TOKEN_LENGTH) : tok)
  return out
}

/** Folded form of each BMP character seen so far; null for characters that do not fold alone. */
const PIECES: (string | null | undefined)[] = new Array(0x10000)
/** 1: a letter or digit (part of a word), 2: not; 0: not classified yet. */
const WORD_UNITS = new Int8Array(0x10000)
const MARK = /\p{M}/u
const WORD = /[\p{L}\p{N}]/u

function pieceOf(c: number): string | null {
  const known = PIECES[c]
  if (known !== undefined) return known
  const ch = String.fromCharCode(c)
  const alone =
    !(c >= 0xd800 && c <= 0xdfff) &&
    !MARK.test(ch) &&
    !(c >= 0x1100 && c <= 0x11ff) &&
    !(c >= 0xa960 && c <= 0xa97f) &&
    !(c >= 0xd7b0 && c <= 0xd7ff) &&
    c !== 0x03a3
  const piece = alone ? fold(ch) : null
  PIECES[c] = piece
  return piece
}

function isWordUnit(u: number): boolean {
  let w = WORD_UNITS[u]
  if (w === 0) {
    w = WORD.test(String.fromCharCode(u)) ? 1 : 2
    WORD_UNITS[u] = w
  }
  return w === 1
}
