import { ApiError, api } from '../api.js'
import { monogram, section, sectionError, skeleton, titleCard } from '../components.js'
import { h, replace } from '../dom.js'
import { compactCount, count, humanize, rating, titleType } from '../format.js'
import { CREDITS_PAGE, nameCreditsUrl, nameUrl } from '../prefetch.js'

/** Credits are loaded page by page up to this many, then sorted and filtered in the browser. */
const MAX_CREDITS = 2000

const COLUMNS = [
  { key: 'year', label: 'Year', numeric: true, first: 'desc' },
  { key: 'title', label: 'Title', numeric: false, first: 'asc' },
  { key: 'role', label: 'Role', numeric: false, first: 'asc', sortable: false },
  { key: 'rating', label: 'Rating', numeric: true, first: 'desc' },
  { key: 'votes', label: 'Votes', numeric: true, first: 'desc' },
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

/** Loads every credit (up to MAX_CREDITS), re-rendering the table as pages arrive. */
async function loadFilmography(view, id, host) {
  const state = {
    items: [],
    done: false,
    capped: false,
    sort: 'year',
    order: 'desc',
    role: 'all',
    q: '',
    episodes: true,
  }
  const table = filmographyTable(state, host)
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

function roleText(role) {
  if (role.characters.length) return `${humanize(role.category)} as ${role.characters.join(' / ')}`
  return role.job ? `${humanize(role.category)} (${role.job})` : humanize(role.category)
}

function filmographyTable(state, host) {
  const controls = h('div', { class: 'film-controls' })
  const status = h('p', { class: 'muted small film-status', 'aria-live': 'polite' })
  const tbody = h('tbody')
  const headRow = h('tr')
  const table = h(
    'table',
    { class: 'data-table film-table' },
    h('caption', { class: 'visually-hidden' }, 'Filmography; column headers sort the table'),
    h('thead', null, headRow),
    tbody,
  )
  let built = false

  const value = {
    year: (it) => it.title.startYear ?? 0,
    title: (it) => it.title.primaryTitle.toLowerCase(),
    rating: (it) => it.title.rating ?? -1,
    votes: (it) => it.title.votes,
  }

  function visible() {
    const q = state.q.trim().toLowerCase()
    const rows = state.items.filter(
      (it) =>
        (state.role === 'all' || it.roles.some((r) => r.category === state.role)) &&
        (state.episodes || it.title.type !== 'tvEpisode') &&
        (!q || it.title.primaryTitle.toLowerCase().includes(q)),
    )
    const get = value[state.sort]
    const dir = state.order === 'asc' ? 1 : -1
    return rows.sort((a, b) => {
      const x = get(a)
      const y = get(b)
      return (x < y ? -1 : x > y ? 1 : 0) * dir || a.title.primaryTitle.localeCompare(b.title.primaryTitle)
    })
  }

  function buildHead() {
    replace(
      headRow,
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
                  buildHead()
                  renderRows()
                  headRow.querySelector(`[data-key=${col.key}]`)?.focus()
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

  function renderRows() {
    const rows = visible()
    replace(
      tbody,
      rows.map((it) =>
        h(
          'tr',
          null,
          h('td', { class: 'num' }, it.title.startYear ?? '—'),
          h(
            'td',
            null,
            h('a', { href: `/title/${it.title.id}` }, it.title.primaryTitle),
            h('span', { class: 'muted small' }, ` ${titleType(it.title.type)}`),
          ),
          h('td', null, it.roles.map(roleText).join('; ')),
          h('td', { class: 'num' }, it.title.rating === null ? '—' : `★ ${rating(it.title.rating)}`),
          h('td', { class: 'num' }, it.title.votes ? compactCount(it.title.votes) : '—'),
        ),
      ),
    )
    if (rows.length === 0) {
      tbody.append(
        h(
          'tr',
          null,
          h('td', { colspan: COLUMNS.length, class: 'muted' }, 'No credits match these filters.'),
        ),
      )
    }
    const shown = `${count(rows.length)} of ${count(state.items.length)} credits shown`
    status.textContent = state.done
      ? `${shown}${state.capped ? ` (only the ${count(MAX_CREDITS)} most recent credits are loaded)` : ''}.`
      : `${shown}; loading more…`
  }

  function buildControls() {
    const counts = new Map()
    for (const it of state.items)
      for (const cat of new Set(it.roles.map((r) => r.category))) counts.set(cat, (counts.get(cat) ?? 0) + 1)
    const episodes = state.items.filter((it) => it.title.type === 'tvEpisode').length

    const roles = [['all', state.items.length], ...[...counts].sort((a, b) => b[1] - a[1])]
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
            renderRows()
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
        renderRows()
      },
    })
    const episodesBox =
      episodes > 0
        ? h(
            'label',
            { class: 'check' },
            h('input', {
              type: 'checkbox',
              checked: state.episodes,
              onchange: (e) => {
                state.episodes = e.target.checked
                renderRows()
              },
            }),
            ` Show TV episodes (${count(episodes)})`,
          )
        : null
    replace(
      controls,
      h('fieldset', { class: 'role-filter' }, h('legend', null, 'Role'), radios),
      h(
        'div',
        { class: 'film-filter' },
        h('label', { for: 'film-filter', class: 'visually-hidden' }, 'Filter by title'),
        filter,
        episodesBox,
      ),
    )
  }

  return {
    update() {
      if (!built) {
        built = true
        buildHead()
        replace(host, controls, status, h('div', { class: 'table-scroll' }, table))
      }
      // Controls are rebuilt only when counts change, keeping focus where it is otherwise.
      const focused = document.activeElement
      const keep = focused && controls.contains(focused) ? focused.id : null
      buildControls()
      if (keep) document.getElementById(keep)?.focus()
      renderRows()
    },
  }
}
