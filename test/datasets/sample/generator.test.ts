import assert from 'node:assert/strict'
import { mkdtemp, readdir, readFile, rm, stat, unlink } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { gunzipSync } from 'node:zlib'
import { DATASET_NAMES, type DatasetName, datasetSpec } from '../../../src/datasets/catalogue.js'
import {
  ensureSample,
  generateSample,
  type SampleSummary,
  WELL_KNOWN,
  WELL_KNOWN_TITLES,
} from '../../../src/datasets/sample/generator.js'

const TITLES = 3000

const TITLE_TYPES = [
  'short',
  'movie',
  'tvSeries',
  'tvEpisode',
  'tvMovie',
  'tvMiniSeries',
  'tvSpecial',
  'video',
  'videoGame',
  'tvShort',
  'tvPilot',
]
const GENRES = new Set(
  'Action Adult Adventure Animation Biography Comedy Crime Documentary Drama Family Fantasy Film-Noir Game-Show History Horror Music Musical Mystery News Reality-TV Romance Sci-Fi Short Sport Talk-Show Thriller War Western'.split(
    ' ',
  ),
)
const CATEGORIES = new Set([
  'actor',
  'actress',
  'self',
  'director',
  'writer',
  'producer',
  'composer',
  'cinematographer',
  'editor',
  'production_designer',
  'casting_director',
  'archive_footage',
  'archive_sound',
])
const ACTING = new Set(['actor', 'actress', 'self', 'archive_footage'])
const TCONST = /^tt\d{7,8}$/
const NCONST = /^nm\d{7,8}$/

const tmpDirs: string[] = []
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'marquee-sample-'))
  tmpDirs.push(dir)
  return dir
}
after(async () => {
  await Promise.all(tmpDirs.map((d) => rm(d, { recursive: true, force: true })))
})

/** A file's lines (header first), split on tabs; the file must end with a newline. */
async function readLines(dir: string, name: DatasetName): Promise<string[][]> {
  const text = gunzipSync(await readFile(path.join(dir, datasetSpec(name).file))).toString('utf8')
  assert.ok(text.endsWith('\n'), `${name} ends with a newline`)
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => line.split('\t'))
}

/** The key order IMDb ships: the id as a string, then `ordering` as a number. */
function compareKeys(a: string[], b: string[], keyWidth: number): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1
  return keyWidth === 2 ? Number(a[1]) - Number(b[1]) : 0
}

