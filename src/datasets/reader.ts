/**
 * Streaming reader of the IMDb `.tsv.gz` files: gunzip and parse as the bytes arrive, never the
 * whole file in memory or on disk. `readDataset` yields typed row objects for general use;
 * `readBatches` yields the parser's columnar batches (what the ingest moves between threads).
 */

import { createReadStream, type ReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { createGunzip, type Gunzip } from 'node:zlib'
import { type DatasetName, datasetSpec, formatId } from './catalogue.js'
import {
  type BadLine,
  type ColumnarBatch,
  DatasetError,
  type Layout,
  layoutOf,
  type ParseStats,
  TsvParser,
} from './parse.js'

export {
  type BadLine,
  type ColumnarBatch,
  DatasetError,
  type DatasetErrorCode,
  type ParseStats,
} from './parse.js'

/** Typed rows of each dataset: camelCase columns as in the catalogue, `\N` as null. */
export interface DatasetRows {
  'title.basics': {
    tconst: string
    titleType: string | null
    primaryTitle: string | null
    originalTitle: string | null
    isAdult: boolean | null
    startYear: number | null
    endYear: number | null
    runtimeMinutes: number | null
    genres: string[] | null
  }
  'title.akas': {
    titleId: string
    ordering: number
    title: string | null
    region: string | null
    language: string | null
    types: string[] | null
    attributes: string[] | null
    isOriginalTitle: boolean | null
  }
  'title.crew': { tconst: string; directors: string[] | null; writers: string[] | null }
  'title.episode': {
    tconst: string
    parentTconst: string | null
    seasonNumber: number | null
    episodeNumber: number | null
  }
  'title.principals': {
    tconst: string
    ordering: number
    nconst: string | null
    category: string | null
    job: string | null
    characters: string[] | null
  }
  'title.ratings': { tconst: string; averageRating: number | null; numVotes: number | null }
  'name.basics': {
    nconst: string
    primaryName: string | null
    birthYear: number | null
    deathYear: number | null
    primaryProfession: string[] | null
    knownForTitles: string[] | null
  }
}

export type DatasetRow<N extends DatasetName = DatasetName> = DatasetRows[N]

export interface ReadOptions {
  /** A bad line (wrong field count, unparsable field) throws DATASET_BAD_LINE instead of being skipped. */
  strict?: boolean
  /** Called for each skipped line. */
  onBadLine?: (bad: BadLine & { file: string }) => void
  /** Rows per batch (readBatches). */
  batchRows?: number
  /** Drop rows whose key equals the previous row's. */
  dedupe?: boolean
  /** Called with the compressed bytes read so far. */
  onBytes?: (bytesRead: number) => void
}

/** Where a dataset's file lives in a data directory. */
export function datasetPath(dataDir: string, name: DatasetName): string {
  return join(dataDir, datasetSpec(name).file)
}

/**
 * Checks that the file exists and is a regular file; returns its size and mtime.
 * @throws DatasetError DATASET_MISSING
 */
export async function statDataset(
  file: string,
  name: DatasetName,
): Promise<{ size: number; mtimeMs: number }> {
  try {
    const s = await stat(file)
    if (!s.isFile()) throw new Error('not a regular file')
    return { size: s.size, mtimeMs: s.mtimeMs }
  } catch (cause) {
    throw missing(file, name, cause)
  }
}

function missing(file: string, name: DatasetName, cause: unknown): DatasetError {
  return new DatasetError(
    'DATASET_MISSING',
    file,
    `${file}: ${name} not found; download it (marquee download) or leave it out with --only`,
    { cause },
  )
}

/** Turns a stream error into a DatasetError that names the file. */
export function streamError(file: string, name: DatasetName, err: unknown): DatasetError {
  if (err instanceof DatasetError) return err
  const e = err as NodeJS.ErrnoException
  if (e?.code === 'ENOENT' || e?.code === 'EISDIR') return missing(file, name, err)
  if (
    typeof e?.code === 'string' &&
    (e.code.startsWith('Z_') || e.code === 'ERR_ZLIB_INITIALIZATION_FAILED')
  ) {
    return new DatasetError(
      'DATASET_CORRUPT',
      file,
      `${file}: not a valid gzip file or truncated (${e.message}); download ${datasetSpec(name).file} again`,
      { cause: err },
    )
  }
  return new DatasetError('DATASET_READ_FAILED', file, `${file}: read failed: ${e?.message ?? String(err)}`, {
    cause: err,
  })
}

/** The file stream and the gunzip stream of a dataset file; destroy both to stop reading. */
export function openGzip(file: string): { input: ReadStream; gunzip: Gunzip } {
  const input = createReadStream(file, { highWaterMark: 1 << 20 })
  const gunzip = createGunzip({ chunkSize: 1 << 18 })
  input.on('error', (err) => gunzip.destroy(err))
  input.pipe(gunzip)
  return { input, gunzip }
}

/**
 * Columnar batches of a dataset file, parsed on this thread. Stopping the iteration early destroys
 * the streams. Errors are DatasetErrors naming the file.
 */
export async function* readBatches(
  file: string,
  name: DatasetName,
  opts: ReadOptions = {},
): AsyncGenerator<ColumnarBatch, ParseStats, undefined> {
  await statDataset(file, name)
  const queue: ColumnarBatch[] = []
  const parser = new TsvParser(file, name, {
    batchRows: opts.batchRows,
    strict: opts.strict,
    dedupe: opts.dedupe,
    onBatch: (b) => queue.push(b),
    onBadLine: opts.onBadLine && ((bad) => opts.onBadLine!({ ...bad, file })),
  })
  const { input, gunzip } = openGzip(file)
  try {
    try {
      for await (const chunk of gunzip) {
        parser.push(chunk as Buffer)
        opts.onBytes?.(input.bytesRead)
        while (queue.length > 0) yield queue.shift()!
      }
      parser.end()
    } catch (err) {
      throw streamError(file, name, err)
    }
    while (queue.length > 0) yield queue.shift()!
    return parser.stats
  } finally {
    input.destroy()
    gunzip.destroy()
  }
}

/**
 * Typed rows of a dataset file: an AsyncIterable that reads as it goes and stops reading (destroys
 * its streams) when the loop breaks. Lists are arrays, `characters` is parsed, `\N` is null.
 */
export async function* readDataset<N extends DatasetName>(
  file: string,
  name: N,
  opts: ReadOptions = {},
): AsyncGenerator<DatasetRow<N>, ParseStats, undefined> {
  const layout = layoutOf(name)
  const toRow = rowMaker(layout)
  const batches = readBatches(file, name, { batchRows: 256, ...opts })
  let stats: ParseStats | undefined
  try {
    for (;;) {
      const next = await batches.next()
      if (next.done) {
        stats = next.value
        break
      }
      const b = next.value
      for (let r = 0; r < b.rows; r++) {
        let row: DatasetRow<N>
        try {
          row = toRow(b, r) as DatasetRow<N>
        } catch (err) {
          const bad = { line: b.lines[r], reason: (err as Error).message }
          if (opts.strict) {
            throw new DatasetError(
              'DATASET_BAD_LINE',
              file,
              `${file}:${bad.line}: ${bad.reason}; fix or remove the line, or read without strict to skip it`,
              { line: bad.line },
            )
          }
          opts.onBadLine?.({ ...bad, file })
          continue
        }
        yield row
      }
    }
  } finally {
    await batches.return(undefined as never)
  }
  return stats
}

/** Builds row r of a batch as an object. Throws on a `characters` field that is not a JSON string array. */
function rowMaker(layout: Layout): (b: ColumnarBatch, r: number) => Record<string, unknown> {
  const slots = layout.slots
  return (b, r) => {
    const row: Record<string, unknown> = {}
    for (const slot of slots) {
      const name = slot.column.name
      if (slot.num >= 0) {
        const v = b.nums[r * layout.numCols + slot.num]
        if (Number.isNaN(v)) row[name] = null
        else if (slot.kind === 'tconst') row[name] = formatId('tt', v)
        else if (slot.kind === 'nconst') row[name] = formatId('nm', v)
        else if (slot.kind === 'bool') row[name] = v === 1
        else row[name] = v
        continue
      }
      const p = 2 * (r * layout.textCols + slot.text)
      const s = b.textPos[p]
      if (s < 0) {
        row[name] = null
        continue
      }
      const text = b.text.slice(s, b.textPos[p + 1])
      switch (slot.column.type) {
        case 'list':
        case 'idList':
          row[name] = text.split(',')
          break
        case 'list02':
          row[name] = text.split('\x02')
          break
        case 'json':
          row[name] = parseCharacters(text, name)
          break
        default:
          row[name] = text
      }
    }
    return row
  }
}

function parseCharacters(text: string, column: string): string[] {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    throw new Error(`${column}: not valid JSON`)
  }
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    throw new Error(`${column}: not a JSON array of strings`)
  }
  return v as string[]
}
