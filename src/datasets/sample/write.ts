/**
 * Writes one dataset file of a sample: rendered chunks -> gzip -> a temporary file, renamed into
 * place only once complete, so a reader never sees a half-written file under the real name.
 */
import { createWriteStream } from 'node:fs'
import { rename, rm, stat } from 'node:fs/promises'
import path from 'node:path'
import type { TransformOptions } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { threadId } from 'node:worker_threads'
import { createGzip, type ZlibOptions } from 'node:zlib'
import { type DatasetName, datasetSpec } from '../catalogue.js'
import { RENDERERS } from './render.js'
import type { World } from './world.js'

/** gzip level of sample files. */
export const GZIP_LEVEL = Number(process.env.SAMPLE_GZIP_LEVEL ?? 6)
/**
 * Bytes gzip may hold before it pushes back: room for a few rendered chunks, so the next chunk is
 * rendered on this thread while zlib compresses the previous one on the libuv pool.
 */
const WRITE_AHEAD = 4 << 20
/** zlib passes stream options on to its Transform; @types/node only declares the zlib ones. */
const GZIP_OPTIONS: ZlibOptions & TransformOptions = {
  level: GZIP_LEVEL,
  chunkSize: 64 * 1024,
  writableHighWaterMark: WRITE_AHEAD,
}

export interface SampleFileSummary {
  readonly name: DatasetName
  /** The file name in the sample directory, e.g. `title.basics.tsv.gz`. */
  readonly file: string
  /** Data rows (the header line excluded; duplicate lines included). */
  readonly rows: number
  /** Size of the gzipped file. */
  readonly bytes: number
}

/** Renders dataset `name` of `world` into `dir`; `onChunk` hears the running row count. */
export async function writeDataset(
  world: World,
  name: DatasetName,
  dir: string,
  onChunk?: (rows: number) => void,
): Promise<SampleFileSummary> {
  const spec = datasetSpec(name)
  const target = path.join(dir, spec.file)
  const temp = `${target}.${process.pid}-${threadId}.tmp`
  const stats = { rows: 0 }
  const render = RENDERERS[name]
  async function* chunks(): AsyncGenerator<Buffer> {
    for (const chunk of render(world, stats)) {
      yield Buffer.from(chunk, 'utf8')
      onChunk?.(stats.rows)
    }
  }
  try {
    await pipeline(chunks, createGzip(GZIP_OPTIONS), createWriteStream(temp))
    await rename(temp, target)
  } catch (err) {
    await rm(temp, { force: true })
    throw err
  }
  const { size } = await stat(target)
  return { name, file: spec.file, rows: stats.rows, bytes: size }
}
