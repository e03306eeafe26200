import { type CsvText, csvLine } from '../../lib/csv.js'
import { dialectOf } from '../dialect.js'
import Database, { type Statement } from '../sqlite/driver.js'
import type { DB } from './sql.js'

/**
 * The SQL console (GET /sql): one read-only statement of the analyst's own SQL against the dataset.
 *
 * Three locks, each enough on its own for writes: only a single SELECT, WITH, VALUES or EXPLAIN
 * statement is accepted (so no ATTACH, no PRAGMA, no transaction control: those are readonly to
 * SQLite, as are PRAGMA assignments such as `writable_schema=1`); the prepared statement must be
 * `readonly` (sqlite3_stmt_readonly: catches `WITH ... DELETE`); and the connection is opened
 * read-only with `query_only` on. better-sqlite3 refuses a string holding more than one statement.
 *
 * Interrupting. Nothing in better-sqlite3 can stop a running statement (no sqlite3_interrupt, no
 * progress handler), and a terminated worker thread keeps running a statement that never returns a
 * row (an endless recursive CTE under count(*)) forever, holding its core and even blocking the
 * process's exit. So the /sql route runs this query in a child process that is killed at the
 * deadline (src/pool/process-executor.ts), never on the shared query pool.
 */

export interface SqlConsoleLimits {
  /** Rows returned at most; more make the result `truncated`. */
  rowLimit: number
  /** Bytes of the encoded body (UTF-8) at most; rows that would pass it make the result `truncated`. */
  maxBytes: number
  /** The body's format: `{ columns, rows, truncated }` as JSON, or CSV with a header row. */
  format: 'json' | 'csv'
  /** CSV text fields: neutralized against spreadsheet formulas (the default), or raw. */
  csvText?: CsvText
}

/**
 * The answer, encoded where the statement ran (the query process): the server's main thread only
 * passes the bytes on, whatever the statement returned.
 */
export interface SqlConsoleResult {
  /** The body in pieces of about CHUNK_BYTES. */
  chunks: Uint8Array[]
  rows: number
  /** True when rowLimit or maxBytes cut the result short. */
  truncated: boolean
}

/** Body pieces: small enough that each costs the server's event loop little to receive. */
const CHUNK_BYTES = 1 << 20

/** A statement the console does not run; `code` says which lock refused it. */
export class SqlRejectedError extends Error {
  override name = 'SqlRejectedError'
  readonly code = 'SQL_REJECTED'
}

/** SQLite refused or failed the statement (syntax, unknown table, a run-time error). */
export class SqlFailedError extends Error {
  override name = 'SqlFailedError'
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message)
  }
}

const ALLOWED = /^(?:explain\s+(?:query\s+plan\s+)?)?(?:select|with|values)\b/i

/** The statement without leading whitespace and comments (`-- ...` and `/* ... *\/`). */
export function statementBody(sql: string): string {
  let s = sql
  for (;;) {
    s = s.trimStart()
    if (s.startsWith('--')) {
      const nl = s.indexOf('\n')
      s = nl < 0 ? '' : s.slice(nl + 1)
    } else if (s.startsWith('/*')) {
      const end = s.indexOf('*/', 2)
      s = end < 0 ? '' : s.slice(end + 2)
    } else {
      return s
    }
  }
}

/** Throws SqlRejectedError unless `sql` starts as a query (SELECT, WITH, VALUES, EXPLAIN of those). */
export function checkConsoleSql(sql: string): void {
  const body = statementBody(sql)
  if (body === '') throw new SqlRejectedError('the query is empty')
  if (!ALLOWED.test(body)) {
    const word = /^\S+/.exec(body)?.[0].toUpperCase() ?? ''
    throw new SqlRejectedError(
      `only a single SELECT, WITH, VALUES or EXPLAIN statement is allowed, not ${word.slice(0, 20)}`,
    )
  }
}

/** A cell as plain JSON: big integers beyond 2^53 as strings, blobs as base64. */
function cell(v: unknown): unknown {
  if (typeof v === 'bigint')
    return v >= Number.MIN_SAFE_INTEGER && v <= Number.MAX_SAFE_INTEGER ? Number(v) : String(v)
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')
  return v
}

/** Strings longer than this are measured (jsonStringBytes) before they are encoded. */
const LONG_STRING = 64 * 1024

/** The UTF-8 bytes of JSON.stringify(s), counted without building it. */
export function jsonStringBytes(s: string): number {
  let n = 2
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x22 || c === 0x5c) n += 2
    else if (c < 0x20) n += c === 8 || c === 9 || c === 10 || c === 12 || c === 13 ? 2 : 6
    else if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4
        i++
      } else n += 6 // a lone surrogate is escaped as \uXXXX
    } else if (c >= 0xd800 && c <= 0xdfff) n += 6
    else n += 3
  }
  return n
}

