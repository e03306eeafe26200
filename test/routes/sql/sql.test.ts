import assert from 'node:assert/strict'
import { readdirSync, readlinkSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import {
  checkConsoleSql,
  jsonStringBytes,
  runConsoleSql,
  statementBody,
} from '../../../src/db/queries/sql-console.js'
import Database from '../../../src/db/sqlite/driver.js'
import { GET_MAX_CHARS, POST_MAX_CHARS } from '../../../src/routes/sql/index.js'
import { hashApiKey } from '../../../src/users/api-keys.js'
import { buildTestDataset, FIXTURE, swapDatabase } from '../../helpers/dataset.js'
import { dialectOptions, emptyPostgres } from '../../helpers/dialects.js'
import { json } from '../../helpers/http.js'
import { startTestServer, type TestServer, tempDir } from '../../helpers/server.js'
import { until } from '../../helpers/wait.js'

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type Json = any

const PROBLEM = /^application\/problem\+json/
// The runaway query's deadline, and every statement's: long enough for the child process (at a
// lower CPU priority) to answer a plain query on a machine kept busy by other processes.
const TIMEOUT_MS = 5000
const ROW_LIMIT = 50

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('the SQL console statement check (unit)', () => {
  it('accepts queries only, after leading comments', () => {
    assert.equal(statementBody('  -- a\n /* b */ select 1'), 'select 1')
    for (const ok of [
      'SELECT 1',
      'with x as (select 1) select * from x',
      'VALUES (1)',
      'explain query plan select 1',
    ]) {
      checkConsoleSql(ok)
    }
    for (const bad of [
      '',
      '-- only a comment',
      'DELETE FROM titles',
      'PRAGMA writable_schema=1',
      'ATTACH x AS y',
    ]) {
      assert.throws(() => checkConsoleSql(bad), { name: 'SqlRejectedError' }, bad)
    }
  })

  it('encodes the body where the statement runs, capped in UTF-8 bytes, never past the cap', () => {
    const db = new Database(':memory:')
    try {
      const body = (q: string, format: 'json' | 'csv', maxBytes = 1000) => {
        const r = runConsoleSql(db, q, { rowLimit: 10_000, maxBytes, format })
        const bytes = Buffer.concat(r.chunks)
        assert.ok(bytes.length <= maxBytes, `${bytes.length} bytes for a cap of ${maxBytes}`)
        return { ...r, text: bytes.toString('utf8') }
      }
      // 100 rows of ten two-byte characters: 1,000 characters but 2,400 bytes of rows.
      const wide = `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 100)
        SELECT 'éééééééééé' AS e FROM c`
      const j = body(wide, 'json')
      assert.equal(j.truncated, true)
      const parsed = JSON.parse(j.text)
      assert.deepEqual(parsed.columns, ['e'])
      assert.equal(parsed.rows.length, j.rows)
      assert.equal(parsed.truncated, true)
      assert.ok(j.rows > 30 && j.rows < 45, `${j.rows} rows`)
      const c = body(wide, 'csv')
      assert.equal(c.truncated, true)
      assert.equal(c.text.split('\r\n').length - 2, c.rows)
      // One value past the cap is never encoded: no rows, and the body still parses.
      const huge = body(`SELECT printf('%.*c', 5000, char(1)) AS x`, 'json')
      assert.deepEqual(JSON.parse(huge.text), { columns: ['x'], rows: [], truncated: true })
      // Measured before encoding: control characters take six bytes each as JSON.
      const escapes = body(`SELECT printf('%.*c', 100000, char(1)) AS x`, 'json', 300_000)
      assert.deepEqual(JSON.parse(escapes.text), { columns: ['x'], rows: [], truncated: true })
      for (const v of ['', 'a"b\\c', '\u0001\n\t', 'é€😀', '\ud800x', 'x\udc00']) {
        assert.equal(jsonStringBytes(v), Buffer.byteLength(JSON.stringify(v)), JSON.stringify(v))
      }
      const all = body('SELECT 1 AS a', 'json')
      assert.deepEqual(JSON.parse(all.text), { columns: ['a'], rows: [[1]], truncated: false })
    } finally {
      db.close()
    }
  })
})

describe('GET /sql (sqlite)', () => {
  let server: TestServer
  let off: TestServer
  let cleanup: () => Promise<void>
  let dbPath: string
  const sql = (
    q: string,
    key: string | null = 'analyst-key',
    init: { accept?: string; format?: string } = {},
  ) =>
    fetch(`${server.url}/sql?q=${encodeURIComponent(q)}${init.format ? `&format=${init.format}` : ''}`, {
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(init.accept ? { accept: init.accept } : {}),
      },
    })
  const ok = async (q: string, key?: string) => {
    const res = await sql(q, key)
    assert.equal(res.status, 200, `${q}: ${await res.clone().text()}`)
    return json(res)
  }
  const problem = async (q: string, status: number, code: string) => {
    const res = await sql(q)
    assert.equal(res.status, status, `${q}: ${await res.clone().text()}`)
    assert.match(res.headers.get('content-type') ?? '', PROBLEM)
    const body = await json(res)
    assert.equal(body.code, code, q)
    return body
  }

  before(async () => {
    const tmp = await tempDir()
    cleanup = tmp.cleanup
    dbPath = (await buildTestDataset(tmp.dir)).dbPath
    const apiKeysFile = path.join(tmp.dir, 'keys.json')
    await writeFile(
      apiKeysFile,
      JSON.stringify(
        ['analyst', 'admin', 'user'].map((role) => ({ name: role, role, sha256: hashApiKey(`${role}-key`) })),
      ),
    )
    server = await startTestServer({
      dbPath,
      apiKeysFile,
      sqlEnabled: true,
      sqlRowLimit: ROW_LIMIT,
      queryTimeoutMs: TIMEOUT_MS,
      maxEventLoopDelayMs: 0,
    })
    off = await startTestServer({ dbPath, apiKeysFile, poolSize: 1, maxEventLoopDelayMs: 0 })
    await server.app.sqlExecutor?.warmUp()
  })
  after(async () => {
    await server.close()
    await off.close()
    await cleanup()
  })

  it('is off unless enabled: 404 SQL_DISABLED, and not in the OpenAPI document', async () => {
    const res = await fetch(`${off.url}/sql?q=select%201`, { headers: { authorization: 'Bearer admin-key' } })
    assert.equal(res.status, 404)
    assert.equal((await json(res)).code, 'SQL_DISABLED')
    assert.equal((await json(await fetch(`${off.url}/openapi.json`))).paths['/sql'], undefined)
    const spec = await json(await fetch(`${server.url}/openapi.json`))
    assert.ok(spec.paths['/sql'].get.parameters.some((p: Json) => p.name === 'q'))
  })

  it('needs an analyst or admin key: 401 without, 403 for the user role', async () => {
    const anonymous = await sql('select 1', null)
    assert.equal(anonymous.status, 401)
    assert.match(anonymous.headers.get('content-type') ?? '', PROBLEM)
    const user = await sql('select 1', 'user-key')
    assert.equal(user.status, 403)
    assert.equal((await json(user)).code, 'FORBIDDEN')
    assert.deepEqual((await ok('select 1 as one', 'admin-key')).rows, [[1]])
  })

  it('answers columns, rows and truncated; caps rows; JSON or CSV', async () => {
    const r = await ok(
      `SELECT id, primary_title, end_year FROM titles WHERE id IN (68646, 211915) ORDER BY id`,
    )
    assert.deepEqual(r, {
      columns: ['id', 'primary_title', 'end_year'],
      rows: [
        [68646, 'The Godfather', null],
        [211915, 'Amélie', null],
      ],
      truncated: false,
    })
    const capped = await sql('SELECT id FROM titles ORDER BY id')
    assert.equal(capped.headers.get('x-truncated'), 'true')
    const body = await json(capped)
    assert.equal(body.rows.length, ROW_LIMIT)
    assert.equal(body.truncated, true)
    const exact = await ok(`SELECT id FROM titles ORDER BY id LIMIT ${ROW_LIMIT}`)
    assert.equal(exact.truncated, false)

    const csv = await sql(`SELECT 'a,b' AS "x y", 'say "hi"' AS q, NULL AS n, 2.5 AS f`, 'analyst-key', {
      accept: 'text/csv',
    })
    assert.equal(csv.status, 200)
    assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/)
    assert.equal(await csv.text(), 'x y,q,n,f\r\n"a,b","say ""hi""",,2.5\r\n')
    const viaFormat = await sql('select 1 as a', 'analyst-key', { format: 'csv' })
    assert.equal(await viaFormat.text(), 'a\r\n1\r\n')
    // Formulas are neutralized for spreadsheets, header included, unless csvText=raw.
    const formula = `SELECT '=1+1' AS "@h", -5 AS n, '-5' AS s`
    assert.equal(
      await (await sql(formula, 'analyst-key', { format: 'csv' })).text(),
      "'@h,n,s\r\n'=1+1,-5,'-5\r\n",
    )
    const raw = await sql(formula, 'analyst-key', { format: 'csv&csvText=raw' })
    assert.equal(await raw.text(), '@h,n,s\r\n=1+1,-5,-5\r\n')

    const odd = await ok(`SELECT 9007199254740993 AS big, x'00ff' AS blob, 'x' || char(10) AS nl`)
    assert.deepEqual(odd.rows, [['9007199254740993', 'AP8=', 'x\n']])
    const plan = await ok('EXPLAIN QUERY PLAN SELECT * FROM titles WHERE id = 1')
    assert.ok(plan.rows.length > 0)
    const cte = await ok(
      'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 5) SELECT sum(x) FROM c',
    )
    assert.deepEqual(cte.rows, [[15]])
    // A body of several pieces (the query process sends 1 MB at a time) arrives whole.
    const big = await sql(
      `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 2)
       SELECT x, printf('%.*c', 300000, 'é') AS s FROM c`,
    )
    assert.equal(big.status, 200)
    const text = await big.text()
    assert.equal(Number(big.headers.get('content-length')), Buffer.byteLength(text))
    const rows = JSON.parse(text).rows as [number, string][]
    assert.deepEqual(
      rows.map(([x, v]) => [x, v.length]),
      [1, 2].map((x) => [x, 300000]),
    )
  })

  it('takes statements too long for a URL by POST; a URL over the header limit is 431 problem+json', async () => {
    // A statement of POST_MAX_CHARS characters: a comment pads it.
    const q = `SELECT 42 AS answer -- ${'x'.repeat(POST_MAX_CHARS - 40)}`
    const post = (body: unknown, key = 'analyst-key') =>
      fetch(`${server.url}/sql?format=json`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    const res = await post({ q })
    assert.equal(res.status, 200, await res.clone().text())
    assert.deepEqual((await json(res)).rows, [[42]])
    assert.equal((await post({ q: `${q}${'x'.repeat(100)}` })).status, 400)
    assert.equal((await post({ q: 'select 1' }, 'user-key')).status, 403)

    const long = await sql(`SELECT 1 -- ${'x'.repeat(GET_MAX_CHARS)}`)
    assert.equal(long.status, 400, 'over GET_MAX_CHARS: refused by the schema')
    const huge = await fetch(`${server.url}/sql?q=${'x'.repeat(20_000)}`, {
      headers: { authorization: 'Bearer analyst-key', 'x-request-id': 'mine' },
    })
    assert.equal(huge.status, 431)
    assert.match(huge.headers.get('content-type') ?? '', PROBLEM)
    const problem = await json(huge)
    assert.equal(problem.code, 'HEADERS_TOO_LARGE')
    assert.equal(problem.instance, huge.headers.get('x-request-id'))
    assert.match(problem.detail, /request body/)
  })

  it('refuses anything but one read-only query with 400, and the data stays as it was', async () => {
    for (const q of [
      'DELETE FROM titles',
      "ATTACH DATABASE ':memory:' AS scratch",
      'PRAGMA writable_schema=1',
      'PRAGMA query_only=0',
      'SELECT 1; DELETE FROM titles',
      'select 1;select 2',
      'WITH doomed AS (SELECT id FROM titles) DELETE FROM titles WHERE id IN (SELECT id FROM doomed)',
      '/* sneaky */ DROP TABLE titles',
      'BEGIN',
      'VACUUM',
      'EXPLAIN DELETE FROM titles',
    ]) {
      const body = await problem(q, 400, 'SQL_REJECTED')
      assert.match(body.detail, /^Not run: /, q)
    }
    const broken = await problem('SELECT * FROM no_such_table', 400, 'SQL_ERROR')
    assert.match(broken.detail, /no such table/)
    await problem('SELECT * FRM titles', 400, 'SQL_ERROR')
    await problem("SELECT load_extension('/tmp/x')", 400, 'SQL_ERROR')
    assert.deepEqual((await ok('SELECT count(*) FROM titles')).rows, [[12 + FIXTURE.fillerCount]])
  })

  it('runs on the generation the request pinned, and lets go of a retired one after a hot swap', async () => {
    const executor = server.app.sqlExecutor!
    const before = server.app.dataset.current()!
    await ok('SELECT 1')
    const [pid] = executor.pids()
    const openFiles = () => {
      try {
        return readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
          try {
            return [readlinkSync(`/proc/${pid}/fd/${fd}`)]
          } catch {
            return []
          }
        })
      } catch {
        return null // not Linux
      }
    }
    if (openFiles() === null) return
    assert.ok(openFiles()!.includes(before.dbPath))
    // A second generation: the same data in another file, swapped in as a refresh does.
    await swapDatabase(server.app, dbPath, 'second', (db) => {
      db.prepare("UPDATE titles SET primary_title = 'Swapped' WHERE id = 68646").run()
    })
    try {
      assert.deepEqual((await ok('SELECT primary_title FROM titles WHERE id = 68646')).rows, [['Swapped']])
      await until(() => !openFiles()!.includes(before.dbPath), 'the retired file to close').catch(() => {})
      assert.ok(!openFiles()!.includes(before.dbPath), 'the retired generation is closed')
      assert.ok(openFiles()!.includes(server.app.dataset.current()!.dbPath))
    } finally {
      await swapDatabase(server.app, dbPath, 'third', (db) => {
        db.prepare("UPDATE titles SET primary_title = 'The Godfather' WHERE id = 68646").run()
      })
    }
  })

  it('stops a runaway query at the deadline with 503 (its process killed), and keeps serving', async () => {
    const executor = server.app.sqlExecutor!
    const [pid] = executor.pids()
    assert.ok(pid && alive(pid))
    const started = Date.now()
    const res = await sql(
      'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c',
    )
    const elapsed = Date.now() - started
    assert.equal(res.status, 503)
    assert.match(res.headers.get('content-type') ?? '', PROBLEM)
    assert.equal((await json(res)).code, 'QUERY_TIMEOUT')
    // Never before the deadline (how long after it depends on the machine's load).
    assert.ok(elapsed >= TIMEOUT_MS - 50, `answered after ${elapsed} ms`)
    await until(() => !alive(pid), 'the process to exit').catch(() => {})
    assert.equal(alive(pid), false, 'the process running the statement is gone')
    assert.equal(executor.stats().workersTerminated, 1)
    // The pool keeps serving: the console (on the replacement process, once it has booted: on a
    // busy machine that can take longer than a deadline, and a request that times out while it
    // boots kills it again, so wait for the boot itself) and the API.
    await executor.warmUp()
    const again = await sql('SELECT 40 + 2')
    assert.equal(again.status, 200, await again.clone().text())
    assert.deepEqual((await json(again)).rows, [[42]])
    const title = await fetch(`${server.url}/titles/${FIXTURE.godfather}`)
    assert.equal(title.status, 200)
  })
})

