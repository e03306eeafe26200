import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import path from 'node:path'
import { describe, it } from 'node:test'
import { tempDir } from '../helpers/server.js'

const MAIN = path.resolve('src/cli/main.ts')

interface Run {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Runs the real CLI in a child process (through tsx, as `npm run marquee` does). */
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
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

  it('serve shuts down gracefully on SIGTERM with exit 0', async () => {
    const { dir, cleanup } = await tempDir()
    try {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', MAIN, 'serve', '--port', '0', '--db', path.join(dir, 'none.db'), '--data', dir],
        { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MARQUEE_POOL_SIZE: '1' } },
      )
      let out = ''
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d) => {
          out += d
          const m = /serving on (http:\/\/[^\s"]+)/.exec(out)
          if (m) resolve(m[1])
        })
        child.on('close', () => reject(new Error(`server exited early: ${out}`)))
      })
      assert.equal((await fetch(`${url}/health`)).status, 200)
      const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
      child.kill('SIGTERM')
      assert.equal(await closed, 0)
      assert.match(out, /shutting down/)
    } finally {
      await cleanup()
    }
  })
})
