/**
 * `npm run bench:api`: drives a real marquee server (a child process) over the 1M-title sample
 * database and prints throughput and latency per scenario:
 *
 *   0. The stack's limit: GET /health and GET /titles/{tconst} from wrk (its own process) against a
 *      minimal Fastify 5 server (bench/minimal-server.mjs, a primary-key get() on the main thread)
 *      and against marquee in its default configuration (built, from dist/, logging at info to a
 *      file), on the same database file, in alternating rounds; marquee's figures as ratios
 *      (targets: >= 0.8x on both routes)
 *   1. GET /titles/{tconst} over random ids: the worker pool, inline point lookups, all inline
 *   2. GET /search with realistic prefixes (what people type on the way to popular titles and names)
 *   3. GET /names/{nconst}/credits for the most credited people
 *   4. GET /health while other clients keep the heaviest allowed queries running on every worker,
 *      with the pool and, for contrast, with every query inline on the event loop
 *   5. GET /titles/{tconst} alone, then beside a burst of user writes (ratings, watchlist changes
 *      and 100-item imports by 8 users): writes must not slow the dataset's reads
 *
 * The load generator shares the machine's cores with the server: figures are for comparing runs
 * and modes on the same machine, not absolute capacity. Options: BENCH_TITLES (default 1000000),
 * BENCH_SECONDS per scenario (default 10), BENCH_ONLY (comma-separated scenario numbers),
 * BENCH_DATABASE_URL (serve from PostgreSQL: the same sample is ingested there once, under the
 * schema prefix marquee_bench_api; the execution modes are then the pg pool alone).
 */
import { type ChildProcess, spawn } from 'node:child_process'
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
import { autocannon, freePort, type Request, type Result, type WrkResult, waitForReady, wrk } from './lib.js'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const TITLES = Number(process.env.BENCH_TITLES ?? 1_000_000)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const ONLY = process.env.BENCH_ONLY?.split(',').map(Number)
const DATABASE_URL = process.env.BENCH_DATABASE_URL
const PG_PREFIX = 'marquee_bench_api'
/** Settings every server of the run gets: PostgreSQL's when BENCH_DATABASE_URL is set. */
const BACKEND: Record<string, string> = DATABASE_URL
  ? { MARQUEE_DATABASE_URL: DATABASE_URL, MARQUEE_DATABASE_SCHEMA: PG_PREFIX }
  : {}

const log = (line = '') => console.log(line)
const pick = <T>(xs: readonly T[]) => xs[Math.floor(Math.random() * xs.length)]

interface Server {
  url: string
  proc: ChildProcess
  stop(): Promise<void>
}

