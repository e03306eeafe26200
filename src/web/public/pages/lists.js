import { ApiError, api, apiKey, fetchBlob, listsGeneration, saveBlob, send, setApiKey } from '../api.js'
import { linkTabs, monogram, skeleton } from '../components.js'
import { IMPORT_MAX, importItems } from '../csv.js'
import { h, replace } from '../dom.js'
import { count, plural, rating, titleType, years } from '../format.js'

/**
 * /lists: the user's watchlist and ratings (`?list=ratings`), sorted (`sort=`) and paged (`page=`)
 * in the browser, with export (CSV, NDJSON) and import (IMDb's or marquee's own exports) and the
 * API key's own form. Each list arrives whole in one NDJSON request (the API's export), so every
 * sort and page is instant and the tabs can show their counts.
 */

const PAGE_SIZE = 50
const LISTS = [
  { id: 'watchlist', label: 'Watchlist', when: 'addedAt', whenLabel: 'Added', mine: 'yourRating' },
  { id: 'ratings', label: 'Ratings', when: 'ratedAt', whenLabel: 'Rated', mine: 'rating' },
]
const SORTS = [
  { id: 'recent', label: 'Most recent first' },
  { id: 'oldest', label: 'Oldest first' },
  { id: 'title', label: 'Title (A–Z)' },
  { id: 'year', label: 'Year (newest first)' },
  { id: 'imdb', label: 'IMDb rating (highest first)' },
  { id: 'mine', label: 'Your rating (highest first)' },
]

/** The lists as last loaded: reused while nothing was written and the key is the same. */
let loaded = null

async function loadLists(signal) {
  const stamp = `${listsGeneration()}:${apiKey()}`
  if (loaded?.stamp === stamp) return loaded.lists
  const lists = {}
  await Promise.all(
    LISTS.map(async (list) => {
      const blob = await fetchBlob(`/me/${list.id}?format=ndjson`, 'application/x-ndjson', { signal })
      const text = await blob.text()
      lists[list.id] = text
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l))
    }),
  )
  loaded = { stamp, lists }
  return lists
}

const listsHref = ({ list, sort, page }) => {
  const q = new URLSearchParams()
  if (list && list !== 'watchlist') q.set('list', list)
  if (sort && sort !== 'recent') q.set('sort', sort)
  if (page && page > 1) q.set('page', String(page))
  const qs = q.toString()
  return qs ? `/lists?${qs}` : '/lists'
}

function sorted(items, list, sort) {
  const by = {
    recent: (a, b) => b[list.when].localeCompare(a[list.when]),
    oldest: (a, b) => a[list.when].localeCompare(b[list.when]),
    title: (a, b) => (a.title?.primaryTitle ?? a.tconst).localeCompare(b.title?.primaryTitle ?? b.tconst),
    year: (a, b) => (b.title?.startYear ?? -1) - (a.title?.startYear ?? -1),
    imdb: (a, b) => (b.title?.rating ?? -1) - (a.title?.rating ?? -1),
    mine: (a, b) => (b[list.mine] ?? -1) - (a[list.mine] ?? -1),
  }[sort]
  // Ties keep the most recent first.
  return [...items].sort((a, b) => by(a, b) || b[list.when].localeCompare(a[list.when]))
}

export async function listsPage(view, search) {
  const params = new URLSearchParams(search)
  const list = LISTS.find((l) => l.id === params.get('list')) ?? LISTS[0]
  const sort = SORTS.find((s) => s.id === params.get('sort'))?.id ?? 'recent'
  const page = Math.max(1, Number.parseInt(params.get('page') ?? '1', 10) || 1)
  view.setTitle('My lists')

  const heading = h('h1', { tabindex: '-1' }, 'My lists')
  if (!apiKey()) {
    view.render([heading, keyForm(view)])
    return
  }
  view.render([heading, skeleton(4)])
  let lists
  try {
    lists = await loadLists(view.signal)
  } catch (err) {
    if (!(err instanceof ApiError) || (err.status !== 401 && err.status !== 403)) throw err
    view.render([heading, keyForm(view, err)])
    return
  }

  const area = h('div', { class: 'lists-area' })
  const report = h('div', { class: 'import-report', role: 'status', 'aria-live': 'polite' })
  const show = (all) => replace(area, listView(view, all, list, sort, page))
  show(lists)
  const reload = async () => {
    show(await loadLists(view.signal))
  }
  view.render([
    heading,
    keyInfo(view),
    area,
    h(
      'section',
      { class: 'section lists-transfer', 'aria-labelledby': 'transfer-heading' },
      h('h2', { id: 'transfer-heading' }, 'Export and import'),
      exportButtons(list),
      importForm(report, reload),
      report,
    ),
  ])
}

