/**
 * `node --import tsx bench/ratings.ts`: the bulk rating lookups of syncing apps, on the generated
 * sample (BENCH_TITLES, default 1,000,000; built once under .cache/sample-<n>/).
 *
 * 1. In process, one connection: ratingsOf for 1,000 ids (900 known, 100 unknown, random order),
 *    through Kysely's executeQuery as the query workers run it, against the same statement prepared
 *    and run directly on the better-sqlite3 connection (no compile, no connection mutex); and
 *    seriesRatings of the series with the most episodes.
 * 2. Over HTTP against the real app (query pool of 2): GET /ratings?ids=<1,000 ids>, POST
 *    /ratings/lookup with the same ids, GET /ratings/series/{tconst}, one request at a time:
 *    the latency a syncing client sees. Target: 1,000 ids under 20 ms.
 *
 * BENCH_ROUNDS sets the probes per measurement (default 200).
 */
import { rm } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { sql } from 'kysely'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { formatId } from '../src/datasets/catalogue.js'
import { Rng } from '../src/datasets/sample/random.js'
import { ratingsOf, seriesRatings } from '../src/db/queries/ratings.js'
import { openDataset } from '../src/db/sqlite/connection.js'
import { ensureSampleDatabase } from '../test/helpers/dataset.js'
import { summary } from './lib.js'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const TITLES = Number(process.env.BENCH_TITLES ?? 1_000_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200)
const log = (line: string) => console.log(line)

async function time(fn: () => Promise<unknown> | unknown, rounds = ROUNDS): Promise<number[]> {
  for (let i = 0; i < Math.min(20, rounds); i++) await fn()
  const ms: number[] = []
  for (let i = 0; i < rounds; i++) {
    const started = performance.now()
    await fn()
    ms.push(performance.now() - started)
  }
  return ms
}

async function main() {
  const label = TITLES >= 1_000_000 ? `${TITLES / 1_000_000}m` : String(TITLES)
  const dir = path.join(ROOT, '.cache', `sample-${label}`)
  const dbPath = await ensureSampleDatabase({ titles: TITLES, dir, log })

  const conn = openDataset(dbPath)
  // The same ids every run.
  const rng = new Rng(7)
  const random = () => rng.float()
  const all = (await sql<{ id: number }>`SELECT id FROM titles`.execute(conn.db)).rows.map((r) => r.id)
  const known = Array.from({ length: 900 }, () => all[Math.floor(random() * all.length)])
  const max = all.reduce((a, b) => Math.max(a, b), 0)
  const ids = [...known, ...Array.from({ length: 100 }, (_, i) => max + 1 + i)].sort(() => random() - 0.5)
  const top = await sql<{ parent_id: number; n: number }>`
    SELECT parent_id, count(*) AS n FROM episodes GROUP BY parent_id ORDER BY n DESC LIMIT 1`.execute(conn.db)
  const series = top.rows[0]
  log(`\n${all.length.toLocaleString('en-US')} titles; 1,000 ids (${new Set(known).size} distinct known)`)

  log('\nin process (one connection):')
  const text =
    'SELECT id, average_rating AS rating, num_votes AS votes FROM titles WHERE id IN (SELECT value FROM json_each(?))'
  const prepared = conn.sqlite.prepare(text)
  log(`  ratingsOf (Kysely)             ${summary(await time(() => ratingsOf(conn.db, ids)))}`)
  log(`  same SQL, prepared, direct     ${summary(await time(() => prepared.all(JSON.stringify(ids))))}`)
  if (series) {
    log(
      `  seriesRatings (${series.n} episodes) ${summary(await time(() => seriesRatings(conn.db, series.parent_id)))}`,
    )
  }
  conn.close()

  log('\nover HTTP (the app, pool of 2, one request at a time):')
  const own = path.join(dir, 'bench-ratings')
  const config = loadConfig(
    {
      host: '127.0.0.1',
      port: 0,
      poolSize: 2,
      logLevel: 'silent',
      dbPath,
      usersDbPath: path.join(own, 'users.db'),
      dataDir: path.join(dir, 'imdb'),
      sampleDir: path.join(own, 'sample'),
      maxEventLoopDelayMs: 0,
      watchDbMs: 0,
    },
    {},
  )
  const app = await buildApp(config, { logger: false })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  try {
    const tconsts = ids.map((n) => formatId('tt', n))
    const getUrl = `${url}/ratings?ids=${tconsts.join(',')}`
    const body = JSON.stringify({ ids: tconsts })
    const ok = async (res: Promise<Response>) => {
      const r = await res
      if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${await r.text()}`)
      await r.arrayBuffer()
    }
    log(
      `  GET /ratings (1,000 ids, ${getUrl.length - url.length} chars)  ${summary(await time(() => ok(fetch(getUrl))))}`,
    )
    log(
      `  POST /ratings/lookup (1,000 ids)          ${summary(
        await time(() =>
          ok(
            fetch(`${url}/ratings/lookup`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body,
            }),
          ),
        ),
      )}`,
    )
    if (series) {
      const seriesUrl = `${url}/ratings/series/${formatId('tt', series.parent_id)}`
      log(`  GET /ratings/series (${series.n} episodes)   ${summary(await time(() => ok(fetch(seriesUrl))))}`)
    }
  } finally {
    await app.close()
    await rm(own, { recursive: true, force: true })
  }
}

await main()
