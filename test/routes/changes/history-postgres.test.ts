import assert from 'node:assert/strict'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { gunzipSync, gzipSync } from 'node:zlib'
import { ingestPostgres } from '../../../src/ingest/postgres/index.js'
import { buildTestDataset, FIXTURE } from '../../helpers/dataset.js'
import { dialectOptions } from '../../helpers/dialects.js'
import { dropPrefix, TEST_DATABASE_URL, testClient, uniquePrefix } from '../../helpers/postgres.js'
import { tempDir } from '../../helpers/server.js'

/** A copy of the fixture's files with The Godfather's vote count set to `votes`. */
async function withVotes(from: string, to: string, votes: number): Promise<void> {
  await mkdir(to, { recursive: true })
  for (const f of await readdir(from)) {
    if (!f.endsWith('.tsv.gz')) continue
    let bytes = await readFile(path.join(from, f))
    if (f === 'title.ratings.tsv.gz') {
      const lines = gunzipSync(bytes)
        .toString('utf8')
        .split('\n')
        .map((l) =>
          l.startsWith(`${FIXTURE.godfather}\t`) ? `${l.split('\t').slice(0, 2).join('\t')}\t${votes}` : l,
        )
      bytes = gzipSync(lines.join('\n'))
    }
    await writeFile(path.join(to, f), bytes)
  }
}

describe('the change history on PostgreSQL', dialectOptions('postgres'), () => {
  const prefix = uniquePrefix('history')
  let dir: string
  let cleanup: () => Promise<void>
  let dataDir: string

  before(async () => {
    const tmp = await tempDir('marquee-pg-history-')
    dir = tmp.dir
    ;({ dataDir } = await buildTestDataset(dir))
    cleanup = async () => {
      await dropPrefix(prefix)
      await tmp.cleanup()
    }
  })
  after(async () => cleanup?.())

  const rows = async (sql: string) => {
    const c = await testClient()
    try {
      return (await c.query(sql)).rows
    } finally {
      await c.end()
    }
  }

  it('lives in the control schema, pruned to the generations kept, and drops what never went live', async () => {
    const history = { generations: 1, days: 0 }
    const made: string[] = []
    for (const votes of [2000000, 2000100, 2000200]) {
      const data = path.join(dir, `v${votes}`)
      await withVotes(dataDir, data, votes)
      const s = await ingestPostgres({
        dataDir: data,
        databaseUrl: TEST_DATABASE_URL,
        schemaPrefix: prefix,
        history,
      })
      made.push(s.generation)
    }
    // One change set kept, and the generation it starts from.
    const gens = await rows(`SELECT seq, generation FROM "${prefix}".history_generations ORDER BY seq`)
    assert.deepEqual(
      gens.map((g) => g.generation),
      made.slice(1),
    )
    const changes = await rows(`SELECT seq, entity, id, kind, data FROM "${prefix}".history_changes`)
    assert.equal(changes.length, 1)
    assert.equal(changes[0].entity, 'rating')
    assert.equal(changes[0].kind, 'changed')
    assert.deepEqual(JSON.parse(changes[0].data), { votes: [2000100, 2000200] })

    // Rows of a generation that never went live (an ingest that failed at its swap): the next
    // recording removes them.
    const orphanSeq = Number(gens[gens.length - 1].seq) + 1
    await rows(
      `INSERT INTO "${prefix}".history_generations (seq, generation, made_at) VALUES (${orphanSeq}, '20990101T000000000Z-000000000000', now()::text);
       INSERT INTO "${prefix}".history_changes (seq, entity, id, kind) VALUES (${orphanSeq}, 'title', 1, 'removed')`,
    )
    const data = path.join(dir, 'last')
    await withVotes(dataDir, data, 2000300)
    const s = await ingestPostgres({
      dataDir: data,
      databaseUrl: TEST_DATABASE_URL,
      schemaPrefix: prefix,
      history,
    })
    const after = await rows(`SELECT generation FROM "${prefix}".history_generations ORDER BY seq`)
    assert.deepEqual(
      after.map((g) => g.generation),
      [made[2], s.generation],
    )
    const left = await rows(`SELECT entity, kind FROM "${prefix}".history_changes`)
    assert.deepEqual(left, [{ entity: 'rating', kind: 'changed' }])
    assert.deepEqual(s.changes?.counts.rating, { added: 0, removed: 0, changed: 1 })
  })
})
