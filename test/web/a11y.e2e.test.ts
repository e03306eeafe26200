import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { before, describe, it } from 'node:test'
import type { BrowserContext, Page } from 'playwright-core'
import { formatId } from '../../src/datasets/catalogue.js'
import Database from '../../src/db/sqlite/driver.js'
import { useWebFixture } from '../helpers/browser.js'

/**
 * Every page type of the web interface, checked in a real browser (test/helpers/browser.ts):
 * axe-core finds no serious or critical violation in light or dark mode, no page scrolls sideways
 * on a 390 px phone, and a screenshot of each is saved. Add a page type to PAGES and it gets every
 * check.
 */

// The functions given to page.evaluate() run in the browser; these name what they use there.
declare const document: {
  documentElement: { scrollWidth: number }
  querySelector(selector: string): { textContent: string | null } | null
}
declare const window: { innerWidth: number }
declare const axe: {
  run(
    context: unknown,
    options: unknown,
  ): Promise<{
    violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[]
  }>
}

const GODFATHER = 'tt0068646'
const SIMPSONS = 'tt0096697'
const PACINO = 'nm0000199'

interface PageType {
  /** Names the screenshots (a11y-<name>-light.png) and the assertion messages. */
  name: string
  path: string
  /** What shows once the page's content is there (beyond the app's own "rendered" mark). */
  ready?: string
  /** The HTTP status of the document (404 pages are served as such). */
  status?: number
}

/** Every page type of the app. Browse and "My lists" pages add a line here. */
export const PAGES: PageType[] = [
  { name: 'home', path: '/', ready: '#popular-films .cards' },
  { name: 'film', path: `/title/${GODFATHER}`, ready: '#cast' },
  { name: 'series', path: `/title/${SIMPSONS}`, ready: 'table.heatmap' },
  { name: 'person', path: `/name/${PACINO}`, ready: '.film-status:not(:empty)' },
  { name: 'find', path: '/find?q=love', ready: '.results, .notice, .intro' },
  {
    name: 'browse',
    path: '/browse?type=movie&genre=Drama',
    ready: '.browse-results:not([aria-busy]) .browse-status',
  },
  {
    name: 'top-list',
    path: '/browse?type=movie&sort=weighted',
    ready: '.browse-results:not([aria-busy]) .browse-status',
  },
  // My lists without a key: its key form (the lists themselves: test/web/lists.e2e.test.ts).
  { name: 'lists', path: '/lists', ready: '#lists-key' },
  { name: 'not-found', path: '/no/such/page', status: 404, ready: '[role=alert]' },
  { name: 'missing-title', path: '/title/tt9999999', status: 404, ready: '[role=alert]' },
]

const axeSource = readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

describe('web interface: accessibility and phone layout of every page type', () => {
  const web = useWebFixture()
  const { ready, rendered, shot } = web

  /** A context for axe only: the app's CSP forbids the inline script axe is injected as. */
  let axeContext: BrowserContext | undefined

  async function open(p: Page, page: PageType) {
    const res = await p.goto(`${web.server.url}${page.path}`)
    assert.equal(res?.status(), page.status ?? 200, `${page.name}: status of ${page.path}`)
    await rendered(p)
    if (page.ready) await p.locator(page.ready).first().waitFor()
    // The filmography loads after the page's first render.
    if (page.name === 'person')
      await p.waitForFunction(
        () => !/loading/.test(document.querySelector('.film-status')?.textContent ?? 'loading'),
      )
  }

  for (const scheme of ['light', 'dark'] as const) {
    it(`axe finds no serious or critical violations on any page type (${scheme})`, async (t) => {
      if (!ready(t)) return
      axeContext ??= await web.browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } })
      const p = await axeContext.newPage()
      p.setDefaultTimeout(15_000)
      try {
        await p.emulateMedia({ colorScheme: scheme })
        const source = await axeSource
        const found: string[] = []
        for (const page of PAGES) {
          await open(p, page)
          await p.addScriptTag({ content: source })
          const { violations } = await p.evaluate(() =>
            axe.run(document, {
              resultTypes: ['violations'],
              runOnly: ['wcag2a', 'wcag2aa', 'best-practice'],
            }),
          )
          for (const v of violations)
            if (v.impact === 'serious' || v.impact === 'critical')
              found.push(
                `${page.name} (${scheme}): ${v.id} [${v.impact}] ${v.help} at ${v.nodes
                  .slice(0, 3)
                  .map((n) => n.target.join(' '))
                  .join(', ')}${v.nodes.length > 3 ? ` and ${v.nodes.length - 3} more` : ''}`,
              )
          await shot(p, `a11y-${page.name}-${scheme}`, true)
        }
        assert.deepEqual(found, [])
      } finally {
        await p.close()
      }
    })
  }

  describe('at a 390 px phone viewport', () => {
    const extra: PageType[] = []

    before(async () => {
      if (!web.server) return
      // The series with the most episodes in one season, and the longest titles of the sample,
      // read from the served database file (one query each, not an API walk over every series).
      const db = new Database(web.server.app.dataset.current()!.dbPath, { readonly: true })
      try {
        const widest = db
          .prepare(
            `SELECT parent_id AS id, count(*) AS n FROM episodes
             GROUP BY parent_id, season_number ORDER BY n DESC, parent_id LIMIT 1`,
          )
          .get() as { id: number; n: number } | undefined
        extra.push({
          name: `series-widest-season-${widest?.n ?? 0}`,
          path: `/title/${widest ? formatId('tt', widest.id) : SIMPSONS}`,
          ready: 'table.heatmap',
        })
        const longest = db
          .prepare('SELECT id FROM titles ORDER BY length(primary_title) DESC, id LIMIT 2')
          .all() as { id: number }[]
        for (const [i, x] of longest.entries())
          extra.push({ name: `longest-title-${i + 1}`, path: `/title/${formatId('tt', x.id)}`, ready: 'h1' })
      } finally {
        db.close()
      }
    })

    it('no page scrolls sideways', async (t) => {
      const p = ready(t)
      if (!p) return
      await p.setViewportSize({ width: 390, height: 844 })
      try {
        const wide: string[] = []
        for (const scheme of ['light', 'dark'] as const) {
          await p.emulateMedia({ colorScheme: scheme })
          for (const page of [...PAGES, ...extra]) {
            await open(p, page)
            const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
            if (overflow > 0) wide.push(`${page.name} (${page.path}) scrolls sideways by ${overflow} px`)
            await shot(p, `phone-${page.name}-${scheme}`)
          }
        }
        assert.deepEqual(wide, [])
      } finally {
        await p.setViewportSize({ width: 1280, height: 900 })
        await p.emulateMedia({ colorScheme: 'light' })
      }
    })
  })

  it('closes the axe context', async () => {
    await axeContext?.close()
  })
})
