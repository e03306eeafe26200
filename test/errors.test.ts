import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { describe, it } from 'node:test'
import { PROBLEMS, Problem, type ProblemCode } from '../src/errors.js'
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
  it('is where every problem code is made: no code, status or title is written anywhere else', async () => {
    const offences: string[] = []
    let built = 0
    for (const { file, text } of await sources()) {
      if (file === 'src/errors.ts') continue
      // The first argument of each problem built: a code of the catalogue, or a variable holding one.
      for (const m of text.matchAll(/(?:new Problem|serviceUnavailable)\(\s*([^,)]+)/g)) {
        built++
        const arg = m[1].trim()
        const literal = /^'([^']*)'$/.exec(arg)?.[1]
        if (literal !== undefined ? !Object.hasOwn(PROBLEMS, literal) : arg !== 'code')
          offences.push(`${file}: ${m[0]}`)
      }
    }
    assert.ok(built > 20, `found ${built} problems built`)
    assert.deepEqual(offences, [], 'define the code in PROBLEMS (src/errors.ts) and name it')
  })

  it('holds no code that nothing answers with', async () => {
    const texts = (await sources()).filter((s) => s.file !== 'src/errors.ts').map((s) => s.text)
    const helpers = await readFile(path.join(ROOT, 'src/errors.ts'), 'utf8')
    const body = helpers.slice(helpers.indexOf('export type ProblemCode'))
    const unused = Object.keys(PROBLEMS).filter(
      (code) => !texts.some((t) => t.includes(`'${code}'`)) && !body.includes(`'${code}'`),
    )
    assert.deepEqual(unused, [])
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
