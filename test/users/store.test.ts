import assert from 'node:assert/strict'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { loadConfig } from '../../src/config.js'
import Database from '../../src/db/sqlite/driver.js'
import { hashApiKey } from '../../src/users/api-keys.js'
import { Gate } from '../../src/users/gate.js'
import { storeResolver } from '../../src/users/resolver.js'
import { migrateSqlite, SCHEMA_VERSION } from '../../src/users/sqlite/migrations.js'
import { openSqliteUserStore } from '../../src/users/sqlite/store.js'
import { type UserStore, UsersSchemaTooNewError, WriterBusyError } from '../../src/users/store.js'
import { tempDir } from '../helpers/server.js'

const at = () => new Date().toISOString()

describe('user store: schema migrations', () => {
  let dir: string
  let cleanup: () => Promise<void>
  before(async () => ({ dir, cleanup } = await tempDir()))
  after(() => cleanup())

  it('creates the schema once, in WAL mode, and re-running is a no-op', async () => {
    const file = path.join(dir, 'fresh.db')
    const store = await openSqliteUserStore(file, { create: true })
    await store.close()
    assert.deepEqual(await migrateSqlite(file), { applied: [], version: SCHEMA_VERSION })
    const db = new Database(file, { readonly: true })
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal')
      const tables = db
        .prepare(
          `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`,
        )
        .pluck()
        .all()
      assert.deepEqual(tables, ['kysely_migration', 'kysely_migration_lock', 'ratings', 'users', 'watchlist'])
      assert.equal(db.prepare('SELECT count(*) FROM kysely_migration').pluck().get(), SCHEMA_VERSION)
    } finally {
      db.close()
    }
  })

  it('refuses to open a missing file unless asked to create it', async () => {
    await assert.rejects(openSqliteUserStore(path.join(dir, 'missing.db')), /does not exist/)
  })

  it('refuses a database from a newer marquee, with a clear message, and changes nothing', async () => {
    const file = path.join(dir, 'newer.db')
    await (await openSqliteUserStore(file, { create: true })).close()
    const db = new Database(file)
    db.prepare('INSERT INTO kysely_migration (name, timestamp) VALUES (?, ?)').run(
      '0007_from_the_future',
      at(),
    )
    db.close()
    await assert.rejects(openSqliteUserStore(file), (err: Error) => {
      assert.ok(err instanceof UsersSchemaTooNewError)
      assert.equal(
        err.message,
        `the user database ${file} has schema version 7, newer than this marquee supports ` +
          `(version ${SCHEMA_VERSION}); upgrade marquee, or point --users-db at another file`,
      )
      return true
    })
    // Nothing was changed by the refusal.
    const check = new Database(file, { readonly: true })
    assert.equal(check.prepare('SELECT count(*) FROM kysely_migration').pluck().get(), SCHEMA_VERSION + 1)
    check.close()
  })

  it('refuses a migration history it does not know', async () => {
    const file = path.join(dir, 'foreign.db')
    await (await openSqliteUserStore(file, { create: true })).close()
    const db = new Database(file)
    db.prepare('INSERT INTO kysely_migration (name, timestamp) VALUES (?, ?)').run('0001_someone_else', at())
    db.close()
    await assert.rejects(
      openSqliteUserStore(file),
      /migrations this marquee does not know \(0001_someone_else\)/,
    )
  })

  it('defaults --users-db to users.db next to the dataset database', () => {
    assert.equal(loadConfig({ dbPath: '/srv/imdb/marquee.db' }, {}).usersDbPath, '/srv/imdb/users.db')
    assert.equal(loadConfig({}, {}).usersDbPath, path.resolve('data/users.db'))
    assert.equal(loadConfig({}, { MARQUEE_USERS_DB: '/x/u.db' }).usersDbPath, '/x/u.db')
    assert.equal(
      loadConfig({ usersDbPath: '/y/u.db' }, { MARQUEE_USERS_DB: '/x/u.db' }).usersDbPath,
      '/y/u.db',
    )
  })
})

