/** Messages between SqliteWorkerClient and sqlite.worker.ts. */

export interface WorkerSetup {
  file: string
  readonly: boolean
  busyTimeoutMs: number
  /** Run once per connection, e.g. `foreign_keys = ON`. */
  pragmas: string[]
}

export type WorkerRequest =
  | { id: number; sql: string; params: readonly unknown[] }
  | { id: number; close: true }

export type WorkerReply =
  | { id: number; rows: Record<string, unknown>[] }
  | { id: number; changes: number; lastInsertRowid: number }
  | { id: number; error: { message: string; name: string; code: string | undefined } }
