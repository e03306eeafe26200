import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { json } from '../helpers/http.js'
import { tempDir } from '../helpers/server.js'
import { tt, type UsersFixture, usersFixture } from '../users/helpers.js'

const PROBLEM = /^application\/problem\+json/

/** Mounts a tmpfs of `bytes` at `dir`; false where this machine cannot (not root, no mount). */
function mountTmpfs(dir: string, bytes: number): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** Fills the file system holding `dir` with one file, to the last byte. */
async function fill(dir: string): Promise<string> {
  const filler = path.join(dir, 'filler')
  const chunk = Buffer.alloc(64 * 1024, 1)
  await writeFile(filler, '')
  const { open } = await import('node:fs/promises')
  const fh = await open(filler, 'a')
  try {
    for (;;) await fh.write(chunk)
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOSPC') throw err
  } finally {
    await fh.close()
  }
  return filler
}

describe('a full disk under the user store', () => {
  let own: { dir: string; cleanup(): Promise<void> }
  let disk: string
  let mounted = false
  let f: UsersFixture

  before(async () => {
    own = await tempDir('marquee-disk-full-')
    disk = path.join(own.dir, 'disk')
    await mkdir(disk)
    mounted = mountTmpfs(disk, 4 * 1024 * 1024)
    if (!mounted) return
    // A deadline a busy machine cannot reach: this test is about the disk, not about time.
    f = await usersFixture(12_000, {
      config: async () => ({ usersDbPath: path.join(disk, 'users.db'), queryTimeoutMs: 60_000 }),
    })
  })
  after(async () => {
    await f?.close()
    if (mounted) execFileSync('umount', [disk])
    await own.cleanup()
  })

  it('answers 507 problem+json, keeps what was there, and writes again once space is freed', async (t) => {
    if (!mounted) return t.skip('this machine cannot mount a tmpfs (not root)')
    const { key } = await f.key('dora')
    const url = `${f.server.url}/me`
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' }
    const items = Array.from({ length: 10_000 }, (_, i) => ({ tconst: tt(i + 1), rating: (i % 10) + 1 }))
    const importAll = () =>
      fetch(`${url}/import`, { method: 'POST', headers, body: JSON.stringify({ items }) })
    const rate = await fetch(`${url}/ratings/${tt(7)}`, { method: 'PUT', headers, body: '{"rating":7}' })
    assert.equal(rate.status, 201)

    const filler = await fill(disk)
    const full = await importAll()
    assert.equal(full.status, 507, await full.clone().text())
    assert.match(full.headers.get('content-type') ?? '', PROBLEM)
    const problem = await json(full)
    assert.equal(problem.code, 'STORAGE_FULL')
    assert.equal(problem.instance, full.headers.get('x-request-id'))

    const ratings = await json(await fetch(`${url}/ratings?limit=100`, { headers }))
    assert.deepEqual(
      ratings.items.map((r: { tconst: string; rating: number }) => [r.tconst, r.rating]),
      [[tt(7), 7]],
      'the import wrote nothing; the earlier rating is intact',
    )

    await rm(filler)
    const again = await importAll()
    assert.equal(again.status, 200, await again.clone().text())
    assert.equal((await json(again)).items, 10_000)
  })
})
