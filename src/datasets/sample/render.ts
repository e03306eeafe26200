/**
 * Renders the seven files of a sample from its {@link World}, as generators of large string chunks
 * (about 1 MiB each) in the order IMDb ships rows. A chunk's content depends only on the world, so
 * the bytes are the same whichever thread renders which file.
 */
import { type DatasetName, datasetSpec, NULL_FIELD } from '../catalogue.js'
import { hash3, Rng, Weighted, Zipf } from './random.js'
import { characters, englishTitle, foreignTitle, personName, quirkyTitle } from './text.js'
import {
  AKA_ATTRIBUTES,
  AKA_TYPES,
  CAT,
  CATEGORIES,
  CREW_CATEGORIES,
  CREW_PROFESSIONS,
  EPISODE_WORD,
  GENRES,
  type Lang,
  MONTHS,
  ORIGINS,
  PRODUCER_JOBS,
  REGION_LANGUAGES,
  REGIONS,
  TITLE_TYPE_NAMES,
  TYPE_INDEX,
  WRITER_JOBS,
} from './vocab.js'
import {
  WELL_KNOWN_NAMES,
  WELL_KNOWN_TITLES,
  type WellKnownCredit,
  type WellKnownName,
  type WellKnownTitle,
} from './well-known.js'
import type { World } from './world.js'
import {
  CLASS,
  CURRENT_YEAR,
  N_DUPLICATE,
  N_MISSING,
  N_WELL_KNOWN,
  S,
  T_ADULT,
  T_WELL_KNOWN,
  T_WK_EPISODE,
} from './world-codes.js'
import { poolZipfs } from './world-principals.js'

/** Characters per chunk handed to gzip. */
const CHUNK_CHARS = 1 << 20
const N = NULL_FIELD

export interface RenderStats {
  rows: number
}

export type Renderer = (world: World, stats: RenderStats) => Generator<string, void, undefined>

/** `tt0000001`: at least seven digits. */
export function tconst(id: number): string {
  return id >= 1_000_000 ? 'tt' + id : 'tt' + ('000000' + id).slice(-7)
}

export function nconst(id: number): string {
  return id >= 1_000_000 ? 'nm' + id : 'nm' + ('000000' + id).slice(-7)
}

function header(name: DatasetName): string {
  return (
    datasetSpec(name)
      .columns.map((c) => c.name)
      .join('\t') + '\n'
  )
}

const wellKnownTitles = new Map<number, WellKnownTitle>(WELL_KNOWN_TITLES.map((t) => [t.tconst, t]))
const wellKnownNames = new Map<number, WellKnownName>(WELL_KNOWN_NAMES.map((p) => [p.nconst, p]))
const wellKnownIds = new Map<string, number>(WELL_KNOWN_NAMES.map((p) => [p.key, p.nconst]))
const wkSeries = WELL_KNOWN_TITLES.find((t) => t.regulars)!
const orNull = (v: string | number | null | undefined): string =>
  v === null || v === undefined || v === 0 ? N : String(v)
const json = (chars: readonly string[] | null | undefined): string => (chars ? JSON.stringify(chars) : N)

// ---- title text shared by title.basics and title.akas -------------------------------------------

const LANGS: readonly Lang[] = [
  'en',
  'fr',
  'de',
  'es',
  'it',
  'pt',
  'ja',
  'ru',
  'ko',
  'el',
  'ar',
  'hi',
  'zh',
  'tr',
]
const LANG_INDEX = new Map<Lang, number>(LANGS.map((l, i) => [l, i]))
/** The `language` code IMDb uses for each vocabulary language. */
const LANGUAGE_CODE: Readonly<Record<Lang, string>> = {
  ...Object.fromEntries(LANGS.map((l) => [l, l])),
  zh: 'cmn',
} as Record<Lang, string>

