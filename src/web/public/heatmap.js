import { h } from './dom.js'
import { count, rating } from './format.js'

/**
 * The season x episode heatmap of a series: one row per season, one focusable button per episode,
 * coloured by rating on a diverging red-blue scale that colour-blind readers can tell apart; the
 * rating is also written in the cell, so colour is never the only cue. Unrated episodes are
 * hatched grey. Hovering or focusing a cell shows the episode; clicking opens it. Arrow keys move
 * between cells (one tab stop for the whole grid), Home and End jump within a season.
 */

/** Colour bins: [lower bound, background, label]; text colour is chosen for contrast. */
export const SCALE = [
  [Number.NEGATIVE_INFINITY, '#b2182b', 'below 5'],
  [5, '#d6604d', '5–5.9'],
  [6, '#f4a582', '6–6.9'],
  [7, '#fddbc7', '7–7.4'],
  [7.5, '#d1e5f0', '7.5–7.9'],
  [8, '#92c5de', '8–8.4'],
  [8.5, '#4393c3', '8.5–8.9'],
  [9, '#2166ac', '9 and up'],
]

export function colourOf(r) {
  let bin = SCALE[0]
  for (const b of SCALE) if (r >= b[0]) bin = b
  return bin[1]
}

/** Black or white, whichever contrasts more with `hex` (WCAG relative luminance). */
export function inkOn(hex) {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4
  })
  const l = 0.2126 * r + 0.7152 * g + 0.0722 * b
  return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? '#000' : '#fff'
}

/** Places a season's episodes in columns: by episode number when numbering is dense, else in order. */
function placeEpisodes(episodes) {
  const numbered = episodes.filter((e) => e.episode !== null && e.episode > 0)
  const max = numbered.reduce((m, e) => Math.max(m, e.episode), 0)
  const slots = []
  const extras = []
  if (max > 0 && max <= episodes.length * 1.5 + 5) {
    for (const e of episodes) {
      if (e.episode !== null && e.episode > 0 && !slots[e.episode - 1]) slots[e.episode - 1] = e
      else extras.push(e)
    }
  } else {
    extras.push(...episodes)
  }
  return [...Array.from({ length: slots.length }, (_, i) => slots[i] ?? null), ...extras]
}

function label(e, season) {
  const where = [
    season === null ? 'Unknown season' : `Season ${season}`,
    e.episode === null ? 'unnumbered episode' : `episode ${e.episode}`,
  ].join(', ')
  const name = e.primaryTitle ?? 'Untitled'
  const score = e.rating === null ? 'Not rated' : `Rated ${rating(e.rating)} from ${count(e.votes)} votes`
  return `${where}: ${name}. ${score}.`
}

/**
 * The fewest votes an episode needs to be named "Best" or "Lowest": a quarter of the series' median
 * episode vote count, and at least 10. Relative, because vote counts differ a thousandfold between
 * series (a long-running hit's episodes have thousands each, an obscure one's a dozen): a fixed bar
 * high enough to stop "10.0 from 11 votes" on a popular series would leave an obscure one with no
 * best episode at all. At least half of the rated episodes always qualify (those at the median).
 */
export function minVotesFor(rated) {
  if (rated.length === 0) return 0
  const votes = rated.map((e) => e.votes).sort((a, b) => a - b)
  const median = votes[Math.floor((votes.length - 1) / 2)]
  return Math.max(10, Math.round(median / 4))
}

const average = (eps) => {
  const rated = eps.filter((e) => e.rating !== null)
  return rated.length ? rated.reduce((s, e) => s + e.rating, 0) / rated.length : null
}

