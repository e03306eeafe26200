/** One COPY into a table, in its own transaction (FREEZE: the table is truncated in it). */

import { once } from 'node:events'
import { finished } from 'node:stream/promises'
import type pg from 'pg'
import { type CopyStreamQuery, from as copyFrom } from 'pg-copy-streams'

/** Bytes a COPY stream buffers before its encoder waits (back-pressure). */
const COPY_HIGH_WATER = 1 << 20

export class TableCopy {
  rows = 0
  private constructor(
    private readonly client: pg.Client,
    private readonly stream: CopyStreamQuery,
  ) {}

  static async open(
    client: pg.Client,
    table: string,
    columns: readonly string[],
    fail: (err: unknown) => void,
  ) {
    await client.query('BEGIN')
    await client.query(`TRUNCATE ${table}`)
    const stream = client.query(
      copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN WITH (FREEZE)`, {
        highWaterMark: COPY_HIGH_WATER,
      }),
    )
    stream.on('error', fail)
    return new TableCopy(client, stream)
  }

  /** Writes a chunk, waiting while the stream is full. */
  async write(chunk: Buffer): Promise<void> {
    if (chunk.length === 0) return
    if (!this.stream.write(chunk)) await once(this.stream, 'drain')
  }

  /** Ends the COPY and commits; returns the rows the server loaded. */
  async end(): Promise<number> {
    this.stream.end()
    await finished(this.stream)
    await this.client.query('COMMIT')
    this.rows = this.stream.rowCount
    return this.rows
  }
}
