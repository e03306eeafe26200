import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import Database from '../../src/db/sqlite/driver.js'
import { type IngestSummary, ingest } from '../../src/ingest/index.js'
import { quirkText, tempDir, writeQuirks } from '../fixtures/quirks.js'

/**
 * Files as IMDb really sorts them (ids as strings: tt10000001 before tt1000001), rows out of any
 * order, records too big for one page, invalid UTF-8: what the page-built tables cannot append
 * must still end up in them, once.
 */

let dir: string
let cleanup: () => Promise<void>
let db: Database
let summary: IngestSummary

const T = '\t'
const N = '\\N'
const line = (...fields: (string | number)[]) => fields.join(T)

before(async () => {
  ;({ dir, cleanup } = await tempDir('marquee-order-'))
  const basicsHeader = (await quirkText('title.basics')).toString().split('\n')[0].replace('\r', '')
  // As strings: tt0999999 < tt1000000 < tt10000000 < tt10000001 < tt1000001; then one out of order.
  const titleIds = ['tt0999999', 'tt1000000', 'tt10000000', 'tt10000001', 'tt1000001', 'tt0000005']
  const basics = [
    basicsHeader,
    ...titleIds.map((id, i) => line(id, 'movie', `Title ${id}`, N, 0, 1990 + i, N, 90, 'Drama')),
  ].join('\n')
  // A line that is not valid UTF-8: its batch takes the INSERT path.
  const bad = Buffer.concat([
    Buffer.from(`${basics}\n`),
    Buffer.from(line('tt2000000', 'movie', 'Broken ')),
    Buffer.from([0xff]),
    Buffer.from(`${T}${N}${T}0${T}2000${T}${N}${T}${N}${T}${N}\n`),
  ])
  const principalsHeader = 'tconst\tordering\tnconst\tcategory\tjob\tcharacters'
  const huge = JSON.stringify(['x'.repeat(5000)])
  const principals = [
    principalsHeader,
    line('tt0999999', 1, 'nm0000001', 'actor', N, '["A"]'),
    line('tt1000000', 1, 'nm0000001', 'actor', N, huge),
    line('tt10000000', 1, 'nm0000002', 'actress', 'job "q"', '["B"]'),
    line('tt10000001', 2, 'nm0000002', 'actress', N, N),
    line('tt10000001', 1, 'nm0000002', 'self', N, N),
    line('tt1000001', 1, 'nm0000001', 'director', N, N),
    line('tt0000005', 1, 'nm0000001', 'writer', N, N),
    line('tt0999999', 1, 'nm0000009', 'duplicate', N, N),
  ].join('\n')
  await writeQuirks(dir, {
    replace: { 'title.basics': bad, 'title.principals': principals },
  })
  summary = await ingest({ dataDir: dir, dbPath: join(dir, 'order.db') })
  db = new Database(join(dir, 'order.db'), { readonly: true })
})
after(async () => {
  db?.close()
  await cleanup()
})

describe('ingest of files in IMDb string order, out of order and oversized', () => {
  it('keeps every title once, in numeric id order, including the batch with invalid UTF-8', () => {
    const ids = (db.prepare('SELECT id FROM titles').raw().all() as number[][]).map((r) => r[0])
    assert.deepEqual(ids, [5, 999_999, 1_000_000, 1_000_001, 2_000_000, 10_000_000, 10_000_001])
    assert.equal(
      (db.prepare('SELECT primary_title FROM titles WHERE id = 2000000').get() as { primary_title: string })
        .primary_title,
      'Broken \uFFFD',
    )
  })

  it('keeps every principal once, the oversized record and the out-of-order ones included', () => {
    const rows = db
      .prepare('SELECT title_id, ordering, category, length(characters) AS len FROM principals')
      .all()
    assert.deepEqual(rows, [
      { title_id: 5, ordering: 1, category: 'writer', len: null },
      { title_id: 999_999, ordering: 1, category: 'actor', len: 5 },
      { title_id: 1_000_000, ordering: 1, category: 'actor', len: 5004 },
      { title_id: 1_000_001, ordering: 1, category: 'director', len: null },
      { title_id: 10_000_000, ordering: 1, category: 'actress', len: 5 },
      { title_id: 10_000_001, ordering: 1, category: 'self', len: null },
      { title_id: 10_000_001, ordering: 2, category: 'actress', len: null },
    ])
    const p = summary.files.find((f) => f.dataset === 'title.principals')!
    assert.equal(p.kept, 7)
    assert.equal(p.duplicates, 1)
    assert.equal(
      (db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check,
      'ok',
    )
  })

  it('finds principals by person through the index built on the page-built table', () => {
    const rows = db
      .prepare('SELECT title_id FROM principals WHERE name_id = 2 ORDER BY title_id, ordering')
      .all()
    assert.deepEqual(rows, [{ title_id: 10_000_000 }, { title_id: 10_000_001 }, { title_id: 10_000_001 }])
    const plan = db.prepare('EXPLAIN QUERY PLAN SELECT title_id FROM principals WHERE name_id = 2').all()
    assert.match(JSON.stringify(plan), /principals_by_name/)
  })
})
