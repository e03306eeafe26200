import assert from 'node:assert/strict'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { gzipSync } from 'node:zlib'
import type pg from 'pg'
import { DatasetError } from '../../src/datasets/reader.js'
import { currentGeneration, generationSchemas } from '../../src/db/postgres/generations.js'
import { ident, SECONDARY_INDEXES, TABLES } from '../../src/db/postgres/schema.js'
import Database from '../../src/db/sqlite/driver.js'
import { IngestError, type IngestProgress, type IngestSummary, ingest } from '../../src/ingest/index.js'
import { ingestPostgres } from '../../src/ingest/postgres/index.js'
import { quirkText, tempDir, writeQuirks } from '../fixtures/quirks.js'
import {
  dropPrefix,
  postgresAvailable,
  TEST_DATABASE_URL,
  testClient,
  uniquePrefix,
} from '../helpers/postgres.js'

const available = await postgresAvailable()

/** Every table of the dataset with the order that makes its rows comparable. */
const COMPARED: Record<string, string> = {
  titles: 'id',
  title_genres: 'genre, title_id',
  akas: 'title_id, ordering',
  crew: 'title_id, role, ordering',
  episodes: 'id',
  principals: 'title_id, ordering',
  names: 'id',
  name_professions: 'profession, name_id',
}

