import { ApiError, api } from '../api.js'
import { monogram, ratingBadge, section, sectionError, skeleton } from '../components.js'
import { h } from '../dom.js'
import {
  episodeCode,
  humanize,
  isSeries,
  languageName,
  regionName,
  runtime,
  titleType,
  years,
} from '../format.js'
import { heatmap } from '../heatmap.js'
import { myControls } from '../my-controls.js'
import { titleUrl } from '../prefetch.js'
import { genreLinks, yearLink } from './browse.js'

const CAST = new Set(['actor', 'actress', 'self', 'voice'])
const CREW_ORDER = [
  'director',
  'writer',
  'producer',
  'composer',
  'cinematographer',
  'editor',
  'casting_director',
]
const AKA_TYPES = {
  original: 'original title',
  imdbDisplay: 'display title',
  working: 'working title',
  alternative: 'alternative',
  dvd: 'DVD',
  festival: 'festival',
  tv: 'TV',
  video: 'video',
}
const AKAS_SHOWN = 12

/**
 * One title, in one request when the dataset has everything; when a part is missing from the
 * dataset (409), the title alone and each part on its own, so the rest of the page still shows.
 */
async function loadTitle(id, signal) {
  try {
    const t = await api(titleUrl(id), { signal })
    return { title: t, credits: t.credits, akas: t.akas, episodes: t.episodes }
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 409) throw err
  }
  const title = await api(`/titles/${id}`, { signal })
  const part = (path, pick) =>
    api(`/titles/${id}/${path}`, { signal }).then(pick, (err) =>
      err?.name === 'AbortError' ? Promise.reject(err) : err,
    )
  const [credits, akas, episodes] = await Promise.all([
    part('credits', (b) => b.credits),
    part('akas', (b) => b.akas),
    isSeries(title.type) ? part('episodes', (b) => b) : null,
  ])
  return { title, credits, akas, episodes }
}

export async function titlePage(view, id) {
  if (!/^tt\d{7,}$/.test(id)) {
    throw new ApiError({
      status: 404,
      title: 'Not Found',
      detail: `“${id}” is not an IMDb title id (they look like tt0068646).`,
    })
  }
  view.render(skeleton(6))
  // Started now, so the user's watchlist and rating load beside the title, not after it.
  const mine = myControls(id, { signal: view.signal, announce: view.announce })
  const { title: t, credits, akas, episodes } = await loadTitle(id, view.signal)
  const year = years(t.startYear, t.endYear, t.type === 'tvSeries')
  view.setTitle(`${t.primaryTitle}${year ? ` (${year})` : ''}`)

  const people = (refs) =>
    refs.map((p, i) => [i > 0 ? ', ' : '', h('a', { href: `/name/${p.id}` }, p.name ?? p.id)])
  const facts = [titleType(t.type), year, runtime(t.runtimeMinutes), t.isAdult ? 'Adult' : null].filter(
    Boolean,
  )

  const header = h(
    'header',
    { class: 'hero' },
    monogram(t.id, t.primaryTitle, 'lg'),
    h(
      'div',
      { class: 'hero-body' },
      t.episodeOf ? episodeTrail(t.episodeOf) : null,
      h('h1', { tabindex: '-1' }, t.primaryTitle),
      t.originalTitle && t.originalTitle !== t.primaryTitle
        ? h(
            'p',
            { class: 'original-title' },
            'Original title: ',
            h('span', { class: 'original' }, t.originalTitle),
          )
        : null,
      h(
        'p',
        { class: 'facts' },
        facts.map((f, i) => [
          i > 0 ? ' · ' : '',
          f === year && t.startYear ? yearLink(t.startYear, year) : f,
        ]),
      ),
      genreLinks(t.genres),
      ratingBadge(t.rating, t.votes, 'lg'),
      mine,
      t.directors?.length ? h('p', { class: 'credit-line' }, 'Directed by ', people(t.directors)) : null,
      t.writers?.length ? h('p', { class: 'credit-line' }, 'Written by ', people(t.writers)) : null,
      h('p', { class: 'muted small' }, h('span', { class: 'visually-hidden' }, 'IMDb id '), t.id),
    ),
  )

  const parts = [header]
  if (t.episodeOf) parts.push(episodeNeighbours(t, view))
  if (isSeries(t.type)) {
    parts.push(
      section(
        'episodes',
        'Episodes by season',
        episodes instanceof Error
          ? sectionError(episodes)
          : episodes && episodes.seasons.length > 0
            ? heatmap(episodes, { navigate: view.navigate })
            : h('p', { class: 'muted' }, 'No episodes of this series are in the dataset.'),
      ),
    )
  }
  parts.push(creditSections(credits))
  parts.push(akaSection(akas))
  view.render(parts)
}

function episodeTrail(of) {
  const code = episodeCode(of.season, of.episode)
  return h(
    'nav',
    { class: 'trail', 'aria-label': 'Series' },
    h('a', { href: `/title/${of.seriesId}` }, of.seriesTitle ?? 'The series'),
    code ? h('span', null, ` › ${code}`) : null,
  )
}

