import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { describe, it } from 'node:test'
import { hashApiKey, newApiKey } from '../../src/users/api-keys.js'
import { useWebFixture } from '../helpers/browser.js'

/**
 * Your lists in a real headless Chromium: the API key entered once, the watchlist and rating
 * controls of a title page, the My lists page with its sort, export and import, forgetting the key.
 */

// The functions given to page.evaluate() run in the browser; these name what they use there.
declare const localStorage: { getItem(key: string): string | null; setItem(key: string, value: string): void }
declare const document: { documentElement: { scrollWidth: number } }
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
const MISSING = 'tt9999999'
const FILE_KEY = 'a-key-from-the-api-keys-file'

// biome-ignore lint/suspicious/noExplicitAny: API bodies are checked field by field
type Json = any

describe('your lists in a real browser', () => {
  const web = useWebFixture({ apiKeys: [{ key: FILE_KEY, name: 'ops', role: 'admin' }] })
  const { ready, rendered, shot, errors } = web
  let key = ''
  /** The API as the key's owner sees it. */
  const mine = async (path: string): Promise<Json> => {
    const res = await fetch(`${web.server.url}${path}`, { headers: { authorization: `Bearer ${key}` } })
    return res.status === 404 ? null : res.json()
  }

  it('asks for a key, explains a refused one in the API’s words and keeps a good one', async (t) => {
    const p = ready(t)
    if (!p) return
    const store = await web.server.app.users.store({ create: true })
    assert.ok(store)
    key = newApiKey()
    await store.createKey({
      name: 'alice',
      role: 'user',
      keyHash: hashApiKey(key),
      at: new Date().toISOString(),
    })

    // Without a key a title page only invites to add one.
    await p.goto(`${web.server.url}/title/${GODFATHER}`)
    await rendered(p)
    const invite = p.locator('.mine-invite a')
    assert.equal(await invite.getAttribute('href'), '/lists')
    assert.equal(await p.locator('.mine-watch').count(), 0)
    await invite.click()
    await p.waitForURL(/\/lists$/)
    await rendered(p)
    assert.equal(await p.locator('h1').textContent(), 'My lists')

    const input = p.locator('#lists-key')
    const alert = p.locator('.key-message')
    await input.fill('not-a-key')
    await p.locator('.lists-key-form button[type=submit]').click()
    await alert.locator('.notice').waitFor()
    assert.match((await alert.textContent()) ?? '', /That key was not accepted\..*API key/)
    assert.equal(
      await p.evaluate(() => localStorage.getItem('marquee.apiKey')),
      null,
      'a refused key is not kept',
    )

    // A key of the --api-keys file: the API's 403 says why it cannot keep lists.
    await input.fill(FILE_KEY)
    await p.locator('.lists-key-form button[type=submit]').click()
    await alert.locator('.notice', { hasText: 'cannot keep lists' }).waitFor()
    assert.match((await alert.textContent()) ?? '', /marquee keys create/)

    await input.fill(key)
    await p.locator('.lists-key-form button[type=submit]').click()
    await p.locator('#tab-watchlist').waitFor()
    await rendered(p)
    assert.equal(await p.evaluate(() => localStorage.getItem('marquee.apiKey')), key)
    assert.equal(await p.locator('#tab-watchlist .tab-count').textContent(), '(0)')
    assert.match((await p.locator('.lists-status').textContent()) ?? '', /watchlist is empty/)
  })

  it('adds to the watchlist and rates from a title page, by mouse and keyboard, sending the key as Bearer', async (t) => {
    const p = ready(t)
    if (!p || !key) return
    const auth: string[] = []
    const onRequest = (r: { url(): string; headers(): Record<string, string> }) => {
      if (new URL(r.url()).pathname.startsWith('/me/')) auth.push(r.headers().authorization ?? '')
    }
    p.on('request', onRequest)
    await p.goto(`${web.server.url}/title/${GODFATHER}`)
    await rendered(p)
    const watch = p.locator('.mine-watch')
    await watch.waitFor()
    assert.equal(await watch.getAttribute('aria-pressed'), 'false')
    assert.match((await watch.textContent()) ?? '', /Add to watchlist/)
    await watch.click()
    await p.locator('.mine-watch[aria-pressed=true]').waitFor()
    assert.match((await watch.textContent()) ?? '', /On your watchlist/)
    assert.equal((await mine(`/me/watchlist/${GODFATHER}`))?.tconst, GODFATHER)

    // The rating: one tab stop; arrows move, Enter rates.
    const stars = p.locator('.mine-star')
    assert.equal(await stars.count(), 10)
    assert.equal(await p.locator('.mine-star[aria-pressed=true]').count(), 0)
    assert.equal(await p.locator('.mine-clear').isHidden(), true)
    await stars.nth(0).focus()
    for (let i = 0; i < 7; i++) await p.keyboard.press('ArrowRight')
    await p.keyboard.press('Enter')
    await p.locator('.mine-star[aria-pressed=true]').waitFor()
    assert.equal(await p.locator('.mine-star[aria-pressed=true]').getAttribute('aria-label'), '8 out of 10')
    assert.equal(await p.locator('.mine-current').textContent(), '8/10')
    assert.match((await p.locator('.mine-status').textContent()) ?? '', /Rated 8 out of 10/)
    assert.equal((await mine(`/me/ratings/${GODFATHER}`))?.rating, 8)
    assert.equal(await p.locator('.mine-star[tabindex="0"]').getAttribute('aria-label'), '8 out of 10')

    // Cleared, then rated 9 by mouse.
    await p.locator('.mine-clear').click()
    await p.locator('.mine-current', { hasText: 'Not rated' }).waitFor()
    assert.equal(await mine(`/me/ratings/${GODFATHER}`), null)
    await stars.nth(8).click()
    await p.locator('.mine-current', { hasText: '9/10' }).waitFor()

    // A second title: rated only.
    await p.goto(`${web.server.url}/title/${SIMPSONS}`)
    await rendered(p)
    await p.locator('.mine-star').nth(6).click()
    await p.locator('.mine-current', { hasText: '7/10' }).waitFor()

    // Reloaded, the page shows what was saved.
    await p.goto(`${web.server.url}/title/${GODFATHER}`)
    await rendered(p)
    await p.locator('.mine-watch[aria-pressed=true]').waitFor()
    assert.equal(await p.locator('.mine-star[aria-pressed=true]').getAttribute('aria-label'), '9 out of 10')
    p.off('request', onRequest)
    assert.ok(auth.length >= 6)
    assert.ok(
      auth.every((a) => a === `Bearer ${key}`),
      auth.join('\n'),
    )
  })

  it('shows both lists on My lists, sorted and linked, and exports the CSV with the key', async (t) => {
    const p = ready(t)
    if (!p || !key) return
    await p.goto(`${web.server.url}/lists`)
    await rendered(p)
    await p.locator('.my-list').waitFor()
    assert.equal(await p.locator('#tab-watchlist').getAttribute('aria-selected'), 'true')
    assert.equal(await p.locator('#tab-watchlist .tab-count').textContent(), '(1)')
    assert.equal(await p.locator('#tab-ratings .tab-count').textContent(), '(2)')
    const first = p.locator('.my-item').first()
    assert.equal(await first.locator('.my-item-title').getAttribute('href'), `/title/${GODFATHER}`)
    assert.match((await first.textContent()) ?? '', /The Godfather.*You: 9\/10.*Added/)
    await shot(p, 'lists-watchlist', true)

    await p.locator('#tab-ratings').click()
    await p.waitForURL(/list=ratings/)
    await rendered(p)
    // Most recent first: The Simpsons was rated last.
    const titles = () => p.locator('.my-item-title').allTextContents()
    assert.deepEqual(await titles(), ['The Simpsons', 'The Godfather'])
    await p.locator('#lists-sort').selectOption('mine')
    await p.waitForURL(/sort=mine/)
    await rendered(p)
    assert.deepEqual(await titles(), ['The Godfather', 'The Simpsons'])
    await shot(p, 'lists-ratings', true)

    const [download] = await Promise.all([
      p.waitForEvent('download'),
      p.locator('button[data-format=csv]').click(),
    ])
    assert.equal(download.suggestedFilename(), 'marquee-ratings.csv')
    const csv = await readFile((await download.path()) as string, 'utf8')
    const [header, ...rows] = csv.trim().split(/\r?\n/)
    assert.match(header, /^tconst,rating,ratedAt,onWatchlist,/)
    assert.equal(rows.length, 2)
    assert.ok(rows.some((r) => r.startsWith(`${GODFATHER},9,`)))
    assert.ok(rows.some((r) => r.startsWith(`${SIMPSONS},7,`)))

    const [ndjson] = await Promise.all([
      p.waitForEvent('download'),
      p.locator('button[data-format=ndjson]').click(),
    ])
    const lines = (await readFile((await ndjson.path()) as string, 'utf8')).trim().split('\n')
    assert.deepEqual(lines.map((l) => JSON.parse(l).tconst).sort(), [GODFATHER, SIMPSONS])
  })

  it('imports IMDb’s ratings CSV all or nothing, naming the rows it cannot match by line', async (t) => {
    const p = ready(t)
    if (!p || !key) return
    const titles = (await web.api('/titles?type=movie&sort=votes&order=desc&limit=5')) as Json
    const others = titles.items.map((x: Json) => x.id).filter((id: string) => id !== GODFATHER)
    const [a, b] = others
    // IMDb's own columns; a title with commas and quotes inside its field.
    const csv = [
      'Const,Your Rating,Date Rated,Title,Original Title,URL,Title Type,IMDb Rating,Runtime (mins),Year,Genres,Num Votes,Release Date,Directors',
      `${a},6,2024-01-02,"Love, Actually ""Really""",x,https://www.imdb.com/title/${a}/,Movie,7.6,135,2003,"Comedy, Drama, Romance",500000,2003-11-14,Richard Curtis`,
      `${MISSING},10,2024-01-03,"Nowhere, Man",x,https://www.imdb.com/title/${MISSING}/,Movie,5.0,90,2001,Drama,10,2001-01-01,Someone`,
      `${b},4,2024-01-04,Plain,x,https://www.imdb.com/title/${b}/,Movie,6.1,100,1999,Drama,1000,1999-01-01,"Doe, Jane"`,
    ].join('\r\n')
    await p.goto(`${web.server.url}/lists?list=ratings`)
    await rendered(p)
    await p.locator('#lists-import').setInputFiles({
      name: 'ratings.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(csv),
    })
    const report = p.locator('.import-report')
    await report.locator('.import-bad').waitFor()
    const text = (await report.textContent()) ?? ''
    assert.match(text, /Nothing was imported: 1 row of ratings\.csv could not be matched/)
    assert.match(text, /IMDb ratings \(CSV\), 3 rows/)
    assert.match(text, new RegExp(`Line 3: ${MISSING} is not in the dataset`))
    // All or nothing: neither good row was applied.
    const ratings = async () => (await mine('/me/ratings?limit=100')).items.map((r: Json) => r.tconst).sort()
    assert.deepEqual(await ratings(), [GODFATHER, SIMPSONS].sort())
    await shot(p, 'lists-import-report')

    await report.getByRole('button', { name: 'Import the other 2 rows' }).click()
    await report.locator('.import-ok').waitFor()
    assert.match((await report.textContent()) ?? '', /Imported 2 rows of ratings\.csv.*2 ratings set/)
    assert.deepEqual(await ratings(), [GODFATHER, SIMPSONS, a, b].sort())
    assert.equal((await mine(`/me/ratings/${a}`)).rating, 6)
    await p.locator('#tab-ratings .tab-count', { hasText: '(4)' }).waitFor()

    // A rating out of range is reported before anything is sent; IMDb's watchlist export is read too.
    await p.locator('#lists-import').setInputFiles({
      name: 'bad.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(`Const,Your Rating,Date Rated\r\n${a},11,2024-01-01\r\nnot-an-id,5,2024-01-01\r\n`),
    })
    await report.locator('.import-bad').waitFor()
    assert.match(
      (await report.textContent()) ?? '',
      /Line 2: tt\d+ has rating “11”, not 1 to 10.*Line 3: not-an-id is not an IMDb title id/,
    )
    await p.locator('#lists-import').setInputFiles({
      name: 'WATCHLIST.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(
        `Position,Const,Created,Modified,Description,Title\n1,${b},2024-02-01,2024-02-01,,"Plain, too"\n`,
      ),
    })
    await report.locator('.import-ok').waitFor()
    assert.match(
      (await report.textContent()) ?? '',
      /IMDb watchlist \(CSV\).*1 title added to your watchlist/,
    )
    assert.equal((await mine(`/me/watchlist/${b}`))?.tconst, b)
  })

  it('has no serious or critical axe violations with a key, in light and dark mode', async (t) => {
    if (!ready(t) || !key) return
    // axe is injected as an inline script, which the app's CSP forbids: a context of its own.
    const context = await web.browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } })
    const signedIn = key
    await context.addInitScript((k) => localStorage.setItem('marquee.apiKey', k), signedIn)
    const p = await context.newPage()
    try {
      const source = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')
      const found: string[] = []
      for (const scheme of ['light', 'dark'] as const) {
        await p.emulateMedia({ colorScheme: scheme })
        for (const [name, path, selector] of [
          ['lists', '/lists?list=ratings', '.my-list'],
          ['title-mine', `/title/${GODFATHER}`, '.mine-star[aria-pressed=true]'],
        ]) {
          await p.goto(`${web.server.url}${path}`)
          await rendered(p)
          await p.locator(selector).first().waitFor()
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
                `${name} (${scheme}): ${v.id} ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
              )
          await shot(p, `lists-a11y-${name}-${scheme}`, true)
        }
      }
      assert.deepEqual(found, [])
    } finally {
      await context.close()
    }
  })

  it('fits a phone, and forgets the key', async (t) => {
    const p = ready(t)
    if (!p || !key) return
    await p.setViewportSize({ width: 390, height: 800 })
    try {
      await p.goto(`${web.server.url}/lists`)
      await rendered(p)
      await p.locator('.my-list').waitFor()
      assert.ok(await p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth))
      await shot(p, 'lists-phone', true)
      await p.goto(`${web.server.url}/title/${GODFATHER}`)
      await rendered(p)
      await p.locator('.mine-watch').waitFor()
      assert.ok(await p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth))
    } finally {
      await p.setViewportSize({ width: 1280, height: 900 })
    }

    await p.goto(`${web.server.url}/lists`)
    await rendered(p)
    await p.locator('.lists-forget').click()
    await p.locator('#lists-key').waitFor()
    assert.equal(await p.evaluate(() => localStorage.getItem('marquee.apiKey')), null)
    await p.goto(`${web.server.url}/title/${GODFATHER}`)
    await rendered(p)
    await p.locator('.mine-invite').waitFor()
    assert.deepEqual(errors, [])
  })
})
