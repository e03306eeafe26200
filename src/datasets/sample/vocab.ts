import { GENRES } from '../catalogue.js'
/**
 * Word lists and IMDb's enumerated values for the sample generator. Lists that feed Zipf draws are
 * ordered most frequent first. Nothing here may contain a tab, a newline or the `\x02` byte.
 */

/** IMDb's title types with their share of a sample (tvEpisode the biggest, as in the real dump). */
export const TITLE_TYPES = [
  ['tvEpisode', 60],
  ['short', 14.4],
  ['movie', 11.4],
  ['video', 4.9],
  ['tvSeries', 4.2],
  ['tvMovie', 2.4],
  ['tvMiniSeries', 1.1],
  ['tvSpecial', 0.8],
  ['videoGame', 0.7],
  ['tvShort', 0.15],
  ['tvPilot', 0.02],
] as const

export type TitleType = (typeof TITLE_TYPES)[number][0]
export const TITLE_TYPE_NAMES: readonly TitleType[] = TITLE_TYPES.map((t) => t[0])
export const TYPE_INDEX: Readonly<Record<TitleType, number>> = Object.fromEntries(
  TITLE_TYPE_NAMES.map((t, i) => [t, i]),
) as Record<TitleType, number>

export { GENRES }

export type Genre = (typeof GENRES)[number]
export const GENRE_BIT: Readonly<Record<Genre, number>> = Object.fromEntries(
  GENRES.map((g, i) => [g, 1 << i]),
) as Record<Genre, number>

/** Relative frequency of each genre in a title's genre list (Adult and Short are set by rules). */
export const GENRE_WEIGHTS: readonly number[] = GENRES.map(
  (g) =>
    ({
      Drama: 30,
      Comedy: 22,
      Documentary: 10,
      Action: 8,
      Romance: 8,
      Crime: 8,
      Thriller: 6,
      Family: 6,
      Adventure: 6,
      Animation: 6,
      Horror: 5,
      Mystery: 4,
      'Reality-TV': 4,
      Fantasy: 4,
      Music: 4,
      'Talk-Show': 3,
      History: 3,
      Biography: 3,
      'Sci-Fi': 3,
      News: 2,
      Sport: 2,
      'Game-Show': 2,
      Musical: 1,
      War: 1,
      Western: 1,
      'Film-Noir': 0.2,
      Adult: 0,
      Short: 0,
    })[g as string] ?? 1,
)

/** Genres whose cast appears as themselves (category `self`). */
export const SELF_GENRES: readonly Genre[] = ['Documentary', 'Talk-Show', 'News', 'Reality-TV', 'Game-Show']

/** The crew's title.principals categories, which are also professions of the same name. */
export const CREW_CATEGORIES = [
  'director',
  'writer',
  'producer',
  'composer',
  'cinematographer',
  'editor',
  'production_designer',
  'casting_director',
] as const

/** title.principals categories, as IMDb spells them. */
export const CATEGORIES = [
  'actor',
  'actress',
  'self',
  ...CREW_CATEGORIES,
  'archive_footage',
  'archive_sound',
] as const

export type Category = (typeof CATEGORIES)[number]
export const CAT: Readonly<Record<Category, number>> = Object.fromEntries(
  CATEGORIES.map((c, i) => [c, i]),
) as Record<Category, number>

/** Categories whose `characters` is a JSON array. */
export const ACTING_CATEGORIES: readonly Category[] = ['actor', 'actress', 'self', 'archive_footage']

/** IMDb's primaryProfession values. */
export const PROFESSIONS = [
  'actor',
  'actress',
  ...CREW_CATEGORIES,
  'miscellaneous',
  'soundtrack',
  'camera_department',
  'sound_department',
  'art_department',
  'music_department',
  'editorial_department',
  'make_up_department',
  'costume_department',
  'costume_designer',
  'animation_department',
  'visual_effects',
  'special_effects',
  'stunts',
  'assistant_director',
  'production_manager',
  'location_management',
  'transportation_department',
  'script_department',
  'casting_department',
  'art_director',
  'set_decorator',
  'executive',
  'manager',
  'talent_agent',
  'publicist',
  'legal',
  'choreographer',
  'music_artist',
  'podcaster',
] as const

/** Professions of people who are credited but never principals; most frequent first. */
export const CREW_PROFESSIONS: readonly (typeof PROFESSIONS)[number][] = PROFESSIONS.slice(10)

/** Regions of akas, with their weight and the language whose vocabulary titles them. */
export const REGIONS: readonly (readonly [region: string, weight: number, lang: Lang])[] = [
  ['US', 14, 'en'],
  ['GB', 6, 'en'],
  ['FR', 6, 'fr'],
  ['DE', 6, 'de'],
  ['ES', 5, 'es'],
  ['IT', 4, 'it'],
  ['JP', 5, 'ja'],
  ['IN', 5, 'hi'],
  ['BR', 4, 'pt'],
  ['CA', 4, 'en'],
  ['AU', 3, 'en'],
  ['MX', 3, 'es'],
  ['RU', 3, 'ru'],
  ['KR', 2, 'ko'],
  ['GR', 2, 'el'],
  ['PT', 2, 'pt'],
  ['TR', 2, 'tr'],
  ['EG', 1, 'ar'],
  ['CN', 1.5, 'zh'],
  ['TW', 1, 'zh'],
  ['HK', 1, 'zh'],
  ['XWW', 3, 'en'],
  ['SUHH', 0.5, 'ru'],
  ['XWG', 0.5, 'de'],
  ['AR', 1, 'es'],
  ['BE', 1, 'fr'],
  ['CH', 1, 'de'],
]