/** A title's name in a language, the same whenever asked (original titles and akas agree). */
function titleIn(world: World, r: Rng, i: number, lang: Lang): string {
  r.at(world.seed, S.foreign + LANG_INDEX.get(lang)!, i)
  return lang === 'en' ? englishTitle(r) : foreignTitle(r, lang)
}

interface TitleText {
  primary: string
  original: string
}

/** primaryTitle and originalTitle of title `i` (not for well-known titles). */
function titleText(world: World, r: Rng, i: number, out: TitleText): TitleText {
  const type = world.tType[i]
  if (type === TYPE_INDEX.tvEpisode) {
    r.at(world.seed, S.titleText, i)
    const u = r.float()
    const season = world.tSeason[i]
    let text: string
    if (season && u < 0.35) text = `Episode #${season}.${world.tEpisode[i]}`
    else if (!season && u < 0.45) {
      const year = world.tStart[i] || 2000
      text = `Episode dated ${1 + r.int(28)} ${r.pick(MONTHS)} ${year}`
    } else text = quirkyTitle(r, englishTitle(r))
    out.primary = text
    out.original = text
    return out
  }
  const lang = ORIGINS[world.tOrigin[i]][2]
  const english = titleIn(world, r, i, 'en')
  r.at(world.seed, S.titleText, i)
  const u = r.float()
  if (lang === 'en' || u < 0.15) {
    out.primary = quirkyTitle(r, english)
    out.original = out.primary
  } else if (u < 0.45) {
    out.primary = quirkyTitle(r, titleIn(world, r.at(world.seed, S.titleText, i + world.titleCount), i, lang))
    out.original = out.primary
  } else {
    out.original = titleIn(world, r, i, lang)
    r.at(world.seed, S.titleText, i + 2 * world.titleCount)
    out.primary = quirkyTitle(r, english)
  }
  return out
}

// ---- title.basics ---------------------------------------------------------------------------------

const genreCache = new Map<number, string>()
function genreList(mask: number): string {
  let s = genreCache.get(mask)
  if (s === undefined) {
    const names: string[] = []
    for (let g = 0; g < GENRES.length; g++) if (mask & (1 << g)) names.push(GENRES[g])
    s = names.length ? names.join(',') : N
    genreCache.set(mask, s)
  }
  return s
}

function runtime(r: Rng, type: number): string {
  const t = TITLE_TYPE_NAMES[type]
  const clamp = (v: number, lo: number, hi: number): string =>
    String(Math.min(hi, Math.max(lo, Math.round(v))))
  switch (t) {
    case 'movie':
      if (r.chance(0.3)) return N
      return r.chance(0.005) ? String(r.range(241, 900)) : clamp(95 + 18 * r.normal(), 40, 240)
    case 'short':
      return r.chance(0.4) ? N : clamp(1 + 12 * r.float() ** 2 * 3, 1, 45)
    case 'tvEpisode':
      return r.chance(0.55) ? N : clamp(r.pick([11, 22, 24, 30, 44, 45, 60]) + 2 * r.normal(), 1, 180)
    case 'tvSeries':
      return r.chance(0.4) ? N : String(r.pick([11, 22, 24, 30, 44, 45, 60]))
    case 'tvMiniSeries':
      return r.chance(0.4) ? N : clamp(50 + 10 * r.normal(), 20, 600)
    case 'tvMovie':
    case 'tvPilot':
      return r.chance(0.3) ? N : clamp(85 + 15 * r.normal(), 22, 200)
    case 'tvSpecial':
      return r.chance(0.35) ? N : String(r.pick([30, 45, 60, 90, 120]))
    case 'video':
      return r.chance(0.4) ? N : clamp(60 + 30 * r.normal(), 1, 240)
    case 'videoGame':
      return r.chance(0.9) ? N : clamp(20 + 10 * r.normal(), 1, 120)
    default:
      return r.chance(0.4) ? N : clamp(10 + 5 * r.normal(), 1, 40)
  }
}

