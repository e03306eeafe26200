/**
 * PostgreSQL ingest benchmark:
 * `npm run bench:ingest:postgres -- --titles 1000000 [--seed 1] [--runs 1] [--skip-baseline] [--database-url URL] [--profile]`
 *
 * Uses the sample cache of bench/ingest.ts (.cache/sample-<titles>-<seed>/, generated once), times
 * our ingest (`ingestPostgres`, in a child process that reports its own peak RSS and CPU) into a
 * throwaway schema prefix, then times the baseline in the same run: psql `\copy ... FROM PROGRAM
 * 'zcat ...'` of the same seven files into plain text columns, one after the other, then the same
 * access paths as ours on those tables (keys, secondary indexes, GIN text search over titles and
 * names) and ANALYZE, with the server's default settings. The database URL defaults to
 * MARQUEE_DATABASE_URL, else the local test database.
 *
 * `--profile` says where the time goes: the CPU seconds of the server's processes (when the server
 * runs on this machine and /proc shows them) beside the node process's, for our ingest and for each
 * step of the baseline, and our index phase statement by statement (time on its connection, when
 * it ended), longest first.
 */

import { execFileSync, spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { stat, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { DATASET_NAMES, datasetSpec } from '../src/datasets/catalogue.js'
import { generateSample } from '../src/datasets/sample/generator.js'
import { generationSchemas } from '../src/db/postgres/generations.js'
import type { IngestSummary } from '../src/ingest/index.js'

const PSQL = 'psql'
const PREFIX = 'marquee_bench'
const BASELINE_SCHEMA = 'marquee_bench_baseline'

interface ChildResult {
  summary: IngestSummary
  seconds: number
  maxRssBytes: number
  cpuSeconds: number
  /** --profile: each statement of the index phase, its seconds and when it ended (s from the start). */
  statements?: { sql: string; seconds: number; endedAt: number }[]
}

/** How many statements --profile lists. */
const PROFILE_STATEMENTS = 25

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      titles: { type: 'string', default: '1000000' },
      seed: { type: 'string', default: '1' },
      runs: { type: 'string', default: '1' },
      'skip-baseline': { type: 'boolean', default: false },
      'database-url': { type: 'string' },
      profile: { type: 'boolean', default: false },
      child: { type: 'string' },
    },
  })
  const profile = values.profile
  const url =
    values['database-url'] ?? process.env.MARQUEE_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
  if (values.child) return child(values.child, url, profile)

  const titles = Number(values.titles)
  const seed = Number(values.seed)
  const runs = Number(values.runs)
  const dir = resolve('.cache', `sample-${titles}-${seed}`)
  await ensureSample(dir, titles, seed)
  const gz = await Promise.all(
    DATASET_NAMES.map((n) => stat(join(dir, datasetSpec(n).file)).then((s) => s.size)),
  )
  console.log(`sample: ${dir} (${mb(gz.reduce((a, b) => a + b, 0))} MB gzipped)`)
  console.log(`database: ${redact(url)} (${await serverVersion(url)})`)

  const ours: ChildResult[] = []
  try {
    for (let i = 0; i < runs; i++) {
      const server = serverCpuSeconds()
      const r = await runChild(dir, url, profile)
      const serverCpu = server === null ? null : serverCpuSeconds()! - server
      ours.push(r)
      const rows = r.summary.totals.read
      const t = r.summary.timings
      console.log(
        `ingest run ${i + 1}: ${r.seconds.toFixed(1)} s wall, ${r.cpuSeconds.toFixed(1)} s CPU (node), ` +
          `${rows.toLocaleString('en')} rows, ${fmtRate(rows / r.seconds)} rows/s, peak RSS ${mb(r.maxRssBytes)} MB, ` +
          `schema ${mb(await schemaBytes(url))} MB`,
      )
      console.log(
        `  per file ${DATASET_NAMES.map((n) => `${n} ${sec(t[n])}`).join(', ')}\n` +
          `  load ${sec(t.load)}; spans: indexes ${sec(t.indexes)}, fts ${sec(t.fts)}, analyze ${sec(t.analyze)}, sizes ${sec(t.sizes)}`,
      )
      if (profile) printProfile(r, serverCpu)
    }
  } finally {
    await dropBench(url)
  }
  const best = ours.reduce((a, b) => (b.seconds < a.seconds ? b : a))

  let baseline: { copy: number; indexes: number } | null = null
  if (values['skip-baseline']) console.log('baseline: skipped (--skip-baseline)')
  else if (!hasPsql())
    console.log(`baseline: skipped, ${PSQL} is not installed (apt-get install postgresql-client)`)
  else baseline = await runBaseline(dir, url, profile)

  const rows = best.summary.totals.read
  console.log('')
  console.log(
    `ours:      ${best.seconds.toFixed(1)} s (best of ${runs}), ${fmtRate(rows / best.seconds)} rows/s`,
  )
  console.log(`peak RSS:  ${mb(best.maxRssBytes)} MB (the node process; the server's memory is its own)`)
  if (baseline) {
    const total = baseline.copy + baseline.indexes
    console.log(
      `baseline:  ${total.toFixed(1)} s (\\copy ${baseline.copy.toFixed(1)} s + indexes and ANALYZE ${baseline.indexes.toFixed(1)} s), ` +
        `${fmtRate(rows / total)} rows/s`,
    )
    console.log(`ratio:     ${(best.seconds / total).toFixed(2)} (ours / baseline, target <= 1.0)`)
  }
}

