import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import { after, before, describe, it } from 'node:test'
import { gzipSync } from 'node:zlib'
import fc from 'fast-check'
import {
  type ColumnSpec,
  DATASET_NAMES,
  type DatasetName,
  datasetSpec,
  formatId,
} from '../../src/datasets/catalogue.js'
import { DatasetError, datasetPath, type ParseStats, readDataset } from '../../src/datasets/reader.js'
import { tempDir } from '../helpers/server.js'

/**
 * Properties of the TSV reader over generated files: well-formed rows of every dataset come back
 * exactly (text byte for byte, nulls as null), and arbitrary bytes (tabs, `\N`, quotes,
 * backslashes, \x02, CR/LF, invalid UTF-8, wrong field counts, long digit runs, truncated or
 * corrupted gzip) either yield rows of the right types or fail with a DatasetError naming the
 * file (and the line, for a bad line), within a deadline. Runs are bounded to keep this quick;
 * FC_SEED and FC_RUNS reproduce or widen a run.
 */

const RUNS = Number(process.env.FC_RUNS ?? 100)
const SEED = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED)
/** A read that takes longer than this has hung. */
const DEADLINE_MS = 5000

let dir: string
let cleanup: () => Promise<void>
before(async () => {
  ;({ dir, cleanup } = await tempDir('marquee-reader-prop-'))
})
after(() => cleanup())

interface Outcome {
  rows: Record<string, unknown>[]
  stats: ParseStats | undefined
  bad: number
  error: unknown
}

let fileNo = 0

/** Writes `gz` as the dataset's file (in a directory of its own) and reads it all, within the deadline. */
async function readBack(
  name: DatasetName,
  gz: Buffer,
  strict: boolean,
): Promise<{ file: string; out: Outcome }> {
  const sub = `${dir}/${++fileNo}`
  const file = datasetPath(sub, name)
  await mkdir(sub)
  await writeFile(file, gz)
  const out: Outcome = { rows: [], stats: undefined, bad: 0, error: undefined }
  const read = (async () => {
    const it = readDataset(file, name, { strict, onBadLine: () => out.bad++ })
    for (;;) {
      const next = await it.next()
      if (next.done) {
        out.stats = next.value
        return
      }
      out.rows.push(next.value as Record<string, unknown>)
    }
  })().catch((err: unknown) => {
    out.error = err
  })
  let timer: NodeJS.Timeout | undefined
  const hung = new Promise<'hung'>((resolve) => {
    timer = setTimeout(() => resolve('hung'), DEADLINE_MS)
  })
  const result = await Promise.race([read.then(() => 'done' as const), hung])
  clearTimeout(timer)
  assert.equal(result, 'done', `reading ${file} did not finish within ${DEADLINE_MS} ms`)
  return { file, out }
}

// --- well-formed rows -------------------------------------------------------------------------

/** Text as IMDb ships it: anything but tab, newline and CR, and never exactly `\N`. */
const textChar = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
  fc.constantFrom(
    '"',
    "'",
    '\\',
    '\\N',
    'N',
    '\x02',
    ',',
    '[',
    ']',
    '{',
    ' ',
    'é',
    '東',
    '🎬',
    '\u0000',
    '\u2028',
    '\ufeff',
  ),
)
const text = (exclude: string[] = []) =>
  fc
    .array(textChar, { maxLength: 12 })
    .map((parts) => parts.join(''))
    .map((s) => s.replace(/[\t\n\r]/g, ' '))
    .map((s) => (exclude.length ? s.replace(new RegExp(`[${exclude.join('')}]`, 'g'), '_') : s))
    .filter((s) => s !== '\\N')

/** A typed value of a column, and how it is written in the file. */
function column({ name, type }: ColumnSpec, key: boolean): fc.Arbitrary<[unknown, string]> {
  const nullable = (arb: fc.Arbitrary<[unknown, string]>) =>
    key ? arb : fc.oneof({ weight: 4, arbitrary: arb }, fc.constant<[unknown, string]>([null, '\\N']))
  switch (type) {
    case 'tconst':
    case 'nconst': {
      const prefix = type === 'tconst' ? 'tt' : 'nm'
      return nullable(
        fc.integer({ min: 0, max: 99_999_999 }).map((n) => [formatId(prefix, n), formatId(prefix, n)]),
      )
    }
    case 'int':
      return nullable(fc.integer({ min: -1_000_000, max: 1_000_000_000 }).map((n) => [n, String(n)]))
    case 'bool':
      return nullable(fc.boolean().map((b) => [b, b ? '1' : '0']))
    case 'float':
      return nullable(
        fc
          .oneof(
            fc.integer({ min: 10, max: 100 }).map((n) => n / 10),
            fc.double({ min: 0, max: 1e6, noNaN: true }),
          )
          .map((x) => [x, String(x)]),
      )
    case 'list':
      return nullable(
        fc.array(text([',']).filter(Boolean), { minLength: 1, maxLength: 4 }).map((a) => [a, a.join(',')]),
      )
    case 'list02':
      return nullable(
        fc
          .array(text(['\\x02']).filter(Boolean), { minLength: 1, maxLength: 4 })
          .map((a) => [a, a.join('\x02')]),
      )
    case 'idList': {
      // knownForTitles lists titles; directors and writers list people.
      const prefix = name === 'knownForTitles' ? 'tt' : 'nm'
      return nullable(
        fc
          .array(fc.integer({ min: 0, max: 99_999_999 }), { minLength: 1, maxLength: 5 })
          .map((ns) => ns.map((n) => formatId(prefix, n)))
          .map((ids) => [ids, ids.join(',')]),
      )
    }
    case 'json':
      return nullable(fc.array(text(), { maxLength: 3 }).map((a) => [a, JSON.stringify(a)]))
    default:
      return nullable(text().map((s) => [s, s]))
  }
}

