import { api, url } from '../api.js'
import { monogram, ratingBadge, sectionError, skeleton } from '../components.js'
import { h, replace } from '../dom.js'
import { count, runtime, titleType, years } from '../format.js'

/**
 * The browse page: every filter of GET /titles, with facet counts beside them, and the ready-made
 * lists (top movies and series by weighted rating, the most voted by decade and by genre). The
 * page's whole state is its URL (`/browse?type=movie&sort=weighted&page=2&cursor=...`): a change
 * pushes a history entry and updates the results in place (focus stays where it was); reload,
 * share, back and forward show the same page.
 */

const PAGE_SIZE = 25

const TYPES = [
  'movie',
  'tvSeries',
  'tvMiniSeries',
  'tvMovie',
  'short',
  'tvEpisode',
  'tvSpecial',
  'tvShort',
  'tvPilot',
  'video',
  'videoGame',
]

// The API's genres (title.basics' spelling), Adult left out: adult titles are not browsed.
const GENRES = [
  'Action',
  'Adventure',
  'Animation',
  'Biography',
  'Comedy',
  'Crime',
  'Documentary',
  'Drama',
  'Family',
  'Fantasy',
  'Film-Noir',
  'Game-Show',
  'History',
  'Horror',
  'Music',
  'Musical',
  'Mystery',
  'News',
  'Reality-TV',
  'Romance',
  'Sci-Fi',
  'Short',
  'Sport',
  'Talk-Show',
  'Thriller',
  'War',
  'Western',
]
const MAX_GENRES = 3

const DECADES = Array.from({ length: 12 }, (_, i) => 1910 + i * 10)

const SORTS = [
  ['votes', 'Most voted'],
  ['weighted', 'Weighted rating'],
  ['rating', 'Highest rating'],
  ['year', 'Year'],
  ['title', 'Title'],
]

const VOTE_STEPS = [100, 1000, 10_000, 100_000]
/** The API's default m for the weighted sort. */
const DEFAULT_M = 25_000
const M_STEPS = [1000, 10_000, 25_000, 100_000]

/** The parameters the page keeps in its URL: the API's own names, plus `page` (display only). */
const SINGLE = [
  'yearFrom',
  'yearTo',
  'minRating',
  'minVotes',
  'runtimeMin',
  'runtimeMax',
  'sort',
  'order',
  'm',
]
const MULTI = ['type', 'genre']

/** Builds a browse page address from filter values (arrays repeat). */
export const browseHref = (params) => url('/browse', params)

const LIST_GENRES = [
  'Action',
  'Animation',
  'Comedy',
  'Crime',
  'Documentary',
  'Drama',
  'Horror',
  'Romance',
  'Sci-Fi',
  'Thriller',
]
const SERIES = ['tvSeries', 'tvMiniSeries']

/** The ready-made lists: a name and the browse filters that make it. */
export const LISTS = {
  top: [
    { label: 'Top movies', params: { type: ['movie'], sort: 'weighted' } },
    { label: 'Top series', params: { type: SERIES, sort: 'weighted' } },
  ],
  decades: DECADES.slice(-8).map((d) => ({
    label: `${d}s`,
    heading: `Most popular of the ${d}s`,
    params: { yearFrom: d, yearTo: d + 9, sort: 'votes' },
  })),
  genres: LIST_GENRES.map((g) => ({
    label: g,
    heading: `Most popular: ${g}`,
    params: { genre: [g], sort: 'votes' },
  })),
}

/** Nav of the ready-made lists, for the home page and the browse page. */
export function listLinks(groupHeading = 'h3') {
  const group = (title, lists) =>
    h(
      'div',
      { class: 'list-group' },
      h(groupHeading, { class: 'list-group-title' }, title),
      h(
        'ul',
        { class: 'list-links' },
        lists.map((l) => h('li', null, h('a', { href: browseHref(l.params) }, l.label))),
      ),
    )
  return h(
    'nav',
    { class: 'ready-lists', 'aria-label': 'Ready-made lists' },
    group('Top rated', LISTS.top),
    group('Most popular by decade', LISTS.decades),
    group('Most popular by genre', LISTS.genres),
  )
}

