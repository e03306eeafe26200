import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { useWebFixture } from '../helpers/browser.js'

/**
 * Filmographies grouped by role with episodes under their series, their state in the URL, and the
 * review's fixes (heatmap taps and best episode, tiles, hints), in a real browser.
 */

// The functions given to page.evaluate() run in the browser; these name what they use there.
declare const location: { href: string; search: string }
declare const document: {
  querySelector(selector: string): { textContent: string | null; src?: string } | null
}

const SIMPSONS = 'tt0096697'
const CASTELLANETA = 'nm0144657'
const PACINO = 'nm0000199'

interface Credit {
  title: { id: string; primaryTitle: string; startYear: number | null }
  episodeOf: {
    seriesId: string
    seriesTitle: string | null
    season: number | null
    episode: number | null
  } | null
  roles: { category: string; job: string | null; characters: string[] }[]
}

describe('web interface: filmographies and fixes', () => {
  const web = useWebFixture()
  const { ready, rendered, shot, api, errors } = web

  const filmographyLoaded = (p: NonNullable<ReturnType<typeof ready>>) =>
    p.waitForFunction(() => !/loading/.test(document.querySelector('.film-status')?.textContent ?? 'loading'))

  it('loads a filmography in one request and folds episodes under their series', async (t) => {
    const p = ready(t)
    if (!p) return
    const body = (await api(`/names/${CASTELLANETA}/credits?limit=2000`)) as { items: Credit[] }
    const episodes = body.items.filter((i) => i.episodeOf?.seriesId === SIMPSONS)
    assert.ok(episodes.length > 1, 'the sample credits the regular cast on every episode')
    assert.equal(episodes[0].episodeOf?.seriesTitle, 'The Simpsons')

    const requests: string[] = []
    const listen = (r: { url(): string }) => {
      if (r.url().includes('/credits')) requests.push(r.url())
    }
    p.on('request', listen)
    await p.goto(`${web.server.url}/name/${CASTELLANETA}`)
    await rendered(p)
    await filmographyLoaded(p)
    p.off('request', listen)
    assert.equal(requests.length, 1, `one credits request: ${requests.join(', ')}`)
    assert.match(requests[0], /limit=2000/)

    // Unfiltered, the status just counts.
    const status = (await p.locator('.film-status').textContent()) ?? ''
    assert.match(status, new RegExp(`^${body.items.length.toLocaleString('en')} credits?\\.$`))

    const years = episodes.map((e) => e.title.startYear).filter((y): y is number => y !== null)
    const span = `${Math.min(...years)}–${Math.max(...years)}`
    const toggle = p.locator('.film-group', { hasText: 'Actor' }).locator('.film-episodes-toggle').first()
    assert.equal(
      await toggle.textContent(),
      `${episodes.length.toLocaleString('en')} episodes${years.length ? `, ${span}` : ''}`,
    )
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false')
    await toggle.click()
    assert.equal(await toggle.getAttribute('aria-expanded'), 'true')
    const list = p.locator(`#${await toggle.getAttribute('aria-controls')}`)
    assert.equal(await list.locator('tr').count(), episodes.length)
    assert.match((await list.locator('.film-episode-code').first().textContent()) ?? '', /^S\d+ · E\d+$/)
    // Within a role's table the role column says what, never the category again.
    for (const cell of await p
      .locator('.film-group')
      .first()
      .locator('tbody td:nth-child(3)')
      .allTextContents())
      assert.doesNotMatch(cell, /^(Actor|Actress|Producer|Writer|Director)\b/)
    await shot(p, 'filmography-grouped', true)
  })

  it('keeps role, filter and sort in the URL across reload and back', async (t) => {
    const p = ready(t)
    if (!p) return
    await p.goto(`${web.server.url}/name/${CASTELLANETA}`)
    await rendered(p)
    await filmographyLoaded(p)
    const role = await p.locator('.role-filter input[type=radio]').nth(1).getAttribute('value')
    await p.locator(`label[for="role-${role}"]`).click()
    await p.locator('.film-table th button', { hasText: 'Title' }).first().click()
    await p.locator('#film-filter').fill('s')
    // The page's own address (page.url() learns of history.replaceState a moment later).
    const url = new URL(await p.evaluate(() => location.href))
    assert.equal(url.searchParams.get('role'), role)
    assert.equal(url.searchParams.get('sort'), 'title')
    assert.equal(url.searchParams.get('q'), 's')
    assert.match((await p.locator('.film-status').textContent()) ?? '', / of [\d,]+ credits? shown/)

    const check = async (when: string) => {
      await rendered(p)
      await filmographyLoaded(p)
      assert.equal(await p.locator(`#role-${role}`).isChecked(), true, when)
      assert.equal(await p.locator('#film-filter').inputValue(), 's', when)
      assert.equal(
        await p.locator('.film-table th', { hasText: 'Title' }).first().getAttribute('aria-sort'),
        'ascending',
        when,
      )
    }
    await p.reload()
    await check('after reload')
    await p.locator('.film-table a').first().click()
    await p.waitForURL('**/title/**')
    await rendered(p)
    await p.goBack()
    assert.equal(await p.evaluate(() => location.search), url.search)
    await check('after back')
  })

  it('previews a heatmap cell on the first tap and opens it on the second', async (t) => {
    if (!ready(t)) return
    const phone = await web.browser.newContext({
      viewport: { width: 390, height: 844 },
      hasTouch: true,
      isMobile: true,
    })
    try {
      const p = await phone.newPage()
      p.setDefaultTimeout(10_000)
      await p.goto(`${web.server.url}/title/${SIMPSONS}`)
      await rendered(p)
      const cell = p.locator('button.heat-cell').nth(2)
      const id = await cell.getAttribute('data-id')
      await cell.tap()
      assert.equal(await p.locator('.heat-tip').isVisible(), true)
      assert.match((await p.locator('.heat-tip').textContent()) ?? '', /Tap again to open/)
      assert.equal(new URL(p.url()).pathname, `/title/${SIMPSONS}`)
      await shot(p, 'heatmap-tap-preview')
      await cell.tap()
      await p.waitForURL(`**/title/${id}`)

      // The "press /" hint is for keyboards: a touch screen does not show it.
      await p.goto(`${web.server.url}/`)
      await rendered(p)
      assert.equal(await p.locator('.kbd-hint').isVisible(), false)
      await p.close()
    } finally {
      await phone.close()
    }
    const p = ready(t)!
    await p.goto(`${web.server.url}/`)
    await rendered(p)
    assert.equal(await p.locator('.kbd-hint').isVisible(), true)
  })

  it('names a best and lowest episode only from episodes with enough votes', async (t) => {
    const p = ready(t)
    if (!p) return
    const data = (await api(`/titles/${SIMPSONS}/episodes`)) as {
      seasons: { episodes: { id: string; rating: number | null; votes: number }[] }[]
    }
    const rated = data.seasons.flatMap((s) => s.episodes).filter((e) => e.rating !== null)
    const votes = rated.map((e) => e.votes).sort((a, b) => a - b)
    const min = Math.max(10, Math.round(votes[Math.floor((votes.length - 1) / 2)] / 4))
    const eligible = rated.filter((e) => e.votes >= min)
    const top = Math.max(...eligible.map((e) => e.rating!))
    await p.goto(`${web.server.url}/title/${SIMPSONS}`)
    await rendered(p)
    const best = p.locator('.heat-facts li', { hasText: 'Best:' }).locator('a')
    const bestId = ((await best.getAttribute('href')) ?? '').split('/').pop()
    const chosen = rated.find((e) => e.id === bestId)!
    assert.ok(chosen.votes >= min, `best has ${chosen.votes} votes, fewer than ${min}`)
    assert.equal(chosen.rating, top)
    assert.match((await best.textContent()) ?? '', /^S\d+ · E/)
  })

  it('derives tile initials from letters only', async (t) => {
    const p = ready(t)
    if (!p) return
    await p.goto(`${web.server.url}/name/${PACINO}`)
    await rendered(p)
    const got = await p.evaluate(async () => {
      const app = document.querySelector('script[type=module]')?.src ?? ''
      const m = await import(app.replace(/[^/]+\.js$/, 'components.js'))
      return ['Episode #3.4', 'The Godfather', 'Al Pacino', '1917', '#9'].map((x) => m.initials(x))
    })
    assert.deepEqual(got, ['E', 'G', 'AP', '1', '9'])
  })

  it('logged no script errors', (t) => {
    if (!ready(t)) return
    assert.deepEqual(errors, [])
  })
})