/** Region codes of the countries titles are made in (the first region of their language wins). */
export const ORIGINS: readonly (readonly [region: string, weight: number, lang: Lang])[] = [
  ['US', 42, 'en'],
  ['GB', 8, 'en'],
  ['FR', 5, 'fr'],
  ['DE', 4, 'de'],
  ['JP', 6, 'ja'],
  ['IN', 6, 'hi'],
  ['ES', 3, 'es'],
  ['IT', 3, 'it'],
  ['KR', 3, 'ko'],
  ['RU', 3, 'ru'],
  ['BR', 2, 'pt'],
  ['MX', 2, 'es'],
  ['CN', 2, 'zh'],
  ['TR', 1.5, 'tr'],
  ['GR', 1, 'el'],
  ['EG', 1, 'ar'],
  ['CA', 3, 'en'],
  ['AU', 2, 'en'],
]

/** Languages of akas whose region speaks more than one (IMDb fills `language` mostly there). */
export const REGION_LANGUAGES: Readonly<Record<string, readonly string[]>> = {
  IN: ['hi', 'ta', 'te', 'en', 'ml'],
  CA: ['fr', 'en'],
  XWW: ['en'],
  JP: ['ja'],
  CH: ['de', 'fr', 'it'],
  BE: ['fr', 'nl'],
  ES: ['ca', 'eu', 'gl'],
  HK: ['yue', 'cmn', 'en'],
  TW: ['cmn'],
  CN: ['cmn'],
  GR: ['el'],
  RU: ['ru'],
  SUHH: ['ru'],
}

/** title.akas `types` values (one or more, `\x02`-separated). */
export const AKA_TYPES: readonly (readonly [string, number])[] = [
  ['imdbDisplay', 60],
  ['alternative', 8],
  ['working', 4],
  ['festival', 3],
  ['dvd', 3],
  ['tv', 3],
  ['video', 2],
  ['imdbDisplay\x02working', 1],
  ['alternative\x02tv', 0.7],
  ['dvd\x02video', 0.5],
  ['festival\x02working', 0.3],
]

/** title.akas `attributes` values (one or more, `\x02`-separated). */
export const AKA_ATTRIBUTES: readonly (readonly [string, number])[] = [
  ['literal title', 10],
  ['alternative spelling', 8],
  ['short title', 6],
  ['complete title', 6],
  ['informal title', 4],
  ['new title', 4],
  ['reissue title', 3],
  ['promotional title', 3],
  ['working title', 3],
  ['transliterated title', 3],
  ['video box title', 2],
  ['original script title', 2],
  ['literal English title', 2],
  ['copyright title', 1],
  ['IMAX version', 0.5],
  ['3-D version', 0.5],
  ['poster title', 1],
  ['closing credits title', 0.5],
  ['informal title\x02literal English title', 1],
  ['short title\x02promotional title', 0.7],
  ['alternative spelling\x02transliterated title', 0.5],
]

export type Lang =
  | 'en'
  | 'fr'
  | 'de'
  | 'es'
  | 'it'
  | 'pt'
  | 'ja'
  | 'ru'
  | 'ko'
  | 'el'
  | 'ar'
  | 'hi'
  | 'zh'
  | 'tr'

/** Languages written in a non-Latin script (their names and titles go native only sometimes). */
export const NON_LATIN: ReadonlySet<Lang> = new Set(['ja', 'ru', 'ko', 'el', 'ar', 'hi', 'zh'])

/** The word for "Episode" in episode akas (`Episode #1.2`), by language (Chinese writes `第2集`). */
export const EPISODE_WORD: Readonly<Record<Lang, string>> = {
  en: 'Episode',
  fr: 'Épisode',
  de: 'Folge',
  es: 'Episodio',
  it: 'Episodio',
  pt: 'Episódio',
  ja: 'エピソード',
  ru: 'Эпизод',
  ko: '에피소드',
  el: 'Επεισόδιο',
  ar: 'الحلقة',
  hi: 'एपिसोड',
  zh: '集',
  tr: 'Bölüm',
}

export const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
] as const

// ---------------------------------------------------------------------------------------------
// English title vocabulary, most frequent first (a Zipf draw makes "Love" and "Night" common and
// "Quasar" rare, so text search has both broad and narrow terms).

