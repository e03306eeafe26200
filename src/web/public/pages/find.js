import { api, url } from '../api.js'
import { linkTabs, monogram, ratingBadge, skeleton } from '../components.js'
import { h, highlight } from '../dom.js'
import { count } from '../format.js'
import { correctedQuery, hitHref, hitMeta, hitWords, setSearchText } from '../search.js'

/** Results per page; the API ranks 500 per kind, so 25 pages at most. */
const PAGE_SIZE = 20
const MAX_RESULTS = 500

const TABS = [
  { id: 'titles', kind: 'title', label: 'Titles' },
  { id: 'people', kind: 'name', label: 'People' },
]

/** The results page's address. */
export const findHref = (q, tab, page) =>
  url('/find', { q, tab: tab === 'titles' ? undefined : tab, page: page > 1 ? page : undefined })

const searchUrl = (q, kind, page) =>
  url('/search', { q, kind, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE })

const totalText = (body) => {
  const n = body.total ?? body.results.length
  return body.totalIsExact === false ? `${count(n)}+` : count(n)
}

/**
 * All matches for a query, titles and people on tabs of their own, page by page
 * (`/find?q=love&tab=people&page=2`). Both tabs' first answers are asked for at once, so each
 * tab shows its count and switching is instant.
 */
export async function findPage(view, query) {
  const q = (query.get('q') ?? '').trim()
  setSearchText(q)
  view.setTitle(q ? `“${q}”` : 'Search')
  if (!/[\p{L}\p{N}]/u.test(q)) {
    view.render(
      h(
        'div',
        { class: 'intro' },
        h('h1', { tabindex: '-1' }, 'Search'),
        h('p', null, 'Type a title or a name in the search box above.'),
      ),
    )
    return
  }
  const asked = TABS.find((t) => t.id === query.get('tab'))
  const page = Math.min(Math.max(1, Math.floor(Number(query.get('page')) || 1)), MAX_RESULTS / PAGE_SIZE)
  view.render(skeleton(6))
  // The page asked for on its tab, and the first page of the other tab for its count.
  const pageOf = (tab) => (tab === (asked ?? TABS[0]) ? page : 1)
  const [titles, people] = await Promise.all(
    TABS.map((tab) => api(searchUrl(q, tab.kind, pageOf(tab)), { signal: view.signal })),
  )
  const bodies = { titles, people }
  // Opened without a tab: people when no title matched but someone did.
  const current =
    asked ?? (titles.results.length === 0 && people.results.length > 0 && page === 1 ? TABS[1] : TABS[0])
  const body = bodies[current.id]
  const words = hitWords(body)

  const list = (hits, first) =>
    h(
      'ol',
      { class: 'results', start: String(first) },
      hits.map((hit) => {
        const name = hit.kind === 'name' ? hit.name : hit.title
        return h(
          'li',
          { class: 'result' },
          monogram(hit.id, name, 'sm'),
          h(
            'span',
            { class: 'result-body' },
            h('a', { href: hitHref(hit), class: 'result-name' }, highlight(name, words)),
            hit.matchedTitle
              ? h('span', { class: 'muted' }, ' aka ', highlight(hit.matchedTitle, words))
              : null,
            h('span', { class: 'result-meta' }, hitMeta(hit)),
          ),
          hit.kind === 'title' ? ratingBadge(hit.rating, hit.votes, 'sm') : null,
        )
      }),
    )

  const tabs = linkTabs(
    'Kind of result',
    'results-panel',
    TABS.map((tab) => ({
      id: tab.id,
      label: tab.label,
      href: findHref(q, tab.id, 1),
      count: totalText(bodies[tab.id]),
      selected: tab === current,
    })),
  )

  const first = (page - 1) * PAGE_SIZE + 1
  const last = first + body.results.length - 1
  const lastPage = Math.ceil(Math.min(body.total ?? 0, MAX_RESULTS) / PAGE_SIZE)
  const pager =
    page > 1 || body.next
      ? h(
          'nav',
          { class: 'pager', 'aria-label': 'Pages' },
          page > 1
            ? h(
                'a',
                { href: findHref(q, current.id, page - 1), rel: 'prev', class: 'pager-prev' },
                '« Previous',
              )
            : null,
          h('span', { class: 'pager-where' }, `Page ${page}${lastPage > 1 ? ` of ${lastPage}` : ''}`),
          body.next
            ? h('a', { href: findHref(q, current.id, page + 1), rel: 'next', class: 'pager-next' }, 'Next »')
            : null,
        )
      : null

  const fixed = body.corrected ? correctedQuery(body) : null
  const none = titles.results.length === 0 && people.results.length === 0 && page === 1
  const panel = h(
    'div',
    { role: 'tabpanel', id: 'results-panel', 'aria-labelledby': `tab-${current.id}`, class: 'tab-panel' },
    body.results.length
      ? [
          h(
            'p',
            { class: 'muted results-status' },
            `${count(first)}–${count(last)} of ${totalText(body)} ${current.id === 'people' ? 'people' : 'titles'}`,
          ),
          list(body.results, first),
        ]
      : h(
          'p',
          null,
          page > 1
            ? ['No more results. ', h('a', { href: findHref(q, current.id, 1) }, 'Back to the first page')]
            : `No ${current.id === 'people' ? 'people' : 'titles'} matched.`,
        ),
    pager,
  )
  view.setTitle(`“${q}”${page > 1 ? `, page ${page}` : ''}`)
  view.render([
    h(
      'div',
      { class: 'intro' },
      h('h1', { tabindex: '-1' }, `Results for “${q}”`),
      fixed ? h('p', { class: 'muted' }, `No exact matches; showing matches for “${fixed}”.`) : null,
      none ? h('p', null, 'Nothing matched. Check the spelling, or try fewer words.') : null,
    ),
    none ? null : [tabs, panel],
  ])
  view.announce(
    body.results.length ? `${totalText(body)} ${current.label.toLowerCase()} found` : 'Nothing found',
  )
}
