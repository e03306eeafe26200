import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { chunks, limit, mapLimit } from '../../src/lib/limit.js'

describe('mapLimit', () => {
  it('keeps at most `limit` calls in flight and returns results in input order', async () => {
    let active = 0
    let max = 0
    const out = await mapLimit([30, 5, 20, 1, 10, 2], 3, async (ms, i) => {
      max = Math.max(max, ++active)
      await sleep(ms)
      active--
      return i * 10
    })
    assert.deepEqual(out, [0, 10, 20, 30, 40, 50])
    assert.equal(max, 3)
    assert.deepEqual(await mapLimit([], 2, async () => 1), [])
    await assert.rejects(
      mapLimit([1], 0, async () => 1),
      RangeError,
    )
  })
})

describe('limit', () => {
  it('hands a freed slot to a waiter before a newcomer, and releases on failure', async () => {
    const run = limit(1)
    const order: string[] = []
    const a = run(async () => {
      order.push('a')
      throw new Error('a failed')
    })
    const b = run(async () => order.push('b'))
    await assert.rejects(a)
    const c = run(async () => order.push('c'))
    await Promise.all([b, c])
    assert.deepEqual(order, ['a', 'b', 'c'])
    assert.throws(() => limit(0), RangeError)
  })

  it('chunks', () => {
    assert.deepEqual(chunks([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]])
    assert.deepEqual(chunks([], 2), [])
  })
})
