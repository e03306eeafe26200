import { ApiError, api } from '../api.js'
import { monogram, section, sectionError, skeleton, titleCard } from '../components.js'
import { h, replace } from '../dom.js'
import { compactCount, count, episodeCode, humanize, plural, rating, titleType, years } from '../format.js'
import { CREDITS_PAGE, nameCreditsUrl, nameUrl } from '../prefetch.js'

/**
 * Credits are loaded in one request (the API gives up to 2,000 a page; further pages, if any, are
 * fetched up to this many), then grouped, sorted and filtered in the browser.
 */
const MAX_CREDITS = 4000

const COLUMNS = [
  { key: 'year', label: 'Year', numeric: true, first: 'desc' },
  { key: 'title', label: 'Title', numeric: false, first: 'asc' },
  { key: 'role', label: 'Role', numeric: false, first: 'asc', sortable: false },
  { key: 'rating', label: 'Rating', numeric: true, first: 'desc' },
  { key: 'votes', label: 'Votes', numeric: true, first: 'desc' },
]
const SORTS = new Set(['year', 'title', 'rating', 'votes'])

/** The order categories are shown in: the usual billing, then the rest by how many credits. */
const CATEGORY_ORDER = [
  'actor',
  'actress',
  'self',
  'director',
  'writer',
  'producer',
  'composer',
  'cinematographer',
  'editor',
]

export async function namePage(view, id) {
  if (!/^nm\d{7,}$/.test(id)) {
    throw new ApiError({
      status: 404,
      title: 'Not Found',
      detail: `“${id}” is not an IMDb name id (they look like nm0000199).`,
    })
  }
  view.render(skeleton(5))
  const person = await api(nameUrl(id), { signal: view.signal })
  view.setTitle(person.name)

  const life = person.birthYear
    ? person.deathYear
      ? `${person.birthYear}–${person.deathYear} (aged about ${person.deathYear - person.birthYear})`
      : `Born ${person.birthYear}`
    : person.deathYear
      ? `Died ${person.deathYear}`
      : null

  const filmography = h('div', { class: 'filmography' }, skeleton(4))
  view.render([
    h(
      'header',
      { class: 'hero' },
      monogram(person.id, person.name, 'lg'),
      h(
        'div',
        { class: 'hero-body' },
        h('h1', { tabindex: '-1' }, person.name),
        person.professions.length
          ? h('p', { class: 'facts' }, person.professions.map(humanize).join(' · '))
          : null,
        life ? h('p', { class: 'muted' }, life) : null,
        h('p', { class: 'muted small' }, h('span', { class: 'visually-hidden' }, 'IMDb id '), person.id),
      ),
    ),
    person.knownFor.length
      ? section(
          'known-for',
          'Known for',
          h(
            'ul',
            { class: 'cards' },
            person.knownFor.map((t) => titleCard(t)),
          ),
        )
      : null,
    section('filmography', 'Filmography', filmography),
  ])
  loadFilmography(view, id, filmography)
}

/** The filmography's state in the page's address: ?role=&q=&sort=&order= (reload and back keep it). */
function readState() {
  const p = new URLSearchParams(location.search)
  const sort = SORTS.has(p.get('sort')) ? p.get('sort') : 'year'
  const first = COLUMNS.find((c) => c.key === sort).first
  const order = p.get('order') === 'asc' || p.get('order') === 'desc' ? p.get('order') : first
  return { role: p.get('role') || 'all', q: p.get('q') ?? '', sort, order }
}

function writeState(state) {
  const p = new URLSearchParams(location.search)
  const set = (key, value, fallback) => (value && value !== fallback ? p.set(key, value) : p.delete(key))
  set('role', state.role, 'all')
  set('q', state.q.trim(), '')
  set('sort', state.sort, 'year')
  set('order', state.order, COLUMNS.find((c) => c.key === state.sort).first)
  const search = p.toString()
  const href = `${location.pathname}${search ? `?${search}` : ''}${location.hash}`
  if (href !== `${location.pathname}${location.search}${location.hash}`)
    history.replaceState(history.state, '', href)
}

