import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { ftsToTsquery } from '../../src/db/postgres/fts.js'
import { tokenize } from '../../src/db/queries/text.js'
import { CopyBuffer } from '../../src/ingest/postgres/copy-buffer.js'
import { DocWriter, fastTokens } from '../../src/ingest/postgres/tsvector.js'

/** These need no server: the COPY text and tsvector literals the PostgreSQL ingest writes. */

const text = (b: CopyBuffer) => b.take().toString('utf8')

describe('COPY text encoding', () => {
  it('escapes backslash, newline, carriage return and tab, and leaves quotes alone', () => {
    const b = new CopyBuffer()
    assert.equal(b.str('a\\b "c" \'d\'\te\nf\rg'), true)
    b.tab()
    b.nul()
    b.eol()
    assert.equal(text(b), 'a\\\\b "c" \'d\'\\te\\nf\\rg\t\\N\n')
    const bytes = Buffer.from('Back\\slash 🎬 東京')
    assert.equal(b.text(bytes, 0, bytes.length), true)
    assert.equal(text(b), 'Back\\\\slash 🎬 東京')
  })

  it('refuses a NUL, which PostgreSQL text cannot hold', () => {
    const b = new CopyBuffer()
    assert.equal(b.text(Buffer.from('a\0b'), 0, 3), false)
    assert.equal(b.str('a\0b'), false)
  })

  it('writes integers and floats as PostgreSQL reads them', () => {
    const values = [0, 7, 10, 99, 100, 12345, 9999999, 10000000, 123456789, 2147483647, 2147483648, -1, -2024]
    const b = new CopyBuffer()
    for (const v of values) {
      b.int(v)
      b.tab()
    }
    b.num(Number.NaN)
    b.tab()
    b.num(8.3)
    b.tab()
    b.num(10)
    assert.equal(text(b), `${values.join('\t')}\t\\N\t8.3\t10`)
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), (v) => {
        const c = new CopyBuffer()
        c.int(v)
        return text(c) === String(v)
      }),
    )
  })
})

describe('tsvector documents', () => {
  it('turns match expressions into tsqueries, 2-3 character prefixes into prefix lexemes', () => {
    assert.equal(
      ftsToTsquery('"godfather"* AND ("part"* OR "pa"*) AND "a" AND "ame"*'),
      "'godfather':* & ( 'part':* | '^pa' ) & 'a' & '^ame'",
    )
    assert.equal(ftsToTsquery('"x"*'), "'x':*")
  })

  it('writes weighted positions of the folded words, and their 2- and 3-character prefixes', () => {
    const b = new CopyBuffer()
    const doc = new DocWriter(b)
    doc.begin()
    doc.addText("Le fabuleux destin d'Amélie", 'A')
    doc.addBytes(Buffer.from('AMÉLIE 2001'), 0, 'AMÉLIE 2001'.length + 1, 'C')
    assert.equal(
      text(b),
      "'le':1A '^le' 'fabuleux':2A '^fa' '^fab' 'destin':3A '^de' '^des' 'd':4A 'amelie':5A '^am' '^ame' " +
        "'amelie':6C '^am' '^ame' '2001':7C '^20' '^200'",
    )
  })

  it('splits words exactly as tokenize() does, on any text', () => {
    const cases = [
      'İstanbul',
      'Ærø ß ½',
      'ΣΟΦΙΑ σοφία',
      'Amélie Poulain',
      'Ngô Thanh Vân',
      '東京物語 🎬',
      '한국어 영화',
      'Ра\u0306дио',
      'देवनागरी',
      'e\u0301te\u0301',
      'x'.repeat(60),
      'Łódź',
    ]
    for (const s of cases) {
      const fast = fastTokens(s)
      if (fast !== null) assert.deepEqual(fast, tokenize(s), s)
    }
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 30 }), (s) => {
        const fast = fastTokens(s)
        return fast === null || JSON.stringify(fast) === JSON.stringify(tokenize(s))
      }),
      { numRuns: 3000 },
    )
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...'aZé É ıİ ß æ Ø ñ ç ǅ ő ŀ Ǆ ﬁ ¼ · – 1 ё Ж ά ω 中 文 한 グ'.split(' ')), {
          maxLength: 20,
        }),
        (parts) => {
          const s = parts.join('')
          const fast = fastTokens(s)
          return fast === null || JSON.stringify(fast) === JSON.stringify(tokenize(s))
        },
      ),
      { numRuns: 3000 },
    )
  })
})
