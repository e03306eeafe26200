/**
 * `npm run bench:blocking`: does any route, given its worst legal input, hold the event loop?
 *
 * marquee runs as `npm start` runs it (built, from dist/, default settings) with the SQL console on
 * and a user store with an analyst key, over the 1M-title sample. For each route family, wrk (its
 * own process) sends that family's heaviest legal requests from 16 connections for BENCH_SECONDS
 * (default 10), while a prober on a thread of its own asks GET /health 20 times a second. It prints
 * /health p50, p99 and max per family, beside the same prober against the idle server in the same
 * run. Targets: p99 <= 5 ms and max <= 50 ms for every family.
 *
 * Options: BENCH_TITLES (default 1000000), BENCH_SECONDS, BENCH_ONLY (comma-separated family names),
 * BENCH_SERVER_NODE_ARGS (Node flags for the server, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { formatId } from '../src/datasets/catalogue.js'
import Database from '../src/db/sqlite/driver.js'
import { hashApiKey, newApiKey } from '../src/users/api-keys.js'
import { openUserStore } from '../src/users/open.js'
import { nowIso } from '../src/users/store.js'
import { ensureSampleDatabase } from '../test/helpers/dataset.js'
import { fmt, freePort, healthProber, percentile, type WrkRequest, waitForReady, wrk } from './lib.js'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const TITLES = Number(process.env.BENCH_TITLES ?? 1_000_000)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const ONLY = process.env.BENCH_ONLY?.split(',')
const TARGET = { p99: 5, max: 50 }

const log = (line = '') => console.log(line)

interface Family {
  name: string
  /** What makes these requests the route's worst legal input. */
  why: string
  requests: WrkRequest[]
}

async function main() {
  const dir = path.join(ROOT, '.cache', `sample-${TITLES >= 1_000_000 ? `${TITLES / 1_000_000}m` : TITLES}`)
  const dbPath = await ensureSampleDatabase({ titles: TITLES, dir, log })
  const work = await mkdtemp(path.join(tmpdir(), 'marquee-bench-blocking-'))
  const usersDb = path.join(work, 'users.db')
  const key = newApiKey()
  const store = await openUserStore(usersDb, { create: true, inline: true })
  await store.createKey({ name: 'bench', role: 'analyst', keyHash: hashApiKey(key), at: nowIso() })
  await store.close()
  const auth = { authorization: `Bearer ${key}` }

  const families = worstInputs(dbPath, auth)
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const server = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      'dist/src/cli/main.js',
      'serve',
      '--db',
      dbPath,
      '--users-db',
      usersDb,
      '--enable-sql',
    ],
    {
      cwd: ROOT,
      env: { ...process.env, MARQUEE_PORT: String(port), MARQUEE_DATA: path.join(dir, 'imdb') },
      // The request log goes nowhere: its cost is bench:api's subject, not this one's.
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  )
  try {
    await waitForReady(url, server)
    log(`marquee (dist/, default settings, --enable-sql) on ${dbPath}`)
    log(
      `each family: wrk -t1 -c16 for ${SECONDS} s; /health from a prober thread, 20 per second ` +
        `(targets: p99 <= ${TARGET.p99} ms, max <= ${TARGET.max} ms)\n`,
    )
    log(
      `  ${'family'.padEnd(22)} ${'/health p50'.padStart(11)} ${'p99'.padStart(8)} ${'max'.padStart(8)}   load`,
    )
    const idle = await probe(url, () => new Promise((r) => setTimeout(r, SECONDS * 1000)))
    line('idle server', idle, '')
    let worst = 0
    for (const f of families) {
      if (ONLY && !ONLY.includes(f.name)) continue
      // Legal input: every request of the family answers on its own, 2xx or a deliberate 503 (a
      // statement stopped at the query deadline).
      for (const r of f.requests) {
        const res = await fetch(`${url}${r.path}`, { method: r.method, headers: r.headers, body: r.body })
        await res.arrayBuffer()
        if (res.status >= 300 && res.status !== 503)
          throw new Error(`${f.name}: ${r.method ?? 'GET'} ${r.path} answered ${res.status}`)
      }
      let load = ''
      const h = await probe(url, async () => {
        const r = await wrk({ url, paths: f.requests, connections: 16, seconds: SECONDS })
        load =
          `${fmt(r.rps, 0)} req/s, p99 ${fmt(r.p99, 0)} ms` +
          (r.non2xx + r.errors ? `, ${r.non2xx} non-2xx, ${r.errors} errors` : '')
      })
      worst = Math.max(worst, h.p99 > TARGET.p99 || h.max > TARGET.max ? 1 : 0)
      line(f.name, h, load)
    }
    log()
    for (const f of families) if (!ONLY || ONLY.includes(f.name)) log(`  ${f.name}: ${f.why}`)
    log(worst ? '\nsome family misses a target' : '\nevery family within the targets')
  } finally {
    server.kill('SIGTERM')
    await new Promise((r) => server.once('exit', r))
    await rm(work, { recursive: true, force: true })
  }
}

