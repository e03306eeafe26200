import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { formatId } from '../../../src/datasets/catalogue.js'
import { FIXTURE } from '../../helpers/dataset.js'
import { DIALECTS, dialectOptions, dialectServer } from '../../helpers/dialects.js'
import type { TestServer } from '../../helpers/server.js'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type Json = any

/** The fixture's filler titles tt8000001..tt8000300: every tenth unrated, the others rated. */
const filler = (i: number) => formatId('tt', 8_000_000 + i)

for (const dialect of DIALECTS)
  describe(`rating routes (${dialect})`, dialectOptions(dialect), () => {
    let server: TestServer
    let close: () => Promise<void>
    const get = (path: string, init?: RequestInit) => fetch(`${server.url}${path}`, init)
    const post = (path: string, body: string) =>
      get(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    const ok = async (res: Response | Promise<Response>): Promise<Json> => {
      const r = await res
      assert.equal(r.status, 200, await r.clone().text())
      return r.json()
    }
    const problem = async (res: Response | Promise<Response>, status: number): Promise<Json> => {
      const r = await res
      assert.equal(r.status, status, await r.clone().text())
      assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/)
      return r.json()
    }

    before(async () => {
      ;({ server, close } = await dialectServer(dialect))
    })
    after(() => close())

    it('GET /ratings: each distinct id once, in the order asked; unrated null; unknown listed apart', async () => {
      const ids = [
        FIXTURE.godfather,
        FIXTURE.unrated,
        FIXTURE.unknownTitle,
        FIXTURE.pilot,
        FIXTURE.godfather,
        // The same title written with one more leading zero: answered once, as first written.
        'tt00068646',
      ]
      const res = await get(`/ratings?ids=${ids.join(',')}`)
      const body = await ok(res)
      assert.equal(typeof body.generation, 'string')
      assert.deepEqual(body.items, [
        { id: FIXTURE.godfather, rating: 9.2, votes: 2000000 },
        { id: FIXTURE.unrated, rating: null, votes: 0 },
        { id: FIXTURE.pilot, rating: 9.0, votes: 35000 },
      ])
      assert.deepEqual(body.unknown, [FIXTURE.unknownTitle])
      // Conditional GET: the generation's ETag.
      const etag = res.headers.get('etag')
      assert.ok(etag)
      const again = await get(`/ratings?ids=${ids.join(',')}`, { headers: { 'if-none-match': etag } })
      assert.equal(again.status, 304)
    })

    it('GET /ratings and POST /ratings/lookup: 1,000 ids in one call, the same answer', async () => {
      const ids = Array.from({ length: 1000 }, (_, i) => filler(i + 1))
      const byGet = await ok(get(`/ratings?ids=${ids.join(',')}`))
      const byPost = await ok(post('/ratings/lookup', JSON.stringify({ ids }, null, 2)))
      assert.deepEqual(byPost, byGet)
      // 300 filler titles exist, the rest are unknown.
      assert.equal(byGet.items.length, FIXTURE.fillerCount)
      assert.equal(byGet.unknown.length, 1000 - FIXTURE.fillerCount)
      assert.deepEqual(byGet.unknown[0], filler(FIXTURE.fillerCount + 1))
      // Every tenth filler title is unrated; the others match the fixture's formula.
      const ten = byGet.items[9]
      assert.deepEqual(ten, { id: filler(10), rating: null, votes: 0 })
      assert.deepEqual(byGet.items[6], { id: filler(7), rating: (10 + 7) / 10, votes: (7 * 7919) % 50_000 })
    })

    it('400 problem+json for malformed ids and for more than 1,000, naming the limit', async () => {
      const bad = await problem(get(`/ratings?ids=${FIXTURE.godfather},nm0000338,tt12`), 400)
      assert.equal(bad.errors[0].parameter, 'ids')
      assert.match(bad.detail, /"nm0000338", "tt12"/)
      const empty = await problem(get('/ratings?ids='), 400)
      assert.equal(empty.errors[0].parameter, 'ids')
      await problem(get('/ratings'), 400)

      const many = Array.from({ length: 1001 }, (_, i) => filler(i + 1))
      const tooMany = await problem(get(`/ratings?ids=${many.join(',')}`), 400)
      assert.equal(tooMany.errors[0].parameter, 'ids')
      assert.match(tooMany.detail, /at most 1000/)
      const tooManyPosted = await problem(post('/ratings/lookup', JSON.stringify({ ids: many })), 400)
      assert.match(tooManyPosted.detail, /1000/)
      const badPosted = await problem(post('/ratings/lookup', JSON.stringify({ ids: ['tt1'] })), 400)
      assert.match(badPosted.detail, /ids/)
      await problem(post('/ratings/lookup', JSON.stringify({ ids: [] })), 400)
      // Past the route's own body limit: 413, not read.
      await problem(
        post('/ratings/lookup', JSON.stringify({ ids: [FIXTURE.godfather], pad: 'x'.repeat(70_000) })),
        413,
      )
    })

    it('GET /ratings/series/{tconst}: every episode by season and number, unknown ones last', async () => {
      const res = await get(`/ratings/series/${FIXTURE.breakingBad}`)
      const body = await ok(res)
      assert.equal(body.seriesId, FIXTURE.breakingBad)
      assert.equal(body.episodeCount, 4)
      assert.deepEqual(body.episodes, [
        { id: FIXTURE.pilot, season: 1, episode: 1, title: 'Pilot', rating: 9.0, votes: 35000 },
        {
          id: FIXTURE.catsInTheBag,
          season: 1,
          episode: 2,
          title: "Cat's in the Bag...",
          rating: 8.6,
          votes: 26000,
        },
        {
          id: FIXTURE.seasonTwoOpener,
          season: 2,
          episode: 1,
          title: 'Seven Thirty-Seven',
          rating: 8.7,
          votes: 23000,
        },
        {
          id: FIXTURE.unknownSeasonEpisode,
          season: null,
          episode: null,
          title: 'Minisode',
          rating: null,
          votes: 0,
        },
      ])
      const etag = res.headers.get('etag')
      assert.ok(etag)
      const again = await get(`/ratings/series/${FIXTURE.breakingBad}`, {
        headers: { 'if-none-match': etag },
      })
      assert.equal(again.status, 304)
      await problem(get(`/ratings/series/${FIXTURE.godfather}`), 404)
      await problem(get(`/ratings/series/${FIXTURE.unknownTitle}`), 404)
      const bad = await problem(get('/ratings/series/nm0000338'), 400)
      assert.equal(bad.errors[0].parameter, 'tconst')
    })
  })
