import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { swapDatabase } from '../../helpers/dataset.js'
import { DIALECTS, type DialectDataset, dialectDataset, dialectOptions } from '../../helpers/dialects.js'
import { json } from '../../helpers/http.js'
import { startTestServer, type TestServer, tempDir } from '../../helpers/server.js'

/** The answers of slow list and search queries, kept per generation (src/pool/result-cache.ts). */
for (const dialect of DIALECTS)
  describe(`result cache (${dialect})`, dialectOptions(dialect), () => {
    let server: TestServer
    let ds: DialectDataset
    let cleanup: () => Promise<void>

    before(async () => {
      const tmp = await tempDir()
      ds = await dialectDataset(dialect, tmp.dir, { name: 'resultcache' })
      // Every answer counts as slow here, so the fixture's quick queries are kept.
      server = await startTestServer(ds.config, { dataset: { resultCacheAfterMs: 0 } })
      cleanup = async () => {
        await server.close()
        await ds.cleanup()
        await tmp.cleanup()
      }
    })
    after(() => cleanup())

    const hits = async () => {
      const text = await (await fetch(`${server.url}/metrics`)).text()
      const line = text.split('\n').find((l) => l.startsWith('marquee_result_cache_hits '))
      return Number(line?.split(' ')[1])
    }

    it('answers a repeated list or search from the cache, the same answer as the first time', async () => {
      const before = await hits()
      for (const url of ['/titles?q=godfather&limit=5', '/search?q=amel', '/names?q=pacino&limit=3']) {
        const first = await fetch(`${server.url}${url}`)
        assert.equal(first.status, 200, url)
        const again = await fetch(`${server.url}${url}`)
        assert.deepEqual(await json(again), await json(first), url)
      }
      assert.equal((await hits()) - before, 3)
      // Other arguments are another entry.
      await fetch(`${server.url}/titles?q=godfather&limit=6`)
      assert.equal((await hits()) - before, 3)
    })

    it('never answers from another generation', { skip: dialect !== 'sqlite' }, async () => {
      const url = '/titles?q=godfather&limit=5'
      const first = (await json(await fetch(`${server.url}${url}`))) as { items: { primaryTitle: string }[] }
      await swapDatabase(server.app, ds.dbPath, 'cache-test-generation', (db) => {
        db.prepare(`UPDATE titles SET primary_title = 'The Godfather (renamed)' WHERE id = 68646`).run()
      })
      const before = await hits()
      const swapped = (await json(await fetch(`${server.url}${url}`))) as {
        items: { primaryTitle: string }[]
      }
      assert.equal(await hits(), before, 'a miss on the new generation')
      assert.ok(first.items.some((t) => t.primaryTitle === 'The Godfather'))
      assert.ok(swapped.items.some((t) => t.primaryTitle === 'The Godfather (renamed)'))
    })
  })