const renderBasics: Renderer = function* (world, stats) {
  const r = new Rng()
  const text: TitleText = { primary: '', original: '' }
  let buf = header('title.basics')
  for (let pos = 0; pos < world.titleCount; pos++) {
    const i = world.tOrder[pos]
    const type = world.tType[i]
    const flags = world.tFlags[i]
    if (flags & T_WELL_KNOWN) {
      const wk = wellKnownTitles.get(world.tId[i])!
      buf += `${tconst(world.tId[i])}\t${wk.titleType}\t${wk.primaryTitle}\t${wk.originalTitle}\t0\t${wk.startYear}\t${orNull(wk.endYear)}\t${wk.runtimeMinutes}\t${genreList(world.tGenres[i])}\n`
    } else {
      titleText(world, r, i, text)
      r.at(world.seed, S.basics, i)
      buf += `${tconst(world.tId[i])}\t${TITLE_TYPE_NAMES[type]}\t${text.primary}\t${text.original}\t${flags & T_ADULT ? 1 : 0}\t${orNull(world.tStart[i])}\t${orNull(world.tEnd[i])}\t${runtime(r, type)}\t${genreList(world.tGenres[i])}\n`
    }
    stats.rows++
    if (buf.length >= CHUNK_CHARS) {
      yield buf
      buf = ''
    }
  }
  if (buf) yield buf
}

// ---- title.akas -----------------------------------------------------------------------------------

const regionTable = new Weighted(
  REGIONS.map((_, k) => k),
  REGIONS.map((x) => x[1]),
)
const akaTypes = Weighted.of(AKA_TYPES)
const akaAttributes = Weighted.of(AKA_ATTRIBUTES)
const AKA_BASE: readonly number[] = TITLE_TYPE_NAMES.map(
  (t) => ({ movie: 3.4, tvSeries: 3.4, tvMiniSeries: 2.6, tvEpisode: 2.65, short: 1.4 })[t as string] ?? 2.1,
)
const MAX_AKAS = 60

const renderAkas: Renderer = function* (world, stats) {
  const r = new Rng()
  const tr = new Rng()
  const text: TitleText = { primary: '', original: '' }
  let buf = header('title.akas')
  for (let pos = 0; pos < world.titleCount; pos++) {
    const i = world.tOrder[pos]
    const tt = tconst(world.tId[i])
    if (world.tFlags[i] & T_WELL_KNOWN) {
      const wk = wellKnownTitles.get(world.tId[i])!
      wk.akas.forEach((a, k) => {
        buf += `${tt}\t${k + 1}\t${a.title}\t${a.region ?? N}\t${a.language ?? N}\t${a.types ?? N}\t${a.attributes ?? N}\t${a.isOriginalTitle}\n`
        stats.rows++
      })
      continue
    }
    titleText(world, tr, i, text)
    const type = world.tType[i]
    const season = world.tSeason[i]
    r.at(world.seed, S.akas, i)
    const count = Math.min(MAX_AKAS, 1 + r.poisson(AKA_BASE[type] + 0.9 * Math.log10(1 + world.tVotes[i])))
    const originalAt = r.chance(0.93) ? r.int(count) : -1
    for (let k = 0; k < count; k++) {
      if (k === originalAt) {
        buf += `${tt}\t${k + 1}\t${text.original}\t${N}\t${N}\toriginal\t${N}\t1\n`
        continue
      }
      const [region, , lang] = REGIONS[regionTable.sample(r)]
      let title: string
      let written: Lang | null = lang
      if (lang === 'en') title = r.chance(0.1) ? titleIn(world, tr, i + world.titleCount, 'en') : text.primary
      else if (type === TYPE_INDEX.tvEpisode && season && r.chance(0.6)) {
        title =
          lang === 'zh' ? `第${world.tEpisode[i]}集` : `${EPISODE_WORD[lang]} #${season}.${world.tEpisode[i]}`
      } else if (type === TYPE_INDEX.tvEpisode && r.chance(0.5)) {
        title = text.primary
        written = null
      } else title = titleIn(world, tr, i, lang)
      // IMDb fills `language` mostly where a region speaks several; it matches the aka's text
      const code = written && LANGUAGE_CODE[written]
      const language = code && REGION_LANGUAGES[region]?.includes(code) && r.chance(0.45) ? code : N
      const types = r.chance(0.7) ? akaTypes.sample(r) : N
      const attributes = r.chance(0.1) ? akaAttributes.sample(r) : N
      const isOriginal = r.chance(0.01) ? N : '0'
      buf += `${tt}\t${k + 1}\t${title}\t${region}\t${language}\t${types}\t${attributes}\t${isOriginal}\n`
    }
    stats.rows += count
    if (buf.length >= CHUNK_CHARS) {
      yield buf
      buf = ''
    }
  }
  if (buf) yield buf
}

