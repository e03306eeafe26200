import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import Database from '../../../src/db/sqlite/driver.js'
import { IMPORT_BODY_LIMIT } from '../../../src/routes/me/import.js'
import { hashApiKey } from '../../../src/users/api-keys.js'
import { openUserStore } from '../../../src/users/open.js'
import type { UserTransaction } from '../../../src/users/store.js'
import { DIALECTS, dialectOptions } from '../../helpers/dialects.js'
import { json } from '../../helpers/http.js'
import { startTestServer, tempDir } from '../../helpers/server.js'
import { until } from '../../helpers/wait.js'
import { cli } from '../../users/cli.js'
import { tt, type UsersFixture, usersFixture } from '../../users/helpers.js'

const PROBLEM = /^application\/problem\+json/

for (const dialect of DIALECTS)
  describe(`/me routes (${dialect})`, dialectOptions(dialect), () => {
    let f: UsersFixture
    let key: string
    let url: string
    /** The import bodies as the main thread holds them in the handler. */
    const importBodies: unknown[] = []
    before(async () => {
      f = await usersFixture(12_000, {
        dialect,
        setup: (app) => {
          app.addHook('preHandler', async (request) => {
            if (request.routeOptions.url === '/me/import') importBodies.push(request.body)
          })
        },
        // A key from an --api-keys file too: both sources resolve keys on one server.
        config: async (dir) => {
          const apiKeysFile = path.join(dir, 'keys.json')
          await writeFile(
            apiKeysFile,
            JSON.stringify([{ name: 'ops', role: 'admin', sha256: hashApiKey('file-key') }]),
          )
          // 10,000-item imports read by a worker: a deadline a busy machine cannot reach.
          return { apiKeysFile, queryTimeoutMs: 60_000 }
        },
      })
      url = `${f.server.url}/me`
      ;({ key } = await f.key('alice'))
    })
    after(() => f.close())

    const auth = (k = key) => ({ authorization: `Bearer ${k}` })
    const send = (method: string, p: string, body?: unknown, k = key) =>
      fetch(`${url}${p}`, {
        method,
        headers: body === undefined ? auth(k) : { ...auth(k), 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
    const importItems = (items: unknown[], k = key, signal?: AbortSignal) =>
      fetch(`${url}/import`, {
        method: 'POST',
        headers: { ...auth(k), 'content-type': 'application/json' },
        body: JSON.stringify({ items }),
        signal,
      })
    const all = async (list: 'watchlist' | 'ratings', k = key) => {
      const out: { tconst: string }[] = []
      let cursor: string | null = null
      do {
        const res = await send('GET', `/${list}?limit=100${cursor ? `&cursor=${cursor}` : ''}`, undefined, k)
        assert.equal(res.status, 200)
        const page = await json(res)
        out.push(...page.items)
        cursor = page.next
      } while (cursor)
      return out
    }

    it('answers 401 problem+json without a valid key, and 403 for a key from the --api-keys file', async () => {
      for (const headers of [{}, { authorization: 'Bearer nope' }] as Record<string, string>[]) {
        const res = await fetch(`${url}/watchlist`, { headers })
        assert.equal(res.status, 401)
        assert.match(res.headers.get('content-type')!, PROBLEM)
        assert.equal((await json(res)).code, 'UNAUTHORIZED')
      }
      const fromFile = await fetch(`${url}/watchlist`, { headers: auth('file-key') })
      assert.equal(fromFile.status, 403)
      assert.match((await json(fromFile)).detail, /keys create/)
    })

    it('PUT/GET/DELETE /me/watchlist/{tconst}, with the title facts joined', async () => {
      const put = await send('PUT', `/watchlist/${tt(42)}`)
      assert.equal(put.status, 201)
      assert.equal(put.headers.get('location'), `/me/watchlist/${tt(42)}`)
      const item = await json(put)
      assert.equal(item.tconst, tt(42))
      assert.equal(item.yourRating, null)
      assert.deepEqual(item.title, {
        id: tt(42),
        type: 'movie',
        primaryTitle: 'Title 42',
        originalTitle: null,
        isAdult: false,
        startYear: 1942,
        endYear: null,
        runtimeMinutes: 90,
        genres: ['Drama', 'Comedy'],
        rating: 2.5,
        votes: 42,
      })
      const again = await send('PUT', `/watchlist/${tt(42)}`)
      assert.equal(again.status, 200)
      assert.equal((await json(again)).addedAt, item.addedAt, 'adding twice keeps the first time')
      assert.deepEqual(await json(await send('GET', `/watchlist/${tt(42)}`)), item)
      assert.equal((await send('DELETE', `/watchlist/${tt(42)}`)).status, 204)
      const gone = await send('DELETE', `/watchlist/${tt(42)}`)
      assert.equal(gone.status, 404)
      assert.match(gone.headers.get('content-type')!, PROBLEM)
      assert.equal((await send('GET', `/watchlist/${tt(42)}`)).status, 404)
    })

    it('answers 404 for titles the dataset does not have, and 400 for malformed ids', async () => {
      for (const [method, p, body] of [
        ['PUT', `/watchlist/${tt(99_999)}`],
        ['PUT', `/ratings/${tt(99_999)}`, { rating: 5 }],
      ] as const) {
        const res = await send(method, p, body)
        assert.equal(res.status, 404)
        assert.match((await json(res)).detail, /tt0099999/)
      }
      assert.equal((await send('PUT', '/watchlist/nm0000001')).status, 400)
      assert.equal((await send('PUT', `/ratings/${tt(1)}`, { rating: 11 })).status, 400)
      assert.equal((await send('PUT', `/ratings/${tt(1)}`, { rating: 0 })).status, 400)
      assert.equal((await send('PUT', `/ratings/${tt(1)}`, { rating: 7.5 })).status, 400)
    })

    it('PUT/DELETE /me/ratings/{tconst} and GET /me/ratings; the watchlist shows your rating', async () => {
      const first = await send('PUT', `/ratings/${tt(7)}`, { rating: 9 })
      assert.equal(first.status, 201)
      const r = await json(first)
      assert.equal(r.rating, 9)
      assert.equal(r.onWatchlist, false)
      assert.equal(r.title.primaryTitle, 'Title 7')
      const second = await send('PUT', `/ratings/${tt(7)}`, { rating: 4 })
      assert.equal(second.status, 200)
      assert.equal((await json(second)).rating, 4)
      await send('PUT', `/watchlist/${tt(7)}`)
      const listed = await json(await send('GET', '/watchlist'))
      assert.equal(listed.items[0].tconst, tt(7))
      assert.equal(listed.items[0].yourRating, 4)
      const ratings = await json(await send('GET', '/ratings'))
      assert.deepEqual(
        ratings.items.map((i: { tconst: string; rating: number; onWatchlist: boolean }) => [
          i.tconst,
          i.rating,
          i.onWatchlist,
        ]),
        [[tt(7), 4, true]],
      )
      assert.equal((await send('DELETE', `/ratings/${tt(7)}`)).status, 204)
      assert.equal((await send('DELETE', `/ratings/${tt(7)}`)).status, 404)
      assert.equal((await send('GET', `/ratings/${tt(7)}`)).status, 404)
      await send('DELETE', `/watchlist/${tt(7)}`)
    })

    it('pages the watchlist newest first with an opaque cursor, and rejects a forged one', async () => {
      const { key: k } = await f.key('pager')
      for (let i = 1; i <= 45; i++)
        assert.equal((await send('PUT', `/watchlist/${tt(1000 + i)}`, undefined, k)).status, 201)
      const seen: string[] = []
      let cursor: string | null = null
      let pages = 0
      do {
        const page: { items: { tconst: string }[]; next: string | null } = await json(
          await send('GET', `/watchlist?limit=20${cursor ? `&cursor=${cursor}` : ''}`, undefined, k),
        )
        seen.push(...page.items.map((i) => i.tconst))
        cursor = page.next
        pages++
      } while (cursor)
      assert.equal(pages, 3)
      assert.deepEqual(
        seen,
        Array.from({ length: 45 }, (_, i) => tt(1045 - i)),
      )
      const bad = await send('GET', '/watchlist?cursor=bm9wZQ', undefined, k)
      assert.equal(bad.status, 400)
      assert.equal((await json(bad)).errors[0].parameter, 'cursor')
      assert.equal((await send('GET', '/watchlist?limit=101', undefined, k)).status, 400)
    })

    it('POST /me/import applies everything, merging repeated titles in order', async () => {
      const { key: k } = await f.key('importer')
      await send('PUT', `/watchlist/${tt(3)}`, undefined, k)
      const res = await importItems(
        [
          { tconst: tt(1), rating: 8, watchlist: true },
          { tconst: tt(2), rating: 5 },
          { tconst: tt(2), rating: 6 },
          { tconst: tt(3), watchlist: false },
          { tconst: tt(4), watchlist: true },
          { tconst: tt(4), rating: null },
        ],
        k,
      )
      assert.equal(res.status, 200)
      assert.deepEqual(await json(res), {
        items: 6,
        titles: 4,
        watchlist: { added: 2, removed: 1 },
        ratings: { set: 2, removed: 0 },
      })
      // The main thread kept the body as bytes: a query worker parsed, validated and merged it.
      assert.ok(importBodies.length > 0 && importBodies.every((b) => Buffer.isBuffer(b)))
      assert.deepEqual((await all('watchlist', k)).map((i) => i.tconst).sort(), [tt(1), tt(4)])
      const ratings = (await all('ratings', k)) as unknown as { tconst: string; rating: number }[]
      assert.deepEqual(ratings.map((r) => [r.tconst, r.rating]).sort(), [
        [tt(1), 8],
        [tt(2), 6],
      ])
    })

    it('POST /me/import with unknown titles lists them per item and applies nothing', async () => {
      const { key: k } = await f.key('careful')
      const items = [
        { tconst: tt(10), rating: 7 },
        { tconst: tt(99_991), watchlist: true },
        { tconst: tt(11), watchlist: true },
        { tconst: tt(99_992), rating: 1 },
      ]
      const res = await importItems(items, k)
      assert.equal(res.status, 422)
      assert.match(res.headers.get('content-type')!, PROBLEM)
      const body = await json(res)
      assert.equal(body.code, 'IMPORT_REJECTED')
      assert.equal(body.errorCount, 2)
      assert.deepEqual(
        body.errors.map((e: { index: number; tconst: string }) => [e.index, e.tconst]),
        [
          [1, tt(99_991)],
          [3, tt(99_992)],
        ],
      )
      assert.deepEqual(await all('watchlist', k), [])
      assert.deepEqual(await all('ratings', k), [])
      const tooMany = await importItems(
        Array.from({ length: 10_001 }, (_, i) => ({ tconst: tt(i + 1), rating: 5 })),
        k,
      )
      assert.equal(tooMany.status, 400)
      assert.equal((await importItems([{ tconst: tt(1) }], k)).status, 400, 'an item must change something')
    })

    it('POST /me/import takes the largest import pretty-printed; bigger or deeper bodies are refused unparsed', async () => {
      const { key: k } = await f.key('bulk')
      const items = Array.from({ length: 10_000 }, (_, i) => ({
        tconst: tt(i + 1),
        rating: 1 + (i % 10),
        watchlist: i % 2 === 0,
      }))
      const post = (body: string, p = '/import', method = 'POST') =>
        fetch(`${url}${p}`, { method, headers: { ...auth(k), 'content-type': 'application/json' }, body })
      const pretty = JSON.stringify({ items }, null, 2)
      assert.ok(pretty.length < IMPORT_BODY_LIMIT, `${pretty.length} bytes`)
      const res = await post(pretty)
      assert.equal(res.status, 200)
      assert.equal((await json(res)).items, 10_000)

      const tooBig = await post(JSON.stringify({ items, padding: 'x'.repeat(IMPORT_BODY_LIMIT) }))
      assert.equal(tooBig.status, 413)
      assert.match(tooBig.headers.get('content-type')!, PROBLEM)
      assert.equal((await json(tooBig)).instance, tooBig.headers.get('x-request-id'))
      // Other bodies are a few fields: a rating of 20 kB is refused too.
      const bigRating = await post(
        JSON.stringify({ rating: 5, note: 'x'.repeat(20_000) }),
        `/ratings/${tt(1)}`,
        'PUT',
      )
      assert.equal(bigRating.status, 413)
      await bigRating.arrayBuffer()

      // 100,000 nested brackets (200 kB): refused at the 33rd, before any parsing.
      const deep = await post(`{"items":${'['.repeat(100_000)}${']'.repeat(100_000)}}`)
      assert.equal(deep.status, 400)
      assert.match(deep.headers.get('content-type')!, PROBLEM)
      assert.match((await json(deep)).detail, /nested deeper than 32 levels/)
      // Brackets inside strings are text, not nesting.
      const text = await post(
        JSON.stringify({ items: [{ tconst: tt(1), rating: 3 }], note: '['.repeat(100) }),
      )
      assert.equal(text.status, 400)
      assert.doesNotMatch((await json(text)).detail, /nested/)
    })

    it('a client that disconnects mid-import leaves nothing half-applied', async () => {
      const { key: k } = await f.key('quitter')
      // Slow each chunk down a little so the disconnect lands between chunks, deterministically.
      const store = f.store
      const begin = store.begin.bind(store)
      let chunks = 0
      let markStarted!: () => void
      const started = new Promise<void>((resolve) => {
        markStarted = resolve
      })
      store.begin = async (opts) => {
        const tx = await begin(opts)
        return new Proxy(tx, {
          get(target, prop) {
            if (prop === 'applyImport') {
              return async (...args: Parameters<UserTransaction['applyImport']>) => {
                const out = await target.applyImport(...args)
                if (++chunks === 2) markStarted()
                await sleep(20)
                return out
              }
            }
            const v = Reflect.get(target, prop, target)
            return typeof v === 'function' ? v.bind(target) : v
          },
        }) as UserTransaction
      }
      try {
        const before = store.stats()
        const controller = new AbortController()
        const items = Array.from({ length: 10_000 }, (_, i) => ({ tconst: tt(i + 1), rating: (i % 10) + 1 }))
        const request = importItems(items, k, controller.signal).catch((e: Error) => e)
        await started
        controller.abort()
        assert.ok((await request) instanceof Error)
        while (store.stats().open > 0) await sleep(5)
        const s = store.stats()
        assert.equal(s.begun - before.begun, 1)
        assert.equal(s.rolledBack - before.rolledBack, 1)
        assert.equal(s.committed - before.committed, 0)
        assert.ok(chunks < 20, `the import stopped early (${chunks} of 20 chunks)`)
        assert.deepEqual(await all('ratings', k), [])
      } finally {
        store.begin = begin
      }
    })

    it('two users importing and writing at once never see each other’s rows', async () => {
      const a = await f.key('anna')
      const b = await f.key('ben')
      const mine = (lo: number) =>
        Array.from({ length: 1500 }, (_, i) => ({ tconst: tt(lo + i), watchlist: true }))
      const results = await Promise.all([
        importItems(mine(1), a.key),
        importItems(mine(5001), b.key),
        ...Array.from({ length: 10 }, (_, i) =>
          send('PUT', `/ratings/${tt(3000 + i)}`, { rating: 3 }, a.key),
        ),
        ...Array.from({ length: 10 }, (_, i) =>
          send('PUT', `/ratings/${tt(8000 + i)}`, { rating: 8 }, b.key),
        ),
      ])
      assert.deepEqual(
        results.map((r) => r.status),
        [200, 200, ...Array(20).fill(201)],
      )
      const aw = (await all('watchlist', a.key)).map((i) => Number(i.tconst.slice(2)))
      const bw = (await all('watchlist', b.key)).map((i) => Number(i.tconst.slice(2)))
      assert.equal(aw.length, 1500)
      assert.equal(bw.length, 1500)
      assert.ok(aw.every((id) => id >= 1 && id <= 1500))
      assert.ok(bw.every((id) => id >= 5001 && id <= 6500))
      const ar = (await all('ratings', a.key)) as unknown as { tconst: string; rating: number }[]
      const br = (await all('ratings', b.key)) as unknown as { tconst: string; rating: number }[]
      assert.ok(ar.length === 10 && ar.every((r) => r.rating === 3))
      assert.ok(br.length === 10 && br.every((r) => r.rating === 8))
    })

    it('a key revoked by `marquee keys revoke` (another process) stops working within seconds', async () => {
      const { key: k, userId } = await f.key('leaver')
      assert.equal((await send('GET', '/watchlist', undefined, k)).status, 200)
      const revoke = await cli(['keys', 'revoke', String(userId), ...f.storeArgs])
      assert.equal(revoke.code, 0, revoke.stderr)
      // Within the key cache's TTL (the resolver's own test checks the bound with a mocked clock).
      let status = 200
      await until(async () => {
        status = (await send('GET', '/watchlist', undefined, k)).status
        return status !== 200
      }, 'the revoked key to stop working').catch(() => {})
      assert.equal(status, 401)
    })

    it('documents every /me route in OpenAPI, with security', async () => {
      const doc = await json(await fetch(`${f.server.url}/openapi.json`))
      for (const [p, methods] of Object.entries({
        '/me/watchlist': ['get'],
        '/me/watchlist/{tconst}': ['get', 'put', 'delete'],
        '/me/ratings': ['get'],
        '/me/ratings/{tconst}': ['get', 'put', 'delete'],
        '/me/import': ['post'],
      })) {
        for (const m of methods) {
          const op = doc.paths[p]?.[m]
          assert.ok(op, `${m.toUpperCase()} ${p}`)
          assert.ok(op.security?.length, `${m.toUpperCase()} ${p} security`)
          assert.ok(op.responses['401'], `${m.toUpperCase()} ${p} documents 401`)
        }
      }
      assert.ok(doc.paths['/me/import'].post.responses['422'])
    })
  })

describe('server start with the user store', () => {
  it('refuses a user database from a newer marquee, naming the file and versions', async () => {
    const { dir, cleanup } = await tempDir()
    try {
      const file = path.join(dir, 'users.db')
      await (await openUserStore(file, { create: true })).close()
      const db = new Database(file)
      db.prepare('INSERT INTO kysely_migration (name, timestamp) VALUES (?, ?)').run('0009_later', 'x')
      db.close()
      await assert.rejects(
        startTestServer({ dbPath: path.join(dir, 'marquee.db'), usersDbPath: file }),
        new RegExp(`the user database ${file} has schema version 9, newer than this marquee supports`),
      )
    } finally {
      await cleanup()
    }
  })

  it('creates no user database until one is needed', async () => {
    const { dir, cleanup } = await tempDir()
    try {
      const server = await startTestServer({ dbPath: path.join(dir, 'marquee.db') })
      try {
        const res = await fetch(`${server.url}/me/watchlist`, {
          headers: { authorization: 'Bearer mq_unknown' },
        })
        assert.equal(res.status, 401)
        assert.equal(existsSync(path.join(dir, 'users.db')), false)
      } finally {
        await server.close()
      }
    } finally {
      await cleanup()
    }
  })
})
