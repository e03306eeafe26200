/**
 * A small fixed cast of recognisable titles and people that every sample contains, at the same ids
 * whatever its size or seed, so tests (search, lookups, joins) can rely on them. Title ids are
 * IMDb's; the people's ids follow IMDb's where known and are otherwise arbitrary. Everything else
 * about a sample is synthetic.
 */
import type { Category, Genre, TitleType } from './vocab.js'

export interface WellKnownName {
  readonly key: string
  readonly nconst: number
  readonly primaryName: string
  readonly birthYear: number | null
  readonly deathYear: number | null
  readonly professions: readonly string[]
}

export interface WellKnownCredit {
  /** A {@link WellKnownName} key. */
  readonly name: string
  readonly category: Category
  readonly job?: string
  readonly characters?: readonly string[]
}

export interface WellKnownAka {
  readonly title: string
  readonly region?: string
  readonly language?: string
  readonly types?: string
  readonly attributes?: string
  readonly isOriginalTitle: 0 | 1
}

export interface WellKnownTitle {
  readonly key: string
  readonly tconst: number
  readonly titleType: TitleType
  readonly primaryTitle: string
  readonly originalTitle: string
  readonly startYear: number
  readonly endYear: number | null
  readonly runtimeMinutes: number
  readonly genres: readonly Genre[]
  readonly averageRating: number
  readonly numVotes: number
  /** ISO region of origin (drives nothing but documentation). */
  readonly origin: string
  readonly akas: readonly WellKnownAka[]
  readonly principals: readonly WellKnownCredit[]
  readonly directors: readonly string[]
  readonly writers: readonly string[]
  /** Series only: the number of seasons its generated episodes are numbered over. */
  readonly seasons?: number
  /** Series only: credits repeated as the first principals of every one of its episodes. */
  readonly regulars?: readonly WellKnownCredit[]
}

const n = (
  key: string,
  nconst: number,
  primaryName: string,
  birthYear: number | null,
  deathYear: number | null,
  professions: string,
): WellKnownName => ({ key, nconst, primaryName, birthYear, deathYear, professions: professions.split(',') })

export const WELL_KNOWN_NAMES: readonly WellKnownName[] = [
  n('marlonBrando', 8, 'Marlon Brando', 1924, 2004, 'actor,director,writer'),
  n('alPacino', 199, 'Al Pacino', 1940, null, 'actor,director,producer'),
  n('jamesCaan', 1001, 'James Caan', 1940, 2022, 'actor,director,producer'),
  n('dianeKeaton', 473, 'Diane Keaton', 1946, null, 'actress,director,producer'),
  n('francisFordCoppola', 338, 'Francis Ford Coppola', 1939, null, 'producer,director,writer'),
  n('marioPuzo', 701374, 'Mario Puzo', 1920, 1999, 'writer,actor'),
  n('ninoRota', 67, 'Nino Rota', 1911, 1979, 'composer,soundtrack,music_department'),
  n('jeanReno', 606, 'Jean Reno', 1948, null, 'actor,producer,soundtrack'),
  n('garyOldman', 198, 'Gary Oldman', 1958, null, 'actor,producer,writer'),
  n('nataliePortman', 204, 'Natalie Portman', 1981, null, 'actress,producer,director'),
  n('lucBesson', 108, 'Luc Besson', 1959, null, 'writer,producer,director'),
  n('audreyTautou', 851582, 'Audrey Tautou', 1976, null, 'actress'),
  n('mathieuKassovitz', 440913, 'Mathieu Kassovitz', 1967, null, 'actor,director,writer'),
  n('jeanPierreJeunet', 466, 'Jean-Pierre Jeunet', 1953, null, 'director,writer,producer'),
  n('yannTiersen', 862738, 'Yann Tiersen', 1970, null, 'composer,soundtrack'),
  n('hayaoMiyazaki', 594503, 'Hayao Miyazaki', 1941, null, 'writer,director,animation_department'),
  n('rumiHiiragi', 385421, 'Rumi Hiiragi', 1987, null, 'actress'),
  n('mariNatsuki', 622356, 'Mari Natsuki', 1952, null, 'actress,soundtrack'),
  n('joeHisaishi', 385968, 'Joe Hisaishi', 1950, null, 'composer,music_department,soundtrack'),
  n('danCastellaneta', 144657, 'Dan Castellaneta', 1957, null, 'actor,writer,producer'),
  n('julieKavner', 1413, 'Julie Kavner', 1950, null, 'actress'),
  n('nancyCartwright', 4813, 'Nancy Cartwright', 1957, null, 'actress,producer'),
  n('yeardleySmith', 810379, 'Yeardley Smith', 1964, null, 'actress,producer'),
  n('mattGroening', 4981, 'Matt Groening', 1954, null, 'writer,producer,animation_department'),
  n('weirdAl', 949412, '"Weird Al" Yankovic', 1959, null, 'music_artist,actor,writer'),
]