// ---- title.crew -----------------------------------------------------------------------------------

const renderCrew: Renderer = function* (world, stats) {
  const r = new Rng()
  const zipfs = poolZipfs(world.poolStart)
  const draw = (cls: number): number =>
    world.nId[world.poolNames[world.poolStart[cls] + zipfs[cls].sample(r)]] ?? world.nId[0]
  const ids = (keys: readonly string[]): string =>
    keys.length ? keys.map((k) => nconst(wellKnownIds.get(k)!)).join(',') : N
  const directors: number[] = []
  const writers: number[] = []
  let buf = header('title.crew')
  for (let pos = 0; pos < world.titleCount; pos++) {
    const i = world.tOrder[pos]
    const tt = tconst(world.tId[i])
    if (world.tFlags[i] & T_WELL_KNOWN) {
      const wk = wellKnownTitles.get(world.tId[i])!
      buf += `${tt}\t${ids(wk.directors)}\t${ids(wk.writers)}\n`
    } else {
      directors.length = 0
      writers.length = 0
      for (let s = world.pStart[i]; s < world.pStart[i + 1]; s++) {
        const cat = world.pCat[s]
        const id = world.nId[world.pName[s]]
        if (cat === CAT.director && !directors.includes(id)) directors.push(id)
        else if (cat === CAT.writer && !writers.includes(id)) writers.push(id)
      }
      r.at(world.seed, S.crew, i)
      if (r.chance(0.08)) for (let k = 1 + r.geometric(0.3); k > 0; k--) directors.push(draw(CLASS.director))
      if (r.chance(0.15)) for (let k = 1 + r.geometric(0.5); k > 0; k--) writers.push(draw(CLASS.writer))
      const d = directors.length ? [...new Set(directors)].map(nconst).join(',') : N
      const w = writers.length ? [...new Set(writers)].map(nconst).join(',') : N
      buf += `${tt}\t${d}\t${w}\n`
    }
    stats.rows++
    if (buf.length >= CHUNK_CHARS) {
      yield buf
      buf = ''
    }
  }
  if (buf) yield buf
}

// ---- title.episode --------------------------------------------------------------------------------

const renderEpisode: Renderer = function* (world, stats) {
  let buf = header('title.episode')
  const episode = TYPE_INDEX.tvEpisode
  for (let pos = 0; pos < world.titleCount; pos++) {
    const i = world.tOrder[pos]
    if (world.tType[i] !== episode) continue
    buf += `${tconst(world.tId[i])}\t${tconst(world.tParent[i])}\t${orNull(world.tSeason[i])}\t${orNull(world.tEpisode[i])}\n`
    stats.rows++
    if (buf.length >= CHUNK_CHARS) {
      yield buf
      buf = ''
    }
  }
  if (buf) yield buf
}

// ---- title.principals -----------------------------------------------------------------------------

const writerJobs = Weighted.of(WRITER_JOBS)
const producerJobs = Weighted.of(PRODUCER_JOBS)