export const NOUNS: readonly string[] =
  `Love Night Man Life Day World Girl Story Home Time Christmas Dead Heart
House City Dream Game Death King Family Blood Road Woman Boy Sun Moon Star Fire Water Hearts Eyes
Children Secret Shadow Light Summer Winter Angel Devil War Money Music Dance Party Wedding Ghost
Mother Father Brother Sister Friends Island River Mountain Sea Ocean Paradise Hell Heaven Sky Rain
Storm Ghosts Queen Prince Princess Kingdom Empire Legend Hero Heroes Wolf Dragon Tiger Lion Bird Horse
Dog Cat Beast Monster Zombie Vampire Witch Wizard Magic Mystery Murder Crime Justice Revenge Escape
Return Journey Adventure Quest Hunt Chase Run Fight Battle Soldier Warrior Spy Agent Detective Killer
Thief Outlaw Cowboy Sheriff Doctor Nurse Teacher Student School College Hospital Prison Hotel Train
Ship Car Bus Plane Bridge Garden Forest Desert Jungle Valley Town Village Street Streets Avenue
Highway Station Harbor Castle Palace Tower Church Temple Country Land Planet Space Universe Galaxy
Future Past Memory Memories Promise Truth Lies Silence Voice Song Songs Letter Letters Diary Book
Picture Mirror Door Window Room Kitchen Table Bed Box Key Ring Crown Sword Gun Bullet Diamond Gold
Silver Treasure Fortune Luck Chance Choice Trouble Danger Fear Hope Faith Glory Honor Pride Power
Freedom Destiny Fate Soul Spirit Mind Body Blood Skin Bones Hands Kiss Touch Smile Tears Laughter
Sleep Dreams Nightmare Morning Evening Midnight Dawn Dusk Sunrise Sunset Spring Autumn Fall Season
Year Years Century Moment Minute Hour Week Weekend Holiday Birthday Anniversary Farewell Goodbye
Hello Welcome Beginning End Edge Line Circle Square Point Zero One Two Three Seven Thousand Million
Boss Chief Captain General Major Colonel Commander Lady Lord Gentleman Stranger Visitor Neighbor
Partner Lover Wife Husband Bride Groom Baby Kid Kids Son Daughter Twins Cousin Uncle Aunt Grandma
Orphan Widow Saint Sinner Priest Monk Nun Prophet Pilgrim Gypsy Pirate Ninja Samurai Knight Viking
Gladiator Pharaoh Emperor Tsar Sultan Rebel Rebels Hunter Hunters Runner Riders Rider Driver Pilot
Sailor Miner Farmer Baker Butcher Tailor Clown Magician Dancer Singer Painter Poet Writer Actor Star
Champion Legacy Origin Genesis Exodus Revelation Apocalypse Armageddon Inferno Purgatory Eden Utopia
Atlantis Avalon Camelot Babylon Olympus Valhalla Oasis Mirage Labyrinth Maze Puzzle Riddle Enigma
Code Cipher Signal Frequency Echo Static Noise Pulse Wave Tide Current Drift Flood Storm Thunder
Lightning Earthquake Volcano Avalanche Blizzard Hurricane Tornado Eclipse Comet Meteor Quasar Nebula`
    .split(/\s+/)
    .filter(Boolean)

export const ADJECTIVES: readonly string[] = `Last Big Little Dark Lost Great Good Bad New Old Black White Red
Blue Green Golden Silver Wild Dead Deadly Secret Hidden Young Long Final First Second Perfect Beautiful
Strange Crazy Happy Sweet Bitter Cold Hot Broken Endless Eternal Forbidden Forgotten Fallen Frozen
Burning Silent Quiet Loud Lonely True False Real Fake Holy Wicked Evil Sacred Savage Brave Bold
Fast Furious Sudden Slow Deep High Low Hard Soft Dirty Clean Rich Poor Free Crimson Scarlet Midnight
Electric Atomic Cosmic Invisible Impossible Incredible Amazing Fantastic Magnificent Mysterious
Dangerous Desperate Innocent Guilty Naked Hungry Angry Sleepless Restless Reckless Fearless Heartless
Nameless Hollow Twisted Shattered Tangled Buried Haunted Cursed Blessed Royal Ancient Modern Urban
Rural Northern Southern Eastern Western Tropical Arctic Lunar Solar Mortal Immortal Infinite Fatal
Grand Little Tiny Giant Mighty Gentle Tender Fierce Proud Humble Lucky Unlucky Magic Mad Marvelous`
  .split(/\s+/)
  .filter(Boolean)

export const PLACES: readonly string[] = `Paris London New York Tokyo Rome Berlin Vegas Hollywood Chicago
Texas California Brooklyn Manhattan Mexico India China Africa America Europe Venice Vienna Moscow
Istanbul Cairo Bombay Hong Kong Shanghai Seoul Sydney Rio Havana Casablanca Marrakesh Kyoto
Alaska Hawaii Florida Memphis Nashville Detroit Boston Dublin Edinburgh Madrid Barcelona Lisbon
Athens Prague Budapest Warsaw Stockholm Oslo Amsterdam Bangkok Manila Jakarta Tangier Timbuktu`
  .split(/\s+/)
  .filter(Boolean)

// ---------------------------------------------------------------------------------------------
// Other languages: words in the language's own script, and the function words that may join two of
// them. A title in a language is built with that language's joiner, so akas and original titles
// read as the language does.

export const FOREIGN: Readonly<
  Record<Exclude<Lang, 'en'>, { words: readonly string[]; particles: readonly string[]; joiner: string }>
