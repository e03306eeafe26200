import { ApiError, api, url } from './api.js'
import { fold, h, highlight, replace } from './dom.js'
import { compactCount, count, episodeCode, humanize, rating, titleType, years } from './format.js'

const DEBOUNCE_MS = 120
const LIMIT = 8

/** Where a search hit leads. */
export const hitHref = (hit) => (hit.kind === 'name' ? `/name/${hit.id}` : `/title/${hit.id}`)

/** The words the API searched for, folded, for highlighting. */
export const hitWords = (body) => (body.words ?? []).flat().map((w) => fold(w))

/** The query as the API corrected it: each word replaced by its correction, if it has one. */
export const correctedQuery = (body) => body.words.map((alternatives) => alternatives.at(-1)).join(' ')

/** One line of facts under a hit's name. */
export function hitMeta(hit) {
  if (hit.kind === 'name') {
    const professions = hit.professions.slice(0, 3).map(humanize).join(', ')
    const life = hit.birthYear
      ? hit.deathYear
        ? `${hit.birthYear}–${hit.deathYear}`
        : `born ${hit.birthYear}`
      : null
    return [professions || 'Person', life].filter(Boolean).join(' · ')
  }
  const parts = [titleType(hit.type), years(hit.startYear, hit.endYear)]
  if (hit.episodeOf) {
    const where = episodeCode(hit.episodeOf.season, hit.episodeOf.episode)
    parts.push(`${hit.episodeOf.seriesTitle ?? 'a series'}${where ? ` ${where}` : ''}`)
  }
  return parts.filter(Boolean).join(' · ')
}

/** The search box's text, set by a page that shows a query (the results page opened directly). */
let searchText = null

export function setSearchText(text) {
  searchText?.(text)
}

/**
 * The search box: an ARIA 1.2 combobox with a listbox popup. Suggestions come from GET /search,
 * debounced; a newer keystroke aborts the request in flight. Arrow keys move through the
 * suggestions, Enter opens one (or the full results page), Escape closes the list, then clears.
 */