function job(r: Rng, cat: number): string {
  switch (cat) {
    case CAT.writer:
      return writerJobs.sample(r)
    case CAT.producer:
      return producerJobs.sample(r)
    case CAT.director:
      return r.chance(0.03) ? 'co-director' : N
    case CAT.cinematographer:
      return r.chance(0.3) ? 'director of photography' : N
    case CAT.editor:
      return r.chance(0.05) ? 'film editor' : N
    default:
      return N
  }
}

const renderPrincipals: Renderer = function* (world, stats) {
  const r = new Rng()
  const cr = new Rng()
  const regulars = new Map<number, WellKnownCredit>(
    wkSeries.regulars!.map((c) => [wellKnownIds.get(c.name)!, c]),
  )
  let buf = header('title.principals')
  for (let pos = 0; pos < world.titleCount; pos++) {
    const i = world.tOrder[pos]
    const tt = tconst(world.tId[i])
    const s0 = world.pStart[i]
    const s1 = world.pStart[i + 1]
    const flags = world.tFlags[i]
    if (flags & T_WELL_KNOWN) {
      const wk = wellKnownTitles.get(world.tId[i])!
      wk.principals.forEach((c, k) => {
        buf += `${tt}\t${k + 1}\t${nconst(wellKnownIds.get(c.name)!)}\t${c.category}\t${c.job ?? N}\t${json(c.characters)}\n`
      })
    } else {
      const parent = world.tParentIdx[i]
      const context = parent >= 0 ? parent : i
      for (let s = s0; s < s1; s++) {
        const cat = world.pCat[s]
        const person = world.pName[s]
        const id = world.nId[person]
        let chars = N
        if (cat === CAT.actor || cat === CAT.actress || cat === CAT.self || cat === CAT.archive_footage) {
          const regular = flags & T_WK_EPISODE ? regulars.get(id) : undefined
          if (regular) chars = json(regular.characters)
          else {
            // the same person plays the same character in every episode of a series
            cr.at(world.seed, S.characters, hash3(context, person, 0))
            chars =
              cat === CAT.archive_footage
                ? cr.chance(0.7)
                  ? '["Self"]'
                  : N
                : json(characters(cr, cat === CAT.self))
          }
        }
        const j = cat >= CAT.director && cat <= CAT.editor ? job(r.at(world.seed, S.jobs, s), cat) : N
        buf += `${tt}\t${s - s0 + 1}\t${nconst(id)}\t${CATEGORIES[cat]}\t${j}\t${chars}\n`
      }
    }
    stats.rows += s1 - s0
    if (buf.length >= CHUNK_CHARS) {
      yield buf
      buf = ''
    }
  }
  if (buf) yield buf
}

// ---- title.ratings --------------------------------------------------------------------------------

const renderRatings: Renderer = function* (world, stats) {
  let buf = header('title.ratings')
  for (let pos = 0; pos < world.titleCount; pos++) {
    const i = world.tOrder[pos]
    const votes = world.tVotes[i]
    if (votes === 0) continue
    buf += `${tconst(world.tId[i])}\t${(world.tRating[i] / 10).toFixed(1)}\t${votes}\n`
    stats.rows++
    if (buf.length >= CHUNK_CHARS) {
      yield buf
      buf = ''
    }
  }
  if (buf) yield buf
}

// ---- name.basics ----------------------------------------------------------------------------------

/** The profession each principals category implies (self and archive credits imply none). */
const CATEGORY_PROFESSION: readonly (string | null)[] = CATEGORIES.map((c) =>
  c === 'self' || c === 'archive_footage' || c === 'archive_sound' ? null : c,
)
const CLASS_PROFESSION: readonly (string | null)[] = ['actor', 'actress', null, ...CREW_CATEGORIES, null]
const crewProfessions = new Zipf(CREW_PROFESSIONS.length, 1)
const SELF_PROFESSIONS = [
  '',
  '',
  'miscellaneous',
  'music_artist',
  'soundtrack',
  'producer',
  'writer',
  'podcaster',
]

