import { api, url } from '../api.js'
import { monogram, ratingBadge, section, skeleton } from '../components.js'
import { h, highlight } from '../dom.js'
import { correctedQuery, hitHref, hitMeta, hitWords } from '../search.js'

/** All matches for a query: titles and people, as the search box's Enter shows them. */
export async function findPage(view, query) {
  const q = (query.get('q') ?? '').trim()
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
  view.render(skeleton(6))
  const body = await api(url('/search', { q, limit: 20 }), { signal: view.signal })
  const words = hitWords(body)
  const list = (hits) =>
    h(
      'ul',
      { class: 'results' },
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
  const titles = body.results.filter((r) => r.kind === 'title')
  const people = body.results.filter((r) => r.kind === 'name')
  const fixed = body.corrected ? correctedQuery(body) : null
  view.render([
    h(
      'div',
      { class: 'intro' },
      h('h1', { tabindex: '-1' }, `Results for “${q}”`),
      fixed ? h('p', { class: 'muted' }, `No exact matches; showing matches for “${fixed}”.`) : null,
      body.results.length === 0
        ? h('p', null, 'Nothing matched. Check the spelling, or try fewer words.')
        : null,
    ),
    titles.length ? section('title-results', 'Titles', list(titles)) : null,
    people.length ? section('name-results', 'People', list(people)) : null,
  ])
}