/** Rows of a dataset as [typed row, line]. */
function rowsOf(name: DatasetName): fc.Arbitrary<[Record<string, unknown>, string][]> {
  const spec = datasetSpec(name)
  const row = fc.tuple(...spec.columns.map((c) => column(c, spec.key.includes(c.name)))).map((cells) => {
    const typed = Object.fromEntries(cells.map(([value], i) => [spec.columns[i].name, value]))
    return [typed, cells.map(([, raw]) => raw).join('\t')] as [Record<string, unknown>, string]
  })
  return fc.array(row, { maxLength: 30 })
}

const header = (name: DatasetName) =>
  datasetSpec(name)
    .columns.map((c) => c.name)
    .join('\t')

function approxEqual(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b || Math.abs(a - b) <= Math.abs(b) * 1e-12
  return false
}

describe('TSV reader properties', () => {
  it('reads well-formed rows of every dataset back exactly, whatever the line endings', async () => {
    const file = fc.constantFrom(...DATASET_NAMES).chain((name) =>
      fc.record({
        name: fc.constant(name),
        rows: rowsOf(name),
        crlf: fc.boolean(),
        bom: fc.boolean(),
        finalNewline: fc.boolean(),
      }),
    )
    await fc.assert(
      fc.asyncProperty(file, async ({ name, rows, crlf, bom, finalNewline }) => {
        const eol = crlf ? '\r\n' : '\n'
        const lines = [(bom ? '\ufeff' : '') + header(name), ...rows.map(([, line]) => line)]
        const body = lines.join(eol) + (finalNewline ? eol : '')
        const { out } = await readBack(name, gzipSync(body), true)
        assert.equal(out.error, undefined, String(out.error))
        assert.equal(out.rows.length, rows.length)
        rows.forEach(([typed], i) => {
          for (const [k, v] of Object.entries(typed)) {
            const got = out.rows[i][k]
            if (!approxEqual(got, v)) assert.deepEqual(got, v, `${name} row ${i} ${k}`)
          }
        })
      }),
      { numRuns: RUNS, seed: SEED },
    )
  })

  it('yields typed rows or a DatasetError naming the file and line from arbitrary bytes, never hangs', async () => {
    const JUNK: Buffer[] = [
      Buffer.from([0xff]),
      Buffer.from([0xc3]),
      Buffer.from([0xed, 0xa0, 0x80]),
      Buffer.from([0xf0, 0x9f]),
      Buffer.from([0x00]),
    ]
    const token = fc.oneof(
      fc.constantFrom(
        '\t',
        '\t',
        '\\N',
        '"',
        '\\',
        '\x02',
        ',',
        '\r',
        '\n',
        '\r\n',
        'tt',
        'nm',
        '-',
        '.',
        'e',
        '[',
        ']',
        '"a"',
      ),
      fc.stringMatching(/^\d{1,9}$/),
      fc.constantFrom('9'.repeat(17), '1'.repeat(40)),
      fc.string({ unit: 'grapheme', maxLength: 4 }),
    )
    const junkField = fc
      .array(
        fc.oneof(
          token.map((t) => Buffer.from(t)),
          fc.constantFrom(...JUNK),
        ),
        { maxLength: 6 },
      )
      .map((parts) => Buffer.concat(parts))
    /** A line of about the right number of fields, each a valid value or junk. */
    const junkLine = (name: DatasetName) => {
      const spec = datasetSpec(name)
      const n = spec.columns.length
      const field = (i: number) =>
        fc.oneof(
          column(spec.columns[i % n], false).map(([, raw]) => Buffer.from(raw)),
          junkField,
          // Whole fields that look like numbers or ids but cannot be stored as one.
          fc
            .constantFrom(
              'Infinity',
              '-Infinity',
              '0x10',
              '1e999',
              '9'.repeat(16),
              '1'.repeat(400),
              'tt'.padEnd(20, '9'),
              'nm'.padEnd(400, '1'),
            )
            .map((t) => Buffer.from(t)),
        )
      return fc
        .integer({ min: n - 1, max: n + 1 })
        .chain((count) => fc.tuple(...Array.from({ length: count }, (_, i) => field(i))))
        .map((fields) => Buffer.concat(fields.flatMap((f, i) => (i === 0 ? [f] : [Buffer.from('\t'), f]))))
    }
    const file = fc.constantFrom(...DATASET_NAMES).chain((name) =>
      fc.record({
        name: fc.constant(name),
        // Mostly the right header; sometimes one with a column missing or renamed.
        header: fc.constantFrom(
          header(name),
          header(name),
          header(name),
          header(name).replace(/\t[^\t]*$/, ''),
          'x',
        ),
        valid: rowsOf(name),
        junk: fc.array(junkLine(name), { maxLength: 12 }),
        order: fc.array(fc.boolean(), { maxLength: 50 }),
        strict: fc.boolean(),
        // How the gzip is damaged: not at all, cut short, or a byte flipped.
        damage: fc.tuple(
          fc.constantFrom('none', 'none', 'none', 'truncate', 'flip'),
          fc.double({ min: 0, max: 1, noNaN: true }),
        ),
      }),
    )
    await fc.assert(
      fc.asyncProperty(file, async (f) => {
        // Valid and junk lines interleaved.
        const lines: Buffer[] = [Buffer.from(f.header)]
        const valid = f.valid.map(([, line]) => Buffer.from(line))
        const junk = [...f.junk]
        for (const pickValid of f.order) {
          const next = pickValid ? valid.shift() : junk.shift()
          if (next) lines.push(next)
        }
        lines.push(...valid, ...junk)
        let gz = gzipSync(Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])))
        const [how, at] = f.damage
        if (how === 'truncate') gz = gz.subarray(0, Math.floor(at * gz.length))
        if (how === 'flip') {
          gz = Buffer.from(gz)
          const i = Math.min(gz.length - 1, Math.floor(at * gz.length))
          gz[i] ^= 0x5a
        }

        const { file: path, out } = await readBack(f.name, gz, f.strict)
        if (out.error !== undefined) {
          const err = out.error
          assert.ok(
            err instanceof DatasetError,
            `not a DatasetError: ${(err as Error)?.stack ?? String(err)}`,
          )
          assert.equal(err.file, path)
          assert.ok(err.message.includes(path), `the message names the file: ${err.message}`)
          if (err.code === 'DATASET_BAD_LINE') {
            assert.ok(f.strict, 'bad lines are fatal only in strict mode')
            assert.ok(Number.isInteger(err.line) && err.line! >= 2, `a line number: ${err.line}`)
            assert.ok(err.message.includes(`${path}:${err.line}:`), err.message)
          } else {
            assert.ok(
              ['DATASET_CORRUPT', 'DATASET_HEADER_MISMATCH', 'DATASET_READ_FAILED'].includes(err.code),
              err.code,
            )
          }
          return
        }
        // Every data line is a row or a reported bad line.
        assert.ok(out.stats)
        assert.equal(out.rows.length + out.bad, out.stats.lines)
        for (const row of out.rows) assertTyped(f.name, row)
      }),
      { numRuns: RUNS * 2, seed: SEED },
    )
  })
})

