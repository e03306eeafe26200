import assert from 'node:assert/strict'
import { cp, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import Fastify from 'fastify'
import webPlugin from '../../src/web/plugin.js'
import { ROOT } from '../helpers/cli.js'
import { buildTestDataset } from '../helpers/dataset.js'
import { startTestServer, type TestServer, tempDir } from '../helpers/server.js'

const PUBLIC = path.join(ROOT, 'src/web/public/')

/** Asset URLs the shell references: stylesheet, module entry, module preloads, icon. */
function assetUrls(html: string): string[] {
  return [...html.matchAll(/(?:href|src)="(\/ui\/[^"]+)"/g)].map((m) => m[1])
}

/** Relative specifiers a module imports (`import x from './y.js'`, `export ... from`). */
function importsOf(source: string): string[] {
  return [...source.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'(\.[^']+)'/gm)].map((m) => m[1])
}

describe('web interface: serving', () => {
  let server: TestServer
  let cleanup: () => Promise<void>
  const get = (p: string, init?: RequestInit) => fetch(`${server.url}${p}`, init)

  before(async () => {
    const tmp = await tempDir('marquee-web-')
    cleanup = tmp.cleanup
    const { dbPath } = await buildTestDataset(tmp.dir)
    server = await startTestServer({ dbPath, maxEventLoopDelayMs: 0 })
  })
  after(async () => {
    await server.close()
    await cleanup()
  })

  it('answers the app pages with the HTML shell, revalidated by ETag, under a strict CSP', async () => {
    for (const p of ['/', '/title/tt0068646', '/name/nm0000199', '/find?q=godfather']) {
      const res = await get(p)
      assert.equal(res.status, 200, p)
      assert.match(res.headers.get('content-type') ?? '', /^text\/html; charset=utf-8/)
      assert.equal(res.headers.get('cache-control'), 'no-cache')
      assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'; style-src 'self'/)
      const html = await res.text()
      assert.match(html, /<main id="main"/)
      assert.doesNotMatch(html, /%BASE%|%PRELOADS%/)
      const etag = res.headers.get('etag')
      assert.ok(etag)
      const again = await get(p, { headers: { 'if-none-match': etag } })
      assert.equal(again.status, 304, p)
    }
  })

  it('leaves the API alone: /titles, /names, /search, /health, /docs and /openapi.json answer as before', async () => {
    const titles = await get('/titles?limit=1')
    assert.equal(titles.status, 200)
    assert.match(titles.headers.get('content-type') ?? '', /^application\/json/)
    assert.equal(((await titles.json()) as { items: unknown[] }).items.length, 1)
    assert.match((await get('/titles/tt0068646')).headers.get('content-type') ?? '', /^application\/json/)
    assert.match((await get('/names/nm0000199')).headers.get('content-type') ?? '', /^application\/json/)
    assert.match((await get('/search?q=godf')).headers.get('content-type') ?? '', /^application\/json/)
    assert.equal(await (await get('/health')).text(), 'OK')
    const docs = await get('/docs/')
    assert.equal(docs.status, 200)
    assert.doesNotMatch(await docs.text(), /<main id="main"/)
    const spec = (await (await get('/openapi.json')).json()) as { paths: Record<string, unknown> }
    const web = Object.keys(spec.paths).filter(
      (p) => p === '/' || p.startsWith('/title/') || p.startsWith('/ui/'),
    )
    assert.deepEqual(web, [], 'the web routes stay out of the API description')
    const missing = await get('/nowhere')
    assert.equal(missing.status, 404)
    assert.match(missing.headers.get('content-type') ?? '', /^application\/problem\+json/)
  })

  it('answers 404 with the HTML shell for a missing title or person and for a browser on an unknown path', async () => {
    const html = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' }
    for (const p of [
      '/title/tt9999999',
      '/title/not-an-id',
      '/name/nm9999999',
      '/nowhere',
      '/title/tt0068646/x',
    ]) {
      const res = await get(p, { headers: html })
      assert.equal(res.status, 404, p)
      assert.match(res.headers.get('content-type') ?? '', /^text\/html; charset=utf-8/, p)
      assert.equal(res.headers.get('cache-control'), 'no-store', p)
      assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'/, p)
      assert.match(await res.text(), /<main id="main"/, p)
    }
    // API clients keep problem+json, chosen by Accept.
    for (const accept of ['application/json', '*/*', 'application/problem+json, text/html']) {
      const res = await get('/nowhere', { headers: { accept } })
      assert.equal(res.status, 404, accept)
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, accept)
    }
    const post = await fetch(`${server.url}/nowhere`, { method: 'POST', headers: html })
    assert.match(post.headers.get('content-type') ?? '', /^application\/problem\+json/)
  })

  it('redirects a page address with a trailing slash to the one without, query kept', async () => {
    for (const [from, to] of [
      ['/title/tt0068646/', '/title/tt0068646'],
      ['/name/nm0000199/', '/name/nm0000199'],
      ['/find/?q=godfather', '/find?q=godfather'],
    ]) {
      const res = await get(from, { redirect: 'manual' })
      assert.equal(res.status, 301, from)
      assert.equal(res.headers.get('location'), to, from)
    }
    assert.equal((await get('/title/tt0068646/')).status, 200)
  })

  it('links /docs back to the site', async () => {
    const docs = await (await get('/docs/')).text()
    const script = /src="([^"]*marquee-home\.js)"/.exec(docs)
    assert.ok(script, 'the docs page loads the link script')
    const js = await get(new URL(script[1], `${server.url}/docs/`).pathname)
    assert.equal(js.status, 200)
    assert.match(await js.text(), /a\.href = '\/'/)
  })

  it('serves every asset the shell names, cached for a year as immutable, and every module import resolves', async () => {
    const html = await (await get('/')).text()
    const urls = assetUrls(html)
    assert.ok(urls.some((u) => u.endsWith('/app.js')))
    assert.ok(urls.some((u) => u.endsWith('/style.css')))
    const base = urls[0].split('/').slice(0, 3).join('/')
    let total = 0
    const seen = new Set<string>()
    const queue = [...urls]
    while (queue.length > 0) {
      const u = queue.shift()!
      if (seen.has(u)) continue
      seen.add(u)
      const res = await get(u)
      assert.equal(res.status, 200, u)
      assert.match(res.headers.get('cache-control') ?? '', /max-age=31536000.*immutable/, u)
      const type = res.headers.get('content-type') ?? ''
      if (u.endsWith('.js')) assert.match(type, /javascript/, u)
      if (u.endsWith('.css')) assert.match(type, /^text\/css/, u)
      const body = await res.text()
      total += Buffer.byteLength(body)
      if (u.endsWith('.js')) {
        for (const spec of importsOf(body)) {
          queue.push(new URL(spec, `http://x${u}`).pathname)
        }
      }
    }
    assert.ok([...seen].every((u) => u.startsWith(base)))
    // Small enough to load at once on a slow link: no framework, no bundle.
    assert.ok(total < 150_000, `assets total ${total} bytes`)
  })

  it('answers 404 for another asset version and never serves the raw shell', async () => {
    const html = await (await get('/')).text()
    const app = assetUrls(html).find((u) => u.endsWith('/app.js'))!
    const stale = app.replace(/\/ui\/[^/]+\//, '/ui/0000000000/')
    assert.equal((await get(stale)).status, 404)
    assert.equal((await get(app.replace('app.js', 'index.html'))).status, 404)
    assert.equal((await get(app.replace('app.js', '../../package.json'))).status, 404)
  })

  it('needs no API key for the shell and its assets, while the API still does', async () => {
    const tmp = await tempDir('marquee-web-key-')
    const { dbPath } = await buildTestDataset(tmp.dir)
    const locked = await startTestServer({ dbPath, requireApiKey: true, maxEventLoopDelayMs: 0 })
    try {
      const shell = await fetch(`${locked.url}/title/tt0068646`)
      assert.equal(shell.status, 200)
      const app = assetUrls(await shell.text()).find((u) => u.endsWith('/app.js'))!
      assert.equal((await fetch(`${locked.url}${app}`)).status, 200)
      assert.equal((await fetch(`${locked.url}/titles/tt0068646`)).status, 401)
    } finally {
      await locked.close()
      await tmp.cleanup()
    }
  })

  it('changes the asset prefix when any file changes, so immutable caching is safe', async () => {
    const tmp = await tempDir('marquee-web-root-')
    try {
      const root = path.join(tmp.dir, 'public')
      await cp(PUBLIC, root, { recursive: true })
      const prefixOf = async () => {
        const app = Fastify({ logger: false })
        await app.register(webPlugin, { root })
        const res = await app.inject('/')
        await app.close()
        return /\/ui\/([^/]+)\/app\.js/.exec(res.body)?.[1]
      }
      const before = await prefixOf()
      assert.ok(before)
      assert.equal(await prefixOf(), before, 'stable while nothing changes')
      const css = path.join(root, 'style.css')
      await writeFile(css, `${await readFile(css, 'utf8')}\n/* changed */\n`)
      assert.notEqual(await prefixOf(), before)
    } finally {
      await tmp.cleanup()
    }
  })
})
