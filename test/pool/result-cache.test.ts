import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ResultCache } from '../../src/pool/result-cache.js'

describe('result cache', () => {
  it('keeps answers per generation, query and arguments, and hands out copies', () => {
    const cache = new ResultCache(1 << 20)
    const key = ResultCache.key('g1', 'listTitles', [{ match: '"the"*' }, { limit: 20 }])!
    cache.set(key, { items: [{ id: 1 }] })
    const hit = cache.get(key)!.value as { items: { id: number }[] }
    assert.deepEqual(hit, { items: [{ id: 1 }] })
    hit.items.push({ id: 2 })
    assert.deepEqual(cache.get(key)!.value, { items: [{ id: 1 }] }, 'a caller cannot change the entry')
    assert.equal(
      cache.get(ResultCache.key('g2', 'listTitles', [{ match: '"the"*' }, { limit: 20 }])!),
      undefined,
    )
    assert.equal(
      cache.get(ResultCache.key('g1', 'listTitles', [{ match: '"the"*' }, { limit: 21 }])!),
      undefined,
    )
    assert.equal(cache.hits, 2)
    assert.equal(cache.misses, 2)
  })

  it('stays within its byte budget, dropping the least recently used first', () => {
    const cache = new ResultCache(16 * 1024)
    const value = 'x'.repeat(900)
    for (let i = 0; i < 10; i++) cache.set(`k${i}`, value)
    cache.get('k0') // k0 is now the most recently used
    for (let i = 10; i < 40; i++) cache.set(`k${i}`, value)
    assert.ok(cache.bytes <= 16 * 1024, `${cache.bytes} bytes`)
    assert.ok(cache.get('k39'), 'the newest entry is kept')
    assert.equal(cache.get('k1'), undefined, 'an old, unused entry was dropped')
    // An answer larger than a sixteenth of the budget is not kept at all.
    cache.set('big', 'y'.repeat(2000))
    assert.equal(cache.get('big'), undefined)
  })

  it('keeps nothing with a zero budget', () => {
    const cache = new ResultCache(0)
    cache.set('k', 1)
    assert.equal(cache.get('k'), undefined)
  })
})
