import assert from 'node:assert/strict'
import { existsSync, readdirSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { inspect } from 'node:util'
import { gzipSync } from 'node:zlib'
import { DatasetError } from '../../src/datasets/reader.js'
import Database from '../../src/db/sqlite/driver.js'
import { SECONDARY_INDEXES } from '../../src/db/sqlite/schema.js'
import { IngestError, type IngestProgress, type IngestSummary, ingest } from '../../src/ingest/index.js'
import { quirkText, tempDir, writeQuirks } from '../fixtures/quirks.js'

let root: string
let cleanup: () => Promise<void>
/** The quirks fixture, ingested once; most tests read this database. */
let dataDir: string
let dbPath: string
let summary: IngestSummary
let events: IngestProgress[]
let db: Database

before(async () => {
  ;({ dir: root, cleanup } = await tempDir())
  dataDir = join(root, 'data')
  await import('node:fs/promises').then((fs) => fs.mkdir(dataDir))
  await writeQuirks(dataDir)
  dbPath = join(root, 'db', 'marquee.db')
  events = []
  summary = await ingest({ dataDir, dbPath, onProgress: (e) => events.push(e) })
  db = new Database(dbPath, { readonly: true })
})
after(async () => {
  db?.close()
  await cleanup()
})

const one = (sql: string, ...args: unknown[]) => db.prepare(sql).get(...args) as Record<string, unknown>
const rows = (sql: string, ...args: unknown[]) => db.prepare(sql).all(...args) as Record<string, unknown>[]
const fileOf = (s: IngestSummary, dataset: string) => s.files.find((f) => f.dataset === dataset)!

/** Leftover build files next to a database. */
const leftovers = (path: string) =>
  readdirSync(join(path, '..')).filter((f) => f.includes('.building-') || f.endsWith('-journal'))

describe('ingest', () => {
  it('stores typed values and real NULLs exactly: quotes, backslashes, emoji, non-Latin text', () => {
    assert.deepEqual(one('SELECT * FROM titles WHERE id = 3'), {
      id: 3,
      title_type: 'movie',
      primary_title: 'The "Quoted" Title',
      original_title: null,
      is_adult: 0,
      start_year: null,
      end_year: null,
      runtime_minutes: null,
      genres: null,
      average_rating: 10,
      num_votes: 7,
    })
    assert.equal(one('SELECT primary_title FROM titles WHERE id = 4').primary_title, 'Back\\slash \\n path')
    assert.deepEqual(one('SELECT primary_title, typeof(start_year) AS t FROM titles WHERE id = 10000001'), {
      primary_title: '東京物語 🎬',
      t: 'integer',
    })
    assert.equal(one('SELECT primary_name FROM names WHERE id = 1').primary_name, 'Fred "The Feet" Astaire')
    assert.equal(one('SELECT primary_name FROM names WHERE id = 3').primary_name, 'Ólafur Arnalds ✨')
  })

  it('keeps \\x02 lists and JSON characters as shipped', () => {
    assert.equal(
      one('SELECT types FROM akas WHERE title_id = 1 AND ordering = 2').types,
      'imdbDisplay\x02working',
    )
    assert.equal(
      one('SELECT attributes FROM akas WHERE title_id = 211915 AND ordering = 2').attributes,
      'literal English title\x02complete title',
    )
    const p = one('SELECT characters, job FROM principals WHERE title_id = 211915 AND ordering = 2')
    assert.equal(p.characters, '["The \\"Dancer\\"","Narrator \\\\ Voice"]')
    assert.deepEqual(JSON.parse(p.characters as string), ['The "Dancer"', 'Narrator \\ Voice'])
    assert.equal(
      one('SELECT job FROM principals WHERE title_id = 211915 AND ordering = 3').job,
      'music by "Yann"',
    )
  })

  it('merges ratings into titles: 0 votes and NULL rating when unrated', () => {
    assert.deepEqual(one('SELECT average_rating, num_votes FROM titles WHERE id = 211915'), {
      average_rating: 8.3,
      num_votes: 800000,
    })
    assert.deepEqual(one('SELECT average_rating, num_votes FROM titles WHERE id = 7'), {
      average_rating: null,
      num_votes: 0,
    })
  })

  it('normalises genres, professions and crew lists', () => {
    assert.deepEqual(
      rows('SELECT genre FROM title_genres WHERE title_id = 211915 ORDER BY genre').map((r) => r.genre),
      ['Comedy', 'Romance'],
    )
    assert.deepEqual(
      rows('SELECT profession FROM name_professions WHERE name_id = 1 ORDER BY profession').map(
        (r) => r.profession,
      ),
      ['actor', 'miscellaneous', 'producer'],
    )
    assert.deepEqual(
      rows('SELECT role, ordering, name_id FROM crew WHERE title_id = 211915 ORDER BY role, ordering'),
      [
        { role: 'director', ordering: 1, name_id: 2 },
        { role: 'director', ordering: 2, name_id: 1 },
        { role: 'writer', ordering: 1, name_id: 3 },
        { role: 'writer', ordering: 2, name_id: 9 },
        { role: 'writer', ordering: 3, name_id: 10000001 },
      ],
    )
    assert.deepEqual(one('SELECT parent_id, season_number FROM episodes WHERE id = 10000003'), {
      parent_id: 10000001,
      season_number: null,
    })
  })

  it('computes popularity as the votes of the known-for titles', () => {
    // tt0211915 (800000) + tt0000001 (2100) + tt0000003 (7)
    assert.equal(one('SELECT popularity FROM names WHERE id = 1').popularity, 802107)
    assert.equal(one('SELECT popularity FROM names WHERE id = 3').popularity, 0)
  })

  it('fills the full-text tables: amelie finds Amélie, akas and names included', () => {
    const ids = (sql: string) => rows(sql).map((r) => r.rowid)
    assert.deepEqual(ids(`SELECT rowid FROM titles_fts WHERE titles_fts MATCH 'amelie'`), [211915])
    assert.deepEqual(ids(`SELECT rowid FROM titles_fts WHERE titles_fts MATCH 'akas : fabelhafte'`), [211915])
    assert.deepEqual(ids(`SELECT rowid FROM titles_fts WHERE titles_fts MATCH 'карменсита'`), [1])
    assert.deepEqual(ids(`SELECT rowid FROM names_fts WHERE names_fts MATCH 'olafur'`), [3])
    assert.deepEqual(ids(`SELECT rowid FROM names_fts WHERE names_fts MATCH 'tau*'`), [2])
  })

  it('counts skipped lines, duplicates and dangling references per file', () => {
    assert.equal(fileOf(summary, 'title.basics').skipped, 1)
    assert.equal(fileOf(summary, 'title.basics').kept, 7)
    assert.equal(fileOf(summary, 'title.principals').skipped, 1)
    assert.equal(fileOf(summary, 'name.basics').duplicates, 1)
    assert.equal(fileOf(summary, 'name.basics').kept, 4)
    assert.equal(one('SELECT count(*) AS n FROM names WHERE id = 2').n, 1)
    // nm0000009 is credited but missing from name.basics: the row is kept and counted.
    assert.equal(fileOf(summary, 'title.principals').dangling, 1)
    assert.equal(one('SELECT name_id FROM principals WHERE title_id = 211915 AND ordering = 3').name_id, 9)
    assert.equal(fileOf(summary, 'title.crew').dangling, 1)
    assert.equal(fileOf(summary, 'title.akas').dangling, 1)
    assert.equal(fileOf(summary, 'title.episode').dangling, 1)
    assert.equal(fileOf(summary, 'title.ratings').dangling, 1)
    // Files load in parallel: compare in a fixed order.
    assert.deepEqual(
      events.filter((e) => e.type === 'bad-line').sort((a, b) => (a.dataset < b.dataset ? -1 : 1)),
      [
        {
          type: 'bad-line',
          dataset: 'title.basics',
          file: join(dataDir, 'title.basics.tsv.gz'),
          line: 5,
          reason: 'expected 9 fields, found 10',
        },
        {
          type: 'bad-line',
          dataset: 'title.principals',
          file: join(dataDir, 'title.principals.tsv.gz'),
          line: 6,
          reason: 'expected 6 fields, found 4',
        },
      ],
    )
  })

  it('stores the manifest, generation, schema version and a cursor secret in meta', () => {
    const meta = Object.fromEntries(rows('SELECT key, value FROM meta').map((r) => [r.key, r.value]))
    assert.equal(meta.schema_version, '1')
    assert.equal(meta.generation, summary.generation)
    assert.equal(Buffer.from(meta.cursor_secret as string, 'base64url').length, 32)
    const manifest = JSON.parse(meta.manifest as string) as IngestSummary
    assert.deepEqual(manifest.files, summary.files)
    assert.equal(manifest.files.length, 7)
    assert.equal(fileOf(manifest, 'title.akas').size > 0, true)
    assert.equal(manifest.tables.principals.rows, 5)
    assert.ok((manifest.tables.principals.bytes ?? 0) > 0)
    assert.ok(manifest.durationMs >= 0)
    assert.deepEqual(manifest.notLoaded, [])
  })

  it('builds the secondary indexes and leaves a sound, unjournaled file and no temp file', () => {
    const names = new Set(rows(`SELECT name FROM sqlite_schema WHERE type = 'index'`).map((r) => r.name))
    for (const sql of SECONDARY_INDEXES) assert.ok(names.has(/CREATE INDEX (\w+)/.exec(sql)![1]), sql)
    assert.equal(one('PRAGMA integrity_check').integrity_check, 'ok')
    assert.equal(one('PRAGMA journal_mode').journal_mode, 'delete')
    assert.ok(rows('SELECT * FROM sqlite_stat1').length > 0)
    assert.deepEqual(leftovers(dbPath), [])
  })

  it('reports per-file progress with compressed bytes', () => {
    const done = events.filter((e) => e.type === 'file' && e.done)
    assert.equal(done.length, 7)
    for (const e of done) if (e.type === 'file') assert.equal(e.bytesRead, e.bytesTotal)
    assert.ok(events.some((e) => e.type === 'phase' && e.phase === 'fts'))
  })
})

/** What `promise` rejected with (fails if it resolved): printed whole when an assertion on it fails. */
async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (err) {
    return err
  }
  assert.fail('expected a rejection')
}

