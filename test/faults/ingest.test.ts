import assert from 'node:assert/strict'
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { copyFile, cp, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { gzipSync } from 'node:zlib'
import Database from '../../src/db/sqlite/driver.js'
import { ingest } from '../../src/ingest/index.js'
import { CLI } from '../helpers/cli.js'
import { buildTestDataset } from '../helpers/dataset.js'
import { tempDir } from '../helpers/server.js'

/**
 * Faults during `marquee ingest` (the real CLI in a child process): killed with SIGKILL midway, a
 * truncated .tsv.gz, a full disk. Each time the database being served stays exactly as it was
 * (same bytes, same generation, integrity_check ok), the failure is clear and names its cause,
 * and the next ingest succeeds.
 */

interface Run {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

function ingestCli(
  dataDir: string,
  dbPath: string,
  wrap: string[] = [],
): { child: ChildProcess; done: Promise<Run> } {
  const args = [...CLI, 'ingest', '--data', dataDir, '--db', dbPath]
  const [cmd, argv] =
    wrap.length > 0 ? [wrap[0], [...wrap.slice(1), process.execPath, ...args]] : [process.execPath, args]
  const child = spawn(cmd, argv, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MARQUEE_LOG_LEVEL: 'warn' },
  })
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (d) => {
    stdout += d
  })
  child.stderr?.on('data', (d) => {
    stderr += d
  })
  const done = new Promise<Run>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  )
  return { child, done }
}

/** What must not change about the served database: its bytes, generation and integrity. */
async function snapshot(dbPath: string): Promise<{ bytes: Buffer; generation: string }> {
  const bytes = await readFile(dbPath)
  const db = new Database(dbPath, { readonly: true })
  try {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok')
    const row = db.prepare(`SELECT value FROM meta WHERE key = 'generation'`).get() as { value: string }
    return { bytes, generation: row.value }
  } finally {
    db.close()
  }
}

async function assertIntact(dbPath: string, before: { bytes: Buffer; generation: string }): Promise<void> {
  const now = await snapshot(dbPath)
  assert.equal(now.generation, before.generation, 'same generation')
  assert.ok(now.bytes.equals(before.bytes), 'the served database is byte-identical')
}

const buildFiles = async (dir: string) => (await readdir(dir)).filter((n) => n.includes('.building-'))

/** title.principals with `rows` rows: enough work that an ingest can be caught midway. */
function bigPrincipals(rows: number): Buffer {
  const lines = ['tconst\tordering\tnconst\tcategory\tjob\tcharacters']
  for (let i = 0; i < rows / 10; i++) {
    const t = String(9_000_000 + i).padStart(7, '0')
    for (let o = 1; o <= 10; o++) {
      lines.push(
        `tt${t}\t${o}\tnm${String(1_000_000 + ((i * 7 + o) % 500_000)).padStart(7, '0')}\tactor\t\\N\t["Role ${o}"]`,
      )
    }
  }
  return gzipSync(`${lines.join('\n')}\n`, { level: 1 })
}

