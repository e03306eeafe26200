/**
 * Reading list files in the browser for POST /me/import: an RFC 4180 CSV parser, and the mapping
 * of the files people have to import items: IMDb's own exports (ratings: `Const`, `Your Rating`,
 * `Date Rated`; watchlist: `Position`, `Const`, `Created`, perhaps `Your Rating`) and marquee's own exports (CSV or NDJSON of
 * /me/ratings: `tconst`, `rating`; of /me/watchlist: `tconst`, `addedAt`, `yourRating`).
 */

/** The most items one import takes (IMPORT_MAX_ITEMS of the API). */
export const IMPORT_MAX = 10_000

/**
 * RFC 4180: fields separated by commas, records by CRLF or LF (a lone CR too); a field in double
 * quotes may hold commas, line breaks and doubled quotes. A byte order mark is skipped. Returns the
 * records, each with the 1-based line of the file it starts on; blank lines are left out.
 */
export function parseCsv(text) {
  const records = []
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0
  let line = 1
  let fields = []
  let field = ''
  let start = line
  let quoted = false
  let blank = true
  const endField = () => {
    fields.push(field)
    field = ''
  }
  const endRecord = () => {
    endField()
    if (!(blank && fields.length === 1 && fields[0] === '')) records.push({ line: start, fields })
    fields = []
    blank = true
  }
  for (; i < text.length; i++) {
    const c = text[i]
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"'
          i++
        } else quoted = false
      } else {
        if (c === '\n' || (c === '\r' && text[i + 1] !== '\n')) line++
        field += c
      }
      continue
    }
    if (blank && fields.length === 0 && field === '') start = line
    if (c === '"' && field === '') {
      quoted = true
      blank = false
    } else if (c === ',') {
      endField()
      blank = false
    } else if (c === '\r' || c === '\n') {
      if (c === '\r' && text[i + 1] === '\n') i++
      endRecord()
      line++
    } else {
      field += c
      blank = false
    }
  }
  if (!blank || field !== '' || fields.length > 0) endRecord()
  return records
}

const TCONST = /^tt\d{7,}$/

/** A rating field: 1 to 10 (a whole number; "8.0" is taken as 8), or null when empty. */
function ratingOf(raw) {
  const text = String(raw ?? '').trim()
  if (text === '') return null
  const n = Number(text)
  return Number.isInteger(n) && n >= 1 && n <= 10 ? n : Number.NaN
}

/**
 * The import items of a file's text: `{ format, items, lines, problems, rows }`: items as
 * /me/import takes them, lines[i] the file line of items[i], problems the rows that cannot be
 * imported (`{ line, tconst, reason }`), rows the data rows read. Throws an Error with a message
 * for the user when the file is not a list marquee can read.
 */
export function importItems(text) {
  const trimmed = text.replace(/^\uFEFF/, '').trimStart()
  if (trimmed.startsWith('{')) return fromNdjson(text)
  const records = parseCsv(text)
  if (records.length === 0) throw new Error('The file is empty.')
  const header = records[0].fields.map((f) => f.trim())
  const col = (...names) => {
    const lower = header.map((f) => f.toLowerCase())
    for (const n of names) {
      const at = lower.indexOf(n.toLowerCase())
      if (at >= 0) return at
    }
    return -1
  }
  const idCol = col('Const', 'tconst')
  if (idCol < 0) {
    throw new Error(
      'This file has no “Const” (IMDb) or “tconst” (marquee) column: it is not a ratings or watchlist export.',
    )
  }
  const imdb = header[idCol].toLowerCase() === 'const'
  const ratingCol = col('Your Rating', 'rating', 'yourRating')
  const onWatchlistCol = col('onWatchlist')
  // IMDb's watchlist has `Position` and `Created` (and, in newer exports, `Your Rating` too: a
  // rating given there is imported with it); its ratings export has neither. marquee's has `addedAt`.
  const watchlist = imdb ? col('Position', 'Created') >= 0 : col('addedAt') >= 0
  if (!watchlist && ratingCol < 0) {
    throw new Error(
      'This file has neither a rating column (“Your Rating”, “rating”) nor a watchlist’s dates.',
    )
  }
  const format = `${imdb ? 'IMDb' : 'marquee'} ${watchlist ? 'watchlist' : 'ratings'} (CSV)`
  const rows = records.slice(1).map((r) => ({
    line: r.line,
    tconst: (r.fields[idCol] ?? '').trim(),
    rating: ratingCol >= 0 ? r.fields[ratingCol] : undefined,
    onWatchlist: onWatchlistCol >= 0 ? (r.fields[onWatchlistCol] ?? '').trim() === 'true' : false,
  }))
  return collect(format, rows, watchlist)
}

function fromNdjson(text) {
  const rows = []
  let watchlist = null
  const lines = text.split(/\r?\n/)
  for (const [i, raw] of lines.entries()) {
    if (raw.trim() === '') continue
    let v
    try {
      v = JSON.parse(raw)
    } catch {
      rows.push({ line: i + 1, tconst: '', invalid: 'is not a JSON object' })
      continue
    }
    if (watchlist === null) watchlist = v && typeof v === 'object' && 'addedAt' in v
    rows.push({
      line: i + 1,
      tconst: typeof v?.tconst === 'string' ? v.tconst : '',
      rating: watchlist ? v?.yourRating : v?.rating,
      onWatchlist: v?.onWatchlist === true,
    })
  }
  if (rows.length === 0) throw new Error('The file is empty.')
  return collect(`marquee ${watchlist ? 'watchlist' : 'ratings'} (NDJSON)`, rows, Boolean(watchlist))
}

function collect(format, rows, watchlist) {
  const items = []
  const lines = []
  const problems = []
  for (const row of rows) {
    if (row.invalid) {
      problems.push({ line: row.line, tconst: row.tconst, reason: row.invalid })
      continue
    }
    if (!TCONST.test(row.tconst)) {
      problems.push({
        line: row.line,
        tconst: row.tconst,
        reason: row.tconst ? 'is not an IMDb title id' : 'has no title id',
      })
      continue
    }
    const rating = ratingOf(row.rating)
    if (Number.isNaN(rating)) {
      problems.push({ line: row.line, tconst: row.tconst, reason: `has rating “${row.rating}”, not 1 to 10` })
      continue
    }
    const item = { tconst: row.tconst }
    if (rating !== null) item.rating = rating
    if (watchlist || row.onWatchlist) item.watchlist = true
    if (Object.keys(item).length === 1) {
      problems.push({ line: row.line, tconst: row.tconst, reason: 'has no rating' })
      continue
    }
    items.push(item)
    lines.push(row.line)
  }
  return { format, items, lines, problems, rows: rows.length }
}
