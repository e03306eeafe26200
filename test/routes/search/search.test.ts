import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { FIXTURE } from '../../helpers/dataset.js'
import { DIALECTS, dialectDataset, dialectOptions } from '../../helpers/dialects.js'
import { startTestServer, type TestServer, tempDir } from '../../helpers/server.js'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type Json = any

for (const dialect of DIALECTS)
  describe(`GET /search (${dialect})`, dialectOptions(dialect), () => {
    let server: TestServer
    let cleanup: () => Promise<void>
    const search = async (q: string, extra = ''): Promise<Json> => {
      const res = await fetch(`${server.url}/search?q=${encodeURIComponent(q)}${extra}`)
      assert.equal(res.status, 200, `${q}: ${await res.clone().text()}`)
      return res.json()
    }
    const ids = (body: Json) => body.results.map((r: Json) => r.id)

    before(async () => {
      const tmp = await tempDir()
      const ds = await dialectDataset(dialect, tmp.dir)
      cleanup = async () => {
        await ds.cleanup()
        await tmp.cleanup()
      }
      server = await startTestServer({ ...ds.config, maxEventLoopDelayMs: 0 })
    })
    after(async () => {
      await server.close()
      await cleanup()
    })

    it('matches every word as a prefix, titles and people together, popular first', async () => {
      const god = await search('godf')
      assert.deepEqual(ids(god).slice(0, 2), [FIXTURE.godfather, FIXTURE.godfather2])
      assert.equal(god.corrected, false)
      assert.deepEqual(god.results[0], {
        kind: 'title',
        id: FIXTURE.godfather,
        title: 'The Godfather',
        type: 'movie',
        startYear: 1972,
        endYear: null,
        rating: 9.2,
        votes: 2000000,
        matchedTitle: null,
        episodeOf: null,
        score: god.results[0].score,
      })
      const part = await search('godfather pa')
      assert.equal(ids(part)[0], FIXTURE.godfather2)
      const people = await search('francis ford')
      assert.equal(people.results[0].kind, 'name')
      assert.equal(people.results[0].id, FIXTURE.coppola)
      assert.deepEqual(people.results[0].professions, ['producer', 'director', 'writer'])
      const mixed = await search('b')
      assert.ok(ids(mixed).includes(FIXTURE.breakingBad))
      assert.ok(ids(mixed).includes(FIXTURE.brando))
    })

    it('ignores diacritics both ways and finds alternate titles', async () => {
      assert.equal(ids(await search('amelie'))[0], FIXTURE.amelie)
      assert.equal(ids(await search('AMÉLIE'))[0], FIXTURE.amelie)
      const pate = await search('der pate')
      assert.equal(pate.results[0].id, FIXTURE.godfather)
      assert.equal(pate.results[0].matchedTitle, 'Der Pate')
      const galaxias = await search('guerra galax')
      assert.equal(galaxias.results[0].id, FIXTURE.starWars)
    })

    it('tolerates one typo per word', async () => {
      const typo = await search('godfathr')
      assert.equal(typo.corrected, true)
      assert.equal(ids(typo)[0], FIXTURE.godfather)
      assert.equal(ids(await search('amelei'))[0], FIXTURE.amelie)
      assert.equal(ids(await search('breaking bda'))[0], FIXTURE.breakingBad)
      assert.equal(ids(await search('coppols'))[0], FIXTURE.coppola)
      assert.deepEqual((await search('xqzvw')).results, [])
    })

    it('an episode result names its series, season and number', async () => {
      const pilot = await search('pilot')
      const hit = pilot.results.find((r: Json) => r.id === FIXTURE.pilot)
      assert.deepEqual(hit.episodeOf, {
        seriesId: FIXTURE.breakingBad,
        seriesTitle: 'Breaking Bad',
        season: 1,
        episode: 1,
      })
    })

    it('answers at most `limit` (20 at most) results; 400 names q or limit', async () => {
      const many = await search('silent', '&limit=20')
      assert.equal(many.results.length, 20)
      assert.equal((await search('silent', '&limit=3')).results.length, 3)
      for (const [query, parameter] of [
        ['q=%21%21%21', 'q'],
        ['q=', 'q'],
        ['', 'q'],
        ['q=x&limit=21', 'limit'],
      ]) {
        const res = await fetch(`${server.url}/search?${query}`)
        assert.equal(res.status, 400, query)
        const body = (await res.json()) as Json
        assert.equal(body.errors[0].parameter, parameter, query)
      }
    })

    it('is in the OpenAPI document', async () => {
      const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as Json
      assert.deepEqual(doc.paths['/search'].get.tags, ['search'])
      assert.ok(doc.paths['/search'].get.responses['400'])
    })
  })
