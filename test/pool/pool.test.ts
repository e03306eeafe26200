import assert from 'node:assert/strict'
import { getPriority } from 'node:os'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { BACKGROUND_NICE } from '../../src/lib/priority.js'
import { workerUrl } from '../../src/lib/worker-url.js'
import { InlineExecutor } from '../../src/pool/inline.js'
import { QueryPool } from '../../src/pool/pool.js'
import {
  DeadlineReason,
  PoolBusyError,
  QueryAbortedError,
  QueryDeadlineError,
  QueryFailedError,
} from '../../src/pool/task.js'
import { buildTestDataset } from '../helpers/dataset.js'
import { tempDir } from '../helpers/server.js'
import { until } from '../helpers/wait.js'

const SLOW = workerUrl('./slow-queries.js', import.meta.url).href

/** An AbortSignal that fires like a request deadline after `ms`. */
function deadline(ms: number): AbortSignal {
  const c = new AbortController()
  setTimeout(() => c.abort(new DeadlineReason(ms)), ms)
  return c.signal
}

describe('query pool', () => {
  let dbPath: string
  let cleanup: () => Promise<void>
  let pool: QueryPool
  before(async () => {
    const tmp = await tempDir()
    cleanup = tmp.cleanup
    dbPath = (await buildTestDataset(tmp.dir)).dbPath
    // A worker starved of CPU on a busy machine may reach its next tick late: the grace is long here,
    // so that a query with ticks is never terminated (on Node 22 and 24 a thread terminated inside a
    // statement does not exit). The test of termination uses a pool of its own.
    pool = new QueryPool({ size: 2, maxQueue: 2, extraQueryModules: [SLOW], cancelGraceMs: 120_000 })
  })
  after(async () => {
    await pool.close()
    await cleanup()
  })

  it('runs registered queries on worker threads and returns plain objects', async () => {
    const where = await pool.run({ dbPath, query: 'whereAmI', args: [] })
    assert.notEqual(where, 0)
    const title = (await pool.run({ dbPath, query: 'findTitle', args: [68646] })) as { primaryTitle: string }
    assert.equal(title.primaryTitle, 'The Godfather')
    assert.equal(Object.getPrototypeOf(title), Object.prototype)
  })

  it('runs queries at a lower CPU priority than the event loop, which keeps its own', {
    skip: process.platform !== 'linux',
  }, async () => {
    const mine = getPriority()
    assert.equal(await pool.run({ dbPath, query: 'myPriority', args: [] }), Math.max(mine, BACKGROUND_NICE))
    assert.equal(getPriority(), mine)
  })

  it('carries the name and code of a failing query across the thread boundary', async () => {
    await assert.rejects(pool.run({ dbPath, query: 'fail', args: [] }), (err: unknown) => {
      assert.ok(err instanceof QueryFailedError)
      assert.equal(err.code, 'E_DELIBERATE')
      assert.match(err.message, /deliberate failure/)
      return true
    })
    await assert.rejects(pool.run({ dbPath, query: 'noSuchQuery', args: [] }), /no query named noSuchQuery/)
  })

  it('stops a running query at its deadline through its scan ticks: its worker answers and stays', async () => {
    await pool.warmUp(dbPath)
    const before = pool.stats()
    const threads = pool.threadIds()
    // The deadline comes once the query runs: one that fires before a worker begins the task (a
    // busy machine) drops or terminates it instead, which the next test covers.
    const stop = new AbortController()
    const spin = pool.run({ dbPath, query: 'spin', args: [] }, { signal: stop.signal })
    await until(() => pool.stats().running === 1)
    stop.abort(new DeadlineReason(200))
    await assert.rejects(spin, QueryDeadlineError)
    // The caller is answered at once; the worker answers when its tick sees the flag.
    await until(() => pool.stats().active === 0)
    // Both workers serve again: had the spinning one not stopped itself, it would have been terminated
    // after the grace period and replaced before answering.
    const where = await Promise.all(
      [1, 2].map(() => pool.run({ dbPath, query: 'holdThenWhere', args: [50] })),
    )
    assert.deepEqual(new Set(where), new Set(threads))
    assert.deepEqual(pool.threadIds(), threads)
    assert.equal(pool.stats().workersTerminated, before.workersTerminated)
    assert.equal(pool.stats().stopped, before.stopped + 1)
  })

  it('terminates the worker of a query that does not stop by itself (no ticks), and heals', async () => {
    const own = new QueryPool({ size: 2, extraQueryModules: [SLOW], cancelGraceMs: 200 })
    try {
      await own.warmUp(dbPath)
      const threads = own.threadIds()
      await assert.rejects(
        own.run({ dbPath, query: 'holdThenWhere', args: [600_000] }, { signal: deadline(100) }),
        QueryDeadlineError,
      )
      // After the grace period its worker is terminated, and its thread exits.
      const gone = await Promise.race(threads.map((t) => own.waitForExit(t).then(() => t)))
      assert.equal(own.stats().workersTerminated, 1)
      assert.deepEqual(
        threads.filter((t) => !own.threadIds().includes(t)),
        [gone],
      )
      // The pool heals: a replacement and the other worker serve.
      await own.warmUp(dbPath)
      assert.equal(own.threadIds().length, 2)
    } finally {
      await own.close()
    }
  })

  it('drops a queued task on abort without terminating anything, and sheds load past maxQueue', async () => {
    await pool.warmUp(dbPath)
    const stop = new AbortController()
    const spins = [1, 2].map(() =>
      pool.run({ dbPath, query: 'spin', args: [] }, { signal: stop.signal }).catch((e: unknown) => e),
    )
    await until(() => pool.stats().running === 2)
    // Both workers busy: two more tasks may wait (maxQueue 2), the next is refused at once.
    const queuedAbort = new AbortController()
    const queued: Promise<unknown>[] = []
    let busy: unknown = null
    for (let i = 0; i < 6 && busy === null; i++) {
      const p = pool.run({ dbPath, query: 'findTitle', args: [68646] }, { signal: queuedAbort.signal })
      const early = await Promise.race([
        p.then(
          () => null,
          (e: unknown) => e,
        ),
        sleep(20).then(() => null),
      ])
      if (early instanceof PoolBusyError) busy = early
      else queued.push(p.catch((e: unknown) => e))
    }
    assert.ok(busy instanceof PoolBusyError, 'the pool refused a task past maxQueue')
    assert.equal(queued.length, 2)
    assert.equal(pool.stats().queued, 2)
    const terminated = pool.stats().workersTerminated
    queuedAbort.abort('client went away')
    for (const r of await Promise.all(queued)) assert.ok(r instanceof QueryAbortedError)
    assert.equal(pool.stats().workersTerminated, terminated, 'aborting queued tasks terminates nothing')
    const stopped = pool.stats().stopped
    stop.abort('done')
    for (const r of await Promise.all(spins)) assert.ok(r instanceof QueryAbortedError)
    assert.equal(pool.stats().stopped, stopped + 2)
    assert.equal(await pool.run({ dbPath, query: 'findTitle', args: [1] }).then(() => 'ok'), 'ok')
  })
})

describe('inline executor', () => {
  let dbPath: string
  let cleanup: () => Promise<void>
  let inline: InlineExecutor
  before(async () => {
    const tmp = await tempDir()
    cleanup = tmp.cleanup
    dbPath = (await buildTestDataset(tmp.dir)).dbPath
    inline = await InlineExecutor.create([SLOW])
  })
  after(async () => {
    await inline.close()
    await cleanup()
  })

  it('runs queries on the calling thread and stops a runaway scan at the deadline', async () => {
    assert.equal(await inline.run({ dbPath, query: 'whereAmI', args: [] }), 0)
    const started = Date.now()
    await assert.rejects(
      inline.run({ dbPath, query: 'spin', args: [] }, { deadlineAt: Date.now() + 150, timeoutMs: 150 }),
      QueryDeadlineError,
    )
    assert.ok(Date.now() - started < 1500)
    const title = (await inline.run({ dbPath, query: 'findTitle', args: [68646] })) as { id: string }
    assert.equal(title.id, 'tt0068646')
  })
})
