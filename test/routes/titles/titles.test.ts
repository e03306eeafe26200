import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { FIXTURE } from '../../helpers/dataset.js'
import { DIALECTS, dialectOptions, dialectServer } from '../../helpers/dialects.js'
import type { TestServer } from '../../helpers/server.js'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type Json = any

const PROBLEM = /^application\/problem\+json/

for (const dialect of DIALECTS)
  describe(`title routes (${dialect})`, dialectOptions(dialect), () => {
    let server: TestServer
    let close: () => Promise<void>
    const get = (path: string, init?: RequestInit) => fetch(`${server.url}${path}`, init)
    const json = async (path: string) => {
      const res = await get(path)
      assert.equal(res.status, 200, `${path}: ${res.status} ${await res.clone().text()}`)
      return (await res.json()) as Json
    }
    const problem = async (path: string, status: number, init?: RequestInit) => {
      const res = await get(path, init)
      assert.equal(res.status, status, `${path}: ${await res.clone().text()}`)
      assert.match(res.headers.get('content-type') ?? '', PROBLEM)
      const body = (await res.json()) as Json
      assert.equal(body.instance, res.headers.get('x-request-id'))
      return body
    }

    /** Payloads the main thread serialized (Fastify's preSerialization hooks see exactly those). */
    const serialized: Json[] = []

    before(async () => {
      ;({ server, close } = await dialectServer(dialect, (app) => {
        app.addHook('preSerialization', async (_request, _reply, payload) => {
          serialized.push(payload)
          return payload
        })
      }))
    })
    after(() => close())

    describe('GET /titles/{tconst}', () => {
      it('answers basics, rating, genres, directors and writers with names, camelCase and real nulls', async () => {
        const t = await json(`/titles/${FIXTURE.godfather}`)
        assert.deepEqual(t, {
          id: 'tt0068646',
          type: 'movie',
          primaryTitle: 'The Godfather',
          originalTitle: 'The Godfather',
          isAdult: false,
          startYear: 1972,
          endYear: null,
          runtimeMinutes: 175,
          genres: ['Crime', 'Drama'],
          rating: 9.2,
          votes: 2000000,
          directors: [{ id: 'nm0000338', name: 'Francis Ford Coppola' }],
          writers: [
            { id: 'nm0701374', name: 'Mario Puzo' },
            { id: 'nm0000338', name: 'Francis Ford Coppola' },
          ],
          episodeOf: null,
        })
      })

      it('names the series, season and number of an episode', async () => {
        const t = await json(`/titles/${FIXTURE.pilot}`)
        assert.deepEqual(t.episodeOf, {
          seriesId: FIXTURE.breakingBad,
          seriesTitle: 'Breaking Bad',
          season: 1,
          episode: 1,
        })
        const unrated = await json(`/titles/${FIXTURE.unrated}`)
        assert.equal(unrated.rating, null)
        assert.equal(unrated.votes, 0)
        assert.equal(unrated.startYear, null)
        assert.deepEqual(unrated.genres, [])
      })

      it('embeds credits, akas and episodes with include', async () => {
        const t = await json(`/titles/${FIXTURE.godfather}?include=credits,akas`)
        assert.equal(t.credits.length, 5)
        assert.deepEqual(t.credits[0], {
          person: { id: 'nm0000008', name: 'Marlon Brando' },
          category: 'actor',
          job: null,
          characters: ['Don Vito Corleone'],
          ordering: 1,
        })
        assert.deepEqual(
          t.akas.map((a: { title: string }) => a.title),
          ['The Godfather', 'Der Pate', 'Il padrino'],
        )
        assert.equal(t.episodes, undefined)
        const series = await json(`/titles/${FIXTURE.breakingBad}?include=episodes&include=credits`)
        assert.deepEqual(
          series.episodes.seasons.map((s: { season: number | null }) => s.season),
          [1, 2, null],
        )
        assert.equal(series.credits[0].characters.length, 2)
        const movie = await json(`/titles/${FIXTURE.godfather}?include=episodes`)
        assert.equal(movie.episodes, null)
      })

      it('embeds lists as JSON encoded by the query workers, never serialized on the main thread', async () => {
        serialized.length = 0
        const plain = await json(`/titles/${FIXTURE.breakingBad}`)
        assert.equal(serialized.length, 1, 'the hook sees what the main thread serializes')
        serialized.length = 0
        const full = await json(`/titles/${FIXTURE.breakingBad}?include=credits,akas,episodes`)
        assert.deepEqual(serialized, [])
        const { credits, akas, episodes, ...title } = full
        assert.deepEqual(title, plain)
        assert.ok(credits.length > 0 && Array.isArray(akas))
        assert.equal(episodes.seriesId, FIXTURE.breakingBad)
        assert.equal(
          episodes.episodeCount,
          episodes.seasons.reduce((n: number, s: { episodes: unknown[] }) => n + s.episodes.length, 0),
        )
      })

      it('400 names the parameter; 404 for an unknown id', async () => {
        const bad = await problem('/titles/tt12', 400)
        assert.equal(bad.errors[0].parameter, 'tconst')
        assert.match(bad.detail, /tconst/)
        const inc = await problem(`/titles/${FIXTURE.godfather}?include=cast`, 400)
        assert.match(inc.detail, /include/)
        const missing = await problem(`/titles/${FIXTURE.unknownTitle}`, 404)
        assert.match(missing.detail, /tt9999999/)
      })

      it('sends ETag and Last-Modified from the dataset generation, and 304 when current', async () => {
        const res = await get(`/titles/${FIXTURE.godfather}`)
        const etag = res.headers.get('etag')
        assert.ok(etag)
        assert.ok(res.headers.get('last-modified'))
        const ready = await json('/ready')
        assert.ok(etag.includes(ready.generation))
        const again = await get(`/titles/${FIXTURE.godfather}`, { headers: { 'if-none-match': etag } })
        assert.equal(again.status, 304)
        assert.equal(await again.text(), '')
        const stale = await get(`/titles/${FIXTURE.godfather}`, { headers: { 'if-none-match': '"other"' } })
        assert.equal(stale.status, 200)
        const list = await get('/titles?limit=1', { headers: { 'if-none-match': etag } })
        assert.equal(list.status, 304)
      })
    })

    describe('GET /titles/{tconst}/credits, /akas, /episodes', () => {
      it('credits: principals, then crew-only directors and writers; ?category=', async () => {
        const { credits } = await json(`/titles/${FIXTURE.godfather}/credits`)
        assert.deepEqual(
          credits.map((c: { person: { id: string }; category: string; ordering: number | null }) => [
            c.person.id,
            c.category,
            c.ordering,
          ]),
          [
            ['nm0000008', 'actor', 1],
            ['nm0000199', 'actor', 2],
            ['nm0000338', 'director', 3],
            ['nm0701374', 'writer', 4],
            ['nm0000338', 'writer', null],
          ],
        )
        const writers = await json(`/titles/${FIXTURE.godfather}/credits?category=writer`)
        assert.equal(writers.credits.length, 2)
        assert.equal(writers.credits[0].job, 'novel')
        await problem(`/titles/${FIXTURE.unknownTitle}/credits`, 404)
        const bad = await problem(`/titles/${FIXTURE.godfather}/credits?category=Not%20One`, 400)
        assert.equal(bad.errors[0].parameter, 'category')
      })

      it('akas: types and attributes as arrays, ?region= and ?language=', async () => {
        const { akas } = await json(`/titles/${FIXTURE.amelie}/akas`)
        assert.equal(akas.length, 3)
        assert.deepEqual(akas[1], {
          ordering: 2,
          title: 'Amélie',
          region: 'US',
          language: 'en',
          types: ['imdbDisplay', 'festival'],
          attributes: ['literal title'],
          isOriginalTitle: false,
        })
        assert.equal(akas[0].isOriginalTitle, true)
        assert.equal(akas[0].region, null)
        const de = await json(`/titles/${FIXTURE.amelie}/akas?region=de`)
        assert.deepEqual(
          de.akas.map((a: { title: string }) => a.title),
          ['Die fabelhafte Welt der Amélie'],
        )
        const en = await json(`/titles/${FIXTURE.amelie}/akas?language=en`)
        assert.equal(en.akas.length, 1)
        await problem(`/titles/${FIXTURE.unknownTitle}/akas`, 404)
        const bad = await problem(`/titles/${FIXTURE.amelie}/akas?region=12345`, 400)
        assert.equal(bad.errors[0].parameter, 'region')
      })

      it('episodes: seasons in order with ratings, unknown season last; ?season=; 404 when not a series', async () => {
        const e = await json(`/titles/${FIXTURE.breakingBad}/episodes`)
        assert.equal(e.seriesId, FIXTURE.breakingBad)
        assert.equal(e.episodeCount, 4)
        assert.equal(e.truncated, false)
        assert.deepEqual(
          e.seasons.map((s: { season: number | null; episodes: { id: string }[] }) => [
            s.season,
            s.episodes.map((x) => x.id),
          ]),
          [
            [1, [FIXTURE.pilot, FIXTURE.catsInTheBag]],
            [2, [FIXTURE.seasonTwoOpener]],
            [null, [FIXTURE.unknownSeasonEpisode]],
          ],
        )
        assert.equal(e.seasons[0].episodes[0].rating, 9)
        const two = await json(`/titles/${FIXTURE.breakingBad}/episodes?season=2`)
        assert.equal(two.seasons.length, 1)
        const notSeries = await problem(`/titles/${FIXTURE.godfather}/episodes`, 404)
        assert.match(notSeries.detail, /not a series/)
        await problem(`/titles/${FIXTURE.unknownTitle}/episodes`, 404)
        const bad = await problem(`/titles/${FIXTURE.breakingBad}/episodes?season=first`, 400)
        assert.equal(bad.errors[0].parameter, 'season')
      })
    })

    describe('GET /titles', () => {
      it('filters and sorts: by votes by default, adult titles left out', async () => {
        const page = await json('/titles?limit=3')
        assert.deepEqual(
          page.items.map((t: { id: string }) => t.id),
          [FIXTURE.breakingBad, FIXTURE.godfather, FIXTURE.starWars],
        )
        assert.equal(page.totalIsExact, true)
        assert.equal(page.total, 311)
        const withAdult = await json('/titles?limit=1&adult=true')
        assert.equal(withAdult.total, 312)
        const movies = await json('/titles?type=movie&genre=Crime&genre=Drama')
        assert.deepEqual(
          movies.items.map((t: { id: string }) => t.id),
          [FIXTURE.godfather, FIXTURE.godfather2],
        )
        assert.equal(movies.next, null)
        const types = await json('/titles?type=tvSeries&type=tvEpisode&limit=100')
        assert.equal(types.total, 5)
        const years = await json(
          '/titles?yearFrom=1970&yearTo=1979&sort=year&order=asc&minRating=8&minVotes=100000',
        )
        assert.deepEqual(
          years.items.map((t: { startYear: number }) => t.startYear),
          [1972, 1974, 1977],
        )
        const long = await json('/titles?runtimeMin=170&runtimeMax=210&sort=rating')
        assert.deepEqual(
          long.items.map((t: { id: string }) => t.id),
          [FIXTURE.godfather, FIXTURE.godfather2],
        )
        const byTitle = await json('/titles?sort=title&limit=2&minVotes=1000000')
        assert.deepEqual(
          byTitle.items.map((t: { primaryTitle: string }) => t.primaryTitle),
          ['Breaking Bad', 'Star Wars'],
        )
      })

      it('q matches words as prefixes, accents folded, alternate titles too, sorted by relevance', async () => {
        const god = await json('/titles?q=godf')
        assert.deepEqual(
          god.items.map((t: { id: string }) => t.id),
          [FIXTURE.godfather, FIXTURE.godfather2],
        )
        const amelie = await json('/titles?q=amelie')
        assert.equal(amelie.items[0].id, FIXTURE.amelie)
        const pate = await json('/titles?q=der%20pate')
        assert.equal(pate.items[0].id, FIXTURE.godfather)
        const empty = await problem('/titles?q=%21%21', 400)
        assert.equal(empty.errors[0].parameter, 'q')
      })

      it('paginates with an opaque keyset cursor and a next link, every item once', async () => {
        const seen: string[] = []
        let next: string | null = '/titles?genre=Drama&limit=7&sort=votes'
        let pages = 0
        let total = 0
        while (next) {
          const page: { items: { id: string }[]; next: string | null; total: number } = await json(next)
          seen.push(...page.items.map((t) => t.id))
          total = page.total
          next = page.next
          pages++
        }
        assert.equal(seen.length, total)
        assert.equal(new Set(seen).size, seen.length)
        assert.ok(pages > 5)
        // The same walk by title, ascending (a string key).
        const first = await json('/titles?sort=title&limit=50')
        const second = await json(first.next)
        const names = [...first.items, ...second.items].map((t: { primaryTitle: string }) =>
          t.primaryTitle.toLowerCase(),
        )
        assert.deepEqual(names, [...names].sort())
      })

      it('a tampered or foreign cursor is a 400 naming cursor', async () => {
        const page = await json('/titles?limit=2')
        const cursor = new URL(page.next, 'http://x').searchParams.get('cursor')!
        const flipped = cursor.slice(0, 5) + (cursor[5] === 'A' ? 'B' : 'A') + cursor.slice(6)
        const altered = await problem(`/titles?limit=2&cursor=${encodeURIComponent(flipped)}`, 400)
        assert.equal(altered.errors[0].parameter, 'cursor')
        const foreign = await problem(`/titles?limit=2&genre=Drama&cursor=${encodeURIComponent(cursor)}`, 400)
        assert.match(foreign.detail, /different query/)
        await problem('/titles?cursor=garbage', 400)
      })

      it('a cursor forged with any key but the generation secret is a 400: the seal key is not in the source', async () => {
        const page = await json('/titles?limit=2')
        const cursor = new URL(page.next, 'http://x').searchParams.get('cursor')!
        const [, , fingerprint] = JSON.parse(Buffer.from(cursor.split('.')[0], 'base64url').toString())
        const body = Buffer.from(JSON.stringify([-1e300, 1, fingerprint])).toString('base64url')
        for (const key of ['marquee-cursor-v1', '']) {
          const mac = createHmac('sha256', key).update(body).digest().subarray(0, 12).toString('base64url')
          const forged = await problem(`/titles?limit=2&cursor=${body}.${mac}`, 400)
          assert.match(forged.detail, /altered, or belongs to an earlier dataset generation/)
        }
      })

      it('400 names the parameter', async () => {
        for (const [query, parameter] of [
          ['limit=101', 'limit'],
          ['limit=0', 'limit'],
          ['yearFrom=abc', 'yearFrom'],
          ['minRating=11', 'minRating'],
          ['sort=popularity', 'sort'],
          ['sort=relevance', 'sort'],
          ['order=up', 'order'],
          ['yearFrom=2000&yearTo=1990', 'yearFrom'],
          ['facets=genre,stars', 'facets'],
          ['nope=1', 'nope'],
        ]) {
          const body = await problem(`/titles?${query}`, 400)
          assert.match(body.errors[0].parameter, new RegExp(`^${parameter}(\\.\\d+)?$`), query)
        }
      })

      it('sort=weighted ranks by the Bayesian weighted rating over titles with at least m votes', async () => {
        const C = 6.9
        const weighted = (m: number) => (t: Json) => {
          const v = t.votes
          const r = Math.round(t.rating * 10) / 10
          return (v * r + m * C) / (v + m)
        }
        const all = async (first: string) => {
          const items: Json[] = []
          let next: string | null = first
          while (next) {
            const page: Json = await json(next)
            items.push(...page.items)
            next = page.next
          }
          return items
        }
        for (const m of [1000, 100_000]) {
          const candidates = await all(`/titles?minVotes=${m}&limit=100`)
          const wr = weighted(m)
          const expected = candidates
            .filter((t) => t.rating !== null)
            .sort((a, b) => wr(b) - wr(a) || b.id.localeCompare(a.id))
            .map((t) => t.id)
          // Walked with the keyset cursor, a few per page.
          const ranked = await all(`/titles?sort=weighted&m=${m}&limit=9`)
          assert.deepEqual(
            ranked.map((t) => t.id),
            expected,
            `m=${m}`,
          )
          const first = await json(`/titles?sort=weighted&m=${m}&limit=3`)
          assert.equal(first.total, expected.length)
          assert.equal(first.totalIsExact, true)
        }
        // The default m is 25,000; type and minVotes narrow it; ascending reverses it.
        const movies = await json('/titles?sort=weighted&type=movie&limit=100')
        assert.deepEqual(
          movies.items.slice(0, 2).map((t: Json) => t.id),
          [FIXTURE.godfather, FIXTURE.godfather2],
        )
        assert.ok(movies.items.every((t: Json) => t.type === 'movie' && t.votes >= 25_000))
        const popular = await json('/titles?sort=weighted&type=movie&minVotes=500000&limit=10')
        assert.deepEqual(
          popular.items.map((t: Json) => t.id),
          [FIXTURE.godfather, FIXTURE.godfather2, FIXTURE.starWars, FIXTURE.amelie],
        )
        const floor = await json('/titles?sort=weighted&type=movie&minVotes=1000000&limit=10')
        assert.deepEqual(
          floor.items.map((t: Json) => t.id),
          [FIXTURE.godfather, FIXTURE.godfather2, FIXTURE.starWars],
        )
        const asc = await json('/titles?sort=weighted&type=movie&minVotes=1000000&order=asc&limit=10')
        assert.deepEqual(
          asc.items.map((t: Json) => t.id),
          [FIXTURE.starWars, FIXTURE.godfather2, FIXTURE.godfather],
        )
        // A cursor of another m is another query.
        const page = await json('/titles?sort=weighted&m=1000&limit=2')
        const cursor = new URL(page.next, 'http://x').searchParams.get('cursor')!
        const foreign = await problem(`/titles?sort=weighted&m=2000&limit=2&cursor=${cursor}`, 400)
        assert.match(foreign.detail, /different query/)
        for (const [query, parameter] of [
          ['sort=weighted&m=99', 'm'],
          ['sort=votes&m=1000', 'm'],
          ['m=1000', 'm'],
        ]) {
          const body = await problem(`/titles?${query}`, 400)
          assert.equal(body.errors[0].parameter, parameter, query)
        }
      })

      it('facets count genres, types and decades over the filtered set', async () => {
        const page = await json('/titles?type=movie&facets=genre,type,decade&limit=1')
        assert.equal(page.facets.truncated, false)
        assert.deepEqual(page.facets.type, [{ value: 'movie', count: page.total }])
        const crime = page.facets.genre.find((g: { value: string }) => g.value === 'Crime')
        assert.deepEqual(crime, { value: 'Crime', count: 2 })
        const seventies = page.facets.decade.find((d: { value: string }) => d.value === '1970s')
        assert.ok(seventies.count >= 3)
        const plain = await json('/titles?limit=1')
        assert.equal(plain.facets, undefined)
      })
    })

    describe('POST /titles/batch', () => {
      it('answers in the order asked, unknown ids as null', async () => {
        const ids = [FIXTURE.amelie, FIXTURE.unknownTitle, FIXTURE.godfather, FIXTURE.amelie]
        const res = await get('/titles/batch', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ ids }),
        })
        assert.equal(res.status, 200)
        const { items } = (await res.json()) as Json
        assert.deepEqual(
          items.map((t: { id: string } | null) => t?.id ?? null),
          [FIXTURE.amelie, null, FIXTURE.godfather, FIXTURE.amelie],
        )
        assert.equal(items[2].directors[0].name, 'Francis Ford Coppola')
      })

      it('accepts 100 ids, refuses 101 or a malformed id naming the parameter', async () => {
        const many = Array.from({ length: 100 }, (_, i) => `tt${String(8_000_001 + i)}`)
        const ok = await get('/titles/batch', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ ids: many }),
        })
        assert.equal(ok.status, 200)
        const { items } = (await ok.json()) as Json
        assert.deepEqual(
          items.map((t: { id: string }) => t.id),
          many,
        )
        const tooMany = await problem('/titles/batch', 400, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ ids: [...many, FIXTURE.godfather] }),
        })
        assert.match(tooMany.detail, /ids/)
        const bad = await problem('/titles/batch', 400, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ ids: ['tt1'] }),
        })
        assert.match(bad.errors[0].parameter, /^ids/)
      })
    })

    it('every route is in the OpenAPI document with its problem responses', async () => {
      const doc = await json('/openapi.json')
      for (const path of [
        '/titles/{tconst}',
        '/titles',
        '/titles/{tconst}/credits',
        '/titles/{tconst}/akas',
        '/titles/{tconst}/episodes',
        '/titles/batch',
      ]) {
        const op = doc.paths[path].get ?? doc.paths[path].post
        assert.ok(op, path)
        assert.deepEqual(op.tags, ['titles'])
        assert.ok(op.responses['200'], path)
        assert.ok(op.responses['400'], path)
        assert.ok(op.responses['503'], path)
      }
    })
  })
