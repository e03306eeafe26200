import cluster, { type Worker } from 'node:cluster'
import { existsSync } from 'node:fs'
import { pino } from 'pino'
import { type Config, loadConfig } from '../config.js'
import { servedGeneration } from '../db/postgres/generations.js'
import { loggerOptions } from '../logger.js'
import { handleSignals, startServer } from '../server.js'
import { reportFailure } from './errors.js'
import { EXIT } from './exit-codes.js'
import { settingsFrom } from './options.js'
import { buildFirstDataset, datasetSource } from './prepare-dataset.js'

/**
 * `marquee serve --workers N`: N server processes on one port (node:cluster: the primary accepts
 * connections and hands them to the workers in turn). Each worker is a whole marquee server with
 * its own connections (SQLite worker threads, or a PostgreSQL pool), so a crash takes down one
 * worker and the port keeps answering from the others.
 *
 * The primary serves nothing itself:
 * - it builds the first dataset when there is none (the workers answer /health at once, and 503
 *   on /ready until the primary tells them the dataset is ready);
 * - it replaces a worker that exits without being asked to, after a delay that doubles while
 *   workers keep dying young (a crash loop must not spin the CPU), up to 30 s;
 * - on SIGTERM or SIGINT it asks every worker to shut down gracefully (each finishes its in-flight
 *   requests within --shutdown-timeout), waits for them, and exits 0 when all stopped cleanly;
 * - on SIGUSR2 it restarts the workers one at a time (a rolling restart, say after an upgrade of
 *   marquee): a new worker first, and only once it listens (its dataset loaded), the old one
 *   drains and stops; if a new worker fails to start, the old ones stay and the restart stops.
 */

/** Messages from the primary to its workers. */
type PrimaryMessage = { type: 'dataset-ready' }

/** A worker younger than this when it dies counts as crashing at start. */
const YOUNG_MS = 5000
const MAX_RESTART_DELAY_MS = 30_000

export default async function serveCluster(opts: Record<string, unknown>): Promise<number> {
  const config = loadConfig(settingsFrom(opts))
  return cluster.isPrimary ? primary(config, Number(opts.workers)) : worker(config)
}