/** Genre tags linking to the browse page filtered by that genre (for title pages). */
export function genreLinks(genres) {
  if (!genres || genres.length === 0) return null
  return h(
    'ul',
    { class: 'chips', 'aria-label': 'Genres' },
    genres.map((g) =>
      h(
        'li',
        { class: 'chip chip-link' },
        h('a', { href: browseHref({ genre: [g], sort: 'votes' }), title: `Most popular ${g} titles` }, g),
      ),
    ),
  )
}

/** A year linking to the most voted titles of that year. */
export const yearLink = (year, text = String(year)) =>
  h('a', { href: browseHref({ yearFrom: year, yearTo: year, sort: 'votes' }) }, text)

/** The page state read from a URL's query. */
function readState(search) {
  const q = new URLSearchParams(search)
  const state = {}
  for (const k of MULTI) {
    const values = q.getAll(k).filter(Boolean)
    if (values.length) state[k] = [...new Set(values)]
  }
  for (const k of SINGLE) {
    const v = q.get(k)
    if (v !== null && v !== '') state[k] = v
  }
  const cursor = q.get('cursor')
  const page = Number(q.get('page'))
  return { filters: state, cursor: cursor || null, page: cursor && page > 1 ? Math.floor(page) : 1 }
}

/** Filter values in the order the URL writes them, with the lists' own order for the array ones. */
function canonical(filters) {
  const out = {}
  for (const k of [...MULTI, ...SINGLE]) if (filters[k] !== undefined) out[k] = filters[k]
  return out
}

const sameFilters = (a, b) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b))

function normalizeParams(params) {
  const out = {}
  for (const [k, v] of Object.entries(params)) out[k] = Array.isArray(v) ? v : String(v)
  return out
}

/** The ready-made list these filters are, if any. */
function listOf(filters) {
  for (const l of [...LISTS.top, ...LISTS.decades, ...LISTS.genres])
    if (sameFilters(normalizeParams(l.params), filters)) return l
  return null
}

function heading(filters) {
  const list = listOf(filters)
  if (list) return list.heading ?? list.label
  return 'Browse titles'
}

/** One line saying what the filters select, for the results' caption. */
function describe(filters) {
  const parts = []
  if (filters.type) parts.push(filters.type.map(titleType).join(' or '))
  if (filters.genre) parts.push(filters.genre.join(' + '))
  const { yearFrom: a, yearTo: b } = filters
  if (a && b) parts.push(a === b ? `from ${a}` : `${a}–${b}`)
  else if (a) parts.push(`from ${a} on`)
  else if (b) parts.push(`up to ${b}`)
  if (filters.minRating) parts.push(`rated ${filters.minRating}+`)
  if (filters.minVotes) parts.push(`${count(Number(filters.minVotes))}+ votes`)
  if (filters.runtimeMin || filters.runtimeMax)
    parts.push(`${filters.runtimeMin ?? 0}–${filters.runtimeMax ?? '…'} min`)
  return parts.join(' · ')
}

const apiParams = (filters) => ({ ...filters, limit: PAGE_SIZE })

/** The filters that decide the facet counts: not the sort or order, but the weighted sort's vote floor. */
function facetFilters(filters) {
  const { sort, order: _order, m, ...rest } = filters
  if (sort === 'weighted') {
    const floor = Number(m ?? DEFAULT_M)
    rest.minVotes = String(Math.max(floor, Number(rest.minVotes ?? 0)))
  }
  return rest
}

