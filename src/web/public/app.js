import { ApiError, api } from './api.js'
import { replace } from './dom.js'
import { errorPanel } from './errors.js'
import { browsePage } from './pages/browse.js'
import { findPage } from './pages/find.js'
import { homePage } from './pages/home.js'
import { namePage } from './pages/name.js'
import { titlePage } from './pages/title.js'
import { initSearch } from './search.js'

/**
 * The app shell: a History API router over the pages the server answers with index.html
 * (`/`, `/title/tt...`, `/name/nm...`, `/find?q=`). Links to them are followed in place; any
 * other link (the API, /docs) is an ordinary navigation.
 */

const ROUTES = [
  [/^\/$/, (view) => homePage(view)],
  [/^\/title\/([^/]+)\/?$/, (view, m) => titlePage(view, decodeURIComponent(m[1]))],
  [/^\/name\/([^/]+)\/?$/, (view, m) => namePage(view, decodeURIComponent(m[1]))],
  [/^\/find\/?$/, (view) => findPage(view, new URLSearchParams(location.search))],
  [/^\/browse\/?$/, (view) => browsePage(view, location.search)],
  [/^\/lists\/?$/, async (view) => (await listsModule()).listsPage(view, location.search)],
]

/**
 * My lists and its file reader load only when that page opens (the shell does not preload them:
 * see LAZY_MODULES in plugin.ts); both are asked for at once, not one after the other.
 */
const listsModule = () =>
  Promise.all([import('./pages/lists.js'), import('./csv.js')]).then(([lists]) => lists)

const main = document.getElementById('main')
const statusRegion = document.getElementById('status')
let current = null
let renders = 0

const isAppPath = (pathname) => ROUTES.some(([re]) => re.test(pathname))

function announce(text) {
  statusRegion.textContent = ''
  // A fresh text node each time, so screen readers repeat an unchanged message.
  requestAnimationFrame(() => {
    statusRegion.textContent = text
  })
}

function setTitle(text) {
  document.title = text ? `${text} · marquee` : 'marquee: films, series and people'
}

export function navigate(href, { replace: replaceEntry = false } = {}) {
  const target = new URL(href, location.href)
  if (target.origin !== location.origin || !isAppPath(target.pathname)) {
    location.assign(target.href)
    return
  }
  history.replaceState({ ...history.state, scrollY: window.scrollY }, '')
  if (replaceEntry || target.href === location.href) history.replaceState({}, '', target.href)
  else history.pushState({}, '', target.href)
  render({ focus: true, scrollY: 0 })
}

async function render({ focus = false, scrollY = null } = {}) {
  current?.abort()
  const controller = new AbortController()
  current = controller
  const run = ++renders
  const route = ROUTES.map(([re, page]) => [re.exec(location.pathname), page]).find(([m]) => m)
  const view = {
    signal: controller.signal,
    navigate,
    announce,
    setTitle,
    render: (content) => {
      if (controller.signal.aborted) return
      replace(main, content)
    },
  }
  main.setAttribute('aria-busy', 'true')
  try {
    if (!route)
      throw new ApiError({ status: 404, title: 'Not Found', detail: 'There is no page at this address.' })
    await route[1](view, route[0])
  } catch (err) {
    if (err?.name === 'AbortError' || controller.signal.aborted) return
    setTitle('Error')
    replace(main, errorPanel(err, { retry: () => render({ focus: true }) }))
  } finally {
    if (current === controller) {
      main.removeAttribute('aria-busy')
      if (scrollY !== null) window.scrollTo(0, scrollY)
      if (focus) (main.querySelector('h1') ?? main).focus({ preventScroll: true })
      if (run === 1) performance.mark('marquee:first-render')
      document.documentElement.dataset.rendered = String(run)
    }
  }
}

// Links to the app's own pages are followed in place.
document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return
  const a = e.target.closest?.('a[href]')
  if (!a || a.target || a.hasAttribute('download')) return
  const target = new URL(a.href, location.href)
  if (target.origin !== location.origin || !isAppPath(target.pathname)) return
  if (target.pathname === location.pathname && target.search === location.search && target.hash) return
  e.preventDefault()
  navigate(target.href)
})

window.addEventListener('popstate', (e) => render({ focus: true, scrollY: e.state?.scrollY ?? 0 }))
history.scrollRestoration = 'manual'

initSearch({
  input: document.getElementById('search-input'),
  listbox: document.getElementById('search-listbox'),
  form: document.getElementById('search-form'),
  navigate,
  announce,
})

render()

// The footer names the loaded dataset once the page itself is up.
api('/ready')
  .then((ready) => {
    const when = ready.loadedAt
      ? new Date(ready.loadedAt).toLocaleDateString('en', { dateStyle: 'medium' })
      : null
    const info = document.getElementById('dataset-info')
    replace(info, `Dataset ${ready.generation}`, when ? `, loaded ${when}.` : '.')
  })
  .catch(() => {
    // The footer stays short; the pages themselves explain an unavailable dataset.
  })
