import assert from 'node:assert/strict'
import http from 'node:http'
import { describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { type ConfigInput, loadConfig } from '../src/config.js'
import { startServer } from '../src/server.js'

/** A route that takes `ms`, and a promise that resolves once a request has reached it. */
function slowRoute(ms: number) {
  let entered = () => {}
  const reached = new Promise<void>((resolve) => {
    entered = resolve
  })
  const setup = (app: FastifyInstance) => {
    app.get('/slow', async () => {
      entered()
      await sleep(ms)
      return { done: true }
    })
  }
  return { setup, reached }
}

/** A server on a free port, without a dataset; load shedding off, as in every test server. */
const serverConfig = (more: ConfigInput = {}) =>
  loadConfig(
    { port: 0, logLevel: 'silent', dbPath: '/nonexistent/marquee.db', maxEventLoopDelayMs: 0, ...more },
    {},
  )

describe('graceful shutdown', () => {
  it('lets in-flight requests finish, then stops accepting', async () => {
    const config = serverConfig()
    const slow = slowRoute(300)
    const server = await startServer(config, { logger: false, setup: slow.setup })
    const inFlight = fetch(`${server.url}/slow`)
    await slow.reached
    const closing = server.close()
    const res = await inFlight
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), { done: true })
    assert.deepEqual(await closing, { forced: false })
    await assert.rejects(fetch(`${server.url}/health`))
  })

  it('answers requests sent on kept-alive sockets just after shutdown begins, each closing its connection', async () => {
    // A long drain bound: the drain ends when the last connection closes, not at the bound.
    const config = serverConfig({ shutdownDrainMs: 60_000 })
    const server = await startServer(config, { logger: false })
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 })
    const get = () =>
      new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
        http
          .get(`${server.url}/health`, { agent }, (res) => {
            res.resume()
            res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }))
          })
          .on('error', reject)
      })
    try {
      // Eight sockets open and idle, kept alive; then a request on each just after shutdown begins.
      await Promise.all(Array.from({ length: 8 }, get))
      assert.equal(Object.values(agent.freeSockets).flat().length, 8)
      const closing = server.close()
      const answers = await Promise.all(Array.from({ length: 8 }, get))
      assert.deepEqual(
        answers.map((a) => a.status),
        Array(8).fill(200),
      )
      assert.ok(answers.every((a) => a.connection === 'close'))
      assert.deepEqual(await closing, { forced: false })
      await assert.rejects(fetch(`${server.url}/health`))
    } finally {
      agent.destroy()
    }
  })

  it('forces the remaining connections closed after the shutdown timeout', async () => {
    const config = serverConfig({ shutdownTimeoutMs: 100 })
    const slow = slowRoute(5000)
    const server = await startServer(config, { logger: false, setup: slow.setup })
    const inFlight = fetch(`${server.url}/slow`).catch((e: Error) => e)
    await slow.reached
    assert.deepEqual(await server.close(), { forced: true })
    assert.ok((await inFlight) instanceof Error)
  })
})
