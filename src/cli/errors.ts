import { DatasetError } from '../datasets/parse.js'
import { isDiskFull } from '../errors.js'
import { IngestError } from '../ingest/index.js'
import { EXIT } from './exit-codes.js'

/** The DatasetError behind an error, if any (an ingest wraps the reader's errors). */
function datasetErrorOf(err: unknown): DatasetError | undefined {
  for (let e = err; e instanceof Error; e = e.cause) if (e instanceof DatasetError) return e
  return undefined
}

/**
 * Prints a failed command's error for a person (file, line and what to do come from the error's
 * own message) and returns the exit code that says what kind of failure it was.
 */
export function reportFailure(command: string, err: unknown): number {
  const data = datasetErrorOf(err)
  if (data) {
    process.stderr.write(`marquee ${command}: ${data.message}\n`)
    return EXIT.DATA
  }
  if (err instanceof IngestError && err.code === 'INGEST_ABORTED') {
    process.stderr.write(`marquee ${command}: interrupted; nothing was replaced\n`)
    return EXIT.INTERRUPTED
  }
  if (err instanceof IngestError && err.code === 'INGEST_BAD_OPTIONS') {
    process.stderr.write(`marquee ${command}: ${err.message}\n`)
    return EXIT.USAGE
  }
  if (isDiskFull(err)) {
    process.stderr.write(
      `marquee ${command}: the disk is full: ${(err as Error).message}; free some space, or pass --db a ` +
        'path on a larger disk. The served database is unchanged\n',
    )
    return EXIT.FAILURE
  }
  process.stderr.write(`marquee ${command}: ${(err as Error)?.message ?? String(err)}\n`)
  return EXIT.FAILURE
}
