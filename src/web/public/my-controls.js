import { ApiError, api, apiKey, send } from './api.js'
import { h, replace } from './dom.js'

/**
 * The user's own controls on a title page: "Add to watchlist" and a 1-10 rating, shown when an API
 * key was given (otherwise a link inviting to add one). Call it before the title itself is loaded:
 * the two requests for the current state then run beside the title's, not after it.
 */
export function myControls(tconst, { signal, announce } = {}) {
  const box = h('div', { class: 'mine', 'aria-label': 'Your lists', role: 'group' })
  if (!apiKey()) {
    replace(
      box,
      h(
        'p',
        { class: 'muted small mine-invite' },
        h('a', { href: '/lists' }, 'Add your API key'),
        ' to keep a watchlist and rate titles.',
      ),
    )
    return box
  }
  const notFoundAsNull = (err) => {
    if (err instanceof ApiError && err.status === 404) return null
    throw err
  }
  Promise.all([
    api(`/me/watchlist/${tconst}`, { signal, fresh: true }).catch(notFoundAsNull),
    api(`/me/ratings/${tconst}`, { signal, fresh: true }).catch(notFoundAsNull),
  ]).then(
    ([entry, rated]) => {
      const state = { watchlist: entry !== null, rating: rated?.rating ?? entry?.yourRating ?? null }
      replace(box, controls(tconst, state, announce ?? (() => {})))
    },
    (err) => {
      if (err?.name === 'AbortError') return
      replace(box, keyProblem(err))
    },
  )
  return box
}

/** What to say when the API refused the key or failed: the API's own words. */
function keyProblem(err) {
  const lead =
    err?.status === 401
      ? 'Your API key was not accepted.'
      : err?.status === 403
        ? 'Your API key cannot keep lists.'
        : 'Your lists could not be loaded.'
  return h(
    'p',
    { class: 'notice small mine-problem', role: 'alert' },
    lead,
    err?.detail ? ` ${err.detail}` : '',
    ' ',
    h('a', { href: '/lists' }, 'Check your key'),
  )
}

function controls(tconst, state, announce) {
  const status = h('p', { class: 'mine-status small', role: 'status' })
  const fail = (err) => {
    status.textContent = `Not saved: ${err?.detail ?? err?.title ?? 'the server could not be reached'}.`
    status.classList.add('mine-error')
  }
  const done = (text) => {
    status.textContent = text
    status.classList.remove('mine-error')
    announce(text)
  }

  const watch = h('button', { type: 'button', class: 'button mine-watch' })
  const showWatch = () => {
    watch.setAttribute('aria-pressed', String(state.watchlist))
    watch.classList.toggle('secondary', !state.watchlist)
    replace(
      watch,
      h('span', { 'aria-hidden': 'true' }, state.watchlist ? '✓ ' : '+ '),
      state.watchlist ? 'On your watchlist' : 'Add to watchlist',
    )
  }
  showWatch()
  watch.addEventListener('click', async () => {
    const on = !state.watchlist
    watch.disabled = true
    try {
      await send(on ? 'PUT' : 'DELETE', `/me/watchlist/${tconst}`).catch((err) => {
        // Already in the state asked for: the other tab or an import got there first.
        if (!(err instanceof ApiError && err.status === 404 && !on)) throw err
      })
      state.watchlist = on
      showWatch()
      done(on ? 'Added to your watchlist.' : 'Removed from your watchlist.')
    } catch (err) {
      fail(err)
    } finally {
      watch.disabled = false
      watch.focus()
    }
  })

  // A toolbar of ten toggle buttons (one pressed: the current rating) and a Clear button. Arrow
  // keys, Home and End move between them (one tab stop); Enter or Space rates.
  const label = h('span', { id: 'mine-rating-label', class: 'mine-label' }, 'Your rating')
  const current = h('span', { class: 'mine-current', 'aria-hidden': 'true' })
  const stars = Array.from({ length: 10 }, (_, i) =>
    h(
      'button',
      {
        type: 'button',
        class: 'mine-star',
        'aria-label': `${i + 1} out of 10`,
        dataset: { value: String(i + 1) },
      },
      String(i + 1),
    ),
  )
  const clear = h('button', { type: 'button', class: 'link-button mine-clear' }, 'Clear rating')
  const bar = h(
    'div',
    { role: 'toolbar', class: 'mine-stars', 'aria-labelledby': 'mine-rating-label' },
    stars,
  )
  const showRating = () => {
    for (const [i, b] of stars.entries()) {
      b.setAttribute('aria-pressed', String(state.rating === i + 1))
      b.classList.toggle('filled', state.rating !== null && i < state.rating)
    }
    const focusAt = (state.rating ?? 1) - 1
    for (const [i, b] of stars.entries()) b.tabIndex = i === focusAt ? 0 : -1
    current.textContent = state.rating === null ? 'Not rated' : `${state.rating}/10`
    clear.hidden = state.rating === null
  }
  showRating()
  const rate = async (value) => {
    if (value === state.rating) return
    for (const b of [...stars, clear]) b.disabled = true
    try {
      if (value === null) {
        await send('DELETE', `/me/ratings/${tconst}`).catch((err) => {
          if (!(err instanceof ApiError && err.status === 404)) throw err
        })
      } else await send('PUT', `/me/ratings/${tconst}`, { rating: value })
      state.rating = value
      showRating()
      done(value === null ? 'Your rating was cleared.' : `Rated ${value} out of 10.`)
    } catch (err) {
      fail(err)
    } finally {
      for (const b of [...stars, clear]) b.disabled = false
      ;(value === null ? stars[0] : stars[(state.rating ?? 1) - 1]).focus()
    }
  }
  bar.addEventListener('click', (e) => {
    const b = e.target.closest?.('.mine-star')
    if (b) rate(Number(b.dataset.value))
  })
  bar.addEventListener('keydown', (e) => {
    const at = stars.indexOf(document.activeElement)
    if (at < 0) return
    const next =
      e.key === 'ArrowRight' || e.key === 'ArrowUp'
        ? Math.min(at + 1, 9)
        : e.key === 'ArrowLeft' || e.key === 'ArrowDown'
          ? Math.max(at - 1, 0)
          : e.key === 'Home'
            ? 0
            : e.key === 'End'
              ? 9
              : -1
    if (next < 0) return
    e.preventDefault()
    for (const [i, b] of stars.entries()) b.tabIndex = i === next ? 0 : -1
    stars[next].focus()
  })
  clear.addEventListener('click', () => rate(null))

  return [
    h('div', { class: 'mine-row' }, watch),
    h('div', { class: 'mine-row mine-rating' }, label, bar, current, clear),
    status,
  ]
}
