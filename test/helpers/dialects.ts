import type { FastifyInstance } from 'fastify'
import type { ConfigInput } from '../../src/config.js'
import type { DatasetName } from '../../src/datasets/catalogue.js'
import { ingestPostgres } from '../../src/ingest/postgres/index.js'
import { buildTestDataset } from './dataset.js'
import { dropPrefix, postgresAvailable, TEST_DATABASE_URL, uniquePrefix } from './postgres.js'
import { startTestServer, type TestServer, tempDir } from './server.js'

/**
 * The backends the API tests run on, kysely style: `for (const dialect of DIALECTS) describe(...)`.
 * SQLite always; PostgreSQL when the test server answers (test/helpers/postgres.ts), skipped with
 * one line per run otherwise.
 */
export const DIALECTS = ['sqlite', 'postgres'] as const
export type Dialect = (typeof DIALECTS)[number]

const postgres = await postgresAvailable()

/** describe() options for a dialect's suite: PostgreSQL's is skipped when no server answers. */
export const dialectOptions = (dialect: Dialect) => ({ skip: dialect === 'postgres' && !postgres })

export interface DialectDataset {
  /** Settings for startTestServer: the SQLite file, or the database URL and schema prefix. */
  config: ConfigInput
  /** The SQLite file (also built for PostgreSQL: it comes with the fixture files). */
  dbPath: string
  /** The fixture's IMDb files. */
  dataDir: string
  /** Drops what was built in PostgreSQL (the SQLite file goes with its directory). */
  cleanup(): Promise<void>
}

/**
 * The fixture dataset (test/helpers/dataset.ts) on `dialect`, loaded by that backend's real ingest:
 * into `dir` for SQLite, into a schema prefix of its own for PostgreSQL.
 */
export async function dialectDataset(
  dialect: Dialect,
  dir: string,
  opts: { only?: DatasetName[]; name?: string } = {},
): Promise<DialectDataset> {
  const { dbPath, dataDir } = await buildTestDataset(dir, opts)
  if (dialect === 'sqlite') return { config: { dbPath }, dbPath, dataDir, cleanup: async () => {} }
  const prefix = uniquePrefix(opts.name ?? 'routes')
  await ingestPostgres({ dataDir, databaseUrl: TEST_DATABASE_URL, schemaPrefix: prefix, only: opts.only })
  return {
    config: { dbPath, databaseUrl: TEST_DATABASE_URL, databaseSchema: prefix },
    dbPath,
    dataDir,
    cleanup: () => dropPrefix(prefix),
  }
}

/** Settings for a PostgreSQL server with nothing ingested (a fresh prefix), and its cleanup. */
export function emptyPostgres(): { config: ConfigInput; cleanup(): Promise<void> } {
  const prefix = uniquePrefix('empty')
  return {
    config: { databaseUrl: TEST_DATABASE_URL, databaseSchema: prefix },
    cleanup: () => dropPrefix(prefix),
  }
}

/**
 * A test server over the fixture dataset on `dialect` (load shedding off), in a temporary
 * directory of its own; `close` stops the server and removes what was built.
 */
export async function dialectServer(
  dialect: Dialect,
  setup?: (app: FastifyInstance) => void,
): Promise<{ server: TestServer; close(): Promise<void> }> {
  const tmp = await tempDir()
  const ds = await dialectDataset(dialect, tmp.dir)
  const server = await startTestServer({ ...ds.config, maxEventLoopDelayMs: 0 }, { setup })
  return {
    server,
    close: async () => {
      await server.close()
      await ds.cleanup()
      await tmp.cleanup()
    },
  }
}
