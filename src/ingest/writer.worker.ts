/**
 * Worker entry: a thread that owns one database file being built. The main writer loads titles,
 * names, akas (and ratings into memory), builds FTS and its indexes, then copies in what the side
 * writer built in parallel in its own file (episodes, crew, principals with their indexes), and
 * writes statistics and the meta rows. Each reads a dataset's batches from that dataset's port,
 * in load order, acknowledging each batch so that its parser may send another.
 */

import { type MessagePort, parentPort, workerData } from 'node:worker_threads'
import type { DatasetName } from '../datasets/catalogue.js'
import { type ColumnarBatch, DatasetError, type ParseStats } from '../datasets/parse.js'
import type { ParseMessage } from '../datasets/parse.worker.js'
import { SCHEMA_VERSION } from '../db/sqlite/schema.js'
import { buildManifest, type IngestSummary, type SourceFile } from './manifest.js'
import { IdSet } from './refs.js'
import { type FileCounts, SqliteDatasetWriter } from './sqlite-writer.js'

export interface WriterData {
  lane: 'main' | 'side'
  path: string
  strict: boolean
  /** Every dataset of this ingest, in load order (both lanes). */
  loaded: DatasetName[]
  /** This writer's datasets, in load order, each with the port its batches arrive on. */
  order: DatasetName[]
  ports: Record<string, MessagePort>
  generation: string
  startedAt: string
  notLoaded: DatasetName[]
  sources: SourceFile[]
  /** Main lane: the side writer's file and tables, or null without a side writer. */
  side: { path: string; tables: string[] } | null
  /** Tables whose secondary indexes this writer builds. */
  tables: string[]
}

/** Messages from a writer to the ingest thread. */
export type WriterReport =
  | { type: 'rows'; dataset: DatasetName; rows: number }
  | { type: 'file-done'; dataset: DatasetName }
  | { type: 'bad-line'; dataset: DatasetName; line: number; reason: string }
  | { type: 'phase'; phase: string }
  | { type: 'ids'; title: Uint8Array | null; name: Uint8Array | null }
  | { type: 'side-done'; counts: [DatasetName, FileCounts][]; rows: Record<string, number> }
  | { type: 'done'; summary: IngestSummary }
  | { type: 'error'; error: { name: string; message: string; code?: string; file?: string; line?: number } }

/** Messages from the ingest thread to a writer. */
export type WriterCommand =
  | { type: 'ids'; title: Uint8Array | null; name: Uint8Array | null }
  | { type: 'side-done'; counts: [DatasetName, FileCounts][]; rows: Record<string, number> }

/**
 * Ids the side writer may hold (12 bytes each) for checking before the id sets arrive; then it waits
 * for them. The main writer sends them after title.basics and name.basics, a few seconds in.
 */
const PENDING_CAP = 8_000_000

const parent = parentPort!
const data = workerData as WriterData
const post = (m: WriterReport, transfer?: ArrayBuffer[]) => parent.postMessage(m, transfer)

/** The next message of a type from the ingest thread. */
const commands = new Map<string, WriterCommand>()
const waiting = new Map<string, (c: WriterCommand) => void>()
parent.on('message', (c: WriterCommand) => {
  const w = waiting.get(c.type)
  if (w) {
    waiting.delete(c.type)
    w(c)
  } else commands.set(c.type, c)
})
function command<T extends WriterCommand['type']>(type: T): Promise<Extract<WriterCommand, { type: T }>> {
  const c = commands.get(type)
  if (c) return Promise.resolve(c as Extract<WriterCommand, { type: T }>)
  return new Promise((resolve) => waiting.set(type, resolve as (c: WriterCommand) => void))
}

/** Reads one dataset's messages from its port: batches to `onBatch`, then the parser's statistics. */
async function consume(
  port: MessagePort,
  dataset: DatasetName,
  onBatch: (b: ColumnarBatch) => void | Promise<void>,
): Promise<ParseStats> {
  const queue: ParseMessage[] = []
  let wake: (() => void) | null = null
  port.on('message', (m: ParseMessage) => {
    queue.push(m)
    if (wake) {
      const w = wake
      wake = null
      w()
    }
  })
  let rows = 0
  let last = 0
  try {
    for (;;) {
      if (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve))
      const m = queue.shift()!
      if (m.type === 'batch') {
        await onBatch(m.batch)
        port.postMessage({ type: 'ack' })
        rows += m.batch.rows
        const now = performance.now()
        if (now - last > 100) {
          last = now
          post({ type: 'rows', dataset, rows })
        }
      } else if (m.type === 'end') {
        post({ type: 'rows', dataset, rows })
        return m.stats
      } else throw DatasetError.fromJSON(m.error)
    }
  } finally {
    port.close()
  }
}

