import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import path from 'node:path'
import { describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { hashApiKey, newApiKey } from '../../src/users/api-keys.js'
import { openUserStore } from '../../src/users/open.js'
import { CLI } from '../helpers/cli.js'
import { buildTestDataset, FIXTURE } from '../helpers/dataset.js'
import { tempDir } from '../helpers/server.js'
import { until } from '../helpers/wait.js'

/**
 * SIGTERM while `marquee serve` (the real CLI in a child process) is under load: requests in
 * flight finish, uploads still streaming included; every request the server saw gets a real
 * answer (no 5xx but deliberate 503s); requests it never saw may be refused; exit code 0.
 * "Saw" comes from the server's own log (at debug level, "incoming request" with the request id
 * each client sends, written as the request arrives), so a connection refused after the listener closed is told apart from a dropped request.
 */

const LOOPS = 6
const UPLOADS = 2

interface Outcome {
  id: string
  path: string
  status?: number
  error?: string
}

describe('SIGTERM under load', () => {
  it('finishes every request in flight, refuses none it accepted, and exits 0', async (t) => {
    const { dir, cleanup } = await tempDir('marquee-sigterm-')
    let child: ChildProcess | undefined
    try {
      const { dbPath } = await buildTestDataset(dir)
      const usersDb = path.join(dir, 'users.db')
      const store = await openUserStore(usersDb, { create: true, inline: true })
      const key = newApiKey()
      await store.createKey({
        name: 'load',
        role: 'user',
        keyHash: hashApiKey(key),
        at: new Date().toISOString(),
      })
      await store.close()

      const server = spawn(
        process.execPath,
        [...CLI, 'serve', '--port', '0', '--db', dbPath, '--users-db', usersDb, '--pool-size', '2'],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: {
            ...process.env,
            MARQUEE_LOG_LEVEL: 'debug',
            MARQUEE_SHUTDOWN_TIMEOUT_MS: process.env.SHUTDOWN_TIMEOUT_MS ?? '15000',
            // As in every test server: a busy machine must not turn into load-shedding 503s.
            MARQUEE_MAX_EVENT_LOOP_DELAY_MS: '0',
            // The uploads must finish: on a busy machine an import's query can outlast the default.
            MARQUEE_QUERY_TIMEOUT_MS: '60000',
          },
        },
      )
      child = server
      const seen = new Set<string>()
      let log = ''
      const exited = new Promise<number | null>((resolve) => server.on('close', (code) => resolve(code)))
      const url = await new Promise<string>((resolve, reject) => {
        let pending = ''
        server.stdout?.on('data', (d: Buffer) => {
          log += d
          pending += d
          const lines = pending.split('\n')
          pending = lines.pop() ?? ''
          for (const line of lines) {
            const m = /serving on (http:\/\/[^\s"]+)/.exec(line)
            if (m) resolve(m[1])
            if (line.includes('"incoming request"')) {
              const id = (JSON.parse(line) as { requestId?: string }).requestId
              if (id) seen.add(id)
            }
          }
        })
        server.stderr?.on('data', (d) => {
          log += d
        })
        void exited.then(() => reject(new Error(`the server exited early:\n${log}`)))
      })

      const outcomes: Outcome[] = []
      let n = 0
      const paths = [
        `/titles/${FIXTURE.godfather}?include=credits,akas`,
        '/titles?genre=Drama&sort=rating&limit=50&facets=genre,decade',
        `/names/${FIXTURE.coppola}/credits`,
        '/search?q=godf',
        '/titles?q=night&limit=20',
        '/me/watchlist',
      ]
      let stop = false
      const loop = async (i: number) => {
        for (let k = 0; !stop; k++) {
          const p = paths[(i + k) % paths.length]
          const o: Outcome = { id: `load-${++n}`, path: p }
          outcomes.push(o)
          try {
            const res = await fetch(`${url}${p}`, {
              headers: { 'x-request-id': o.id, authorization: `Bearer ${key}` },
            })
            await res.arrayBuffer()
            o.status = res.status
          } catch (err) {
            o.error = String((err as Error).cause ?? err)
            return // the server is gone for this client
          }
        }
      }
      /** An import whose body trickles in over a second: in flight when SIGTERM comes. */
      const upload = async (i: number) => {
        const o: Outcome = { id: `upload-${i}`, path: '/me/import' }
        outcomes.push(o)
        const items = [FIXTURE.godfather, FIXTURE.amelie, FIXTURE.starWars].map((t) => ({
          tconst: t,
          watchlist: true,
        }))
        const parts = JSON.stringify({ items }).match(/.{1,8}/g) ?? []
        const body = new ReadableStream<Uint8Array>({
          async pull(controller) {
            const part = parts.shift()
            if (part === undefined) return controller.close()
            await sleep(1000 / 20)
            controller.enqueue(new TextEncoder().encode(part))
          },
        })
        try {
          const res = await fetch(`${url}/me/import`, {
            method: 'POST',
            headers: {
              'x-request-id': o.id,
              authorization: `Bearer ${key}`,
              'content-type': 'application/json',
            },
            body,
            duplex: 'half',
          } as RequestInit)
          await res.arrayBuffer()
          o.status = res.status
        } catch (err) {
          o.error = String((err as Error).cause ?? err)
        }
      }

      // Warm: the dataset is loaded and every kind of request has been answered once.
      for (const p of paths) {
        let status = 0
        for (let i = 0; i < 20 && (status === 0 || status === 503); i++) {
          const res = await fetch(`${url}${p}`, { headers: { authorization: `Bearer ${key}` } })
          await res.arrayBuffer()
          status = res.status
        }
        assert.ok(status < 500, `${p}: ${status}`)
      }
      const loops = Array.from({ length: LOOPS }, (_, i) => loop(i))
      const answered = () => outcomes.filter((o) => o.status !== undefined).length
      await until(() => answered() >= 30, '30 answers under load')
      // The uploads start, and SIGTERM comes once the server has logged each of them, while their
      // bodies are still on the way.
      const uploads = Array.from({ length: UPLOADS }, (_, i) => upload(i))
      await until(
        () => Array.from({ length: UPLOADS }, (_, i) => `upload-${i}`).every((id) => seen.has(id)),
        'the server to log the uploads',
      )
      const answeredBefore = answered()
      server.kill('SIGTERM')
      const code = await exited
      stop = true
      await Promise.all([...loops, ...uploads])

      const refused = outcomes.filter((o) => o.error && !seen.has(o.id)).length
      t.diagnostic(
        `${answeredBefore} answers before SIGTERM, ${answered() - answeredBefore} after; ` +
          `${refused} requests the server never saw were refused; exit ${code}`,
      )
      assert.ok(answeredBefore > 10, `the server was under load (${answeredBefore} answers before SIGTERM)`)
      for (const o of outcomes.filter((x) => x.id.startsWith('upload-'))) {
        assert.equal(o.status, 200, `the upload in flight at SIGTERM finished: ${o.error ?? o.status}`)
      }
      const failed = outcomes.filter(
        (o) => (o.status !== undefined && o.status >= 500 && o.status !== 503) || (o.error && seen.has(o.id)),
      )
      assert.deepEqual(failed, [], 'no request the server accepted failed')
      assert.ok(seen.size > 0)
      assert.match(log, /shutting down/)
      assert.equal(code, 0, log.slice(-2000))
    } finally {
      child?.kill('SIGKILL')
      await cleanup()
    }
  })
})