> = {
  fr: {
    joiner: ' ',
    particles: ['le', 'la', 'les', 'du', 'des', 'un', 'une', 'de'],
    words: `amour nuit été Paris histoire secret guerre famille étoile mer ciel fleur ami dernier temps
mémoire rêve cœur vie fille garçon hôtel château chérie mystère héros forêt île liberté lumière
ombre fenêtre l'été l'amour l'étranger l'enfant l'île l'ange très déjà là-bas noël réveillon
première dernière éternité vérité bonheur tendresse crème brûlée`
      .split(/\s+/)
      .filter(Boolean),
  },
  de: {
    joiner: ' ',
    particles: ['der', 'die', 'das', 'und', 'ein', 'eine', 'über', 'für'],
    words: `Liebe Nacht Sommer Berlin Geschichte Geheimnis Krieg Familie Stern Meer Himmel Blume Freund
letzte Zeit Erinnerung Traum Herz Leben Mädchen Junge Straße Schloss Märchen Größe Weiß Brücke
Glück Tür Hölle schön müde böse Fräulein Bürger Kühe Müller`
      .split(/\s+/)
      .filter(Boolean),
  },
  es: {
    joiner: ' ',
    particles: ['el', 'la', 'los', 'las', 'de', 'del', 'y', 'un', 'una'],
    words: `amor noche verano Madrid historia secreto guerra familia estrella mar cielo flor amigo último
tiempo memoria sueño corazón vida niña niño señor señora mañana canción España pequeño año
jardín más también aquí allá después`
      .split(/\s+/)
      .filter(Boolean),
  },
  it: {
    joiner: ' ',
    particles: ['il', 'la', 'le', 'di', 'del', 'e', 'un', 'una'],
    words: `amore notte estate Roma storia segreto guerra famiglia stella mare cielo fiore amico ultimo
tempo memoria sogno cuore vita ragazza città perché caffè più là così`
      .split(/\s+/)
      .filter(Boolean),
  },
  pt: {
    joiner: ' ',
    particles: ['o', 'a', 'os', 'as', 'de', 'do', 'da', 'e', 'um', 'uma'],
    words: `amor noite verão Lisboa história segredo guerra família estrela mar céu flor amigo último tempo
memória sonho coração vida menina irmão ação mãe pão São Paulo`
      .split(/\s+/)
      .filter(Boolean),
  },
  tr: {
    joiner: ' ',
    particles: ['ve', 'bir'],
    words: `aşk gece yaz İstanbul hikâye sır savaş aile yıldız deniz gökyüzü çiçek arkadaş son zaman hafıza
rüya kalp hayat kız güneş çok güzel büyük küçük şehir ölüm`
      .split(/\s+/)
      .filter(Boolean),
  },
  ja: {
    joiner: '',
    particles: ['の', 'と'],
    words:
      `愛 夜 夏 東京 物語 恋 星 海 空 花 桜 青春 家族 戦争 少女 侍 忍者 猫 風 月 雨 旅 約束 秘密 魔法 学校 探偵 事件 殺人 未来 ラブ ストーリー ミッション 最後
神隠し 銀河 鉄道 ふたり`
        .split(/\s+/)
        .filter(Boolean),
  },
  ru: {
    joiner: ' ',
    particles: ['и', 'в', 'на'],
    words: `любовь ночь война мир жизнь город брат дом звезда море тайна сердце последний белый красный
тёмный летний большой москва история солнце снег дорога судьба`
      .split(/\s+/)
      .filter(Boolean),
  },
  ko: {
    joiner: ' ',
    particles: ['의', '와', '그리고'],
    words:
      `사랑 밤 여름 서울 이야기 비밀 전쟁 가족 별 바다 하늘 꽃 친구 학교 마지막 우리 시간 기억 그녀 남자 첫 나의 너의`
        .split(/\s+/)
        .filter(Boolean),
  },
  el: {
    joiner: ' ',
    particles: ['η', 'το', 'ο', 'και', 'του', 'της'],
    words: `Αγάπη Νύχτα Καλοκαίρι Θάλασσα Ήλιος Ιστορία Μυστικό Πόλεμος Οικογένεια Αστέρι Ουρανός Αθήνα Ζωή
Καρδιά Όνειρο`
      .split(/\s+/)
      .filter(Boolean),
  },
  ar: {
    joiner: ' ',
    particles: ['و', 'في', 'من'],
    words: `الحب الليل الصيف القاهرة قصة سر حرب عائلة نجم البحر السماء الأخير الطريق الزمن القلب الحياة`
      .split(/\s+/)
      .filter(Boolean),
  },
  hi: {
    joiner: ' ',
    particles: ['और', 'का', 'की', 'के', 'में'],
    words: `प्यार रात गर्मी मुंबई कहानी राज़ युद्ध परिवार तारा समुद्र आसमान दिल दोस्त ज़िंदगी सपना`
      .split(/\s+/)
      .filter(Boolean),
  },
  zh: {
    joiner: '',
    particles: ['的', '之', '与'],
    words: `爱 夜 夏天 北京 故事 秘密 战争 家 星 海 天空 花 朋友 最后 时间 记忆 江湖 英雄 龙 虎`
      .split(/\s+/)
      .filter(Boolean),
  },
}