async function ensureSample(dir: string, titles: number, seed: number): Promise<void> {
  const marker = join(dir, '.complete')
  if (existsSync(marker)) return
  console.log(`generating a ${titles.toLocaleString('en')}-title sample into ${dir} (cached for later runs)…`)
  const t = performance.now()
  await generateSample({ titles, seed, out: dir })
  await writeFile(marker, new Date().toISOString())
  console.log(`  generated in ${((performance.now() - t) / 1000).toFixed(1)} s`)
}

/** Runs the ingest in a fresh process, so that its peak RSS and CPU are its own. */
function runChild(dataDir: string, url: string, profile: boolean): Promise<ChildResult> {
  return new Promise((resolvePromise, reject) => {
    const p = spawn(
      process.execPath,
      [
        ...process.execArgv,
        new URL(import.meta.url).pathname,
        '--child',
        dataDir,
        '--database-url',
        url,
        ...(profile ? ['--profile'] : []),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    let out = ''
    p.stdout.on('data', (d) => {
      out += d
    })
    p.on('error', reject)
    p.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`ingest child exited with ${code}`))
      resolvePromise(JSON.parse(out.trim().split('\n').pop()!) as ChildResult)
    })
  })
}

async function child(dataDir: string, url: string, profile: boolean): Promise<void> {
  const { ingestPostgres } = await import('../src/ingest/postgres/index.js')
  const t = performance.now()
  const statements: NonNullable<ChildResult['statements']> = []
  const summary = await ingestPostgres({
    dataDir,
    databaseUrl: url,
    schemaPrefix: PREFIX,
    onStatement: profile
      ? (sql, ms) => statements.push({ sql, seconds: ms / 1000, endedAt: (performance.now() - t) / 1000 })
      : undefined,
  })
  const seconds = (performance.now() - t) / 1000
  const usage = process.resourceUsage()
  const result: ChildResult = {
    summary,
    seconds,
    maxRssBytes: usage.maxRSS * 1024,
    cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
    ...(profile ? { statements } : {}),
  }
  process.stdout.write(`${JSON.stringify(result)}\n`)
}

