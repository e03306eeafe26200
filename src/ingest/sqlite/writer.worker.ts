/**
 * Worker entry: a thread that owns one database file being built. The main writer loads titles,
 * names, akas (and ratings into memory), builds FTS and its indexes, then copies in what the side
 * writer built in parallel in its own file (episodes, crew, principals with their indexes), and
 * writes statistics and the meta rows. Each reads a dataset's batches from that dataset's port,
 * in load order, acknowledging each batch so that its parser may send another.
 */

import { type MessagePort, parentPort, workerData } from 'node:worker_threads'
import type { DatasetName } from '../../datasets/catalogue.js'
import { type ColumnarBatch, DatasetError, type ParseStats } from '../../datasets/parse.js'
import type { ParseMessage } from '../../datasets/parse.worker.js'
import { SCHEMA_VERSION } from '../../db/sqlite/schema.js'
import { buildManifest, type FileCounts, type IngestSummary, type SourceFile } from '../manifest.js'
import { IdSet, type RefKind } from '../refs.js'
import { SqliteDatasetWriter } from './sqlite-writer.js'

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
  /** Main lane: whether a side writer builds tables to copy in at the end. */
  side: boolean
  /** Tables whose secondary indexes this writer builds. */
  tables: string[]
}

/** The ids a writer has stored, for the other writer's dangling-reference checks. */
type IdsMessage = { type: 'ids'; kind: RefKind; bits: Uint8Array }

/** The side writer's file is ready for the main writer to copy. */
type SideDoneMessage = {
  type: 'side-done'
  counts: [DatasetName, FileCounts][]
  rows: Record<string, number>
  files: SideFile[]
}

/** Messages from a writer to the ingest thread (which passes ids and side-done on to the other writer). */
export type WriterReport =
  | { type: 'rows'; dataset: DatasetName; rows: number }
  | { type: 'file-done'; dataset: DatasetName; rowsRead: number }
  | { type: 'bad-line'; dataset: DatasetName; line: number; reason: string }
  | { type: 'phase'; phase: string }
  | IdsMessage
  | SideDoneMessage
  | { type: 'done'; summary: IngestSummary }
  | { type: 'error'; error: { name: string; message: string; code?: string; file?: string; line?: number } }

/** Messages from the ingest thread to a writer. */
export type WriterCommand = IdsMessage | SideDoneMessage

/** A database file the side writer built, and the tables (with their indexes) to copy from it. */
export interface SideFile {
  path: string
  tables: string[]
}

/**
 * Id runs the side writer may hold (12 bytes each, up to twice that as arrays grow: ~150 MB) for
 * checking before the id sets arrive; then it waits for them. The main writer sends each set as
 * soon as title.basics or name.basics is in.
 */
const PENDING_CAP = 6_000_000

const parent = parentPort!
const data = workerData as WriterData
const post = (m: WriterReport, transfer?: ArrayBuffer[]) => parent.postMessage(m, transfer)

/** The side writer's reference checker, once it exists: id sets are handed to it as they arrive. */
let sideRefs: SqliteDatasetWriter | null = null
let idsArrived: (() => void) | null = null

/** The next message of a type from the ingest thread. */
const commands = new Map<string, WriterCommand>()
const waiting = new Map<string, (c: WriterCommand) => void>()
parent.on('message', (c: WriterCommand) => {
  if (c.type === 'ids') {
    // Between batches (this handler never interrupts one): check the ids kept for this set.
    sideRefs!.refs.provide(c.kind, new IdSet(c.bits))
    sideRefs!.updateDangling()
    idsArrived?.()
    return
  }
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
      while (!writer.refs.complete && writer.refs.pendingCount > PENDING_CAP) await nextIds()
      writer.write(b)
    })
    writer.end(stats)
    post({ type: 'file-done', dataset, rowsRead: stats.rows })
    onDatasetEnd()
  }
}

function nextIds(): Promise<void> {
  return new Promise((resolve) => {
    idsArrived = () => {
      idsArrived = null
      resolve()
    }
  })
}

async function side(writer: SqliteDatasetWriter): Promise<void> {
  await load(writer, () => {})
  while (!writer.refs.complete) await nextIds()
  // Page-built tables are in files of their own, their indexes built there.
  const direct = new Set(writer.directFiles.flatMap((f) => f.tables))
  const own = data.tables.filter((t) => !direct.has(t))
  writer.buildIndexes(new Set(own))
  writer.close()
  const files = [{ path: data.path, tables: own }, ...writer.directFiles]
  post({ type: 'side-done', counts: [...writer.fileCounts], rows: writer.tableRows, files })
}

async function main(writer: SqliteDatasetWriter): Promise<void> {
  // Each id set goes to the side writer as soon as its file is in.
  const sent = new Set<RefKind>()
  const sendIds = () => {
    if (!data.side) return
    for (const [kind, ids] of [
      ['title', writer.titleIds],
      ['name', writer.nameIds],
    ] as const) {
      if (sent.has(kind) || !writer.refs.set(kind)) continue
      sent.add(kind)
      const bits = ids.bits.slice()
      post({ type: 'ids', kind, bits }, [bits.buffer])
    }
  }
  await load(writer, sendIds)
  post({ type: 'phase', phase: 'fts' })
  writer.buildFts()
  post({ type: 'phase', phase: 'indexes' })
  writer.buildIndexes(new Set(data.tables))
  let counts = new Map(writer.fileCounts)
  if (data.side) {
    const done = await command('side-done')
    post({ type: 'phase', phase: 'merge' })
    for (const f of done.files) writer.merge(f.path, new Set(f.tables))
    writer.addRows(done.rows)
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
    directPrefix: data.path,
    keepDirect: data.lane === 'side',
    onBadRow: (dataset, line, reason) => post({ type: 'bad-line', dataset, line, reason }),
  })
  if (data.lane === 'side') sideRefs = writer
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
