import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import Database from '../../src/db/sqlite/driver.js'
import { TABLES } from '../../src/db/sqlite/schema.js'
import { MAX_LOCAL, TableFile } from '../../src/ingest/sqlite/btree.js'
import { tempDir } from '../fixtures/quirks.js'

const PRINCIPALS = TABLES.find((sql) => sql.startsWith('CREATE TABLE principals '))!
type Row = [number, number, number, string, string | null, string | null]

let dir: string
let cleanup: () => Promise<void>
before(async () => {
  ;({ dir, cleanup } = await tempDir('marquee-btree-'))
})
after(() => cleanup())

/** Writes rows through TableFile; returns the rows it accepted and the ones it refused. */
function build(path: string, rows: Row[]): { accepted: Row[]; refused: Row[] } {
  const f = new TableFile(path, 'principals', PRINCIPALS, ['int', 'int', 'int', 'text', 'text', 'text'], 2)
  const accepted: Row[] = []
  const refused: Row[] = []
  for (const row of rows) {
    for (let i = 0; i < 3; i++) f.num(i, row[i] as number)
    for (let i = 3; i < 6; i++) {
      const v = row[i] as string | null
      const bytes = Buffer.from(v ?? '')
      f.text(i, bytes, v === null ? -1 : 0, bytes.length)
    }
    ;(f.add() ? accepted : refused).push(row)
  }
  assert.equal(f.finish(), accepted.length)
  return { accepted, refused }
}

function read(path: string): { rows: Row[]; check: string } {
  const db = new Database(path)
  try {
    // The secondary index builds on the page-built table as on any other.
    db.exec('CREATE INDEX principals_by_name ON principals (name_id)')
    return {
      rows: db.prepare('SELECT * FROM principals').raw().all() as Row[],
      check: (db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check,
    }
  } finally {
    db.close()
  }
}

/** Deterministic rows: titles of 1-12 principals, text of every size up to a few pages. */
function rows(titles: number, ids: (i: number) => number): Row[] {
  let seed = 42
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    return seed / 0x7fffffff
  }
  const out: Row[] = []
  for (let t = 0; t < titles; t++) {
    const n = 1 + Math.floor(rnd() * 12)
    for (let o = 1; o <= n; o++) {
      const big = rnd() < 0.01
      out.push([
        ids(t),
        o,
        Math.floor(rnd() * 4e9) - 2e9,
        ['actor', 'actrés', '東京 🎬', 'x'.repeat(Math.floor(rnd() * 700))][Math.floor(rnd() * 4)],
        rnd() < 0.5 ? null : `job "${t}"`,
        big ? JSON.stringify(['y'.repeat(MAX_LOCAL)]) : rnd() < 0.5 ? null : JSON.stringify([`Rôle ${o}`]),
      ])
    }
  }
  return out
}

describe('TableFile', () => {
  it('writes a database SQLite reads back exactly and finds sound, with multi-level trees', () => {
    const path = join(dir, 'many.db')
    const input = rows(8_000, (t) => t + 1)
    const { accepted, refused } = build(path, input)
    // Records too big for one page are refused (the caller inserts them through SQLite).
    assert.ok(refused.length > 0 && refused.every((r) => (r[5]?.length ?? 0) > MAX_LOCAL))
    const { rows: back, check } = read(path)
    assert.equal(check, 'ok')
    assert.deepEqual(back, accepted)
    // Deep enough that interior pages split too: a root over several interior pages over leaves.
    const db = new Database(path, { readonly: true })
    const tree = db
      .prepare(
        `SELECT max(length(path) - length(replace(path, '/', ''))) AS depth, sum(pagetype = 'internal') AS interior
         FROM dbstat WHERE name = 'principals'`,
      )
      .get() as { depth: number; interior: number }
    db.close()
    assert.ok(tree.depth >= 3 && tree.interior >= 3, JSON.stringify(tree))
  })

  it('takes ids in IMDb string order (tt10000001 before tt1000001) and stores them in numeric order', () => {
    const path = join(dir, 'string-order.db')
    const ids = Array.from({ length: 3000 }, (_, i) => [999_000 + i, 9_990_000 + i, 99_900_000 + i]).flat()
    ids.sort((a, b) => (String(a).padStart(7, '0') < String(b).padStart(7, '0') ? -1 : 1))
    const input = rows(ids.length, (t) => ids[t])
    const { accepted } = build(path, input)
    const { rows: back, check } = read(path)
    assert.equal(check, 'ok')
    assert.deepEqual(
      back,
      [...accepted].sort((a, b) => a[0] - b[0] || a[1] - b[1]),
    )
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.includes('spill')),
      [],
    )
  })

  it('refuses a row whose key is not above the previous one of its id length', () => {
    const path = join(dir, 'order.db')
    const { refused } = build(path, [
      [5, 1, 1, 'actor', null, null],
      [5, 2, 1, 'actor', null, null],
      [5, 2, 9, 'duplicate', null, null],
      [4, 1, 1, 'late', null, null],
      [6, 1, 1, 'actor', null, null],
    ])
    assert.deepEqual(
      refused.map((r) => r[3]),
      ['duplicate', 'late'],
    )
    assert.equal(read(path).check, 'ok')
  })

  it('writes rowid tables (INTEGER PRIMARY KEY) in IMDb string order too', () => {
    const path = join(dir, 'names.db')
    const sql = TABLES.find((t) => t.startsWith('CREATE TABLE names '))!
    const f = new TableFile(path, 'names', sql, ['rowid', 'text', 'int', 'int', 'text', 'text', 'int'], 1)
    const ids = Array.from({ length: 20_000 }, (_, i) => [999_000 + i * 3, 99_990_000 + i]).flat()
    ids.sort((a, b) => (String(a).padStart(7, '0') < String(b).padStart(7, '0') ? -1 : 1))
    const expected: unknown[][] = []
    for (const id of ids) {
      const name = Buffer.from(`Nâme "${id}" ${'z'.repeat(id % 300)}`)
      f.num(0, id)
      f.text(1, name, 0, name.length)
      f.num(2, id % 3 === 0 ? null : 1900 + (id % 100))
      f.num(3, null)
      f.text(4, name, id % 2 ? -1 : 0, 3)
      f.text(5, name, -1, -1)
      f.num(6, id * 1000)
      assert.ok(f.add())
      expected.push([
        id,
        name.toString(),
        id % 3 === 0 ? null : 1900 + (id % 100),
        null,
        id % 2 ? null : 'Nâ',
        null,
        id * 1000,
      ])
    }
    f.finish()
    const db = new Database(path)
    try {
      assert.equal(
        (db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check,
        'ok',
      )
      const back = db.prepare('SELECT * FROM names').raw().all()
      assert.deepEqual(
        back,
        expected.sort((a, b) => (a[0] as number) - (b[0] as number)),
      )
      assert.deepEqual(
        db.prepare('SELECT id, popularity FROM names WHERE id = ?').raw().get(99_990_007),
        [99_990_007, 99_990_007_000],
      )
      db.exec('CREATE INDEX names_by_name ON names (primary_name COLLATE NOCASE, id)')
      assert.equal(
        (db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check,
        'ok',
      )
    } finally {
      db.close()
    }
  })

  it('writes an empty table', () => {
    const path = join(dir, 'empty.db')
    build(path, [])
    assert.deepEqual(read(path), { rows: [], check: 'ok' })
  })
})
