import { randomBytes } from 'node:crypto'
import { closeSync, openSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { ensureControl, generationSchemas, swapGeneration } from '../../src/db/postgres/generations.js'
import {
  generationSchema,
  ident,
  primaryKeyIndex,
  SECONDARY_INDEXES,
  STAGING_TABLES,
  TABLES,
} from '../../src/db/postgres/schema.js'

/**
 * The PostgreSQL server of the tests: `MARQUEE_TEST_DATABASE_URL`, by default the local
 * `postgres://postgres@127.0.0.1:5432/test`. CI has one, so there the PostgreSQL tests run; on a
 * machine without one they are skipped, and the run says so once.
 */
export const TEST_DATABASE_URL =
  process.env.MARQUEE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

let reachable: Promise<boolean> | null = null

/** Whether the test server answers (checked once per process, within two seconds). */
export function postgresAvailable(): Promise<boolean> {
  reachable ??= (async () => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 2000 })
    client.on('error', () => {})
    try {
      await client.connect()
      await client.query('SELECT 1')
      return true
    } catch {
      announceSkip()
      return false
    } finally {
      await client.end().catch(() => {})
    }
  })()
  return reachable
}

/** One line per test run (test files run in processes of one runner), not one per file. */
function announceSkip(): void {
  const marker = path.join(tmpdir(), `marquee-pg-skip-${process.ppid}`)
  try {
    closeSync(openSync(marker, 'wx'))
  } catch {
    return
  }
  process.stderr.write(
    `PostgreSQL tests skipped: no server at ${redact(TEST_DATABASE_URL)} (set MARQUEE_TEST_DATABASE_URL to run them)\n`,
  )
}

const redact = (url: string) => url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@')

/**
 * A schema prefix no other test file or run uses (`mq_<tag>_<random>`), so test files can ingest
 * into the same database in parallel.
 */
export function uniquePrefix(tag: string): string {
  return `mq_${tag.replace(/[^a-z0-9]/g, '').slice(0, 12)}_${randomBytes(4).toString('hex')}`
}

/** A client on the test database (ended by the caller). */
export async function testClient(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL })
  client.on('error', () => {})
  await client.connect()
  return client
}

/** Drops the control schema, every generation schema and the user schema of `prefix`. */
export async function dropPrefix(prefix: string): Promise<void> {
  const client = await testClient()
  try {
    for (const schema of await generationSchemas(client, prefix)) {
      await client.query(`DROP SCHEMA IF EXISTS ${ident(schema)} CASCADE`)
    }
    await client.query(`DROP SCHEMA IF EXISTS ${ident(prefix)} CASCADE`)
    await client.query(`DROP SCHEMA IF EXISTS ${ident(`${prefix}_users`)} CASCADE`)
  } finally {
    await client.end()
  }
}

/**
 * A generation of `prefix` built by hand (tests that need a synthetic dataset rather than the IMDb
 * fixture): the schema with every table and index, filled by `fill`, then swapped in.
 */
export async function writeGeneration(
  prefix: string,
  generation: string,
  fill: (client: pg.Client) => Promise<void>,
): Promise<string> {
  const client = await testClient()
  const schema = generationSchema(prefix, generation)
  try {
    await ensureControl(client, prefix)
    await client.query(`CREATE SCHEMA ${ident(schema)}`)
    await client.query(`SET search_path = ${ident(schema)}`)
    for (const t of [...TABLES, ...STAGING_TABLES])
      await client.query(`CREATE TABLE ${t.name} (${t.columns})`)
    await fill(client)
    for (const t of TABLES) {
      await client.query(primaryKeyIndex(t))
      for (const sql of SECONDARY_INDEXES[t.name] ?? []) await client.query(sql)
    }
    await client.query(
      `INSERT INTO meta (key, value) VALUES ('generation', $1), ('schema_version', '1') ON CONFLICT DO NOTHING`,
      [generation],
    )
    for (const t of TABLES) await client.query(`ANALYZE ${t.name}`)
    await swapGeneration(client, prefix, schema, generation)
    return schema
  } finally {
    await client.end()
  }
}
