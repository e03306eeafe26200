/**
 * Ingest benchmark: `npm run bench:ingest -- --titles 1000000 [--seed 1] [--runs 1] [--skip-baseline]`.
 *
 * Generates (once, cached under .cache/sample-<titles>-<seed>/) a sample in the IMDb format, times
 * our ingest in a child process (which reports its own peak RSS, all threads included), then times
 * the baseline in the same run: the sqlite3 shell `.import`ing the same seven files with default
 * settings (TEXT columns) from `|zcat` pipes, plus 8 b-tree indexes comparable to ours.
 */

import { execFileSync, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, rm, stat, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { DATASET_NAMES, datasetSpec } from '../src/datasets/catalogue.js'
import { generateSample } from '../src/datasets/sample/generator.js'
import type { IngestSummary } from '../src/ingest/index.js'

const SQLITE3 = '/usr/bin/sqlite3'
const TIME = '/usr/bin/time'
const PROJECTED_ROWS = 200_000_000

interface ChildResult {
  summary: IngestSummary
  seconds: number
  maxRssBytes: number
  cpuSeconds: number
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      titles: { type: 'string', default: '1000000' },
      seed: { type: 'string', default: '1' },
      runs: { type: 'string', default: '1' },
      'skip-baseline': { type: 'boolean', default: false },
      child: { type: 'string' },
      db: { type: 'string' },
    },
  })
  if (values.child) return child(values.child, values.db!)

  const titles = Number(values.titles)
  const seed = Number(values.seed)
  const runs = Number(values.runs)
  const dir = resolve('.cache', `sample-${titles}-${seed}`)
  await ensureSample(dir, titles, seed)
  const work = resolve('.cache', 'bench-ingest')
  await mkdir(work, { recursive: true })

  const gz = await Promise.all(
    DATASET_NAMES.map((n) => stat(join(dir, datasetSpec(n).file)).then((s) => s.size)),
  )
  console.log(`sample: ${dir} (${mb(gz.reduce((a, b) => a + b, 0))} MB gzipped)`)

  const ours: ChildResult[] = []
  for (let i = 0; i < runs; i++) {
    const db = join(work, 'marquee.db')
    const r = await runChild(dir, db)
    ours.push(r)
    const rows = r.summary.totals.read
    console.log(
      `ingest run ${i + 1}: ${r.seconds.toFixed(1)} s wall, ${r.cpuSeconds.toFixed(1)} s CPU, ` +
        `${rows.toLocaleString('en')} rows, ${fmtRate(rows / r.seconds)} rows/s, peak RSS ${mb(r.maxRssBytes)} MB, ` +
        `db ${mb((await stat(db)).size)} MB`,
    )
    const t = r.summary.timings
    console.log(
      `  per file ${DATASET_NAMES.map((n) => `${n} ${sec(t[n])}`).join(', ')}\n` +
        `  fts ${sec(t.fts)}, indexes ${sec(t.indexes)}, merge ${sec(t.merge)}, analyze ${sec(t.analyze)}, sizes ${sec(t.sizes)}`,
    )
  }
  const best = ours.reduce((a, b) => (b.seconds < a.seconds ? b : a))

  let baseline: { import: number; indexes: number } | null = null
  if (values['skip-baseline']) console.log('baseline: skipped (--skip-baseline)')
  else if (!existsSync(SQLITE3))
    console.log(`baseline: skipped, ${SQLITE3} is not installed (apt-get install sqlite3)`)
  else baseline = await runBaseline(dir, join(work, 'baseline.db'))

  const rows = best.summary.totals.read
  console.log('')
  console.log(
    `ours:      ${best.seconds.toFixed(1)} s (best of ${runs}), ${fmtRate(rows / best.seconds)} rows/s`,
  )
  console.log(`peak RSS:  ${mb(best.maxRssBytes)} MB (target <= 1024 MB)`)
  console.log(`db size:   ${mb((await stat(join(work, 'marquee.db'))).size)} MB`)
  if (baseline) {
    const total = baseline.import + baseline.indexes
    console.log(
      `baseline:  ${total.toFixed(1)} s (import ${baseline.import.toFixed(1)} s + indexes ${baseline.indexes.toFixed(1)} s)`,
    )
    console.log(`ratio:     ${(best.seconds / total).toFixed(2)} (ours / baseline, target <= 0.5)`)
    if (baselineCpu > 0) {
      // On a machine shared with other work, CPU seconds compare more steadily than wall time.
      console.log(
        `CPU:       ours ${best.cpuSeconds.toFixed(1)} s, baseline ${baselineCpu.toFixed(1)} s, ratio ${(best.cpuSeconds / baselineCpu).toFixed(2)}`,
      )
    }
  }
  console.log(
    `projected: ${((best.seconds * PROJECTED_ROWS) / rows / 60).toFixed(1)} min for ${PROJECTED_ROWS / 1e6}M rows at this rate`,
  )
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

