/**
 * Makes "tomorrow's" dataset out of today's, deterministically: a copy of the seven `.tsv.gz` files
 * with about `rate` of the rows edited, deleted or inserted (new ids and orderings that keep IMDb's
 * text order), in every file. Edits touch what the ingest derives things from (titles and names
 * for FTS, genres, professions, known-for titles and votes for popularity, crew lists, akas), and a
 * few make a line the ingest skips. Used by the update tests and `npm run bench:update`.
 */

import { once } from 'node:events'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { createGunzip, createGzip } from 'node:zlib'
import { DATASET_NAMES, type DatasetName, datasetSpec, formatId } from '../../src/datasets/catalogue.js'
import { Rng } from '../../src/datasets/sample/random.js'

export interface MutateOptions {
  /** Fraction of lines changed in each file (edits, deletes and inserts, about 2:1:1). */
  rate: number
  seed?: number
  /** Files to mutate; the others are copied as they are. */
  only?: readonly DatasetName[]
  /** gzip level of the files written (default 6, as gzip's). */
  level?: number
}

export interface MutateSummary {
  /** Per file: lines edited, deleted, inserted. */
  files: Record<string, { edited: number; deleted: number; inserted: number; lines: number }>
}

const GENRES = ['Drama', 'Comedy', 'Sci-Fi', 'Western', 'Documentary', 'Horror']
const PROFESSIONS = ['actor', 'writer', 'producer', 'composer', 'editor']

/** Splits a stream of decompressed chunks into lines (without their `\n`). */
async function* linesOf(file: string): AsyncGenerator<string> {
  const gunzip = createReadStream(file).pipe(createGunzip())
  let rest = ''
  for await (const chunk of gunzip) {
    const text = rest + (chunk as Buffer).toString('utf8')
    const parts = text.split('\n')
    rest = parts.pop()!
    yield* parts
  }
  if (rest) yield rest
}

/** Groups of lines with the same first field (a title's akas or principals; one line elsewhere). */
async function* groupsOf(file: string): AsyncGenerator<string[]> {
  let group: string[] = []
  let key = ''
  let header = true
  for await (const line of linesOf(file)) {
    if (header) {
      header = false
      yield [line]
      continue
    }
    const k = line.slice(0, line.indexOf('\t'))
    if (group.length > 0 && k !== key) {
      yield group
      group = []
    }
    key = k
    group.push(line)
  }
  if (group.length > 0) yield group
}

/** A fresh id between `id` and `next` in text order, or null. */
function idBetween(id: string, next: string | null): string | null {
  const prefix = id.slice(0, 2) as 'tt' | 'nm'
  const n = Number(id.slice(2))
  for (let k = 1; k <= 3; k++) {
    const cand = formatId(prefix, n + k)
    if (cand > id && (next === null || cand < next)) return cand
  }
  return null
}

function edit(dataset: DatasetName, f: string[], r: () => number, bad: boolean): void {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]
  const choice = r()
  switch (dataset) {
    case 'title.basics':
      if (bad)
        f[2] = '\\N' // no primary title: the ingest skips the row
      else if (choice < 0.4) f[2] = `${f[2]} Redux`
      else if (choice < 0.7) f[8] = r() < 0.2 ? '\\N' : [pick(GENRES), pick(GENRES)].sort().join(',')
      else if (choice < 0.85) f[5] = f[5] === '\\N' ? '1999' : String(Number(f[5]) + 1)
      else f[3] = `${f[3]} (restored)`
      break
    case 'title.akas':
      if (bad) f[2] = '\\N'
      else if (choice < 0.6) f[2] = `${f[2]} Zwei`
      else f[3] = f[3] === '\\N' ? 'DE' : '\\N'
      break
    case 'title.crew':
      if (choice < 0.5) f[1] = f[1] === '\\N' ? 'nm0000001' : `${f[1]},nm0000002`
      else f[2] = f[2] === '\\N' ? 'nm0000003' : '\\N'
      break
    case 'title.episode':
      if (bad) f[1] = '\\N'
      else f[3] = f[3] === '\\N' ? '1' : String(Number(f[3]) + 1)
      break
    case 'title.principals':
      if (bad) f[3] = '\\N'
      else if (choice < 0.4) f[5] = '["Somebody Else"]'
      else if (choice < 0.7) f[2] = formatId('nm', 1 + Math.floor(r() * 5000))
      else f[4] = f[4] === '\\N' ? 'uncredited' : '\\N'
      break
    case 'title.ratings':
      if (choice < 0.7) f[2] = String(Number(f[2]) + 1 + Math.floor(r() * 100))
      else f[1] = (Math.round(r() * 90) / 10 + 1).toFixed(1)
      break
    case 'name.basics':
      if (bad) f[1] = '\\N'
      else if (choice < 0.35) f[1] = `${f[1]} Jr.`
      else if (choice < 0.6) f[4] = r() < 0.2 ? '\\N' : `${pick(PROFESSIONS)},${pick(PROFESSIONS)}`
      else if (choice < 0.85) f[5] = f[5] === '\\N' ? 'tt0000001' : `${f[5].split(',')[0]}`
      else f[2] = f[2] === '\\N' ? '1950' : '\\N'
      break
  }
}