/** Gathers encoded text into UTF-8 chunks, counting bytes. */
class Body {
  readonly chunks: Uint8Array[] = []
  bytes = 0
  #pending = ''

  add(text: string, bytes = Buffer.byteLength(text)): void {
    this.#pending += text
    this.bytes += bytes
    if (this.#pending.length >= CHUNK_BYTES) this.#flush()
  }

  done(): Uint8Array[] {
    this.#flush()
    return this.chunks
  }

  #flush(): void {
    if (this.#pending) this.chunks.push(Buffer.from(this.#pending))
    this.#pending = ''
  }
}

/** Runs one checked statement on `sqlite`, returning at most the limits' rows and bytes. */
export function runConsoleSql(sqlite: Database, sql: string, limits: SqlConsoleLimits): SqlConsoleResult {
  checkConsoleSql(sql)
  let stmt: Statement
  try {
    stmt = sqlite.prepare(sql)
  } catch (err) {
    const e = err as Error & { code?: string }
    if (/more than one statement/i.test(e.message)) {
      throw new SqlRejectedError('only a single statement is allowed (found more than one)')
    }
    throw new SqlFailedError(e.message, e.code ?? 'SQLITE_ERROR')
  }
  if (!stmt.readonly) throw new SqlRejectedError('the statement would write to the database')
  if (!stmt.reader) throw new SqlRejectedError('the statement returns no rows')
  const columns = stmt.columns().map((c) => c.name)
  stmt.raw(true).safeIntegers(true)
  const json = limits.format === 'json'
  const body = new Body()
  body.add(json ? `{"columns":${JSON.stringify(columns)},"rows":[` : csvLine(columns, limits.csvText))
  // What the body needs after the last row: bytes kept free for it.
  const tail = json ? '],"truncated":false}'.length + 1 : 0
  let rows = 0
  let truncated = false
  try {
    for (const raw of stmt.iterate() as IterableIterator<unknown[]>) {
      if (rows >= limits.rowLimit) {
        truncated = true
        break
      }
      // A value that cannot fit is never encoded: 30M control characters would become 180 MB of
      // JSON escapes. Long strings are measured as JSON before they are encoded.
      const room = limits.maxBytes - body.bytes - tail
      if (
        raw.some(
          (v) =>
            (v instanceof Uint8Array && (v.length * 4) / 3 > room) ||
            (typeof v === 'string' &&
              (v.length > room || (json && v.length > LONG_STRING && jsonStringBytes(v) > room))),
        )
      ) {
        truncated = true
        break
      }
      const row = raw.map(cell)
      const text = json ? (rows === 0 ? '' : ',') + JSON.stringify(row) : csvLine(row, limits.csvText)
      const bytes = Buffer.byteLength(text)
      if (body.bytes + bytes + tail > limits.maxBytes) {
        truncated = true
        break
      }
      body.add(text, bytes)
      rows++
    }
  } catch (err) {
    const e = err as Error & { code?: string }
    throw new SqlFailedError(e.message, e.code ?? 'SQLITE_ERROR')
  }
  if (json) body.add(`],"truncated":${truncated}}`)
  return { chunks: body.done(), rows, truncated }
}

/** Read-only connections of the console by dataset file: the generation in use, rarely two. */
const connections = new Map<string, Database>()

/** The console's own read-only, query-only connection to `dbPath`: user SQL never shares the API's. */
export function consoleConnection(dbPath: string): Database {
  let db = connections.get(dbPath)
  if (db) return db
  db = new Database(dbPath, { readonly: true, fileMustExist: true })
  db.pragma('query_only = 1')
  connections.set(dbPath, db)
  return db
}

/**
 * Closes the console's connections to every file but `dbPath` (after a hot swap), so a retired
 * generation's file is freed once it is unlinked. Call between statements.
 */
export function retainConsoleConnection(dbPath: string): void {
  for (const [path, db] of connections) {
    if (path === dbPath) continue
    connections.delete(path)
    db.close()
  }
}

/**
 * The registry's entry: the console on the dataset file `dbPath` (the generation the request pinned).
 * On SQLite, run it only where it can be killed (see the module comment).
 */
export async function sqlConsole(
  db: DB,
  dbPath: string,
  sql: string,
  limits: SqlConsoleLimits,
): Promise<SqlConsoleResult> {
  if (!dialectOf(db).sqlConsole) throw new Error('the SQL console runs on SQLite datasets only')
  return runConsoleSql(consoleConnection(dbPath), sql, limits)
}
