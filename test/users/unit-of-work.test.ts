import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { unitOfWork } from '../../src/plugins/users.js'
import type { StoreUser, TransactionStats, UserStore, UserTransaction } from '../../src/users/store.js'
import type { UnitOfWork } from '../../src/users/unit-of-work.js'
import { json } from '../helpers/http.js'
import { tt, type UsersFixture, usersFixture } from './helpers.js'

const now = () => new Date().toISOString()
const userOf = (request: { ctx: { user: unknown } }) => (request.ctx.user as StoreUser).userId

/** A latch the test opens to let a held probe route finish. */
function latch() {
  let open!: () => void
  const opened = new Promise<void>((resolve) => {
    open = resolve
  })
  return { open, opened }
}

const seen: UnitOfWork[] = []
let hold = latch()
let failNextCommit = false

async function probes(app: FastifyInstance) {
  // Routes that write opt in to the unit of work, as /me does (in their own scope).
  await app.register(unitOfWork)
  app.addHook('preHandler', async (request) => {
    if (request.url.startsWith('/probe/')) seen.push(request.uow)
  })
  // Ten concurrent sub-tasks of one request, each writing.
  app.post('/probe/fan-out', async (request) => {
    const userId = userOf(request)
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        request.uow.write((tx) => tx.addToWatchlist(userId, i + 1, now())),
      ),
    )
    return { ok: true }
  })
  // Nine writes succeed, then the tenth fails: the request fails.
  app.post('/probe/fail-after-nine', async (request) => {
    const userId = userOf(request)
    let done = 0
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        request.uow.write(async (tx) => {
          if (i === 9) {
            while (done < 9) await sleep(1)
            throw new Error('the tenth write failed')
          }
          await tx.addToWatchlist(userId, 100 + i, now())
          done++
        }),
      ),
    )
    return { ok: true }
  })
  // Writes, then answers with an error status without throwing.
  app.post('/probe/answer-404', async (request, reply) => {
    await request.uow.write((tx) => tx.addToWatchlist(userOf(request), 200, now()))
    return reply.code(404).send({ gone: true })
  })
  // Reads only: no transaction is ever opened.
  app.get('/probe/read-only', async (request) => {
    const store = (await request.server.users.store())!
    return store.reads.watchlist(userOf(request), { limit: 5 })
  })
  // Hands the unit of work to code deeper in the request, as the import route does.
  app.post('/probe/handed-on', async (request) => {
    const userId = userOf(request)
    const deep = (uow: UnitOfWork) => uow.write((tx) => tx.addToWatchlist(userId, 300, now()))
    await Promise.all([deep(request.uow), request.uow.write((tx) => tx.addToWatchlist(userId, 301, now()))])
    return { ok: true }
  })
  // Writes, then waits for the test to let it finish (a transaction held open).
  app.post('/probe/hold', async (request) => {
    await request.uow.write((tx) => tx.addToWatchlist(userOf(request), 400, now()))
    await hold.opened
    return { ok: true }
  })
  // Writes to another title id, for the queueing test.
  app.post('/probe/write/:id', async (request) => {
    const id = Number((request.params as { id: string }).id)
    await request.uow.write((tx) => tx.addToWatchlist(userOf(request), id, now()))
    return { ok: true }
  })
}

/** Wraps the store so the next commit fails the way a failed COMMIT does: rolled back, then thrown. */
function withFailingCommits(store: UserStore) {
  const begin = store.begin.bind(store)
  store.begin = async (opts) => {
    const tx = await begin(opts)
    return new Proxy(tx, {
      get(target, prop) {
        if (prop === 'commit' && failNextCommit) {
          failNextCommit = false
          return async () => {
            await target.rollback()
            throw new Error('disk I/O error')
          }
        }
        const v = Reflect.get(target, prop, target)
        return typeof v === 'function' ? v.bind(target) : v
      },
    }) as UserTransaction
  }
}