describe('ingest failures', () => {
  /** A second data directory and a database built from the good fixture, to be kept intact. */
  async function withExisting(
    fn: (a: { dir: string; db: string; before: Buffer; generation: string }) => Promise<void>,
  ): Promise<void> {
    const t = await tempDir()
    try {
      const db = join(t.dir, 'marquee.db')
      const s = await ingest({ dataDir, dbPath: db, only: ['title.ratings'] })
      await fn({ dir: t.dir, db, before: await readFile(db), generation: s.generation })
    } finally {
      await t.cleanup()
    }
  }

  async function assertUntouched(db: string, before: Buffer, generation: string): Promise<void> {
    assert.ok((await readFile(db)).equals(before), 'the previous database is byte-identical')
    const conn = new Database(db, { readonly: true })
    try {
      assert.equal(
        (conn.prepare(`SELECT value FROM meta WHERE key = 'generation'`).get() as { value: string }).value,
        generation,
      )
    } finally {
      conn.close()
    }
    assert.deepEqual(leftovers(db), [])
  }

  it('fails on a truncated gzip naming the file, and leaves the existing database untouched', async () => {
    await withExisting(async ({ dir, db, before, generation }) => {
      const gz = gzipSync(await quirkText('title.principals'))
      await writeQuirks(dir, { raw: { 'title.principals': gz.subarray(0, gz.length - 30) } })
      const err = await failureOf(ingest({ dataDir: dir, dbPath: db }))
      assert.ok(err instanceof DatasetError, inspect(err))
      assert.equal(err.code, 'DATASET_CORRUPT')
      assert.ok(err.message.includes(join(dir, 'title.principals.tsv.gz')), err.message)
      await assertUntouched(db, before, generation)
    })
  })

  it('fails on a wrong header naming the file, and leaves the existing database untouched', async () => {
    await withExisting(async ({ dir, db, before, generation }) => {
      const text = (await quirkText('title.akas')).toString().replace('isOriginalTitle', 'original')
      await writeQuirks(dir, { replace: { 'title.akas': text } })
      const err = await failureOf(ingest({ dataDir: dir, dbPath: db }))
      assert.ok(err instanceof DatasetError, inspect(err))
      assert.equal(err.code, 'DATASET_HEADER_MISMATCH')
      assert.ok(err.message.includes(join(dir, 'title.akas.tsv.gz')), err.message)
      await assertUntouched(db, before, generation)
    })
  })

  it('makes a bad line fatal with strict, naming file and line', async () => {
    await withExisting(async ({ dir, db, before, generation }) => {
      // Only title.basics keeps its bad line, so the failure is deterministic with parallel files.
      const principals = (await quirkText('title.principals'))
        .toString()
        .replace(/\ntt0211915\t4\t[^\n]*/, '')
      await writeQuirks(dir, { replace: { 'title.principals': principals } })
      const err = await failureOf(ingest({ dataDir: dir, dbPath: db, strict: true }))
      assert.ok(err instanceof DatasetError, inspect(err))
      assert.equal(err.code, 'DATASET_BAD_LINE')
      assert.match(err.message, /title\.basics\.tsv\.gz:5: expected 9 fields, found 10/)
      await assertUntouched(db, before, generation)
    })
  })

  it('fails before building anything when a file is missing', async () => {
    const t = await tempDir()
    try {
      const err = await failureOf(ingest({ dataDir: t.dir, dbPath: join(t.dir, 'x.db') }))
      assert.ok(err instanceof DatasetError, inspect(err))
      assert.equal(err.code, 'DATASET_MISSING')
      assert.deepEqual(readdirSync(t.dir), [])
    } finally {
      await t.cleanup()
    }
  })

  it('stops when aborted, deletes its temp file and keeps the existing database', async () => {
    await withExisting(async ({ dir, db, before, generation }) => {
      await writeQuirks(dir)
      const ac = new AbortController()
      const p = ingest({
        dataDir: dir,
        dbPath: db,
        signal: ac.signal,
        onProgress: (e) => {
          if (e.type === 'file') ac.abort()
        },
      })
      await assert.rejects(p, (err: unknown) => {
        assert.ok(err instanceof IngestError)
        assert.equal(err.code, 'INGEST_ABORTED')
        return true
      })
      await assertUntouched(db, before, generation)
    })
  })

  it('rejects unknown dataset names in only', async () => {
    await assert.rejects(ingest({ dataDir, dbPath: join(root, 'x.db'), only: ['title.nope' as never] }), {
      code: 'INGEST_BAD_OPTIONS',
    })
  })
})

