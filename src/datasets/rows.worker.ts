/**
 * Worker entry (piscina): reads rows of one dataset file for GET /datasets/{name}/rows. Gunzip,
 * parsing, skipping to the offset and JSON encoding all happen here; the main thread receives text
 * ready to send. Text goes out on the job's port in chunks, at most `window` unacknowledged; a
 * `cancel` on the port (the client went away) stops the read at the next row.
 */

import type { MessagePort } from 'node:worker_threads'
import { threadId } from 'node:worker_threads'
import { AckWindow } from './ack-window.js'
import type { DatasetName } from './catalogue.js'
import type { SerializedDatasetError } from './parse.js'
import { DatasetError, readDataset, streamError } from './reader.js'

export interface RowsJob {
  file: string
  dataset: DatasetName
  offset: number
  /** Rows after the offset (Infinity: to the end). */
  limit: number
  /** `page`: one JSON page (items, limit, offset, next); `ndjson`: one row per line. */
  format: 'page' | 'ndjson'
  port: MessagePort
  /** Chunks sent ahead of the receiver's acknowledgements. */
  window: number
}

/** What the worker did, in the `end` message: rows taken from the file, compressed bytes read. */
export interface RowsRead {
  rows: number
  bytesRead: number
  /** The thread that parsed (tests check it is not the main thread). */
  threadId: number
}

/** Worker to main thread. */
export type RowsMessage =
  | { type: 'chunk'; text: string }
  | ({ type: 'end' } & RowsRead)
  | ({ type: 'error'; error: SerializedDatasetError | { name: string; message: string } } & RowsRead)

/** Main thread to worker. */
export type RowsControl = { type: 'ack' } | { type: 'cancel' }

/** Bytes of NDJSON gathered before they go to the main thread. */
const CHUNK_CHARS = 64 * 1024

export default async function readRows(job: RowsJob): Promise<void> {
  const { port } = job
  let cancelled = false
  const acks = new AckWindow(job.window)
  port.on('message', (m: RowsControl) => {
    if (m.type === 'ack') return acks.acked()
    cancelled = true
    acks.release()
  })
  const send = async (text: string) => {
    acks.sent()
    port.postMessage({ type: 'chunk', text } satisfies RowsMessage)
    await acks.room()
  }

  let bytesRead = 0
  let rows = 0
  const reader = readDataset(job.file, job.dataset, { onBytes: (n) => (bytesRead = n) })
  const next = async () => {
    const step = await reader.next()
    if (step.done) return null
    rows++
    return step.value
  }
  try {
    for (let i = 0; i < job.offset && !cancelled; i++) if ((await next()) === null) break
    if (job.format === 'page') {
      const items: string[] = []
      let more = false
      while (!cancelled) {
        const row = await next()
        if (row === null) break
        if (items.length === job.limit) {
          more = true
          break
        }
        items.push(JSON.stringify(row))
      }
      const nextLink = more
        ? JSON.stringify(`/datasets/${job.dataset}/rows?limit=${job.limit}&offset=${job.offset + job.limit}`)
        : 'null'
      if (!cancelled) {
        await send(
          `{"dataset":${JSON.stringify(job.dataset)},"items":[${items.join(',')}],` +
            `"limit":${job.limit},"offset":${job.offset},"next":${nextLink}}`,
        )
      }
    } else {
      let buf = ''
      for (let n = 0; n < job.limit && !cancelled; n++) {
        const row = await next()
        if (row === null) break
        buf += `${JSON.stringify(row)}\n`
        // The first row alone: the response's headers can go as soon as the file proved readable.
        if (n === 0 || buf.length >= CHUNK_CHARS) {
          await send(buf)
          buf = ''
        }
      }
      if (buf && !cancelled) await send(buf)
    }
  } catch (err) {
    const e = err instanceof DatasetError ? err : streamError(job.file, job.dataset, err)
    await reader.return(undefined as never).catch(() => {})
    port.postMessage({ type: 'error', error: e.toJSON(), rows, bytesRead, threadId } satisfies RowsMessage)
    port.close()
    return
  }
  // Destroys the file and gunzip streams before the main thread hears the read is over.
  await reader.return(undefined as never)
  port.postMessage({ type: 'end', rows, bytesRead, threadId } satisfies RowsMessage)
  port.close()
}
