import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { mapLimit } from '../../src/download/limit.js'

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