/** The heatmap for `data` (the API's episodes object); `navigate` opens an episode. */
export function heatmap(data, { navigate }) {
  const seasons = [...data.seasons].sort(
    (a, b) => (a.season ?? Number.MAX_SAFE_INTEGER) - (b.season ?? Number.MAX_SAFE_INTEGER),
  )
  const rows = seasons.map((s) => ({
    season: s.season,
    cells: placeEpisodes(s.episodes),
    avg: average(s.episodes),
  }))
  const columns = rows.reduce((m, r) => Math.max(m, r.cells.length), 0)
  const all = seasons.flatMap((s) => s.episodes)
  const rated = all.filter((e) => e.rating !== null)

  const tip = h('div', { class: 'heat-tip', 'aria-hidden': 'true', hidden: true })
  // The kind of pointer that last pressed a cell, and the cell a touch has previewed.
  let lastPointer = 'mouse'
  let armed = null
  const wrap = h('div', { class: 'heat-scroll' })
  const grid = []

  const table = h(
    'table',
    { class: columns > 18 ? 'heatmap dense' : 'heatmap', 'aria-describedby': 'heat-help' },
    h('caption', { class: 'visually-hidden' }, 'Episode ratings by season (rows) and episode (columns)'),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        h(
          'th',
          { scope: 'col', class: 'heat-corner' },
          h('span', { class: 'visually-hidden' }, 'Season'),
          'S \\ E',
        ),
        Array.from({ length: columns }, (_, i) =>
          h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Episode '), String(i + 1)),
        ),
      ),
    ),
    h(
      'tbody',
      null,
      rows.map((row, r) => {
        grid[r] = []
        return h(
          'tr',
          null,
          h(
            'th',
            { scope: 'row', class: 'heat-season' },
            h('span', { class: 'heat-season-name' }, row.season === null ? '?' : String(row.season)),
            h(
              'span',
              { class: 'visually-hidden' },
              row.season === null ? 'Unknown season' : `Season ${row.season}`,
            ),
            row.avg !== null
              ? h(
                  'span',
                  { class: 'heat-avg', title: 'Season average' },
                  h('span', { class: 'visually-hidden' }, ', average '),
                  rating(row.avg),
                )
              : null,
          ),
          Array.from({ length: columns }, (_, c) => {
            const e = row.cells[c]
            if (!e) return h('td', { class: 'heat-empty' })
            const bg = e.rating === null ? null : colourOf(e.rating)
            const button = h(
              'button',
              {
                type: 'button',
                class: e.rating === null ? 'heat-cell unrated' : 'heat-cell',
                tabindex: '-1',
                'aria-label': label(e, row.season),
                dataset: { id: e.id, row: r, col: c },
                style: bg ? { backgroundColor: bg, color: inkOn(bg) } : undefined,
                onclick: () => {
                  // On a touch screen the first tap previews the episode, a second tap opens it.
                  if (lastPointer === 'touch' && armed !== button) {
                    armed = button
                    show(button)
                    return
                  }
                  navigate(`/title/${e.id}`)
                },
              },
              e.rating === null ? '–' : rating(e.rating),
            )
            grid[r][c] = button
            return h('td', null, button)
          }),
        )
      }),
    ),
  )
  wrap.append(table)

  // Best and lowest among episodes with enough votes to mean something (see minVotesFor).
  const minVotes = minVotesFor(rated)
  const qualified = rated.filter((e) => e.votes >= minVotes)
  const ranked = qualified.length ? qualified : rated
  // One tab stop: the best-rated episode, else the first.
  const first = grid.flat().find(Boolean)
  const best = ranked.length ? ranked.reduce((a, b) => (b.rating > a.rating ? b : a)) : null
  const entry = (best && grid.flat().find((b) => b?.dataset.id === best.id)) || first
  if (entry) entry.tabIndex = 0

  function show(button) {
    const r = Number(button.dataset.row)
    const e = rows[r].cells[Number(button.dataset.col)]
    const where = `${rows[r].season === null ? 'S?' : `S${rows[r].season}`} · E${e.episode ?? '?'}`
    tip.replaceChildren(
      h('strong', null, e.primaryTitle ?? 'Untitled'),
      h('span', { class: 'heat-tip-where' }, [where, e.startYear].filter(Boolean).join(' · ')),
      h(
        'span',
        { class: 'heat-tip-rating' },
        e.rating === null ? 'Not rated' : `★ ${rating(e.rating)} · ${count(e.votes)} votes`,
      ),
    )
    if (armed === button) tip.append(h('span', { class: 'heat-tip-hint' }, 'Tap again to open'))
    tip.hidden = false
    const box = button.getBoundingClientRect()
    const host = container.getBoundingClientRect()
    const x = box.left - host.left + box.width / 2
    const below = box.top - host.top < 80
    tip.classList.toggle('below', below)
    // Kept inside the heatmap's box, so it never widens the page.
    const half = Math.min(tip.offsetWidth, host.width) / 2
    tip.style.left = `${Math.max(half, Math.min(host.width - half, x))}px`
    tip.style.top = below ? `${box.bottom - host.top + 8}px` : `${box.top - host.top - 8}px`
  }
  const hide = () => {
    tip.hidden = true
    armed = null
  }

  function move(button, dr, dc, jump) {
    const r = Number(button.dataset.row)
    const c = Number(button.dataset.col)
    let target = null
    if (jump === 'home') target = grid[r].find(Boolean)
    else if (jump === 'end') target = grid[r].findLast(Boolean)
    else if (dc !== 0) {
      for (let k = c + dc; k >= 0 && k < columns && !target; k += dc) target = grid[r][k]
    } else {
      for (let k = r + dr; k >= 0 && k < rows.length && !target; k += dr) {
        // The same column, else the nearest cell of that season.
        target = grid[k][c] ?? nearest(grid[k], c)
      }
    }
    if (!target) return
    button.tabIndex = -1
    target.tabIndex = 0
    target.focus()
  }

  table.addEventListener('keydown', (ev) => {
    const button = ev.target.closest?.('.heat-cell')
    if (!button) return
    lastPointer = 'keyboard'
    const keys = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] }
    if (keys[ev.key]) move(button, ...keys[ev.key])
    else if (ev.key === 'Home') move(button, 0, 0, 'home')
    else if (ev.key === 'End') move(button, 0, 0, 'end')
    else return
    ev.preventDefault()
  })
  table.addEventListener('focusin', (ev) => {
    const button = ev.target.closest?.('.heat-cell')
    if (!button) return
    for (const b of table.querySelectorAll('.heat-cell[tabindex="0"]')) if (b !== button) b.tabIndex = -1
    button.tabIndex = 0
    show(button)
  })
  table.addEventListener('focusout', hide)
  table.addEventListener('pointerdown', (ev) => {
    lastPointer = ev.pointerType
  })
  table.addEventListener('pointerover', (ev) => {
    const button = ev.target.closest?.('.heat-cell')
    if (button) show(button)
  })
  table.addEventListener('pointerleave', () => {
    const focused = document.activeElement?.closest?.('.heat-cell')
    if (focused && table.contains(focused)) show(focused)
    else hide()
  })
  wrap.addEventListener('scroll', hide, { passive: true })

  const legend = h(
    'ul',
    { class: 'legend', 'aria-label': 'Colour scale' },
    SCALE.map(([, bg, text]) =>
      h(
        'li',
        null,
        h('span', { class: 'swatch', style: { backgroundColor: bg }, 'aria-hidden': 'true' }),
        text,
      ),
    ),
    h('li', null, h('span', { class: 'swatch unrated', 'aria-hidden': 'true' }), 'not rated'),
  )

  const worst = ranked.length ? ranked.reduce((a, b) => (b.rating < a.rating ? b : a)) : null
  const seasonOf = new Map(seasons.flatMap((s) => s.episodes.map((e) => [e.id, s.season])))
  const where = (e) => `S${seasonOf.get(e.id) ?? '?'} · E${e.episode ?? '?'}`
  const summary = h(
    'ul',
    { class: 'heat-facts' },
    h(
      'li',
      null,
      `${count(data.episodeCount)} episodes over ${rows.length} season${rows.length === 1 ? '' : 's'}`,
      rated.length < all.length ? ` (${count(all.length - rated.length)} not rated)` : '',
    ),
    best ? h('li', null, 'Best: ', link(best, where)) : null,
    worst && worst !== best ? h('li', null, 'Lowest: ', link(worst, where)) : null,
    best && minVotes > 10 && qualified.length < rated.length
      ? h(
          'li',
          { class: 'muted small' },
          `Best and lowest among episodes with at least ${count(minVotes)} votes.`,
        )
      : null,
  )

  const container = h(
    'div',
    { class: 'heat' },
    h(
      'div',
      { class: 'heat-main' },
      wrap,
      data.truncated ? h('p', { class: 'notice' }, `Showing the first ${count(all.length)} episodes.`) : null,
    ),
    h(
      'div',
      { class: 'heat-side' },
      summary,
      h(
        'p',
        { id: 'heat-help', class: 'muted small' },
        'Each cell is an episode and its rating. Hover, focus or tap a cell to see the episode; arrow keys move, Enter (or a second tap) opens it.',
      ),
      legend,
      seasonChart(rows),
    ),
    tip,
  )
  return container
}

