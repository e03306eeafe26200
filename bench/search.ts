/**
 * `npm run bench:search`: search quality over a truth set built from the 1M-title sample, scored as
 * recall@1 and recall@10 per kind of query, against a baseline in the same run (plain FTS5 prefix
 * match ranked by bm25: no popularity, no typo tolerance). Also prints search latency in process.
 *
 * Truth set (deterministic): popular titles and people (those a search box is used for), each kept
 * only when the query can name it (see `answerable`), as
 *   exact      the full title or name, as written
 *   prefix     whole first words and the start of the next one ("spirited aw", "laura mar")
 *   typo       the title with one edit in its longest word ("godfathr")
 *   accents    a title or name with diacritics, typed without them ("amelie")
 *   aka        an alternate title of the title ("der pate")
 * Targets: recall@10 >= 0.95 for exact and prefix, >= 0.85 with one typo.
 * Options: BENCH_TITLES (default 1000000), BENCH_TARGETS per kind (default 300).
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { sql } from 'kysely'
import { formatId } from '../src/datasets/catalogue.js'
import { Rng } from '../src/datasets/sample/random.js'
import { search } from '../src/db/queries/search.js'
import { fold, ftsMatch, tokenize } from '../src/db/queries/text.js'
import { openDataset } from '../src/db/sqlite/connection.js'
import { ensureSampleDatabase } from '../test/helpers/dataset.js'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const TITLES = Number(process.env.BENCH_TITLES ?? 1_000_000)
const TARGETS = Number(process.env.BENCH_TARGETS ?? 300)

// The same truth set every run.
const rng = new Rng(42)
const random = () => rng.float()
function sample<T>(xs: readonly T[], n: number): T[] {
  const copy = [...xs]
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[copy[i], copy[j]] = [copy[j], copy[i]]
  }
  return copy.slice(0, n)
}

type Kind = 'exact' | 'prefix' | 'typo' | 'accents' | 'aka'
interface Case {
  kind: Kind
  query: string
  target: string
}

/** One edit in the longest word (5+ letters): a deleted, doubled-over, swapped or replaced letter. */
function typo(text: string): string | null {
  const words = text.split(/\s+/)
  let longest = -1
  for (let i = 0; i < words.length; i++) {
    if (/^\p{L}{5,}$/u.test(words[i]) && (longest < 0 || words[i].length > words[longest].length)) longest = i
  }
  if (longest < 0) return null
  const w = [...words[longest]]
  const at = 1 + Math.floor(random() * (w.length - 2))
  switch (Math.floor(random() * 3)) {
    case 0:
      w.splice(at, 1)
      break
    case 1:
      ;[w[at], w[at + 1]] = [w[at + 1], w[at]]
      break
    default:
      w[at] = w[at] === 'x' ? 'z' : 'x'
  }
  words[longest] = w.join('')
  return words.join(' ')
}

/** Whole first words, then the first half (at least 2 letters) of the next word. */
function prefix(text: string): string | null {
  const words = text.split(/\s+/).filter(Boolean)
  if (words.length === 0) return null
  const k = Math.min(words.length - 1, 1 + Math.floor(random() * 2))
  const next = [...words[k]]
  const cut = Math.max(2, Math.ceil(next.length / 2))
  if (k === 0 && cut >= next.length) return null
  return [...words.slice(0, k), next.slice(0, cut).join('')].join(' ')
}

