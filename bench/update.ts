/**
 * Refresh benchmark: `npm run bench:update -- --titles 1000000 [--rate 0.01] [--runs 1] [--verify]`.
 *
 * Uses the sample `bench:ingest` caches (.cache/sample-<titles>-<seed>/, generated if missing) as
 * "yesterday", and a copy with `rate` of the rows of every file edited, deleted or inserted
 * (.cache/sample-<titles>-<seed>-changed-<rate>/, cached) as "today". Builds yesterday's database
 * once (cached in .cache/bench-update/), then times, each in a fresh process: the refresh of
 * yesterday's database to today's files (`update`), and the full ingest of today's files it
 * replaces. Prints both, their ratio (target <= 0.2) and where the refresh spends its time.
 * `--verify` compares every table of the two results (slow: it reads every row).
 */

import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { link, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { DATASET_NAMES, datasetSpec } from '../src/datasets/catalogue.js'
import { generateSample } from '../src/datasets/sample/generator.js'
import type { IngestSummary } from '../src/ingest/index.js'
import { checkSorted } from '../src/update/groups.js'
import type { UpdateSummary } from '../src/update/index.js'
import { dumpTables, ftsAnswers } from '../test/update/compare.js'
import { mutateDataset } from '../test/update/mutate.js'

interface ChildResult {
  seconds: number
  cpuSeconds: number
  maxRssBytes: number
  summary: UpdateSummary | IngestSummary
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      titles: { type: 'string', default: '1000000' },
      seed: { type: 'string', default: '1' },
      rate: { type: 'string', default: '0.01' },
      runs: { type: 'string', default: '1' },
      verify: { type: 'boolean', default: false },
      'skip-full': { type: 'boolean', default: false },
      first: { type: 'boolean', default: false },
      child: { type: 'string' },
      data: { type: 'string' },
      db: { type: 'string' },
    },
  })
  if (values.child) return child(values.child as 'update' | 'ingest', values.data!, values.db!)

  const titles = Number(values.titles)
  const seed = Number(values.seed)
  const rate = Number(values.rate)
  const runs = Number(values.runs)
  const before = resolve('.cache', `sample-${titles}-${seed}`)
  const after = resolve('.cache', `sample-${titles}-${seed}-changed-${rate}`)
  await cached(before, `generating a ${titles.toLocaleString('en')}-title sample into ${before}`, () =>
    generateSample({ titles, seed, out: before }).then(() => {}),
  )
  await cached(after, `changing ${rate * 100}% of its rows into ${after}`, async () => {
    const s = await mutateDataset(before, after, { rate, seed })
    for (const [file, c] of Object.entries(s.files)) {
      console.log(`  ${file}: ${c.edited} edited, ${c.deleted} deleted, ${c.inserted} inserted of ${c.lines}`)
    }
  })

  const work = resolve('.cache', 'bench-update')
  await mkdir(work, { recursive: true })
  // Yesterday's database, built once: the ingest keeps nothing, so its files are kept here.
  const baseDb = join(work, `base-${titles}-${seed}.db`)
  const baseMarker = `${baseDb}.generation`
  if (!existsSync(baseMarker) || !existsSync(baseDb)) {
    console.log(`building yesterday's database ${baseDb}…`)
    const r = await runChild('ingest', before, baseDb)
    console.log(`  ${r.seconds.toFixed(1)} s`)
    await writeFile(baseMarker, (r.summary as IngestSummary).generation)
  }
  const baseGeneration = (await readFile(baseMarker, 'utf8')).trim()
  // A refresh reads every new file through and records it as checked for order; after that, the
  // stretches equal in both versions are skipped unread. Yesterday's files came from an ingest:
  // check them once here (cached), as the refresh that brought them would have, unless --first
  // asks for the first refresh after an ingest.
  const sortedMarker = join(before, '.sorted')
  if (!values.first && !existsSync(sortedMarker)) {
    console.log(`checking that ${before}'s files are in IMDb's order (cached)…`)
    for (const name of DATASET_NAMES) await checkSorted(join(before, datasetSpec(name).file), name)
    await writeFile(sortedMarker, new Date().toISOString())
  }
  const sorted = !values.first
  console.log(
    sorted
      ? "measuring a daily refresh (yesterday's files were checked for order, as by the refresh that brought them)"
      : 'measuring the first refresh after an ingest (every line of both versions read)',
  )

  const updates: ChildResult[] = []
  const fulls: ChildResult[] = []
  const dbDir = join(work, 'run')
  const db = join(dbDir, 'marquee.db')
  const fullDb = join(work, 'full', 'marquee.db')
  for (let i = 0; i < runs; i++) {
    // The refresh never writes the database in place, so a hard link to yesterday's is a fresh start.
    await rm(dbDir, { recursive: true, force: true })
    await mkdir(join(dbDir, 'generations', baseGeneration), { recursive: true })
    await link(baseDb, db)
    const keptFiles = []
    for (const name of DATASET_NAMES) {
      const file = datasetSpec(name).file
      await link(join(before, file), join(dbDir, 'generations', baseGeneration, file))
      const s = await stat(join(before, file))
      keptFiles.push({ dataset: name, path: file, size: s.size, mtime: s.mtime.toISOString() })
    }
    await writeFile(
      join(dbDir, 'generations', baseGeneration, 'source.json'),
      JSON.stringify({ db, generation: baseGeneration, files: keptFiles, sorted }),
    )
    const u = await runChild('update', after, db)
    const us = u.summary as UpdateSummary
    if (us.mode !== 'incremental') throw new Error(`the update rebuilt in full: ${us.reason}`)
    updates.push(u)
    console.log(
      `update run ${i + 1}: ${u.seconds.toFixed(1)} s wall, ${u.cpuSeconds.toFixed(1)} s CPU, peak RSS ${mb(u.maxRssBytes)} MB`,
    )
    for (const f of us.files) {
      console.log(
        `  ${f.dataset.padEnd(16)} +${f.inserted} ~${f.changed} -${f.deleted} of ${f.read.toLocaleString('en')} lines, diff ${sec(f.ms)}`,
      )
    }
    const t = us.timings
    const arrivals = Object.entries(t)
      .filter(([k]) => k.endsWith(' done at'))
      .sort((x, y) => x[1] - y[1])
    console.log(`  diffs done at: ${arrivals.map(([k, v]) => `${k.slice(5, -8)} ${sec(v)}`).join(', ')}`)
    const applies = Object.entries(t).filter(([k]) => k.startsWith('apply '))
    console.log(
      `  copy ${sec(t.copy)} (alongside the diffs), diffs until the last one ${sec(t.diff)}, ` +
        `apply ${sec(applies.reduce((n, [, v]) => n + v, 0))} (${applies.map(([k, v]) => `${k.slice(6)} ${sec(v)}`).join(', ')}), ` +
        `fts ${sec(t.fts)}, commit ${sec(t.commit)}`,
    )

    if (values['skip-full']) continue
    const f = await runChild('ingest', after, fullDb)
    fulls.push(f)
    console.log(
      `full ingest run ${i + 1}: ${f.seconds.toFixed(1)} s wall, ${f.cpuSeconds.toFixed(1)} s CPU, peak RSS ${mb(f.maxRssBytes)} MB`,
    )
  }

  const best = (xs: ChildResult[]) => xs.reduce((a, b) => (b.seconds < a.seconds ? b : a))
  const u = best(updates)
  if (fulls.length === 0) return
  const f = best(fulls)
  console.log('')
  console.log(
    `update:      ${u.seconds.toFixed(1)} s wall, ${u.cpuSeconds.toFixed(1)} s CPU (best of ${runs})`,
  )
  console.log(`full ingest: ${f.seconds.toFixed(1)} s wall, ${f.cpuSeconds.toFixed(1)} s CPU`)
  console.log(
    `ratio:       ${(u.seconds / f.seconds).toFixed(2)} wall, ${(u.cpuSeconds / f.cpuSeconds).toFixed(2)} CPU (target <= 0.2)`,
  )

  if (values.verify) {
    console.log('verifying: every table of the refreshed database against the full ingest…')
    const a = dumpTables(db)
    const b = dumpTables(fullDb)
    let same = true
    for (const t of Object.keys(a)) {
      const ok = a[t].sha256 === b[t].sha256
      same &&= ok
      console.log(`  ${t.padEnd(17)} ${a[t].rows} rows ${ok ? 'identical' : 'DIFFERENT'}`)
    }
    const queries = ['the', 'love', 'war*', 'redux', 'zwei', 'jr', '"the man"']
    const fa = ftsAnswers(db, queries)
    const fb = ftsAnswers(fullDb, queries)
    const ftsSame = Object.keys(fa).every((k) => fa[k] === fb[k])
    console.log(`  fts answers       ${ftsSame ? 'identical' : 'DIFFERENT'}`)
    if (!same || !ftsSame) process.exitCode = 1
  }
}

