/**
 * The change history behind GET /changes: for every generation, the rows that were added, removed
 * or changed against the generation before it, per entity of the API (title, person, rating,
 * episode link, alternate title, credit). Written once per generation, inside the build of that
 * generation (before its rename or swap), by the refresh (src/update/history.ts, from the keys its
 * file diffs touched) and by the ingest (src/ingest/history.ts, against the previous generation).
 *
 * Storage, on both backends the same two tables:
 * - `history_generations`: one row per generation still available as a `since`: its sequence
 *   number, id, the generation before it, when it was made, and its change counts (JSON; null for a
 *   generation whose changes are not known: the first one, or one after a reset).
 * - `history_changes`: one row per changed entity: `n` (a number increasing across generations:
 *   the order of the feed and its keyset), `seq`, entity, id (and `sub`, the ordering of an
 *   alternate title or credit), kind, the title type of the title it belongs to (the `type`
 *   filter), and `data`: for an added row its values, for a changed one the changed fields as
 *   `[old, new]`, both compact JSON text; null for a removed one.
 *
 * SQLite keeps them in the dataset file (so the history swaps with the data, and every new file
 * carries the retained rows forward); PostgreSQL in the control schema, with a view of each in
 * every generation schema, so the query functions read them alike.
 */

export type HistoryEntity = 'title' | 'rating' | 'person' | 'episode' | 'aka' | 'credit'
export type ChangeKind = 'added' | 'removed' | 'changed'

export const HISTORY_ENTITIES: readonly HistoryEntity[] = [
  'title',
  'rating',
  'person',
  'episode',
  'aka',
  'credit',
]
export const CHANGE_KINDS: readonly ChangeKind[] = ['added', 'removed', 'changed']

/** How an entity is read from a generation's tables. */
export interface EntitySpec {
  readonly table: 'titles' | 'names' | 'episodes' | 'akas' | 'principals'
  /** The key: `id`, or `title_id, ordering` (then `sub` is the ordering). */
  readonly key: readonly [string] | readonly [string, string]
  /** The compared columns, with the name the API gives each. */
  readonly fields: readonly (readonly [column: string, api: string])[]
  /** Rows of the table that are this entity (a rating: a title with one). */
  readonly where?: (alias: string) => string
  /** The column holding the title id whose type the `type` filter reads (none: people). */
  readonly titleId?: string
}

export const ENTITY_SPECS: Record<HistoryEntity, EntitySpec> = {
  title: {
    table: 'titles',
    key: ['id'],
    titleId: 'id',
    fields: [
      ['title_type', 'titleType'],
      ['primary_title', 'primaryTitle'],
      ['original_title', 'originalTitle'],
      ['is_adult', 'isAdult'],
      ['start_year', 'startYear'],
      ['end_year', 'endYear'],
      ['runtime_minutes', 'runtimeMinutes'],
      ['genres', 'genres'],
    ],
  },
  rating: {
    table: 'titles',
    key: ['id'],
    titleId: 'id',
    fields: [
      ['average_rating', 'rating'],
      ['num_votes', 'votes'],
    ],
    where: (a) => `${a}.average_rating IS NOT NULL`,
  },
  person: {
    table: 'names',
    key: ['id'],
    fields: [
      ['primary_name', 'primaryName'],
      ['birth_year', 'birthYear'],
      ['death_year', 'deathYear'],
      ['primary_profession', 'primaryProfession'],
      ['known_for_titles', 'knownForTitles'],
    ],
  },
  episode: {
    table: 'episodes',
    key: ['id'],
    titleId: 'id',
    fields: [
      ['parent_id', 'parentId'],
      ['season_number', 'seasonNumber'],
      ['episode_number', 'episodeNumber'],
    ],
  },
  aka: {
    table: 'akas',
    key: ['title_id', 'ordering'],
    titleId: 'title_id',
    fields: [
      ['title', 'title'],
      ['region', 'region'],
      ['language', 'language'],
      ['types', 'types'],
      ['attributes', 'attributes'],
      ['is_original_title', 'isOriginalTitle'],
    ],
  },
  credit: {
    table: 'principals',
    key: ['title_id', 'ordering'],
    titleId: 'title_id',
    fields: [
      ['name_id', 'nameId'],
      ['category', 'category'],
      ['job', 'job'],
      ['characters', 'characters'],
    ],
  },
}

export type HistoryDialect = 'sqlite' | 'postgres'

/** How long the history is kept: the newest `generations` change sets, none older than `days`. */
export interface HistoryRetention {
  generations: number
  /** 0: no limit by age. */
  days: number
}

export const DEFAULT_RETENTION: HistoryRetention = { generations: 7, days: 0 }