async function main() {
  const dir = path.join(ROOT, '.cache', `sample-${TITLES >= 1_000_000 ? `${TITLES / 1_000_000}m` : TITLES}`)
  const dbPath = await ensureSampleDatabase({ titles: TITLES, dir, log: console.log })
  const conn = openDataset(dbPath)
  const db = conn.db
  const q = <T>(text: string, ...params: unknown[]) => conn.sqlite.prepare(text).all(...params) as T[]

  // The people and titles a search box is used for: the popular ones (votes, popularity).
  const titles = q<{ id: number; t: string; o: string | null; p: number }>(
    `SELECT id, primary_title AS t, original_title AS o, num_votes AS p FROM titles
     WHERE title_type <> 'tvEpisode' ORDER BY num_votes DESC LIMIT 3000`,
  )
  const names = q<{ id: number; t: string; p: number }>(
    'SELECT id, primary_name AS t, popularity AS p FROM names ORDER BY popularity DESC LIMIT 2000',
  )
  const pool = [
    ...titles.map((t) => ({ id: formatId('tt', t.id), text: t.t, p: t.p, words: tokenize(t.t) })),
    ...names.map((n) => ({ id: formatId('nm', n.id), text: n.t, p: n.p, words: tokenize(n.t) })),
  ].sort((a, b) => b.p - a.p)
  /**
   * Whether an ideal autocomplete could put `target` in its top 10 for `query`: it is among the 10
   * most popular items of the pool whose words the query's words prefix (or equal, when `exact`).
   * Sample titles repeat ("The Love" is many titles): such a query does not name one of them.
   */
  const answerable = (query: string, target: string, exact: boolean) => {
    const qw = tokenize(query)
    let rank = 0
    for (const item of pool) {
      const hit = exact
        ? item.words.join(' ') === qw.join(' ')
        : qw.every((w, i) =>
            i === qw.length - 1 ? item.words.some((x) => x.startsWith(w)) : item.words.includes(w),
          )
      if (!hit) continue
      if (item.id === target) return rank < 10
      rank++
    }
    return false
  }
  const cases: Case[] = []
  const add = (kind: Kind, query: string | null, target: string, check: string | null, exact: boolean) => {
    if (query === null || tokenize(query).length === 0) return
    if (cases.filter((c) => c.kind === kind).length >= TARGETS) return
    if (check !== null && !answerable(check, target, exact)) return
    cases.push({ kind, query, target })
  }
  const shuffled = sample(pool, pool.length)
  for (const x of shuffled) add('exact', x.text, x.id, x.text, true)
  for (const x of shuffled) add('prefix', prefix(x.text), x.id, prefix(x.text), false)
  for (const x of shuffled) add('typo', typo(x.text), x.id, x.text, true)
  for (const x of shuffled.filter((b) => fold(b.text) !== b.text.toLowerCase())) {
    add('accents', fold(x.text), x.id, x.text, true)
  }
  const akaRows = q<{ id: number; title: string }>(
    `SELECT a.title_id AS id, a.title FROM akas a
     WHERE a.title_id IN (SELECT id FROM titles WHERE title_type <> 'tvEpisode' ORDER BY num_votes DESC LIMIT 3000)`,
  )
  const byTitle = new Map(titles.map((t) => [t.id, t]))
  const akaCases = akaRows.filter((a) => {
    const t = byTitle.get(a.id)
    const own = [t?.t, t?.o].map((x) => (x ? tokenize(x).join(' ') : ''))
    return !own.includes(tokenize(a.title).join(' ')) && tokenize(a.title).length > 0
  })
  for (const a of sample(akaCases, akaCases.length)) add('aka', a.title, formatId('tt', a.id), null, true)

  /** The baseline: what FTS5 gives by itself (bm25 over prefix matches, titles then people). */
  const baseline = async (text: string): Promise<string[]> => {
    const match = ftsMatch(text)
    if (!match) return []
    const t = await sql<{
      id: number
      r: number
    }>`SELECT rowid AS id, rank AS r FROM titles_fts WHERE titles_fts MATCH ${match} ORDER BY rank LIMIT 10`.execute(
      db,
    )
    const n = await sql<{
      id: number
      r: number
    }>`SELECT rowid AS id, rank AS r FROM names_fts WHERE names_fts MATCH ${match} ORDER BY rank LIMIT 10`.execute(
      db,
    )
    return [
      ...t.rows.map((r) => ({ id: formatId('tt', r.id), r: r.r })),
      ...n.rows.map((r) => ({ id: formatId('nm', r.id), r: r.r })),
    ]
      .sort((a, b) => a.r - b.r)
      .slice(0, 10)
      .map((r) => r.id)
  }

  const kinds: Kind[] = ['exact', 'prefix', 'typo', 'accents', 'aka']
  const score = {
    ours: new Map<Kind, [number, number, number]>(),
    base: new Map<Kind, [number, number, number]>(),
  }
  const latencies: number[] = []
  const slowest: { ms: number; c: Case }[] = []
  const misses: string[] = []
  for (const c of cases) {
    const started = performance.now()
    const result = await search(db, c.query, { limit: 10 })
    const took = performance.now() - started
    latencies.push(took)
    slowest.push({ ms: took, c })
    const ours = result.results.map((r) => r.id)
    const base = await baseline(c.query)
    for (const [which, ids] of [
      ['ours', ours],
      ['base', base],
    ] as const) {
      const m = score[which]
      const [n, at1, at10] = m.get(c.kind) ?? [0, 0, 0]
      m.set(c.kind, [n + 1, at1 + (ids[0] === c.target ? 1 : 0), at10 + (ids.includes(c.target) ? 1 : 0)])
    }
    if (!ours.includes(c.target) && misses.length < 12) misses.push(`${c.kind}: "${c.query}" -> ${c.target}`)
  }

  const pct = (n: number, d: number) => (d === 0 ? '   -  ' : (n / d).toFixed(3).padStart(6))
  console.log(`\n${cases.length} queries over ${dbPath}\n`)
  console.log('kind      cases   recall@1  recall@10   baseline@1  baseline@10   @10 ratio')
  for (const k of kinds) {
    const [n, a1, a10] = score.ours.get(k) ?? [0, 0, 0]
    const [, b1, b10] = score.base.get(k) ?? [0, 0, 0]
    const ratio = b10 === 0 ? (a10 > 0 ? '  inf' : '    -') : (a10 / b10).toFixed(2).padStart(5)
    console.log(
      `${k.padEnd(9)} ${String(n).padStart(5)}   ${pct(a1, n)}    ${pct(a10, n)}      ${pct(b1, n)}      ${pct(b10, n)}      ${ratio}`,
    )
  }
  latencies.sort((a, b) => a - b)
  const at = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(1)
  console.log(
    `\nin-process latency: p50 ${at(0.5)} ms, p90 ${at(0.9)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms`,
  )
  console.log('targets: recall@10 >= 0.95 for exact and prefix, >= 0.85 with one typo')
  slowest.sort((a, b) => b.ms - a.ms)
  console.log(
    `slowest: ${slowest
      .slice(0, 8)
      .map((x) => `"${x.c.query}" (${x.c.kind}) ${x.ms.toFixed(0)} ms`)
      .join(', ')}`,
  )
  if (misses.length > 0) console.log(`\nsome misses:\n  ${misses.join('\n  ')}`)
  conn.close()
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