/** Season averages as bars on the same colour scale: how the series rose and fell. */
function seasonChart(rows) {
  const points = rows.filter((r) => r.avg !== null && r.season !== null)
  if (points.length < 2) return null
  const w = 300
  const hgt = 96
  const lo = Math.max(0, Math.floor(Math.min(...points.map((p) => p.avg))) - 1)
  const bar = w / points.length
  const y = (v) => hgt - ((v - lo) / (10 - lo)) * (hgt - 4)
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg')
  svg.setAttribute('viewBox', `0 0 ${w} ${hgt}`)
  svg.setAttribute('class', 'season-chart')
  svg.setAttribute('preserveAspectRatio', 'none')
  svg.setAttribute('aria-hidden', 'true')
  for (const [i, p] of points.entries()) {
    const rect = document.createElementNS('http://www.w3.org/2000/svg', 'rect')
    rect.setAttribute('x', String(i * bar + bar * 0.12))
    rect.setAttribute('width', String(Math.max(1, bar * 0.76)))
    rect.setAttribute('y', String(y(p.avg)))
    rect.setAttribute('height', String(hgt - y(p.avg)))
    rect.setAttribute('rx', '1.5')
    rect.setAttribute('fill', colourOf(p.avg))
    svg.append(rect)
  }
  const bestSeason = points.reduce((a, b) => (b.avg > a.avg ? b : a))
  const worstSeason = points.reduce((a, b) => (b.avg < a.avg ? b : a))
  return h(
    'figure',
    { class: 'season-figure' },
    svg,
    h(
      'figcaption',
      { class: 'muted small' },
      `Season averages: best season ${bestSeason.season} (${rating(bestSeason.avg)}), lowest season ${worstSeason.season} (${rating(worstSeason.avg)}).`,
    ),
  )
}

function nearest(row, c) {
  for (let d = 1; d < row.length + c + 1; d++) {
    if (row[c - d]) return row[c - d]
    if (row[c + d]) return row[c + d]
  }
  return null
}

function link(e, where) {
  return h(
    'a',
    { href: `/title/${e.id}` },
    `${where(e)} “${e.primaryTitle ?? 'Untitled'}” ★ ${rating(e.rating)}`,
  )
}
