import { loadRegistry } from '../db/queries/index.js'
import { retainConsoleConnection } from '../db/queries/sql-console.js'
import { ConnectionCache } from '../db/sqlite/connection.js'
import Database from '../db/sqlite/driver.js'
import { lowerThreadPriority } from '../lib/priority.js'
import { type QueryTask, serializeError, type TaskOutcome } from './task.js'

/**
 * A query process (see process-executor.ts): runs registry queries one at a time, like a query
 * worker thread, but as a process the server can kill at the deadline. Messages: the parent sends
 * `{ id, task }`, this answers `{ id, outcome }`; `{ ready: true }` once it can take tasks.
 */

export interface TaskMessage {
  id: number
  task: QueryTask
}
export interface OutcomeMessage {
  id: number
  outcome: TaskOutcome
}
/**
 * A piece of a task's answer, sent before its outcome: a value with `chunks` (an encoded body) has
 * them sent one message each, so the server receives it in pieces (each cheap to deserialize on its
 * event loop), never as one message of tens of MB.
 */
export interface ChunkMessage {
  id: number
  chunk: Uint8Array
}
/** Close every connection but those to `retain` (the generation served now). */
export interface RetainMessage {
  retain: string
}

/** SQLite memory of this process at most (a runaway GROUP BY fails with "out of memory" instead). */
const HEAP_LIMIT = 512 * 1024 * 1024

function limitHeap(): void {
  // Process-wide in SQLite; set through any connection.
  const db = new Database(':memory:')
  try {
    db.pragma(`hard_heap_limit = ${HEAP_LIMIT}`)
  } finally {
    db.close()
  }
}

async function main(): Promise<void> {
  // Ad-hoc SQL is background work too: the server's event loop comes first.
  lowerThreadPriority()
  limitHeap()
  const registry = await loadRegistry()
  const connections = new ConnectionCache(2)
  const opened = new Set<string>()

  process.on('message', async (msg: TaskMessage | RetainMessage) => {
    if ('retain' in msg) {
      for (const path of opened) if (path !== msg.retain) connections.evict(path)
      opened.clear()
      opened.add(msg.retain)
      retainConsoleConnection(msg.retain)
      return
    }
    opened.add(msg.task.dbPath)
    let outcome: TaskOutcome
    try {
      const fn = registry.get(msg.task.query)
      if (!fn) throw Object.assign(new Error(`no query named ${msg.task.query}`), { name: 'UnknownQuery' })
      const value = await fn(connections.get(msg.task.dbPath).db, ...msg.task.args)
      const { chunks, ...rest } = (value ?? {}) as { chunks?: Uint8Array[] }
      if (Array.isArray(chunks)) {
        for (const chunk of chunks) process.send?.({ id: msg.id, chunk } satisfies ChunkMessage)
        outcome = { ok: true, value: rest }
      } else outcome = { ok: true, value }
    } catch (err) {
      outcome = { ok: false, error: serializeError(err) }
    }
    process.send?.({ id: msg.id, outcome } satisfies OutcomeMessage)
  })
  // The server went away (or closed the channel): nothing left to answer.
  process.on('disconnect', () => process.exit(0))
  process.send?.({ ready: true })
}

main().catch((err) => {
  process.stderr.write(`marquee query process failed to start: ${(err as Error).stack ?? err}\n`)
  process.exit(1)
})