describe('generateSample', () => {
  let dir: string
  let summary: SampleSummary
  const progress = new Map<string, number>()
  const files = new Map<DatasetName, string[][]>()
  const rows = (name: DatasetName): string[][] => files.get(name)!.slice(1)

  before(async () => {
    dir = path.join(await tempDir(), 'nested', 'out')
    summary = await generateSample({
      titles: TITLES,
      out: dir,
      seed: 7,
      onProgress: (p) => progress.set(p.file, p.rows),
    })
    for (const name of DATASET_NAMES) files.set(name, await readLines(dir, name))
  })

  it('writes the seven files, and nothing else, with counts and sizes in the summary', async () => {
    const expected = DATASET_NAMES.map((n) => datasetSpec(n).file).sort()
    assert.deepEqual((await readdir(dir)).sort(), expected)
    assert.deepEqual(
      summary.files.map((f) => f.name),
      [...DATASET_NAMES],
    )
    for (const f of summary.files) {
      assert.equal(f.rows, files.get(f.name)!.length - 1, `${f.name} rows`)
      assert.equal(f.bytes, (await stat(path.join(dir, f.file))).size, `${f.name} bytes`)
      assert.equal(progress.get(f.file), f.rows, `${f.name} last progress report`)
    }
    assert.equal(
      summary.rows,
      summary.files.reduce((s, f) => s + f.rows, 0),
    )
    assert.equal(summary.titles, TITLES)
    assert.equal(summary.seed, 7)
  })

  it('writes exactly the catalogue header lines', () => {
    for (const name of DATASET_NAMES) {
      assert.deepEqual(
        files.get(name)![0],
        datasetSpec(name).columns.map((c) => c.name),
        name,
      )
    }
  })

  it('gives every line the catalogue field count, and well-formed ids', () => {
    for (const name of DATASET_NAMES) {
      const spec = datasetSpec(name)
      for (const row of rows(name)) {
        assert.equal(row.length, spec.columns.length, `${name}: ${row.join('|')}`)
        spec.columns.forEach((c, k) => {
          if (c.type === 'tconst') assert.match(row[k], TCONST, `${name}.${c.name}`)
          if (c.type === 'nconst') assert.match(row[k], NCONST, `${name}.${c.name}`)
          if (c.type === 'idList' && row[k] !== '\\N') {
            for (const id of row[k].split(',')) assert.match(id, /^(tt|nm)\d{7,8}$/, `${name}.${c.name}`)
          }
          if ((c.type === 'int' || c.type === 'bool') && row[k] !== '\\N') assert.match(row[k], /^\d+$/)
        })
      }
    }
  })

  it('sorts every file by its key as IMDb ships them (ids as strings, then ordering)', () => {
    for (const name of DATASET_NAMES) {
      const keyWidth = datasetSpec(name).key.length
      const r = rows(name)
      for (let k = 1; k < r.length; k++) {
        const cmp = compareKeys(r[k - 1], r[k], keyWidth)
        // name.basics repeats a few lines verbatim; every other key is unique
        if (name === 'name.basics') assert.ok(cmp <= 0, `${name} line ${k}`)
        else assert.ok(cmp < 0, `${name} line ${k}: ${r[k - 1][0]} ${r[k][0]}`)
      }
    }
    // and orderings count 1, 2, 3... within a title
    for (const name of ['title.akas', 'title.principals'] as const) {
      let last = ''
      let expected = 1
      for (const row of rows(name)) {
        if (row[0] !== last) expected = 1
        assert.equal(Number(row[1]), expected++, `${name} ${row[0]}`)
        last = row[0]
      }
    }
  })

  it('uses sparse ids with seven and some eight digits', () => {
    const ids = rows('title.basics').map((r) => Number(r[0].slice(2)))
    assert.ok(
      ids.some((id) => id >= 10_000_000),
      'some 8-digit ids',
    )
    assert.ok(ids.filter((id) => id < 10_000_000).length > ids.length * 0.7, 'mostly 7-digit ids')
    const sorted = [...ids].sort((a, b) => a - b)
    const gaps = sorted.slice(1).filter((id, k) => id - sorted[k] > 1).length
    assert.ok(gaps > ids.length / 2, 'gaps between consecutive ids')
    const names = rows('name.basics').map((r) => r[0])
    assert.ok(names.some((id) => id.length === 10) && names.some((id) => id.length === 9))
  })

  it('has the shape of the real dumps', () => {
    const basics = rows('title.basics')
    assert.equal(basics.length, TITLES)
    const types = new Map<string, number>()
    for (const r of basics) types.set(r[1], (types.get(r[1]) ?? 0) + 1)
    for (const t of types.keys()) assert.ok(TITLE_TYPES.includes(t), t)
    // tvPilot (0.02%) is too rare to be sure of in a small sample
    for (const t of TITLE_TYPES.filter((t) => t !== 'tvPilot')) assert.ok(types.has(t), t)
    const biggest = [...types].sort((a, b) => b[1] - a[1])[0][0]
    assert.equal(biggest, 'tvEpisode')
    const within = (actual: number, expected: number, name: string): void =>
      assert.ok(
        Math.abs(actual - expected) <= expected * 0.15,
        `${name}: ${actual}, expected about ${expected}`,
      )
    within(rows('name.basics').length, TITLES * 1.25, 'names')
    within(rows('title.akas').length, TITLES * 3.8, 'akas')
    within(rows('title.principals').length, TITLES * 8.9, 'principals')
    within(rows('title.ratings').length, TITLES * 0.25, 'ratings')
    assert.equal(rows('title.crew').length, TITLES)
    assert.equal(rows('title.episode').length, types.get('tvEpisode'))

    let adult = 0
    for (const r of basics) {
      if (r[4] === '1') adult++
      else assert.equal(r[4], '0')
      if (r[8] !== '\\N') {
        const genres = r[8].split(',')
        assert.ok(genres.length <= 3, r[8])
        for (const g of genres) assert.ok(GENRES.has(g), g)
        assert.deepEqual(genres, [...genres].sort(), 'genres in alphabetical order')
      }
      if (r[5] !== '\\N') assert.ok(Number(r[5]) >= 1894 && Number(r[5]) <= 2030)
      if (r[6] !== '\\N') {
        assert.ok(r[1] === 'tvSeries' || r[1] === 'tvMiniSeries', 'only series end')
        assert.ok(Number(r[6]) >= Number(r[5]))
      }
    }
    assert.ok(adult > 0 && adult < TITLES * 0.05, `adult titles: ${adult}`)
    assert.ok(basics.some((r) => r[7] === '\\N') && basics.some((r) => r[5] === '\\N'))

    for (const r of rows('title.ratings')) {
      assert.match(r[1], /^\d{1,2}\.\d$/)
      assert.ok(Number(r[1]) >= 1 && Number(r[1]) <= 10)
    }
    const votes = rows('title.ratings')
      .map((r) => Number(r[2]))
      .sort((a, b) => a - b)
    assert.ok(votes.at(-1)! > 100 * votes[votes.length >> 1], 'numVotes are heavy-tailed')
  })

  it('links files the way the real dumps do, dangling references included', () => {
    const titleType = new Map(rows('title.basics').map((r) => [r[0], r[1]]))
    const names = new Set(rows('name.basics').map((r) => r[0]))

    const episodes = rows('title.episode')
    const missingParents = episodes.filter((r) => !titleType.has(r[1]))
    assert.ok(missingParents.length > 0 && missingParents.length < episodes.length * 0.01, 'a few dangle')
    for (const r of episodes) {
      assert.equal(titleType.get(r[0]), 'tvEpisode')
      const parent = titleType.get(r[1])
      if (parent) assert.ok(parent === 'tvSeries' || parent === 'tvMiniSeries', `${r[1]} is ${parent}`)
      assert.equal(r[2] === '\\N', r[3] === '\\N', 'season and episode are null together')
    }
    assert.ok(
      episodes.some((r) => r[2] === '\\N'),
      'some episodes are unnumbered',
    )

    const principals = rows('title.principals')
    const dangling = principals.filter((r) => !names.has(r[2])).length
    assert.ok(dangling > 0, 'some principals name people missing from name.basics')
    assert.ok(dangling < principals.length * 0.02, `few dangle: ${dangling}`)
    for (const r of principals) {
      assert.ok(titleType.has(r[0]))
      assert.ok(CATEGORIES.has(r[3]), r[3])
      if (ACTING.has(r[3])) {
        if (r[5] !== '\\N') {
          const chars: unknown = JSON.parse(r[5])
          assert.ok(
            Array.isArray(chars) && chars.length > 0 && chars.every((c) => typeof c === 'string'),
            r[5],
          )
        }
      } else assert.equal(r[5], '\\N', `no characters for ${r[3]}`)
    }
    assert.ok(principals.filter((r) => r[4] === '\\N').length > principals.length * 0.7, 'job is mostly \\N')

    for (const r of rows('title.crew')) {
      for (const list of [r[1], r[2]])
        if (list !== '\\N') for (const id of list.split(',')) assert.match(id, NCONST)
    }
    for (const r of rows('name.basics')) {
      if (r[5] !== '\\N') {
        const known = r[5].split(',')
        assert.ok(known.length <= 4)
        for (const t of known) assert.ok(titleType.has(t), `${r[0]} known for ${t}`)
      }
      if (r[4] !== '') assert.ok(r[4].split(',').length <= 3, r[4])
      if (r[3] !== '\\N') assert.ok(Number(r[3]) >= Number(r[2]), `${r[0]} dies after birth`)
    }
  })

  it('makes popularity heavy-tailed: a few people credited very often, most once or twice', () => {
    const credits = new Map<string, number>()
    for (const r of rows('title.principals')) credits.set(r[2], (credits.get(r[2]) ?? 0) + 1)
    const counts = [...credits.values()].sort((a, b) => a - b)
    const fewCredits = counts.filter((c) => c <= 2).length
    assert.ok(fewCredits > counts.length * 0.35, `people with 1-2 credits: ${fewCredits} of ${counts.length}`)
    assert.ok(counts.at(-1)! > 50 * counts[counts.length >> 1], `top ${counts.at(-1)}`)
  })

  it('has the quirks of the real dumps', () => {
    const basics = rows('title.basics')
    const akas = rows('title.akas')
    const principals = rows('title.principals')
    const names = files.get('name.basics')!
    assert.ok(
      basics.some((r) => r[2].includes('"')),
      'a literal double quote in a title',
    )
    assert.ok(
      names.some((r) => r[1].includes('"')),
      'a literal double quote in a name',
    )
    assert.ok(
      principals.some((r) => r[5].includes('\\"')),
      'an escaped quote inside characters JSON',
    )
    assert.ok(
      basics.some((r) => r[2].includes('\\')),
      'a backslash in a title',
    )
    assert.ok(
      akas.some((r) => r[5].includes('\x02')),
      'types separated by \\x02',
    )
    assert.ok(
      akas.some((r) => r[6].includes('\x02')),
      'attributes separated by \\x02',
    )
    assert.ok(akas.some((r) => r[7] === '\\N') && akas.some((r) => r[7] === '1'))
    for (const [script, re] of [
      ['Japanese', /[\u3040-\u30ff\u4e00-\u9fff]/],
      ['Cyrillic', /[\u0400-\u04ff]/],
      ['Greek', /[\u0370-\u03ff]/],
      ['Korean', /[\uac00-\ud7af]/],
      ['Arabic', /[\u0600-\u06ff]/],
      ['Devanagari', /[\u0900-\u097f]/],
      ['accented Latin', /[éèüöñçãë]/],
    ] as const) {
      assert.ok(
        akas.some((r) => re.test(r[2])),
        `${script} text in title.akas`,
      )
    }
    assert.ok(
      basics.some((r) => /[^\x00-\x7f]/.test(r[3])),
      'non-ASCII original titles',
    )
    const lines = names.map((r) => r.join('\t'))
    assert.ok(
      lines.some((l, k) => k > 0 && l === lines[k - 1]),
      'an exact duplicate line in name.basics',
    )
    assert.ok(
      names.some((r) => r[4] === ''),
      'an empty primaryProfession',
    )
  })

  it('contains the well-known titles and people at their fixed ids', () => {
    const basics = new Map(rows('title.basics').map((r) => [r[0], r]))
    assert.deepEqual(basics.get(WELL_KNOWN.titles.godfather), [
      'tt0068646',
      'movie',
      'The Godfather',
      'The Godfather',
      '0',
      '1972',
      '\\N',
      '175',
      'Crime,Drama',
    ])
    for (const t of WELL_KNOWN_TITLES) {
      const row = basics.get((WELL_KNOWN.titles as Record<string, string>)[t.key])
      assert.ok(row, t.key)
      assert.equal(row[2], t.primaryTitle)
      assert.equal(row[3], t.originalTitle)
    }
    assert.equal(basics.get(WELL_KNOWN.titles.spiritedAway)![3], '千と千尋の神隠し')
    assert.equal(basics.get(WELL_KNOWN.titles.leon)![2], 'Léon: The Professional')
    assert.equal(basics.get(WELL_KNOWN.titles.bestShow)![2], 'The "Best" Show')

    const simpsons = rows('title.episode').filter((r) => r[1] === WELL_KNOWN.titles.simpsons)
    const seasons = new Set(simpsons.map((r) => Number(r[2])))
    assert.equal(seasons.size, WELL_KNOWN.simpsonsSeasons)
    assert.equal(Math.max(...seasons), WELL_KNOWN.simpsonsSeasons)
    const homer = rows('title.principals').filter((r) => r[2] === WELL_KNOWN.names.danCastellaneta)
    assert.equal(homer.length, simpsons.length + 1, 'in the series and every episode')
    assert.equal(homer[0][5], '["Homer Simpson","Grampa","Krusty the Clown"]')

    const godfatherCast = rows('title.principals').filter((r) => r[0] === WELL_KNOWN.titles.godfather)
    assert.deepEqual(godfatherCast[0], [
      'tt0068646',
      '1',
      'nm0000008',
      'actor',
      '\\N',
      '["Don Vito Corleone"]',
    ])
    const bestShow = rows('title.principals').find((r) => r[0] === WELL_KNOWN.titles.bestShow)!
    assert.deepEqual(JSON.parse(bestShow[5]), ['Jack "Dusty" O\'Brien', 'Self', 'DJ \\m/'])

    const names = new Map(rows('name.basics').map((r) => [r[0], r]))
    assert.deepEqual(names.get(WELL_KNOWN.names.marlonBrando), [
      'nm0000008',
      'Marlon Brando',
      '1924',
      '2004',
      'actor,director,writer',
      'tt0068646',
    ])
    for (const id of Object.values(WELL_KNOWN.names)) assert.ok(names.has(id), id)
    assert.equal(names.get(WELL_KNOWN.names.weirdAl)![1], '"Weird Al" Yankovic')

    const spirited = rows('title.akas').filter((r) => r[0] === WELL_KNOWN.titles.spiritedAway)
    assert.ok(spirited.some((r) => r[2] === '千と千尋の神隠し' && r[7] === '1'))
    assert.deepEqual(
      rows('title.ratings').find((r) => r[0] === WELL_KNOWN.titles.godfather),
      ['tt0068646', '9.2', '2100000'],
    )
  })
})

