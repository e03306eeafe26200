/**
 * Worker entry: the only thread that touches the database being built. It reads each dataset's
 * batches from that dataset's port, in load order, acknowledging each batch so that its parser
 * may send another, then builds FTS, indexes and statistics and closes the file.
 */

import { type MessagePort, parentPort, workerData } from 'node:worker_threads'
import type { DatasetName } from '../datasets/catalogue.js'
import { type ColumnarBatch, DatasetError, type ParseStats } from '../datasets/parse.js'
import type { ParseMessage } from '../datasets/parse.worker.js'
import { SCHEMA_VERSION } from '../db/sqlite/schema.js'
import { buildManifest, type IngestSummary, type SourceFile } from './manifest.js'
import { type FileCounts, SqliteDatasetWriter } from './sqlite-writer.js'

export interface WriterData {
  path: string
  strict: boolean
  generation: string
  startedAt: string
  /** Datasets to load, in load order, each with the port its batches arrive on. */
  order: DatasetName[]
  ports: Record<string, MessagePort>
  notLoaded: DatasetName[]
  sources: SourceFile[]
}

export type WriterReport =
  | { type: 'rows'; dataset: DatasetName; rows: number }
  | { type: 'file-done'; dataset: DatasetName; counts: FileCounts }
  | { type: 'bad-line'; dataset: DatasetName; line: number; reason: string }
  | { type: 'phase'; phase: string }
  | { type: 'done'; summary: IngestSummary }
  | { type: 'error'; error: { name: string; message: string; code?: string; file?: string; line?: number } }

const parent = parentPort!
const data = workerData as WriterData

function consume(
  port: MessagePort,
  dataset: DatasetName,
  onBatch: (b: ColumnarBatch) => void,
): Promise<ParseStats> {
  return new Promise((resolve, reject) => {
    let rows = 0
    let last = 0
    port.on('message', (m: ParseMessage) => {
      try {
        if (m.type === 'batch') {
          onBatch(m.batch)
          port.postMessage({ type: 'ack' })
          rows += m.batch.rows
          const now = performance.now()
          if (now - last > 100) {
            last = now
            parent.postMessage({ type: 'rows', dataset, rows } satisfies WriterReport)
          }
        } else if (m.type === 'end') {
          parent.postMessage({ type: 'rows', dataset, rows } satisfies WriterReport)
          port.close()
          resolve(m.stats)
        } else if (m.type === 'error') {
          port.close()
          reject(DatasetError.fromJSON(m.error))
        }
      } catch (err) {
        port.close()
        reject(err)
      }
    })
  })
}

async function main(): Promise<void> {
  const writer = new SqliteDatasetWriter(data.path, {
    strict: data.strict,
    loaded: data.order,
    onBadRow: (dataset, line, reason) =>
      parent.postMessage({ type: 'bad-line', dataset, line, reason } satisfies WriterReport),
  })
  try {
    for (const dataset of data.order) {
      writer.begin(dataset)
      const stats = await consume(data.ports[dataset], dataset, (b) => writer.write(b))
      const counts = writer.end(stats)
      parent.postMessage({ type: 'file-done', dataset, counts } satisfies WriterReport)
    }
    let summary: IngestSummary | undefined
    writer.finish(
      data.generation,
      (phase) => parent.postMessage({ type: 'phase', phase } satisfies WriterReport),
      ({ tables, timings }) => {
        summary = buildManifest({
          schemaVersion: SCHEMA_VERSION,
          generation: data.generation,
          loaded: data.order,
          notLoaded: data.notLoaded,
          sources: data.sources,
          counts: writer.fileCounts,
          tables,
          timings: {
            ...Object.fromEntries([...writer.fileCounts].map(([d, c]) => [d, c.ms])),
            ...timings,
          },
          startedAt: new Date(data.startedAt),
        })
        return summary
      },
    )
    writer.close()
    parent.postMessage({ type: 'done', summary: summary! } satisfies WriterReport)
  } catch (err) {
    try {
      writer.db.close()
    } catch {}
    throw err
  }
}

main().catch((err: unknown) => {
  const e = err as Error & { code?: string; file?: string; line?: number }
  const error =
    err instanceof DatasetError
      ? err.toJSON()
      : { name: e?.name ?? 'Error', message: e?.stack ?? String(err), code: e?.code }
  parent.postMessage({ type: 'error', error } satisfies WriterReport)
})
