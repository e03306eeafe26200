import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { newRequestId, requestIdOf } from '../../src/context/request-id.js'

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('request ids', () => {
  it('are UUIDv7s carrying their millisecond, unique within one', () => {
    const now = Date.UTC(2026, 11, 7, 20, 0, 0, 123)
    const ids = Array.from({ length: 10_000 }, () => newRequestId(now))
    for (const id of ids.slice(0, 100)) assert.match(id, UUID_V7)
    assert.equal(new Set(ids).size, ids.length)
    assert.equal(Number.parseInt(ids[0].replace('-', '').slice(0, 12), 16), now)
  })

  it('sort by the time they were made', () => {
    const earlier = newRequestId(1_000_000)
    const later = newRequestId(1_000_001)
    assert.ok(earlier < later)
    assert.equal(newRequestId(1_000_000).slice(0, 15), earlier.slice(0, 15))
  })

  it('keep a well-formed X-Request-Id and replace any other', () => {
    assert.equal(requestIdOf('abc-123_x.y'), 'abc-123_x.y')
    assert.match(requestIdOf('bad id'), UUID_V7)
    assert.match(requestIdOf('x'.repeat(129)), UUID_V7)
    assert.match(requestIdOf(['a', 'b']), UUID_V7)
    assert.match(requestIdOf(undefined), UUID_V7)
  })
})
