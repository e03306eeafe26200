/**
 * A smoke test of the built CLI on whatever Node runs it: sample, ingest, serve, a few routes, a
 * write, SIGTERM. `scripts/node-smoke.sh 24` runs it under Node 24; it also runs on the machine's Node:
 *
 *   npm run build && node scripts/smoke.mjs
 *
 * Exits 0 when everything answered as expected, 1 (with what went wrong) otherwise.
 */
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const MAIN = path.join(ROOT, 'dist/src/cli/main.js')
const work = mkdtempSync(path.join(tmpdir(), 'marquee-smoke-'))
const log = (line) => console.log(`smoke (node ${process.version}): ${line}`)

/** Runs the CLI to completion; throws with its output unless it exits 0. */
function cli(...args) {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 300_000 })
  if (r.status !== 0)
    throw new Error(`marquee ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`)
  return r.stdout
}

let server
try {
  const { SQLITE_DRIVER_VERSION } = await import(path.join(ROOT, 'dist/src/db/sqlite/driver.js'))
  log(`better-sqlite3 ${SQLITE_DRIVER_VERSION}`)
  if (Number(process.versions.napi) >= 10) assert.match(SQLITE_DRIVER_VERSION, /^13\./)

  const data = path.join(work, 'imdb')
  const db = path.join(work, 'marquee.db')
  cli('sample', '--titles', '3000', '--out', data)
  cli('ingest', '--data', data, '--db', db)
  log('sample and ingest done')

  const users = path.join(work, 'users.db')
  const key = cli('keys', 'create', '--name', 'smoke', '--users-db', users).trim()
  server = spawn(
    process.execPath,
    [MAIN, 'serve', '--db', db, '--data', data, '--users-db', users, '--port', '0'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const exited = new Promise((resolve) => server.once('exit', (code, signal) => resolve({ code, signal })))
  const url = await new Promise((resolve, reject) => {
    let out = ''
    server.stdout.on('data', (d) => {
      out += d
      const m = /serving on (http:\/\/[^\s"]+)/.exec(out)
      if (m) resolve(m[1])
    })
    exited.then(() => reject(new Error(`the server exited before listening:\n${out}`)))
  })
  const get = async (p, init) => {
    const res = await fetch(`${url}${p}`, init)
    assert.ok(res.status < 300, `${p}: ${res.status} ${await res.clone().text()}`)
    return res.headers.get('content-type')?.includes('json') ? res.json() : res.text()
  }
  assert.equal(await get('/health'), 'OK')
  assert.equal((await get('/ready')).status, 'ready')
  const list = await get('/titles?limit=5&sort=votes')
  assert.equal(list.items.length, 5)
  const id = list.items[0].id
  assert.equal((await get(`/titles/${id}?include=credits,akas,episodes`)).id, id)
  await get(`/search?q=${encodeURIComponent(list.items[0].primaryTitle.slice(0, 4))}`)
  const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' }
  await get(`/me/ratings/${id}`, { method: 'PUT', headers: auth, body: JSON.stringify({ rating: 8 }) })
  assert.equal((await get('/me/ratings', { headers: auth })).items[0].rating, 8)
  log(`${url}: /health, /ready, /titles, a title with includes, /search, a rating written and read`)

  server.kill('SIGTERM')
  const { code, signal } = await exited
  assert.equal(code, 0, `the server exited with ${code ?? signal} after SIGTERM`)
  log('SIGTERM: clean exit; all good')
} catch (err) {
  console.error(err)
  process.exitCode = 1
} finally {
  server?.kill('SIGKILL')
  rmSync(work, { recursive: true, force: true })
}