/** Emoji that appear in a few titles (some outside the BMP, so they are surrogate pairs in JS). */
export const EMOJI: readonly string[] = [
  '❤️',
  '💔',
  '🎄',
  '🔥',
  '🌙',
  '⭐',
  '🎬',
  '👻',
  '🚀',
  '🐉',
  '😂',
  '🍕',
]

/** A few titles that are all punctuation and backslashes, as the real dump has. */
export const ODD_TITLES: readonly string[] = [
  '\\m/',
  'AC\\DC Live',
  'C:\\Films\\Home',
  'Back\\Slash',
  '¯\\_(ツ)_/¯',
  '\\\\Server\\Share',
  '...',
  '?',
  '#1',
  '$9.99',
  '100%',
  'Untitled',
  'Untitled Project',
]

// ---------------------------------------------------------------------------------------------
// People. Given names by culture and gender, then family names; in Latin script unless the
// culture's `native` lists are used.

export interface Culture {
  readonly male: readonly string[]
  readonly female: readonly string[]
  readonly family: readonly string[]
  /** Family name first (Japanese, Korean, Chinese names in their own script). */
  readonly familyFirst?: boolean
  readonly joiner?: string
}

const w = (s: string): string[] => s.split(/\s+/).filter(Boolean)

export const CULTURES: Readonly<Record<string, Culture>> = {
  en: {
    male: w(`John James Robert Michael William David Richard Joseph Thomas Charles Christopher Daniel
Matthew Anthony Mark Donald Steven Paul Andrew Joshua Kenneth Kevin Brian George Timothy Ronald
Edward Jason Jeffrey Ryan Jacob Gary Nicholas Eric Jonathan Stephen Larry Justin Scott Brandon
Benjamin Samuel Gregory Alexander Frank Patrick Raymond Jack Dennis Jerry Tyler Aaron Jose Adam
Nathan Henry Douglas Zachary Peter Kyle Walter Ethan Jeremy Harold Keith Christian Roger Noah
Gerald Carl Terry Sean Austin Arthur Lawrence Jesse Dylan Bryan Joe Jordan Billy Bruce Albert
Willie Gabriel Logan Alan Juan Wayne Roy Ralph Randy Eugene Vincent Russell Elijah Louis Bobby
Philip Johnny Buster Cary Humphrey Clark Orson Fred`),
    female: w(`Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Lisa Nancy Betty
Margaret Sandra Ashley Kimberly Emily Donna Michelle Carol Amanda Dorothy Melissa Deborah Stephanie
Rebecca Sharon Laura Cynthia Kathleen Amy Angela Shirley Anna Brenda Pamela Emma Nicole Helen
Samantha Katherine Christine Debra Rachel Carolyn Janet Catherine Maria Heather Diane Ruth Julie
Olivia Joyce Virginia Victoria Kelly Lauren Christina Joan Evelyn Judith Megan Andrea Cheryl Hannah
Jacqueline Martha Gloria Teresa Ann Sara Madison Frances Kathryn Janice Jean Abigail Alice Judy
Sophia Grace Denise Amber Doris Marilyn Danielle Beverly Isabella Theresa Diana Natalie Brittany
Charlotte Marie Kayla Alexis Lori Audrey Ingrid Greta Bette Vivien Zoë Chloë`),
    family: w(`Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez
Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez
Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green
Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz
Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan
Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood
James Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster
O'Brien O'Connor O'Neill O'Hara D'Angelo McDonald MacLeod Fitzgerald Van Dyke St. James Smith-Jones`),
  },
  fr: {
    male: w(`Jean Pierre Michel André Philippe René Louis Alain Jacques Bernard Marcel Daniel Roger
Claude Christian Gérard François Léon Hervé Benoît Jérôme Stéphane Frédéric Rémi Noël Loïc Gaël`),
    female: w(`Marie Jeanne Françoise Monique Catherine Nathalie Isabelle Sylvie Anne Christine Martine
Amélie Chloé Zoé Léa Hélène Cécile Élodie Mélanie Noémie Agnès Brigitte Maëlle Océane Héloïse`),
    family: w(`Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefèvre
Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard André Lefebvre Mercier Dupont
Lambert Bonnet François Martinez Legrand Garnier Faure Rousseau Blanc Guérin Müller Henry Roussel
Perrin Chevalier Gauthier Clément Lemoine Noël Brûlé Château Lefèvre-Dupont`),
  },
  de: {
    male: w(`Hans Peter Klaus Wolfgang Jürgen Dieter Günter Horst Uwe Werner Helmut Karl-Heinz Jörg Björn
Lukas Maximilian Felix Jonas Leon Paul Elias Matthias Sebastian Tobias`),
    female: w(`Ursula Monika Petra Elisabeth Sabine Renate Helga Karin Brigitte Ingrid Erika Gerda
Gisela Anja Jana Käthe Lena Hannah Mia Sophie Marlene Jutta Bärbel Lieselotte`),
    family: w(`Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch
Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange
Schmitt Werner Schmitz Krause Meier Lehmann Schmid Schulze Maier Köhler Herrmann König Walter
Mayer Huber Kaiser Fuchs Peters Lang Scholz Möller Weiß Jung Hahn Schubert Vogel Friedrich Keller
Günther Frank Berger Winkler Roth Beck Lorenz Baumann Franke Albrecht Schuster Simon Ludwig Böhm
Winter Kraus Martin Schumacher Krämer Vogt Stein Jäger Otto Sommer Groß Seidel Heinrich Brandt Haas`),
  },
  es: {
    male: w(`José Antonio Manuel Francisco Juan David Javier Jesús Daniel Carlos Miguel Alejandro Rafael
Pedro Ángel Pablo Sergio Fernando Jorge Luis Alberto Álvaro Adrián Raúl Iñaki Joaquín Ramón Andrés`),
    female: w(`María Carmen Ana Isabel Dolores Pilar Teresa Rosa Josefa Cristina Ángela Laura Antonia
Marta Elena Lucía Mercedes Concepción Sofía Paula Inés Begoña Nuria Raquel Verónica Mónica`),
    family: w(`García Fernández González Rodríguez López Martínez Sánchez Pérez Gómez Martín Jiménez Ruiz
Hernández Díaz Moreno Muñoz Álvarez Romero Alonso Gutiérrez Navarro Torres Domínguez Vázquez Ramos
Gil Ramírez Serrano Blanco Molina Morales Suárez Ortega Delgado Castro Ortiz Rubio Marín Sanz Núñez
Iglesias Medina Garrido Cortés Castillo Santos Lozano Guerrero Cano Prieto Méndez Cruz Calvo Gallego
Peña Ibáñez Del Toro De la Cruz`),
  },
  it: {
    male: w(`Giuseppe Giovanni Antonio Mario Luigi Francesco Angelo Vincenzo Pietro Salvatore Carlo Franco
Domenico Bruno Paolo Michele Giorgio Aldo Sergio Luciano Marcello Federico Niccolò`),
    female: w(`Maria Anna Giuseppina Rosa Angela Giovanna Teresa Lucia Carmela Caterina Francesca Anna Maria
Antonietta Carla Elena Concetta Rita Margherita Sofia Giulia Chiara Martina Letizia Monica`),
    family: w(`Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo Conti
De Luca Mancini Costa Giordano Rizzo Lombardi Moretti Barbieri Fontana Santoro Mariani Rinaldi
Caruso Ferrara Galli Martini Leone Longo Gentile Martinelli Vitale Lombardo Serra Coppola De Santis
D'Angelo Marchetti Parisi Villa Conte Ferraro Ferri Fabbri Bianco Marini Grasso Valentini Messina`),
  },
  pt: {
    male: w(`João José António Francisco Carlos Paulo Pedro Lucas Luiz Marcos Luís Gabriel Rafael Daniel
Marcelo Bruno Eduardo Felipe Raimundo Rodrigo Sebastião Conceição Tomás`),
    female: w(`Maria Ana Francisca Antônia Adriana Juliana Márcia Fernanda Patrícia Aline Sandra Camila
Amanda Bruna Jéssica Letícia Júlia Luciana Vanessa Mariana Gabriela Conceição Inês Beatriz`),
    family: w(`Silva Santos Oliveira Souza Rodrigues Ferreira Alves Pereira Lima Gomes Costa Ribeiro Martins
Carvalho Almeida Lopes Soares Fernandes Vieira Barbosa Rocha Dias Nascimento Andrade Moreira Nunes
Marques Machado Mendes Freitas Cardoso Ramos Gonçalves Santana Teixeira Araújo Magalhães Simões`),
  },
  tr: {
    male: w(`Mehmet Mustafa Ahmet Ali Hüseyin Hasan İbrahim İsmail Osman Yusuf Murat Ömer Ramazan Halil
Süleyman Abdullah Mahmut Recep Salih Fatih Kadir Emre Burak Çağatay Barış`),
    female: w(`Fatma Ayşe Emine Hatice Zeynep Elif Meryem Şerife Zehra Sultan Hanife Merve Havva Zeliha
Esra Fadime Özlem Hacer Melek Yasemin Hülya Çiğdem Gülşen Tuğba Şule`),
    family: w(`Yılmaz Kaya Demir Şahin Çelik Yıldız Yıldırım Öztürk Aydın Özdemir Arslan Doğan Kılıç Aslan
Çetin Kara Koç Kurt Özkan Şimşek Polat Korkmaz Karataş Erdoğan Güneş Akın`),
  },
  ja: {
    male: w(`Hiroshi Takashi Kenji Akira Makoto Takeshi Satoshi Yuki Kazuo Shigeru Masato Daisuke Kenta
Haruto Ren Sota Yuto Riku Toshiro Tatsuya Shun Ryo Hayato Kōji Shōta Yūsuke`),
    female: w(`Yoko Keiko Yuko Tomoko Naoko Akiko Yumi Kumiko Sachiko Mayumi Aoi Sakura Hina Yui Rin
Mio Haruka Misaki Nanami Ayaka Emi Rumi Mari Chieko Setsuko Yūko`),
    family: w(`Sato Suzuki Takahashi Tanaka Watanabe Ito Yamamoto Nakamura Kobayashi Kato Yoshida Yamada
Sasaki Yamaguchi Matsumoto Inoue Kimura Hayashi Shimizu Yamazaki Mori Abe Ikeda Hashimoto Ishikawa
Ogawa Okada Goto Hasegawa Murakami Kondo Ishii Saito Sakamoto Endo Aoki Fujii Nishimura Fukuda
Ōta Kurosawa Ozu Mifune Itō Kōno Ōshima Satō`),
  },
  ja_native: {
    familyFirst: true,
    joiner: '',
    male: w(`浩 隆 健二 明 誠 武 聡 雪 和夫 茂 大輔 健太 蓮 翔太 拓也 俊 亮 隼人`),
    female: w(`洋子 恵子 裕子 智子 直子 明子 由美 久美子 幸子 真由美 葵 さくら 陽菜 結衣 凛 美緒`),
    family: w(
      `佐藤 鈴木 高橋 田中 渡辺 伊藤 山本 中村 小林 加藤 吉田 山田 佐々木 山口 松本 井上 木村 林 清水 黒澤`,
    ),
  },
  ru: {
    male: w(`Aleksandr Sergey Vladimir Andrey Aleksey Dmitriy Nikolay Ivan Mikhail Yuriy Oleg Pavel
Viktor Igor Boris Anatoliy Evgeniy Konstantin Fyodor Pyotr`),
    female: w(`Elena Tatyana Olga Natalya Irina Svetlana Anna Mariya Lyudmila Galina Ekaterina Nadezhda
Yuliya Anastasiya Valentina Larisa Vera Lyubov Ksenia Darya`),
    family: w(`Ivanov Smirnov Kuznetsov Popov Vasilev Petrov Sokolov Mikhaylov Novikov Fyodorov Morozov
Volkov Alekseev Lebedev Semyonov Egorov Pavlov Kozlov Stepanov Nikolaev Orlov Andreev Makarov
Nikitin Zakharov Tarkovskiy Eisenstein`),
  },
  ru_native: {
    male: w(`Александр Сергей Владимир Андрей Алексей Дмитрий Николай Иван Михаил Юрий Олег Павел Фёдор`),
    female: w(`Елена Татьяна Ольга Наталья Ирина Светлана Анна Мария Людмила Галина Екатерина Юлия`),
    family: w(
      `Иванов Смирнов Кузнецов Попов Васильев Петров Соколов Михайлов Новиков Фёдоров Морозов Волков`,
    ),
  },
  ko: {
    male: w(`Min-jun Seo-jun Do-yun Ji-ho Ha-jun Joon-ho Sung-min Dong-hyun Jae-won Young-ho Sang-woo
Hyun-woo Tae-yang Kyung-soo Chan-wook Bong`),
    female: w(`Seo-yeon Ji-woo Ha-eun Min-seo Su-bin Ji-yeon Hye-jin Eun-ji Yoo-na So-yeon Ye-jin Da-eun
Jung-eun Hae-won Doona`),
    family: w(`Kim Lee Park Choi Jung Kang Cho Yoon Jang Lim Han Oh Seo Shin Kwon Hwang Ahn Song Jeon Hong`),
  },
  ko_native: {
    familyFirst: true,
    joiner: '',
    male: w(`민준 서준 도윤 지호 하준 준호 성민 동현 재원 영호`),
    female: w(`서연 지우 하은 민서 수빈 지연 혜진 은지 유나 소연`),
    family: w(`김 이 박 최 정 강 조 윤 장 임`),
  },
  hi: {
    male: w(`Amitabh Shah Rukh Salman Aamir Raj Rahul Vijay Ajay Akshay Arjun Rohan Vikram Sanjay Anil
Sunil Ramesh Suresh Mahesh Dev Karan Ranbir Ranveer Hrithik`),
    female: w(`Priya Aishwarya Deepika Kareena Madhuri Sridevi Rekha Kajol Anushka Priyanka Neha Pooja
Anjali Kavita Sunita Lakshmi Meera Radha Sita Geeta Shabana Vidya`),
    family: w(`Sharma Verma Gupta Singh Kumar Patel Shah Mehta Kapoor Khan Chopra Malhotra Joshi Reddy Rao
Iyer Nair Pillai Menon Bachchan Mukherjee Banerjee Chatterjee Das Bose Sen Agarwal Desai Kulkarni`),
  },
  hi_native: {
    male: w(`अमिताभ राज राहुल विजय अजय अर्जुन रोहन विक्रम संजय अनिल देव करण`),
    female: w(`प्रिया ऐश्वर्या दीपिका माधुरी रेखा काजोल नेहा पूजा अंजलि कविता मीरा राधा`),
    family: w(`शर्मा वर्मा गुप्ता सिंह कुमार पटेल शाह मेहता कपूर खान चोपड़ा जोशी`),
  },
  el: {
    male: w(`Giorgos Dimitris Konstantinos Ioannis Nikos Panagiotis Vasilis Christos Athanasios Michalis
Evangelos Spyros Theodoros Kostas Yannis`),
    female: w(`Maria Eleni Aikaterini Vasiliki Sofia Angeliki Georgia Dimitra Konstantina Paraskevi Anna
Christina Melina Irene`),
    family: w(`Papadopoulos Papadakis Georgiou Oikonomou Dimitriou Ioannou Konstantinou Nikolaou Vlachos
Angelopoulos Papageorgiou Makris Alexiou Karagiannis Mercouri`),
  },
  el_native: {
    male: w(`Γιώργος Δημήτρης Κωνσταντίνος Γιάννης Νίκος Παναγιώτης Βασίλης Χρήστος Μιχάλης`),
    female: w(`Μαρία Ελένη Αικατερίνη Βασιλική Σοφία Αγγελική Γεωργία Δήμητρα Άννα Μελίνα`),
    family: w(`Παπαδόπουλος Παπαδάκης Γεωργίου Οικονόμου Δημητρίου Ιωάννου Νικολάου Βλάχος`),
  },
  ar: {
    male: w(`Mohamed Ahmed Mahmoud Mostafa Ali Omar Hassan Hussein Youssef Khaled Ibrahim Amr Karim Tarek
Adel Sherif Nour Hany`),
    female: w(`Fatma Mona Nadia Yasmine Hala Laila Salma Nour Rania Dina Heba Sara Amira Faten Soad`),
    family: w(`El-Sayed Abdel-Rahman Hassan Hussein Ibrahim Mahmoud Mostafa Said Farouk Sharif Hamama
Chahine El-Masry Zaki Fahmy Naguib`),
  },
  ar_native: {
    male: w(`محمد أحمد محمود مصطفى علي عمر حسن حسين يوسف خالد إبراهيم`),
    female: w(`فاطمة منى نادية ياسمين هالة ليلى سلمى نور رانيا دينا`),
    family: w(`السيد عبد الرحمن حسن حسين إبراهيم محمود مصطفى سعيد فاروق شريف`),
  },
  zh: {
    male: w(`Wei Jun Lei Yang Hao Ming Jian Tao Qiang Jie Bin Chao Gang Peng Yong Zhi Jet Tony Andy Stephen`),
    female: w(`Fang Jing Li Min Ying Yan Hong Xia Hui Lan Mei Juan Na Ling Gong Zhang Maggie Michelle`),
    family: w(
      `Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Lin Gao Luo Leung Wong Chan`,
    ),
  },
  zh_native: {
    familyFirst: true,
    joiner: '',
    male: w(`伟 军 磊 洋 浩 明 建 涛 强 杰 斌 超 刚 鹏 勇`),
    female: w(`芳 静 丽 敏 英 燕 红 霞 慧 兰 梅 娟 娜 玲`),
    family: w(`王 李 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱`),
  },
}

