import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { describe, it } from 'node:test'
import { ROOT } from './helpers/cli.js'

const SRC = path.join(ROOT, 'src')

/**
 * The import graph of src/: each module (a path under src/, or a package name) to the modules it
 * loads at run time. Type-only imports are left out: they are erased.
 */
async function importGraph(): Promise<Map<string, Set<string>>> {
  const files = (await readdir(SRC, { recursive: true })).filter((f) => f.endsWith('.ts'))
  const graph = new Map<string, Set<string>>()
  for (const file of files) {
    const text = await readFile(path.join(SRC, file), 'utf8')
    const deps = new Set<string>()
    const specifiers = [
      ...text.matchAll(/^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm),
      ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
    ].map((m) => m[1])
    for (const spec of specifiers) {
      if (spec.startsWith('.')) {
        deps.add(path.join(path.dirname(file), spec).replace(/\.js$/, '.ts'))
      } else if (!spec.startsWith('node:')) {
        deps.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0])
      }
    }
    graph.set(file, deps)
  }
  return graph
}

/** Every module `from` loads, directly or not, with one chain of imports that reaches each. */
function reach(graph: Map<string, Set<string>>, from: string): Map<string, string[]> {
  const chains = new Map<string, string[]>([[from, [from]]])
  const queue = [from]
  while (queue.length > 0) {
    const at = queue.shift()!
    for (const next of graph.get(at) ?? []) {
      if (chains.has(next)) continue
      chains.set(next, [...chains.get(at)!, next])
      queue.push(next)
    }
  }
  return chains
}

/**
 * The HTTP layer: its folders, and Fastify with its plugins. Not @fastify/ajv-compiler: ajv with
 * Fastify's options, which the import query validates with on a worker; it loads no HTTP code.
 */
const HTTP = (m: string) =>
  m.startsWith('plugins/') ||
  m.startsWith('routes/') ||
  m.startsWith('web/') ||
  m === 'app.ts' ||
  m === 'server.ts' ||
  m === 'fastify' ||
  m === 'fastify-plugin' ||
  (m.startsWith('@fastify/') && m !== '@fastify/ajv-compiler')

/** Modules matching `from` must never load, even through others, a module matching `forbidden`. */
async function violations(
  from: (m: string) => boolean,
  forbidden: (m: string) => boolean,
): Promise<string[]> {
  const graph = await importGraph()
  const found: string[] = []
  for (const module of [...graph.keys()].filter(from).sort()) {
    for (const [target, chain] of reach(graph, module)) {
      if (forbidden(target)) found.push(chain.join(' -> '))
    }
  }
  return found
}

describe('the direction of imports in src/', () => {
  it('finds the modules and their imports', async () => {
    const graph = await importGraph()
    assert.ok(graph.size > 100, `${graph.size} modules`)
    assert.ok(graph.get('app.ts')?.has('fastify'))
    assert.ok(graph.get('pool/query.worker.ts')?.size)
  })

  it('db/ never loads HTTP code (plugins, routes, Fastify)', async () => {
    assert.deepEqual(await violations((m) => m.startsWith('db/'), HTTP), [])
  })

  it('dataset/ (the served dataset) never loads HTTP code', async () => {
    assert.deepEqual(await violations((m) => m.startsWith('dataset/'), HTTP), [])
  })

  it('datasets/ (the IMDb files) never loads db/', async () => {
    assert.deepEqual(
      await violations(
        (m) => m.startsWith('datasets/'),
        (m) => m.startsWith('db/'),
      ),
      [],
    )
  })

  it('no worker thread loads HTTP code', async () => {
    assert.deepEqual(await violations((m) => m.endsWith('.worker.ts'), HTTP), [])
  })
})