async function mutateFile(
  dataset: DatasetName,
  src: string,
  dest: string,
  opts: MutateOptions,
  seed: number,
): Promise<{ edited: number; deleted: number; inserted: number; lines: number }> {
  const gen = new Rng(seed)
  const r = () => gen.float()
  const gzip = createGzip({ level: opts.level ?? 6 })
  const out = createWriteStream(dest)
  gzip.pipe(out)
  const stats = { edited: 0, deleted: 0, inserted: 0, lines: 0 }
  const composite = datasetSpec(dataset).key.length > 1
  let buf = ''
  const write = async (line: string) => {
    buf += `${line}\n`
    if (buf.length > 1 << 16) {
      if (!gzip.write(buf)) await once(gzip, 'drain')
      buf = ''
    }
  }
  const mutate = !opts.only || opts.only.includes(dataset)
  let pending: string[] | null = null
  let header = true
  const flush = async (group: string[], next: string | null) => {
    if (header) {
      header = false
      for (const l of group) await write(l)
      return
    }
    const id = group[0].slice(0, group[0].indexOf('\t'))
    const kept: string[] = []
    const extra: string[] = []
    for (const line of group) {
      stats.lines++
      if (!mutate || r() >= opts.rate) {
        kept.push(line)
        continue
      }
      const op = r()
      if (op < 0.25) {
        stats.deleted++
        continue
      }
      const f = line.split('\t')
      if (op < 0.75) {
        edit(dataset, f, r, r() < 0.02)
        stats.edited++
        kept.push(f.join('\t'))
        continue
      }
      kept.push(line)
      if (composite) {
        // A new ordering after this title's rows.
        const max = Math.max(...group.map((l) => Number(l.split('\t')[1])))
        f[1] = String(max + 1 + extra.length)
      } else {
        // A new id between this one and the next: one per group.
        const fresh = extra.length === 0 ? idBetween(id, next) : null
        if (fresh === null) continue
        f[0] = fresh
      }
      edit(dataset, f, r, false)
      extra.push(f.join('\t'))
      stats.inserted++
    }
    kept.push(...extra)
    for (const l of kept) await write(l)
  }
  for await (const group of groupsOf(src)) {
    if (pending) await flush(pending, header ? null : group[0].slice(0, group[0].indexOf('\t')))
    pending = group
  }
  if (pending) await flush(pending, null)
  gzip.write(buf)
  gzip.end()
  await once(out, 'finish')
  return stats
}

/** Writes the mutated copy of `srcDir`'s seven files into `outDir`. */
export async function mutateDataset(
  srcDir: string,
  outDir: string,
  opts: MutateOptions,
): Promise<MutateSummary> {
  await mkdir(outDir, { recursive: true })
  const files: MutateSummary['files'] = {}
  await Promise.all(
    DATASET_NAMES.map(async (name, i) => {
      const file = datasetSpec(name).file
      files[name] = await mutateFile(
        name,
        join(srcDir, file),
        join(outDir, file),
        opts,
        (opts.seed ?? 1) * 7919 + i,
      )
    }),
  )
  return { files }
}