describe('ingest with only', () => {
  let t: { dir: string; cleanup: () => Promise<void> }
  after(() => t?.cleanup())

  it('loads the subset, creates the other tables empty and records what was loaded', async () => {
    t = await tempDir()
    const path = join(t.dir, 'subset.db')
    const s = await ingest({ dataDir, dbPath: path, only: ['name.basics', 'title.principals'] })
    assert.deepEqual(s.loaded, ['name.basics', 'title.principals'])
    assert.deepEqual(s.notLoaded, [
      'title.basics',
      'title.akas',
      'title.crew',
      'title.episode',
      'title.ratings',
    ])
    const conn = new Database(path, { readonly: true })
    try {
      const count = (table: string) =>
        (conn.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n
      assert.equal(count('names'), 4)
      assert.equal(count('principals'), 5)
      assert.equal(count('titles'), 0)
      assert.equal(count('akas'), 0)
      assert.equal(count('titles_fts'), 0)
      // Without title.ratings nobody has popularity; without title.basics title refs are not checked.
      assert.equal((conn.prepare('SELECT max(popularity) AS p FROM names').get() as { p: number }).p, 0)
      assert.equal(s.files.find((f) => f.dataset === 'title.principals')!.dangling, 1)
      const manifest = JSON.parse(
        (conn.prepare(`SELECT value FROM meta WHERE key = 'manifest'`).get() as { value: string }).value,
      ) as IngestSummary
      assert.deepEqual(manifest.loaded, ['name.basics', 'title.principals'])
    } finally {
      conn.close()
    }
    assert.ok(existsSync(path))
  })
})