export async function browsePage(view, search) {
  let state = readState(search)
  view.setTitle(heading(state.filters))

  const h1 = h('h1', { tabindex: '-1' }, heading(state.filters))
  const caption = h('p', { class: 'muted browse-caption' })
  const results = h('div', { class: 'browse-results' }, skeleton(6))
  const facetCounts = new Map()
  const countSpan = (facet, value) => {
    const span = h('span', { class: 'facet-count' })
    facetCounts.set(`${facet}:${value}`, span)
    return span
  }
  const facetNote = h('p', { class: 'muted small facet-note', hidden: true })

  const form = h('form', { class: 'browse-form', 'aria-label': 'Filters' })
  const checkboxGroup = (name, legend, values, label, facet) =>
    h(
      'fieldset',
      { class: `facet-group facet-${name}` },
      h('legend', null, legend),
      h(
        'ul',
        { class: 'facet-list' },
        values.map((v) => {
          const id = `f-${name}-${v}`
          return h(
            'li',
            null,
            h('input', { type: 'checkbox', id, name, value: v }),
            h('label', { for: id, class: 'facet-label' }, label(v), ' ', countSpan(facet, v)),
          )
        }),
      ),
    )
  const numberField = (name, label, attrs) =>
    h(
      'div',
      { class: 'field' },
      h('label', { for: `f-${name}`, class: 'field-label' }, label),
      h('input', { type: 'number', id: `f-${name}`, name, inputmode: 'numeric', ...attrs }),
    )
  const selectField = (name, label, options, wide = false) =>
    h(
      'div',
      { class: wide ? 'field field-wide' : 'field' },
      h('label', { for: `f-${name}`, class: 'field-label' }, label),
      h(
        'select',
        { id: `f-${name}`, name },
        options.map(([value, text]) => h('option', { value }, text)),
      ),
    )
  const mField = selectField(
    'm',
    'Votes needed to rank',
    M_STEPS.map((m) => [String(m), m === DEFAULT_M ? `${count(m)} (IMDb’s)` : count(m)]),
  )
  const decades = h(
    'ul',
    { class: 'decade-list' },
    DECADES.map((d) =>
      h(
        'li',
        null,
        h(
          'button',
          {
            type: 'button',
            class: 'decade',
            dataset: { decade: String(d) },
            onclick: () => {
              const f = { ...state.filters, yearFrom: String(d), yearTo: String(d + 9) }
              go(f)
            },
          },
          `${d}s `,
          countSpan('decade', `${d}s`),
        ),
      ),
    ),
  )
  form.append(
    h(
      'div',
      { class: 'field-row' },
      selectField('sort', 'Sort by', SORTS, true),
      selectField('order', 'Order', [
        ['', 'Default'],
        ['desc', 'Descending'],
        ['asc', 'Ascending'],
      ]),
    ),
    mField,
    checkboxGroup('type', 'Type', TYPES, titleType, 'type'),
    checkboxGroup('genre', `Genres (up to ${MAX_GENRES}, all must match)`, GENRES, (g) => g, 'genre'),
    h(
      'fieldset',
      { class: 'facet-group' },
      h('legend', null, 'Years'),
      h(
        'div',
        { class: 'field-row' },
        numberField('yearFrom', 'From', { min: 1870, max: 2100, placeholder: 'any' }),
        numberField('yearTo', 'To', { min: 1870, max: 2100, placeholder: 'any' }),
      ),
      decades,
    ),
    h(
      'div',
      { class: 'field-row' },
      selectField('minRating', 'Minimum rating', [
        ['', 'Any'],
        ...[9, 8, 7, 6, 5].map((r) => [String(r), `${r}+`]),
      ]),
      selectField('minVotes', 'Minimum votes', [
        ['', 'Any'],
        ...VOTE_STEPS.map((v) => [String(v), `${count(v)}+`]),
      ]),
    ),
    h(
      'fieldset',
      { class: 'facet-group' },
      h('legend', null, 'Runtime (minutes)'),
      h(
        'div',
        { class: 'field-row' },
        numberField('runtimeMin', 'At least', { min: 0, max: 100000, placeholder: 'any' }),
        numberField('runtimeMax', 'At most', { min: 0, max: 100000, placeholder: 'any' }),
      ),
    ),
    h(
      'div',
      { class: 'form-actions' },
      h('button', { type: 'submit', class: 'button' }, 'Apply'),
      h('a', { href: '/browse', class: 'reset-link' }, 'Clear filters'),
    ),
    facetNote,
  )

  /** Writes the state into the form's controls. */
  function fill(filters) {
    for (const el of form.elements) {
      if (!el.name) continue
      if (el.type === 'checkbox') el.checked = (filters[el.name] ?? []).includes(el.value)
      else if (el.name === 'sort') el.value = filters.sort ?? 'votes'
      else if (el.name === 'm') el.value = filters.m ?? String(DEFAULT_M)
      else el.value = filters[el.name] ?? ''
    }
    mField.hidden = (filters.sort ?? 'votes') !== 'weighted'
    const genres = filters.genre ?? []
    for (const box of form.querySelectorAll('input[name=genre]'))
      box.disabled = !box.checked && genres.length >= MAX_GENRES
  }

  /** Reads the form's controls into filters. */
  function read() {
    const data = new FormData(form)
    const filters = {}
    for (const k of MULTI) {
      const values = data.getAll(k).map(String)
      if (values.length) filters[k] = values.slice(0, k === 'genre' ? MAX_GENRES : undefined)
    }
    for (const k of SINGLE) {
      const v = String(data.get(k) ?? '').trim()
      if (v !== '') filters[k] = v
    }
    if (filters.sort !== 'weighted' || filters.m === String(DEFAULT_M)) delete filters.m
    return filters
  }

  /** A new filter state: a history entry of its own, results from the first page. */
  function go(filters, cursor = null, page = 1) {
    const href = browseHref({ ...canonical(filters), page: cursor ? page : undefined, cursor })
    history.replaceState({ ...history.state, scrollY: window.scrollY }, '')
    history.pushState({}, '', href)
    state = readState(location.search)
    load()
  }

  let inflight = null
  async function load() {
    inflight?.abort()
    const mine = new AbortController()
    inflight = mine
    if (view.signal.aborted) return
    view.signal.addEventListener('abort', () => mine.abort(), { once: true, signal: mine.signal })
    const { filters, cursor, page } = state
    fill(filters)
    const title = heading(filters)
    h1.textContent = title
    view.setTitle(title)
    replace(caption, describe(filters))
    results.setAttribute('aria-busy', 'true')
    // Two requests at once: the page of titles, and the facet counts (they cost more on a large
    // dataset, up to the API's deadline, and do not depend on the page, the sort or the order, so
    // their URL leaves those out and paging or sorting reuses the cached answer).
    const list = api(url('/titles', { ...apiParams(filters), cursor }), { signal: mine.signal })
    const counts = api(url('/titles', { ...facetFilters(filters), limit: 1, facets: 'genre,type,decade' }), {
      signal: mine.signal,
    })
    counts.then(
      (body) => {
        if (inflight === mine) showFacets(body.facets)
      },
      () => {
        // The counts are an extra: without them the filters still work.
        if (inflight === mine) showFacets(null)
      },
    )
    let body
    try {
      body = await list
    } catch (err) {
      if (err?.name === 'AbortError' || mine.signal.aborted) return
      results.removeAttribute('aria-busy')
      replace(
        results,
        sectionError(err),
        cursor
          ? h('p', null, h('a', { href: browseHref(canonical(filters)) }, 'Back to the first page'))
          : null,
      )
      return
    }
    if (mine.signal.aborted) return
    results.removeAttribute('aria-busy')
    showResults(body, filters, page)
  }

  function showFacets(f) {
    for (const span of facetCounts.values()) span.textContent = ''
    if (!f) return
    for (const facet of ['genre', 'type', 'decade']) {
      for (const { value, count: n } of f[facet] ?? []) {
        const span = facetCounts.get(`${facet}:${value}`)
        if (span) span.textContent = count(n)
      }
    }
    facetNote.hidden = !f.truncated
    facetNote.textContent = f.truncated ? 'Counts are partial: counting took too long.' : ''
  }

  function showResults(body, filters, page) {
    const first = (page - 1) * PAGE_SIZE + 1
    const last = first + body.items.length - 1
    const total = body.totalIsExact ? count(body.total) : `${count(body.total)}+`
    const status =
      body.items.length === 0
        ? 'No titles match these filters.'
        : `${count(first)}–${count(last)} of ${total} title${body.total === 1 ? '' : 's'}`
    view.announce(status)
    const weighted = filters.sort === 'weighted'
    const pager = h(
      'nav',
      { class: 'pager', 'aria-label': 'Pages' },
      page > 1
        ? h('a', { href: browseHref(canonical(filters)), class: 'pager-first' }, '« First page')
        : null,
      body.next
        ? h(
            'a',
            {
              href: browseHref({
                ...canonical(filters),
                page: page + 1,
                cursor: new URL(body.next, location.href).searchParams.get('cursor'),
              }),
              class: 'pager-next',
              rel: 'next',
            },
            'Next page »',
          )
        : null,
    )
    replace(
      results,
      h('p', { class: 'browse-status' }, status),
      weighted
        ? h(
            'p',
            { class: 'muted small' },
            `Ranked by IMDb’s weighted rating: a title’s rating pulled towards 6.9 until it has many votes; only titles with at least ${count(Number(filters.m ?? DEFAULT_M))} votes.`,
          )
        : null,
      body.items.length
        ? h(
            'ol',
            { class: 'results ranked', start: String(first) },
            body.items.map((t, i) =>
              h(
                'li',
                { class: 'result' },
                h('span', { class: 'rank', 'aria-hidden': 'true' }, String(first + i)),
                monogram(t.id, t.primaryTitle, 'sm'),
                h(
                  'span',
                  { class: 'result-body' },
                  h('a', { href: `/title/${t.id}`, class: 'result-name' }, t.primaryTitle),
                  h(
                    'span',
                    { class: 'result-meta' },
                    [
                      titleType(t.type),
                      years(t.startYear, t.endYear, t.type === 'tvSeries'),
                      runtime(t.runtimeMinutes),
                      t.genres.join(', '),
                    ]
                      .filter(Boolean)
                      .join(' · '),
                  ),
                ),
                ratingBadge(t.rating, t.votes, 'sm'),
              ),
            ),
          )
        : h('p', null, 'Try fewer filters, or ', h('a', { href: '/browse' }, 'clear them all'), '.'),
      pager,
    )
  }

  form.addEventListener('change', (e) => {
    // Typed numbers wait for Apply (or Enter); every other control applies at once.
    if (e.target instanceof HTMLInputElement && e.target.type === 'number') return
    go(read())
  })
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    go(read())
  })
  // Pager links stay on this page: the results update in place, focus goes to their status.
  results.addEventListener('click', (e) => {
    const a = e.target.closest?.('.pager a')
    if (!a || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return
    e.preventDefault()
    e.stopPropagation()
    const next = readState(new URL(a.href).search)
    go(next.filters, next.cursor, next.page)
    h1.scrollIntoView({ block: 'start' })
  })

  const wide = window.matchMedia?.('(min-width: 60em)').matches ?? true
  view.render(
    h(
      'div',
      { class: 'browse' },
      h('div', { class: 'intro' }, h1, caption),
      h(
        'div',
        { class: 'browse-layout' },
        h(
          'aside',
          { class: 'browse-side' },
          h('details', { class: 'browse-filters', open: wide }, h('summary', null, 'Filters'), form),
          h(
            'details',
            { class: 'browse-lists', open: wide },
            h('summary', null, 'Ready-made lists'),
            listLinks('h2'),
          ),
        ),
        h('section', { class: 'browse-main', 'aria-label': 'Results' }, results),
      ),
    ),
  )
  await load()
}
