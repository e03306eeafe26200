/**
 * Change-history benchmark: `npm run bench:changes -- [--titles 1000000] [--rate 0.01] [--seed 1]`
 * (or BENCH_TITLES=...).
 *
 * Uses the same cached samples as `bench:update` (.cache/sample-<titles>-<seed>/ as "yesterday",
 * .cache/sample-<titles>-<seed>-changed-<rate>/ as "today", generated when missing). In
 * .cache/bench-changes/ it builds yesterday's database with `update` (a full build that keeps its
 * files), refreshes it to today's files, and prints:
 * - the time the refresh spent recording the history, and its ratio to the whole refresh;
 * - the same for a full ingest of today's files over yesterday's database (the comparison of the
 *   two files by primary key, on its own thread);
 * - the history's size on disk (dbstat: the two tables and their index) and its change rows;
 * - the time to stream all of GET /changes since yesterday as NDJSON from a server on the result.
 */

import { existsSync } from 'node:fs'
import { copyFile, mkdir, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { generateSample } from '../src/datasets/sample/generator.js'
import Database from '../src/db/sqlite/driver.js'
import { ingest } from '../src/ingest/index.js'
import { update } from '../src/update/index.js'
import { mutateDataset } from '../test/update/mutate.js'

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`

async function cached(dir: string, what: string, make: () => Promise<void>): Promise<void> {
  if (existsSync(join(dir, 'title.basics.tsv.gz'))) return
  console.log(what)
  await make()
}

/** Bytes of the history tables and index (null without dbstat), and their change rows. */
function historySize(dbPath: string): { bytes: number | null; rows: number; fileBytes: number } {
  const db = new Database(dbPath, { readonly: true })
  try {
    const rows = db.prepare('SELECT count(*) FROM history_changes').pluck().get() as number
    const pageSize = db.pragma('page_size', { simple: true }) as number
    const fileBytes = (db.pragma('page_count', { simple: true }) as number) * pageSize
    let bytes: number | null = null
    try {
      bytes = db
        .prepare(
          "SELECT sum(pgsize) FROM dbstat WHERE name IN ('history_changes', 'history_generations', 'history_changes_by_seq')",
        )
        .pluck()
        .get() as number
    } catch {
      bytes = null
    }
    return { bytes, rows, fileBytes }
  } finally {
    db.close()
  }
}

/** Streams GET /changes?since= as NDJSON from a server on `dbPath`: milliseconds, lines, bytes. */
async function streamChanges(
  dbPath: string,
  since: string,
): Promise<{ ms: number; lines: number; bytes: number }> {
  const config = loadConfig(
    {
      host: '127.0.0.1',
      port: 0,
      dbPath,
      usersDbPath: `${dbPath}.users`,
      logLevel: 'silent',
      maxEventLoopDelayMs: 0,
      queryTimeoutMs: 60_000,
      rateLimitPerMinute: 0,
    },
    {},
  )
  const app = await buildApp(config, { logger: false })
  const url = await app.listen({ host: config.host, port: 0 })
  try {
    const started = performance.now()
    const res = await fetch(`${url}/changes?since=${since}&format=ndjson`)
    if (!res.ok) throw new Error(`GET /changes answered ${res.status}: ${await res.text()}`)
    let bytes = 0
    let lines = 0
    for await (const chunk of res.body!) {
      const b = chunk as Uint8Array
      bytes += b.length
      for (const c of b) if (c === 10) lines++
    }
    return { ms: performance.now() - started, lines, bytes }
  } finally {
    await app.close()
    await rm(`${dbPath}.users`, { force: true })
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      titles: { type: 'string', default: process.env.BENCH_TITLES ?? '1000000' },
      seed: { type: 'string', default: '1' },
      rate: { type: 'string', default: '0.01' },
    },
  })
  const titles = Number(values.titles)
  const seed = Number(values.seed)
  const rate = Number(values.rate)
  const before = resolve('.cache', `sample-${titles}-${seed}`)
  const after = resolve('.cache', `sample-${titles}-${seed}-changed-${rate}`)
  await cached(before, `generating a ${titles.toLocaleString('en')}-title sample into ${before}`, () =>
    generateSample({ titles, seed, out: before }).then(() => {}),
  )
  await cached(after, `changing ${rate * 100}% of its rows into ${after}`, () =>
    mutateDataset(before, after, { rate, seed }).then(() => {}),
  )

  const work = resolve('.cache', 'bench-changes', `${titles}-${seed}-${rate}`)
  await rm(work, { recursive: true, force: true })
  await mkdir(work, { recursive: true })
  const dbPath = join(work, 'marquee.db')
  console.log(`building yesterday's database (${titles.toLocaleString('en')} titles)…`)
  const base = await update({ dbPath, dataDir: before })
  // A copy of yesterday, for the full ingest over it.
  const ingestDb = join(work, 'ingest.db')
  await copyFile(dbPath, ingestDb)

  console.log(`refreshing it to today's files (${rate * 100}% of the rows changed)…`)
  const refresh = await update({ dbPath, dataDir: after })
  if (refresh.mode !== 'incremental') throw new Error(`the refresh rebuilt in full: ${refresh.reason}`)
  const recordMs = refresh.timings.history ?? 0
  console.log(`ingesting today's files in full over yesterday's database…`)
  const full = await ingest({ dataDir: after, dbPath: ingestDb })
  const ingestRecordMs = full.timings.history ?? 0

  const size = historySize(dbPath)
  const counts = (
    refresh.manifest as unknown as { changes: { counts: Record<string, Record<string, number>> } }
  ).changes.counts
  const stream = await streamChanges(dbPath, base.generation)

  console.log('')
  console.log(`titles                      ${titles.toLocaleString('en')}, ${rate * 100}% changed`)
  console.log(
    `changes recorded            ${size.rows.toLocaleString('en')}: ${Object.entries(counts)
      .map(([e, c]) => `${e} +${c.added} -${c.removed} ~${c.changed}`)
      .join(', ')}`,
  )
  console.log(
    `record (refresh)            ${s(recordMs)} of a ${s(refresh.durationMs)} refresh: ${(recordMs / refresh.durationMs).toFixed(3)}x`,
  )
  console.log(
    `record (full ingest)        ${s(ingestRecordMs)} of a ${s(full.durationMs)} ingest: ${(ingestRecordMs / full.durationMs).toFixed(3)}x (on its own thread)`,
  )
  console.log(
    `history on disk             ${size.bytes === null ? 'n/a (no dbstat)' : mb(size.bytes)} (${size.bytes === null ? '' : `${(size.bytes / size.rows).toFixed(0)} B a change, `}database ${mb(size.fileBytes)})`,
  )
  console.log(
    `stream GET /changes         ${s(stream.ms)} for ${stream.lines.toLocaleString('en')} changes, ${mb(stream.bytes)} of NDJSON (${Math.round(stream.lines / (stream.ms / 1000)).toLocaleString('en')}/s)`,
  )
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