/** The baseline's tables: the files as they are, every column text. */
const BASELINE_TABLES: Record<string, string> = {
  'title.basics':
    'tconst text, titleType text, primaryTitle text, originalTitle text, isAdult text, startYear text, endYear text, runtimeMinutes text, genres text',
  'title.akas':
    'titleId text, ordering text, title text, region text, language text, types text, attributes text, isOriginalTitle text',
  'title.crew': 'tconst text, directors text, writers text',
  'title.episode': 'tconst text, parentTconst text, seasonNumber text, episodeNumber text',
  'title.principals': 'tconst text, ordering text, nconst text, category text, job text, characters text',
  'title.ratings': 'tconst text, averageRating text, numVotes text',
  'name.basics':
    'nconst text, primaryName text, birthYear text, deathYear text, primaryProfession text, knownForTitles text',
}

/** Our access paths, on the baseline's tables: keys, secondary indexes, text search. */
const BASELINE_INDEXES = [
  'CREATE UNIQUE INDEX ON title_basics (tconst)',
  'CREATE INDEX ON title_basics (titleType, tconst)',
  'CREATE INDEX ON title_basics (startYear, tconst)',
  'CREATE INDEX ON title_basics (lower(primaryTitle), tconst)',
  'CREATE INDEX ON title_ratings (tconst)',
  'CREATE INDEX ON title_ratings (numVotes, tconst)',
  'CREATE INDEX ON title_ratings (averageRating, tconst)',
  'CREATE INDEX ON title_akas (titleId, ordering)',
  'CREATE INDEX ON title_crew (tconst)',
  'CREATE INDEX ON title_episode (tconst)',
  'CREATE INDEX ON title_episode (parentTconst, seasonNumber, episodeNumber)',
  'CREATE INDEX ON title_principals (tconst, ordering)',
  'CREATE INDEX ON title_principals (nconst)',
  'CREATE INDEX ON name_basics (nconst)',
  'CREATE INDEX ON name_basics (lower(primaryName), nconst)',
  `CREATE INDEX ON title_basics USING gin (to_tsvector('simple', primaryTitle || ' ' || coalesce(originalTitle, '')))`,
  `CREATE INDEX ON title_akas USING gin (to_tsvector('simple', title))`,
  `CREATE INDEX ON name_basics USING gin (to_tsvector('simple', primaryName))`,
]

async function runBaseline(
  dir: string,
  url: string,
  profile: boolean,
): Promise<{ copy: number; indexes: number }> {
  const table = (n: string) => n.replace('.', '_')
  const setup = [
    'SET client_min_messages = warning;',
    `DROP SCHEMA IF EXISTS ${BASELINE_SCHEMA} CASCADE;`,
    `CREATE SCHEMA ${BASELINE_SCHEMA};`,
    `SET search_path = ${BASELINE_SCHEMA};`,
    ...DATASET_NAMES.map((n) => `CREATE TABLE ${table(n)} (${BASELINE_TABLES[n]});`),
  ].join('\n')
  // Text format, as our COPY; the header line is dropped by tail.
  const copies = [
    `SET search_path = ${BASELINE_SCHEMA};`,
    ...DATASET_NAMES.map(
      (n) => `\\copy ${table(n)} FROM PROGRAM 'zcat ${join(dir, datasetSpec(n).file)} | tail -n +2'`,
    ),
  ].join('\n')
  const indexes = [
    `SET search_path = ${BASELINE_SCHEMA};`,
    ...BASELINE_INDEXES.map((s) => `${s};`),
    'ANALYZE;',
  ].join('\n')
  console.log(
    'baseline: psql \\copy FROM PROGRAM zcat, then the same access paths and ANALYZE, default settings…',
  )
  try {
    await psql(url, setup)
    const cpu0 = serverCpuSeconds()
    const copy = await psql(url, copies)
    const cpu1 = serverCpuSeconds()
    const idx = await psql(url, indexes)
    const cpu2 = serverCpuSeconds()
    console.log(`  \\copy ${copy.toFixed(1)} s, indexes and ANALYZE ${idx.toFixed(1)} s`)
    if (profile && cpu0 !== null && cpu1 !== null && cpu2 !== null) {
      console.log(
        `  profile: server CPU ${(cpu1 - cpu0).toFixed(1)} s in \\copy, ${(cpu2 - cpu1).toFixed(1)} s in indexes and ANALYZE ` +
          '(zcat and psql not counted)',
      )
    }
    return { copy, indexes: idx }
  } finally {
    await psql(
      url,
      `SET client_min_messages = warning; DROP SCHEMA IF EXISTS ${BASELINE_SCHEMA} CASCADE;`,
    ).catch(() => {})
  }
}