describe('generateSample determinism', () => {
  async function generate(seed: number, workers = 0): Promise<Map<string, Buffer>> {
    const dir = await tempDir()
    await generateSample({ titles: 1500, out: dir, seed, workers })
    const out = new Map<string, Buffer>()
    for (const name of DATASET_NAMES) {
      const file = datasetSpec(name).file
      out.set(file, await readFile(path.join(dir, file)))
    }
    return out
  }

  it('writes the same bytes for the same seed, on any number of worker threads', async () => {
    const [a, b, c] = await Promise.all([generate(42), generate(42), generate(42, 2)])
    for (const [file, bytes] of a) {
      assert.ok(bytes.equals(b.get(file)!), `${file} differs between runs`)
      assert.ok(bytes.equals(c.get(file)!), `${file} differs on worker threads`)
    }
  })

  it('writes different data for another seed', async () => {
    const [a, b] = await Promise.all([generate(1), generate(2)])
    for (const [file, bytes] of a) assert.ok(!bytes.equals(b.get(file)!), `${file} is the same`)
  })

  it('rejects sizes and seeds it cannot honour', async () => {
    const out = await tempDir()
    await assert.rejects(generateSample({ titles: 10, out }), RangeError)
    await assert.rejects(generateSample({ titles: 1000.5, out }), RangeError)
    await assert.rejects(generateSample({ titles: 1000, out, seed: -1 }), RangeError)
    assert.deepEqual(await readdir(out), [])
  })
})

describe('ensureSample', () => {
  it('generates only when one of the seven files is missing', async () => {
    const dir = path.join(await tempDir(), 'data')
    assert.equal(await ensureSample(dir, 1000), true)
    const files = DATASET_NAMES.map((n) => path.join(dir, datasetSpec(n).file))
    const before = await Promise.all(files.map((f) => stat(f)))
    assert.equal(await ensureSample(dir, 1000), false)
    const again = await Promise.all(files.map((f) => stat(f)))
    for (const [k, s] of again.entries()) assert.equal(s.mtimeMs, before[k].mtimeMs, 'left alone')

    await unlink(files[3])
    assert.equal(await ensureSample(dir, 1000), true)
    assert.deepEqual((await readdir(dir)).sort(), DATASET_NAMES.map((n) => datasetSpec(n).file).sort())
  })
})