describe('the request-scoped unit of work', () => {
  let f: UsersFixture
  let headers: Record<string, string>
  let userId: number
  before(async () => {
    f = await usersFixture(100, { setup: async (app) => void (await app.register(probes)) })
    withFailingCommits(f.store)
    const k = await f.key('uow')
    headers = { authorization: `Bearer ${k.key}` }
    userId = k.userId
  })
  after(() => f.close())

  const post = (path: string) => fetch(`${f.server.url}${path}`, { method: 'POST', headers })
  const listed = async (id = userId) =>
    (await f.store.reads.watchlist(id, { limit: 100 })).items.map((e) => e.titleId).sort((a, b) => a - b)
  const delta = async (fn: () => Promise<void>): Promise<TransactionStats> => {
    const before = f.store.stats()
    await fn()
    const s = f.store.stats()
    return {
      begun: s.begun - before.begun,
      committed: s.committed - before.committed,
      rolledBack: s.rolledBack - before.rolledBack,
      open: s.open,
      waiting: s.waiting,
    }
  }

  it('a Promise.all of 10 writers opens one transaction and commits it once', async () => {
    const d = await delta(async () => {
      const res = await post('/probe/fan-out')
      assert.equal(res.status, 200)
    })
    assert.deepEqual(d, { begun: 1, committed: 1, rolledBack: 0, open: 0, waiting: 0 })
    assert.deepEqual(await listed(), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    assert.equal(seen.at(-1)?.state, 'committed')
  })

  it('a failure after 9 of 10 writes leaves nothing, and rolls back once', async () => {
    const d = await delta(async () => {
      const res = await post('/probe/fail-after-nine')
      assert.equal(res.status, 500)
      assert.match(res.headers.get('content-type')!, /problem\+json/)
    })
    assert.deepEqual(d, { begun: 1, committed: 0, rolledBack: 1, open: 0, waiting: 0 })
    assert.deepEqual(await listed(), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'none of 100..108 was kept')
    assert.equal(seen.at(-1)?.state, 'rolled back')
  })

  it('an error status without a throw rolls back too', async () => {
    const d = await delta(async () => assert.equal((await post('/probe/answer-404')).status, 404))
    assert.deepEqual(d, { begun: 1, committed: 0, rolledBack: 1, open: 0, waiting: 0 })
    assert.ok(!(await listed()).includes(200))
  })

  it('a request that never writes opens nothing', async () => {
    const d = await delta(async () => {
      assert.equal((await fetch(`${f.server.url}/probe/read-only`, { headers })).status, 200)
    })
    assert.deepEqual(d, { begun: 0, committed: 0, rolledBack: 0, open: 0, waiting: 0 })
    assert.equal(seen.at(-1)?.state, 'idle')
  })

  it('is one transaction for code the handler hands it to', async () => {
    const before = f.store.stats()
    assert.equal((await post('/probe/handed-on')).status, 200)
    const s = f.store.stats()
    assert.equal(s.begun - before.begun, 1)
    assert.equal(s.committed - before.committed, 1)
    const titles = await listed()
    assert.ok(titles.includes(300) && titles.includes(301))
  })

  it('ends exactly once: never both commit and rollback, and nothing after the end', async () => {
    const before = f.store.stats()
    const statuses = await Promise.all(
      ['/probe/fan-out', '/probe/fail-after-nine', '/probe/answer-404', '/probe/fan-out'].map(
        async (p) => (await post(p)).status,
      ),
    )
    assert.deepEqual(statuses, [200, 500, 404, 200])
    const s = f.store.stats()
    assert.equal(s.begun - before.begun, 4)
    assert.equal(s.committed - before.committed + (s.rolledBack - before.rolledBack), 4)
    assert.equal(s.open, 0)
    const committed = seen.at(-4)!
    assert.equal(committed.state, 'committed')
    await committed.rollback() // a late rollback is a no-op
    assert.equal(committed.state, 'committed')
    await assert.rejects(
      committed.write(async () => 1),
      /already committed/,
    )
    const rolledBack = seen.at(-3)!
    assert.equal(rolledBack.state, 'rolled back')
    await assert.rejects(rolledBack.commit(), /already rolled back/)
    assert.equal(f.store.stats().committed, s.committed, 'a late commit changed nothing')
  })

  it('a failing commit answers 500, never 2xx, and keeps nothing', async () => {
    failNextCommit = true
    const d = await delta(async () => {
      const res = await post('/probe/write/500')
      assert.equal(res.status, 500)
    })
    assert.deepEqual(d, { begun: 1, committed: 0, rolledBack: 1, open: 0, waiting: 0 })
    assert.ok(!(await listed()).includes(500))
  })

  it('while one request holds its transaction, other writers wait (asynchronously) and reads do not', async () => {
    hold = latch()
    const other = await f.key('reader')
    const held = post('/probe/hold')
    while (f.store.stats().open === 0) await sleep(2)
    const queued = post('/probe/write/401')
    while (f.store.stats().waiting === 0) await sleep(2)

    // Answered while the transaction stays open: had reads waited for the writer, this would hang.
    const [health, mine, theirs] = await Promise.all([
      fetch(`${f.server.url}/health`),
      fetch(`${f.server.url}/me/watchlist?limit=100`, { headers }),
      fetch(`${f.server.url}/me/watchlist`, { headers: { authorization: `Bearer ${other.key}` } }),
    ])
    assert.equal(health.status, 200)
    assert.equal(mine.status, 200)
    const ids = (await json(mine)).items.map((i: { tconst: string }) => i.tconst)
    assert.ok(!ids.includes(tt(400)), 'uncommitted rows are invisible to other requests')
    assert.deepEqual((await json(theirs)).items, [])
    assert.equal(f.store.stats().waiting, 1, 'the second writer is still waiting')

    hold.open()
    assert.equal((await held).status, 200)
    assert.equal((await queued).status, 200)
    const after = await listed()
    assert.ok(after.includes(400) && after.includes(401))
  })
})
