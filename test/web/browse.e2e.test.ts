import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { useWebFixture } from '../helpers/browser.js'

/** The browse page, the ready-made lists and the search results page in a real headless Chromium. */

// The functions given to page.evaluate() run in the browser; these name what they use there.
declare const document: {
  documentElement: { scrollWidth: number }
  activeElement: { id: string; tagName: string } | null
  querySelector(selector: string): { textContent: string | null } | null
}
declare const window: { innerWidth: number }

const GODFATHER = 'tt0068646'

// biome-ignore lint/suspicious/noExplicitAny: API bodies are checked field by field
type Json = any

describe('browse, top lists and search results in a real browser', () => {
  const web = useWebFixture()
  const { ready, rendered, shot, api, errors } = web

  it('filters, sorts and pages the browse page; its URL keeps the state through reload and back', async (t) => {
    const p = ready(t)
    if (!p) return
    await p.goto(`${web.server.url}/browse?type=movie`)
    await rendered(p)
    const status = p.locator('.browse-status')
    await status.waitFor()
    assert.equal(await p.locator('h1').textContent(), 'Browse titles')
    assert.equal(await p.locator('#f-type-movie').isChecked(), true)
    // Facet counts beside the filters: the movie count is the total.
    const movies = (await api('/titles?type=movie&limit=1')) as Json
    // The counts arrive on their own, after the titles.
    await p.locator('label[for=f-type-movie] .facet-count', { hasText: /\d/ }).waitFor()
    const movieCount = (await p.locator('label[for=f-type-movie] .facet-count').textContent()) ?? ''
    assert.equal(movieCount.replaceAll(',', ''), String(movies.total))
    const dramaCount = Number(
      ((await p.locator('label[for=f-genre-Drama] .facet-count').textContent()) ?? '').replaceAll(',', ''),
    )
    assert.ok(dramaCount > 0, 'genre counts are shown')

    // A genre: the URL and the results follow, focus stays on the checkbox.
    await p.locator('#f-genre-Drama').check()
    await p.waitForURL(/genre=Drama/)
    await p.waitForFunction(() => !document.activeElement || document.activeElement.id === 'f-genre-Drama')
    await p.locator('.browse-results:not([aria-busy])').waitFor()
    assert.match((await status.textContent()) ?? '', new RegExp(`of ${dramaCount.toLocaleString('en')}`))
    const metas = await p.locator('.browse-results .result-meta').allTextContents()
    assert.ok(metas.length > 0)
    assert.ok(
      metas.every((m) => m.startsWith('Movie') && m.includes('Drama')),
      metas.join('\n'),
    )

    // Sort by rating: ratings never rise down the list.
    await p.locator('#f-sort').selectOption('rating')
    await p.waitForURL(/sort=rating/)
    await p.locator('.browse-results:not([aria-busy])').waitFor()
    const ratings = async () =>
      (await p.locator('.browse-results .rating-value').allTextContents()).map(Number)
    const first = await ratings()
    assert.deepEqual(
      first,
      [...first].sort((a, b) => b - a),
    )
    await shot(p, 'browse')

    // The next page: a keyset cursor in the URL, the ranks go on.
    await p.locator('.pager-next').click()
    await p.waitForURL(/cursor=.*/)
    await p.waitForFunction(() => /^26–/.test(document.querySelector('.browse-status')?.textContent ?? ''))
    const second = await ratings()
    assert.ok(second[0] <= first[first.length - 1])
    const pageTwo = p.url()
    assert.match(pageTwo, /page=2/)

    // Reload: the same filters, sort and page.
    await p.reload()
    await rendered(p)
    await p.locator('.browse-results:not([aria-busy]) .results').waitFor()
    assert.equal(await p.locator('#f-genre-Drama').isChecked(), true)
    assert.equal(await p.locator('#f-type-movie').isChecked(), true)
    assert.equal(await p.locator('#f-sort').inputValue(), 'rating')
    assert.match((await status.textContent()) ?? '', /^26–/)
    assert.deepEqual(await ratings(), second)

    // Back: the first page of the rating sort, then the votes sort.
    await p.goBack()
    await p.waitForURL((u) => !u.search.includes('cursor'))
    await rendered(p)
    await p.locator('.browse-results:not([aria-busy]) .results').waitFor()
    assert.match((await p.locator('.browse-status').textContent()) ?? '', /^1–25 /)
    assert.equal(await p.locator('#f-sort').inputValue(), 'rating')
    await p.goBack()
    await rendered(p)
    await p.locator('.browse-results:not([aria-busy]) .results').waitFor()
    assert.equal(await p.locator('#f-sort').inputValue(), 'votes')
    assert.equal(await p.locator('#f-genre-Drama').isChecked(), true)

    // A year range typed in applies with Enter.
    await p.locator('#f-yearFrom').fill('1970')
    await p.locator('#f-yearTo').fill('1979')
    await p.locator('#f-yearTo').press('Enter')
    await p.waitForURL(/yearFrom=1970&yearTo=1979/)
    await p.locator('.browse-results:not([aria-busy])').waitFor()
    const years = await p.locator('.browse-results .result-meta').allTextContents()
    assert.ok(
      years.every((m) => /· 197\d/.test(m)),
      years.join('\n'),
    )
    assert.deepEqual(errors, [])
  })

  it('a top list renders, reached from the home page, ranked by weighted rating', async (t) => {
    const p = ready(t)
    if (!p) return
    await p.goto(`${web.server.url}/`)
    await rendered(p)
    await p.locator('#ready-lists a', { hasText: 'Top movies' }).click()
    await p.waitForURL(/\/browse\?type=movie&sort=weighted/)
    await rendered(p)
    await p.locator('.browse-results:not([aria-busy])').waitFor()
    assert.equal(await p.locator('h1').textContent(), 'Top movies')
    const top = (await api('/titles?type=movie&sort=weighted&limit=25')) as Json
    const names = await p.locator('.browse-results .result-name').allTextContents()
    assert.deepEqual(
      names,
      top.items.map((x: Json) => x.primaryTitle),
    )
    t.diagnostic(`top movies: ${names.slice(0, 3).join(', ')} (${top.total} ranked)`)
    assert.ok(names.length > 0)
    assert.match((await p.locator('.browse-results').textContent()) ?? '', /weighted rating/)
    await shot(p, 'top-movies', true)

    // The decade lists from the browse page's own list nav.
    await p.locator('.ready-lists a', { hasText: '1990s' }).click()
    await p.waitForURL(/yearFrom=1990&yearTo=1999/)
    await rendered(p)
    assert.equal(await p.locator('h1').textContent(), 'Most popular of the 1990s')
    assert.deepEqual(errors, [])
  })

  it('a genre tag and the year on a title page lead to the filtered browse page', async (t) => {
    const p = ready(t)
    if (!p) return
    await p.goto(`${web.server.url}/title/${GODFATHER}`)
    await rendered(p)
    await shot(p, 'title-genre-links')
    await p.locator('.hero .chips a', { hasText: 'Crime' }).click()
    await p.waitForURL(/\/browse\?genre=Crime&sort=votes/)
    await rendered(p)
    await p.locator('.browse-results:not([aria-busy]) .results').waitFor()
    assert.equal(await p.locator('#f-genre-Crime').isChecked(), true)
    const metas = await p.locator('.browse-results .result-meta').allTextContents()
    assert.ok(metas.every((m) => m.includes('Crime')))
    assert.ok(await p.locator('.browse-results .result-name', { hasText: 'The Godfather' }).count())

    await p.goBack()
    await rendered(p)
    await p.locator('.hero .facts a', { hasText: '1972' }).click()
    await p.waitForURL(/yearFrom=1972&yearTo=1972/)
    await rendered(p)
    await p.locator('.browse-results:not([aria-busy]) .results').waitFor()
    assert.equal(await p.locator('#f-yearFrom').inputValue(), '1972')
    assert.ok(await p.locator('.browse-results .result-name', { hasText: 'The Godfather' }).count())
  })

  it('the results page keeps the query, switches tabs and pages', async (t) => {
    const p = ready(t)
    if (!p) return
    await p.goto(`${web.server.url}/find?q=the`)
    await rendered(p)
    assert.equal(await p.locator('#search-input').inputValue(), 'the', 'the query stays in the box')
    const titlesTab = p.locator('[role=tab]#tab-titles')
    const peopleTab = p.locator('[role=tab]#tab-people')
    assert.equal(await titlesTab.getAttribute('aria-selected'), 'true')
    const titles = (await api('/search?q=the&kind=title&limit=20')) as Json
    assert.match(
      (await titlesTab.textContent()) ?? '',
      new RegExp(`Titles \\(${titles.total.toLocaleString('en')}`),
    )
    t.diagnostic(`"the": ${titles.total} titles, exact ${titles.totalIsExact}`)
    assert.ok(titles.total > 20, 'enough titles for a second page')
    const names = async () => p.locator('#results-panel .result-name').allTextContents()
    assert.deepEqual(
      await names(),
      titles.results.map((r: Json) => r.title),
    )
    // Vote counts carry their unit.
    assert.match((await p.locator('#results-panel .rating-votes').first().textContent()) ?? '', /votes$/)
    await shot(p, 'find')

    await p.locator('.pager-next').click()
    await p.waitForURL(/page=2/)
    await rendered(p)
    assert.match((await p.locator('.results-status').textContent()) ?? '', /^21–/)
    const page2 = (await api('/search?q=the&kind=title&limit=20&offset=20')) as Json
    assert.deepEqual(
      await names(),
      page2.results.map((r: Json) => r.title),
    )
    assert.equal(await p.locator('#search-input').inputValue(), 'the')

    // People: by keyboard, arrow to the tab and open it.
    await titlesTab.focus()
    await p.keyboard.press('ArrowRight')
    assert.equal(await p.evaluate(() => document.activeElement?.id), 'tab-people')
    await p.keyboard.press('Enter')
    await p.waitForURL(/tab=people/)
    await rendered(p)
    assert.equal(await peopleTab.getAttribute('aria-selected'), 'true')
    const people = (await api('/search?q=the&kind=name&limit=20')) as Json
    assert.deepEqual(
      await names(),
      people.results.map((r: Json) => r.name),
    )
    await shot(p, 'find-people')
    // No page is wider than the viewport at 390 px.
    await p.setViewportSize({ width: 390, height: 844 })
    for (const path of [
      '/find?q=the',
      '/browse?type=movie&sort=weighted',
      `/browse?genre=Drama&sort=rating`,
    ]) {
      await p.goto(`${web.server.url}${path}`)
      await rendered(p)
      const wide = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
      assert.ok(wide <= 0, `${path} scrolls sideways by ${wide} px`)
    }
    await shot(p, 'browse-phone')
    await p.setViewportSize({ width: 1280, height: 900 })
    assert.deepEqual(errors, [])
  })

  it('"See all results" ends the suggestions, for the mouse and the keyboard', async (t) => {
    const p = ready(t)
    if (!p) return
    await p.goto(`${web.server.url}/`)
    await rendered(p)
    const input = p.locator('#search-input')
    await input.focus()
    await p.keyboard.type('godf', { delay: 20 })
    const all = p.locator('#search-listbox [role=option].suggestion-all')
    await all.waitFor()
    assert.match((await all.textContent()) ?? '', /See all results for “godf”/)
    // Vote counts in the suggestions carry their unit too.
    assert.match(
      (await p.locator('#search-listbox .suggestion-rating small').first().textContent()) ?? '',
      /votes$/,
    )
    await shot(p, 'suggestions-see-all')
    await all.click()
    await p.waitForURL(/\/find\?q=godf$/)
    await rendered(p)
    assert.equal(await p.locator('h1').textContent(), 'Results for “godf”')
    assert.equal(await input.inputValue(), 'godf')

    // Keyboard: ArrowUp from the box lands on the last option, "See all results"; Enter opens it.
    await p.goto(`${web.server.url}/`)
    await rendered(p)
    await input.focus()
    await p.keyboard.type('pacino', { delay: 20 })
    await all.waitFor()
    await p.keyboard.press('ArrowUp')
    const active = await input.getAttribute('aria-activedescendant')
    assert.equal(await p.locator(`#${active}`).getAttribute('class'), 'suggestion suggestion-all')
    await p.keyboard.press('Enter')
    await p.waitForURL(/\/find\?q=pacino$/)
    await rendered(p)
    assert.equal(
      await p.locator('#tab-people').getAttribute('aria-selected'),
      'true',
      'people first when no title matched',
    )
    assert.deepEqual(errors, [])
  })
})
