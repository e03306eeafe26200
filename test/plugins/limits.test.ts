import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { jsonDepthExceeds } from '../../src/lib/json.js'
import { workerUrl } from '../../src/lib/worker-url.js'
import type { QueryPool } from '../../src/pool/pool.js'
import { buildTestDataset, FIXTURE } from '../helpers/dataset.js'
import { json } from '../helpers/http.js'
import { startTestServer, tempDir, writeKeysFile } from '../helpers/server.js'
import { testQuery } from '../helpers/test-query.js'

const FAULTS = workerUrl('../faults/fault-queries.js', import.meta.url).href

describe('jsonDepthExceeds (unit)', () => {
  it('counts nesting of arrays and objects, not brackets in strings or escaped quotes', () => {
    assert.equal(jsonDepthExceeds('{"a":[1,{"b":[]}]}', 4), false)
    assert.equal(jsonDepthExceeds('{"a":[1,{"b":[]}]}', 3), true)
    assert.equal(jsonDepthExceeds(`{"s":"${'['.repeat(50)}"}`, 1), false)
    // An escaped quote does not end the string; an escaped backslash before a quote does.
    assert.equal(jsonDepthExceeds(JSON.stringify({ s: `"${'{'.repeat(50)}` }), 1), false)
    assert.equal(jsonDepthExceeds(`${JSON.stringify({ s: 'a\\' })}${'['.repeat(4)}`, 3), true)
    assert.equal(jsonDepthExceeds('['.repeat(1_000_000), 32), true)
  })
})

describe('limits', () => {
  it('sends the security headers an API needs, no HSTS and no CORS headers by default', async () => {
    const server = await startTestServer()
    try {
      for (const url of ['/health', `/titles/${FIXTURE.godfather}`, '/titles/tt0000000', '/']) {
        const res = await fetch(`${server.url}${url}`, { headers: { origin: 'https://example.org' } })
        assert.equal(res.headers.get('x-content-type-options'), 'nosniff', url)
        assert.equal(res.headers.get('referrer-policy'), 'no-referrer', url)
        assert.equal(res.headers.get('x-frame-options'), 'SAMEORIGIN', url)
        assert.equal(res.headers.get('cross-origin-resource-policy'), 'same-origin', url)
        // Over plain HTTP, HSTS would pin the host (and a proxy would pass it on): off by default.
        assert.equal(res.headers.get('strict-transport-security'), null, url)
        // Legacy headers for browsers of another age are not sent.
        assert.equal(res.headers.get('x-xss-protection'), null, url)
        assert.equal(res.headers.get('access-control-allow-origin'), null, url)
        await res.arrayBuffer()
      }
    } finally {
      await server.close()
    }
  })

  it('sends Strict-Transport-Security only with --hsts-max-age, without includeSubDomains', async () => {
    const server = await startTestServer({ hstsMaxAge: 86_400 })
    try {
      const res = await fetch(`${server.url}/health`)
      assert.equal(res.headers.get('strict-transport-security'), 'max-age=86400')
    } finally {
      await server.close()
    }
  })

  it('answers CORS for the configured origins', async () => {
    const server = await startTestServer({ corsOrigin: 'https://app.example.org' })
    try {
      const ok = await fetch(`${server.url}/health`, { headers: { origin: 'https://app.example.org' } })
      assert.equal(ok.headers.get('access-control-allow-origin'), 'https://app.example.org')
      assert.match(ok.headers.get('access-control-expose-headers')!, /x-request-id/)
      const other = await fetch(`${server.url}/health`, { headers: { origin: 'https://evil.example' } })
      assert.equal(other.headers.get('access-control-allow-origin'), null)
    } finally {
      await server.close()
    }
  })

  it('rate-limits per API key, else per IP, with 429 problem+json and Retry-After; /health is exempt', async () => {
    const { dir, cleanup } = await tempDir()
    const keysFile = await writeKeysFile(dir, [
      { key: 'key-a', name: 'a', role: 'user' },
      { key: 'key-b', name: 'b', role: 'user' },
    ])
    const server = await startTestServer({ rateLimitPerMinute: 3, apiKeysFile: keysFile })
    try {
      const get = (headers: Record<string, string> = {}) => fetch(`${server.url}/ready`, { headers })
      for (let i = 0; i < 3; i++) assert.equal((await get({ 'x-api-key': 'key-a' })).status, 503) // no dataset, not limited
      const limited = await get({ 'x-api-key': 'key-a' })
      assert.equal(limited.status, 429)
      assert.match(limited.headers.get('content-type')!, /application\/problem\+json/)
      assert.ok(Number(limited.headers.get('retry-after')) >= 1)
      const body = await json(limited)
      assert.equal(body.code, 'RATE_LIMITED')
      assert.equal(body.instance, limited.headers.get('x-request-id'))
      // Another key, and anonymous requests from the same IP, have their own budgets.
      assert.equal((await get({ 'x-api-key': 'key-b' })).status, 503)
      assert.equal((await get()).status, 503)
      for (let i = 0; i < 10; i++) assert.equal((await fetch(`${server.url}/health`)).status, 200)
    } finally {
      await server.close()
      await cleanup()
    }
  })

  it('sheds data requests with 503 + Retry-After when the event loop lags, while /health answers', {
    timeout: 120_000,
  }, async () => {
    let lagger: NodeJS.Timeout | undefined
    const server = await startTestServer(
      { maxEventLoopDelayMs: 50 },
      {
        setup: (app) => {
          // Lags the event loop (250 ms blocked in every 260) until the test is done, so every
          // sample the load shedder takes sees the lag, however slow this machine is.
          // Public, like /health: starting the lag must not be shed by the lag of the server's start.
          app.get('/block', { config: { public: true } }, async () => {
            lagger ??= setInterval(() => {
              const until = Date.now() + 250
              while (Date.now() < until) {} // deliberately blocks the event loop
            }, 260)
            return 'lagging'
          })
        },
      },
    )
    try {
      assert.equal((await fetch(`${server.url}/block`)).status, 200)
      // Until the shedder's next sample has seen the lag, /ready answers 503 NO_DATASET (this
      // server has no dataset); then OVERLOADED, which is what this waits for.
      let shed: Response
      let code: string
      do {
        shed = await fetch(`${server.url}/ready`)
        code = (await json(shed)).code
      } while (code === 'NO_DATASET')
      const health = await fetch(`${server.url}/health`)
      assert.equal(health.status, 200)
      assert.equal(shed.status, 503)
      assert.equal(code, 'OVERLOADED')
      assert.equal(shed.headers.get('retry-after'), '1')
    } finally {
      clearInterval(lagger)
      await server.close()
    }
  })
})