// The three runs are independent (each its own directory): they overlap, to keep the suite quick.
describe('ingest faults', { concurrency: true }, () => {
  let dir: string
  let cleanup: () => Promise<void>
  let dataDir: string
  /** The database the runs start from: each test copies it into its own directory. */
  let served: string

  before(async () => {
    ;({ dir, cleanup } = await tempDir('marquee-faults-'))
    const ds = await buildTestDataset(dir)
    dataDir = ds.dataDir
    served = ds.dbPath
  })
  after(() => cleanup())

  it('SIGKILL midway leaves the served database intact, and the next ingest succeeds and clears the leftover', async () => {
    const own = path.join(dir, 'killed')
    const slowData = path.join(own, 'imdb')
    await cp(dataDir, slowData, { recursive: true })
    await writeFile(path.join(slowData, 'title.principals.tsv.gz'), bigPrincipals(600_000))
    const db = path.join(own, 'marquee.db')
    await copyFile(served, db)
    const before = await snapshot(db)

    const { child, done } = ingestCli(slowData, db)
    const building = `${db}.building-${child.pid}`
    // Midway: the build file exists and is being written.
    const started = Date.now()
    while (!(existsSync(building) && (await stat(building).catch(() => null))?.size)) {
      assert.ok(Date.now() - started < 60_000, 'the ingest started building')
      assert.equal(child.exitCode, null, 'the ingest is still running')
      await sleep(5)
    }
    child.kill('SIGKILL')
    const killed = await done
    assert.equal(killed.signal, 'SIGKILL')
    await assertIntact(db, before)
    assert.ok((await buildFiles(own)).length > 0, 'the killed ingest left its build file behind')

    // The next ingest (in this process: quicker than another CLI start, same code path).
    await ingest({ dataDir, dbPath: db })
    const after = await snapshot(db)
    assert.notEqual(after.generation, before.generation, 'a new generation was swapped in')
    assert.deepEqual(await buildFiles(own), [], 'the leftover build files are gone')
  })

  it('a truncated .tsv.gz fails with exit 65 naming the file, and leaves the served database', async () => {
    const own = path.join(dir, 'truncated')
    const broken = path.join(own, 'imdb')
    await cp(dataDir, broken, { recursive: true })
    const file = path.join(broken, 'title.akas.tsv.gz')
    const gz = await readFile(file)
    await writeFile(file, gz.subarray(0, gz.length - 12))
    const db = path.join(own, 'marquee.db')
    await copyFile(served, db)
    const before = await snapshot(db)

    const run = await ingestCli(broken, db).done
    assert.equal(run.code, 65, run.stderr)
    assert.ok(run.stderr.includes(file), `the error names ${file}: ${run.stderr}`)
    assert.match(run.stderr, /truncated|not a valid gzip/)
    await assertIntact(db, before)
    assert.deepEqual(await buildFiles(own), [])
  })

  it('a full disk fails the ingest cleanly, and leaves the served database', async (t) => {
    const disk = path.join(dir, 'disk')
    await mkdir(disk)
    const db = path.join(disk, 'marquee.db')
    const size = (await stat(served)).size
    // Room for the served database and a third of another: the new build cannot fit.
    const room = Math.ceil((size * 4) / 3 / 4096) * 4096
    let wrap: string[] = []
    let mounted = false
    try {
      // FAULTS_NO_TMPFS=1 tries the fallback on a machine where mounting works.
      if (process.env.FAULTS_NO_TMPFS) throw new Error('no tmpfs')
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${room}`, 'tmpfs', disk], { stdio: 'ignore' })
      mounted = true
      t.diagnostic(`a ${room}-byte tmpfs`)
    } catch {
      // Not root (or no mount in this container): a file-size limit stands in for the full disk.
      wrap = ['bash', '-c', `ulimit -f ${Math.floor(size / 3 / 1024)}; exec "$@"`, 'ulimited']
      t.diagnostic('no tmpfs: ulimit -f instead (EFBIG)')
    }
    try {
      await copyFile(served, db)
      const before = await snapshot(db)
      const run = await ingestCli(dataDir, db, wrap).done
      assert.notEqual(run.code, 0)
      assert.equal(run.signal, null, 'the ingest exited, it did not crash')
      // ENOSPC or SQLITE_FULL on a full file system; with the file-size limit SQLite may only say
      // disk I/O error.
      const message = run.stderr.split('\n').find((l) => l.startsWith('marquee ingest:')) ?? run.stderr
      assert.match(message, mounted ? /the disk is full: .*--db/ : /disk I\/O error|full/, run.stderr)
      t.diagnostic(message)
      await assertIntact(db, before)
      assert.deepEqual(await buildFiles(disk), [], 'the partial build was removed')
    } finally {
      if (mounted) execFileSync('umount', [disk])
    }
  })
})
