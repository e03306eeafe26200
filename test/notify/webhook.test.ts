import assert from 'node:assert/strict'
import { createHmac, timingSafeEqual } from 'node:crypto'
import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { type ConfigError, loadConfig } from '../../src/config.js'
import {
  type DeliveryOutcome,
  type GenerationLiveEvent,
  SIGNATURE_HEADER,
  WebhookNotifier,
} from '../../src/notify/webhook.js'
import { buildTestDataset, FIXTURE, swapDatabase } from '../helpers/dataset.js'
import { tempDir } from '../helpers/server.js'
import { until, within } from '../helpers/wait.js'

const SECRET = 'test-secret-0123456789'

/** A POST the receiver got: its headers and the exact body bytes. */
interface Received {
  headers: IncomingMessage['headers']
  body: Buffer
}

/**
 * A local webhook receiver. `answer` decides each request's status (and may hold it: it can return
 * a promise); every request is recorded before it is answered.
 */
async function receiver(answer: (n: number) => number | Promise<number>) {
  const received: Received[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', async () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) })
      const status = await answer(received.length)
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'no')
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    close: () => {
      server.closeAllConnections()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** What a receiver does with a delivery: check the signature over the exact bytes, then parse. */
function verify(r: Received, secret = SECRET): GenerationLiveEvent {
  const header = String(r.headers[SIGNATURE_HEADER] ?? '')
  const expected = `sha256=${createHmac('sha256', secret).update(r.body).digest('hex')}`
  assert.ok(
    header.length === expected.length && timingSafeEqual(Buffer.from(header), Buffer.from(expected)),
    'the signature verifies',
  )
  return JSON.parse(r.body.toString('utf8')) as GenerationLiveEvent
}

/** The outcome of the delivery the notifier ends next. */
const nextOutcome = (n: WebhookNotifier) =>
  within(
    once(n.events, 'done').then(([, outcome]) => outcome as DeliveryOutcome),
    'the delivery to end',
  )

describe('webhook settings', () => {
  it('refuses a URL without a secret, a secret without a URL, short secrets and other schemes', () => {
    const load = (input: Record<string, string>) => () => loadConfig(input, {})
    assert.throws(load({ webhookUrl: 'http://127.0.0.1:9/hook' }), (err: ConfigError) => {
      assert.equal(err.setting, '--webhook-url')
      assert.match(err.message, /secret/)
      return true
    })
    assert.throws(load({ webhookSecret: SECRET }), /--webhook-url/)
    assert.throws(load({ webhookUrl: 'http://127.0.0.1:9/hook', webhookSecret: 'short' }), /at least 16/)
    assert.throws(load({ webhookUrl: 'ftp://example.com/x', webhookSecret: SECRET }), /http/)
    assert.throws(() => loadConfig({}, { MARQUEE_WEBHOOK_URL: 'http://x.test/' }), /MARQUEE_WEBHOOK_URL/)
    const ok = loadConfig({}, { MARQUEE_WEBHOOK_URL: 'https://x.test/h', MARQUEE_WEBHOOK_SECRET: SECRET })
    assert.equal(ok.webhookUrl, 'https://x.test/h')
    assert.equal(ok.webhookSecret, SECRET)
  })
})

describe('webhook deliveries (WebhookNotifier)', { timeout: 120_000 }, () => {
  const event = {
    generation: 'g2',
    previous: 'g1',
    loadedAt: null,
    liveAt: new Date().toISOString(),
    changes: null,
  }

  it('a receiver that fails twice then succeeds gets the delivery on the third try, same bytes', async () => {
    const rx = await receiver((n) => (n <= 2 ? 503 : 200))
    const n = new WebhookNotifier({ url: rx.url, secret: SECRET, baseDelayMs: 10, timeoutMs: 10_000 })
    const attempts: unknown[] = []
    n.events.on('attempt', (a) => attempts.push(a))
    try {
      const outcome = await within(n.notify(event), 'the delivery')
      assert.deepEqual(outcome, { result: 'delivered', attempts: 3, status: 200 })
      assert.equal(rx.received.length, 3)
      assert.deepEqual(
        attempts.map((a) => (a as { status: number }).status),
        [503, 503, 200],
      )
      const ids = rx.received.map((r) => r.headers['x-marquee-delivery'])
      assert.equal(new Set(ids).size, 1)
      assert.deepEqual(
        rx.received.map((r) => r.headers['x-marquee-attempt']),
        ['1', '2', '3'],
      )
      for (const r of rx.received) assert.ok(r.body.equals(rx.received[0].body))
      const body = verify(rx.received[2])
      assert.equal(body.deliveryId, ids[0])
      assert.equal(body.generation, 'g2')
      assert.equal(n.pending, 0)
    } finally {
      await n.close()
      await rx.close()
    }
  })

  it('stops at a 4xx other than 408 and 429; gives up after the attempts; a 429 is retried', async () => {
    const rejecting = await receiver(() => 400)
    const failing = await receiver(() => 500)
    const limited = await receiver((n) => (n === 1 ? 429 : 204))
    const tuning = { secret: SECRET, baseDelayMs: 5, attempts: 3 }
    const a = new WebhookNotifier({ url: rejecting.url, ...tuning })
    const b = new WebhookNotifier({ url: failing.url, ...tuning })
    const c = new WebhookNotifier({ url: limited.url, ...tuning })
    try {
      assert.deepEqual(await a.notify(event), { result: 'rejected', attempts: 1, status: 400 })
      assert.deepEqual(await b.notify(event), { result: 'exhausted', attempts: 3, error: 'HTTP 500' })
      assert.deepEqual(await c.notify(event), { result: 'delivered', attempts: 2, status: 204 })
      assert.equal(rejecting.received.length, 1)
      assert.equal(failing.received.length, 3)
    } finally {
      await Promise.all([a.close(), b.close(), c.close()])
      await Promise.all([rejecting.close(), failing.close(), limited.close()])
    }
  })

  it('close() cancels a delivery waiting for its next attempt, and one whose request is in flight', async () => {
    let hold: () => void = () => {}
    const held = new Promise<void>((resolve) => {
      hold = resolve
    })
    const failing = await receiver(() => 503)
    const holding = await receiver(async () => {
      await held
      return 200
    })
    // A wait of an hour before the second attempt: only close() can end it.
    const waiting = new WebhookNotifier({ url: failing.url, secret: SECRET, baseDelayMs: 3_600_000 })
    const inFlight = new WebhookNotifier({ url: holding.url, secret: SECRET })
    try {
      const first = waiting.notify(event)
      const second = inFlight.notify(event)
      await until(() => failing.received.length === 1 && holding.received.length === 1, 'both requests')
      await until(() => waiting.pending === 1, 'the retry wait')
      await within(Promise.all([waiting.close(), inFlight.close()]), 'close')
      assert.deepEqual(await first, { result: 'cancelled', attempts: 1 })
      assert.deepEqual(await second, { result: 'cancelled', attempts: 1 })
      assert.deepEqual(await waiting.notify(event), { result: 'cancelled', attempts: 0 })
    } finally {
      hold()
      await Promise.all([failing.close(), holding.close()])
    }
  })
})

describe('webhook on a real swap (the server)', { timeout: 240_000 }, () => {
  let app: FastifyInstance
  let url: string
  let dbPath: string
  let cleanup: () => Promise<void>
  let release: () => void = () => {}
  let answers: (n: number) => number | Promise<number> = () => 200
  let rx: Awaited<ReturnType<typeof receiver>>
  let initial: string

  before(async () => {
    const tmp = await tempDir()
    ;({ dbPath } = await buildTestDataset(tmp.dir))
    rx = await receiver((n) => answers(n))
    const config = loadConfig(
      {
        host: '127.0.0.1',
        port: 0,
        poolSize: 2,
        logLevel: 'silent',
        dbPath,
        usersDbPath: path.join(tmp.dir, 'users.db'),
        dataDir: path.join(tmp.dir, 'imdb'),
        sampleDir: path.join(tmp.dir, 'sample'),
        maxEventLoopDelayMs: 0,
        queryTimeoutMs: 60_000,
        // Swaps come from swapDatabase's reload only.
        watchDbMs: 0,
        webhookUrl: rx.url,
        webhookSecret: SECRET,
      },
      {},
    )
    app = await buildApp(config, { logger: false, webhook: { baseDelayMs: 10, timeoutMs: 30_000 } })
    url = await app.listen({ host: '127.0.0.1', port: 0 })
    initial = app.dataset.current()?.id ?? ''
    cleanup = async () => {
      release()
      await app.close()
      await rx.close()
      await tmp.cleanup()
    }
  })
  after(() => cleanup())

  const served = async () => {
    const res = await fetch(`${url}/ratings?ids=${FIXTURE.godfather}`)
    assert.equal(res.status, 200)
    return ((await res.json()) as { generation: string; items: { votes: number }[] }).generation
  }

  it('posts nothing for the generation loaded at start; a swap is announced, signed, with its changes', async () => {
    assert.ok(initial)
    assert.equal(rx.received.length, 0)
    const notifier = app.webhook
    assert.ok(notifier)
    const done = nextOutcome(notifier)
    const changes = { since: initial, counts: { title: { changed: 2, added: 0, removed: 0 } } }
    await swapDatabase(app, dbPath, 'webhook-g2', (db) => {
      db.prepare(`UPDATE meta SET value = json_set(value, '$.changes', json(?)) WHERE key = 'manifest'`).run(
        JSON.stringify(changes),
      )
    })
    assert.equal((await done).result, 'delivered')
    assert.equal(rx.received.length, 1)
    const [r] = rx.received
    const body = verify(r)
    assert.equal(body.type, 'generation.live')
    assert.equal(body.generation, 'webhook-g2')
    assert.equal(body.previous, initial)
    assert.deepEqual(body.changes, changes)
    assert.ok(Date.parse(body.liveAt) > 0)
    assert.equal(r.headers['x-marquee-delivery'], body.deliveryId)
    assert.equal(r.headers['x-marquee-event'], 'generation.live')
    assert.equal(r.headers['x-marquee-timestamp'], String(Math.floor(Date.parse(body.liveAt) / 1000)))
    assert.match(String(r.headers['content-type']), /^application\/json/)
    // A signature with another secret does not verify.
    assert.throws(() => verify(r, 'another-secret-0123456789'))
  })

  it('the swap completes, and is served, while the receiver has not answered; retries reach it', async () => {
    const notifier = app.webhook
    assert.ok(notifier)
    const before = rx.received.length
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    // The first attempt fails, the second is held until the test releases it.
    answers = async (n) => {
      if (n === before + 1) return 500
      await held
      return 200
    }
    const done = nextOutcome(notifier)
    await swapDatabase(app, dbPath, 'webhook-g3', (db) => {
      db.prepare(`UPDATE meta SET value = json_remove(value, '$.changes') WHERE key = 'manifest'`).run()
    })
    assert.equal(await served(), 'webhook-g3')
    await until(() => rx.received.length === before + 2, 'the second attempt to arrive')
    // The receiver holds its answer: the swap is done and the new generation served meanwhile.
    assert.equal(notifier.pending, 1)
    assert.equal(await served(), 'webhook-g3')
    release()
    assert.deepEqual(await done, { result: 'delivered', attempts: 2, status: 200 })
    const body = verify(rx.received[before + 1])
    assert.equal(body.generation, 'webhook-g3')
    assert.equal(body.previous, 'webhook-g2')
    // This generation's manifest records no changes.
    assert.equal(body.changes, null)
  })

  it('closing the server cancels a delivery still waiting on the receiver, and the close completes', async () => {
    const notifier = app.webhook
    assert.ok(notifier)
    const before = rx.received.length
    // Never answered until the cleanup releases it.
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    answers = async () => {
      await held
      return 200
    }
    const done = nextOutcome(notifier)
    await swapDatabase(app, dbPath, 'webhook-g4')
    await until(() => rx.received.length === before + 1, 'the attempt to arrive')
    await within(app.close(), 'the server to close')
    assert.deepEqual(await done, { result: 'cancelled', attempts: 1 })
    assert.equal(notifier.pending, 0)
  })
})