describe('user store: keys, transactions, isolation', () => {
  let dir: string
  let cleanup: () => Promise<void>
  let store: UserStore
  let file: string
  before(async () => {
    ;({ dir, cleanup } = await tempDir())
    file = path.join(dir, 'users.db')
    store = await openSqliteUserStore(file, { create: true })
  })
  after(async () => {
    await store.close()
    await cleanup()
  })

  it('creates, lists and revokes keys; only live keys resolve', async () => {
    const a = await store.createKey({ name: 'alice', role: 'admin', keyHash: hashApiKey('ka'), at: at() })
    const b = await store.createKey({ name: 'bob', role: 'user', keyHash: hashApiKey('kb'), at: at() })
    assert.deepEqual(await store.userByKeyHash(hashApiKey('ka')), {
      id: String(a.id),
      name: 'alice',
      role: 'admin',
      userId: a.id,
    })
    const revoked = await store.revokeKey(b.id, at())
    assert.equal(revoked?.alreadyRevoked, false)
    assert.ok(revoked?.key.revokedAt)
    assert.equal((await store.revokeKey(b.id, at()))?.alreadyRevoked, true)
    assert.equal(await store.revokeKey(9999, at()), null)
    assert.equal(await store.userByKeyHash(hashApiKey('kb')), null)
    const listed = await store.listKeys()
    assert.deepEqual(
      listed.map((k) => [k.name, k.role, k.revokedAt === null]),
      [
        ['alice', 'admin', true],
        ['bob', 'user', false],
      ],
    )
    const db = new Database(file, { readonly: true })
    const hashes = db.prepare('SELECT key_hash FROM users').pluck().all()
    db.close()
    assert.deepEqual(hashes, [hashApiKey('ka'), hashApiKey('kb')], 'only hashes are stored')
  })

  it('a second transaction waits asynchronously for the first; reads never wait and see only commits', async () => {
    const u = await store.createKey({ name: 'carol', role: 'user', keyHash: hashApiKey('kc'), at: at() })
    const first = await store.begin()
    await first.addToWatchlist(u.id, 1, at())
    let secondOpen = false
    const second = store.begin().then((tx) => {
      secondOpen = true
      return tx
    })
    // Queued at the call. The first commits from this thread: a wait that blocked it would never end.
    assert.equal(store.stats().waiting, 1)
    await sleep(20)
    assert.equal(secondOpen, false, 'the second transaction waits for the first')
    // Reads go to their own connection: answered while the writer waits, without the uncommitted row.
    const read = await store.reads.watchlist(u.id, { limit: 10 })
    assert.deepEqual(read.items, [])
    assert.equal(secondOpen, false)
    // Inside the transaction, its own write is visible.
    assert.equal((await first.watchlist(u.id, { limit: 10 })).items.length, 1)
    await first.commit()
    const tx2 = await second
    assert.equal((await tx2.watchlist(u.id, { limit: 10 })).items.length, 1)
    await tx2.rollback()
    assert.deepEqual(store.stats(), { ...store.stats(), open: 0, waiting: 0 })
    await assert.rejects(first.addToWatchlist(u.id, 2, at()), /transaction is committed/)
  })

  it('a transaction waiting on another process holding the write lock waits on its worker, not the event loop', async () => {
    const other = new Database(file)
    other.pragma('busy_timeout = 0')
    other.exec('BEGIN IMMEDIATE') // another process holding SQLite's write lock
    // Released by a timer on this thread: a store waiting for the lock on this thread would stop the
    // timer, and fail at its busy timeout or never begin.
    let released = false
    setTimeout(() => {
      other.exec('ROLLBACK')
      released = true
    }, 200)
    const tx = await store.begin()
    assert.ok(released, 'began once the other connection let go, the event loop turning meanwhile')
    await tx.rollback()
    other.close()
  })

  it('gives up waiting for the writer on abort or timeout, and leaves the queue clean', async () => {
    const holder = await store.begin()
    const controller = new AbortController()
    const aborted = store.begin({ signal: controller.signal })
    const timedOut = store.begin({ timeoutMs: 30 })
    // Both queued at the call, before any timer can run.
    assert.equal(store.stats().waiting, 2)
    controller.abort(new Error('client gone'))
    await assert.rejects(aborted, /client gone/)
    await assert.rejects(timedOut, (e: Error) => e instanceof WriterBusyError)
    assert.equal(store.stats().waiting, 0)
    await holder.rollback()
    const next = await store.begin({ timeoutMs: 100 })
    await next.rollback()
  })

  it('the gate admits in arrival order', async () => {
    const gate = new Gate(1)
    const order: number[] = []
    await gate.acquire()
    const waiters = [1, 2, 3].map((i) => gate.acquire().then(() => order.push(i)))
    for (let i = 0; i < 3; i++) {
      gate.release()
      await sleep(1)
    }
    await Promise.all(waiters)
    gate.release()
    assert.deepEqual(order, [1, 2, 3])
    assert.equal(gate.held, 0)
  })

  /** The store's key lookups, counted. */
  const countingLookups = () => {
    let n = 0
    const counting = {
      userByKeyHash: (h: string) => {
        n++
        return store.userByKeyHash(h)
      },
    } as unknown as UserStore
    return { counting, lookups: () => n }
  }

  it('the key resolver caches briefly, so a revoked key stops resolving within the TTL', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() })
    const rec = await store.createKey({ name: 'erin', role: 'user', keyHash: hashApiKey('ke'), at: at() })
    const { counting, lookups } = countingLookups()
    const resolver = storeResolver(async () => counting, { ttlMs: 150 })
    assert.equal((await Promise.all([resolver.resolve('ke'), resolver.resolve('ke')]))[0]?.name, 'erin')
    assert.equal(lookups(), 1, 'concurrent lookups of one key share a query')
    await store.revokeKey(rec.id, at())
    assert.equal((await resolver.resolve('ke'))?.name, 'erin', 'cached')
    t.mock.timers.tick(149)
    assert.equal((await resolver.resolve('ke'))?.name, 'erin', 'still cached')
    t.mock.timers.tick(2)
    assert.equal(await resolver.resolve('ke'), null)
  })

  it('the key resolver keeps no unknown key: random keys never push a real one out', async () => {
    await store.createKey({ name: 'finn', role: 'user', keyHash: hashApiKey('kf'), at: at() })
    const { counting, lookups } = countingLookups()
    const resolver = storeResolver(async () => counting, { ttlMs: 60_000, maxEntries: 2 })
    assert.equal((await resolver.resolve('kf'))?.name, 'finn')
    for (let i = 0; i < 5; i++) assert.equal(await resolver.resolve(`random-${i}`), null)
    assert.equal(lookups(), 6)
    assert.equal((await resolver.resolve('kf'))?.name, 'finn')
    assert.equal(lookups(), 6, 'the real key is still cached')
    assert.equal(await resolver.resolve('random-0'), null)
    assert.equal(lookups(), 7, 'an unknown key is asked again')
  })
})