describe('PostgreSQL ingest', { skip: !available }, () => {
  const prefix = uniquePrefix('ingest')
  let root: string
  let cleanup: () => Promise<void>
  let dataDir: string
  let summary: IngestSummary
  let sqliteSummary: IngestSummary
  let events: IngestProgress[]
  let client: pg.Client
  let schema: string
  let sqlite: Database

  const q = async (sql: string, values?: unknown[]) => (await client.query(sql, values)).rows
  const fileOf = (s: IngestSummary, dataset: string) => s.files.find((f) => f.dataset === dataset)!

  before(async () => {
    ;({ dir: root, cleanup } = await tempDir('marquee-pg-ingest-'))
    dataDir = join(root, 'data')
    await mkdir(dataDir)
    await writeQuirks(dataDir)
    events = []
    ;[summary, sqliteSummary] = await Promise.all([
      ingestPostgres({
        dataDir,
        databaseUrl: TEST_DATABASE_URL,
        schemaPrefix: prefix,
        onProgress: (e) => events.push(e),
      }),
      ingest({ dataDir, dbPath: join(root, 'sqlite.db') }),
    ])
    sqlite = new Database(join(root, 'sqlite.db'), { readonly: true })
    client = await testClient()
    schema = (await currentGeneration(client, prefix))!.schema
    await client.query(`SET search_path = ${ident(schema)}`)
  })

  after(async () => {
    sqlite?.close()
    await client?.end()
    await dropPrefix(prefix)
    await cleanup()
  })

  it('stores exactly the rows SQLite stores: typed values, NULLs, quotes, backslashes, emoji', async () => {
    for (const [table, order] of Object.entries(COMPARED)) {
      const expected = sqlite.prepare(`SELECT * FROM ${table} ORDER BY ${order}`).all()
      assert.deepEqual(await q(`SELECT * FROM ${table} ORDER BY ${order}`), expected, table)
    }
    // The awkward values, spelled out.
    const [backslash] = await q('SELECT primary_title FROM titles WHERE id = 4')
    assert.equal(backslash.primary_title, 'Back\\slash \\n path')
    const [quoted] = await q('SELECT * FROM titles WHERE id = 3')
    assert.equal(quoted.primary_title, 'The "Quoted" Title')
    assert.equal(quoted.original_title, null)
    assert.equal(quoted.average_rating, 10)
    const [tokyo] = await q(
      'SELECT primary_title, pg_typeof(start_year)::text AS t FROM titles WHERE id = 10000001',
    )
    assert.deepEqual(tokyo, { primary_title: '東京物語 🎬', t: 'integer' })
    const [p] = await q('SELECT characters FROM principals WHERE title_id = 211915 AND ordering = 2')
    assert.deepEqual(JSON.parse(p.characters), ['The "Dancer"', 'Narrator \\ Voice'])
    const [aka] = await q('SELECT types FROM akas WHERE title_id = 1 AND ordering = 2')
    assert.equal(aka.types, 'imdbDisplay\x02working')
  })

  it('counts lines, skips, duplicates and dangling references as the SQLite ingest does', () => {
    const strip = (s: IngestSummary) =>
      s.files.map(({ ms: _ms, ...f }) => f).sort((a, b) => a.dataset.localeCompare(b.dataset))
    assert.deepEqual(strip(summary), strip(sqliteSummary))
    assert.deepEqual(summary.loaded, sqliteSummary.loaded)
    assert.equal(fileOf(summary, 'name.basics').duplicates, 1)
    assert.equal(fileOf(summary, 'title.principals').dangling, 1)
    for (const table of Object.keys(COMPARED)) {
      assert.equal(summary.tables[table].rows, sqliteSummary.tables[table].rows, table)
      assert.ok((summary.tables[table].bytes ?? 0) > 0, table)
    }
    const bad = events
      .filter((e) => e.type === 'bad-line')
      .map((e) => e.type === 'bad-line' && [e.dataset, e.line])
    assert.deepEqual(bad.sort(), [
      ['title.basics', 5],
      ['title.principals', 6],
    ])
    const done = events.filter((e) => e.type === 'file' && e.done)
    assert.equal(done.length, 7)
  })

  it('indexes words folded like the queries: amelie finds Amélie, akas and non-Latin included', async () => {
    const ids = async (table: string, query: string) =>
      (await q(`SELECT id FROM ${table} WHERE doc @@ $1::tsquery ORDER BY id`, [query])).map((r) => r.id)
    assert.deepEqual(await ids('titles_fts', 'amelie'), [211915])
    assert.deepEqual(await ids('titles_fts', 'fabelhafte'), [211915])
    assert.deepEqual(await ids('titles_fts', 'карменсита'), [1])
    assert.deepEqual(await ids('names_fts', 'olafur'), [3])
    assert.deepEqual(await ids('names_fts', 'tau:*'), [2])
    // Weights: primary title A, original B, alternate titles C.
    const [doc] = await q(`SELECT doc::text AS doc FROM titles_fts WHERE id = 211915`)
    assert.match(doc.doc, /'amelie':\d+A/)
    assert.match(doc.doc, /'fabelhafte':\d+C/)
    const vocab = (await q(`SELECT term FROM titles_vocab WHERE term IN ('amelie', 'fabelhafte')`)).map(
      (r) => r.term,
    )
    assert.deepEqual(vocab.sort(), ['amelie', 'fabelhafte'])
    // Each vocabulary is every word of its documents, and none of their prefix lexemes ('^am').
    for (const [vocabulary, fts] of [
      ['titles_vocab', 'titles_fts'],
      ['names_vocab', 'names_fts'],
    ]) {
      const terms = (await q(`SELECT term FROM ${vocabulary} ORDER BY term COLLATE "C"`)).map((r) => r.term)
      const words = (
        await q(
          `SELECT word FROM ts_stat('SELECT doc FROM ${fts}') WHERE left(word, 1) <> '^' ORDER BY word COLLATE "C"`,
        )
      ).map((r) => r.word)
      assert.ok(words.length > 0)
      assert.deepEqual(terms, words, vocabulary)
    }
  })

  it('stores the manifest, generation and schema version in meta, and swaps the pointer to it', async () => {
    const meta = Object.fromEntries((await q('SELECT key, value FROM meta')).map((r) => [r.key, r.value]))
    assert.equal(meta.schema_version, '1')
    assert.equal(meta.generation, summary.generation)
    assert.deepEqual(JSON.parse(meta.manifest).files, summary.files)
    const current = await currentGeneration(client, prefix)
    assert.equal(current?.generation, summary.generation)
    assert.deepEqual(await generationSchemas(client, prefix), [schema])
  })

  it('builds primary keys, secondary and GIN indexes and statistics, and drops the staging tables', async () => {
    const indexes = new Set(
      (await q('SELECT indexname FROM pg_indexes WHERE schemaname = $1', [schema])).map((r) => r.indexname),
    )
    for (const t of TABLES) assert.ok(indexes.has(`${t.name}_pkey`), t.name)
    for (const list of Object.values(SECONDARY_INDEXES)) {
      for (const sql of list) assert.ok(indexes.has(/CREATE INDEX (\w+)/.exec(sql)![1]), sql)
    }
    const keys = await q(
      `SELECT conrelid::regclass::text AS t FROM pg_constraint WHERE contype = 'p' AND connamespace = $1::regnamespace`,
      [schema],
    )
    assert.equal(keys.length, TABLES.length)
    const analyzed = await q(
      `SELECT relname FROM pg_stat_user_tables WHERE schemaname = $1 AND coalesce(last_analyze, last_autoanalyze) IS NOT NULL`,
      [schema],
    )
    assert.ok(analyzed.some((r) => r.relname === 'principals'))
    const tables = (await q('SELECT tablename FROM pg_tables WHERE schemaname = $1', [schema])).map(
      (r) => r.tablename,
    )
    assert.deepEqual(tables.sort(), TABLES.map((t) => t.name).sort())
  })

  it('stores what SQLite stores from unsorted files: repeats apart, a title split in two runs', async () => {
    const other = uniquePrefix('unsorted')
    const dir = join(root, 'unsorted')
    await mkdir(dir)
    const lines = async (name: Parameters<typeof quirkText>[0]) =>
      (await quirkText(name)).toString().split('\n')
    const names = await lines('name.basics')
    const akas = await lines('title.akas')
    const basics = await lines('title.basics')
    // A name repeated far from its first line, an alternate title of tt0211915 after another
    // title's, and a title repeated at the end with another type.
    names.splice(names.length - 1, 0, names[1].replace('Astaire', 'Astaire (repeat)'))
    const moved = akas.splice(4, 1)[0]
    akas.splice(akas.length - 1, 0, moved)
    basics.splice(basics.length - 1, 0, basics[1].replace('short', 'movie'))
    await writeQuirks(dir, {
      replace: {
        'name.basics': names.join('\n'),
        'title.akas': akas.join('\n'),
        'title.basics': basics.join('\n'),
      },
    })
    try {
      const [pgSummary, liteSummary] = await Promise.all([
        ingestPostgres({ dataDir: dir, databaseUrl: TEST_DATABASE_URL, schemaPrefix: other }),
        ingest({ dataDir: dir, dbPath: join(root, 'unsorted.db') }),
      ])
      const lite = new Database(join(root, 'unsorted.db'), { readonly: true })
      const c = await testClient()
      try {
        await c.query(`SET search_path = ${ident((await currentGeneration(c, other))!.schema)}`)
        for (const [table, order] of Object.entries(COMPARED)) {
          const expected = lite.prepare(`SELECT * FROM ${table} ORDER BY ${order}`).all()
          assert.deepEqual((await c.query(`SELECT * FROM ${table} ORDER BY ${order}`)).rows, expected, table)
        }
        const strip = (s: IngestSummary) =>
          s.files.map(({ ms: _ms, ...f }) => f).sort((a, b) => a.dataset.localeCompare(b.dataset))
        assert.deepEqual(strip(pgSummary), strip(liteSummary))
        // Both runs of tt0211915's alternate titles are in its document.
        const { rows } = await c.query(
          `SELECT id FROM titles_fts WHERE doc @@ 'fabelhafte'::tsquery AND doc @@ 'destiny'::tsquery`,
        )
        assert.deepEqual(rows, [{ id: 211915 }])
      } finally {
        lite.close()
        await c.end()
      }
    } finally {
      await dropPrefix(other)
    }
  })

  describe('failures', () => {
    /** Asserts the served generation is still `summary`'s and no other schema is left. */
    async function assertUntouched(): Promise<void> {
      const current = await currentGeneration(client, prefix)
      assert.equal(current?.generation, summary.generation)
      assert.deepEqual(await generationSchemas(client, prefix), [schema])
      const [row] = await q('SELECT count(*)::int AS n FROM titles')
      assert.equal(row.n, 7)
    }

    async function otherDir(opts: Parameters<typeof writeQuirks>[1] = {}) {
      const dir = join(root, `data-${Math.random().toString(36).slice(2)}`)
      await mkdir(dir)
      await writeQuirks(dir, opts)
      return dir
    }

    it('fails on a truncated gzip naming the file, drops its schema and keeps serving the old one', async () => {
      const gz = gzipSync(await quirkText('title.principals'))
      const dir = await otherDir({ raw: { 'title.principals': gz.subarray(0, gz.length - 30) } })
      await assert.rejects(
        ingestPostgres({ dataDir: dir, databaseUrl: TEST_DATABASE_URL, schemaPrefix: prefix }),
        (err: unknown) => {
          assert.ok(err instanceof DatasetError)
          assert.equal(err.code, 'DATASET_CORRUPT')
          assert.ok(err.message.includes(join(dir, 'title.principals.tsv.gz')), err.message)
          return true
        },
      )
      await assertUntouched()
    })

    it('makes a bad line fatal with strict', async () => {
      const principals = (await quirkText('title.principals'))
        .toString()
        .replace(/\ntt0211915\t4\t[^\n]*/, '')
      const dir = await otherDir({ replace: { 'title.principals': principals } })
      await assert.rejects(
        ingestPostgres({ dataDir: dir, databaseUrl: TEST_DATABASE_URL, schemaPrefix: prefix, strict: true }),
        (err: unknown) => {
          assert.ok(err instanceof DatasetError)
          assert.equal(err.code, 'DATASET_BAD_LINE')
          assert.match(err.message, /title\.basics\.tsv\.gz:5: expected 9 fields, found 10/)
          return true
        },
      )
      await assertUntouched()
    })

    it('stops when aborted and drops its schema', async () => {
      const ac = new AbortController()
      const p = ingestPostgres({
        dataDir,
        databaseUrl: TEST_DATABASE_URL,
        schemaPrefix: prefix,
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
      await assertUntouched()
    })

    it('refuses to run beside another ingest of the same prefix', async () => {
      const holder = await testClient()
      try {
        await holder.query(`SELECT pg_advisory_lock($1, hashtext($2))`, [0x6d617271, prefix])
        await assert.rejects(
          ingestPostgres({ dataDir, databaseUrl: TEST_DATABASE_URL, schemaPrefix: prefix }),
          (err: unknown) => err instanceof IngestError && /another ingest/.test(err.message),
        )
      } finally {
        await holder.end()
      }
      await assertUntouched()
    })
  })

  it('swaps atomically: a reader in a loop sees the old or the new generation, never a mix or an error', async () => {
    const reader = await testClient()
    const seen = new Map<string, string>()
    let ingesting = true
    let errors = 0
    const loop = (async () => {
      let after = 0
      while (ingesting || after++ < 3) {
        try {
          const { rows } = await reader.query(`SELECT schema FROM ${ident(prefix)}.current`)
          const s = ident(rows[0].schema)
          const { rows: r } = await reader.query(
            `SELECT (SELECT value FROM ${s}.meta WHERE key = 'generation') AS g,
                    (SELECT count(*) FROM ${s}.titles)::int AS titles,
                    (SELECT count(*) FROM ${s}.principals)::int AS principals,
                    (SELECT count(*) FROM ${s}.titles_fts WHERE doc @@ 'amelie'::tsquery)::int AS fts`,
          )
          seen.set(r[0].g, JSON.stringify([r[0].titles, r[0].principals, r[0].fts]))
        } catch {
          errors++
        }
      }
    })()
    try {
      // The new generation holds only title.basics: its counts differ from the old one's.
      const next = await ingestPostgres({
        dataDir,
        databaseUrl: TEST_DATABASE_URL,
        schemaPrefix: prefix,
        only: ['title.basics'],
      })
      ingesting = false
      await loop
      assert.equal(errors, 0)
      assert.deepEqual(
        [...seen.entries()].sort(),
        [
          [summary.generation, JSON.stringify([7, 5, 1])],
          [next.generation, JSON.stringify([7, 0, 1])],
        ].sort(),
      )
      // The old generation stays (requests in flight may use it) until the next swap.
      const current = await currentGeneration(reader, prefix)
      assert.equal(current?.previousSchema, schema)
      assert.deepEqual((await generationSchemas(reader, prefix)).sort(), [schema, current!.schema].sort())
    } finally {
      ingesting = false
      await loop
      await reader.end()
    }
  })
})
