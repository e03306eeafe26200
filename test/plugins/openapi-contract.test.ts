import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import openapiTS, { astToString } from 'openapi-typescript'
import ts from 'typescript'
import { operationIdOf } from '../../src/plugins/docs.js'
import { FIXTURE } from '../helpers/dataset.js'
import { dialectServer } from '../helpers/dialects.js'
import type { TestServer } from '../helpers/server.js'

const run = promisify(execFile)
const REDOCLY = path.resolve('node_modules/.bin/redocly')

describe('the OpenAPI document as a contract', { timeout: 120_000 }, () => {
  let server: TestServer
  let close: () => Promise<void>
  let dir: string
  let doc: string

  before(async () => {
    ;({ server, close } = await dialectServer('sqlite'))
    // Inside the project, so the client resolves openapi-fetch as a client's own project would.
    await mkdir(path.resolve('.cache'), { recursive: true })
    dir = await mkdtemp(path.resolve('.cache', 'openapi-client-'))
    doc = await (await fetch(`${server.url}/openapi.json`)).text()
    await writeFile(path.join(dir, 'openapi.json'), doc)
  })
  after(async () => {
    await close()
    await rm(dir, { recursive: true, force: true })
  })

  it('passes Redocly recommended lint with no error and no warning', async () => {
    const { stdout } = await run(REDOCLY, ['lint', path.join(dir, 'openapi.json'), '--format=json'], {
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    })
    const report = JSON.parse(stdout) as { totals: { errors: number; warnings: number }; problems: unknown[] }
    assert.deepEqual(
      report.totals,
      { ...report.totals, errors: 0, warnings: 0 },
      JSON.stringify(report.problems),
    )
  })

  it('names every operation, uniquely', () => {
    const ids = Object.values(
      JSON.parse(doc).paths as Record<string, Record<string, { operationId?: string }>>,
    )
      .flatMap((ops) => Object.values(ops))
      .map((op) => op.operationId)
    assert.ok(ids.length > 20 && ids.every(Boolean))
    assert.equal(new Set(ids).size, ids.length)
    assert.equal(operationIdOf('GET', '/titles/:tconst/credits'), 'getTitlesByTconstCredits')
    assert.equal(operationIdOf('GET', '/datasets/{name}/rows'), 'getDatasetsByNameRows')
  })

  it('generates a typed client (openapi-typescript + openapi-fetch) that compiles and calls the server', async () => {
    const types = astToString(await openapiTS(JSON.parse(doc)))
    await writeFile(path.join(dir, 'marquee-api.d.ts'), types)
    const client = path.join(dir, 'client.ts')
    await writeFile(
      client,
      `import createClient from 'openapi-fetch'
import type { paths } from './marquee-api.js'

export async function titleOf(baseUrl: string, tconst: string): Promise<string> {
  const api = createClient<paths>({ baseUrl })
  const { data, error } = await api.GET('/titles/{tconst}', {
    params: { path: { tconst }, query: { include: ['credits'] } },
  })
  if (error) throw new Error(error.detail ?? error.title)
  const lead: string | null | undefined = data.credits?.[0]?.person.name
  return \`\${data.primaryTitle} (\${data.startYear}), \${lead}\`
}
`,
    )
    const program = ts.createProgram([client], {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      skipLibCheck: true,
      lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    })
    const errors = ts
      .getPreEmitDiagnostics(program)
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))
    assert.deepEqual(errors, [])

    // Run as plain JavaScript: the test itself may run compiled, without a TypeScript loader.
    const js = ts.transpileModule(await readFile(client, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText
    await writeFile(path.join(dir, 'client.mjs'), js)
    const { titleOf } = (await import(path.join(dir, 'client.mjs'))) as {
      titleOf: (u: string, t: string) => Promise<string>
    }
    assert.equal(await titleOf(server.url, FIXTURE.godfather), 'The Godfather (1972), Marlon Brando')
  })
})
