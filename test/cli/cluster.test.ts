import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { get } from 'node:http'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { CLI } from '../helpers/cli.js'
import { FIXTURE } from '../helpers/dataset.js'
import { DIALECTS, type DialectDataset, dialectDataset, dialectOptions } from '../helpers/dialects.js'
import { tempDir } from '../helpers/server.js'

interface LogLine {
  msg: string
  workerPid?: number
  worker?: number
  url?: string
  [k: string]: unknown
}

/** `marquee serve --workers N` in a child process, its JSON log lines collected. */
class Cluster {
  readonly lines: LogLine[] = []
  readonly proc: ChildProcess
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  #waiters: (() => void)[] = []

  constructor(args: string[]) {
    const env = { ...process.env }
    for (const k of Object.keys(env)) if (k.startsWith('MARQUEE_')) delete env[k]
    this.proc = spawn(process.execPath, [...CLI, 'serve', ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let buffered = ''
    this.proc.stdout!.on('data', (d) => {
      buffered += d
      let nl = buffered.indexOf('\n')
      while (nl >= 0) {
        const line = buffered.slice(0, nl)
        buffered = buffered.slice(nl + 1)
        try {
          this.lines.push(JSON.parse(line) as LogLine)
        } catch {
          // Not a log line.
        }
        for (const w of this.#waiters.splice(0)) w()
        nl = buffered.indexOf('\n')
      }
    })
    this.proc.stderr!.on('data', () => {})
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })))
  }

  /** The log lines matching `pred`, waiting until there are `n` of them. */
  async waitFor(pred: (l: LogLine) => boolean, n = 1, ms = 30_000): Promise<LogLine[]> {
    const until = Date.now() + ms
    for (;;) {
      const found = this.lines.filter(pred)
      if (found.length >= n) return found
      assert.ok(Date.now() < until, `waited for log lines: ${JSON.stringify(this.lines.slice(-5))}`)
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve)
        setTimeout(resolve, 200)
      })
    }
  }
}

/** GET on a fresh connection (never a kept-alive socket to a worker that died). */
function status(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    // A bound on each request: a connection that is never answered is a failure, not a hang.
    get(url, { agent: false, timeout: 30_000 }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
      .on('timeout', function (this: import('node:http').ClientRequest) {
        this.destroy(new Error(`no answer from ${url} within 30 s`))
      })
      .on('error', reject)
  })
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

for (const dialect of DIALECTS)
  describe(`marquee serve --workers (${dialect})`, dialectOptions(dialect), () => {
    let ds: DialectDataset
    let cleanup: () => Promise<void>
    let cluster: Cluster

    before(async () => {
      const tmp = await tempDir()
      ds = await dialectDataset(dialect, tmp.dir, { name: 'cluster' })
      const settings = Object.entries(ds.config).flatMap(([k, v]) => [
        { dbPath: '--db', databaseUrl: '--database-url', databaseSchema: '--database-schema' }[k] as string,
        String(v),
      ])
      cluster = new Cluster([
        '--workers',
        '2',
        '--port',
        '0',
        '--users-db',
        path.join(tmp.dir, 'users.db'),
        '--pool-size',
        '1',
        '--log-level',
        'info',
        '--max-event-loop-delay',
        '0',
        ...settings,
      ])
      cleanup = async () => {
        if (cluster.proc.exitCode === null) cluster.proc.kill('SIGKILL')
        await ds.cleanup()
        await tmp.cleanup()
      }
    })
    after(() => cleanup())

    it('runs N processes on one port, replaces a crashed one, restarts them all on SIGUSR2, stops them on SIGTERM', {
      timeout: 300_000,
    }, async () => {
      const started = await cluster.waitFor((l) => l.msg === 'worker started', 2)
      const [serving] = await cluster.waitFor((l) => typeof l.url === 'string' && /workers$/.test(l.msg))
      const url = serving.url as string
      // Every worker answers (connections go round the workers).
      for (let i = 0; i < 6; i++) {
        assert.equal(await status(`${url}/health`), 200)
        assert.equal(await status(`${url}/titles/${FIXTURE.godfather}`), 200)
      }
      const pids = started.map((l) => l.workerPid as number)

      // A worker crashes: the port keeps answering, and a replacement starts.
      process.kill(pids[0], 'SIGKILL')
      await cluster.waitFor((l) => l.msg === 'worker died; replacing it')
      for (let i = 0; i < 10; i++) assert.equal(await status(`${url}/health`), 200)
      const now = await cluster.waitFor((l) => l.msg === 'worker started', 3)
      const replacement = now[2].workerPid as number
      assert.ok(!pids.includes(replacement))
      assert.ok(alive(replacement))
      assert.equal(await status(`${url}/titles/${FIXTURE.amelie}`), 200)

      // SIGUSR2: a rolling restart replaces both workers one at a time; the port never stops answering.
      const failures: string[] = []
      let probing = true
      const probe = (async () => {
        while (probing) {
          const s = await status(`${url}/health`).catch((err: Error) => err.message)
          if (s !== 200) failures.push(String(s))
          // Paced: a probe back to back with the next would take the cores the new workers boot on.
          await sleep(5)
        }
      })()
      cluster.proc.kill('SIGUSR2')
      await cluster.waitFor((l) => l.msg === 'rolling restart done')
      probing = false
      await probe
      assert.deepEqual(failures, [], 'every request during the rolling restart was answered')
      const fresh = (await cluster.waitFor((l) => l.msg === 'worker started', 5))
        .slice(3)
        .map((l) => l.workerPid as number)
      assert.ok(!alive(pids[1]) && !alive(replacement), 'the old workers are gone')
      assert.ok(fresh.every(alive), 'the new workers serve')
      assert.equal(await status(`${url}/titles/${FIXTURE.godfather}`), 200)

      // SIGTERM: every worker finishes and exits, then the primary, with 0.
      cluster.proc.kill('SIGTERM')
      const { code } = await cluster.exited
      assert.equal(code, 0, JSON.stringify(cluster.lines.filter((l) => /stop|died|shut/.test(l.msg))))
      assert.ok(!fresh.some(alive), 'no worker left behind')
      // Two retired by the rolling restart, two at the end.
      assert.equal((await cluster.waitFor((l) => l.msg === 'worker stopped', 4)).length, 4)
    })
  })