/** Loads every credit (up to MAX_CREDITS), re-rendering the table as pages arrive. */
async function loadFilmography(view, id, host) {
  const state = { items: [], done: false, capped: false, open: new Set(), ...readState() }
  const table = filmographyTable(state, host, view)
  let next = nameCreditsUrl(id, CREDITS_PAGE)
  try {
    while (next) {
      const body = await api(next, { signal: view.signal })
      state.items.push(...body.items)
      next = body.next
      if (state.items.length >= MAX_CREDITS && next) {
        state.capped = true
        next = null
      }
      state.done = !next
      table.update()
    }
  } catch (err) {
    if (err?.name === 'AbortError') return
    if (state.items.length === 0) replace(host, sectionError(err))
    else host.append(sectionError(err))
  }
}

/** What the person was, within a category: "as Michael Corleone", "novel"; never the category again. */
function roleText(role) {
  if (role.characters.length) return `as ${role.characters.join(' / ')}`
  if (role.job && role.job.toLowerCase() !== humanize(role.category).toLowerCase()) return role.job
  return ''
}

const rolesIn = (it, category) =>
  it.roles
    .filter((r) => r.category === category)
    .map(roleText)
    .filter(Boolean)
    .join('; ')

/**
 * The rows of one category: titles, with a person's episodes of a series gathered under that series
 * (the series' own credit when there is one, else a row made for it).
 */
function groupRows(items, category) {
  const rows = []
  const bySeries = new Map()
  for (const it of items) {
    if (!it.roles.some((r) => r.category === category)) continue
    if (it.episodeOf) {
      const sid = it.episodeOf.seriesId
      let row = bySeries.get(sid)
      if (!row) {
        row = {
          series: true,
          item: null,
          id: sid,
          title: it.episodeOf.seriesTitle ?? 'Unknown series',
          type: 'tvSeries',
          episodes: [],
        }
        bySeries.set(sid, row)
        rows.push(row)
      }
      row.episodes.push(it)
    } else {
      const existing = bySeries.get(it.title.id)
      if (existing) {
        existing.item = it
        existing.title = it.title.primaryTitle
        existing.type = it.title.type
      } else {
        const row = {
          series: false,
          item: it,
          id: it.title.id,
          title: it.title.primaryTitle,
          type: it.title.type,
          episodes: [],
        }
        rows.push(row)
        bySeries.set(it.title.id, row)
      }
    }
  }
  for (const row of rows) {
    const epYears = row.episodes.map((e) => e.title.startYear).filter(Boolean)
    row.from = epYears.length ? Math.min(...epYears) : null
    row.to = epYears.length ? Math.max(...epYears) : null
    row.series = row.episodes.length > 0
    row.episodes.sort(
      (a, b) =>
        (a.episodeOf.season ?? 9999) - (b.episodeOf.season ?? 9999) ||
        (a.episodeOf.episode ?? 9999) - (b.episodeOf.episode ?? 9999) ||
        (a.title.startYear ?? 0) - (b.title.startYear ?? 0),
    )
  }
  return rows
}

/** "12 episodes, 1990–1995" */
const episodeSpan = (row) =>
  [plural(row.episodes.length, 'episode'), years(row.from, row.to)].filter(Boolean).join(', ')

