import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { parseId } from '../datasets/catalogue.js'
import { setHtmlNotFound } from '../plugins/errors.js'

/**
 * The web interface: plain JavaScript modules and CSS from `public/`, no build step.
 *
 * Assets are served under `/ui/<content hash>/`, so they can be cached for a year as immutable:
 * any change to any file changes the prefix. The HTML shell (index.html with the prefix filled in)
 * is answered for the app's own pages (`/`, `/title/tt...`, `/name/nm...`, `/find`) and is always
 * revalidated (ETag). A title or person the loaded dataset does not have, and any unknown path a
 * browser asks for (Accept: text/html), get the same shell with status 404: the app then shows its
 * "not found" page; API clients keep problem+json. `/title/tt.../` redirects to the address
 * without the slash. The API's own paths (`/titles`, `/names`, `/search`, `/docs`, ...) are left
 * alone. Every route here is public: the shell holds no data, and the app sends the user's API key
 * (if the server wants one) with its own API calls.
 */

/** The client-side routes the server answers with the HTML shell. */
export const APP_PAGES = [
  '/',
  '/title/:tconst',
  '/name/:nconst',
  '/find',
  '/browse',
  // The user's watchlist and ratings (the data comes from /me with the key the browser keeps).
  '/lists',
] as const

/**
 * Modules app.js imports only when their page opens (with `import()`), so the shell does not
 * preload them: the other pages do not pay for them.
 */
export const LAZY_MODULES: ReadonlySet<string> = new Set(['pages/lists.js', 'csv.js'])

export interface WebPluginOptions {
  /** Directory of the static files (default: `public/` beside this module, or in `src/` under `dist/`). */
  root?: string
}

/** `public/` next to this file under tsx; from `dist/src/web/` the sources' copy is used. */
function defaultRoot(): string {
  const here = fileURLToPath(new URL('./public/', import.meta.url))
  if (existsSync(here)) return here
  return fileURLToPath(new URL('../../../src/web/public/', import.meta.url))
}

async function listFiles(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const name = path.posix.join(rel, entry.name)
    if (entry.isDirectory()) out.push(...(await listFiles(dir, name)))
    else if (entry.isFile()) out.push(name)
  }
  return out.sort()
}

/** A hash of every file's name and bytes: the asset URL prefix, so a change busts every cache. */
async function contentHash(root: string, files: string[]): Promise<string> {
  const h = createHash('sha256')
  for (const f of files)
    h.update(f)
      .update('\0')
      .update(await readFile(path.join(root, f)))
  return h.digest('base64url').slice(0, 12)
}

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

export default async function webPlugin(app: FastifyInstance, opts: WebPluginOptions = {}) {
  const root = opts.root ?? defaultRoot()
  const files = await listFiles(root)
  const version = await contentHash(root, files)
  const base = `/ui/${version}`

  // Modules are preloaded from the shell so the browser fetches them in parallel, not as a waterfall.
  const entries = new Set(['app.js', 'boot.js'])
  const preloads = files
    .filter((f) => f.endsWith('.js') && !entries.has(f) && !LAZY_MODULES.has(f))
    .map((f) => `<link rel="modulepreload" href="${base}/${f}">`)
    .join('\n    ')
  const shell = (await readFile(path.join(root, 'index.html'), 'utf8'))
    .replaceAll('%BASE%', base)
    .replace('<!-- %PRELOADS% -->', preloads)
  const shellEtag = `"${version}"`

  // Everything this plugin registers is public: no API key, no rate limit, no load shedding.
  app.addHook('onRoute', (route) => {
    route.config = { ...(route.config as object | undefined), public: true }
  })

  await app.register(fastifyStatic, {
    root,
    prefix: `${base}/`,
    decorateReply: false,
    wildcard: false,
    index: false,
    list: false,
    immutable: true,
    maxAge: '365d',
    schemaHide: true,
    // The shell is served with its asset prefix filled in, never raw.
    allowedPath: (pathname) => path.posix.basename(pathname) !== 'index.html',
  })

  const sendShell = (request: FastifyRequest, reply: FastifyReply) => {
    reply
      .header('cache-control', 'no-cache')
      .header('etag', shellEtag)
      .header('content-security-policy', CSP)
      .header('vary', 'accept-encoding')
    if (request.headers['if-none-match'] === shellEtag) return reply.code(304).send()
    return reply.type('text/html; charset=utf-8').send(shell)
  }
  /** The shell as a 404 page: never cached, no ETag (the same address may exist tomorrow). */
  const sendMissing = (_request: FastifyRequest, reply: FastifyReply) =>
    reply
      .code(404)
      .header('cache-control', 'no-store')
      .header('content-security-policy', CSP)
      .type('text/html; charset=utf-8')
      .send(shell)

  /** The page of a title or person the loaded dataset lacks answers 404 (a point lookup decides). */
  const checked = (param: 'tconst' | 'nconst') => async (request: FastifyRequest, reply: FastifyReply) => {
    const id = (request.params as Record<string, string>)[param]
    if (!(param === 'tconst' ? TCONST : NCONST).test(id)) return sendMissing(request, reply)
    if ((await exists(request, param, id)) === false) return sendMissing(request, reply)
    return sendShell(request, reply)
  }
  const handlers: Record<(typeof APP_PAGES)[number], (r: FastifyRequest, p: FastifyReply) => unknown> = {
    '/': sendShell,
    '/title/:tconst': checked('tconst'),
    '/name/:nconst': checked('nconst'),
    '/find': sendShell,
    '/browse': sendShell,
    '/lists': sendShell,
  }
  for (const url of APP_PAGES) {
    app.get(url, { schema: { hide: true } }, handlers[url])
    // "/title/tt0068646/" redirects to the page's one address, query string kept.
    if (url !== '/')
      app.get(`${url}/`, { schema: { hide: true } }, (request, reply) => {
        const [pathname, search] = splitUrl(request.url)
        return reply.redirect(`${pathname.replace(/\/+$/, '')}${search}`, 301)
      })
  }
  setHtmlNotFound(app, sendMissing)
}

const TCONST = /^tt\d{7,}$/
const NCONST = /^nm\d{7,}$/

function splitUrl(url: string): [string, string] {
  const q = url.indexOf('?')
  return q === -1 ? [url, ''] : [url.slice(0, q), url.slice(q)]
}

/**
 * Whether the loaded dataset has the title or person: false only when it can tell they are missing;
 * null when it cannot say (no dataset loaded, the file not loaded, a slow or failed lookup), and the
 * app then finds out itself.
 */
async function exists(
  request: FastifyRequest,
  param: 'tconst' | 'nconst',
  id: string,
): Promise<boolean | null> {
  if (typeof request.dataset !== 'function') return null
  try {
    const h = await request.dataset()
    if (param === 'tconst') {
      if (!h.generation.has('title.basics')) return null
      return (await h.lookup('findTitle', parseId(id))) !== null
    }
    if (!h.generation.has('name.basics')) return null
    return (await h.lookup('findName', parseId(id))) !== null
  } catch {
    return null
  }
}