const renderNames: Renderer = function* (world, stats) {
  const r = new Rng()
  const tr = new Rng()
  const professions: string[] = []
  const known: number[] = []
  let buf = header('name.basics')
  for (let pos = 0; pos < world.nameCount; pos++) {
    const n = world.nOrder[pos]
    const flags = world.nFlags[n]
    if (flags & N_MISSING) continue
    const id = world.nId[n]
    known.length = 0
    for (let k = 0; k < 4; k++) {
      const t = world.nKnown[n * 4 + k]
      if (t >= 0) known.push(world.tId[t])
    }
    let line: string
    if (flags & N_WELL_KNOWN) {
      const p = wellKnownNames.get(id)!
      const knownFor = known.length ? known.map(tconst).join(',') : N
      line = `${nconst(id)}\t${p.primaryName}\t${orNull(p.birthYear)}\t${orNull(p.deathYear)}\t${p.professions.join(',')}\t${knownFor}\n`
    } else {
      const cls = world.nClass[n]
      const female =
        cls === CLASS.actress || (cls !== CLASS.actor && tr.at(world.seed, S.nameText, -n - 1).chance(0.4))
      const name = personName(tr.at(world.seed, S.nameText, n), female)
      r.at(world.seed, S.names, n)
      let birth = 0
      let death = 0
      if (r.chance(cls === CLASS.crew ? 0.08 : 0.2)) {
        birth = Math.min(CURRENT_YEAR - 5, Math.round(1965 + 22 * r.normal()))
        if (birth < 1945 ? r.chance(0.6) : r.chance(0.04)) {
          death = Math.min(CURRENT_YEAR, birth + 30 + r.int(70))
          if (death < birth + 30) death = 0
        }
      }
      professions.length = 0
      const own = cls === CLASS.self ? r.pick(SELF_PROFESSIONS) : CLASS_PROFESSION[cls]
      if (own) professions.push(own)
      else if (cls === CLASS.crew) professions.push(CREW_PROFESSIONS[crewProfessions.sample(r)])
      const cats = world.nCats[n]
      for (let c = 0; c < CATEGORIES.length && professions.length < 3; c++) {
        const p = CATEGORY_PROFESSION[c]
        if (p && cats & (1 << c) && !professions.includes(p)) professions.push(p)
      }
      for (
        let extra = r.geometric(0.35);
        extra > 0 && professions.length < 3 && professions.length > 0;
        extra--
      ) {
        const p = CREW_PROFESSIONS[crewProfessions.sample(r)]
        if (!professions.includes(p)) professions.push(p)
      }
      if (r.chance(0.003)) professions.length = 0
      if (known.length === 0 && (cls === CLASS.crew ? r.chance(0.9) : r.chance(0.3))) {
        for (let k = 1 + r.int(4); k > 0; k--) {
          const t = world.tId[r.int(world.titleCount)]
          if (!known.includes(t)) known.push(t)
        }
      }
      const knownFor = known.length ? known.map(tconst).join(',') : N
      line = `${nconst(id)}\t${name}\t${orNull(birth)}\t${orNull(death)}\t${professions.join(',')}\t${knownFor}\n`
    }
    buf += line
    stats.rows++
    if (flags & N_DUPLICATE) {
      buf += line
      stats.rows++
    }
    if (buf.length >= CHUNK_CHARS) {
      yield buf
      buf = ''
    }
  }
  if (buf) yield buf
}

export const RENDERERS: Readonly<Record<DatasetName, Renderer>> = {
  'title.basics': renderBasics,
  'title.akas': renderAkas,
  'title.crew': renderCrew,
  'title.episode': renderEpisode,
  'title.principals': renderPrincipals,
  'title.ratings': renderRatings,
  'name.basics': renderNames,
}