/** Weighted cultures of people, with the share of them written in their own script. */
export const NAME_CULTURES: readonly (readonly [culture: string, weight: number, nativeShare: number])[] = [
  ['en', 52, 0],
  ['fr', 6, 0],
  ['de', 5, 0],
  ['es', 7, 0],
  ['it', 3, 0],
  ['pt', 3, 0],
  ['tr', 1.5, 0],
  ['ja', 5, 0.15],
  ['hi', 6, 0.08],
  ['ru', 3, 0.15],
  ['ko', 2.5, 0.15],
  ['zh', 3, 0.15],
  ['el', 1, 0.15],
  ['ar', 1.5, 0.1],
]

/** Nicknames quoted inside names, as in `Jack "Dusty" O'Brien`. */
export const NICKNAMES: readonly string[] = w(`Dusty Buddy Red Lucky Slim Doc Ace Bubba Sonny Tex Smokey
Babe Duke Kid Chip Skip Spike Boom-Boom Mad-Dog Big Little Weird`)

// ---------------------------------------------------------------------------------------------
// Characters in title.principals.

export const ROLES: readonly string[] = w(`Doctor Nurse Police_Officer Waitress Bartender Soldier Reporter
Detective Sheriff Priest Student Teacher Driver Guard Nurse Receptionist Lawyer Judge Mother Father
Girl Boy Man Woman Old_Man Old_Woman Young_Man Young_Woman Cop Agent Thug Henchman Pilot Captain
Scientist Professor Narrator Singer Dancer Waiter Clerk Customer Passenger Neighbor Victim Killer
Bride Groom King Queen Prince Princess Stranger Villager Prisoner Warden Host Guest Himself Herself`).map(
  (r) => r.replace('_', ' '),
)