// The console is SQLite's (statements in a child process over the database file): on PostgreSQL a
// client is told so, even with --enable-sql and the right key, rather than getting a bare 404.
describe('GET /sql on PostgreSQL', dialectOptions('postgres'), () => {
  let server: TestServer
  let cleanup: () => Promise<void>

  before(async () => {
    const tmp = await tempDir()
    const nothing = emptyPostgres()
    cleanup = async () => {
      await server?.close()
      await nothing.cleanup()
      await tmp.cleanup()
    }
    const apiKeysFile = path.join(tmp.dir, 'keys.json')
    await writeFile(
      apiKeysFile,
      JSON.stringify([{ name: 'a', role: 'admin', sha256: hashApiKey('admin-key') }]),
    )
    server = await startTestServer({ ...nothing.config, apiKeysFile, sqlEnabled: true })
  })
  after(() => cleanup())

  it('answers 404 problem+json SQL_DISABLED saying why, with --enable-sql, and is not documented', async () => {
    const res = await fetch(`${server.url}/sql?q=select%201`, {
      headers: { authorization: 'Bearer admin-key', 'x-request-id': 'sql-pg-1' },
    })
    assert.equal(res.status, 404)
    assert.match(res.headers.get('content-type') ?? '', PROBLEM)
    const body = await json(res)
    assert.equal(body.code, 'SQL_DISABLED')
    assert.equal(body.instance, 'sql-pg-1')
    assert.match(body.detail, /not available .*PostgreSQL/)
    assert.match(body.detail, /with or without --enable-sql/)
    assert.equal(server.app.sqlExecutor, null, 'no query processes are started')
    assert.equal((await json(await fetch(`${server.url}/openapi.json`))).paths['/sql'], undefined)
  })
})
