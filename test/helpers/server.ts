import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import { type BuildAppOptions, buildApp } from '../../src/app.js'
import { type ConfigInput, loadConfig } from '../../src/config.js'
import { hashApiKey } from '../../src/users/api-keys.js'

export interface TestServer {
  app: FastifyInstance
  url: string
  close(): Promise<void>
}

/**
 * Builds the real app on port 0 and listens. `setup` runs before listen (to add probe routes).
 * Environment variables are ignored so the developer's MARQUEE_* settings cannot change a test,
 * every file the server may write defaults into its own temporary directory (never ./data), and
 * load shedding is off unless a test asks for it.
 */
export async function startTestServer(
  input: ConfigInput = {},
  opts: BuildAppOptions & { setup?: (app: FastifyInstance) => void | Promise<void> } = {},
): Promise<TestServer> {
  const own = await tempDir('marquee-server-')
  const config = loadConfig(
    {
      host: '127.0.0.1',
      port: 0,
      poolSize: 2,
      logLevel: 'silent',
      dbPath: path.join(own.dir, 'dataset.db'),
      usersDbPath: path.join(own.dir, 'users.db'),
      dataDir: path.join(own.dir, 'imdb'),
      sampleDir: path.join(own.dir, 'sample'),
      // Load shedding would turn a busy CI machine into flaky 503s; its own test turns it on.
      maxEventLoopDelayMs: 0,
      // Query workers run at a lower CPU priority: on a machine kept busy by other processes a plain
      // lookup can take seconds. Tests of deadlines set their own.
      queryTimeoutMs: 60_000,
      ...input,
    },
    {},
  )
  const app = await buildApp(config, {
    logger: opts.logger ?? false,
    users: opts.users,
    dataset: opts.dataset,
    rowReaders: opts.rowReaders,
  })
  await opts.setup?.(app)
  const url = await app.listen({ host: config.host, port: config.port })
  return {
    app,
    url,
    close: async () => {
      await app.close()
      await own.cleanup()
    },
  }
}

/** A fresh temporary directory, removed by the returned cleanup. */
export async function tempDir(
  prefix = 'marquee-test-',
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix))
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) }
}

/** Writes an --api-keys file in `dir` for `keys` (each stored as its SHA-256) and returns its path. */
export async function writeKeysFile(
  dir: string,
  keys: { key: string; name: string; role: 'user' | 'analyst' | 'admin' }[],
): Promise<string> {
  const file = path.join(dir, 'keys.json')
  await writeFile(
    file,
    JSON.stringify(keys.map(({ key, name, role }) => ({ name, role, sha256: hashApiKey(key) }))),
  )
  return file
}
