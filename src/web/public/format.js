/** Display helpers: numbers, years, IMDb vocabulary. */

const compact = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 })
const whole = new Intl.NumberFormat('en')

/** 2100000 -> "2.1M" */
export const compactCount = (n) => compact.format(n)
/** 2100000 -> "2,100,000" */
export const count = (n) => whole.format(n)

export const plural = (n, one, many = `${one}s`) => `${count(n)} ${n === 1 ? one : many}`

/** A rating with one decimal: 9 -> "9.0". */
export const rating = (r) => (r === null || r === undefined ? '–' : r.toFixed(1))

/** "1989–", "2008–2013", "1972", or null. */
export function years(start, end, ongoing = false) {
  if (!start) return null
  if (end && end !== start) return `${start}–${end}`
  return ongoing && !end ? `${start}–` : String(start)
}

/** "2 h 55 min" */
export function runtime(minutes) {
  if (!minutes) return null
  const hours = Math.floor(minutes / 60)
  const rest = minutes % 60
  return hours ? `${hours} h${rest ? ` ${rest} min` : ''}` : `${rest} min`
}

const TYPES = {
  movie: 'Movie',
  short: 'Short',
  tvSeries: 'TV series',
  tvMiniSeries: 'TV mini-series',
  tvEpisode: 'TV episode',
  tvMovie: 'TV movie',
  tvSpecial: 'TV special',
  tvShort: 'TV short',
  tvPilot: 'TV pilot',
  video: 'Video',
  videoGame: 'Video game',
}

/** "tvSeries" -> "TV series" */
export const titleType = (type) => TYPES[type] ?? humanize(type)

export const isSeries = (type) => type === 'tvSeries' || type === 'tvMiniSeries'

/** "production_designer" -> "Production designer" */
export function humanize(word) {
  if (!word) return ''
  const s = String(word).replaceAll('_', ' ')
  return s.charAt(0).toUpperCase() + s.slice(1)
}

let regionNames
let languageNames
try {
  regionNames = new Intl.DisplayNames(['en'], { type: 'region' })
  languageNames = new Intl.DisplayNames(['en'], { type: 'language' })
} catch {
  // Old engines: codes are shown as they are.
}

const SPECIAL_REGIONS = {
  XWW: 'Worldwide',
  XWG: 'West Germany',
  XEU: 'Europe',
  XAS: 'Asia',
  XSA: 'South America',
}

/** "DE" -> "Germany"; unknown or special codes stay readable. */
export function regionName(code) {
  if (!code) return 'Original'
  const upper = code.toUpperCase()
  if (SPECIAL_REGIONS[upper]) return SPECIAL_REGIONS[upper]
  try {
    const name = regionNames?.of(upper)
    return name && name !== upper ? name : upper
  } catch {
    return upper
  }
}

export function languageName(code) {
  if (!code) return null
  try {
    const name = languageNames?.of(code)
    return name && name !== code ? name : code
  } catch {
    return code
  }
}

/** "S3 · E7" or null */
export function episodeCode(season, episode) {
  if (season === null && episode === null) return null
  return [season !== null ? `S${season}` : null, episode !== null ? `E${episode}` : null]
    .filter(Boolean)
    .join(' · ')
}