function line(name: string, h: { p50: number; p99: number; max: number; n: number }, load: string) {
  log(
    `  ${name.padEnd(22)} ${`${fmt(h.p50, 2)} ms`.padStart(11)} ${`${fmt(h.p99, 1)} ms`.padStart(8)} ` +
      `${`${fmt(h.max, 1)} ms`.padStart(8)}   ${load}`,
  )
}

/** /health latencies while `during` runs. */
async function probe(url: string, during: () => Promise<void>) {
  const prober = healthProber(url, 20)
  await during()
  await prober.stop()
  const ms = prober.samples.map((s) => s.ms).sort((a, b) => a - b)
  return { p50: percentile(ms, 50), p99: percentile(ms, 99), max: ms.at(-1) ?? Number.NaN, n: ms.length }
}

/** Each route family's heaviest legal requests, found in the sample. */
function worstInputs(dbPath: string, auth: Record<string, string>): Family[] {
  const db = new Database(dbPath, { readonly: true })
  const one = <T>(sql: string) => db.prepare(sql).get() as T
  const series = one<{ id: number; n: number }>(
    'SELECT parent_id AS id, count(*) AS n FROM episodes GROUP BY parent_id ORDER BY n DESC LIMIT 1',
  )
  const akas = one<{ id: number }>(
    'SELECT title_id AS id FROM akas GROUP BY title_id ORDER BY count(*) DESC LIMIT 1',
  )
  const person = one<{ id: number }>(
    `SELECT name_id AS id FROM principals INDEXED BY principals_by_name
     GROUP BY name_id ORDER BY count(*) DESC LIMIT 1`,
  )
  const ids = db.prepare('SELECT id FROM titles ORDER BY random() LIMIT 10000').pluck().all() as number[]
  db.close()
  const tt = (id: number) => formatId('tt', id)
  const json = { ...auth, 'content-type': 'application/json' }
  return [
    {
      name: 'title',
      why: `GET /titles/{id} with every include, for the series with the most episodes (${series.n}) and the title with the most alternate titles`,
      requests: [series.id, akas.id].map((id) => ({
        path: `/titles/${tt(id)}?include=credits,akas,episodes`,
      })),
    },
    {
      name: 'title list',
      why: 'GET /titles with facets over every title, a broad word sorted by votes, and the widest filters',
      requests: [
        '/titles?facets=genre,type,decade&limit=100',
        '/titles?q=the&sort=votes&limit=100&facets=type',
        '/titles?genre=Comedy&genre=Drama&runtimeMin=30&sort=rating&limit=100&facets=decade',
      ].map((path) => ({ path })),
    },
    {
      name: 'title batch',
      why: 'POST /titles/batch with 100 ids',
      requests: [0, 1, 2, 3].map((k) => ({
        method: 'POST',
        path: '/titles/batch',
        headers: json,
        body: JSON.stringify({ ids: ids.slice(k * 100, k * 100 + 100).map(tt) }),
      })),
    },
    {
      name: 'people',
      why: 'GET /names/{id} and its credits (100 a page, sorted by votes) for the most credited person',
      requests: [
        `/names/${formatId('nm', person.id)}`,
        `/names/${formatId('nm', person.id)}/credits?limit=100&sort=votes`,
        '/names?q=john&limit=100',
      ].map((path) => ({ path })),
    },
    {
      name: 'search',
      why: 'GET /search for the broadest one- and two-letter words',
      requests: ['the', 'a', 'de', 'lo', 'ma'].map((q) => ({ path: `/search?q=${q}&limit=20` })),
    },
    {
      name: 'exports',
      why: 'whole-list exports as CSV and NDJSON (every title of a genre, streamed page by page)',
      requests: [{ path: '/titles?genre=Drama&format=csv' }, { path: '/titles?genre=Comedy&format=ndjson' }],
    },
    {
      name: 'dataset rows',
      why: 'GET /datasets/title.principals/rows at the largest offset, and an NDJSON stream of 100,000 rows',
      requests: [
        { path: '/datasets/title.principals/rows?offset=100000&limit=1000' },
        { path: '/datasets/title.akas/rows?offset=100000&limit=1000' },
        { path: '/datasets/title.principals/rows?format=ndjson&limit=100000' },
      ],
    },
    {
      name: 'sql',
      why: 'GET /sql: a 30M-character value (180 MB as JSON), 10,000 wide rows, and a scan that runs to the deadline',
      requests: [
        `SELECT printf('%.*c', 30000000, char(1)) AS x`,
        'SELECT * FROM titles LIMIT 10000',
        'SELECT count(*) FROM principals a, titles b',
      ].map((q) => ({ path: `/sql?q=${encodeURIComponent(q)}`, headers: auth })),
    },
    {
      name: 'import',
      why: 'POST /me/import with 10,000 items (the most allowed)',
      requests: [
        {
          method: 'POST',
          path: '/me/import',
          headers: json,
          body: JSON.stringify({
            items: ids.map((id, i) => ({ tconst: tt(id), rating: 1 + (i % 10), watchlist: i % 2 === 0 })),
          }),
        },
      ],
    },
  ]
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