export const ROLE_SUFFIXES: readonly string[] = [
  ' #1',
  ' #2',
  ' #3',
  ' (voice)',
  ' (uncredited)',
  ' (as a child)',
]

export const SELF_CHARACTERS: readonly (readonly [string, number])[] = [
  ['Self', 60],
  ['Self - Host', 8],
  ['Self - Guest', 14],
  ['Self - Contestant', 5],
  ['Self - Narrator', 2],
  ['Self - Panelist', 3],
  ['Self - Musical Guest', 2],
  ['Self - Judge', 1.5],
  ['Self - Interviewee', 4],
  ['Self - Co-Host', 1.5],
]

export const WRITER_JOBS: readonly (readonly [string, number])[] = [
  ['\\N', 40],
  ['screenplay', 14],
  ['written by', 12],
  ['story', 8],
  ['novel', 5],
  ['teleplay', 5],
  ['created by', 5],
  ['characters', 3],
  ['based on the novel by', 2],
  ['writer', 4],
  ['screenplay by', 2],
]

export const PRODUCER_JOBS: readonly (readonly [string, number])[] = [
  ['producer', 50],
  ['executive producer', 30],
  ['co-producer', 8],
  ['associate producer', 6],
  ['line producer', 4],
  ['co-executive producer', 2],
]
