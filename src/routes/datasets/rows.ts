import { EventEmitter } from 'node:events'
import { basename } from 'node:path'
import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import type { DatasetName } from '../../datasets/catalogue.js'
import { DatasetError, type DatasetRow, readDataset } from '../../datasets/reader.js'
import { Problem } from '../../errors.js'

/**
 * Rows of one dataset file, parsed as they are read: a thin cursor over `readDataset` that counts
 * what it read and always closes the file (the reader's `return()` destroys its streams).
 */

export interface RowReadEvent {
  dataset: DatasetName
  /** Rows taken from the reader (skipped ones included). */
  rows: number
  /** Compressed bytes read from the file. */
  bytesRead: number
}

/**
 * 'open' and 'close' (a RowReadEvent) for every read of a file: observability for tests and logs.
 * 'close' is emitted after the reader's streams were destroyed.
 */
export const rowReads = new EventEmitter()

/** Rows between two turns of the event loop while skipping to an offset. */
const YIELD_EVERY = 2000

export class RowCursor {
  readonly #reader: AsyncGenerator<DatasetRow>
  #rows = 0
  #bytesRead = 0
  #closed = false

  constructor(
    readonly file: string,
    readonly dataset: DatasetName,
  ) {
    this.#reader = readDataset(file, dataset, { onBytes: (n) => (this.#bytesRead = n) })
    rowReads.emit('open', this.#event())
  }

  /** The next row, or null at the end of the file. DatasetErrors become problems. */
  async next(): Promise<DatasetRow | null> {
    let step: IteratorResult<DatasetRow>
    try {
      step = await this.#reader.next()
    } catch (err) {
      throw fileProblem(err, this.dataset)
    }
    if (step.done) return null
    this.#rows++
    return step.value
  }

  /** Skips up to `n` rows (fewer at the end of the file), letting the event loop run in between. */
  async skip(n: number, signal: AbortSignal): Promise<void> {
    for (let i = 0; i < n; i++) {
      if (i % YIELD_EVERY === YIELD_EVERY - 1) {
        await yieldToEventLoop()
        signal.throwIfAborted()
      }
      if ((await this.next()) === null) return
    }
  }

  /** Stops reading: the reader's streams are destroyed. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    try {
      await this.#reader.return(undefined)
    } finally {
      rowReads.emit('close', this.#event())
    }
  }

  #event(): RowReadEvent {
    return { dataset: this.dataset, rows: this.#rows, bytesRead: this.#bytesRead }
  }
}

/** A reader error as problem+json: the file name only (not the server's path). */
export function fileProblem(err: unknown, dataset: DatasetName): unknown {
  if (!(err instanceof DatasetError)) return err
  const file = basename(err.file)
  if (err.code === 'DATASET_MISSING') {
    return new Problem(404, 'DATASET_FILE_MISSING', 'Not Found', {
      detail: `${file} is not in the data directory; run \`marquee download\` to fetch ${dataset}.`,
    })
  }
  return new Problem(500, err.code, 'Internal Server Error', {
    detail: err.message.replaceAll(err.file, file),
  })
}
