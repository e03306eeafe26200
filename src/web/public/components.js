import { h } from './dom.js'
import { compactCount, count, rating, runtime, titleType, years } from './format.js'

/** A stable hue per id, so a title or person keeps its colour everywhere. */
function hueOf(id) {
  let x = 2166136261
  for (const c of id) x = Math.imul(x ^ c.charCodeAt(0), 16777619)
  return (x >>> 0) % 360
}

/**
 * Up to two initials of the significant words, from letters only: "The Godfather" -> "G",
 * "Al Pacino" -> "AP", "Episode #3.4" -> "E". A title without letters ("1917") gets its first digit.
 */
export function initials(text) {
  const words = String(text)
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => /\p{L}/u.test(w))
  const significant = words.filter((w) => !/^(the|a|an|le|la|les|el|der|die|das|il)$/i.test(w))
  const letters = (significant.length ? significant : words)
    .slice(0, 2)
    .map((w) => w.match(/\p{L}/u)?.[0] ?? '')
  if (letters.length === 0) return String(text).match(/\p{N}/u)?.[0] ?? '?'
  return letters.join('').toUpperCase()
}

/** A coloured tile with initials: the datasets carry no images, so this stands in for a poster. */
export function monogram(id, text, size = 'md') {
  const hue = hueOf(id)
  return h(
    'span',
    {
      class: `monogram monogram-${size}`,
      'aria-hidden': 'true',
      style: { backgroundColor: `hsl(${hue} 42% 30%)`, borderColor: `hsl(${hue} 50% 42%)` },
    },
    initials(text),
  )
}

/** "★ 8.6 /10 · 950K votes", or "Not rated yet". */
export function ratingBadge(value, votes, size = 'md') {
  if (value === null || value === undefined)
    return h('span', { class: `rating rating-${size} unrated` }, 'Not rated yet')
  // Screen readers read the hidden sentence; the visible parts are for the eye (a span's
  // aria-label is not read: axe aria-prohibited-attr).
  return h(
    'span',
    { class: `rating rating-${size}` },
    h('span', { class: 'visually-hidden' }, `Rated ${rating(value)} out of 10 from ${count(votes)} votes`),
    h('span', { class: 'star', 'aria-hidden': 'true' }, '★'),
    h('span', { class: 'rating-value', 'aria-hidden': 'true' }, rating(value)),
    h('span', { class: 'rating-scale', 'aria-hidden': 'true' }, '/10'),
    h('span', { class: 'rating-votes', 'aria-hidden': 'true' }, `${compactCount(votes)} votes`),
  )
}

export function chips(values, label) {
  if (!values || values.length === 0) return null
  return h(
    'ul',
    { class: 'chips', 'aria-label': label },
    values.map((v) => h('li', { class: 'chip' }, v)),
  )
}

/** A card linking to a title: tile, name, kind and year, rating. */
export function titleCard(t, extra) {
  const ongoing = t.type === 'tvSeries'
  return h(
    'li',
    { class: 'card' },
    h(
      'a',
      { class: 'card-link', href: `/title/${t.id}` },
      monogram(t.id, t.primaryTitle ?? t.title),
      h(
        'span',
        { class: 'card-body' },
        h('span', { class: 'card-title' }, t.primaryTitle ?? t.title),
        h(
          'span',
          { class: 'card-meta' },
          [titleType(t.type), years(t.startYear, t.endYear, ongoing), runtime(t.runtimeMinutes)]
            .filter(Boolean)
            .join(' · '),
        ),
        extra ? h('span', { class: 'card-extra' }, extra) : null,
        t.rating !== null && t.rating !== undefined ? ratingBadge(t.rating, t.votes, 'sm') : null,
      ),
    ),
  )
}

/** Grey placeholder blocks shown while a page loads. */
export function skeleton(lines = 3) {
  return h(
    'div',
    { class: 'skeleton', 'aria-hidden': 'true' },
    h('div', { class: 'skeleton-block skeleton-title' }),
    Array.from({ length: lines }, (_, i) =>
      h('div', { class: `skeleton-block skeleton-line w${(i % 3) + 1}` }),
    ),
  )
}

/** A page section with a heading; `id` names it for aria-labelledby. */
export function section(id, title, ...content) {
  return h(
    'section',
    { class: 'section', 'aria-labelledby': `${id}-heading`, id },
    h('h2', { id: `${id}-heading` }, title),
    ...content,
  )
}

/** A note that a part of the page is missing, with the API's reason and request id. */
export function sectionError(err) {
  const lead =
    err?.status === 409
      ? 'Not included in the loaded dataset.'
      : err?.status === 0
        ? 'The server could not be reached.'
        : 'This part could not be loaded.'
  return h(
    'div',
    { class: 'notice' },
    h('p', { class: 'notice-lead' }, lead),
    err?.detail || err?.requestId
      ? h(
          'p',
          { class: 'notice-detail muted small' },
          err.detail ?? '',
          err.requestId ? [' Request id ', h('code', null, err.requestId), '.'] : null,
        )
      : null,
  )
}

/**
 * ARIA tabs that are links, each to its own address (manual activation): arrow keys, Home and End
 * move between them, Enter or Space opens one. `tabs`: { id, label, href, count, selected }; the
 * tabs control the element with id `panel`.
 */
export function linkTabs(label, panel, tabs) {
  const list = h(
    'div',
    { role: 'tablist', class: 'tabs', 'aria-label': label },
    tabs.map((tab) =>
      h(
        'a',
        {
          role: 'tab',
          id: `tab-${tab.id}`,
          class: 'tab',
          href: tab.href,
          'aria-selected': String(tab.selected),
          'aria-controls': panel,
          tabindex: tab.selected ? '0' : '-1',
        },
        tab.label,
        ' ',
        h('span', { class: 'tab-count' }, `(${tab.count})`),
      ),
    ),
  )
  list.addEventListener('keydown', (e) => {
    const all = [...list.querySelectorAll('[role=tab]')]
    const at = all.indexOf(document.activeElement)
    if (e.key === ' ' && at >= 0) {
      e.preventDefault()
      all[at].click()
      return
    }
    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft' && e.key !== 'Home' && e.key !== 'End') return
    const next =
      e.key === 'Home'
        ? 0
        : e.key === 'End'
          ? all.length - 1
          : (at + (e.key === 'ArrowRight' ? 1 : -1) + all.length) % all.length
    e.preventDefault()
    for (const [i, tab] of all.entries()) tab.tabIndex = i === next ? 0 : -1
    all[next].focus()
  })
  return list
}