/** The key's form: shown without a key, or with the API's words when it refused the key. */
function keyForm(view, err) {
  const input = h('input', {
    type: 'password',
    id: 'lists-key',
    name: 'key',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    'aria-describedby': 'lists-key-help',
  })
  const message = h('div', { class: 'key-message', role: 'alert' })
  if (err) showKeyProblem(message, err)
  const form = h(
    'form',
    { class: 'key-form lists-key-form' },
    h('label', { for: 'lists-key' }, 'API key'),
    input,
    h('button', { type: 'submit', class: 'button' }, 'Use this key'),
  )
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    const key = input.value.trim()
    if (!key) return
    setApiKey(key)
    try {
      await api('/me/watchlist?limit=1', { fresh: true, signal: view.signal })
    } catch (problem) {
      if (problem?.name === 'AbortError') return
      // A key the API refuses is not kept.
      if (problem instanceof ApiError && (problem.status === 401 || problem.status === 403)) setApiKey(null)
      showKeyProblem(message, problem)
      input.focus()
      return
    }
    view.announce('Your API key was accepted.')
    view.navigate(location.href, { replace: true })
  })
  return h(
    'section',
    { class: 'section lists-key', 'aria-labelledby': 'key-heading' },
    h('h2', { id: 'key-heading' }, 'Your API key'),
    h(
      'p',
      { id: 'lists-key-help' },
      'Your watchlist and ratings belong to an API key. Whoever runs this marquee makes one with ',
      h('code', null, 'marquee keys create --name you'),
      '. It is kept in this browser only and sent to this site only.',
    ),
    form,
    message,
  )
}

function showKeyProblem(box, err) {
  const lead =
    err?.status === 401
      ? 'That key was not accepted.'
      : err?.status === 403
        ? 'That key cannot keep lists.'
        : 'The key could not be checked.'
  replace(
    box,
    h(
      'div',
      { class: 'notice' },
      h('p', { class: 'notice-lead' }, lead),
      err?.detail ? h('p', { class: 'notice-detail' }, err.detail) : null,
      err?.requestId
        ? h('p', { class: 'muted small' }, 'Request id ', h('code', null, err.requestId), '.')
        : null,
    ),
  )
}

function keyInfo(view) {
  return h(
    'p',
    { class: 'lists-key-info muted small' },
    'Your API key is kept in this browser. ',
    h(
      'button',
      {
        type: 'button',
        class: 'link-button lists-forget',
        onclick: () => {
          setApiKey(null)
          loaded = null
          view.announce('Your API key was forgotten.')
          view.navigate(location.href, { replace: true })
        },
      },
      'Forget the key',
    ),
  )
}

