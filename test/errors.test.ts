import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { describe, it } from 'node:test'
import { errorCodes } from 'fastify'
import { PROBLEMS, Problem, type ProblemCode } from '../src/errors.js'
import { BY_STATUS } from '../src/plugins/errors.js'
import { ROOT } from './helpers/cli.js'

/** Every TypeScript file under src/, with its text. */
async function sources(): Promise<{ file: string; text: string }[]> {
  const dir = path.join(ROOT, 'src')
  const files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.ts'))
  return Promise.all(
    files.map(async (f) => ({ file: `src/${f}`, text: await readFile(path.join(dir, f), 'utf8') })),
  )
}

describe('the problem catalogue (src/errors.ts)', () => {
  /** The first argument of every problem built in src/, file by file. */
  async function problemsBuilt(): Promise<{ file: string; arg: string }[]> {
    const built: { file: string; arg: string }[] = []
    for (const { file, text } of await sources()) {
      for (const m of text.matchAll(/(?:new Problem|serviceUnavailable)\(\s*([^,)]+)/g))
        built.push({ file, arg: m[1].trim() })
    }
    return built
  }
  const literal = (arg: string) => /^'([^']*)'$/.exec(arg)?.[1]
  const VARIABLE_CODES = ['src/errors.ts', 'src/plugins/errors.ts']

  it('is where every problem code comes from: each problem built names a code of the catalogue', async () => {
    const built = await problemsBuilt()
    assert.ok(built.length > 20, `found ${built.length} problems built`)
    const offences = built
      .filter(({ file, arg }) => {
        const code = literal(arg)
        // A variable holding a code only where codes are mapped: the catalogue's helpers, and the
        // error plugin's mapping of Fastify's statuses.
        if (code === undefined) return !(arg === 'code' && VARIABLE_CODES.includes(file))
        return !Object.hasOwn(PROBLEMS, code)
      })
      .map(({ file, arg }) => `${file}: ${arg}`)
    assert.deepEqual(offences, [], 'define the code in PROBLEMS (src/errors.ts) and name it')
  })

  it('holds no code that nothing answers with', async () => {
    const used = new Set<string>(Object.values(BY_STATUS).filter((c) => c !== undefined))
    for (const { arg } of await problemsBuilt()) {
      const code = literal(arg)
      if (code !== undefined) used.add(code)
    }
    assert.deepEqual(
      Object.keys(PROBLEMS).filter((code) => !used.has(code)),
      [],
    )
  })

  it("maps every 4xx of Fastify's errors (and @fastify/static's 412 and 416) onto a code", () => {
    const statuses = new Set([412, 416])
    for (const E of Object.values(errorCodes)) {
      const status = (new (E as new () => { statusCode?: number })() as { statusCode?: number }).statusCode
      if (status !== undefined && status >= 400 && status < 500) statuses.add(status)
    }
    assert.ok(statuses.has(413) && statuses.has(415), [...statuses].join(','))
    const missing = [...statuses].filter((s) => BY_STATUS[s] === undefined)
    assert.deepEqual(missing, [])
    for (const [status, code] of Object.entries(BY_STATUS))
      assert.equal(PROBLEMS[code!].status, Number(status))
  })

  it('gives each code its status, title and a type URI of its own', () => {
    const types = new Set<string>()
    for (const [code, { status, title }] of Object.entries(PROBLEMS)) {
      const p = new Problem(code as ProblemCode, { detail: 'x' })
      assert.equal(p.status, status)
      assert.equal(p.title, title)
      assert.ok(status >= 400 && status < 600, code)
      types.add(p.type)
    }
    assert.equal(types.size, Object.keys(PROBLEMS).length)
  })
})