export const WELL_KNOWN_TITLES: readonly WellKnownTitle[] = [
  {
    key: 'godfather',
    tconst: 68646,
    titleType: 'movie',
    primaryTitle: 'The Godfather',
    originalTitle: 'The Godfather',
    startYear: 1972,
    endYear: null,
    runtimeMinutes: 175,
    genres: ['Crime', 'Drama'],
    averageRating: 9.2,
    numVotes: 2_100_000,
    origin: 'US',
    akas: [
      { title: 'The Godfather', types: 'original', isOriginalTitle: 1 },
      { title: 'The Godfather', region: 'US', types: 'imdbDisplay', isOriginalTitle: 0 },
      { title: 'Le Parrain', region: 'FR', types: 'imdbDisplay', isOriginalTitle: 0 },
      { title: 'Der Pate', region: 'DE', types: 'imdbDisplay', isOriginalTitle: 0 },
      { title: 'Il padrino', region: 'IT', types: 'imdbDisplay', isOriginalTitle: 0 },
      { title: 'El padrino', region: 'ES', types: 'imdbDisplay', isOriginalTitle: 0 },
      { title: 'ゴッドファーザー', region: 'JP', language: 'ja', types: 'imdbDisplay', isOriginalTitle: 0 },
      { title: 'Крёстный отец', region: 'RU', types: 'imdbDisplay', isOriginalTitle: 0 },
      { title: 'Ο νονός', region: 'GR', types: 'imdbDisplay', isOriginalTitle: 0 },
      { title: 'O Poderoso Chefão', region: 'BR', types: 'imdbDisplay', isOriginalTitle: 0 },
      {
        title: "Mario Puzo's The Godfather",
        region: 'US',
        types: 'imdbDisplay\x02working',
        attributes: 'complete title\x02promotional title',
        isOriginalTitle: 0,
      },
    ],
    principals: [
      { name: 'marlonBrando', category: 'actor', characters: ['Don Vito Corleone'] },
      { name: 'alPacino', category: 'actor', characters: ['Michael Corleone'] },
      { name: 'jamesCaan', category: 'actor', characters: ['Sonny Corleone'] },
      { name: 'dianeKeaton', category: 'actress', characters: ['Kay Adams'] },
      { name: 'francisFordCoppola', category: 'director' },
      { name: 'marioPuzo', category: 'writer', job: 'novel' },
      { name: 'francisFordCoppola', category: 'writer', job: 'screenplay' },
      { name: 'ninoRota', category: 'composer' },
    ],
    directors: ['francisFordCoppola'],
    writers: ['marioPuzo', 'francisFordCoppola'],
  },
  {
    key: 'leon',
    tconst: 110413,
    titleType: 'movie',
    primaryTitle: 'Léon: The Professional',
    originalTitle: 'Léon',
    startYear: 1994,
    endYear: null,
    runtimeMinutes: 110,
    genres: ['Action', 'Crime', 'Drama'],
    averageRating: 8.5,
    numVotes: 1_300_000,
    origin: 'FR',
    akas: [
      { title: 'Léon', types: 'original', isOriginalTitle: 1 },
      { title: 'Léon', region: 'FR', types: 'imdbDisplay', isOriginalTitle: 0 },
      { title: 'Léon: The Professional', region: 'US', types: 'imdbDisplay', isOriginalTitle: 0 },
      { title: 'The Professional', region: 'US', types: 'alternative', isOriginalTitle: 0 },
      { title: 'Léon - Der Profi', region: 'DE', types: 'imdbDisplay', isOriginalTitle: 0 },
      { title: 'León (el profesional)', region: 'ES', types: 'imdbDisplay', isOriginalTitle: 0 },
      { title: 'レオン', region: 'JP', language: 'ja', types: 'imdbDisplay', isOriginalTitle: 0 },
      { title: 'Леон', region: 'RU', types: 'imdbDisplay', isOriginalTitle: 0 },
    ],
    principals: [
      { name: 'jeanReno', category: 'actor', characters: ['Léon'] },
      { name: 'garyOldman', category: 'actor', characters: ['Stansfield'] },
      { name: 'nataliePortman', category: 'actress', characters: ['Mathilda'] },
      { name: 'lucBesson', category: 'director' },
      { name: 'lucBesson', category: 'writer' },
    ],
    directors: ['lucBesson'],
    writers: ['lucBesson'],
  },
  {
    key: 'amelie',
    tconst: 211915,
    titleType: 'movie',
    primaryTitle: 'Amélie',
    originalTitle: "Le fabuleux destin d'Amélie Poulain",
    startYear: 2001,
    endYear: null,
    runtimeMinutes: 122,
    genres: ['Comedy', 'Romance'],
    averageRating: 8.3,
    numVotes: 800_000,
    origin: 'FR',
    akas: [
      { title: "Le fabuleux destin d'Amélie Poulain", types: 'original', isOriginalTitle: 1 },
      {
        title: "Le fabuleux destin d'Amélie Poulain",
        region: 'FR',
        types: 'imdbDisplay',
        isOriginalTitle: 0,
      },
      { title: 'Amélie', region: 'US', types: 'imdbDisplay', isOriginalTitle: 0 },
      { title: 'Amélie', region: 'GB', types: 'imdbDisplay', isOriginalTitle: 0 },
      { title: 'Die fabelhafte Welt der Amélie', region: 'DE', types: 'imdbDisplay', isOriginalTitle: 0 },
      { title: 'Il favoloso mondo di Amélie', region: 'IT', types: 'imdbDisplay', isOriginalTitle: 0 },
      { title: 'アメリ', region: 'JP', language: 'ja', types: 'imdbDisplay', isOriginalTitle: 0 },
      { title: 'Амели', region: 'RU', types: 'imdbDisplay', isOriginalTitle: 0 },
      {
        title: 'O Fabuloso Destino de Amélie Poulain',
        region: 'BR',
        types: 'imdbDisplay',
        isOriginalTitle: 0,
      },
      {
        title: 'Amelie from Montmartre',
        region: 'US',
        attributes: 'literal English title',
        isOriginalTitle: 0,
      },
    ],
    principals: [
      { name: 'audreyTautou', category: 'actress', characters: ['Amélie Poulain'] },
      { name: 'mathieuKassovitz', category: 'actor', characters: ['Nino Quincampoix'] },
      { name: 'jeanPierreJeunet', category: 'director' },
      { name: 'jeanPierreJeunet', category: 'writer', job: 'scenario' },
      { name: 'yannTiersen', category: 'composer' },
    ],
    directors: ['jeanPierreJeunet'],
    writers: ['jeanPierreJeunet'],
  },
  {
    key: 'spiritedAway',
    tconst: 245429,
    titleType: 'movie',
    primaryTitle: 'Spirited Away',
    originalTitle: '千と千尋の神隠し',
    startYear: 2001,
    endYear: null,
    runtimeMinutes: 125,
    genres: ['Adventure', 'Animation', 'Family'],
    averageRating: 8.6,
    numVotes: 950_000,
    origin: 'JP',
    akas: [
      { title: '千と千尋の神隠し', types: 'original', isOriginalTitle: 1 },
      { title: '千と千尋の神隠し', region: 'JP', language: 'ja', types: 'imdbDisplay', isOriginalTitle: 0 },
      {
        title: 'Sen to Chihiro no kamikakushi',
        region: 'JP',
        attributes: 'transliterated title',
        isOriginalTitle: 0,
      },
      { title: 'Spirited Away', region: 'US', types: 'imdbDisplay', isOriginalTitle: 0 },
      { title: 'Le Voyage de Chihiro', region: 'FR', types: 'imdbDisplay', isOriginalTitle: 0 },
      { title: 'Chihiros Reise ins Zauberland', region: 'DE', types: 'imdbDisplay', isOriginalTitle: 0 },
      { title: '센과 치히로의 행방불명', region: 'KR', types: 'imdbDisplay', isOriginalTitle: 0 },
      { title: '千与千寻', region: 'CN', language: 'cmn', types: 'imdbDisplay', isOriginalTitle: 0 },
      { title: 'Унесённые призраками', region: 'RU', types: 'imdbDisplay', isOriginalTitle: 0 },
    ],
    principals: [
      { name: 'rumiHiiragi', category: 'actress', characters: ['Chihiro Ogino'] },
      { name: 'mariNatsuki', category: 'actress', characters: ['Yubaba', 'Zeniba'] },
      { name: 'hayaoMiyazaki', category: 'director' },
      { name: 'hayaoMiyazaki', category: 'writer' },
      { name: 'joeHisaishi', category: 'composer' },
    ],
    directors: ['hayaoMiyazaki'],
    writers: ['hayaoMiyazaki'],
  },
  {
    key: 'simpsons',
    tconst: 96697,
    titleType: 'tvSeries',
    primaryTitle: 'The Simpsons',
    originalTitle: 'The Simpsons',
    startYear: 1989,
    endYear: null,
    runtimeMinutes: 22,
    genres: ['Animation', 'Comedy'],
    averageRating: 8.7,
    numVotes: 440_000,
    origin: 'US',
    seasons: 36,
    akas: [
      { title: 'The Simpsons', types: 'original', isOriginalTitle: 1 },
      { title: 'The Simpsons', region: 'US', types: 'imdbDisplay', isOriginalTitle: 0 },
      { title: 'Les Simpson', region: 'FR', types: 'imdbDisplay', isOriginalTitle: 0 },
      { title: 'Die Simpsons', region: 'DE', types: 'imdbDisplay', isOriginalTitle: 0 },
      { title: 'Los Simpson', region: 'ES', types: 'imdbDisplay', isOriginalTitle: 0 },
      { title: 'ザ・シンプソンズ', region: 'JP', language: 'ja', types: 'imdbDisplay', isOriginalTitle: 0 },
      { title: 'Симпсоны', region: 'RU', types: 'imdbDisplay', isOriginalTitle: 0 },
      { title: 'Οι Σίμπσονς', region: 'GR', types: 'imdbDisplay', isOriginalTitle: 0 },
    ],
    principals: [
      {
        name: 'danCastellaneta',
        category: 'actor',
        characters: ['Homer Simpson', 'Grampa', 'Krusty the Clown'],
      },
      { name: 'julieKavner', category: 'actress', characters: ['Marge Simpson'] },
      { name: 'nancyCartwright', category: 'actress', characters: ['Bart Simpson', 'Nelson Muntz'] },
      { name: 'yeardleySmith', category: 'actress', characters: ['Lisa Simpson'] },
      { name: 'mattGroening', category: 'writer', job: 'created by' },
    ],
    regulars: [
      {
        name: 'danCastellaneta',
        category: 'actor',
        characters: ['Homer Simpson', 'Grampa', 'Krusty the Clown'],
      },
      { name: 'julieKavner', category: 'actress', characters: ['Marge Simpson'] },
      { name: 'nancyCartwright', category: 'actress', characters: ['Bart Simpson', 'Nelson Muntz'] },
      { name: 'yeardleySmith', category: 'actress', characters: ['Lisa Simpson'] },
    ],
    directors: [],
    writers: ['mattGroening'],
  },
  {
    key: 'bestShow',
    tconst: 1234567,
    titleType: 'tvSpecial',
    primaryTitle: 'The "Best" Show',
    originalTitle: 'The "Best" Show',
    startYear: 2004,
    endYear: null,
    runtimeMinutes: 60,
    genres: ['Comedy', 'Music'],
    averageRating: 6.1,
    numVotes: 1234,
    origin: 'US',
    akas: [
      { title: 'The "Best" Show', types: 'original', isOriginalTitle: 1 },
      { title: 'The "Best" Show', region: 'US', types: 'imdbDisplay', isOriginalTitle: 0 },
      { title: 'Die "beste" Show', region: 'DE', types: 'imdbDisplay', isOriginalTitle: 0 },
      { title: '"Best" Show \\o/', region: 'GB', types: 'alternative', isOriginalTitle: 0 },
    ],
    principals: [
      { name: 'weirdAl', category: 'actor', characters: ['Jack "Dusty" O\'Brien', 'Self', 'DJ \\m/'] },
      { name: 'weirdAl', category: 'director' },
      { name: 'weirdAl', category: 'writer', job: 'written by' },
    ],
    directors: ['weirdAl'],
    writers: ['weirdAl'],
  },
]