async function load(writer: SqliteDatasetWriter, onDatasetEnd: () => void): Promise<void> {
  for (const dataset of data.order) {
    writer.begin(dataset)
    const stats = await consume(data.ports[dataset], dataset, async (b) => {
      // The side writer checks references against the main writer's id sets; until they arrive it
      // keeps the ids, up to a bound, then stops taking batches (so its parser pauses) until they do.
      if (!writer.refs.complete && (commands.has('ids') || writer.refs.pendingCount > PENDING_CAP)) {
        await receiveIds(writer)
      }
      writer.write(b)
    })
    writer.end(stats)
    post({ type: 'file-done', dataset })
    onDatasetEnd()
  }
}

let idsReceived: Promise<void> | null = null
function receiveIds(writer: SqliteDatasetWriter): Promise<void> {
  idsReceived ??= command('ids').then((c) => {
    if (c.title) writer.refs.provide('title', new IdSet(c.title))
    if (c.name) writer.refs.provide('name', new IdSet(c.name))
    writer.updateDangling()
  })
  return idsReceived
}

async function side(writer: SqliteDatasetWriter): Promise<void> {
  await load(writer, () => {})
  if (!writer.refs.complete) await receiveIds(writer)
  writer.buildIndexes(new Set(data.tables))
  writer.close()
  post({ type: 'side-done', counts: [...writer.fileCounts], rows: writer.tableRows })
}

async function main(writer: SqliteDatasetWriter): Promise<void> {
  let idsSent = false
  const sendIds = () => {
    if (idsSent || !writer.refs.complete || !data.side) return
    idsSent = true
    const title = writer.refs.set('title') ? writer.titleIds.bits.slice() : null
    const name = writer.refs.set('name') ? writer.nameIds.bits.slice() : null
    const transfer = [title?.buffer, name?.buffer].filter((b) => b !== undefined) as ArrayBuffer[]
    post({ type: 'ids', title, name }, transfer)
  }
  sendIds()
  await load(writer, sendIds)
  post({ type: 'phase', phase: 'fts' })
  writer.buildFts()
  post({ type: 'phase', phase: 'indexes' })
  writer.buildIndexes(new Set(data.tables))
  let counts = new Map(writer.fileCounts)
  if (data.side) {
    const done = await command('side-done')
    post({ type: 'phase', phase: 'merge' })
    writer.merge(data.side.path, new Set(data.side.tables), done.rows)
    counts = new Map([...counts, ...done.counts])
  }
  post({ type: 'phase', phase: 'analyze' })
  writer.analyze()
  post({ type: 'phase', phase: 'sizes' })
  const tables = writer.tableStats()
  const summary = buildManifest({
    schemaVersion: SCHEMA_VERSION,
    generation: data.generation,
    loaded: data.loaded,
    notLoaded: data.notLoaded,
    sources: data.sources,
    counts,
    tables,
    timings: { ...Object.fromEntries([...counts].map(([d, c]) => [d, c.ms])), ...writer.timings },
    startedAt: new Date(data.startedAt),
  })
  writer.writeMeta(data.generation, summary)
  writer.close()
  post({ type: 'done', summary })
}

async function run(): Promise<void> {
  const writer = new SqliteDatasetWriter(data.path, {
    strict: data.strict,
    loaded: data.loaded,
    onBadRow: (dataset, line, reason) => post({ type: 'bad-line', dataset, line, reason }),
  })
  try {
    await (data.lane === 'main' ? main(writer) : side(writer))
  } catch (err) {
    if (writer.db.open) writer.db.close()
    throw err
  }
}

run().catch((err: unknown) => {
  const e = err as Error & { code?: string }
  const error =
    err instanceof DatasetError
      ? err.toJSON()
      : { name: e?.name ?? 'Error', message: e?.stack ?? String(err), code: e?.code }
  post({ type: 'error', error })
})