function listView(view, lists, list, sort, page) {
  const tabs = linkTabs(
    'Your lists',
    'lists-panel',
    LISTS.map((l) => ({
      id: l.id,
      label: l.label,
      href: listsHref({ list: l.id, sort }),
      count: count(lists[l.id].length),
      selected: l === list,
    })),
  )

  const items = sorted(lists[list.id], list, sort)
  const pages = Math.max(1, Math.ceil(items.length / PAGE_SIZE))
  const at = Math.min(page, pages)
  const shown = items.slice((at - 1) * PAGE_SIZE, at * PAGE_SIZE)

  const select = h(
    'select',
    { id: 'lists-sort' },
    SORTS.map((s) => h('option', { value: s.id, selected: s.id === sort }, s.label)),
  )
  select.addEventListener('change', () =>
    view.navigate(listsHref({ list: list.id, sort: select.value }), { replace: true }),
  )

  const first = (at - 1) * PAGE_SIZE + 1
  const status =
    items.length === 0
      ? list.id === 'watchlist'
        ? 'Your watchlist is empty: add titles from their pages.'
        : 'You have not rated anything yet: rate titles on their pages.'
      : `${count(first)}–${count(first + shown.length - 1)} of ${plural(items.length, 'title')}`

  const pager =
    pages > 1
      ? h(
          'nav',
          { class: 'pager', 'aria-label': 'Pages' },
          at > 1
            ? h('a', { href: listsHref({ list: list.id, sort, page: at - 1 }), rel: 'prev' }, '« Previous')
            : null,
          h('span', { class: 'pager-where' }, `Page ${at} of ${pages}`),
          at < pages
            ? h(
                'a',
                { href: listsHref({ list: list.id, sort, page: at + 1 }), rel: 'next', class: 'pager-next' },
                'Next »',
              )
            : null,
        )
      : null

  return [
    tabs,
    h(
      'div',
      { role: 'tabpanel', id: 'lists-panel', 'aria-labelledby': `tab-${list.id}` },
      h(
        'div',
        { class: 'lists-toolbar' },
        h('label', { for: 'lists-sort' }, 'Sort by '),
        select,
        h('p', { class: 'lists-status muted' }, status),
      ),
      shown.length
        ? h(
            'ol',
            { class: 'my-list', start: String(first) },
            shown.map((item) => listItem(item, list)),
          )
        : null,
      pager,
    ),
  ]
}

function listItem(item, list) {
  const t = item.title
  const name = t?.primaryTitle ?? item.tconst
  const mine = item[list.mine]
  const when = new Date(item[list.when]).toLocaleDateString('en', { dateStyle: 'medium' })
  return h(
    'li',
    { class: 'my-item' },
    monogram(item.tconst, name, 'sm'),
    h(
      'span',
      { class: 'my-item-body' },
      h('a', { href: `/title/${item.tconst}`, class: 'my-item-title' }, name),
      h(
        'span',
        { class: 'muted small' },
        t
          ? [titleType(t.type), years(t.startYear, t.endYear, t.type === 'tvSeries')]
              .filter(Boolean)
              .join(' · ')
          : 'No longer in the dataset',
      ),
    ),
    h(
      'span',
      { class: 'my-item-figures small' },
      t?.rating !== null && t?.rating !== undefined ? h('span', null, `IMDb ${rating(t.rating)}`) : null,
      mine !== null && mine !== undefined ? h('span', { class: 'my-item-mine' }, `You: ${mine}/10`) : null,
      h('span', { class: 'muted' }, `${list.whenLabel} ${when}`),
    ),
  )
}

function exportButtons(list) {
  const status = h('span', { class: 'muted small', role: 'status' })
  const button = (format, label, accept) =>
    h(
      'button',
      {
        type: 'button',
        class: 'button secondary',
        dataset: { format },
        onclick: async (e) => {
          const b = e.currentTarget
          b.disabled = true
          status.textContent = 'Preparing the file…'
          try {
            const blob = await fetchBlob(`/me/${list.id}?format=${format}`, accept)
            saveBlob(blob, `marquee-${list.id}.${format}`)
            status.textContent = 'Downloaded.'
          } catch (err) {
            status.textContent = `The export failed: ${err?.detail ?? err?.title ?? 'unknown error'}`
          } finally {
            b.disabled = false
          }
        },
      },
      label,
    )
  return h(
    'div',
    { class: 'lists-export' },
    h('span', null, `Download your ${list.label.toLowerCase()}: `),
    button('csv', 'CSV', 'text/csv'),
    ' ',
    button('ndjson', 'NDJSON', 'application/x-ndjson'),
    ' ',
    status,
  )
}

function importForm(report, reload) {
  const input = h('input', {
    type: 'file',
    id: 'lists-import',
    accept: '.csv,.ndjson,.jsonl,.json,text/csv,application/x-ndjson',
    'aria-describedby': 'lists-import-help',
  })
  input.addEventListener('change', async () => {
    const file = input.files?.[0]
    if (!file) return
    let parsed
    try {
      parsed = importItems(await file.text())
    } catch (err) {
      replace(report, notice('bad', `${file.name} cannot be imported.`, err.message))
      return
    }
    input.value = ''
    await attempt(report, file.name, parsed, reload)
  })
  return h(
    'div',
    { class: 'lists-import' },
    h('label', { for: 'lists-import' }, 'Import a file'),
    ' ',
    input,
    h(
      'p',
      { id: 'lists-import-help', class: 'muted small' },
      'IMDb’s own export of your ratings or watchlist (CSV), or a marquee export (CSV or NDJSON). ' +
        `Up to ${count(IMPORT_MAX)} rows, imported all or nothing.`,
    ),
  )
}

