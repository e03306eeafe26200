/**
 * Generations on PostgreSQL: each one a schema (`<prefix>_g_<generation>`), the one served named
 * by the single row of `<prefix>.current`. The ingest builds a new schema, then swaps the pointer
 * in one transaction (and NOTIFYs `<prefix>_generation`), so a reader that resolves the pointer
 * once per request sees one complete generation; the generation served before stays (requests in
 * flight, and API servers that have not noticed the swap yet, keep using it) until the next swap.
 */

import pg from 'pg'
import {
  countsOf,
  countsSql,
  HISTORY_ENTITIES,
  type HistoryRetention,
  historyDdl,
  type ManifestChanges,
  pruneStatements,
  recordStatements,
} from '../history.js'
import { checkSchemaPrefix, controlDdl, ident, isGenerationSchema } from './schema.js'

/** Anything that runs a query: a Client, a PoolClient or a Pool. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>
}

export interface CurrentGeneration {
  schema: string
  generation: string
  previousSchema: string | null
  swappedAt: Date
}

/** The LISTEN/NOTIFY channel on which swaps are announced (payload: the new schema). */
export const swapChannel = (prefix: string) => `${checkSchemaPrefix(prefix)}_generation`

/** The generation being served, or null when none was ever swapped in (or no control schema exists). */
export async function currentGeneration(db: Queryable, prefix: string): Promise<CurrentGeneration | null> {
  const p = ident(checkSchemaPrefix(prefix))
  try {
    const { rows } = await db.query<{
      schema: string
      generation: string
      previous_schema: string | null
      swapped_at: Date
    }>(`SELECT schema, generation, previous_schema, swapped_at FROM ${p}.current`)
    const r = rows[0]
    return r
      ? {
          schema: r.schema,
          generation: r.generation,
          previousSchema: r.previous_schema,
          swappedAt: r.swapped_at,
        }
      : null
  } catch (err) {
    // 42P01 undefined_table, 3F000 invalid_schema_name: nothing was ever ingested here.
    const code = (err as { code?: string }).code
    if (code === '42P01' || code === '3F000') return null
    throw err
  }
}

/** The served generation of `prefix` at `url`, read on a connection of its own (start-up checks). */
export async function servedGeneration(url: string, prefix: string): Promise<CurrentGeneration | null> {
  const client = new pg.Client({ connectionString: url, application_name: 'marquee' })
  client.on('error', () => {})
  await client.connect()
  try {
    return await currentGeneration(client, prefix)
  } finally {
    await client.end().catch(() => {})
  }
}

/** Creates the control schema and table if missing. */
export async function ensureControl(db: Queryable, prefix: string): Promise<void> {
  for (const sql of controlDdl(prefix)) await db.query(sql)
}

/** Generation schemas of `prefix` that exist. */
export async function generationSchemas(db: Queryable, prefix: string): Promise<string[]> {
  const { rows } = await db.query<{ nspname: string }>(
    'SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1) ORDER BY nspname',
    [`${checkSchemaPrefix(prefix)}_g_`],
  )
  return rows.map((r) => r.nspname).filter((s) => isGenerationSchema(prefix, s))
}

/**
 * Makes `schema` the served generation, in one transaction that also announces it. The caller
 * holds the ingest lock, so no other swap interleaves.
 */
export async function swapGeneration(
  client: pg.ClientBase,
  prefix: string,
  schema: string,
  generation: string,
): Promise<{ previous: string | null }> {
  const p = ident(checkSchemaPrefix(prefix))
  await client.query('BEGIN')
  try {
    const { rows } = await client.query<{ schema: string }>(`SELECT schema FROM ${p}.current FOR UPDATE`)
    const previous = rows[0]?.schema ?? null
    await client.query(
      `INSERT INTO ${p}.current (singleton, schema, generation, previous_schema, swapped_at)
       VALUES (true, $1, $2, $3, now())
       ON CONFLICT (singleton) DO UPDATE
       SET schema = excluded.schema, generation = excluded.generation,
           previous_schema = excluded.previous_schema, swapped_at = excluded.swapped_at`,
      [schema, generation, previous],
    )
    await client.query('SELECT pg_notify($1, $2)', [swapChannel(prefix), schema])
    await client.query('COMMIT')
    return { previous }
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {})
    throw err
  }
}

/**
 * Drops the generation schemas that are neither served nor the one served before (left by an
 * interrupted ingest, or superseded twice). A schema still locked by a long query is left for the
 * next time (lock_timeout); returns what was dropped and what was left.
 */
export async function dropStaleGenerations(
  db: Queryable,
  prefix: string,
  keep: readonly string[] = [],
): Promise<{ dropped: string[]; kept: string[] }> {
  const current = await currentGeneration(db, prefix)
  const live = new Set([current?.schema, current?.previousSchema, ...keep].filter((s): s is string => !!s))
  const dropped: string[] = []
  const kept: string[] = []
  for (const schema of await generationSchemas(db, prefix)) {
    if (live.has(schema)) continue
    if (await dropSchema(db, schema)) dropped.push(schema)
    else kept.push(schema)
  }
  return { dropped, kept }
}