/** Per entity: rows added, removed, changed. */
export type ChangeCounts = Partial<Record<HistoryEntity, { added: number; removed: number; changed: number }>>

/** What a generation's manifest says of its changes (`manifest.changes`). */
export interface ManifestChanges {
  /** The generation the counts are against. */
  since: string
  counts: ChangeCounts
}

/** A generation id: `20250101T000000000Z-0123456789ab` (sortable by time). */
export const GENERATION_PATTERN = '^[0-9]{8}T[0-9]{9}Z-[0-9a-f]{12}$'

/** The DDL of the history tables; `ns` qualifies them (`prefix.` on PostgreSQL, '' or `main.`). */
export function historyDdl(dialect: HistoryDialect, ns = ''): string[] {
  const n =
    dialect === 'sqlite' ? 'n INTEGER PRIMARY KEY' : 'n bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY'
  const text = dialect === 'sqlite' ? 'TEXT' : 'text COLLATE "C"'
  return [
    `CREATE TABLE IF NOT EXISTS ${ns}history_generations (
      seq integer PRIMARY KEY,
      generation ${text} NOT NULL UNIQUE,
      previous ${text},
      made_at ${text} NOT NULL,
      counts ${text}
    )`,
    `CREATE TABLE IF NOT EXISTS ${ns}history_changes (
      ${n},
      seq integer NOT NULL,
      entity ${text} NOT NULL,
      id integer NOT NULL,
      sub integer,
      kind ${text} NOT NULL,
      title_type ${text},
      data ${text}
    )`,
    `CREATE INDEX IF NOT EXISTS ${dialect === 'sqlite' ? ns : ''}history_changes_by_seq ON ${dialect === 'sqlite' ? '' : ns}history_changes (seq)`,
  ]
}

/** `[a, b]` as JSON text. */
function jsonPair(d: HistoryDialect, a: string, b: string): string {
  return d === 'sqlite' ? `json_array(${a}, ${b})` : `json_build_array(${a}, ${b})::text`
}

function distinct(d: HistoryDialect, a: string, b: string): string {
  return d === 'sqlite' ? `${a} IS NOT ${b}` : `${a} IS DISTINCT FROM ${b}`
}

function jsonObject(d: HistoryDialect, pairs: [string, string][]): string {
  const args = pairs.map(([k, v]) => `'${k}', ${v}`).join(', ')
  return d === 'sqlite' ? `json_object(${args})` : `json_build_object(${args})::text`
}

/**
 * The statements that record one entity's changes of generation `seq`: rows of `newNs` tables
 * against `oldNs` ones (`prev.` / `"schema".`), by key. With `keys` (a table of `id` or `id, sub`),
 * only those keys are compared: the refresh knows which rows its diffs touched.
 */
export function recordStatements(
  d: HistoryDialect,
  entity: HistoryEntity,
  opts: { seq: number; oldNs: string; newNs: string; into: string; keys?: string },
): string[] {
  const s = ENTITY_SPECS[entity]
  const { seq, oldNs, newNs, into, keys } = opts
  const [k1, k2] = s.key
  const on = (a: string, b: string) => `${a}.${k1} = ${b}.${k1}${k2 ? ` AND ${a}.${k2} = ${b}.${k2}` : ''}`
  const cond = (alias: string) => (s.where ? ` AND ${s.where(alias)}` : '')
  const sub = (a: string) => (k2 ? `${a}.${k2}` : 'CAST(NULL AS integer)')
  /**
   * `FROM` the table as `a`, or only its rows whose key is in `keys`: driven by the keys (CROSS
   * JOIN keeps SQLite from scanning the table and probing the keys instead).
   */
  const from = (table: string, a: string) =>
    keys ? `FROM ${keys} k CROSS JOIN ${table} ${a}` : `FROM ${table} ${a}`
  const keyCond = (a: string) => (keys ? ` AND ${a}.${k1} = k.id${k2 ? ` AND ${a}.${k2} = k.sub` : ''}` : '')
  const typeOf = (ns: string, a: string) =>
    s.titleId === undefined
      ? 'CAST(NULL AS text)'
      : s.table === 'titles'
        ? `${a}.title_type`
        : `(SELECT tt.title_type FROM ${ns}titles tt WHERE tt.id = ${a}.${s.titleId})`
  const changedData = `'{' || substr(${s.fields
    .map(
      ([c, api]) =>
        `(CASE WHEN ${distinct(d, `o.${c}`, `n.${c}`)} THEN ',"${api}":' || ${jsonPair(d, `o.${c}`, `n.${c}`)} ELSE '' END)`,
    )
    .join(' || ')}, 2) || '}'`
  const addedData = jsonObject(
    d,
    s.fields.map(([c, api]) => [api, `n.${c}`]),
  )
  const differs = s.fields.map(([c]) => distinct(d, `o.${c}`, `n.${c}`)).join(' OR ')
  const orderBy = `ORDER BY 1, 2`
  const cols = 'seq, entity, id, sub, kind, title_type, data'
  const fromNew = from(`${newNs}${s.table}`, 'n')
  const fromOld = from(`${oldNs}${s.table}`, 'o')
  return [
    // Added and changed, in key order.
    `INSERT INTO ${into}history_changes (${cols})
     SELECT ${seq}, '${entity}', x.id, x.sub, x.kind, x.title_type, x.data FROM (
       SELECT n.${k1} AS id, ${sub('n')} AS sub,
         CASE WHEN o.${k1} IS NULL THEN 'added' ELSE 'changed' END AS kind,
         ${typeOf(newNs, 'n')} AS title_type,
         CASE WHEN o.${k1} IS NULL THEN ${addedData} ELSE ${changedData} END AS data
       ${fromNew}
       LEFT JOIN ${oldNs}${s.table} o ON ${on('o', 'n')}${cond('o')}
       WHERE true${keyCond('n')}${cond('n')} AND (o.${k1} IS NULL OR ${differs})
       ${orderBy}
     ) x`,
    // Removed.
    `INSERT INTO ${into}history_changes (${cols})
     SELECT ${seq}, '${entity}', x.id, x.sub, 'removed', x.title_type, NULL FROM (
       SELECT o.${k1} AS id, ${sub('o')} AS sub, ${typeOf(oldNs, 'o')} AS title_type
       ${fromOld}
       WHERE true${keyCond('o')}${cond('o')}
         AND NOT EXISTS (SELECT 1 FROM ${newNs}${s.table} n WHERE ${on('n', 'o')}${cond('n')})
       ${orderBy}
     ) x`,
  ]
}

