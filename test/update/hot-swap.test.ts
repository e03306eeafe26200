import assert from 'node:assert/strict'
import { once } from 'node:events'
import { existsSync, readdirSync, readlinkSync } from 'node:fs'
import { copyFile, rename } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { liveDir } from '../../src/dataset/sqlite/links.js'
import { startTestServer, type TestServer, tempDir } from '../helpers/server.js'
import { until, within } from '../helpers/wait.js'
import { titlesThatDiffer, twoVersions, type Version } from './fixture.js'

/**
 * A server under steady load while its database file is replaced several times (alternating
 * between two prebuilt generations, copied into place with a rename, as `marquee update` does):
 * no request may fail, and every response must come from exactly one generation, sub-queries
 * included.
 */

let root: string
let cleanup: () => Promise<void>
let a: Version
let b: Version
let server: TestServer
let dbPath: string
let differ: { tconst: string; a: string; b: string }[]

before(async () => {
  ;({ dir: root, cleanup } = await tempDir('marquee-swap-'))
  ;({ a, b } = await twoVersions(root, { rate: 0.05 }))
  differ = titlesThatDiffer(a.db, b.db)
  assert.ok(differ.length >= 3, 'the two versions must differ in some titles')
  dbPath = join(root, 'served', 'marquee.db')
  await import('node:fs/promises').then((fs) => fs.mkdir(join(root, 'served')))
  await copyFile(a.db, dbPath)
  server = await startTestServer(
    { dbPath, watchDbMs: 100, poolSize: 2 },
    {
      setup: (app) => {
        // Test-only: several concurrent sub-queries of one request, each reading the generation
        // stored in the file it ran against, with a pause in between to straddle swaps.
        app.get('/test/generations', async (request) => {
          const h = await request.dataset()
          const first = (await h.query('datasetMeta')).generation
          await sleep(Math.floor(Math.random() * 40))
          const rest = await Promise.all(
            [0, 1, 2].map(() => h.query('datasetMeta').then((m) => m.generation)),
          )
          // Whether a swap happened while this request ran.
          const straddled = app.dataset.current()?.id !== h.generation.id
          return { pinned: h.generation.id, seen: [first, ...rest], straddled }
        })
      },
    },
  )
})

after(async () => {
  await server?.close()
  await cleanup?.()
})

/** Database files of this server's that are open but no longer have a name (replaced or unlinked). */
function openDeletedDatabases(): string[] {
  if (!existsSync('/proc/self/fd')) return []
  const out: string[] = []
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`)
      if (target.startsWith(join(root, 'served')) && target.endsWith('(deleted)')) out.push(target)
    } catch {
      // closed meanwhile
    }
  }
  return out
}

describe('hot swap under load', () => {
  it('serves every request from exactly one generation across repeated swaps, without a failure', async () => {
    const { app, url } = server
    const gens = new Set([a.generation, b.generation])
    assert.equal(app.dataset.current()?.id, a.generation)
    const failures: string[] = []
    const seen = new Map<string, number>()
    let responses = 0
    let straddled = 0
    let stop = false
    const count = (g: string) => seen.set(g, (seen.get(g) ?? 0) + 1)

    const client = async (k: number) => {
      for (let i = 0; !stop; i++) {
        const pick = (i + k) % 3
        try {
          if (pick === 0) {
            const res = await fetch(`${url}/test/generations`)
            const body = (await res.json()) as { pinned: string; seen: string[]; straddled: boolean }
            if (body.straddled) straddled++
            if (res.status !== 200) failures.push(`generations ${res.status} ${JSON.stringify(body)}`)
            else if (!gens.has(body.pinned) || body.seen.some((g) => g !== body.pinned)) {
              failures.push(`mixed generations: ${JSON.stringify(body)}`)
            } else count(body.pinned)
          } else if (pick === 1) {
            // A route that runs its sub-queries concurrently; its body must match its ETag's generation.
            const t = differ[i % differ.length]
            const res = await fetch(`${url}/titles/${t.tconst}?include=credits,akas`)
            const body = (await res.json()) as { primaryTitle?: string }
            const etag = res.headers.get('etag') ?? ''
            const g = [...gens].find((x) => etag.startsWith(`"${x}.`))
            if (res.status !== 200 || !g) failures.push(`title ${res.status} ${etag}`)
            else if (body.primaryTitle !== (g === a.generation ? t.a : t.b)) {
              failures.push(`title ${t.tconst} says "${body.primaryTitle}" under generation ${g}`)
            } else count(g)
          } else {
            const res = await fetch(`${url}/search?q=the&limit=5`)
            await res.arrayBuffer()
            const etag = res.headers.get('etag') ?? ''
            const g = [...gens].find((x) => etag.startsWith(`"${x}.`))
            if (res.status !== 200 || !g) failures.push(`search ${res.status} ${etag}`)
            else count(g)
          }
        } catch (err) {
          failures.push(`request failed: ${(err as Error).message}`)
        }
        responses++
      }
    }

    const clients = Array.from({ length: 8 }, (_, k) => client(k))
    const swaps: string[] = []
    for (let i = 0; i < 4; i++) {
      // Each swap comes after some load, however fast the machine answers.
      const mark = responses
      await until(() => responses >= mark + 20, 'some load before the swap')
      const next = i % 2 === 0 ? b : a
      // As an update does: a complete file renamed over the served one.
      await copyFile(next.db, `${dbPath}.incoming`)
      await rename(`${dbPath}.incoming`, dbPath)
      await until(() => app.dataset.current()?.id === next.generation, `swap ${i + 1}`)
      assert.equal(app.dataset.current()?.id, next.generation, `swap ${i + 1} was picked up`)
      swaps.push(next.generation)
    }
    const mark = responses
    await until(() => responses >= mark + 20, 'some load after the last swap')
    stop = true
    await Promise.all(clients)

    assert.deepEqual(failures, [])
    assert.equal(swaps.length, 4)
    assert.ok(responses > 50, `enough load: ${responses} responses`)
    assert.ok(straddled > 0, 'some requests were in flight during a swap')
    assert.ok(
      (seen.get(a.generation) ?? 0) > 0 && (seen.get(b.generation) ?? 0) > 0,
      'both generations served',
    )

    // Retired generations are closed once drained: no link left but the current one, and no
    // connection left open on a file that was replaced.
    // The link goes once the workers closed the file (asynchronously, after draining() drops).
    const settled = () =>
      app.dataset.draining() === 0 &&
      openDeletedDatabases().length === 0 &&
      readdirSync(liveDir(dbPath)).length === 1
    await until(settled, 'the retired generations to close').catch(() => {})
    assert.equal(app.dataset.draining(), 0)
    assert.deepEqual(openDeletedDatabases(), [])
    assert.equal(readdirSync(liveDir(dbPath)).length, 1)
  })

  it('ignores a file with the same generation and temporary files beside the database', async () => {
    const { app } = server
    const current = app.dataset.current()!
    const loaded: unknown[] = []
    app.dataset.events.on('loaded', (g) => loaded.push(g))
    // The watcher looks at the replaced file at least once; a reload then follows whatever it does.
    const checked = once(app.dataset.events, 'checked')
    await copyFile(current.id === a.generation ? a.db : b.db, `${dbPath}.building-123`)
    await rename(`${dbPath}.building-123`, dbPath)
    await copyFile(a.db, `${dbPath}.updating-456`)
    await within(checked, "the reloader's look at the replaced file")
    assert.equal((await app.dataset.reload('test')).changed, false)
    assert.deepEqual(loaded, [])
    assert.equal(app.dataset.current(), current, 'the same generation is not loaded again')
  })
})