/** DROP SCHEMA ... CASCADE, waiting at most `lockTimeoutMs` for locks; false when it timed out. */
export async function dropSchema(db: Queryable, schema: string, lockTimeoutMs = 5000): Promise<boolean> {
  try {
    await db.query(
      `SET lock_timeout = ${Math.max(1, Math.round(lockTimeoutMs))}; DROP SCHEMA IF EXISTS ${ident(schema)} CASCADE; RESET lock_timeout`,
    )
    return true
  } catch (err) {
    await db.query('RESET lock_timeout').catch(() => {})
    if ((err as { code?: string }).code === '55P03') return false
    throw err
  }
}

/**
 * Records the change set of generation `generation` (its schema `schema`, built and keyed, not
 * served yet) against the generation served now, in the control schema's history tables (see
 * ../history.ts), and gives the new schema views of them, so that the query functions read the
 * history through the generation's search_path as on SQLite. Runs before the swap, in one
 * transaction of its own: rows recorded for a generation that then fails to go live are removed by
 * the next recording (everything after the served generation is), and readers never see them (they
 * read up to the generation they serve). Returns what the manifest says of the changes; null for a
 * first generation, or when the served one cannot be compared (the history then starts again).
 */
export async function recordPostgresHistory(
  client: pg.ClientBase,
  prefix: string,
  target: { schema: string; generation: string; retention: HistoryRetention; now?: Date },
): Promise<ManifestChanges | null> {
  const p = `${ident(checkSchemaPrefix(prefix))}.`
  const now = target.now ?? new Date()
  const current = await currentGeneration(client, prefix)
  await client.query('BEGIN')
  try {
    for (const sql of historyDdl('postgres', p)) await client.query(sql)
    // One recorder at a time (the ingest lock holds already; this guards a hand-run one).
    await client.query(`LOCK TABLE ${p}history_generations IN EXCLUSIVE MODE`)
    const seqOf = async (generation: string) =>
      (
        await client.query<{ seq: number }>(`SELECT seq FROM ${p}history_generations WHERE generation = $1`, [
          generation,
        ])
      ).rows[0]?.seq
    const insertGeneration = (seq: number, generation: string, previous: string | null, madeAt: string) =>
      client.query(
        `INSERT INTO ${p}history_generations (seq, generation, previous, made_at) VALUES ($1, $2, $3, $4)`,
        [seq, generation, previous, madeAt],
      )
    const reset = async () => {
      await client.query(`DELETE FROM ${p}history_changes`)
      await client.query(`DELETE FROM ${p}history_generations`)
    }
    let prevSeq = current ? await seqOf(current.generation) : undefined
    if (current && prevSeq === undefined) {
      await reset()
      await insertGeneration(1, current.generation, null, current.swappedAt.toISOString())
      prevSeq = 1
    }
    if (!current) await reset()
    const seq = (prevSeq ?? 0) + 1
    await client.query(`DELETE FROM ${p}history_changes WHERE seq >= $1`, [seq])
    await client.query(`DELETE FROM ${p}history_generations WHERE seq >= $1`, [seq])
    await insertGeneration(seq, target.generation, current?.generation ?? null, now.toISOString())
    let changes: ManifestChanges | null = null
    if (current) {
      await client.query('SAVEPOINT compare')
      try {
        for (const entity of HISTORY_ENTITIES) {
          for (const sql of recordStatements('postgres', entity, {
            seq,
            oldNs: `${ident(current.schema)}.`,
            newNs: `${ident(target.schema)}.`,
            into: p,
          })) {
            await client.query(sql)
          }
        }
        const { rows } = await client.query<{ entity: string; kind: string; c: string }>(countsSql(p, seq))
        const counts = countsOf(rows)
        await client.query(`UPDATE ${p}history_generations SET counts = $1 WHERE seq = $2`, [
          JSON.stringify(counts),
          seq,
        ])
        changes = { since: current.generation, counts }
        await client.query('RELEASE SAVEPOINT compare')
      } catch {
        // The served generation cannot be compared (another schema version, dropped by hand).
        await client.query('ROLLBACK TO SAVEPOINT compare')
        await client.query(`DELETE FROM ${p}history_changes`)
        await client.query(`DELETE FROM ${p}history_generations WHERE seq <> $1`, [seq])
        await client.query(`UPDATE ${p}history_generations SET previous = NULL WHERE seq = $1`, [seq])
      }
    }
    for (const sql of pruneStatements(p, seq, target.retention, now)) await client.query(sql)
    const s = ident(target.schema)
    for (const table of ['history_generations', 'history_changes']) {
      await client.query(`CREATE OR REPLACE VIEW ${s}.${table} AS SELECT * FROM ${p}${table}`)
    }
    await client.query('COMMIT')
    return changes
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {})
    throw err
  }
}
