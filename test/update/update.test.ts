import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { copyFile, link, mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { gzipSync } from 'node:zlib'
import { type DatasetName, datasetSpec } from '../../src/datasets/catalogue.js'
import { ingest } from '../../src/ingest/index.js'
import { GroupCursor, NotSortedError, Peek } from '../../src/update/groups.js'
import { generationsDir, readBase, type UpdateProgress, update } from '../../src/update/index.js'
import { quirkText, writeQuirks } from '../fixtures/quirks.js'
import { tempDir } from '../helpers/server.js'
import { dumpTables, ftsAnswers } from './compare.js'
import { twoVersions, type Version } from './fixture.js'
import { mutateDataset } from './mutate.js'

const QUERIES = ['the', 'love', 'war*', 'redux', 'zwei', 'jr', 'a*', 'night OR day', '"the man"', 'amelie']

let root: string
let cleanup: () => Promise<void>
let a: Version
let b: Version

before(async () => {
  ;({ dir: root, cleanup } = await tempDir('marquee-update-'))
  ;({ a, b } = await twoVersions(root, { rate: 0.01 }))
})
after(async () => cleanup?.())

/** Asserts that two databases hold the same rows in every table and answer FTS queries alike. */
function assertSameDatabase(actual: string, expected: string): void {
  assert.deepEqual(dumpTables(actual), dumpTables(expected))
  assert.deepEqual(ftsAnswers(actual, QUERIES), ftsAnswers(expected, QUERIES))
}

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex')

describe('marquee update (refresh in place)', () => {
  const dbPath = () => join(root, 'served', 'marquee.db')

  it('builds the database in full when there is none, and keeps the files it was built from', async () => {
    const events: UpdateProgress[] = []
    const s = await update({ dbPath: dbPath(), dataDir: a.data, onProgress: (e) => events.push(e) })
    assert.equal(s.mode, 'full')
    assert.match(s.reason!, /no database/)
    assert.ok(events.some((e) => e.type === 'ingest'))
    assert.ok(existsSync(join(generationsDir(dbPath()), s.generation, 'source.json')))
    assertSameDatabase(dbPath(), a.db)
  })

  it('applies only the differences, with a result identical to a full ingest of the new files', async () => {
    const before = readBase(dbPath())!
    // The served file must never be written: keep a name for its bytes and compare them after.
    await link(dbPath(), join(root, 'served-before.db'))
    const digest = sha(join(root, 'served-before.db'))
    // Small chunks: changes are applied while the diffs go on.
    const s = await update({ dbPath: dbPath(), dataDir: b.data, chunkRows: 20 })
    assert.equal(s.mode, 'incremental', s.reason ?? '')
    assert.equal(s.previousGeneration, before.generation)
    assert.notEqual(s.generation, before.generation)
    assert.equal(sha(join(root, 'served-before.db')), digest, 'the old file was not modified')
    assertSameDatabase(dbPath(), b.db)
    // Every file had changes, counted by kind.
    assert.equal(s.files.length, 7)
    for (const f of s.files) assert.ok(f.inserted + f.changed + f.deleted > 0, `${f.dataset} changed`)
    const m = s.manifest as unknown as { generation: string; update: { from: string } }
    assert.equal(m.generation, s.generation)
    assert.equal(m.update.from, before.generation)
    assert.equal(readBase(dbPath())!.generation, s.generation)
    // Only the new generation's sources are kept; nothing temporary is left.
    assert.deepEqual(readdirSync(generationsDir(dbPath())), [s.generation])
    assert.deepEqual(
      readdirSync(join(root, 'served')).filter((f) => f.includes('.updating-') || f.endsWith('-journal')),
      [],
    )
  })

  it('does nothing when the files are those of the database', async () => {
    const current = readBase(dbPath())!.generation
    const s = await update({ dbPath: dbPath(), dataDir: b.data })
    assert.equal(s.mode, 'unchanged')
    assert.equal(s.generation, current)
  })

  it('refreshes again from a refreshed database (its manifest and FTS totals carry over)', async () => {
    const c = join(root, 'c')
    await mutateDataset(b.data, c, { rate: 0.05, seed: 9, level: 1 })
    const s = await update({ dbPath: dbPath(), dataDir: c, chunkRows: 50 })
    assert.equal(s.mode, 'incremental', s.reason ?? '')
    await ingest({ dataDir: c, dbPath: join(root, 'dbs', 'c.db') })
    assertSameDatabase(dbPath(), join(root, 'dbs', 'c.db'))
  })
})

/** The quirks fixture's files with some lines replaced (`[from, to]`, `to` null deletes). */
async function quirksWith(
  dir: string,
  edits: Partial<Record<DatasetName, [string, string | null][]>>,
): Promise<void> {
  await mkdir(dir, { recursive: true })
  const replace: Partial<Record<DatasetName, string>> = {}
  for (const [name, list] of Object.entries(edits) as [DatasetName, [string, string | null][]][]) {
    let text = (await quirkText(name)).toString('utf8')
    for (const [from, to] of list) {
      assert.ok(text.includes(from), `${name} has ${JSON.stringify(from)}`)
      text = text.replace(from, to ?? '')
    }
    replace[name] = text
  }
  await writeQuirks(dir, { replace })
}

describe('refresh of files with quirks (duplicates, bad lines, CRLF, 8-digit ids, dangling ids)', () => {
  it('gives the database a full ingest of the new files gives', async () => {
    const dir = join(root, 'quirks')
    await mkdir(join(dir, 'a'), { recursive: true })
    await writeQuirks(join(dir, 'a'))
    await quirksWith(join(dir, 'b'), {
      'name.basics': [
        ['Fred "The Feet" Astaire', 'Fred Astaire'],
        ['nm0000002\tAudrey Tautou\t1976\t\\N\tactress\ttt0211915\r\n', null],
        ['nm10000001\t', 'nm0000004\tNew Person\t1980\t\\N\tactor\ttt0000004\nnm10000001\t'],
      ],
      'title.basics': [
        [
          'tt0000006\tmovie\tBad\tline has\t0\t1999\t\\N\t90\tDrama\tEXTRA',
          'tt0000006\tmovie\tGood\tnow\t0\t1999\t\\N\t90\tDrama',
        ],
        ['\tComedy,Romance\n', '\tRomance,War\n'],
        ['tt0000007\tmovie\tUnrated\tUnrated\t0\t1999\t\\N\t90\tComedy\r\n', null],
      ],
      'title.akas': [
        ['tt0211915\t3\tAmélie\tDE', 'tt0211915\t3\tAmelie Zwei\tDE'],
        ['tt0999999\t1\t', 'tt0211915\t5\tAmélie aus Montmartre\tDE\tde\t\\N\t\\N\t0\ntt0999999\t1\t'],
      ],
      'title.principals': [
        ['tt0211915\t4\tnm0000002\tactress\n', 'tt0211915\t4\tnm0000002\tactress\t\\N\t\\N\n'],
        ['tt0211915\t2\t', 'tt0211915\t6\t'],
      ],
      'title.ratings': [
        ['tt0000001\t5.7\t2100', 'tt0000001\t5.9\t2500'],
        ['tt0000004\t6\t120\n', null],
      ],
      'title.crew': [['tt0211915\tnm0000002,nm0000001', 'tt0211915\tnm0000001']],
      'title.episode': [['tt10000003\ttt10000001\t\\N\t\\N', 'tt10000003\ttt10000001\t2\t\\N']],
    })
    const db = join(dir, 'served', 'marquee.db')
    const built = await update({ dbPath: db, dataDir: join(dir, 'a'), full: true })
    assert.equal(built.mode, 'full')
    assert.match(built.reason!, /--full/)
    const s = await update({ dbPath: db, dataDir: join(dir, 'b') })
    assert.equal(s.mode, 'incremental', s.reason ?? '')
    await ingest({ dataDir: join(dir, 'b'), dbPath: join(dir, 'full.db') })
    assertSameDatabase(db, join(dir, 'full.db'))
    const counts = Object.fromEntries(s.files.map((f) => [f.dataset, [f.inserted, f.changed, f.deleted]]))
    assert.deepEqual(counts['title.basics'], [1, 1, 1])
    assert.deepEqual(counts['title.ratings'], [0, 1, 1])
  })

  it('applies a change that only updates values in place (one rating: titles and popularity)', async () => {
    const dir = join(root, 'quirks')
    await quirksWith(join(dir, 'c'), {
      'title.ratings': [['tt0211915\t8.3\t800000', 'tt0211915\t8.4\t800100']],
    })
    const db = join(dir, 'served', 'marquee.db')
    await update({ dbPath: db, dataDir: join(dir, 'a') })
    const s = await update({ dbPath: db, dataDir: join(dir, 'c') })
    assert.equal(s.mode, 'incremental', s.reason ?? '')
    assert.deepEqual(
      s.files.filter((f) => f.inserted + f.changed + f.deleted > 0).map((f) => [f.dataset, f.changed]),
      [['title.ratings', 1]],
    )
    await ingest({ dataDir: join(dir, 'c'), dbPath: join(dir, 'full-c.db') })
    assertSameDatabase(db, join(dir, 'full-c.db'))
  })

  it('falls back to a full rebuild, saying why, when a file is not in IMDb order', async () => {
    const dir = join(root, 'quirks')
    const unsorted = join(dir, 'unsorted')
    await mkdir(unsorted, { recursive: true })
    const basics = (await quirkText('title.basics')).toString('utf8').split('\n')
    // tt0000004 after tt0211915: numerically fine, but not in text order either.
    const moved = basics.splice(3, 1)
    basics.splice(6, 0, ...moved)
    await writeQuirks(unsorted, { replace: { 'title.basics': basics.join('\n') } })
    const db = join(dir, 'served', 'marquee.db')
    const events: UpdateProgress[] = []
    const s = await update({ dbPath: db, dataDir: unsorted, onProgress: (e) => events.push(e) })
    assert.equal(s.mode, 'full')
    assert.match(s.reason!, /not sorted/)
    assert.ok(events.some((e) => e.type === 'full' && /tt0000004/.test(e.reason)))
    assert.equal(readBase(db)!.generation, s.generation)
  })
})

describe('GroupCursor', () => {
  async function groups(dataset: DatasetName, body: string): Promise<string[]> {
    const file = join(root, `${dataset}-${Math.random()}.tsv.gz`)
    const header = datasetSpec(dataset)
      .columns.map((c) => c.name)
      .join('\t')
    await import('node:fs/promises').then((fs) => fs.writeFile(file, gzipSync(`${header}\n${body}`)))
    const c = await GroupCursor.open(file, dataset)
    const out: string[] = []
    try {
      for (;;) {
        const p = c.peek()
        if (p === Peek.NeedData) await c.fill()
        else if (p === Peek.End) break
        else {
          out.push(c.buf.toString('utf8', c.start, c.end))
          c.consume()
        }
      }
    } finally {
      c.destroy()
    }
    return out
  }

  it("accepts IMDb's text order and groups lines by id", async () => {
    const g = await groups(
      'title.akas',
      'tt0999999\t1\tx\t\\N\t\\N\t\\N\t\\N\t0\ntt10000001\t1\ty\t\\N\t\\N\t\\N\t\\N\t0\ntt10000001\t2\tz\t\\N\t\\N\t\\N\t\\N\t0\ntt1000001\t1\tw\t\\N\t\\N\t\\N\t\\N\t0',
    )
    assert.equal(g.length, 3)
    assert.ok(g[1].startsWith('tt10000001\t1') && g[1].includes('tt10000001\t2'))
  })

  it('rejects numeric order and ids written in another way', async () => {
    await assert.rejects(
      groups('title.ratings', 'tt1000001\t1\t1\ntt10000001\t1\t1\n'),
      (err) => err instanceof NotSortedError && /tt10000001 comes after tt1000001/.test(err.message),
    )
    await assert.rejects(groups('title.ratings', 'tt000001\t1\t1\n'), NotSortedError)
  })
})

describe('kept sources', () => {
  it('are the files of the data directory when they are still those the manifest names', async () => {
    const dir = join(root, 'adopt')
    await mkdir(dir, { recursive: true })
    const db = join(dir, 'marquee.db')
    // Built by \`marquee ingest\` (from A's files, untouched since), which keeps nothing: the first
    // refresh adopts the data files.
    await copyFile(a.db, db)
    const s = await update({ dbPath: db, dataDir: b.data })
    assert.equal(s.mode, 'incremental', s.reason ?? '')
    const kept = JSON.parse(await readFile(join(generationsDir(db), s.generation, 'source.json'), 'utf8'))
    assert.equal(kept.generation, s.generation)
    assert.equal(kept.files.length, 7)
    assert.equal(kept.sorted, true)
  })
})