function filmographyTable(state, host, view) {
  const controls = h('div', { class: 'film-controls' })
  const status = h('p', { class: 'muted small film-status', 'aria-live': 'polite' })
  const groups = h('div', { class: 'film-groups' })
  let built = false

  const value = {
    year: (row) => row.item?.title.startYear ?? row.to ?? row.from ?? 0,
    title: (row) => row.title.toLowerCase(),
    rating: (row) => row.item?.title.rating ?? -1,
    votes: (row) => row.item?.title.votes ?? row.episodes.reduce((s, e) => s + e.title.votes, 0),
  }

  function categories() {
    const counts = new Map()
    for (const it of state.items)
      for (const cat of new Set(it.roles.map((r) => r.category))) counts.set(cat, (counts.get(cat) ?? 0) + 1)
    const rank = (c) => {
      const i = CATEGORY_ORDER.indexOf(c)
      return i === -1 ? CATEGORY_ORDER.length : i
    }
    return [...counts].sort((a, b) => rank(a[0]) - rank(b[0]) || b[1] - a[1] || a[0].localeCompare(b[0]))
  }

  function matches(it, q) {
    return (
      it.title.primaryTitle.toLowerCase().includes(q) ||
      (it.episodeOf?.seriesTitle ?? '').toLowerCase().includes(q)
    )
  }

  function sortRows(rows) {
    const get = value[state.sort]
    const dir = state.order === 'asc' ? 1 : -1
    return rows.sort((a, b) => {
      const x = get(a)
      const y = get(b)
      return (x < y ? -1 : x > y ? 1 : 0) * dir || a.title.localeCompare(b.title)
    })
  }

  function headRow(tableId) {
    return h(
      'tr',
      null,
      COLUMNS.map((col) => {
        const sorted = state.sort === col.key
        const th = h('th', {
          scope: 'col',
          class: col.numeric ? 'num' : null,
          'aria-sort': sorted
            ? state.order === 'asc'
              ? 'ascending'
              : 'descending'
            : col.sortable === false
              ? null
              : 'none',
        })
        if (col.sortable === false) th.append(col.label)
        else
          th.append(
            h(
              'button',
              {
                type: 'button',
                class: 'sort-button',
                onclick: () => {
                  if (state.sort === col.key) state.order = state.order === 'asc' ? 'desc' : 'asc'
                  else {
                    state.sort = col.key
                    state.order = col.first
                  }
                  changed()
                  document.querySelector(`#${tableId} [data-key=${col.key}]`)?.focus()
                },
                dataset: { key: col.key },
              },
              col.label,
              h(
                'span',
                { class: 'sort-icon', 'aria-hidden': 'true' },
                sorted ? (state.order === 'asc' ? '▲' : '▼') : '↕',
              ),
            ),
          )
        return th
      }),
    )
  }

  function ratingCell(t) {
    return h('td', { class: 'num' }, t && t.rating !== null ? `★ ${rating(t.rating)}` : '—')
  }

  function votesCell(t) {
    return h('td', { class: 'num' }, t?.votes ? compactCount(t.votes) : '—')
  }

  function rowsOf(row, category) {
    const it = row.item
    const key = `${category}:${row.id}`
    const open = state.open.has(key)
    const listId = `eps-${category}-${row.id}`
    const yearText = it?.title.startYear
      ? years(it.title.startYear, it.title.endYear, it.title.type === 'tvSeries')
      : years(row.from, row.to)
    const main = h(
      'tr',
      { class: row.series ? 'film-series' : null },
      h('td', { class: 'num' }, yearText ?? '—'),
      h(
        'td',
        null,
        h('a', { href: `/title/${row.id}` }, row.title),
        h('span', { class: 'muted small' }, ` ${titleType(row.type)}`),
        row.series
          ? h(
              'button',
              {
                type: 'button',
                class: 'link-button film-episodes-toggle',
                'aria-expanded': String(open),
                'aria-controls': listId,
                onclick: () => {
                  if (state.open.has(key)) state.open.delete(key)
                  else state.open.add(key)
                  renderGroups()
                  document.querySelector(`[aria-controls="${listId}"]`)?.focus()
                },
              },
              episodeSpan(row),
            )
          : null,
      ),
      h('td', null, it ? rolesIn(it, category) : ''),
      ratingCell(it?.title),
      votesCell(it?.title),
    )
    if (!row.series) return [main]
    const episodes = h(
      'tbody',
      { id: listId, class: 'film-episodes', hidden: !open },
      open
        ? row.episodes.map((e) =>
            h(
              'tr',
              { class: 'film-episode' },
              h('td', { class: 'num' }, e.title.startYear ?? '—'),
              h(
                'td',
                null,
                h(
                  'span',
                  { class: 'muted small film-episode-code' },
                  episodeCode(e.episodeOf.season, e.episodeOf.episode) ?? 'Episode',
                ),
                ' ',
                h('a', { href: `/title/${e.title.id}` }, e.title.primaryTitle),
              ),
              h('td', null, rolesIn(e, category)),
              ratingCell(e.title),
              votesCell(e.title),
            ),
          )
        : null,
    )
    return [h('tbody', { class: 'film-series-body' }, main), episodes]
  }

  /** Consecutive titles share a tbody; a series and its episodes get one each. */
  function bodies(rows, category) {
    const out = []
    let plain = null
    for (const row of rows) {
      if (row.series) {
        plain = null
        out.push(...rowsOf(row, category))
      } else {
        if (!plain) {
          plain = h('tbody')
          out.push(plain)
        }
        plain.append(...rowsOf(row, category))
      }
    }
    return out
  }

  function renderGroups() {
    const q = state.q.trim().toLowerCase()
    const items = q ? state.items.filter((it) => matches(it, q)) : state.items
    const cats = categories()
      .map(([c]) => c)
      .filter((c) => state.role === 'all' || c === state.role)
    const sections = []
    for (const category of cats) {
      const rows = sortRows(groupRows(items, category))
      if (rows.length === 0) continue
      const n = rows.reduce((s, r) => s + (r.item ? 1 : 0) + r.episodes.length, 0)
      const tableId = `film-${category}`
      const headingId = `film-${category}-heading`
      sections.push(
        h(
          'div',
          { class: 'film-group' },
          h(
            'h3',
            { id: headingId },
            `${humanize(category)} `,
            h('span', { class: 'film-group-count' }, `(${count(n)})`),
          ),
          h(
            'div',
            { class: 'table-scroll' },
            h(
              'table',
              { class: 'data-table film-table', id: tableId, 'aria-labelledby': headingId },
              h('thead', null, headRow(tableId)),
              bodies(rows, category),
            ),
          ),
        ),
      )
    }
    if (sections.length === 0) sections.push(h('p', { class: 'muted' }, 'No credits match these filters.'))
    replace(groups, sections)
    const filtered = state.role !== 'all' || q !== ''
    const total = state.items.length
    const matched = items.filter(
      (it) => state.role === 'all' || it.roles.some((r) => r.category === state.role),
    ).length
    const shown = filtered ? `${count(matched)} of ${plural(total, 'credit')} shown` : plural(total, 'credit')
    status.textContent = state.done
      ? `${shown}${state.capped ? ` (only the ${count(MAX_CREDITS)} most recent credits are loaded)` : ''}.`
      : `${shown}; loading more…`
  }

  function changed() {
    writeState(state)
    renderGroups()
  }

  function buildControls() {
    const cats = categories()
    const roles = [['all', state.items.length], ...cats]
    if (!roles.some(([c]) => c === state.role)) state.role = 'all'
    const radios = roles.map(([cat, n]) => {
      const id = `role-${cat}`
      return h(
        'span',
        { class: 'chip-radio' },
        h('input', {
          type: 'radio',
          name: 'role',
          id,
          value: cat,
          checked: state.role === cat,
          onchange: () => {
            state.role = cat
            changed()
          },
        }),
        h(
          'label',
          { for: id },
          `${cat === 'all' ? 'All' : humanize(cat)} `,
          h('span', { class: 'chip-count' }, count(n)),
        ),
      )
    })
    const filter = h('input', {
      type: 'search',
      id: 'film-filter',
      placeholder: 'Filter by title',
      value: state.q,
      oninput: (e) => {
        state.q = e.target.value
        changed()
      },
    })
    replace(
      controls,
      h('fieldset', { class: 'role-filter' }, h('legend', null, 'Role'), radios),
      h(
        'div',
        { class: 'film-filter' },
        h('label', { for: 'film-filter', class: 'visually-hidden' }, 'Filter by title'),
        filter,
      ),
    )
  }

  return {
    update() {
      if (!built) {
        built = true
        replace(host, controls, status, groups)
      }
      if (view.signal.aborted) return
      // Controls are rebuilt only when counts change, keeping focus where it is otherwise.
      const focused = document.activeElement
      const keep = focused && controls.contains(focused) ? focused.id : null
      buildControls()
      if (keep) document.getElementById(keep)?.focus()
      renderGroups()
    },
  }
}