/**
 * Sends the parsed rows, all or nothing. Rows that cannot be imported (found here, or titles the
 * dataset does not have, as the API's 422 lists them) are reported by line; nothing is imported
 * then, and a button offers to import the other rows.
 */
async function attempt(report, name, parsed, reload) {
  const { items, lines, problems } = parsed
  if (items.length > IMPORT_MAX) {
    replace(
      report,
      notice(
        'bad',
        `${name} has ${count(items.length)} rows: one import takes at most ${count(IMPORT_MAX)}.`,
        'Nothing was imported. Split the file and import each part.',
      ),
    )
    return
  }
  if (items.length === 0 && problems.length === 0) {
    replace(report, notice('bad', `${name} has no rows to import.`, 'Nothing was imported.'))
    return
  }
  if (problems.length > 0 || items.length === 0) {
    replace(report, rejected(name, parsed, problems, problems.length, reload))
    return
  }
  replace(report, h('p', { class: 'muted' }, `Importing ${plural(items.length, 'row')} of ${name}…`))
  try {
    const result = await send('POST', '/me/import', { items })
    const parts = [
      result.ratings.set ? plural(result.ratings.set, 'rating') + ' set' : null,
      result.watchlist.added ? `${plural(result.watchlist.added, 'title')} added to your watchlist` : null,
    ].filter(Boolean)
    replace(
      report,
      notice(
        'ok',
        `Imported ${plural(items.length, 'row')} of ${name} (${parsed.format}).`,
        parts.length ? `${parts.join(', ')}.` : 'Everything in it was already in your lists.',
      ),
    )
    await reload()
  } catch (err) {
    if (err instanceof ApiError && err.code === 'IMPORT_REJECTED') {
      const unknown = (err.body.errors ?? []).map((e) => ({
        line: lines[e.index],
        tconst: e.tconst,
        reason: 'is not in the dataset',
        index: e.index,
      }))
      replace(report, rejected(name, parsed, unknown, err.body.errorCount ?? unknown.length, reload))
      return
    }
    replace(
      report,
      notice(
        'bad',
        `${name} was not imported.`,
        `${err?.detail ?? err?.title ?? 'The server could not be reached.'} Nothing was imported.`,
      ),
    )
  }
}

function rejected(name, parsed, problems, total, reload) {
  const bad = new Set(problems.map((p) => p.line))
  const keep = []
  const keepLines = []
  for (const [i, item] of parsed.items.entries()) {
    if (bad.has(parsed.lines[i])) continue
    keep.push(item)
    keepLines.push(parsed.lines[i])
  }
  // When the API listed only some of its unknown titles, the others are still among `keep`.
  const complete = total === problems.length
  const box = notice(
    'bad',
    `Nothing was imported: ${plural(total, 'row')} of ${name} could not be matched.`,
    `Read as ${parsed.format}, ${plural(parsed.rows, 'row')}.`,
  )
  box.append(
    h(
      'ul',
      { class: 'import-problems' },
      problems
        .sort((a, b) => a.line - b.line)
        .map((p) =>
          h('li', null, `Line ${p.line}: `, p.tconst ? h('code', null, p.tconst) : 'the row', ` ${p.reason}`),
        ),
      complete ? null : h('li', null, `and ${count(total - problems.length)} more`),
    ),
  )
  if (keep.length > 0) {
    const again = h(
      'button',
      { type: 'button', class: 'button' },
      `Import the other ${plural(keep.length, 'row')}`,
    )
    again.addEventListener('click', () =>
      attempt(box.parentElement, name, { ...parsed, items: keep, lines: keepLines, problems: [] }, reload),
    )
    box.append(again)
  }
  return box
}

function notice(kind, lead, detail) {
  return h(
    'div',
    { class: `notice import-${kind}` },
    h('p', { class: 'notice-lead' }, lead),
    detail ? h('p', { class: 'notice-detail' }, detail) : null,
  )
}
