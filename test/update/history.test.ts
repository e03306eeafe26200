import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { historyDdl, pruneStatements } from '../../src/db/history.js'
import Database from '../../src/db/sqlite/driver.js'
import { ingest } from '../../src/ingest/index.js'
import { update } from '../../src/update/index.js'
import { tempDir } from '../helpers/server.js'
import { twoVersions, type Version } from './fixture.js'

/** The change rows of the newest generation recorded in `db`, in the order of the feed. */
function lastChanges(dbPath: string): unknown[] {
  const db = new Database(dbPath, { readonly: true })
  try {
    return db
      .prepare(
        `SELECT entity, id, sub, kind, title_type, data FROM history_changes
         WHERE seq = (SELECT max(seq) FROM history_generations) ORDER BY n`,
      )
      .all()
  } finally {
    db.close()
  }
}

function generations(
  dbPath: string,
): { seq: number; generation: string; previous: string | null; counts: string | null }[] {
  const db = new Database(dbPath, { readonly: true })
  try {
    return db
      .prepare('SELECT seq, generation, previous, counts FROM history_generations ORDER BY seq')
      .all() as never
  } finally {
    db.close()
  }
}

const seqsOfChanges = (dbPath: string) => {
  const db = new Database(dbPath, { readonly: true })
  try {
    return db.prepare('SELECT DISTINCT seq FROM history_changes ORDER BY seq').pluck().all() as number[]
  } finally {
    db.close()
  }
}

describe('the change history', () => {
  let root: string
  let cleanup: () => Promise<void>
  let a: Version
  let b: Version

  before(async () => {
    ;({ dir: root, cleanup } = await tempDir('marquee-history-'))
    ;({ a, b } = await twoVersions(root, { rate: 0.02 }))
  })
  after(async () => cleanup?.())

  it('a refresh records, from its diffs, the change set a full ingest finds by comparing the databases', async () => {
    const refreshed = join(root, 'refreshed', 'marquee.db')
    const first = await update({ dbPath: refreshed, dataDir: a.data })
    assert.equal(first.mode, 'full')
    const s = await update({ dbPath: refreshed, dataDir: b.data })
    assert.equal(s.mode, 'incremental', s.reason ?? '')

    const ingested = join(root, 'ingested', 'marquee.db')
    await ingest({ dataDir: a.data, dbPath: ingested })
    const full = await ingest({ dataDir: b.data, dbPath: ingested })

    const expected = lastChanges(ingested)
    assert.ok(expected.length > 100, `${expected.length} changes`)
    assert.deepEqual(lastChanges(refreshed), expected)
    // Both manifests carry the counts, against the generation before.
    const m = s.manifest as unknown as { changes: { since: string; counts: Record<string, unknown> } }
    assert.equal(m.changes.since, first.generation)
    assert.deepEqual(m.changes.counts, full.changes!.counts)
    for (const e of ['title', 'rating', 'person', 'episode', 'aka', 'credit']) {
      const c = (m.changes.counts as Record<string, { added: number; removed: number; changed: number }>)[e]
      assert.ok(c.added + c.removed + c.changed > 0, `${e} changed`)
    }
    const g = generations(refreshed)
    assert.deepEqual(
      g.map((x) => [x.generation, x.previous]),
      [
        [first.generation, null],
        [s.generation, first.generation],
      ],
    )
    assert.deepEqual(JSON.parse(g[1].counts!), m.changes.counts)
  })

  it('carries the history forward into each new file, and prunes it to the generations kept', async () => {
    const dbPath = join(root, 'pruned', 'marquee.db')
    const history = { generations: 2, days: 0 }
    const made: string[] = []
    for (const v of [a, b, a, b]) made.push((await ingest({ dataDir: v.data, dbPath, history })).generation)
    // Two change sets kept, and the generation before the older one (the `since` it starts from).
    assert.deepEqual(
      generations(dbPath).map((g) => g.generation),
      made.slice(1),
    )
    assert.deepEqual(seqsOfChanges(dbPath), [3, 4])
    // Going back to A undoes B: the third change set is the second one reversed.
    const g = generations(dbPath)
    const c3 = JSON.parse(g[1].counts!)
    const c4 = JSON.parse(g[2].counts!)
    assert.deepEqual(c3.title, {
      added: c4.title.removed,
      removed: c4.title.added,
      changed: c4.title.changed,
    })

    // A refresh carries it too (the copy holds it), and prunes by the same rule.
    const s = await update({ dbPath, dataDir: a.data, history: { generations: 1, days: 0 } })
    assert.ok(s.mode === 'incremental' || s.mode === 'full', s.mode)
    assert.deepEqual(
      generations(dbPath).map((x) => x.generation),
      [made[3], s.generation],
    )
    assert.deepEqual(seqsOfChanges(dbPath), [5])
  })

  it('starts again from a database that kept no history', async () => {
    const dbPath = join(root, 'old', 'marquee.db')
    const old = await ingest({ dataDir: a.data, dbPath })
    const db = new Database(dbPath)
    db.exec('DROP TABLE history_changes; DROP TABLE history_generations')
    db.close()
    const s = await ingest({ dataDir: b.data, dbPath })
    assert.equal(s.changes?.since, old.generation)
    assert.deepEqual(
      generations(dbPath).map((g) => [g.generation, g.previous, g.counts === null]),
      [
        [old.generation, null, true],
        [s.generation, old.generation, false],
      ],
    )
  })
})

describe('history pruning', () => {
  /** A history of generations 1..5 made a day apart (the 5th today), each with one change. */
  function history(): Database {
    const db = new Database(':memory:')
    for (const sql of historyDdl('sqlite')) db.exec(sql)
    for (let seq = 1; seq <= 5; seq++) {
      const madeAt = new Date(Date.UTC(2025, 0, seq)).toISOString()
      db.prepare('INSERT INTO history_generations (seq, generation, made_at) VALUES (?, ?, ?)').run(
        seq,
        `g${seq}`,
        madeAt,
      )
      if (seq > 1)
        db.prepare(
          "INSERT INTO history_changes (seq, entity, id, kind) VALUES (?, 'title', 1, 'removed')",
        ).run(seq)
    }
    return db
  }
  const kept = (db: Database) => ({
    generations: db.prepare('SELECT generation FROM history_generations ORDER BY seq').pluck().all(),
    changes: db.prepare('SELECT seq FROM history_changes ORDER BY seq').pluck().all(),
  })
  const now = new Date(Date.UTC(2025, 0, 5, 12))

  it('keeps the newest change sets, and the generation the oldest of them starts from', () => {
    const db = history()
    for (const sql of pruneStatements('', 5, { generations: 2, days: 0 }, now)) db.exec(sql)
    assert.deepEqual(kept(db), { generations: ['g3', 'g4', 'g5'], changes: [4, 5] })
  })

  it('keeps no change set older than the days kept', () => {
    const db = history()
    // Two days: the change sets of g4 (made 1.5 days ago) and g5, from g3.
    for (const sql of pruneStatements('', 5, { generations: 7, days: 2 }, now)) db.exec(sql)
    assert.deepEqual(kept(db), { generations: ['g3', 'g4', 'g5'], changes: [4, 5] })
  })
})
