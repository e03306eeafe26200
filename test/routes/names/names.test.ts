import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { FIXTURE } from '../../helpers/dataset.js'
import { DIALECTS, dialectOptions, dialectServer } from '../../helpers/dialects.js'
import type { TestServer } from '../../helpers/server.js'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type Json = any

for (const dialect of DIALECTS)
  describe(`name routes (${dialect})`, dialectOptions(dialect), () => {
    let server: TestServer
    let close: () => Promise<void>
    const get = (path: string, init?: RequestInit) => fetch(`${server.url}${path}`, init)
    const json = async (path: string): Promise<Json> => {
      const res = await get(path)
      assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`)
      return res.json()
    }
    const problem = async (path: string, status: number): Promise<Json> => {
      const res = await get(path)
      assert.equal(res.status, status, `${path}: ${await res.clone().text()}`)
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/)
      return res.json()
    }

    before(async () => {
      ;({ server, close } = await dialectServer(dialect))
    })
    after(() => close())

    it('GET /names/{nconst}: the person with known-for titles resolved, in order', async () => {
      const p = await json(`/names/${FIXTURE.pacino}`)
      assert.equal(p.name, 'Al Pacino')
      assert.equal(p.birthYear, 1940)
      assert.equal(p.deathYear, null)
      assert.deepEqual(p.professions, ['actor', 'producer'])
      assert.equal(p.popularity, 3300000)
      assert.deepEqual(
        p.knownFor.map((t: Json) => t.id),
        [FIXTURE.godfather2, FIXTURE.godfather],
      )
      assert.equal(p.knownFor[1].primaryTitle, 'The Godfather')
      const bad = await problem('/names/nm12', 400)
      assert.equal(bad.errors[0].parameter, 'nconst')
      await problem(`/names/${FIXTURE.unknownName}`, 404)
    })

    it('GET /names: by popularity, q with prefixes and folded accents, profession, paginated', async () => {
      const top = await json('/names?limit=2')
      assert.deepEqual(
        top.items.map((n: Json) => n.popularity),
        [3300000, 3300000],
      )
      const cop = await json('/names?q=copp')
      assert.deepEqual(
        cop.items.map((n: Json) => n.id),
        [FIXTURE.coppola],
      )
      const tautou = await json('/names?q=audrey%20tau')
      assert.equal(tautou.items[0].id, FIXTURE.tautou)
      const writers = await json('/names?profession=writer&sort=name')
      assert.deepEqual(
        writers.items.map((n: Json) => n.name),
        ['Francis Ford Coppola', 'George Lucas', 'Mario Puzo'],
      )
      const seen: string[] = []
      let next: string | null = '/names?limit=3'
      while (next) {
        const page: Json = await json(next)
        seen.push(...page.items.map((n: Json) => n.id))
        next = page.next
      }
      assert.equal(seen.length, 7)
      assert.equal(new Set(seen).size, 7)
      const bad = await problem('/names?profession=Not%20One', 400)
      assert.equal(bad.errors[0].parameter, 'profession')
      const tampered = await problem('/names?cursor=abc.def', 400)
      assert.equal(tampered.errors[0].parameter, 'cursor')
    })

    it('GET /names/{nconst}/credits: one item per title with roles and ratings, sorted and paginated', async () => {
      const all = await json(`/names/${FIXTURE.coppola}/credits`)
      assert.equal(all.nameId, FIXTURE.coppola)
      assert.deepEqual(
        all.items.map((i: Json) => [i.title.id, i.title.startYear, i.roles.map((r: Json) => r.category)]),
        [
          [FIXTURE.godfather2, 1974, ['director', 'writer']],
          [FIXTURE.godfather, 1972, ['director', 'writer']],
        ],
      )
      assert.equal(all.items[1].title.rating, 9.2)
      const byVotes = await json(`/names/${FIXTURE.coppola}/credits?sort=votes&limit=1`)
      assert.equal(byVotes.items[0].title.id, FIXTURE.godfather)
      assert.ok(byVotes.next)
      const second = await json(byVotes.next)
      assert.equal(second.items[0].title.id, FIXTURE.godfather2)
      assert.equal(second.next, null)
      const acting = await json(`/names/${FIXTURE.cranston}/credits?category=actor&sort=year&order=asc`)
      assert.deepEqual(
        acting.items.map((i: Json) => i.title.id),
        [FIXTURE.breakingBad, FIXTURE.pilot],
      )
      assert.deepEqual(acting.items[0].roles[0].characters, ['Walter White', 'Heisenberg'])
      // An episode says which series it belongs to; other titles say null.
      assert.equal(acting.items[0].episodeOf, null)
      assert.deepEqual(acting.items[1].episodeOf, {
        seriesId: FIXTURE.breakingBad,
        seriesTitle: 'Breaking Bad',
        season: 1,
        episode: 1,
      })
      assert.equal(all.items[0].episodeOf, null)
      await problem(`/names/${FIXTURE.unknownName}/credits`, 404)
      const bad = await problem(`/names/${FIXTURE.coppola}/credits?sort=fame`, 400)
      assert.equal(bad.errors[0].parameter, 'sort')
    })

    it('GET /names/{nconst}/credits: a whole filmography in one page of up to 2,000', async () => {
      const big = await json(`/names/${FIXTURE.cranston}/credits?limit=2000`)
      assert.equal(big.next, null)
      assert.ok(big.items.length >= 2)
      const over = await problem(`/names/${FIXTURE.cranston}/credits?limit=2001`, 400)
      assert.equal(over.errors[0].parameter, 'limit')
    })

    it('ETag and 304 on name routes', async () => {
      const res = await get(`/names/${FIXTURE.puzo}`)
      const etag = res.headers.get('etag')!
      assert.ok(etag)
      const again = await get(`/names/${FIXTURE.puzo}/credits`, { headers: { 'if-none-match': etag } })
      assert.equal(again.status, 304)
    })
  })