async function cached(dir: string, what: string, make: () => Promise<void>): Promise<void> {
  const marker = join(dir, '.complete')
  if (existsSync(marker)) return
  console.log(`${what} (cached for later runs)…`)
  const t = performance.now()
  await make()
  await writeFile(marker, new Date().toISOString())
  console.log(`  done in ${((performance.now() - t) / 1000).toFixed(1)} s`)
}

/** Runs an update or a full ingest in a fresh process, so its CPU and peak RSS are its own. */
function runChild(mode: 'update' | 'ingest', dataDir: string, db: string): Promise<ChildResult> {
  return new Promise((resolvePromise, reject) => {
    const p = spawn(
      process.execPath,
      [
        ...process.execArgv,
        new URL(import.meta.url).pathname,
        '--child',
        mode,
        '--data',
        dataDir,
        '--db',
        db,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    let out = ''
    p.stdout.on('data', (d) => {
      out += d
    })
    p.on('error', reject)
    p.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${mode} child exited with ${code}`))
      resolvePromise(JSON.parse(out.trim().split('\n').pop()!) as ChildResult)
    })
  })
}

async function child(mode: 'update' | 'ingest', dataDir: string, db: string): Promise<void> {
  const t = performance.now()
  let summary: UpdateSummary | IngestSummary
  if (mode === 'update') {
    const { update } = await import('../src/update/index.js')
    summary = await update({ dataDir, dbPath: db })
  } else {
    const { ingest } = await import('../src/ingest/index.js')
    summary = await ingest({ dataDir, dbPath: db })
  }
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

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0)
const sec = (ms: number | undefined) => `${((ms ?? 0) / 1000).toFixed(1)} s`

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
