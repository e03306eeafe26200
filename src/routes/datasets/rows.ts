import { EventEmitter } from 'node:events'
import { basename } from 'node:path'
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { Piscina } from 'piscina'
import type { DatasetName } from '../../datasets/catalogue.js'
import { DatasetError } from '../../datasets/reader.js'
import type { RowsControl, RowsJob, RowsMessage, RowsRead } from '../../datasets/rows.worker.js'
import { Problem, serviceUnavailable } from '../../errors.js'
import { workerUrl } from '../../lib/worker-url.js'

/**
 * Reads of the raw `.tsv.gz` files for GET /datasets/{name}/rows, on worker threads: gunzip,
 * parsing, skipping to the offset and JSON encoding never run on the event loop, whatever offset or
 * limit a client asks for. At most `threads` reads run at once and `queue` wait; past that a read is
 * refused with 503 (the caller's Retry-After), so a crowd of clients cannot queue work without bound.
 */

export interface RowReadEvent {
  dataset: DatasetName
  /** Rows taken from the file (skipped ones included). */
  rows: number
  /** Compressed bytes read from the file. */
  bytesRead: number
  /** The worker thread that parsed. */
  threadId: number
}

/**
 * 'open' (the dataset name) and 'close' (a RowReadEvent) for every read of a file: observability for
 * tests and logs. 'close' comes after the worker destroyed the file's streams.
 */
export const rowReads = new EventEmitter()

export interface RowReadersOptions {
  /** Reads running at once (worker threads). */
  threads: number
  /** Reads waiting for a thread beyond which new ones get 503. */
  queue: number
}

export const readersBusy = () =>
  serviceUnavailable(
    'DATASET_READERS_BUSY',
    'Every dataset file reader is busy and the queue is full; retry shortly.',
    1,
  )

/** One read: its text arrives chunk by chunk; `cancel()` stops the worker at its next row. */
export interface RowRead {
  /** The next chunk of text, or null at the end. Rejects with a problem on a file error. */
  next(): Promise<string | null>
  /** Stops the read (the client went away); idempotent, and harmless after the end. */
  cancel(): void
}

export class RowReaders {
  readonly #piscina: Piscina<RowsJob, void>
  readonly #capacity: number
  #inFlight = 0

  constructor(opts: RowReadersOptions) {
    this.#capacity = opts.threads + opts.queue
    this.#piscina = new Piscina({
      filename: workerUrl('../../datasets/rows.worker.js', import.meta.url).href,
      minThreads: 0,
      maxThreads: opts.threads,
      // Threads go when reads stop coming: a server that never serves raw rows keeps none.
      idleTimeout: 30_000,
      // An idle worker keeps running its event loop (piscina's default blocks it in Atomics.wait),
      // so the file a finished read destroyed is closed now, not when the next read arrives.
      atomics: 'disabled',
    })
  }

  /** Starts a read, or throws 503 DATASET_READERS_BUSY when every reader and queue slot is taken. */
  open(job: Omit<RowsJob, 'port' | 'window'>): RowRead {
    if (this.#inFlight >= this.#capacity) throw readersBusy()
    this.#inFlight++
    const { port1, port2 } = new MessageChannel()
    const chunks: string[] = []
    let ended = false
    let failure: unknown = null
    let waiter: (() => void) | null = null
    const wake = () => {
      const w = waiter
      waiter = null
      w?.()
    }
    // The read's place is free as soon as the worker has said it is done (before its task settles
    // in piscina), so a client that waits for 'close' finds it free.
    const finish = (read: RowsRead) => {
      if (ended) return
      ended = true
      this.#inFlight--
      port1.close()
      rowReads.emit('close', { dataset: job.dataset, ...read } satisfies RowReadEvent)
      wake()
    }
    port1.on('message', (m: RowsMessage) => {
      if (m.type === 'chunk') {
        chunks.push(m.text)
        wake()
      } else if (m.type === 'end') finish(m)
      else {
        failure = fileProblem(
          m.error.name === 'DatasetError'
            ? DatasetError.fromJSON(m.error as never)
            : new Error(m.error.message),
          job.dataset,
        )
        finish(m)
      }
    })
    rowReads.emit('open', job.dataset)
    const control = (m: RowsControl) => {
      if (!ended) port1.postMessage(m)
    }
    this.#piscina
      .run({ ...job, port: port2, window: 4 } satisfies RowsJob, { transferList: [port2 as MessagePort] })
      // The worker always ends a read with 'end' or 'error' (which may arrive after this task
      // settles: they come over another channel); a rejection means the worker itself died.
      .catch((err: unknown) => {
        if (!ended) {
          failure = err
          finish({ rows: 0, bytesRead: 0, threadId: -1 })
        }
      })

    return {
      next: async () => {
        for (;;) {
          if (failure) throw failure
          const chunk = chunks.shift()
          if (chunk !== undefined) {
            control({ type: 'ack' })
            return chunk
          }
          if (ended) return null
          await new Promise<void>((resolve) => (waiter = resolve))
        }
      },
      cancel: () => control({ type: 'cancel' }),
    }
  }

  async close(): Promise<void> {
    await this.#piscina.destroy()
  }
}

/** A reader error as problem+json: the file name only (not the server's path). */
export function fileProblem(err: unknown, dataset: DatasetName): unknown {
  if (!(err instanceof DatasetError)) return err
  const file = basename(err.file)
  if (err.code === 'DATASET_MISSING') {
    return new Problem('DATASET_FILE_MISSING', {
      detail: `${file} is not in the data directory; run \`marquee download\` to fetch ${dataset}.`,
    })
  }
  return new Problem('DATASET_FILE_INVALID', {
    detail: err.message.replaceAll(err.file, file),
    extensions: { reason: err.code },
  })
}