describe('back-pressure on the query queue', () => {
  it('answers 503 POOL_BUSY with Retry-After past the queue limit, while /health answers', async () => {
    const tmp = await tempDir()
    const { dbPath } = await buildTestDataset(tmp.dir)
    const server = await startTestServer(
      { dbPath, queryTimeoutMs: 2000 },
      {
        dataset: { extraQueryModules: [FAULTS] },
        setup: (app) => {
          app.get('/probe/hold', async (request) => {
            const h = await request.dataset()
            return { held: await testQuery(h, 'hold', 3000) }
          })
        },
      },
    )
    try {
      // Two workers and 64 queue slots: 80 slow queries overflow the queue.
      const storm = Array.from({ length: 80 }, async (_, i) => {
        const res = await fetch(`${server.url}/probe/hold`, { headers: { 'x-request-id': `storm-${i}` } })
        return {
          status: res.status,
          retryAfter: res.headers.get('retry-after'),
          type: res.headers.get('content-type'),
          body: await json(res),
        }
      })
      const first = await Promise.race(storm)
      assert.equal(first.status, 503)
      assert.equal(first.retryAfter, '1')
      assert.match(first.type!, /application\/problem\+json/)
      assert.equal(first.body.code, 'POOL_BUSY')
      assert.match(first.body.instance, /^storm-\d+$/)
      // The queue is full, yet liveness answers at once.
      const health = await fetch(`${server.url}/health`)
      assert.equal(health.status, 200)
      assert.equal(server.app.dataset.stats().executor.queued, 64)

      const codes = new Map<string, number>()
      for (const res of await Promise.all(storm)) {
        assert.equal(res.status, 503)
        assert.equal(res.retryAfter, '1')
        codes.set(res.body.code, (codes.get(res.body.code) ?? 0) + 1)
      }
      assert.deepEqual(Object.fromEntries(codes), { POOL_BUSY: 14, QUERY_TIMEOUT: 66 })
      // The queue drains and, once the workers stopped at the deadline are replaced, the pool serves.
      await (server.app.dataset.executor as QueryPool).warmUp()
      const after = await fetch(`${server.url}/titles/${FIXTURE.godfather}`)
      assert.equal(after.status, 200, await after.text())
    } finally {
      await server.close()
      await tmp.cleanup()
    }
  })
})