/** Runs the ingest in a fresh process, so that its peak RSS is its own. */
function runChild(dataDir: string, db: string): Promise<ChildResult> {
  return new Promise((resolvePromise, reject) => {
    const p = spawn(
      process.execPath,
      [...process.execArgv, new URL(import.meta.url).pathname, '--child', dataDir, '--db', db],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    )
    let out = ''
    p.stdout.on('data', (d) => {
      out += d
    })
    p.on('error', reject)
    p.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`ingest child exited with ${code}`))
      const line = out.trim().split('\n').pop()!
      resolvePromise(JSON.parse(line) as ChildResult)
    })
  })
}

async function child(dataDir: string, db: string): Promise<void> {
  const { ingest } = await import('../src/ingest/index.js')
  const t = performance.now()
  const summary = await ingest({ dataDir, dbPath: db })
  const seconds = (performance.now() - t) / 1000
  const usage = process.resourceUsage()
  const result: ChildResult = {
    summary,
    seconds,
    maxRssBytes: usage.maxRSS * 1024,
    cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
  }
  process.stdout.write(`${JSON.stringify(result)}\n`)
}

/** Indexes of the baseline: the keys our tables get for free plus our main secondary access paths. */
const BASELINE_INDEXES = [
  'CREATE INDEX b1 ON title_basics (tconst)',
  'CREATE INDEX b2 ON title_akas (titleId, ordering)',
  'CREATE INDEX b3 ON title_crew (tconst)',
  'CREATE INDEX b4 ON title_episode (parentTconst, seasonNumber, episodeNumber)',
  'CREATE INDEX b5 ON title_principals (tconst, ordering)',
  'CREATE INDEX b6 ON title_principals (nconst)',
  'CREATE INDEX b7 ON title_ratings (tconst)',
  'CREATE INDEX b8 ON name_basics (nconst)',
]

async function runBaseline(dir: string, db: string): Promise<{ import: number; indexes: number }> {
  await rm(db, { force: true })
  const version = execFileSync(SQLITE3, ['--version']).toString().split(' ')[0]
  // .mode ascii with tab/newline separators: no quote processing, as in the IMDb format.
  const imports = DATASET_NAMES.map(
    (n) => `.import "|zcat '${join(dir, datasetSpec(n).file)}'" ${n.replace('.', '_')}`,
  ).join('\n')
  console.log(`baseline: sqlite3 ${version} shell, .import from |zcat pipes, default settings…`)
  const importSeconds = await sqlite(db, `.mode ascii\n.separator "\\t" "\\n"\n${imports}\n`)
  const indexSeconds = await sqlite(db, `${BASELINE_INDEXES.join(';\n')};\n`)
  console.log(
    `  import ${importSeconds.toFixed(1)} s, indexes ${indexSeconds.toFixed(1)} s, db ${mb((await stat(db)).size)} MB`,
  )
  await rm(db, { force: true })
  return { import: importSeconds, indexes: indexSeconds }
}

/** CPU seconds of the baseline's processes (sqlite3 and the zcat it starts), when /usr/bin/time exists. */
let baselineCpu = 0

function sqlite(db: string, script: string): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const t = performance.now()
    // GNU time reports the CPU of sqlite3 and of the zcat children it waited for.
    const timed = existsSync(TIME)
    const [cmd, args] = timed ? [TIME, ['-f', '%U %S', SQLITE3, db]] : [SQLITE3, [db]]
    // The shell warns about every line with the wrong field count; only the time matters here.
    const p = spawn(cmd, args, { stdio: ['pipe', 'ignore', timed ? 'pipe' : 'ignore'] })
    let err = ''
    p.stderr?.on('data', (d) => {
      err += d
    })
    p.on('error', reject)
    p.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`sqlite3 exited with ${code}`))
      const cpu = /(\d+\.\d+) (\d+\.\d+)\s*$/.exec(err)
      if (cpu) baselineCpu += Number(cpu[1]) + Number(cpu[2])
      resolvePromise((performance.now() - t) / 1000)
    })
    p.stdin!.end(script)
  })
}

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0)
const sec = (ms: number | undefined) => `${((ms ?? 0) / 1000).toFixed(1)} s`
const fmtRate = (r: number) => (r >= 1e6 ? `${(r / 1e6).toFixed(2)}M` : `${Math.round(r / 1e3)}k`)

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