export function initSearch({ input, listbox, form, navigate, announce }) {
  let hits = []
  let active = -1
  let timer = 0
  let controller = null
  let shownFor = ''

  const isOpen = () => !listbox.hidden

  function open() {
    if (listbox.children.length === 0) return
    listbox.hidden = false
    input.setAttribute('aria-expanded', 'true')
  }

  function close() {
    listbox.hidden = true
    input.setAttribute('aria-expanded', 'false')
    setActive(-1)
  }

  function setActive(index) {
    active = index
    for (const [i, li] of [...listbox.querySelectorAll('[role=option]')].entries()) {
      li.setAttribute('aria-selected', String(i === index))
      if (i === index) li.scrollIntoView({ block: 'nearest' })
    }
    if (index >= 0) input.setAttribute('aria-activedescendant', `search-opt-${index}`)
    else input.removeAttribute('aria-activedescendant')
  }

  function cancel() {
    clearTimeout(timer)
    controller?.abort()
    controller = null
  }

  function render(body, q) {
    shownFor = q
    hits = body.results
    const words = hitWords(body)
    const items = hits.map((hit, i) => {
      const name = hit.kind === 'name' ? hit.name : hit.title
      return h(
        'div',
        {
          id: `search-opt-${i}`,
          role: 'option',
          class: 'suggestion',
          'aria-selected': 'false',
          dataset: { href: hitHref(hit) },
          onmousedown: (e) => e.preventDefault(),
          onclick: () => choose(i),
          onmousemove: () => active !== i && setActive(i),
        },
        h('span', { class: `kind kind-${hit.kind}` }, hit.kind === 'name' ? 'Person' : 'Title'),
        h(
          'span',
          { class: 'suggestion-text' },
          h('span', { class: 'suggestion-name' }, highlight(name, words)),
          hit.matchedTitle
            ? h('span', { class: 'suggestion-aka' }, ' aka ', highlight(hit.matchedTitle, words))
            : null,
          h('span', { class: 'suggestion-meta' }, hitMeta(hit)),
        ),
        hit.kind === 'title' && hit.rating !== null
          ? h(
              'span',
              { class: 'suggestion-rating' },
              h(
                'span',
                { class: 'visually-hidden' },
                `, rated ${rating(hit.rating)} from ${count(hit.votes)} votes`,
              ),
              h('span', { 'aria-hidden': 'true' }, `★ ${rating(hit.rating)}`),
              h('small', { 'aria-hidden': 'true' }, `${compactCount(hit.votes)} votes`),
            )
          : null,
      )
    })
    if (items.length > 0) {
      // The last option opens the results page: for mouse and touch users (Enter does it too).
      const i = items.length
      items.push(
        h(
          'div',
          {
            id: `search-opt-${i}`,
            role: 'option',
            class: 'suggestion suggestion-all',
            'aria-selected': 'false',
            dataset: { href: url('/find', { q }) },
            onmousedown: (e) => e.preventDefault(),
            onclick: () => choose(i),
            onmousemove: () => active !== i && setActive(i),
          },
          h('span', { class: 'suggestion-all-text' }, `See all results for “${q}”`),
          h('span', { 'aria-hidden': 'true' }, '→'),
        ),
      )
    }
    if (items.length === 0) {
      items.push(
        h(
          'div',
          { role: 'option', 'aria-disabled': 'true', class: 'suggestion-empty' },
          `No matches for “${q}”`,
        ),
      )
    } else if (body.corrected) {
      items.unshift(
        h(
          'div',
          { role: 'presentation', class: 'suggestion-note' },
          `Showing matches for “${correctedQuery(body)}”`,
        ),
      )
    }
    replace(listbox, items)
    active = -1
    input.removeAttribute('aria-activedescendant')
    if (document.activeElement === input) open()
    announce(
      hits.length === 0 ? 'No suggestions' : `${hits.length} suggestion${hits.length === 1 ? '' : 's'}`,
    )
  }

  function renderError(err) {
    const detail = err instanceof ApiError ? (err.detail ?? err.title) : 'Search failed.'
    const id = err instanceof ApiError && err.requestId ? ` (request id ${err.requestId})` : ''
    hits = []
    replace(
      listbox,
      h(
        'div',
        { role: 'option', 'aria-disabled': 'true', class: 'suggestion-error' },
        `Search is unavailable: ${detail}${id}`,
      ),
    )
    open()
  }

  async function suggest(q) {
    controller?.abort()
    const mine = new AbortController()
    controller = mine
    try {
      const body = await api(url('/search', { q, limit: LIMIT }), { signal: mine.signal })
      if (controller !== mine || input.value.trim() !== q) return
      render(body, q)
    } catch (err) {
      if (err?.name === 'AbortError' || controller !== mine) return
      renderError(err)
    } finally {
      if (controller === mine) controller = null
    }
  }

  function choose(index) {
    if (index === hits.length && hits.length > 0) return seeAll()
    const hit = hits[index]
    if (!hit) return
    cancel()
    close()
    input.value = ''
    hits = []
    shownFor = ''
    replace(listbox)
    navigate(hitHref(hit))
  }

  /** The results page for what was typed; the text stays in the box. */
  function seeAll() {
    const q = input.value.trim() || shownFor
    cancel()
    close()
    navigate(url('/find', { q }))
  }

  searchText = (text) => {
    if (document.activeElement === input && input.value.trim() === text) return
    input.value = text
  }

  input.addEventListener('input', () => {
    const q = input.value.trim()
    clearTimeout(timer)
    if (!/[\p{L}\p{N}]/u.test(q)) {
      cancel()
      hits = []
      shownFor = ''
      replace(listbox)
      close()
      return
    }
    if (q === shownFor) return open()
    timer = setTimeout(() => suggest(q), DEBOUNCE_MS)
  })

  input.addEventListener('keydown', (e) => {
    // The suggestions and the "See all results" option after them.
    const options = hits.length > 0 ? hits.length + 1 : 0
    switch (e.key) {
      case 'ArrowDown':
        if (options === 0) return
        e.preventDefault()
        if (!isOpen()) open()
        setActive(active + 1 >= options ? 0 : active + 1)
        break
      case 'ArrowUp':
        if (options === 0) return
        e.preventDefault()
        if (!isOpen()) open()
        setActive(active <= 0 ? options - 1 : active - 1)
        break
      case 'Enter':
        if (isOpen() && active >= 0) {
          e.preventDefault()
          choose(active)
        }
        break
      case 'Escape':
        if (isOpen()) {
          e.preventDefault()
          close()
        } else if (input.value) {
          e.preventDefault()
          cancel()
          input.value = ''
          hits = []
          shownFor = ''
          replace(listbox)
        }
        break
      case 'Tab':
        close()
        break
    }
  })

  input.addEventListener('focus', () => {
    if (hits.length > 0 && input.value.trim() === shownFor) open()
  })
  input.addEventListener('blur', () => close())

  form.addEventListener('submit', (e) => {
    e.preventDefault()
    const q = input.value.trim()
    if (!/[\p{L}\p{N}]/u.test(q)) return
    cancel()
    close()
    navigate(url('/find', { q }))
  })

  // "/" focuses the search box from anywhere but a text field.
  document.addEventListener('keydown', (e) => {
    if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey) return
    const t = e.target
    if (t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)))
      return
    e.preventDefault()
    input.focus()
    input.select()
  })
}
