/**
 * `npm run bench:soak [-- --minutes N]`: a long run of a real marquee server (a child process, from
 * source) over the 1M-title sample, to catch what short benchmarks miss: leaks, slow degradation,
 * errors under sustained load, a dataset swap under load.
 *
 *   - 64 connections: 62 through autocannon with the light mix (single-title lookups, some with
 *     credits and akas, search as people type it, filmographies of the most credited people, title
 *     lists by a word), one client looping the heaviest filters the API allows (facets over every
 *     title, broad sorted filters; closed loop, so one at a time), and one trickle of writes to
 *     /me/* (5/s) with an admin key made in a fresh users database
 *   - halfway, a dataset swap: a copy of the database with a new generation is renamed over the
 *     served file, then POST /admin/reload (or SIGHUP where `marquee serve` handles it)
 *   - every 5 s, the server's RSS and JS heap (its /metrics) and, on Linux, RSS split into
 *     anonymous and file-backed (the database is memory-mapped, so its pages count in RSS without
 *     being a leak); slopes after warm-up (the first fifth, at least 30 s) by linear regression
 *   - a separate prober: GET /health 10 times a second throughout, against an idle baseline
 *   - 5xx by problem code (from the server's warn log) and by client: any 5xx other than a
 *     deliberate 503 (pool busy, deadline, load shed) fails the run (exit code 1), as does an
 *     unclean exit on SIGTERM at the end
 *
 * Options: --minutes N (default 10), --connections N (default 64); BENCH_TITLES (default 1000000).
 * The load generator shares the machine's cores with the server: figures are for comparing runs
 * on the same machine. Files: .cache/soak/ (server.log and users.db are kept; the served copy is
 * removed at the end).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createWriteStream, existsSync, readFileSync } from 'node:fs'
import { copyFile, mkdir, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { formatId } from '../src/datasets/catalogue.js'
import Database from '../src/db/sqlite/driver.js'
import { hashApiKey, newApiKey } from '../src/users/api-keys.js'
import { openUserStore } from '../src/users/open.js'
import { ensureSampleDatabase } from '../test/helpers/dataset.js'
import {
  autocannon,
  fmt,
  freePort,
  healthProber,
  percentile,
  type Request,
  type Result,
  summary,
  waitForReady,
} from './lib.js'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const TITLES = Number(process.env.BENCH_TITLES ?? 1_000_000)
const { values: args } = parseArgs({
  options: { minutes: { type: 'string', default: '10' }, connections: { type: 'string', default: '64' } },
})
const MINUTES = Number(args.minutes)
const CONNECTIONS = Number(args.connections)
if (!(MINUTES > 0) || !(CONNECTIONS > 0)) throw new Error('--minutes and --connections take positive numbers')
const SECONDS = Math.round(MINUTES * 60)
const WARMUP_S = Math.max(30, SECONDS / 5)
const SAMPLE_MS = 5000
/** Writes (and reads of them) to /me per second, from their own client. */
const WRITES_PER_S = 5

/** 503s the server sends on purpose; anything else 5xx is a failure. */
const DELIBERATE_503 = new Set(['POOL_BUSY', 'QUERY_TIMEOUT', 'OVERLOADED', 'REQUEST_ABORTED', 'USERS_BUSY'])

const log = (line = '') => console.log(line)
const pick = <T>(xs: readonly T[]) => xs[Math.floor(Math.random() * xs.length)]
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const mb = (bytes: number) => bytes / 1024 / 1024

/** Least-squares slope of y over x. */
function slope(points: [number, number][]): number {
  const n = points.length
  if (n < 2) return Number.NaN
  const mx = points.reduce((s, [x]) => s + x, 0) / n
  const my = points.reduce((s, [, y]) => s + y, 0) / n
  let num = 0
  let den = 0
  for (const [x, y] of points) {
    num += (x - mx) * (y - my)
    den += (x - mx) ** 2
  }
  return num / den
}

