import assert from 'node:assert/strict'
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFile, mkdir, readdir, readFile, rename, stat } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { generateSample } from '../../src/datasets/sample/generator.js'
import { readBase } from '../../src/update/index.js'
import { CLI } from '../helpers/cli.js'
import { tempDir } from '../helpers/server.js'
import { until } from '../helpers/wait.js'
import { mutateDataset } from './mutate.js'

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs the real CLI in a child process (compiled, or through tsx: see helpers/cli.ts). */
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const e: NodeJS.ProcessEnv = { ...process.env, MARQUEE_POOL_SIZE: '1', ...env }
    if (!('MARQUEE_DATA' in env)) delete e.MARQUEE_DATA
    delete e.MARQUEE_DOWNLOAD_BASE_URL
    const child = spawn(process.execPath, [...CLI, ...args], {
      env: e,
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
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** A mirror of the IMDb dataset directory serving `dir`'s files, with ETags (conditional requests). */
async function mirror(dir: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const file = path.join(dir, path.basename(req.url ?? ''))
    readFile(file).then(
      (bytes) => {
        const etag = `"${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}"`
        if (req.headers['if-none-match'] === etag) {
          res.writeHead(304, { etag }).end()
          return
        }
        res
          .writeHead(200, { etag, 'content-length': bytes.length, 'content-type': 'application/gzip' })
          .end(bytes)
      },
      () => res.writeHead(404).end(),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }
}

let root: string
let cleanup: () => Promise<void>
let a: string
let b: string
let db: string

before(async () => {
  ;({ dir: root, cleanup } = await tempDir('marquee-update-cli-'))
  a = path.join(root, 'a')
  b = path.join(root, 'b')
  await generateSample({ titles: 2000, out: a, workers: 0 })
  await mutateDataset(a, b, { rate: 0.02, seed: 4, level: 1 })
  db = path.join(root, 'db', 'marquee.db')
})
after(async () => cleanup?.())

describe('marquee update (command line)', () => {
  it('builds from --data files without downloading, then downloads new files and applies only the changes', async () => {
    const first = await cli(['update', '--db', db, '--data', a])
    assert.equal(first.code, 0, first.stderr)
    assert.match(first.stderr, /rebuilding in full: there is no database/)
    assert.match(first.stdout, /ingest finished/)
    const built = readBase(db)!.generation
    await copyFile(db, path.join(root, 'built-from-a.db'))

    const { url, server } = await mirror(b)
    try {
      const data = path.join(root, 'downloads')
      const second = await cli(['update', '--db', db, '--base-url', url], { MARQUEE_DATA: data })
      assert.equal(second.code, 0, second.stderr)
      assert.match(
        second.stdout,
        /refreshed in .* s: generation .* -> .* \(only the changed rows were applied\)/,
      )
      for (const file of ['title.basics', 'title.principals', 'name.basics']) {
        assert.match(
          second.stdout,
          new RegExp(`^${file.replace('.', '\\.')} +[\\d,]+ +[\\d,]+ +[\\d,]+ +[\\d,]+$`, 'm'),
        )
      }
      assert.notEqual(readBase(db)!.generation, built)

      // Nothing new on the mirror (304 for every file): nothing to do.
      const third = await cli(['update', '--db', db, '--base-url', url], { MARQUEE_DATA: data })
      assert.equal(third.code, 0, third.stderr)
      assert.match(third.stdout, /database is up to date/)
    } finally {
      server.close()
    }
  })

  it('on a full disk fails naming the disk and what to do, and leaves the served database as it was', async (t) => {
    const disk = path.join(root, 'full')
    await mkdir(disk, { recursive: true })
    const served = path.join(disk, 'marquee.db')
    const source = path.join(root, 'built-from-a.db')
    // Room for the database and a tenth of another: the refresh's working copy cannot fit.
    const room = Math.ceil(((await stat(source)).size * 1.1) / 4096) * 4096 + 64 * 1024
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${room}`, 'tmpfs', disk], { stdio: 'ignore' })
    } catch {
      return t.skip('this machine cannot mount a tmpfs (not root)')
    }
    try {
      await copyFile(source, served)
      const before = createHash('sha256')
        .update(await readFile(served))
        .digest('hex')
      const run = await cli(['update', '--db', served, '--data', b])
      assert.equal(run.code, 1, run.stderr)
      assert.match(run.stderr, /marquee update: the disk is full/)
      assert.match(run.stderr, /free some space, or pass --db a path on a larger disk/)
      assert.equal(
        createHash('sha256')
          .update(await readFile(served))
          .digest('hex'),
        before,
      )
      const files = await readdir(disk, { recursive: true, withFileTypes: true })
      assert.deepEqual(
        files.filter((f) => f.isFile() && f.name !== 'marquee.db').map((f) => f.name),
        [],
        'nothing half-written is left beside it',
      )
    } finally {
      execFileSync('umount', [disk])
    }
  })

  it('exits 65 naming the file when a file is missing', async () => {
    const empty = path.join(root, 'empty')
    await mkdir(empty, { recursive: true })
    const missing = await cli(['update', '--db', db, '--data', empty])
    assert.equal(missing.code, 65)
    assert.match(missing.stderr, /title\.\w+\.tsv\.gz/)
  })

  it('serve loads the new database on SIGHUP', async () => {
    const served = path.join(root, 'served', 'marquee.db')
    await mkdir(path.dirname(served), { recursive: true })
    await copyFile(path.join(root, 'built-from-a.db'), served)
    const before = readBase(served)!.generation
    const after = readBase(db)!.generation
    let child: ChildProcess | undefined
    try {
      // Load shedding off, as in every test server: the boot's own event-loop delay could make the
      // first /ready a 503 OVERLOADED on a busy machine.
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        MARQUEE_POOL_SIZE: '1',
        MARQUEE_MAX_EVENT_LOOP_DELAY_MS: '0',
      }
      delete env.MARQUEE_DATA
      child = spawn(process.execPath, [...CLI, 'serve', '--port', '0', '--db', served, '--watch-db', '0'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env,
      })
      const server = child
      let out = ''
      const url = await new Promise<string>((resolve, reject) => {
        server.stdout?.on('data', (d) => {
          out += d
          const m = /serving on (http:\/\/[^\s"]+)/.exec(out)
          if (m) resolve(m[1])
        })
        server.on('close', () => reject(new Error(`server exited early: ${out}`)))
      })
      const generation = async () =>
        ((await (await fetch(`${url}/ready`)).json()) as { generation: string }).generation
      // The generation served (the test's timeout bounds the wait).
      let first = await generation()
      while (first === undefined) {
        await new Promise((r) => setTimeout(r, 50))
        first = await generation()
      }
      assert.equal(first, before, out)
      await copyFile(db, `${served}.new`)
      await rename(`${served}.new`, served)
      server.kill('SIGHUP')
      await until(async () => (await generation()) === after, 'the new generation after SIGHUP').catch(
        () => {},
      )
      assert.equal(await generation(), after, out)
      // The log line may reach our pipe after /ready already answers the new generation.
      const logged = () =>
        out
          .split('\n')
          .some((l) => l.includes('dataset generation loaded') && l.includes('"reason":"SIGHUP"'))
      await until(logged, 'the log line').catch(() => {})
      assert.ok(logged(), out)
      const closed = new Promise<number | null>((resolve) => server.on('close', (code) => resolve(code)))
      server.kill('SIGTERM')
      assert.equal(await closed, 0)
    } finally {
      child?.kill('SIGKILL')
    }
  })
})