/** Every column of a row has its type: ids as ids, integers as safe integers, text without separators. */
function assertTyped(name: DatasetName, row: Record<string, unknown>): void {
  const spec = datasetSpec(name)
  assert.deepEqual(
    Object.keys(row),
    spec.columns.map((c) => c.name),
  )
  for (const c of spec.columns) {
    const v = row[c.name]
    const where = `${name}.${c.name} = ${JSON.stringify(v)}`
    if (v === null) {
      assert.ok(!spec.key.includes(c.name), `${where}: a key is never null`)
      continue
    }
    switch (c.type) {
      case 'tconst':
        assert.match(v as string, /^tt\d{7,}$/, where)
        break
      case 'nconst':
        assert.match(v as string, /^nm\d{7,}$/, where)
        break
      case 'int':
        assert.ok(Number.isSafeInteger(v), where)
        break
      case 'float':
        assert.ok(typeof v === 'number' && Number.isFinite(v), where)
        break
      case 'bool':
        assert.equal(typeof v, 'boolean', where)
        break
      case 'list':
      case 'list02':
      case 'json':
      case 'idList':
        assert.ok(Array.isArray(v) && v.every((x) => typeof x === 'string'), where)
        if (c.type === 'idList') for (const id of v as string[]) assert.match(id, /^(tt|nm)\d{7,}$/, where)
        break
      default:
        assert.equal(typeof v, 'string', where)
        assert.ok(!/[\t\n]/.test(v as string), `${where}: no tab or newline in text`)
    }
  }
}
