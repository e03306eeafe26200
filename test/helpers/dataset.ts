import { createHash } from 'node:crypto'
import { copyFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { DATASET_NAMES, type DatasetName, datasetSpec, formatId } from '../../src/datasets/catalogue.js'
import { SCHEMA_VERSION } from '../../src/db/sqlite/schema.js'
import { ingest } from '../../src/ingest/index.js'
import { ROOT } from './cli.js'

/**
 * A small real dataset for the API tests: hand-written rows with known facts (well-known titles,
 * people, a series with episodes, alternate titles with accents, an adult title, an unrated one)
 * plus generated filler titles so pagination, totals and facets have something to walk. Written as
 * the IMDb `.tsv.gz` files and loaded by the real ingest, so the tests query exactly what
 * production serves.
 */

const N = '\\N'

/** The ids and facts the tests assert on. */
export const FIXTURE = {
  godfather: 'tt0068646',
  godfather2: 'tt0071562',
  amelie: 'tt0211915',
  starWars: 'tt0076759',
  breakingBad: 'tt0903747',
  pilot: 'tt0959621',
  catsInTheBag: 'tt1054724',
  seasonTwoOpener: 'tt1232244',
  unknownSeasonEpisode: 'tt1232299',
  carmencita: 'tt0000001',
  adult: 'tt9999991',
  unrated: 'tt9999992',
  unknownTitle: 'tt9999999',
  coppola: 'nm0000338',
  puzo: 'nm0701374',
  brando: 'nm0000008',
  pacino: 'nm0000199',
  lucas: 'nm0000184',
  tautou: 'nm0851582',
  cranston: 'nm0186505',
  unknownName: 'nm9999999',
  /** Filler titles: tt8000001 .. */
  fillerCount: 300,
} as const

type Row = (string | number | null)[]

const basics: Row[] = [
  ['tt0000001', 'short', 'Carmencita', 'Carmencita', 0, 1894, null, 1, 'Documentary,Short'],
  ['tt0068646', 'movie', 'The Godfather', 'The Godfather', 0, 1972, null, 175, 'Crime,Drama'],
  ['tt0071562', 'movie', 'The Godfather Part II', 'The Godfather Part II', 0, 1974, null, 202, 'Crime,Drama'],
  ['tt0076759', 'movie', 'Star Wars', 'Star Wars', 0, 1977, null, 121, 'Action,Adventure,Fantasy'],
  [
    'tt0211915',
    'movie',
    'Amélie',
    "Le fabuleux destin d'Amélie Poulain",
    0,
    2001,
    null,
    122,
    'Comedy,Romance',
  ],
  ['tt0903747', 'tvSeries', 'Breaking Bad', 'Breaking Bad', 0, 2008, 2013, 49, 'Crime,Drama,Thriller'],
  ['tt0959621', 'tvEpisode', 'Pilot', 'Pilot', 0, 2008, null, 58, 'Crime,Drama,Thriller'],
  [
    'tt1054724',
    'tvEpisode',
    "Cat's in the Bag...",
    "Cat's in the Bag...",
    0,
    2008,
    null,
    48,
    'Crime,Drama,Thriller',
  ],
  [
    'tt1232244',
    'tvEpisode',
    'Seven Thirty-Seven',
    'Seven Thirty-Seven',
    0,
    2009,
    null,
    47,
    'Crime,Drama,Thriller',
  ],
  ['tt1232299', 'tvEpisode', 'Minisode', 'Minisode', 0, 2009, null, 5, 'Crime'],
  ['tt9999991', 'movie', 'Adult Feature', 'Adult Feature', 1, 1999, null, 90, 'Adult'],
  ['tt9999992', 'movie', 'Unrated Mystery', 'Unrated Mystery', 0, null, null, null, null],
]

const ratings: Row[] = [
  ['tt0000001', 5.7, 2100],
  ['tt0068646', 9.2, 2000000],
  ['tt0071562', 9.0, 1300000],
  ['tt0076759', 8.6, 1400000],
  ['tt0211915', 8.3, 780000],
  ['tt0903747', 9.5, 2100000],
  ['tt0959621', 9.0, 35000],
  ['tt1054724', 8.6, 26000],
  ['tt1232244', 8.7, 23000],
  ['tt9999991', 6.1, 1500],
]

const akas: Row[] = [
  ['tt0068646', 1, 'The Godfather', 'US', null, 'imdbDisplay', null, 0],
  ['tt0068646', 2, 'Der Pate', 'DE', 'de', 'imdbDisplay', null, 0],
  ['tt0068646', 3, 'Il padrino', 'IT', 'it', 'imdbDisplay', null, 0],
  ['tt0211915', 1, "Le fabuleux destin d'Amélie Poulain", null, null, 'original', null, 1],
  ['tt0211915', 2, 'Amélie', 'US', 'en', 'imdbDisplay\x02festival', 'literal title', 0],
  ['tt0211915', 3, 'Die fabelhafte Welt der Amélie', 'DE', 'de', 'imdbDisplay', null, 0],
  ['tt0076759', 1, 'Star Wars: Episode IV - A New Hope', 'US', 'en', null, 'complete title\x02new title', 0],
  ['tt0076759', 2, 'La guerra de las galaxias', 'ES', 'es', 'imdbDisplay', null, 0],
]

const crew: Row[] = [
  ['tt0068646', 'nm0000338', 'nm0701374,nm0000338'],
  ['tt0071562', 'nm0000338', 'nm0000338,nm0701374'],
  ['tt0076759', 'nm0000184', 'nm0000184'],
  ['tt0211915', null, null],
  ['tt0959621', null, null],
]

const episodes: Row[] = [
  ['tt0959621', 'tt0903747', 1, 1],
  ['tt1054724', 'tt0903747', 1, 2],
  ['tt1232244', 'tt0903747', 2, 1],
  ['tt1232299', 'tt0903747', null, null],
]

const principals: Row[] = [
  ['tt0068646', 1, 'nm0000008', 'actor', null, '["Don Vito Corleone"]'],
  ['tt0068646', 2, 'nm0000199', 'actor', null, '["Michael Corleone"]'],
  ['tt0068646', 3, 'nm0000338', 'director', null, null],
  ['tt0068646', 4, 'nm0701374', 'writer', 'novel', null],
  ['tt0071562', 1, 'nm0000199', 'actor', null, '["Michael"]'],
  ['tt0071562', 2, 'nm0000338', 'director', null, null],
  ['tt0076759', 1, 'nm0000184', 'director', null, null],
  ['tt0211915', 1, 'nm0851582', 'actress', null, '["Amélie Poulain"]'],
  ['tt0903747', 1, 'nm0186505', 'actor', null, '["Walter White","Heisenberg"]'],
  ['tt0959621', 1, 'nm0186505', 'actor', null, '["Walter White"]'],
]

const names: Row[] = [
  ['nm0000008', 'Marlon Brando', 1924, 2004, 'actor,director', 'tt0068646'],
  ['nm0000184', 'George Lucas', 1944, null, 'producer,writer,director', 'tt0076759'],
  ['nm0000199', 'Al Pacino', 1940, null, 'actor,producer', 'tt0071562,tt0068646'],
  ['nm0000338', 'Francis Ford Coppola', 1939, null, 'producer,director,writer', 'tt0068646,tt0071562'],
  ['nm0186505', 'Bryan Cranston', 1956, null, 'actor,producer', 'tt0903747'],
  ['nm0701374', 'Mario Puzo', 1920, 1999, 'writer', 'tt0068646'],
  ['nm0851582', 'Audrey Tautou', 1976, null, 'actress', 'tt0211915'],
]

/** Filler titles tt8000001..: varied types, genres, years, runtimes and votes, deterministic. */
function filler(): { basics: Row[]; ratings: Row[] } {
  const types = ['movie', 'short', 'tvMovie', 'video']
  const genres = ['Drama', 'Comedy', 'Horror', 'Documentary', 'Romance']
  const words = ['Silent', 'River', 'Night', 'Garden', 'Empire', 'Shadow', 'Harbor', 'Winter']
  const b: Row[] = []
  const r: Row[] = []
  for (let i = 1; i <= FIXTURE.fillerCount; i++) {
    const id = formatId('tt', 8_000_000 + i)
    const g = [genres[i % 5], genres[(i * 3 + 1) % 5]].filter((x, k, a) => a.indexOf(x) === k).sort()
    const title = `${words[i % 8]} ${words[(i * 5 + 3) % 8]} ${i}`
    b.push([id, types[i % 4], title, title, 0, 1950 + (i % 70), null, 60 + (i % 90), g.join(',')])
    if (i % 10 !== 0) r.push([id, (10 + (i % 90)) / 10, (i * 7919) % 50_000])
  }
  return { basics: b, ratings: r }
}

function tsv(dataset: DatasetName, rows: Row[]): Buffer {
  const spec = datasetSpec(dataset)
  const lines = [spec.columns.map((c) => c.name).join('\t')]
  for (const row of rows) lines.push(row.map((v) => (v === null ? N : String(v))).join('\t'))
  return gzipSync(`${lines.join('\n')}\n`)
}

export interface TestDataset {
  dbPath: string
  dataDir: string
}

/** What the built database depends on: the fixture files and the code that loads them. */
async function cacheKey(files: Map<string, Buffer>, only: readonly string[] | undefined): Promise<string> {
  const h = createHash('sha256')
  for (const [name, bytes] of [...files].sort(([a], [b]) => a.localeCompare(b))) h.update(name).update(bytes)
  h.update(JSON.stringify(only ?? null))
  const sources = [path.join(ROOT, 'src/db/sqlite/schema.ts')]
  for (const dir of ['src/ingest', 'src/datasets']) {
    for (const f of (await readdir(path.join(ROOT, dir))).sort()) {
      if (f.endsWith('.ts')) sources.push(path.join(ROOT, dir, f))
    }
  }
  for (const f of sources) h.update(await readFile(f))
  return h.digest('hex').slice(0, 24)
}

/**
 * Writes the fixture's IMDb files under `dir/imdb` and ingests them into `dir/<name>.db`.
 * `only` loads a subset, as `marquee ingest --only` does. The ingested file is cached in the
 * system temp directory, keyed by the fixture and the ingest's source, so test files share one
 * ingest run per machine and still each get their own copy.
 */
export async function buildTestDataset(
  dir: string,
  opts: { only?: DatasetName[]; name?: string } = {},
): Promise<TestDataset> {
  const dataDir = path.join(dir, 'imdb')
  await mkdir(dataDir, { recursive: true })
  const fill = filler()
  const byDataset: Record<DatasetName, Row[]> = {
    'title.basics': [...basics, ...fill.basics].sort(byKey),
    'title.akas': akas,
    'title.crew': crew,
    'title.episode': episodes,
    'title.principals': principals,
    'title.ratings': [...ratings, ...fill.ratings].sort(byKey),
    'name.basics': names,
  }
  const files = new Map(DATASET_NAMES.map((d) => [datasetSpec(d).file, tsv(d, byDataset[d])]))
  await Promise.all([...files].map(([file, bytes]) => writeFile(path.join(dataDir, file), bytes)))
  const dbPath = path.join(dir, `${opts.name ?? 'dataset'}.db`)

  const cacheDir = path.join(tmpdir(), 'marquee-test-datasets')
  const cached = path.join(cacheDir, `${await cacheKey(files, opts.only)}.db`)
  try {
    await copyFile(cached, dbPath)
    return { dbPath, dataDir }
  } catch {
    // Not built yet on this machine.
  }
  await mkdir(cacheDir, { recursive: true })
  const building = `${cached}.${process.pid}.tmp`
  await ingest({ dataDir, dbPath: building, only: opts.only })
  await rename(building, cached)
  await rm(`${building}-wal`, { force: true })
  await copyFile(cached, dbPath)
  return { dbPath, dataDir }
}

const byKey = (a: Row, b: Row) => String(a[0]).localeCompare(String(b[0]))

/**
 * The benchmark database: a generated sample of `titles` titles (seed 1), ingested once and kept
 * under `dir` (`.cache/sample-<n>/marquee.db`) with a marker saying what it holds.
 */
export async function ensureSampleDatabase(opts: {
  titles: number
  dir: string
  log?: (line: string) => void
}): Promise<string> {
  const log = opts.log ?? (() => {})
  const dbPath = path.join(opts.dir, 'marquee.db')
  const marker = path.join(opts.dir, 'built.json')
  const want = JSON.stringify({ titles: opts.titles, seed: 1, schema: SCHEMA_VERSION })
  try {
    if ((await readFile(marker, 'utf8')) === want) return dbPath
  } catch {
    // Not built yet.
  }
  const dataDir = path.join(opts.dir, 'imdb')
  const { generateSample } = await import('../../src/datasets/sample/generator.js')
  let started = performance.now()
  log(`generating a ${opts.titles.toLocaleString('en-US')}-title sample in ${dataDir} ...`)
  await generateSample({ titles: opts.titles, out: dataDir, seed: 1 })
  log(`  done in ${((performance.now() - started) / 1000).toFixed(0)} s; ingesting into ${dbPath} ...`)
  started = performance.now()
  await ingest({ dataDir, dbPath })
  log(`  done in ${((performance.now() - started) / 1000).toFixed(0)} s`)
  await writeFile(marker, want)
  return dbPath
}

/**
 * Swaps a served SQLite database the way a refresh does: a copy of it, changed by `change`, renamed
 * over it; then waits for `app` to load it. Returns the new generation's id.
 */
export async function swapDatabase(
  app: { dataset: { reload(reason: string): Promise<{ generation: string | null }> } },
  dbPath: string,
  generation: string,
  change: (db: import('../../src/db/sqlite/driver.js').default) => void = () => {},
): Promise<string> {
  const { default: Database } = await import('../../src/db/sqlite/driver.js')
  const next = `${dbPath}.next-${process.pid}`
  await copyFile(dbPath, next)
  const db = new Database(next)
  db.prepare(`UPDATE meta SET value = ? WHERE key = 'generation'`).run(generation)
  change(db)
  db.close()
  await rename(next, dbPath)
  const loaded = await app.dataset.reload('test swap')
  if (loaded.generation !== generation) throw new Error(`the swap to ${generation} was not loaded`)
  return generation
}