const pad = (prefix: 'tt' | 'nm', id: number): string => prefix + String(id).padStart(7, '0')

/**
 * The well-known ids, as IMDb spells them: `WELL_KNOWN.titles.godfather === 'tt0068646'`,
 * `WELL_KNOWN.names.marlonBrando === 'nm0000008'`. `simpsonsSeasons` is how many seasons the
 * long-running series' generated episodes span.
 */
export const WELL_KNOWN = {
  titles: {
    godfather: 'tt0068646',
    leon: 'tt0110413',
    amelie: 'tt0211915',
    spiritedAway: 'tt0245429',
    simpsons: 'tt0096697',
    bestShow: 'tt1234567',
  },
  names: {
    marlonBrando: 'nm0000008',
    alPacino: 'nm0000199',
    jamesCaan: 'nm0001001',
    dianeKeaton: 'nm0000473',
    francisFordCoppola: 'nm0000338',
    marioPuzo: 'nm0701374',
    ninoRota: 'nm0000067',
    jeanReno: 'nm0000606',
    garyOldman: 'nm0000198',
    nataliePortman: 'nm0000204',
    lucBesson: 'nm0000108',
    audreyTautou: 'nm0851582',
    mathieuKassovitz: 'nm0440913',
    jeanPierreJeunet: 'nm0000466',
    yannTiersen: 'nm0862738',
    hayaoMiyazaki: 'nm0594503',
    rumiHiiragi: 'nm0385421',
    mariNatsuki: 'nm0622356',
    joeHisaishi: 'nm0385968',
    danCastellaneta: 'nm0144657',
    julieKavner: 'nm0001413',
    nancyCartwright: 'nm0004813',
    yeardleySmith: 'nm0810379',
    mattGroening: 'nm0004981',
    weirdAl: 'nm0949412',
  },
  simpsonsSeasons: 36,
} as const

// The literal tables above are what tests import; keep them in step with the fixtures.
for (const t of WELL_KNOWN_TITLES) {
  if ((WELL_KNOWN.titles as Record<string, string>)[t.key] !== pad('tt', t.tconst)) {
    throw new Error(`WELL_KNOWN.titles.${t.key} is out of step`)
  }
}
for (const p of WELL_KNOWN_NAMES) {
  if ((WELL_KNOWN.names as Record<string, string>)[p.key] !== pad('nm', p.nconst)) {
    throw new Error(`WELL_KNOWN.names.${p.key} is out of step`)
  }
}