async function primary(config: Config, count: number): Promise<number> {
  const log = pino(loggerOptions(config.logLevel))
  let needsDataset: boolean
  try {
    needsDataset = config.databaseUrl
      ? (await servedGeneration(config.databaseUrl, config.databaseSchema)) === null
      : !existsSync(config.dbPath)
  } catch (err) {
    return reportFailure('serve', err)
  }
  if (needsDataset) {
    // With no database, fail before forking when the configured data cannot make one.
    try {
      datasetSource(config)
    } catch (err) {
      return reportFailure('serve', err)
    }
  }

  let stopping = false
  let restartDelay = 500
  const started = new Map<Worker, number>()
  const fork = () => {
    const w = cluster.fork()
    started.set(w, Date.now())
    w.on('online', () => log.info({ worker: w.id, workerPid: w.process.pid }, 'worker started'))
    return w
  }
  const retired = new WeakSet<Worker>()
  cluster.on('exit', (w, code, signal) => {
    const age = Date.now() - (started.get(w) ?? 0)
    started.delete(w)
    if (stopping || retired.has(w)) {
      log.info({ worker: w.id, workerPid: w.process.pid, code, signal }, 'worker stopped')
      return
    }
    restartDelay = age < YOUNG_MS ? Math.min(restartDelay * 2, MAX_RESTART_DELAY_MS) : 500
    log.warn(
      { worker: w.id, workerPid: w.process.pid, code, signal, restartInMs: restartDelay },
      'worker died; replacing it',
    )
    setTimeout(() => {
      if (!stopping) fork()
    }, restartDelay).unref()
  })
  for (let i = 0; i < count; i++) fork()
  // Logged once every first worker listens (the port answers from the first one on).
  let listening = 0
  const serving = new WeakSet<Worker>()
  cluster.on('listening', (w) => serving.add(w))
  const onListening = (_w: Worker, address: { address: string | null; port: number }) => {
    if (++listening < count) return
    cluster.removeListener('listening', onListening)
    const host = address.address ?? config.host
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`
    log.info({ workers: count, url }, `marquee serving on ${url} with ${count} workers`)
  }
  cluster.on('listening', onListening)

  const building = new AbortController()
  if (needsDataset) {
    buildFirstDataset(config, log, undefined, building.signal)
      .then((summary) => {
        log.info({ generation: summary.generation, ms: summary.durationMs }, 'dataset ready')
        for (const w of Object.values(cluster.workers ?? {}))
          w?.send({ type: 'dataset-ready' } satisfies PrimaryMessage)
      })
      .catch((err) => {
        if (!building.signal.aborted) log.error({ err }, 'could not build the dataset; /ready stays 503')
      })
    // A worker started after the build (a replacement) opens the database by itself.
  }

  return new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return
      stopping = true
      building.abort()
      log.info({ signal }, 'shutting down: workers finish their in-flight requests')
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined)
      let clean = true
      let left = workers.length
      if (left === 0) return resolve(EXIT.OK)
      // Beyond the workers' own shutdown timeout, they are killed.
      const force = setTimeout(() => {
        clean = false
        for (const w of workers) if (!w.isDead()) w.process.kill('SIGKILL')
      }, config.shutdownTimeoutMs + 5000)
      for (const w of workers) {
        w.once('exit', (code, signal) => {
          // Killed by our SIGTERM before it listened (still loading, before any handler): nothing lost.
          const unstarted = signal === 'SIGTERM' && !serving.has(w)
          if (code !== 0 && !unstarted) clean = false
          if (--left === 0) {
            clearTimeout(force)
            resolve(clean ? EXIT.OK : EXIT.FAILURE)
          }
        })
        w.process.kill('SIGTERM')
      }
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    let rolling = false
    process.on('SIGUSR2', () => {
      if (rolling || stopping) return
      rolling = true
      rollingRestart()
        .catch((err: Error) => log.error({ err }, 'rolling restart stopped; the old workers keep serving'))
        .finally(() => {
          rolling = false
        })
    })
    const rollingRestart = async () => {
      const old = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined)
      log.info({ workers: old.length }, 'rolling restart: replacing the workers one at a time')
      for (const w of old) {
        if (stopping) return
        const fresh = fork()
        await new Promise<void>((resolve, reject) => {
          const failed = () => reject(new Error(`the new worker ${fresh.id} exited before it listened`))
          fresh.once('exit', failed)
          fresh.once('listening', () => {
            fresh.off('exit', failed)
            resolve()
          })
        })
        if (w.isDead()) continue
        retired.add(w)
        const exited = new Promise((resolve) => w.once('exit', resolve))
        w.process.kill('SIGTERM')
        await exited
      }
      log.info('rolling restart done')
    }
    // SIGHUP: every worker loads a newer generation now (as `marquee serve` does).
    process.on('SIGHUP', () => {
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGHUP')
    })
  })
}

/** One server process: serves until SIGTERM/SIGINT, loads the dataset when the primary built it. */
async function worker(config: Config): Promise<number> {
  // Listen to the primary from the start: its message may come while the server starts.
  let pending: string | null = null
  let reload = (reason: string) => {
    pending = reason
  }
  process.on('message', (m: PrimaryMessage) => {
    if (m?.type === 'dataset-ready') reload('built')
  })
  // The primary forwards SIGHUP: load a newer generation now, as `marquee serve` does.
  process.on('SIGHUP', () => reload('SIGHUP'))
  // Stopped while starting (nothing accepted yet): leave at once, cleanly.
  const early = () => process.exit(EXIT.OK)
  process.once('SIGTERM', early)
  process.once('SIGINT', early)
  const server = await startServer(config)
  process.removeListener('SIGTERM', early)
  process.removeListener('SIGINT', early)
  const exit = new Promise<number>((resolve) => handleSignals(server, resolve))
  reload = (reason: string) => {
    server.app.dataset
      .reload(reason)
      .catch((err) => server.app.log.error({ err }, `${reason}: reload failed`))
  }
  if (pending) reload(pending)
  // The primary went away without stopping us (killed): stop too rather than serve unsupervised.
  const orphaned = () => {
    server.close().then(() => process.exit(EXIT.FAILURE))
  }
  process.once('disconnect', orphaned)
  const code = (await exit) === 0 ? EXIT.OK : EXIT.FAILURE
  // The IPC channel would keep this process alive: leave once the last log line is out.
  process.removeListener('disconnect', orphaned)
  setImmediate(() => process.exit(code))
  return code
}
