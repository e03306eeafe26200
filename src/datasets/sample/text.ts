/**
 * Text of a sample: titles from a Zipf-weighted vocabulary, people's names by culture, characters.
 * Every function draws only from the `Rng` it is given, so callers decide the stream.
 */
import { type Rng, Weighted, Zipf } from './random.js'
import {
  ADJECTIVES,
  CULTURES,
  type Culture,
  EMOJI,
  FOREIGN,
  type Lang,
  NAME_CULTURES,
  NICKNAMES,
  NON_LATIN,
  NOUNS,
  ODD_TITLES,
  PLACES,
  ROLE_SUFFIXES,
  ROLES,
  SELF_CHARACTERS,
} from './vocab.js'

const nouns = new Zipf(NOUNS.length, 2)
const adjectives = new Zipf(ADJECTIVES.length, 2)
const places = new Zipf(PLACES.length, 3)
const EN = CULTURES.en
const firstNames = new Zipf(EN.male.length, 3)
const femaleNames = new Zipf(EN.female.length, 3)

const noun = (r: Rng): string => NOUNS[nouns.sample(r)]
const adj = (r: Rng): string => ADJECTIVES[adjectives.sample(r)]
const place = (r: Rng): string => PLACES[places.sample(r)]
const given = (r: Rng): string =>
  r.chance(0.5) ? EN.male[firstNames.sample(r)] : EN.female[femaleNames.sample(r)]

const ROMAN = ['II', 'III', 'IV', 'V', 'VI']
const VERBS = ['Chasing', 'Finding', 'Saving', 'Killing', 'Loving', 'Remembering', 'Becoming', 'Meeting']
const PREPOSITIONS = ['Beyond the', 'Return of the', 'Rise of the', 'Into the', 'Under the', 'After the']

const TITLE_PATTERNS = new Weighted<(r: Rng) => string>(
  [
    (r) => noun(r),
    (r) => 'The ' + noun(r),
    (r) => adj(r) + ' ' + noun(r),
    (r) => 'The ' + adj(r) + ' ' + noun(r),
    (r) => noun(r) + ' of the ' + noun(r),
    (r) => 'The ' + noun(r) + ' of ' + place(r),
    (r) => given(r) + "'s " + noun(r),
    (r) => noun(r) + (r.chance(0.7) ? ' and ' : ' & ') + noun(r),
    (r) => noun(r) + ' in ' + place(r),
    (r) => adj(r) + ' ' + noun(r) + ': The ' + noun(r),
    (r) => noun(r) + ' ' + (r.chance(0.6) ? String(r.range(2, 5)) : r.pick(ROMAN)),
    (r) => 'My ' + adj(r) + ' ' + noun(r),
    (r) => 'A ' + noun(r) + ' for ' + given(r),
    (r) => r.pick(PREPOSITIONS) + ' ' + noun(r),
    (r) => noun(r) + ' ' + noun(r),
    (r) => r.pick(VERBS) + ' ' + given(r),
    (r) => given(r) + ' ' + r.pick(EN.family),
    (r) => 'Love, ' + given(r),
  ],
  [14, 16, 16, 12, 8, 5, 5, 5, 4, 4, 3, 3, 3, 3, 3, 2, 2, 1],
)

/** An English title such as "The Last Night" or "Shadow of the King". */
export function englishTitle(r: Rng): string {
  return TITLE_PATTERNS.sample(r)(r)
}

const foreignZipf = new Map<string, Zipf>()

/** A title in `lang`'s own words and script (`L'été de la nuit`, `東京の夏`, `Ночь война`). */
export function foreignTitle(r: Rng, lang: Exclude<Lang, 'en'>): string {
  const { words, particles, joiner } = FOREIGN[lang]
  let z = foreignZipf.get(lang)
  if (!z) {
    z = new Zipf(words.length, 2)
    foreignZipf.set(lang, z)
  }
  const count = 1 + r.int(3)
  let s = words[z.sample(r)]
  for (let k = 1; k < count; k++) {
    if (r.chance(0.5)) s += joiner + r.pick(particles)
    s += joiner + words[z.sample(r)]
  }
  if (NON_LATIN.has(lang)) return s
  return s.charAt(0).toUpperCase() + s.slice(1)
}