/** Starts `marquee serve` from source on the sample database; `env` selects the execution mode. */
async function startServer(dbPath: string, env: Record<string, string> = {}): Promise<Server> {
  const port = await freePort()
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--db', dbPath], {
    cwd: ROOT,
    env: {
      ...process.env,
      MARQUEE_PORT: String(port),
      // error, not warn: autocannon ends each run by dropping requests in flight (REQUEST_ABORTED).
      MARQUEE_LOG_LEVEL: 'error',
      // Measure the server, not the load shedder.
      MARQUEE_MAX_EVENT_LOOP_DELAY_MS: '0',
      MARQUEE_RATE_LIMIT: '0',
      ...BACKEND,
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  return waitUntilReady(`http://127.0.0.1:${port}`, proc)
}

/**
 * `npm start`'s server, untouched: built (dist/), default settings, its info-level request log
 * appended to `logFile` as a deployment would keep it.
 */
async function startDefaultServer(dbPath: string, logFile: string): Promise<Server> {
  const port = await freePort()
  const { openSync } = await import('node:fs')
  const out = openSync(logFile, 'a')
  const proc = spawn(process.execPath, ['dist/src/cli/main.js', 'serve', '--db', dbPath], {
    cwd: ROOT,
    env: { ...process.env, MARQUEE_PORT: String(port), ...BACKEND },
    stdio: ['ignore', out, 'inherit'],
  })
  return waitUntilReady(`http://127.0.0.1:${port}`, proc)
}

/** The minimal Fastify server of bench/minimal-server.mjs on the same database file. */
async function startMinimalServer(dbPath: string): Promise<Server> {
  const port = await freePort()
  const proc = spawn(process.execPath, ['bench/minimal-server.mjs', dbPath, String(port)], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  return waitUntilReady(`http://127.0.0.1:${port}`, proc, '/health')
}

async function waitUntilReady(url: string, proc: ChildProcess, probe = '/ready'): Promise<Server> {
  await waitForReady(url, proc, probe)
  return {
    url,
    proc,
    stop: () =>
      new Promise((resolve) => {
        proc.once('exit', () => resolve())
        proc.kill('SIGTERM')
      }),
  }
}

const ms = (n: number) => `${n.toFixed(n < 10 ? 2 : 1)} ms`

function report(label: string, r: Result) {
  const ok = r['2xx']
  const bad = r.non2xx + r.errors + r.timeouts
  log(
    `  ${label.padEnd(44)} ${String(Math.round(r.requests.average)).padStart(7)} req/s` +
      `  p50 ${ms(r.latency.p50).padStart(9)}  p99 ${ms(r.latency.p99).padStart(9)}  max ${ms(r.latency.max).padStart(9)}` +
      `  (${ok} ok${bad ? `, ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts` : ''})`,
  )
}

/** The round with the median throughput. */
function median(results: Result[]): Result {
  return [...results].sort((a, b) => a.requests.average - b.requests.average)[Math.floor(results.length / 2)]
}

function cannon(url: string, paths: () => string, connections: number, duration = SECONDS): Promise<Result> {
  return autocannon({
    url,
    connections,
    duration,
    requests: [{ setupRequest: (req) => ({ ...req, path: paths() }) }],
  })
}

/** A short warm-up so the first scenario does not pay for cold pages and JIT. */
async function warm(url: string, paths: () => string) {
  await cannon(url, paths, 8, 2)
}

/** What people type on the way to a popular title or name: growing prefixes of its words. */
function prefixesOf(text: string): string[] {
  const words = text.split(/\s+/).filter(Boolean)
  const out: string[] = []
  for (let w = 0; w < Math.min(words.length, 3); w++) {
    const head = words.slice(0, w).join(' ')
    for (let n = 3; n <= words[w].length; n += 2) out.push(`${head} ${words[w].slice(0, n)}`.trim())
  }
  return out
}

async function main() {
  const dir = path.join(ROOT, '.cache', `sample-${TITLES >= 1_000_000 ? `${TITLES / 1_000_000}m` : TITLES}`)
  const dbPath = await ensureSampleDatabase({ titles: TITLES, dir, log })
  if (DATABASE_URL) await ensurePostgres(DATABASE_URL, path.join(dir, 'imdb'))
  const db = new Database(dbPath, { readonly: true })
  const ids = (
    db.prepare('SELECT id FROM titles WHERE id % 7 = 3 LIMIT 50000').all() as { id: number }[]
  ).map((r) => formatId('tt', r.id))
  const popularTitles = (
    db.prepare('SELECT primary_title AS t FROM titles ORDER BY num_votes DESC LIMIT 300').all() as {
      t: string
    }[]
  ).map((r) => r.t)
  const popularNames = (
    db.prepare('SELECT primary_name AS t FROM names ORDER BY popularity DESC LIMIT 200').all() as {
      t: string
    }[]
  ).map((r) => r.t)
  log('finding the most credited people ...')
  const credited = (
    db
      .prepare(
        `SELECT name_id AS id, count(*) AS n FROM principals INDEXED BY principals_by_name
         GROUP BY name_id ORDER BY n DESC LIMIT 100`,
      )
      .all() as { id: number; n: number }[]
  ).map((r) => ({ id: formatId('nm', r.id), n: r.n }))
  db.close()
  const prefixes = [...popularTitles, ...popularNames].flatMap(prefixesOf)
  log(
    `dataset: ${dbPath}; ${ids.length} title ids, ${prefixes.length} search prefixes, ` +
      `most credited person has ${credited[0]?.n} principal credits`,
  )
  log(`each scenario runs ${SECONDS} s; autocannon shares the machine with the server\n`)

  const titlePath = () => `/titles/${pick(ids)}`
  const searchPath = () => `/search?q=${encodeURIComponent(pick(prefixes))}`
  const creditsPath = () => `/names/${pick(credited).id}/credits?sort=votes&limit=20`
  // The heaviest requests the API allows: unfiltered facets over every title, broad list filters.
  const heavyPath = () =>
    pick([
      '/titles?facets=genre,type,decade&limit=100',
      '/titles?facets=genre&genre=Drama&limit=100&sort=year',
      '/titles?q=the&sort=votes&limit=100&facets=type',
      `/titles?genre=Comedy&genre=Drama&runtimeMin=${30 + Math.floor(Math.random() * 60)}&sort=rating&limit=100`,
    ])

  const modes: [string, Record<string, string>][] = DATABASE_URL
    ? [['PostgreSQL, pg pool on the main thread', {}]]
    : [
        ['worker pool', {}],
        ['point lookups inline', { MARQUEE_INLINE_POINT_LOOKUPS: '1' }],
        ['every query inline (pool disabled)', { MARQUEE_INLINE_QUERIES: '1' }],
      ]

  if (!ONLY || ONLY.includes(0)) await stackLimit(dbPath)

  if (!ONLY || ONLY.includes(1)) {
    // The modes run in alternation, a few short rounds each, so that a change in the machine's load
    // (other processes) weighs on every mode alike; medians are reported.
    const rounds = 3
    log(`1. GET /titles/{tconst}, random ids, 64 connections (median of ${rounds} alternating rounds)`)
    const servers = await Promise.all(modes.map(([, env]) => startServer(dbPath, env)))
    try {
      for (const s of servers) await warm(s.url, titlePath)
      const results: Result[][] = modes.map(() => [])
      for (let r = 0; r < rounds; r++) {
        for (const [i, s] of servers.entries())
          results[i].push(await cannon(s.url, titlePath, 64, Math.max(3, Math.round(SECONDS / 2))))
      }
      for (const [i, [label]] of modes.entries()) report(label, median(results[i]))
      const pool = median(results[0]).requests.average
      if (modes.length > 1) {
        log(
          `  ratio to the pool: ${modes
            .slice(1)
            .map(([label], i) => `${label} ${(median(results[i + 1]).requests.average / pool).toFixed(2)}x`)
            .join(', ')}`,
        )
      }
    } finally {
      await Promise.all(servers.map((s) => s.stop()))
    }
    log()
  }

  const s = await startServer(dbPath)
  try {
    if (!ONLY || ONLY.includes(2) || ONLY.includes(3)) {
      log('2-3. the baseline: GET /health on the same server, the latency of the stack itself')
      await warm(s.url, () => '/health')
      report('1 connection (latency)', await cannon(s.url, () => '/health', 1))
      log()
    }
    if (!ONLY || ONLY.includes(2)) {
      log('2. GET /search, realistic prefixes (targets: p50 <= 10 ms, p99 <= 50 ms)')
      await warm(s.url, searchPath)
      report('1 connection (latency)', await cannon(s.url, searchPath, 1))
      report('8 connections (throughput)', await cannon(s.url, searchPath, 8))
      log()
    }
    if (!ONLY || ONLY.includes(3)) {
      log(
        `3. GET /names/{nconst}/credits, the ${credited.length} most credited people (target: p99 <= 50 ms)`,
      )
      await warm(s.url, creditsPath)
      report('1 connection (latency)', await cannon(s.url, creditsPath, 1))
      report('8 connections (throughput)', await cannon(s.url, creditsPath, 8))
      log()
    }
  } finally {
    await s.stop()
  }

  if (!ONLY || ONLY.includes(4)) {
    log('4. GET /health while 4 clients keep the heaviest queries running (target: p99 <= 5 ms)')
    for (const [label, env] of modes.length > 1 ? [modes[0], modes[2]] : modes) {
      const srv = await startServer(dbPath, { MARQUEE_QUERY_TIMEOUT_MS: '2000', ...env })
      try {
        const heavy = cannon(srv.url, heavyPath, 4)
        await new Promise((r) => setTimeout(r, 500))
        const health = await cannon(srv.url, () => '/health', 2, Math.max(3, SECONDS - 2))
        const load = await heavy
        report(`/health, ${label}`, health)
        report(`  the heavy queries meanwhile`, load)
      } finally {
        await srv.stop()
      }
    }
    log()
  }

  if (!ONLY || ONLY.includes(5)) await readsBesideWrites(dbPath, ids, titlePath)
}

const wrkLine = (label: string, r: WrkResult) =>
  log(
    `  ${label.padEnd(44)} ${String(Math.round(r.rps)).padStart(7)} req/s` +
      `  p50 ${ms(r.p50).padStart(9)}  p99 ${ms(r.p99).padStart(9)}  max ${ms(r.max).padStart(9)}` +
      (r.non2xx + r.errors ? `  (${r.non2xx} non-2xx, ${r.errors} errors)` : ''),
  )

/**
 * Scenario 0: marquee as `npm start` runs it against the minimal server, on the same file, from
 * wrk with 1 thread and 32 connections; rounds alternate so that the machine's drift weighs on both.
 */
async function stackLimit(dbPath: string) {
  const rounds = 3
  const seconds = Math.max(3, Math.round(SECONDS / 2))
  log(`0. The stack's limit: wrk -t1 -c32, ${seconds} s rounds, median of ${rounds} (targets: >= 0.8x)`)
  const dir = await mkdtemp(path.join(tmpdir(), 'marquee-bench-limit-'))
  const logFile = path.join(dir, 'marquee.log')
  const minimal = await startMinimalServer(dbPath)
  const marquee = await startDefaultServer(dbPath, logFile)
  // Titles drawn at random from the whole table (no locality a cache could lean on).
  const db = new Database(dbPath, { readonly: true })
  const sampled = db.prepare('SELECT id FROM titles ORDER BY random() LIMIT 30000').pluck().all() as number[]
  db.close()
  const titlePaths = sampled.map((id) => `/titles/${formatId('tt', id)}`)
  const routes: [string, string[]][] = [
    ['GET /health', ['/health']],
    [`GET /titles/{tconst}, ${titlePaths.length} random titles`, titlePaths],
  ]
  try {
    for (const s of [minimal, marquee])
      await wrk({ url: s.url, paths: titlePaths, connections: 8, seconds: 2 })
    for (const [route, target] of routes) {
      const results: [WrkResult[], WrkResult[]] = [[], []]
      for (let r = 0; r < rounds; r++) {
        for (const [i, s] of [minimal, marquee].entries())
          results[i].push(await wrk({ url: s.url, paths: target, connections: 32, seconds }))
      }
      const [base, ours] = results.map((rs) => [...rs].sort((a, b) => a.rps - b.rps)[rounds >> 1])
      log(`  ${route}`)
      wrkLine('  minimal Fastify 5 server', base)
      wrkLine('  marquee, default configuration', ours)
      log(`    ratio: ${(ours.rps / base.rps).toFixed(2)}x`)
    }
    const { stat } = await import('node:fs/promises')
    log(`  (marquee wrote ${((await stat(logFile)).size / 1e6).toFixed(0)} MB of request log meanwhile)`)
  } finally {
    await Promise.all([minimal.stop(), marquee.stop()])
    await rm(dir, { recursive: true, force: true })
  }
  log()
}

/**
 * Scenario 5: read throughput of GET /titles/{tconst} alone and while 8 users write (single
 * ratings, watchlist additions, 100-item imports), in alternating rounds; the ratio is the point.
 */
async function readsBesideWrites(dbPath: string, ids: string[], titlePath: () => string) {
  const rounds = 3
  log(
    `5. GET /titles/{tconst}, 48 connections, alone and beside 8 writing users (median of ${rounds} rounds)`,
  )
  const dir = await mkdtemp(path.join(tmpdir(), 'marquee-bench-users-'))
  const usersDb = path.join(dir, 'users.db')
  const keys: string[] = []
  if (!DATABASE_URL) {
    const store = await openUserStore(usersDb, { create: true, inline: true })
    for (let i = 0; i < 8; i++) {
      const key = newApiKey()
      await store.createKey({ name: `bench-${i}`, role: 'user', keyHash: hashApiKey(key), at: nowIso() })
      keys.push(key)
    }
    await store.close()
  } else {
    log('  (skipped on PostgreSQL: the bench creates its keys in a SQLite user store)')
    return
  }
  const srv = await startServer(dbPath, { MARQUEE_USERS_DB: usersDb })
  let n = 0
  const write = (req: Request): Request => {
    const key = keys[n++ % keys.length]
    const headers = { ...req.headers, 'x-api-key': key, 'content-type': 'application/json' }
    const r = Math.random()
    if (r < 0.45)
      return {
        ...req,
        headers,
        method: 'PUT',
        path: `/me/ratings/${pick(ids)}`,
        body: JSON.stringify({ rating: 1 + Math.floor(Math.random() * 10) }),
      }
    if (r < 0.9) return { ...req, headers, method: 'PUT', path: `/me/watchlist/${pick(ids)}`, body: '{}' }
    const items = Array.from({ length: 100 }, () => ({ tconst: pick(ids), rating: 7, watchlist: true }))
    return { ...req, headers, method: 'POST', path: '/me/import', body: JSON.stringify({ items }) }
  }
  try {
    await warm(srv.url, titlePath)
    const alone: Result[] = []
    const beside: Result[] = []
    const writes: Result[] = []
    const duration = Math.max(3, Math.round(SECONDS / 2))
    for (let r = 0; r < rounds; r++) {
      alone.push(await cannon(srv.url, titlePath, 48, duration))
      const writing = autocannon({
        url: srv.url,
        connections: 8,
        duration,
        requests: [{ setupRequest: write }],
      })
      beside.push(await cannon(srv.url, titlePath, 48, duration))
      writes.push(await writing)
    }
    report('reads alone', median(alone))
    report('reads beside the writes', median(beside))
    report('  the writes meanwhile', median(writes))
    // On two cores the writers' CPU (JSON, validation, SQLite) is taken from the readers: a ratio
    // near the writers' share of the CPU, with read p99 far below the writes', means no read waits
    // on a write lock.
    log(
      `  ratio of read throughput beside writes to alone: ${(median(beside).requests.average / median(alone).requests.average).toFixed(2)}x`,
    )
  } finally {
    await srv.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

/** The sample in PostgreSQL under PG_PREFIX, ingested once (again when it holds another sample). */
async function ensurePostgres(url: string, dataDir: string): Promise<void> {
  const { servedGeneration } = await import('../src/db/postgres/generations.js')
  const served = await servedGeneration(url, PG_PREFIX)
  if (served) {
    log(
      `PostgreSQL: serving ${PG_PREFIX} generation ${served.generation} (drop schema ${PG_PREFIX} cascade to rebuild)`,
    )
    return
  }
  const { ingestPostgres } = await import('../src/ingest/postgres/index.js')
  log(`PostgreSQL: ingesting ${dataDir} under ${PG_PREFIX} ...`)
  const started = performance.now()
  await ingestPostgres({ dataDir, databaseUrl: url, schemaPrefix: PG_PREFIX })
  log(`  done in ${((performance.now() - started) / 1000).toFixed(0)} s`)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