/** Previous and next episode links, filled in once the series' episode list arrives. */
function episodeNeighbours(t, view) {
  const nav = h('nav', { class: 'neighbours', 'aria-label': 'Episodes' })
  api(`/titles/${t.episodeOf.seriesId}/episodes`, { signal: view.signal })
    .then((body) => {
      const all = body.seasons.flatMap((s) => s.episodes)
      const i = all.findIndex((e) => e.id === t.id)
      if (i < 0) return
      const link = (e, rel, text) =>
        e
          ? h(
              'a',
              { href: `/title/${e.id}`, rel, class: `neighbour ${rel}` },
              h('span', { class: 'muted small' }, text),
              h('span', null, `${episodeCode(e.season, e.episode) ?? ''} ${e.primaryTitle ?? ''}`.trim()),
            )
          : h('span')
      nav.append(link(all[i - 1], 'prev', '← Previous episode'), link(all[i + 1], 'next', 'Next episode →'))
    })
    .catch(() => {
      // Without the list the page simply has no neighbour links.
    })
  return nav
}

function creditSections(credits) {
  if (credits instanceof Error) return section('cast', 'Cast and crew', sectionError(credits))
  if (!credits || credits.length === 0) return null
  const cast = credits.filter((c) => CAST.has(c.category))
  const crew = new Map()
  for (const c of credits) {
    if (CAST.has(c.category)) continue
    const byPerson = crew.get(c.category) ?? new Map()
    crew.set(c.category, byPerson)
    const seen = byPerson.get(c.person.id)
    if (seen) {
      if (c.job && !seen.jobs.includes(c.job)) seen.jobs.push(c.job)
    } else byPerson.set(c.person.id, { person: c.person, jobs: c.job ? [c.job] : [] })
  }
  const rank = (cat) => (CREW_ORDER.includes(cat) ? CREW_ORDER.indexOf(cat) : CREW_ORDER.length)
  const categories = [...crew.keys()].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))

  return h(
    'div',
    { class: 'credits' },
    cast.length > 0
      ? section(
          'cast',
          'Cast',
          h(
            'ul',
            { class: 'people' },
            cast.map((c) =>
              h(
                'li',
                { class: 'person' },
                monogram(c.person.id, c.person.name ?? '?', 'sm'),
                h(
                  'span',
                  { class: 'person-body' },
                  h(
                    'a',
                    { href: `/name/${c.person.id}`, class: 'person-name' },
                    c.person.name ?? c.person.id,
                  ),
                  c.characters.length
                    ? h('span', { class: 'person-role' }, c.characters.join(' / '))
                    : h('span', { class: 'person-role' }, humanize(c.category)),
                ),
              ),
            ),
          ),
        )
      : null,
    categories.length > 0
      ? section(
          'crew',
          'Crew',
          h(
            'dl',
            { class: 'crew' },
            categories.map((cat) => [
              h('dt', null, humanize(cat)),
              h(
                'dd',
                null,
                h(
                  'ul',
                  { class: 'inline-list' },
                  [...crew.get(cat).values()].map(({ person, jobs }) =>
                    h(
                      'li',
                      null,
                      h('a', { href: `/name/${person.id}` }, person.name ?? person.id),
                      jobs.length ? h('span', { class: 'muted' }, ` (${jobs.join(', ')})`) : null,
                    ),
                  ),
                ),
              ),
            ]),
          ),
        )
      : null,
  )
}

function akaSection(akas) {
  if (akas instanceof Error) return section('akas', 'Also known as', sectionError(akas))
  if (!akas || akas.length === 0) return null
  const sorted = [...akas].sort(
    (a, b) =>
      Number(Boolean(b.isOriginalTitle)) - Number(Boolean(a.isOriginalTitle)) ||
      regionName(a.region).localeCompare(regionName(b.region)) ||
      a.ordering - b.ordering,
  )
  const notes = (a) =>
    [...a.types.map((t) => AKA_TYPES[t] ?? humanize(t)), ...a.attributes].filter(Boolean).join(', ')
  const rows = sorted.map((a) =>
    h(
      'tr',
      null,
      h('th', { scope: 'row' }, a.isOriginalTitle ? 'Original' : regionName(a.region)),
      h('td', { lang: a.language ?? undefined, class: 'aka-title' }, a.title),
      h('td', null, languageName(a.language) ?? h('span', { class: 'muted' }, '—')),
      h('td', { class: 'muted' }, notes(a)),
    ),
  )
  const tbody = h('tbody', null, rows.slice(0, AKAS_SHOWN))
  const more =
    rows.length > AKAS_SHOWN
      ? h(
          'button',
          {
            type: 'button',
            class: 'button secondary',
            onclick: (e) => {
              tbody.append(...rows.slice(AKAS_SHOWN))
              e.currentTarget.remove()
            },
          },
          `Show all ${rows.length} titles`,
        )
      : null
  return section(
    'akas',
    'Also known as',
    h(
      'div',
      { class: 'table-scroll' },
      h(
        'table',
        { class: 'data-table' },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            h('th', { scope: 'col' }, 'Region'),
            h('th', { scope: 'col' }, 'Title'),
            h('th', { scope: 'col' }, 'Language'),
            h('th', { scope: 'col' }, 'Notes'),
          ),
        ),
        tbody,
      ),
    ),
    more,
  )
}
