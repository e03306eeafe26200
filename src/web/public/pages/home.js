import { api } from '../api.js'
import { section, sectionError, skeleton, titleCard } from '../components.js'
import { h, replace } from '../dom.js'
import { HOME_FILMS, HOME_SERIES } from '../prefetch.js'
import { listLinks } from './browse.js'

/** The start page: an invitation to search, and the most voted films and series to wander into. */
export async function homePage(view) {
  view.setTitle(null)
  const films = h('div', null, skeleton(2))
  const series = h('div', null, skeleton(2))
  view.render([
    h(
      'div',
      { class: 'intro' },
      h('h1', { tabindex: '-1' }, 'Films, series and the people who make them'),
      h(
        'p',
        { class: 'lead' },
        'Search above',
        // Only where a keyboard is likely: style.css hides it on touch screens.
        h('span', { class: 'kbd-hint' }, ' (press ', h('kbd', null, '/'), ' to jump there)'),
        '. Every series has a season by episode heatmap of its ratings.',
      ),
    ),
    section('popular-films', 'Most voted films', films),
    section('popular-series', 'Most voted series', series),
    section(
      'ready-lists',
      'Lists',
      listLinks('h3'),
      h(
        'p',
        null,
        h('a', { href: '/browse' }, 'Browse every title'),
        ' by type, genre, year, rating and more.',
      ),
    ),
  ])
  const fill = async (host, path) => {
    try {
      const body = await api(path, { signal: view.signal })
      replace(
        host,
        h(
          'ul',
          { class: 'cards' },
          body.items.map((t) => titleCard(t)),
        ),
      )
    } catch (err) {
      if (err?.name !== 'AbortError') replace(host, sectionError(err))
    }
  }
  await Promise.all([fill(films, HOME_FILMS), fill(series, HOME_SERIES)])
}
