import { createReadStream } from 'node:fs'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import { type DatasetName, type DatasetSpec, datasetSpec } from '../datasets/catalogue.js'
import { VerifyError } from './errors.js'

/** The header line IMDb ships first in a dataset file: its column names, tab-separated. */
export function expectedHeader(spec: DatasetSpec): string {
  return spec.columns.map((c) => c.name).join('\t')
}

/** A header longer than this without a newline is not an IMDb header. */
const MAX_HEADER_BYTES = 64 * 1024

const shorten = (s: string) => JSON.stringify(s.length > 200 ? `${s.slice(0, 200)}...` : s)

/**
 * Checks that `file` is a complete gzip stream (every member decompressed to its end, so a
 * truncated file fails) whose first line is exactly the catalogue header of `name`.
 * It streams: memory stays flat and zlib works off the main thread, so the event loop stays free.
 * Returns the decompressed size.
 */
export async function verifyDatasetFile(
  file: string,
  name: DatasetName,
  signal?: AbortSignal,
): Promise<{ uncompressedBytes: number }> {
  const header = expectedHeader(datasetSpec(name))
  let head: Buffer[] = []
  let headBytes = 0
  let headerChecked = false
  let uncompressedBytes = 0

  const checkHeader = (line: string) => {
    headerChecked = true
    if (line !== header) {
      throw new VerifyError(
        `the first line of ${name} is not the expected header: got ${shorten(line)}, expected ${shorten(header)}`,
      )
    }
  }

  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      uncompressedBytes += chunk.length
      if (!headerChecked) {
        const nl = chunk.indexOf(0x0a)
        const piece = nl === -1 ? chunk : chunk.subarray(0, nl)
        head.push(piece)
        headBytes += piece.length
        try {
          if (nl !== -1) checkHeader(Buffer.concat(head).toString('utf8'))
          else if (headBytes > MAX_HEADER_BYTES)
            throw new VerifyError(`the first line of ${name} is longer than ${MAX_HEADER_BYTES} bytes`)
        } catch (err) {
          callback(err as Error)
          return
        }
        if (headerChecked) head = []
      }
      callback()
    },
  })

  try {
    await pipeline(
      createReadStream(file, { highWaterMark: 1024 * 1024 }),
      createGunzip({ chunkSize: 128 * 1024 }),
      sink,
      { signal },
    )
  } catch (err) {
    if (err instanceof VerifyError || signal?.aborted) throw err
    const code = (err as NodeJS.ErrnoException).code
    if (typeof code === 'string' && code.startsWith('Z_')) {
      throw new VerifyError(`${name} is not a complete gzip file: ${(err as Error).message}`, { cause: err })
    }
    throw err
  }
  // A file without any newline: its whole content is the first line.
  if (!headerChecked) checkHeader(Buffer.concat(head).toString('utf8'))
  return { uncompressedBytes }
}
