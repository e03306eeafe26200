import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { Type } from 'typebox'
import { requestContext } from '../../src/context/request-context.js'
import { hashApiKey } from '../../src/users/api-keys.js'
import { startTestServer, type TestServer, tempDir } from '../helpers/server.js'

const USERS = 20
const keyOf = (i: number) => `key-of-user-${i}-${'x'.repeat(20)}`

/** What one sub-task saw: read through requestContext() after awaiting something real. */
async function observe(kind: string, file: string) {
  switch (kind) {
    case 'timer':
      await sleep(Math.floor(Math.random() * 15))
      break
    case 'io':
      await readFile(file)
      break
    case 'immediate':
      await new Promise((resolve) => setImmediate(resolve))
      break
  }
  const ctx = requestContext()
  return { requestId: ctx.requestId, user: ctx.user?.name ?? null }
}

describe('request context', () => {
  let server: TestServer
  let cleanup: () => Promise<void>
  let keysFile: string

  before(async () => {
    const tmp = await tempDir()
    cleanup = tmp.cleanup
    keysFile = path.join(tmp.dir, 'keys.json')
    const entries = Array.from({ length: USERS }, (_, i) => ({
      name: `user${i}`,
      role: 'user',
      sha256: hashApiKey(keyOf(i)),
    }))
    await writeFile(keysFile, JSON.stringify(entries))
    server = await startTestServer(
      { apiKeysFile: keysFile },
      {
        setup: (app) => {
          const probe = async () => {
            const kinds = ['timer', 'io', 'immediate', 'timer', 'io', 'timer', 'immediate', 'io']
            return { seen: await Promise.all(kinds.map((k) => observe(k, keysFile))) }
          }
          app.get('/probe', probe)
          app.post('/probe', { schema: { body: Type.Object({ n: Type.Integer() }) } }, probe)
        },
      },
    )
  })
  after(async () => {
    await server.close()
    await cleanup()
  })

  it('gives each of 200 concurrent requests its own id and user in every Promise.all sub-task', async () => {
    const requests = Array.from({ length: 200 }, async (_, i) => {
      const requestId = `req-${i}`
      const user = i % 4 === 0 ? null : i % USERS
      const headers: Record<string, string> = {
        'x-request-id': requestId,
        'content-type': 'application/json',
      }
      if (user !== null) headers.authorization = `Bearer ${keyOf(user)}`
      // Half the requests carry a body: the context must survive body parsing.
      const res = await fetch(`${server.url}/probe`, {
        method: i % 2 ? 'POST' : 'GET',
        headers,
        body: i % 2 ? JSON.stringify({ n: i }) : undefined,
      })
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('x-request-id'), requestId)
      const { seen } = (await res.json()) as { seen: { requestId: string; user: string | null }[] }
      assert.equal(seen.length, 8)
      for (const s of seen) {
        assert.equal(s.requestId, requestId)
        assert.equal(s.user, user === null ? null : `user${user}`)
      }
    })
    await Promise.all(requests)
  })

  it('is not visible outside a request', () => {
    assert.throws(() => requestContext(), /outside of a request/)
  })

  it('replaces a malformed X-Request-Id with a fresh UUIDv7', async () => {
    for (const bad of ['has space', 'x'.repeat(129), 'semi;colon', '']) {
      const res = await fetch(`${server.url}/health`, { headers: { 'x-request-id': bad } })
      const id = res.headers.get('x-request-id')!
      assert.notEqual(id, bad)
      assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    }
    const ok = 'A'.repeat(128)
    const res = await fetch(`${server.url}/health`, { headers: { 'x-request-id': ok } })
    assert.equal(res.headers.get('x-request-id'), ok)
  })
})
