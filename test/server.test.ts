import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { loadConfig } from '../src/config.js'
import { startServer } from '../src/server.js'

const slowRoute = (ms: number) => (app: FastifyInstance) => {
  app.get('/slow', async () => {
    await sleep(ms)
    return { done: true }
  })
}

// As in every test server: load shedding would turn a busy machine into 503s.
describe('graceful shutdown', () => {
  it('lets in-flight requests finish, then stops accepting', async () => {
    const config = loadConfig(
      { port: 0, logLevel: 'silent', dbPath: '/nonexistent/marquee.db', maxEventLoopDelayMs: 0 },
      {},
    )
    const server = await startServer(config, { logger: false, setup: slowRoute(300) })
    const inFlight = fetch(`${server.url}/slow`)
    await sleep(50)
    const closing = server.close()
    const res = await inFlight
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), { done: true })
    assert.deepEqual(await closing, { forced: false })
    await assert.rejects(fetch(`${server.url}/health`))
  })

  it('forces the remaining connections closed after the shutdown timeout', async () => {
    const config = loadConfig(
      {
        port: 0,
        logLevel: 'silent',
        dbPath: '/nonexistent/marquee.db',
        maxEventLoopDelayMs: 0,
        shutdownTimeoutMs: 100,
      },
      {},
    )
    const server = await startServer(config, { logger: false, setup: slowRoute(5000) })
    const inFlight = fetch(`${server.url}/slow`).catch((e: Error) => e)
    await sleep(50)
    assert.deepEqual(await server.close(), { forced: true })
    assert.ok((await inFlight) instanceof Error)
  })
})