/**
 * SQLite, a whole generation against another: the statements that fill `keys` (`id` or `id, sub`)
 * with the key of every row of the entity that was added, removed or changed. Two EXCEPTs ordered by
 * the primary key, which SQLite runs as merges of the two tables' scans in key order (no probes, no
 * sort): a row equal in both files is read once on each side and left. recordStatements then
 * compares only those keys.
 */
export function changedKeysStatements(
  entity: HistoryEntity,
  opts: { oldNs: string; newNs: string; keys: string },
): string[] {
  const s = ENTITY_SPECS[entity]
  const cols = [...s.key, ...s.fields.map(([c]) => c)].join(', ')
  const where = s.where ? ` WHERE ${s.where('x')}` : ''
  const order = s.key.join(', ')
  const keyCols = s.key.join(', ')
  const side = (a: string, b: string) =>
    `INSERT OR IGNORE INTO ${opts.keys} SELECT ${keyCols} FROM (
       SELECT ${cols} FROM ${a}${s.table} x${where}
       EXCEPT SELECT ${cols} FROM ${b}${s.table} x${where}
       ORDER BY ${order}
     )`
  return [side(opts.newNs, opts.oldNs), side(opts.oldNs, opts.newNs)]
}

/** The change counts of generation `seq`, as JSON-ready counts. */
export function countsOf(
  rows: readonly { entity: string; kind: string; c: number | string }[],
): ChangeCounts {
  const counts: ChangeCounts = {}
  for (const e of HISTORY_ENTITIES) counts[e] = { added: 0, removed: 0, changed: 0 }
  for (const r of rows) {
    const c = counts[r.entity as HistoryEntity]
    if (c) c[r.kind as ChangeKind] = Number(r.c)
  }
  return counts
}

export const countsSql = (ns: string, seq: number) =>
  `SELECT entity, kind, count(*) AS c FROM ${ns}history_changes WHERE seq = ${seq} GROUP BY entity, kind`

/**
 * The statements that prune `ns`'s history down to `keep` (run after the new generation, `seq`,
 * is recorded, made at `now`): the newest `generations` change sets and the generation before the
 * oldest of them (the `since` they start from); with `days`, none made earlier than that.
 */
export function pruneStatements(ns: string, seq: number, keep: HistoryRetention, now: Date): string[] {
  const minSeq = seq - Math.max(1, keep.generations)
  const oldest = keep.days > 0 ? new Date(now.getTime() - keep.days * 86_400_000).toISOString() : null
  const byAge = oldest
    ? ` OR (seq < ${seq} AND seq < (SELECT coalesce(min(seq), ${seq}) FROM ${ns}history_generations WHERE made_at >= '${oldest}') - 1)`
    : ''
  return [
    `DELETE FROM ${ns}history_generations WHERE seq < ${minSeq}${byAge}`,
    `DELETE FROM ${ns}history_changes WHERE seq <= (SELECT min(seq) FROM ${ns}history_generations)`,
  ]
}