/** One sample of a metric in the Prometheus text format. */
function metric(text: string, name: string): number | null {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `))
  return line ? Number(line.slice(name.length + 1)) : null
}

/** The workload: what real clients ask, read from the database being served. */
function workload(dbPath: string) {
  const db = new Database(dbPath, { readonly: true })
  try {
    const ids = (
      db.prepare('SELECT id FROM titles WHERE id % 7 = 3 LIMIT 50000').pluck().all() as number[]
    ).map((id) => formatId('tt', id))
    const popular = db
      .prepare('SELECT primary_title FROM titles ORDER BY num_votes DESC LIMIT 300')
      .pluck()
      .all() as string[]
    const people = db
      .prepare('SELECT primary_name FROM names ORDER BY popularity DESC LIMIT 200')
      .pluck()
      .all() as string[]
    const credited = (
      db
        .prepare(
          `SELECT name_id FROM principals INDEXED BY principals_by_name
           GROUP BY name_id ORDER BY count(*) DESC LIMIT 100`,
        )
        .pluck()
        .all() as number[]
    ).map((id) => formatId('nm', id))
    const prefixes = [...popular, ...people].flatMap((text) => {
      const words = text.split(/\s+/).filter(Boolean)
      const out: string[] = []
      for (let w = 0; w < Math.min(words.length, 3); w++) {
        const head = words.slice(0, w).join(' ')
        for (let n = 3; n <= words[w].length; n += 2) out.push(`${head} ${words[w].slice(0, n)}`.trim())
      }
      return out
    })
    return {
      ids,
      credited,
      prefixes,
      words: popular.flatMap((t) => t.split(/\s+/)).filter((w) => w.length > 3),
    }
  } finally {
    db.close()
  }
}

interface Server {
  url: string
  proc: ChildProcess
  /** 5xx answers by problem code, from the server's warn and error log lines. */
  serverErrors: Map<string, number>
  exited: Promise<number | null>
}

async function startServer(dbPath: string, usersDb: string, logFile: string): Promise<Server> {
  const port = await freePort()
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--db', dbPath, '--users-db', usersDb],
    {
      cwd: ROOT,
      env: { ...process.env, MARQUEE_PORT: String(port), MARQUEE_LOG_LEVEL: 'warn', MARQUEE_RATE_LIMIT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  const out = createWriteStream(logFile)
  const serverErrors = new Map<string, number>()
  let pending = ''
  const onData = (d: Buffer) => {
    out.write(d)
    pending += d
    const lines = pending.split('\n')
    pending = lines.pop() ?? ''
    for (const line of lines) {
      if (!line.startsWith('{')) continue
      try {
        const entry = JSON.parse(line) as { level: number; code?: string; msg?: string }
        if (entry.level >= 50)
          serverErrors.set('500 (unhandled)', (serverErrors.get('500 (unhandled)') ?? 0) + 1)
        else if (entry.level === 40 && entry.code)
          serverErrors.set(entry.code, (serverErrors.get(entry.code) ?? 0) + 1)
      } catch {
        // not a log line
      }
    }
  }
  proc.stdout?.on('data', onData)
  proc.stderr?.on('data', onData)
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)))
  const url = `http://127.0.0.1:${port}`
  await waitForReady(url, proc).catch((err: Error) => {
    throw new Error(`${err.message}; see ${logFile}`)
  })
  return { url, proc, serverErrors, exited }
}

/** How `marquee serve` can be told to load a new database file, as far as this checkout knows. */
function servesSighup(): boolean {
  const serve = path.join(ROOT, 'src/cli/serve.ts')
  return existsSync(serve) && readFileSync(serve, 'utf8').includes("'SIGHUP'")
}

/** Answers per kind of client and per second: answered (< 500), shed (503), failed (other 5xx). */
class Tally {
  readonly #byStatus = new Map<string, Map<number, number>>()
  readonly #seconds: { ok: number; shed: number; failed: number }[] = []

