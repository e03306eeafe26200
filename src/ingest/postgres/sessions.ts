/** The PostgreSQL sessions of an ingest: opening them, and stopping their work on a failure. */

import pg from 'pg'
import { dropSchema } from '../../db/postgres/generations.js'
import { IngestError } from '../errors.js'

/** Opens a session; `schema` becomes its search_path. */
export async function connect(
  url: string,
  schema: string | null,
  application: string,
  settings: Record<string, string> = {},
): Promise<pg.Client> {
  const options = Object.entries({ ...(schema ? { search_path: schema } : {}), ...settings })
    .map(([k, v]) => `-c ${k}=${v}`)
    .join(' ')
  const client = new pg.Client({
    connectionString: url,
    application_name: application,
    ...(options ? { options } : {}),
  })
  // An idle client whose connection drops emits 'error'; the query that notices reports it.
  client.on('error', () => {})
  await client.connect()
  return client
}

export const pidOf = (c: pg.ClientBase) => (c as unknown as { processID: number | null }).processID

/** Every session the ingest opened, so a failure can stop their work on the server. */
export class Sessions {
  readonly clients = new Set<pg.Client>()
  readonly pids = new Set<number>()
  pool: pg.Pool | null = null
  /** Set once the ingest failed: a session opened late is closed at once. */
  closed = false

  /** Registers a new session; throws (after ending it) when the ingest has already failed. */
  async add(client: pg.Client): Promise<pg.Client> {
    if (this.closed) {
      await client.end().catch(() => {})
      throw new IngestError('INGEST_ABORTED', 'the ingest is stopping')
    }
    this.clients.add(client)
    const pid = pidOf(client)
    if (pid) this.pids.add(pid)
    return client
  }

  /**
   * Stops every session's work on the server: a client that goes away does not stop a running
   * CREATE INDEX, and an open COPY transaction holds its table's lock until its session ends.
   */
  async terminate(control: pg.Client): Promise<void> {
    this.closed = true
    if (this.pids.size > 0) {
      await control
        .query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = ANY($1::int[])', [
          [...this.pids],
        ])
        .catch(() => {})
    }
  }

  async close(): Promise<void> {
    this.closed = true
    await Promise.all([...this.clients].map((c) => c.end().catch(() => {})))
    this.clients.clear()
    await this.pool?.end().catch(() => {})
    this.pool = null
  }
}

/** Drops the schema being built; on a broken control connection, from a fresh one. */
export async function dropBuild(url: string, control: pg.Client, schema: string): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      if (await dropSchema(control, schema, 10_000)) return
    } catch {
      try {
        const fresh = await connect(url, null, 'marquee-ingest-cleanup')
        try {
          if (await dropSchema(fresh, schema, 10_000)) return
        } finally {
          await fresh.end().catch(() => {})
        }
      } catch {
        // The next ingest drops it (it is not the served generation).
      }
    }
  }
}

/** Startup options of a session: search_path and settings. */
export function sessionOptions(schema: string, settings: Record<string, string>): string {
  return Object.entries({ search_path: schema, ...settings })
    .map(([k, v]) => `-c ${k}=${v}`)
    .join(' ')
}

/** Sessions notice a vanished client within a second (PostgreSQL 14+), so a killed ingest stops its work. */
export async function checkInterval(control: pg.Client): Promise<Record<string, string>> {
  const { rows } = await control.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`)
  return Number(rows[0].v) >= 140000 ? { client_connection_check_interval: '1000' } : {}
}
