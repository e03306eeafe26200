import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { after, before, describe, it } from 'node:test'
import { startTestServer, type TestServer, tempDir, writeKeysFile } from '../helpers/server.js'
import { until } from '../helpers/wait.js'

interface Line {
  msg: string
  requestId?: string
  user?: string
  method?: string
  url?: string
  status?: number
  ms?: number
  probe?: number
}

describe('the request log', { timeout: 120_000 }, () => {
  const lines: Line[] = []
  let server: TestServer
  let cleanup: () => Promise<void>

  before(async () => {
    const tmp = await tempDir()
    cleanup = tmp.cleanup
    const apiKeysFile = await writeKeysFile(tmp.dir, [{ key: 'mq_logkey', name: 'ada', role: 'user' }])
    const stream = new Writable({
      write(chunk, _encoding, done) {
        for (const text of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(text))
        done()
      },
    })
    server = await startTestServer(
      { apiKeysFile },
      {
        logger: { level: 'info', stream },
        setup: (app) => {
          app.get('/log-probe', { config: { public: true } }, async (request) => {
            request.log.warn({ probe: 1 }, 'probe')
            return 'ok'
          })
        },
      },
    )
  })
  after(async () => {
    await server?.close()
    await cleanup?.()
  })

  const requestLines = (id: string) => lines.filter((l) => l.msg === 'request' && l.requestId === id)

  it('writes one line per request: id, method, url, status and time', async () => {
    const res = await fetch(`${server.url}/health?x=1`, { headers: { 'x-request-id': 'log-test-1' } })
    assert.equal(res.status, 200)
    await until(() => requestLines('log-test-1').length > 0, 'the request line')
    const [line, ...more] = requestLines('log-test-1')
    assert.deepEqual(more, [])
    assert.equal(line.method, 'GET')
    assert.equal(line.url, '/health?x=1')
    assert.equal(line.status, 200)
    assert.equal(typeof line.ms, 'number')
    assert.equal(line.user, undefined)
    // The fields pino writes first, in its order, as on every other line.
    assert.deepEqual(Object.keys(line).slice(0, 4), ['level', 'time', 'pid', 'hostname'])
    assert.equal((line as unknown as { level: number }).level, 30)
  })

  it("names the key's user on a signed-in request", async () => {
    const res = await fetch(`${server.url}/me/ratings`, {
      headers: { 'x-request-id': 'log-test-2', authorization: 'Bearer mq_logkey' },
    })
    await until(() => requestLines('log-test-2').length > 0, 'the request line')
    assert.equal(requestLines('log-test-2')[0].user, 'ada')
    assert.equal(requestLines('log-test-2')[0].status, res.status)
  })

  it("carries the request id on a request's own lines", async () => {
    await fetch(`${server.url}/log-probe`, { headers: { 'x-request-id': 'log-test-3' } })
    await until(() => requestLines('log-test-3').length > 0, 'the request line')
    const probe = lines.find((l) => l.msg === 'probe')
    assert.equal(probe?.requestId, 'log-test-3')
    assert.equal(probe?.probe, 1)
  })
})