  add(kind: string, status: number, at: number): void {
    const counts = this.#byStatus.get(kind) ?? new Map<number, number>()
    counts.set(status, (counts.get(status) ?? 0) + 1)
    this.#byStatus.set(kind, counts)
    const s = Math.floor(at)
    for (let i = this.#seconds.length; i <= s; i++) this.#seconds.push({ ok: 0, shed: 0, failed: 0 })
    const slot = this.#seconds[s]
    if (status === 503) slot.shed++
    else if (status >= 500 || status === 0) slot.failed++
    else slot.ok++
  }

  /** Totals over [from, to) seconds. */
  window(from: number, to: number): { ok: number; shed: number; failed: number } {
    const out = { ok: 0, shed: 0, failed: 0 }
    for (const s of this.#seconds.slice(Math.max(0, Math.floor(from)), Math.ceil(to))) {
      out.ok += s.ok
      out.shed += s.shed
      out.failed += s.failed
    }
    return out
  }

  statuses(kind: string): string {
    const counts = [...(this.#byStatus.get(kind) ?? [])].sort(([a], [b]) => a - b)
    return counts.map(([s, n]) => `${s === 0 ? 'error' : s}: ${n}`).join(', ') || 'none'
  }
}

/** One request outside autocannon; its status, or 0 when it failed without one. */
async function send(url: string, r: Request, headers: Record<string, string>): Promise<number> {
  try {
    const res = await fetch(`${url}${r.path}`, {
      method: r.method ?? 'GET',
      headers: { ...headers, ...r.headers },
      body: r.body,
      signal: AbortSignal.timeout(10_000),
    })
    await res.arrayBuffer()
    return res.status
  } catch {
    return 0
  }
}

/** RssAnon and RssFile of a process in bytes, from /proc (Linux); null elsewhere. */
function procStatus(pid: number | undefined): { RssAnon: number; RssFile: number } | null {
  if (pid === undefined) return null
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (name: string) =>
      Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN) * 1024
    return { RssAnon: kb('RssAnon'), RssFile: kb('RssFile') }
  } catch {
    return null
  }
}

async function main() {
  const sampleDir = path.join(
    ROOT,
    '.cache',
    `sample-${TITLES >= 1_000_000 ? `${TITLES / 1_000_000}m` : TITLES}`,
  )
  const source = await ensureSampleDatabase({ titles: TITLES, dir: sampleDir, log })
  const dir = path.join(ROOT, '.cache', 'soak')
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  // The server gets a copy, so the swap can rename a new file over it without touching the cache.
  const served = path.join(dir, 'marquee.db')
  log(`copying ${source} to ${served} ...`)
  await copyFile(source, served)
  const usersDb = path.join(dir, 'users.db')
  const store = await openUserStore(usersDb, { create: true, inline: true })
  const key = newApiKey()
  await store.createKey({
    name: 'soak',
    role: 'admin',
    keyHash: hashApiKey(key),
    at: new Date().toISOString(),
  })
  await store.close()
  const w = workload(served)
  log(
    `workload: ${w.ids.length} title ids, ${w.prefixes.length} search prefixes, ${w.credited.length} most credited people`,
  )

  const logFile = path.join(dir, 'server.log')
  const server = await startServer(served, usersDb, logFile)
  const auth = { authorization: `Bearer ${key}` }
  log(`server ${server.url} (pid ${server.proc.pid}), log ${logFile}`)

  // Baseline: /health on an idle server.
  const idle = healthProber(server.url, 10)
  await sleep(5000)
  await idle.stop()
  const idleMs = idle.samples.map((s) => s.ms)

  // The 64 connections: the light mix through autocannon, one client looping the heaviest filters
  // (closed loop: at most one in flight, as a user waiting for a report), one trickle of writes.
  const heavyPaths = () =>
    pick([
      '/titles?facets=genre,type,decade&limit=100',
      '/titles?facets=genre&genre=Drama&limit=100&sort=year',
      '/titles?q=the&sort=votes&limit=100&facets=type',
      `/titles?genre=Comedy&genre=Drama&runtimeMin=${30 + Math.floor(Math.random() * 60)}&sort=rating&limit=100`,
    ])
  const mix: [number, () => Request][] = [
    [450, () => ({ path: `/titles/${pick(w.ids)}` })],
    [80, () => ({ path: `/titles/${pick(w.ids)}?include=credits,akas` })],
    [250, () => ({ path: `/search?q=${encodeURIComponent(pick(w.prefixes))}` })],
    [140, () => ({ path: `/names/${pick(w.credited)}/credits?sort=${pick(['votes', 'year'])}&limit=20` })],
    [80, () => ({ path: `/titles?q=${encodeURIComponent(pick(w.words))}&limit=20` })],
  ]
  const writes: (() => Request)[] = [
    () => ({ method: 'PUT', path: `/me/watchlist/${pick(w.ids)}` }),
    () => ({ method: 'DELETE', path: `/me/watchlist/${pick(w.ids)}` }),
    () => ({
      method: 'PUT',
      path: `/me/ratings/${pick(w.ids)}`,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rating: 1 + Math.floor(Math.random() * 10) }),
    }),
    () => ({ method: 'GET', path: '/me/watchlist?limit=20' }),
  ]
  const total = mix.reduce((s, [n]) => s + n, 0)
  const next = (): Request => {
    let r = Math.random() * total
    for (const [n, make] of mix) {
      r -= n
      if (r < 0) return make()
    }
    return mix[0][1]()
  }

  log(
    `\nsoak: ${CONNECTIONS} connections for ${MINUTES} min (${CONNECTIONS - 2} light mix, 1 heaviest filters, ` +
      `1 writes at ${WRITES_PER_S}/s); warm-up ${WARMUP_S} s; dataset swap at ${SECONDS / 2} s`,
  )
  const started = Date.now()
  const elapsed = () => (Date.now() - started) / 1000
  const tally = new Tally()
  const reqErrors = new Map<string, number>()
  const result = new Promise<Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: server.url,
        connections: CONNECTIONS - 2,
        duration: SECONDS,
        timeout: 10,
        requests: [
          { setupRequest: (req) => ({ ...req, method: 'GET', body: undefined, headers: {}, ...next() }) },
        ],
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    )
    instance.on('response', (_client, status) => tally.add('light', status, elapsed()))
    instance.on('reqError', (err) => {
      const k = (err as NodeJS.ErrnoException).code ?? err.message
      reqErrors.set(k, (reqErrors.get(k) ?? 0) + 1)
    })
  })
  const until = started + SECONDS * 1000
  const heavyMs: number[] = []
  const heavyLoop = (async () => {
    while (Date.now() < until) {
      const t0 = performance.now()
      const status = await send(server.url, { path: heavyPaths() }, {})
      heavyMs.push(performance.now() - t0)
      tally.add('heavy', status, elapsed())
    }
  })()
  const writeLoop = (async () => {
    while (Date.now() < until) {
      const status = await send(server.url, pick(writes)(), auth)
      tally.add('writes', status, elapsed())
      await sleep(1000 / WRITES_PER_S)
    }
  })()
  const prober = healthProber(server.url, 10)

  // Memory every SAMPLE_MS: heap and RSS from the server's metrics; anonymous and file-backed RSS
  // from /proc where there is one (the database is memory-mapped: its pages count in RSS, but
  // they are the kernel's page cache, not a leak).
  const memory: { at: number; rss: number; heap: number; anon: number; file: number; queue: number }[] = []
  let sampling = true
  const sampler = (async () => {
    while (sampling) {
      try {
        const text = await (
          await fetch(`${server.url}/metrics`, { signal: AbortSignal.timeout(5000) })
        ).text()
        const proc = procStatus(server.proc.pid)
        memory.push({
          at: elapsed(),
          rss: metric(text, 'process_resident_memory_bytes') ?? Number.NaN,
          heap: metric(text, 'nodejs_heap_size_used_bytes') ?? Number.NaN,
          anon: proc?.RssAnon ?? Number.NaN,
          file: proc?.RssFile ?? Number.NaN,
          queue: metric(text, 'marquee_pool_queue') ?? Number.NaN,
        })
      } catch {
        // A missed sample; the next one counts.
      }
      await sleep(SAMPLE_MS)
    }
  })()

  // The swap: prepared from 40% of the run, made at half time (or as soon as the copy is ready).
  let swapNote = ''
  const swap = (async () => {
    await sleep(SECONDS * 400)
    const generationNow = async () =>
      ((await (await fetch(`${server.url}/ready`)).json()) as { generation: string }).generation
    const before = await generationNow()
    const nextFile = `${served}.next`
    const copyStarted = Date.now()
    await copyFile(served, nextFile)
    const generation = `${new Date().toISOString().replace(/[-:.]/g, '')}-soak`
    const db = new Database(nextFile)
    db.prepare(`UPDATE meta SET value = ? WHERE key = 'generation'`).run(generation)
    db.close()
    const copyS = (Date.now() - copyStarted) / 1000
    await sleep(Math.max(0, started + SECONDS * 500 - Date.now()))
    const at = elapsed()
    await rename(nextFile, served)
    const reloadStarted = Date.now()
    let how: string
    const res = await fetch(`${server.url}/admin/reload`, { method: 'POST', headers: auth })
    if (res.status !== 404) {
      how = `POST /admin/reload: ${res.status} ${(await res.text()).slice(0, 160)}`
    } else if (servesSighup()) {
      server.proc.kill('SIGHUP')
      how = 'SIGHUP (no /admin/reload route)'
    } else {
      how = 'none: this checkout has neither POST /admin/reload nor a SIGHUP handler, so no swap'
    }
    let after = before
    for (let i = 0; i < 100 && after === before; i++) {
      after = await generationNow()
      if (after === before) await sleep(100)
    }
    const switchMs = Date.now() - reloadStarted
    await sleep(5000)
    const around = tally.window(at, at + 5)
    swapNote =
      `at ${fmt(at, 0)} s (copy and new generation took ${fmt(copyS)} s under load); trigger: ${how}\n` +
      `  generation ${before} -> ${after}${after === generation ? ` in ${switchMs} ms` : ' (NOT swapped)'}\n` +
      `  the 5 s after it: ${around.ok} answered, ${around.shed} deliberate 503, ${around.failed} other 5xx`
  })().catch((err) => {
    swapNote = `failed: ${(err as Error).message}`
  })

  const res = await result
  await Promise.all([heavyLoop, writeLoop])
  await prober.stop()
  sampling = false
  await Promise.all([sampler, swap])

  // Report.
  log('\nthe light mix (autocannon)')
  log(
    `  ${res.requests.total} requests, ${fmt(res.requests.average, 0)} req/s; latency p50 ${res.latency.p50} ms, ` +
      `p99 ${res.latency.p99} ms, max ${res.latency.max} ms; connection errors ${res.errors}, timeouts ${res.timeouts}`,
  )
  if (reqErrors.size > 0) log(`  request errors: ${[...reqErrors].map(([k, n]) => `${k} x${n}`).join(', ')}`)
  for (const kind of ['light', 'heavy', 'writes'] as const)
    log(`  ${kind.padEnd(6)} statuses: ${tally.statuses(kind)}`)
  log(`  heaviest filters: ${summary(heavyMs)}`)
  const after = SECONDS - WARMUP_S
  const first = tally.window(WARMUP_S, WARMUP_S + after / 3).ok / (after / 3)
  const last = tally.window(SECONDS - after / 3, SECONDS + 1).ok / (after / 3)
  log(
    `  answered (not shed) per second after warm-up: first third ${fmt(first, 0)}, last third ${fmt(last, 0)} ` +
      `(ratio ${fmt(last / first, 2)}x)`,
  )

  log('\n5xx answers by problem code (server log)')
  const unexpected = [...server.serverErrors].filter(([code]) => !DELIBERATE_503.has(code))
  const deliberate = [...server.serverErrors].filter(([code]) => DELIBERATE_503.has(code))
  log(`  deliberate 503s: ${deliberate.map(([c, n]) => `${c} x${n}`).join(', ') || 'none'}`)
  log(`  any other 5xx: ${unexpected.map(([c, n]) => `${c} x${n}`).join(', ') || 'none'}`)
  const clientSide5xx = tally.window(0, SECONDS + 60).failed

  log(
    `\nmemory of the server process (every ${SAMPLE_MS / 1000} s; slopes by linear regression after warm-up)`,
  )
  const warm = memory.filter((m) => m.at >= WARMUP_S)
  const line = (label: string, get: (m: (typeof memory)[number]) => number) => {
    const values = memory.map(get)
    if (values.every(Number.isNaN)) return
    const k = slope(warm.map((m) => [m.at / 60, mb(get(m))]))
    log(
      `  ${label.padEnd(22)} ${fmt(mb(values[0]), 0).padStart(5)} -> ${fmt(mb(values.at(-1)!), 0).padStart(5)} MB, ` +
        `max ${fmt(mb(Math.max(...values)), 0).padStart(5)} MB; slope ${fmt(k, 2).padStart(7)} MB/min`,
    )
  }
  line('RSS', (m) => m.rss)
  line('  anonymous', (m) => m.anon)
  line('  file-backed (mmap)', (m) => m.file)
  line('JS heap used', (m) => m.heap)
  log(
    `  ${warm.length} samples after warm-up; query queue at most ${Math.max(...memory.map((m) => m.queue))}`,
  )

  log('\n/health (a separate prober, 10/s)')
  log(`  idle baseline   ${summary(idleMs)}`)
  log(`  under the soak  ${summary(prober.samples.map((s) => s.ms))}; failures ${prober.failures()}`)
  const p99 = (xs: number[]) =>
    percentile(
      [...xs].sort((a, b) => a - b),
      99,
    )
  log(`  p99 ratio to idle: ${fmt(p99(prober.samples.map((s) => s.ms)) / p99(idleMs), 1)}x`)

  log(`\ndataset swap ${swapNote}`)

  server.proc.kill('SIGTERM')
  const exitCode = await server.exited
  log(`\nserver exit code after SIGTERM: ${exitCode}`)
  // The served copies are 1.3 GB each: keep only the log and the users database.
  await rm(`${served}.next`, { force: true })
  await rm(served, { force: true })
  await rm(path.join(dir, '.marquee-live'), { recursive: true, force: true })

  const failed = unexpected.length > 0 || clientSide5xx > 0 || exitCode !== 0
  log(
    failed
      ? '\nFAILED: 5xx other than deliberate 503s, or an unclean exit'
      : '\nOK: no 5xx other than deliberate 503s, clean exit',
  )
  process.exitCode = failed ? 1 : 0
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
