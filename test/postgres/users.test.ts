import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { ident } from '../../src/db/postgres/schema.js'
import { hashApiKey } from '../../src/users/api-keys.js'
import { SCHEMA_VERSION } from '../../src/users/postgres/migrations.js'
import { openPostgresUserStore, usersSchema } from '../../src/users/postgres/store.js'
import { MIGRATIONS as SQLITE_MIGRATIONS } from '../../src/users/sqlite/migrations.js'
import { type UserStore, UsersSchemaTooNewError, WriterBusyError } from '../../src/users/store.js'
import {
  dropPrefix,
  postgresAvailable,
  TEST_DATABASE_URL,
  testClient,
  uniquePrefix,
} from '../helpers/postgres.js'
import { until } from '../helpers/wait.js'

const available = await postgresAvailable()
const at = () => new Date().toISOString()

describe('PostgreSQL user store', { skip: !available }, () => {
  const prefix = uniquePrefix('users')
  const schema = usersSchema(prefix)
  let store: UserStore

  before(async () => {
    store = await openPostgresUserStore(TEST_DATABASE_URL, { schemaPrefix: prefix, writers: 2 })
  })
  after(async () => {
    await store?.close()
    await dropPrefix(prefix)
    const c = await testClient()
    await c.query(`DROP SCHEMA IF EXISTS ${ident(schema)} CASCADE`)
    await c.end()
  })

  it('applies the same migration versions as SQLite, once, even when servers start together', async () => {
    const more = await Promise.all(
      [1, 2, 3].map(() => openPostgresUserStore(TEST_DATABASE_URL, { schemaPrefix: prefix })),
    )
    await Promise.all(more.map((s) => s.close()))
    const c = await testClient()
    try {
      const { rows } = await c.query(`SELECT name FROM ${ident(schema)}.kysely_migration ORDER BY name`)
      assert.deepEqual(
        rows.map((r) => r.name),
        Object.keys(SQLITE_MIGRATIONS).sort(),
      )
      assert.equal(rows.length, SCHEMA_VERSION)
      const tables = await c.query(
        `SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename`,
        [schema],
      )
      assert.deepEqual(
        tables.rows.map((r) => r.tablename),
        ['kysely_migration', 'kysely_migration_lock', 'ratings', 'users', 'watchlist'],
      )
    } finally {
      await c.end()
    }
  })

  it('migrates while other schemas come and go (an ingest retiring generations)', async () => {
    const churn = uniquePrefix('churn')
    const c = await testClient()
    let stop = false
    const cycles = { n: 0 }
    // Schemas with wide tables, created and dropped back to back by another session.
    const columns = Array.from({ length: 40 }, (_, i) => `c${i} text`).join(', ')
    let failed: unknown = null
    const dropping = (async () => {
      for (let i = 0; !stop; i++) {
        const name = ident(`${churn}_${i % 4}`)
        await c.query(
          `CREATE SCHEMA ${name}; CREATE TABLE ${name}.t (${columns}); CREATE TABLE ${name}.u (${columns})`,
        )
        await c.query(`DROP SCHEMA ${name} CASCADE`)
        cycles.n++
      }
    })().catch((err: unknown) => {
      failed = err
    })
    try {
      await until(() => cycles.n > 0 || failed !== null, 'the first schema dropped')
      for (let round = 0; round < 15; round++) {
        const fresh = uniquePrefix('migr')
        try {
          const opened = await openPostgresUserStore(TEST_DATABASE_URL, { schemaPrefix: fresh })
          await opened.close()
        } finally {
          await c.query(`DROP SCHEMA IF EXISTS ${ident(usersSchema(fresh))} CASCADE`)
        }
      }
    } finally {
      stop = true
      await dropping
      await c.end()
    }
    assert.equal(failed, null, 'the other session kept creating and dropping schemas')
  })

  it('refuses a schema from a newer marquee, with a clear message', async () => {
    const other = uniquePrefix('newer')
    const s = await openPostgresUserStore(TEST_DATABASE_URL, { schemaPrefix: other })
    await s.close()
    const c = await testClient()
    try {
      await c.query(
        `INSERT INTO ${ident(usersSchema(other))}.kysely_migration (name, timestamp) VALUES ('9999_future', now()::text)`,
      )
      await assert.rejects(
        openPostgresUserStore(TEST_DATABASE_URL, { schemaPrefix: other }),
        (err: unknown) => err instanceof UsersSchemaTooNewError && err.found === 9999,
      )
    } finally {
      await c.query(`DROP SCHEMA ${ident(usersSchema(other))} CASCADE`)
      await c.end()
    }
  })

  it('creates, lists and revokes keys; only live keys resolve; ids are never reused', async () => {
    const a = await store.createKey({ name: 'alice', role: 'admin', keyHash: hashApiKey('ka'), at: at() })
    const b = await store.createKey({ name: 'bob', role: 'user', keyHash: hashApiKey('kb'), at: at() })
    assert.deepEqual(await store.userByKeyHash(hashApiKey('ka')), {
      id: String(a.id),
      name: 'alice',
      role: 'admin',
      userId: a.id,
    })
    assert.equal((await store.revokeKey(b.id, at()))?.alreadyRevoked, false)
    assert.equal((await store.revokeKey(b.id, at()))?.alreadyRevoked, true)
    assert.equal(await store.revokeKey(999_999, at()), null)
    assert.equal(await store.userByKeyHash(hashApiKey('kb')), null)
    assert.deepEqual(
      (await store.listKeys()).map((k) => [k.name, k.role, k.revokedAt === null]),
      [
        ['alice', 'admin', true],
        ['bob', 'user', false],
      ],
    )
    await assert.rejects(store.createKey({ name: 'dup', role: 'user', keyHash: hashApiKey('ka'), at: at() }))
    const c = await store.createKey({ name: 'carol', role: 'user', keyHash: hashApiKey('kc'), at: at() })
    assert.ok(c.id > b.id + 1, 'the failed insert used up an id rather than handing it out again')
  })

  it('transactions run side by side; reads see only commits; rollback undoes', async () => {
    const u = await store.createKey({ name: 'dave', role: 'user', keyHash: hashApiKey('kd'), at: at() })
    const [t1, t2] = await Promise.all([store.begin(), store.begin()])
    assert.equal(store.stats().open, 2)
    await t1.addToWatchlist(u.id, 1, at())
    await t2.setRating(u.id, 2, 7, at())
    assert.deepEqual((await store.reads.watchlist(u.id, { limit: 10 })).items, [])
    assert.equal((await t1.watchlist(u.id, { limit: 10 })).items.length, 1)
    await t1.commit()
    await t2.rollback()
    const listed = await store.reads.watchlist(u.id, { limit: 10 })
    assert.deepEqual(
      listed.items.map((e) => [e.titleId, e.rating]),
      [[1, null]],
    )
    assert.equal(await store.reads.rating(u.id, 2), null)
    assert.deepEqual(store.stats(), { ...store.stats(), open: 0, waiting: 0 })
    await assert.rejects(t1.addToWatchlist(u.id, 3, at()), /transaction is committed/)
  })

  it('imports in bulk, pages newest first by (time, title), and keeps the first addedAt', async () => {
    const u = await store.createKey({ name: 'erin', role: 'user', keyHash: hashApiKey('ke'), at: at() })
    const tx = await store.begin()
    const counts = await tx.applyImport(
      u.id,
      Array.from({ length: 600 }, (_, i) => ({ titleId: i + 1, watchlist: true, rating: (i % 10) + 1 })),
      '2026-01-01T00:00:00.000Z',
    )
    assert.deepEqual(counts, { watchlistAdded: 600, watchlistRemoved: 0, ratingsSet: 600, ratingsRemoved: 0 })
    const again = await tx.addToWatchlist(u.id, 5, '2026-02-01T00:00:00.000Z')
    assert.equal(again.created, false)
    assert.equal(again.entry.addedAt, '2026-01-01T00:00:00.000Z')
    await tx.commit()
    const first = await store.reads.ratings(u.id, { limit: 250 })
    assert.equal(first.items[0].titleId, 600)
    const second = await store.reads.ratings(u.id, { limit: 250, after: first.next! })
    assert.equal(second.items[0].titleId, 350)
    assert.ok(second.items.every((e) => e.onWatchlist))
  })

  it('gives up waiting for a writer slot on abort or timeout', async () => {
    const [h1, h2] = await Promise.all([store.begin(), store.begin()])
    const controller = new AbortController()
    const aborted = store.begin({ signal: controller.signal })
    const timedOut = store.begin({ timeoutMs: 30 })
    await sleep(5)
    controller.abort(new Error('client gone'))
    await assert.rejects(aborted, /client gone/)
    await assert.rejects(timedOut, (e: Error) => e instanceof WriterBusyError)
    await Promise.all([h1.rollback(), h2.rollback()])
    const next = await store.begin({ timeoutMs: 100 })
    await next.rollback()
  })
})