function psql(url: string, script: string): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const t = performance.now()
    const p = spawn(PSQL, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url], {
      stdio: ['pipe', 'ignore', 'inherit'],
    })
    p.on('error', reject)
    p.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`psql exited with ${code}`))
      resolvePromise((performance.now() - t) / 1000)
    })
    p.stdin.end(script)
  })
}

function printProfile(r: ChildResult, serverCpu: number | null): void {
  const server =
    serverCpu === null ? 'server CPU unknown (not a local server)' : `server CPU ${serverCpu.toFixed(1)} s`
  const busy =
    serverCpu === null ? '' : `, ${((r.cpuSeconds + serverCpu) / r.seconds).toFixed(2)} cores busy on average`
  console.log(`  profile: node CPU ${r.cpuSeconds.toFixed(1)} s, ${server}${busy}`)
  const statements = [...(r.statements ?? [])].sort((a, b) => b.seconds - a.seconds)
  const total = statements.reduce((sum, s) => sum + s.seconds, 0)
  console.log(
    `  index phase: ${statements.length} statements, ${total.toFixed(1)} s on their connections; the longest (s, ended at s):`,
  )
  for (const s of statements.slice(0, PROFILE_STATEMENTS)) {
    console.log(
      `    ${s.seconds.toFixed(1).padStart(5)} ${s.endedAt.toFixed(1).padStart(6)}  ${s.sql.slice(0, 100)}`,
    )
  }
}

/**
 * CPU seconds used so far by the PostgreSQL server processes of this machine (live processes, plus
 * what the postmaster collected from those that exited); null without /proc or a visible server.
 */
function serverCpuSeconds(): number | null {
  let ticks = 0
  let seen = false
  let entries: string[]
  try {
    entries = readdirSync('/proc')
  } catch {
    return null
  }
  for (const pid of entries) {
    if (!/^\d+$/.test(pid)) continue
    let stat: string
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    } catch {
      continue
    }
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
    if (comm !== 'postgres' && comm !== 'postmaster') continue
    seen = true
    // Fields after the command: state is [0], utime [11], stime [12], cutime [13], cstime [14].
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])
  }
  // USER_HZ is 100 on Linux.
  return seen ? ticks / 100 : null
}

function hasPsql(): boolean {
  try {
    execFileSync(PSQL, ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    return await fn(c)
  } finally {
    await c.end()
  }
}

const serverVersion = (url: string) =>
  withClient(url, async (c) => (await c.query('SHOW server_version')).rows[0].server_version as string)

/** Bytes of the served generation of the bench prefix, indexes included. */
const schemaBytes = (url: string) =>
  withClient(url, async (c) => {
    const { rows } = await c.query(
      `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint AS b FROM pg_class c
       JOIN ${PREFIX}.current cur ON c.relnamespace = cur.schema::regnamespace WHERE c.relkind = 'r'`,
    )
    return Number(rows[0].b)
  })

const dropBench = (url: string) =>
  withClient(url, async (c) => {
    for (const s of await generationSchemas(c, PREFIX)) await c.query(`DROP SCHEMA ${s} CASCADE`)
    await c.query(`DROP SCHEMA IF EXISTS ${PREFIX} CASCADE`)
  })

const redact = (url: string) => url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@')
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0)
const sec = (ms: number | undefined) => `${((ms ?? 0) / 1000).toFixed(1)} s`
const fmtRate = (r: number) => (r >= 1e6 ? `${(r / 1e6).toFixed(2)}M` : `${Math.round(r / 1e3)}k`)

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