/**
 * The quirks of the real dump, applied now and then: a word in unescaped double quotes
 * (`The "Best" Show`), a title that is mostly punctuation or backslashes, an emoji.
 */
export function quirkyTitle(r: Rng, title: string): string {
  const u = r.float()
  if (u < 0.005) {
    const words = title.split(' ')
    const k = r.int(words.length)
    words[k] = '"' + words[k] + '"'
    return words.join(' ')
  }
  if (u < 0.0065) return r.pick(ODD_TITLES)
  if (u < 0.008) return r.chance(0.5) ? r.pick(EMOJI) + ' ' + title : title + ' ' + r.pick(EMOJI)
  if (u < 0.0085) return title + ' \\o/'
  return title
}

const cultureTable = Weighted.of(NAME_CULTURES.map((c) => [c, c[1]] as const))

function nameFrom(r: Rng, c: Culture, female: boolean): string {
  const first = r.pick(female ? c.female : c.male)
  const family = r.pick(c.family)
  return c.familyFirst ? family + (c.joiner ?? ' ') + first : first + (c.joiner ?? ' ') + family
}

/**
 * A person's name in a culture drawn by weight, now and then in its own script; some with a
 * middle initial, a suffix, a quoted nickname (`Jack "Dusty" O'Brien`) or a single name.
 */
export function personName(r: Rng, female: boolean): string {
  const [culture, , nativeShare] = cultureTable.sample(r)
  if (nativeShare > 0 && r.chance(nativeShare)) return nameFrom(r, CULTURES[`${culture}_native`], female)
  const c = CULTURES[culture]
  const u = r.float()
  if (u < 0.004)
    return r.pick(female ? c.female : c.male) + ' "' + r.pick(NICKNAMES) + '" ' + r.pick(c.family)
  if (u < 0.01) return r.pick(female ? c.female : c.male)
  if (u < 0.05) {
    const initial = String.fromCharCode(65 + r.int(26))
    return r.pick(female ? c.female : c.male) + ' ' + initial + '. ' + r.pick(c.family)
  }
  if (u < 0.06 && !female) return nameFrom(r, c, female) + r.pick([' Jr.', ' Sr.', ' III', ' II'])
  return nameFrom(r, c, female)
}

const selfCharacters = Weighted.of(SELF_CHARACTERS)

/**
 * The `characters` of an acting credit, as the JSON array IMDb ships (`["Self - Host"]`,
 * `["Jack \"Dusty\" O'Brien"]`), or null for `\N`.
 */
export function characters(r: Rng, self: boolean): string[] | null {
  if (self) return [selfCharacters.sample(r)]
  const u = r.float()
  if (u < 0.06) return null
  if (u < 0.5) return [given(r) + ' ' + r.pick(EN.family)]
  if (u < 0.68) return [given(r)]
  if (u < 0.86) return [r.pick(ROLES) + (r.chance(0.3) ? r.pick(ROLE_SUFFIXES) : '')]
  if (u < 0.91) return [given(r) + ' ' + r.pick(EN.family), r.pick(ROLES)]
  if (u < 0.93)
    return [r.pick(['Detective', 'Doctor', 'Captain', 'Officer', 'Agent']) + ' ' + r.pick(EN.family)]
  if (u < 0.935) return [given(r) + ' "' + r.pick(NICKNAMES) + '" ' + r.pick(EN.family)]
  if (u < 0.937) return [r.pick(['DJ \\m/', 'Back\\Slash', 'C:\\>', 'The \\ Man'])]
  if (u < 0.94) return ['Young ' + given(r), given(r) + ' (voice)']
  return [given(r) + ' ' + r.pick(EN.family)]
}
