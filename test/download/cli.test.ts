import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import { mkdtemp, open, readFile, rm, stat, truncate } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { DATASETS, datasetSpec } from '../../src/datasets/catalogue.js'
import { CLI } from '../helpers/cli.js'
import { until } from '../helpers/wait.js'
import { datasetBody, datasetFiles, served, startDatasetServer, type TestServer } from './fixtures.js'

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** The real CLI in a child process, as `npm run marquee` runs it; `onSpawn` may signal it. */
function cli(
  args: string[],
  env: Record<string, string> = {},
  onSpawn?: (child: ReturnType<typeof spawn>) => void,
): Promise<Run> {
  return new Promise((resolve) => {
    const { MARQUEE_DOWNLOAD_BASE_URL: _, ...parentEnv } = process.env
    const child = spawn(process.execPath, [...CLI, 'download', ...args], {
      env: { ...parentEnv, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (d) => {
      stdout += d
    })
    child.stderr?.on('data', (d) => {
      stderr += d
    })
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    onSpawn?.(child)
  })
}

describe('marquee download (CLI)', () => {
  let dir: string
  let server: TestServer
  const basics = 'title.basics.tsv.gz'
  let failCrew = false
  let stallBasics = false

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'marquee-download-cli-'))
    const files = datasetFiles(3000)
    server = await startDatasetServer(files, (_req, res, { file }) => {
      if (file === 'title.crew.tsv.gz' && failCrew) {
        res.writeHead(404, 'Not Found').end()
        return 'handled'
      }
      if (file === basics && stallBasics) {
        const entry = files.get(basics)!
        res.writeHead(200, { etag: entry.etag, 'content-length': entry.body.length })
        res.write(entry.body.subarray(0, 50_000))
        return 'handled'
      }
      return undefined
    })
  })
  after(async () => {
    await server.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('exits 0 after downloading every file, and 0 again when all are unchanged (base URL from the environment)', async () => {
    const first = await cli(['--dir', dir, '--base-url', server.url])
    assert.equal(first.code, 0, first.stderr)
    assert.match(first.stdout, /7 downloaded, 0 unchanged, 0 failed/)
    for (const spec of DATASETS.values()) {
      assert.deepEqual(await readFile(path.join(dir, spec.file)), server.files.get(spec.file)!.body)
    }
    const second = await cli(['--dir', dir], { MARQUEE_DOWNLOAD_BASE_URL: server.url })
    assert.equal(second.code, 0, second.stderr)
    assert.match(second.stdout, /0 downloaded, 7 unchanged, 0 failed/)
  })

  it('exits 1 naming the file, the URL and what to do when a file fails', async () => {
    failCrew = true
    try {
      const r = await cli(['--dir', dir, '--base-url', server.url, '--only', 'title.crew,title.ratings'])
      assert.equal(r.code, 1)
      assert.match(
        r.stderr,
        new RegExp(
          `title\\.crew\\.tsv\\.gz failed: HTTP 404 Not Found from ${server.url}/title\\.crew\\.tsv\\.gz`,
        ),
      )
      assert.match(r.stderr, /check --base-url/)
      assert.match(r.stdout, /0 downloaded, 1 unchanged, 1 failed/)
    } finally {
      failCrew = false
    }
  })

  it('on a full disk exits 1 saying so for each file, and keeps the previous files', async (t) => {
    const disk = await mkdtemp(path.join(tmpdir(), 'marquee-download-full-'))
    const size = [...server.files.values()].reduce((n, f) => n + f.body.length, 0)
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size * 2 + 256 * 1024}`, 'tmpfs', disk], {
        stdio: 'ignore',
      })
    } catch {
      await rm(disk, { recursive: true, force: true })
      return t.skip('this machine cannot mount a tmpfs (not root)')
    }
    const before = server.files.get(basics)!
    try {
      assert.equal((await cli(['--dir', disk, '--base-url', server.url])).code, 0)
      // The disk fills up, but for 64 kB; then title.basics changes on the server.
      const filler = path.join(disk, 'filler')
      const fh = await open(filler, 'a')
      await fh.write(Buffer.alloc(4 * size, 1)).catch((err: { code?: string }) => {
        if (err.code !== 'ENOSPC') throw err
      })
      await fh.close()
      await truncate(filler, (await stat(filler)).size - 64 * 1024)
      const next = served(datasetBody(datasetSpec('title.basics'), 5000), new Date('2026-03-01T00:00:00Z'))
      server.files.set(basics, next)
      const r = await cli(['--dir', disk, '--only', 'title.basics', '--base-url', server.url])
      assert.equal(r.code, 1, r.stderr)
      assert.match(r.stderr, /title\.basics\.tsv\.gz failed: .*(ENOSPC|no space)/i)
      assert.match(r.stderr, /disk has free space\. The previous file is kept/)
      assert.deepEqual(await readFile(path.join(disk, basics)), before.body)
      // Not a byte left: even the lock file cannot be made, and the message says so.
      const more = await open(filler, 'a')
      await more.write(Buffer.alloc(128 * 1024, 1)).catch((err: { code?: string }) => {
        if (err.code !== 'ENOSPC') throw err
      })
      await more.close()
      const none = await cli(['--dir', disk, '--only', 'title.basics', '--base-url', server.url])
      assert.equal(none.code, 1, none.stderr)
      assert.match(none.stderr, /cannot create .*\.download\.lock: ENOSPC/)
      assert.match(none.stderr, /disk has free space; no file was changed/)
      assert.deepEqual(await readFile(path.join(disk, basics)), before.body)
    } finally {
      server.files.set(basics, before)
      execFileSync('umount', [disk])
      await rm(disk, { recursive: true, force: true })
    }
  })

  it('exits 2 on a base URL that is not http(s)', async () => {
    const r = await cli(['--dir', dir, '--base-url', 'ftp://example.com'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /invalid setting --base-url: expected an http\(s\) URL/)
  })

  it('exits 130 on SIGINT and keeps the .part for the next run', async () => {
    const fresh = await mkdtemp(path.join(tmpdir(), 'marquee-download-cli-'))
    stallBasics = true
    try {
      const part = path.join(fresh, `${basics}.part`)
      const r = await cli(
        ['--dir', fresh, '--base-url', server.url, '--only', 'title.basics'],
        {},
        (child) => {
          until(async () => ((await stat(part).catch(() => null))?.size ?? 0) >= 50_000, 'the .part').then(
            () => child.kill('SIGINT'),
            () => child.kill('SIGKILL'),
          )
        },
      )
      assert.equal(r.code, 130, r.stderr)
      assert.match(r.stderr, /interrupted/)
      assert.equal((await stat(part)).size, 50_000)
    } finally {
      stallBasics = false
      await rm(fresh, { recursive: true, force: true })
    }
  })
})
