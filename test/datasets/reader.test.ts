import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { gzipSync } from 'node:zlib'
import { datasetSpec } from '../../src/datasets/catalogue.js'
import {
  type BadLine,
  DatasetError,
  datasetPath,
  readBatches,
  readDataset,
} from '../../src/datasets/reader.js'
import { quirkText, tempDir, writeQuirks } from '../fixtures/quirks.js'
import { until } from '../helpers/wait.js'

let dir: string
let cleanup: () => Promise<void>

before(async () => {
  ;({ dir, cleanup } = await tempDir('marquee-reader-'))
  await writeQuirks(dir)
})
after(() => cleanup())

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}

async function rejection(p: Promise<unknown>): Promise<DatasetError> {
  try {
    await p
  } catch (err) {
    assert.ok(err instanceof DatasetError, `expected a DatasetError, got ${err}`)
    return err
  }
  assert.fail('expected a rejection')
}

describe('readDataset', () => {
  it('types every column: ids, ints, bools, null, lists, and text kept byte for byte', async () => {
    const bad: BadLine[] = []
    const rows = await all(
      readDataset(datasetPath(dir, 'title.basics'), 'title.basics', { onBadLine: (b) => bad.push(b) }),
    )
    assert.deepEqual(rows[1], {
      tconst: 'tt0000003',
      titleType: 'movie',
      primaryTitle: 'The "Quoted" Title',
      originalTitle: null,
      isAdult: false,
      startYear: null,
      endYear: null,
      runtimeMinutes: null,
      genres: null,
    })
    assert.equal(rows[2].primaryTitle, 'Back\\slash \\n path')
    assert.equal(rows[2].isAdult, true)
    assert.deepEqual(rows[0].genres, ['Documentary', 'Short'])
    const tokyo = rows.find((r) => r.tconst === 'tt10000001')!
    assert.equal(tokyo.primaryTitle, '東京物語 🎬')
    assert.equal(tokyo.endYear, 2021)
    assert.equal(
      rows.find((r) => r.tconst === 'tt0211915')!.originalTitle,
      "Le fabuleux destin d'Amélie Poulain",
    )
    // The last line has no newline and still counts; CRLF lines lose their \r.
    assert.equal(rows.at(-1)!.tconst, 'tt10000002')
    assert.equal(rows.at(-1)!.primaryTitle, 'Пилот')
    assert.ok(rows.every((r) => !String(r.genres).includes('\r')))
    assert.equal(rows.length, 7)
  })

  it('splits \\x02 lists and parses characters as JSON, escaped quotes included', async () => {
    const akas = await all(readDataset(datasetPath(dir, 'title.akas'), 'title.akas'))
    assert.deepEqual(akas[1].types, ['imdbDisplay', 'working'])
    assert.deepEqual(akas[3].attributes, ['literal English title', 'complete title'])
    assert.equal(akas[5].isOriginalTitle, null)
    const principals = await all(readDataset(datasetPath(dir, 'title.principals'), 'title.principals'))
    assert.deepEqual(principals[2].characters, ['The "Dancer"', 'Narrator \\ Voice'])
    assert.equal(principals[3].job, 'music by "Yann"')
    assert.equal(principals[3].characters, null)
  })

  it('reports a line with the wrong field count by file and line number, and skips it', async () => {
    const bad: (BadLine & { file: string })[] = []
    const file = datasetPath(dir, 'title.principals')
    const rows = await all(readDataset(file, 'title.principals', { onBadLine: (b) => bad.push(b) }))
    assert.equal(rows.length, 5)
    assert.deepEqual(bad, [{ file, line: 6, reason: 'expected 6 fields, found 4' }])
  })

  it('fails on the bad line in strict mode, naming file and line', async () => {
    const file = datasetPath(dir, 'title.basics')
    const err = await rejection(all(readDataset(file, 'title.basics', { strict: true })))
    assert.equal(err.code, 'DATASET_BAD_LINE')
    assert.equal(err.line, 5)
    assert.match(err.message, new RegExp(`${file}:5: expected 9 fields, found 10`))
  })

  it('fails on a header that does not match the catalogue, naming the file', async () => {
    const file = join(dir, 'renamed-column.tsv.gz')
    const text = (await quirkText('title.ratings')).toString().replace('numVotes', 'votes')
    await writeFile(file, gzipSync(text))
    const err = await rejection(all(readDataset(file, 'title.ratings')))
    assert.equal(err.code, 'DATASET_HEADER_MISMATCH')
    assert.ok(err.message.includes(file))
    assert.match(
      err.message,
      /expected "tconst\\taverageRating\\tnumVotes", found "tconst\\taverageRating\\tvotes"/,
    )
  })

  it('fails on a truncated gzip file, naming the file', async () => {
    const file = join(dir, 'truncated.tsv.gz')
    const gz = gzipSync(await quirkText('title.basics'))
    await writeFile(file, gz.subarray(0, gz.length - 20))
    const err = await rejection(all(readDataset(file, 'title.basics')))
    assert.equal(err.code, 'DATASET_CORRUPT')
    assert.ok(err.message.includes(file))
    assert.match(err.message, /download title\.basics\.tsv\.gz again/)
  })

  it('fails on a file that is not gzip at all', async () => {
    const file = join(dir, 'plain.tsv.gz')
    await writeFile(file, await quirkText('title.basics'))
    assert.equal((await rejection(all(readDataset(file, 'title.basics')))).code, 'DATASET_CORRUPT')
  })

  it('fails on a missing file with DATASET_MISSING', async () => {
    const file = join(dir, 'nope', datasetSpec('title.crew').file)
    const err = await rejection(all(readDataset(file, 'title.crew')))
    assert.equal(err.code, 'DATASET_MISSING')
    assert.ok(err.message.includes(file))
  })

  it('keeps duplicate rows unless asked to drop them', async () => {
    const file = datasetPath(dir, 'name.basics')
    assert.equal((await all(readDataset(file, 'name.basics'))).length, 5)
    assert.equal((await all(readDataset(file, 'name.basics', { dedupe: true }))).length, 4)
  })

  it('stops reading and closes the file when the loop breaks early', async () => {
    const file = join(dir, 'big.tsv.gz')
    const lines = ['tconst\taverageRating\tnumVotes']
    for (let i = 1; i <= 200_000; i++) lines.push(`tt${String(i).padStart(7, '0')}\t${(i % 100) / 10}\t${i}`)
    await writeFile(file, gzipSync(lines.join('\n')))
    const fds = () => readdirSync('/proc/self/fd').length
    const before = fds()
    let bytes = 0
    for await (const row of readDataset(file, 'title.ratings', { onBytes: (b) => (bytes = b) })) {
      assert.equal(row.tconst, 'tt0000001')
      break
    }
    // Closing is asynchronous (the thread pool closes the descriptor): give it a moment.
    await until(() => fds() === before, 'the descriptor to close').catch(() => {})
    assert.equal(fds(), before, 'the file descriptor is closed')
    assert.ok(bytes <= 1 << 20, `read ${bytes} bytes of a file it stopped reading early`)
  })

  it('decodes invalid UTF-8 as U+FFFD without shifting the fields after it', async () => {
    const file = join(dir, 'bad-utf8.tsv.gz')
    const header = Buffer.from(
      'nconst\tprimaryName\tbirthYear\tdeathYear\tprimaryProfession\tknownForTitles\n',
    )
    const line = Buffer.concat([
      Buffer.from('nm0000001\tBad '),
      Buffer.from([0xff, 0xc3]),
      Buffer.from(' byte\t1900\t\\N\tactor\ttt0000001\n'),
    ])
    await writeFile(file, gzipSync(Buffer.concat([header, line])))
    const [row] = await all(readDataset(file, 'name.basics'))
    assert.equal(row.primaryName, 'Bad \uFFFD\uFFFD byte')
    assert.deepEqual(row.primaryProfession, ['actor'])
    assert.deepEqual(row.knownForTitles, ['tt0000001'])
  })
})

describe('readBatches', () => {
  it('yields columnar batches and returns the parse statistics', async () => {
    const it = readBatches(datasetPath(dir, 'name.basics'), 'name.basics', { dedupe: true, batchRows: 2 })
    const sizes: number[] = []
    let next = await it.next()
    while (!next.done) {
      sizes.push(next.value.rows)
      next = await it.next()
    }
    assert.deepEqual(sizes, [2, 2])
    assert.deepEqual(next.value, { lines: 5, rows: 4, skipped: 0, duplicates: 1, outOfOrder: 0 })
  })
})
