/**
 * Worker entry: one better-sqlite3 connection, driven by messages from SqliteWorkerClient
 * (worker-dialect.ts). Statements run here, so the server's event loop never runs SQL, never waits
 * on a SQLite lock and never pays for a checkpoint's fsync; `busy_timeout` only ever blocks this
 * thread. Messages are handled one at a time, in order.
 */
import { parentPort, workerData } from 'node:worker_threads'
import Database, { type Statement } from '../../db/sqlite/driver.js'
import type { WorkerReply, WorkerRequest, WorkerSetup } from './worker-protocol.js'

const setup = workerData as WorkerSetup
const port = parentPort!

let db: Database | null = null
const statements = new Map<string, Statement>()

function open(): Database {
  const conn = new Database(setup.file, { readonly: setup.readonly, fileMustExist: true })
  try {
    conn.pragma(`busy_timeout = ${setup.busyTimeoutMs}`)
    for (const pragma of setup.pragmas) conn.pragma(pragma)
  } catch (err) {
    conn.close()
    throw err
  }
  return conn
}

function closeDb(): void {
  statements.clear()
  db?.close()
  db = null
}

function connection(): Database {
  db ??= open()
  return db
}

function prepare(conn: Database, sql: string): Statement {
  let stmt = statements.get(sql)
  if (!stmt) {
    stmt = conn.prepare(sql)
    statements.set(sql, stmt)
    if (statements.size > 200) statements.delete(statements.keys().next().value as string)
  }
  return stmt
}

function run(msg: Extract<WorkerRequest, { sql: string }>): WorkerReply {
  const conn = connection()
  const stmt = prepare(conn, msg.sql)
  if (stmt.reader) return { id: msg.id, rows: stmt.all(msg.params) as Record<string, unknown>[] }
  const info = stmt.run(msg.params)
  return { id: msg.id, changes: info.changes, lastInsertRowid: Number(info.lastInsertRowid) }
}

port.on('message', (msg: WorkerRequest) => {
  if ('close' in msg) {
    try {
      closeDb()
      port.postMessage({ id: msg.id, rows: [] } satisfies WorkerReply)
    } finally {
      port.close()
    }
    return
  }
  let reply: WorkerReply
  try {
    reply = run(msg)
  } catch (err) {
    const e = err as Error & { code?: unknown }
    reply = {
      id: msg.id,
      error: { message: e.message, name: e.name, code: typeof e.code === 'string' ? e.code : undefined },
    }
  }
  port.postMessage(reply)
})
