import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import path from 'node:path'
import { describe, it } from 'node:test'
import { CLI } from '../helpers/cli.js'
import { tempDir } from '../helpers/server.js'

interface Run {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Runs the real CLI in a child process (compiled, or through tsx: see helpers/cli.ts). */
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...CLI, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      stdout += d
    })
    child.stderr.on('data', (d) => {
      stderr += d
    })
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
}

describe('marquee CLI', () => {
  it('prints help for the program and for every subcommand, exit 0', async () => {
    const top = await cli(['--help'])
    assert.equal(top.code, 0)
    for (const sub of ['serve', 'ingest', 'download', 'update', 'sample']) {
      assert.match(top.stdout, new RegExp(`\\b${sub}\\b`))
      const r = await cli([sub, '--help'])
      assert.equal(r.code, 0, `${sub} --help`)
      assert.match(r.stdout, new RegExp(`Usage: marquee ${sub}`))
    }
    const serve = await cli(['serve', '--help'])
    for (const flag of ['--host', '--port', '--db', '--data', '--require-api-key'])
      assert.match(serve.stdout, new RegExp(flag))
  })

  it('fails with exit 2 and a clear message on an unknown flag', async () => {
    const r = await cli(['serve', '--bogus'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /unknown option '--bogus'/)
  })

  it('fails with exit 2 naming the setting on a bad value, from a flag or the environment', async () => {
    const flag = await cli(['serve', '--port', 'abc'])
    assert.equal(flag.code, 2)
    assert.match(flag.stderr, /invalid setting --port: expected a whole number, got "abc"/)
    const env = await cli(['serve'], { MARQUEE_PORT: '99999' })
    assert.equal(env.code, 2)
    assert.match(env.stderr, /MARQUEE_PORT: must be at most 65535/)
    const only = await cli(['ingest', '--only', 'title.nope'])
    assert.equal(only.code, 2)
    assert.match(only.stderr, /unknown dataset "title.nope"/)
  })

  it('serve with no database builds the bundled sample after it starts listening, then shuts down on SIGTERM', {
    timeout: 300_000,
  }, async () => {
    const { dir, cleanup } = await tempDir()
    let child: ChildProcess | undefined
    try {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        MARQUEE_DB: path.join(dir, 'marquee.db'),
        MARQUEE_SAMPLE_DIR: path.join(dir, 'sample'),
        MARQUEE_POOL_SIZE: '1',
        // Load shedding off, as in every test server: a busy machine's event-loop delay would make
        // /ready a 503 OVERLOADED.
        MARQUEE_MAX_EVENT_LOOP_DELAY_MS: '0',
      }
      delete env.MARQUEE_DATA
      child = spawn(process.execPath, [...CLI, 'serve', '--port', '0'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env,
      })
      let out = ''
      const server = child
      const url = await new Promise<string>((resolve, reject) => {
        server.stdout?.on('data', (d) => {
          out += d
          const m = /serving on (http:\/\/[^\s"]+)/.exec(out)
          if (m) resolve(m[1])
        })
        server.on('close', () => reject(new Error(`server exited early: ${out}`)))
      })
      // Listening before the dataset exists: liveness yes, readiness not yet.
      assert.equal((await fetch(`${url}/health`)).status, 200)
      // The build runs at a lower CPU priority than the event loop: on a busy machine it may take
      // minutes, so wait for the server to say the dataset is loaded, not for a fixed time.
      await new Promise<void>((resolve, reject) => {
        const check = () => {
          if (/"dataset ready"/.test(out)) resolve()
        }
        check()
        server.stdout?.on('data', check)
        server.on('close', () => reject(new Error(`server exited before the dataset was ready: ${out}`)))
      })
      const ready = await fetch(`${url}/ready`)
      assert.equal(ready.status, 200, out)
      const body = (await ready.json()) as { datasets: string[] }
      assert.equal(body.datasets.length, 7)
      const closed = new Promise<number | null>((resolve) => server.on('close', (code) => resolve(code)))
      server.kill('SIGTERM')
      assert.equal(await closed, 0)
      assert.match(out, /generated the bundled sample dataset/)
      assert.match(out, /shutting down/)
    } finally {
      child?.kill('SIGKILL')
      await cleanup()
    }
  })

  it('serve fails with exit 65 when an explicit data directory holds no IMDb files', async () => {
    const { dir, cleanup } = await tempDir()
    try {
      const r = await cli(['serve', '--port', '0', '--data', dir, '--db', path.join(dir, 'x.db')])
      assert.equal(r.code, 65)
      assert.match(r.stderr, /does not hold the seven IMDb \.tsv\.gz files; run `marquee download/)
    } finally {
      await cleanup()
    }
  })
})
