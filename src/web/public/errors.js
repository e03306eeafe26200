import { ApiError, setApiKey } from './api.js'
import { h } from './dom.js'

/** Friendly words for what went wrong, by status; the API's own detail follows them. */
function headline(err) {
  switch (err.status) {
    case 0:
      return 'We could not reach the server'
    case 400:
      return 'That request did not make sense to the server'
    case 401:
      return 'This server needs an API key'
    case 403:
      return 'Your API key is not allowed to see this'
    case 404:
      return 'We could not find that'
    case 409:
      return 'This dataset does not include that information'
    case 429:
      return 'Too many requests at once'
    case 503:
      return err.code === 'NO_DATASET' ? 'The dataset is still loading' : 'The server is busy right now'
    default:
      return err.status >= 500 ? 'Something went wrong on our side' : 'Something went wrong'
  }
}

/**
 * A friendly error panel: what happened in plain words, the API's detail, the request id (to quote
 * when reporting it) and a way forward: retry, go home, or give an API key.
 */
export function errorPanel(err, { retry } = {}) {
  if (!(err instanceof ApiError)) {
    console.error(err)
    err = new ApiError({
      status: -1,
      title: 'Error',
      detail: 'The page failed to render. Reloading may help.',
    })
  }
  const actions = h('div', { class: 'error-actions' })
  if (err.status === 401 || err.status === 403) actions.append(keyForm(retry))
  let countdown = null
  if (retry && err.status !== 404 && err.status !== 400) {
    actions.append(h('button', { type: 'button', class: 'button', onclick: retry }, 'Try again'))
    // A dataset still loading or a busy server says when to come back: do so by ourselves.
    if (err.status === 503 && err.retryAfter) {
      countdown = h('p', { class: 'muted small' }, `Trying again in ${err.retryAfter} s…`)
      setTimeout(() => {
        if (countdown.isConnected) retry()
      }, err.retryAfter * 1000)
    }
  }
  actions.append(h('a', { class: 'button secondary', href: '/' }, 'Go to the start page'))
  return h(
    'section',
    { class: 'error-panel', role: 'alert', 'data-status': err.status, 'aria-labelledby': 'error-title' },
    h('h1', { id: 'error-title', tabindex: '-1' }, headline(err)),
    err.detail ? h('p', { class: 'error-detail' }, err.detail) : null,
    err.requestId
      ? h(
          'p',
          { class: 'request-id' },
          'Request id ',
          h('code', { class: 'request-id-value' }, err.requestId),
          ' ',
          copyButton(err.requestId),
          h('span', { class: 'muted' }, ' · quote it when reporting a problem.'),
        )
      : null,
    actions,
    countdown,
  )
}

function copyButton(text) {
  if (!navigator.clipboard) return null
  const button = h(
    'button',
    { type: 'button', class: 'link-button', 'aria-label': 'Copy the request id' },
    'Copy',
  )
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text)
      button.textContent = 'Copied'
    } catch {
      button.textContent = 'Copy failed'
    }
  })
  return button
}

function keyForm(retry) {
  const input = h('input', { type: 'password', id: 'api-key', autocomplete: 'off', required: true })
  return h(
    'form',
    {
      class: 'key-form',
      onsubmit: (e) => {
        e.preventDefault()
        setApiKey(input.value.trim())
        retry?.()
      },
    },
    h('label', { for: 'api-key' }, 'API key'),
    input,
    h('button', { type: 'submit', class: 'button' }, 'Use this key'),
    h(
      'p',
      { class: 'muted small' },
      'Kept in this browser only and sent to this site only, as Authorization: Bearer.',
    ),
  )
}
