/**
 * GET /changes: the change history recorded with each generation (src/db/history.ts), read the same
 * way on SQLite (tables in the dataset file) and PostgreSQL (views of the control schema's tables in
 * every generation schema).
 */

import { sql } from 'kysely'
import { formatId } from '../../datasets/catalogue.js'
import { type ChangeCounts, type ChangeKind, ENTITY_SPECS, type HistoryEntity } from '../history.js'
import type { DB } from './sql.js'

/** A generation of the history: a `since` a client may ask from. */
export interface HistoryGeneration {
  seq: number
  generation: string
  /** The generation its changes are against (null: its changes are not recorded). */
  previous: string | null
  madeAt: string
  /** Its change counts per entity; null when not recorded (the first generation kept). */
  counts: ChangeCounts | null
}

/**
 * The generations of the history, oldest first, up to `upTo` (the generation the handle reads: on
 * PostgreSQL the history is shared, and may hold a newer one). Empty when no history is kept (a
 * database made before it was).
 */
export async function changeGenerations(db: DB, upTo: string): Promise<HistoryGeneration[]> {
  let rows: {
    seq: number
    generation: string
    previous: string | null
    made_at: string
    counts: string | null
  }[]
  try {
    rows = (
      await sql<(typeof rows)[number]>`SELECT seq, generation, previous, made_at, counts
        FROM history_generations ORDER BY seq`.execute(db)
    ).rows
  } catch (err) {
    // SQLITE_ERROR no such table / 42P01: a generation made before histories were kept.
    if (/no such table|does not exist/.test((err as Error).message)) return []
    throw err
  }
  const out: HistoryGeneration[] = []
  for (const r of rows) {
    out.push({
      seq: Number(r.seq),
      generation: r.generation,
      previous: r.previous,
      madeAt: r.made_at,
      counts: r.counts === null ? null : (JSON.parse(r.counts) as ChangeCounts),
    })
    if (r.generation === upTo) return out
  }
  // The generation read is not in the history: nothing of it can be trusted.
  return []
}

export type ChangeValue = string | number | boolean | null

export interface ChangeEntry {
  /** The generation whose change this is. */
  generation: string
  entity: HistoryEntity
  /** `tt…` (titles, ratings, episode links, alternate titles, credits) or `nm…` (people). */
  id: string
  /** The alternate title's or credit's position in its title's list; null for the others. */
  ordering: number | null
  kind: ChangeKind
  /** The type of the title the entry belongs to (null for people). */
  titleType: string | null
  /** Added: every field's value (old null); changed: the fields that changed; removed: none. */
  fields: { name: string; old: ChangeValue; new: ChangeValue }[]
}

export interface ChangeFilter {
  /** Changes of generations after this sequence number... */
  afterSeq: number
  /** ...up to this one. */
  toSeq: number
  /** Keyset: changes after this change number. */
  afterN: number
  limit: number
  kinds?: readonly ChangeKind[]
  entities?: readonly HistoryEntity[]
  titleTypes?: readonly string[]
}

export interface ChangePage {
  items: ChangeEntry[]
  /** The change number to continue after, or null on the last page. */
  next: number | null
}

const ID_FIELDS: Record<string, 'tt' | 'nm'> = { parentId: 'tt', nameId: 'nm' }
const FLAG_FIELDS = new Set(['isAdult', 'isOriginalTitle'])

function apiValue(name: string, v: unknown): ChangeValue {
  if (v === null || v === undefined) return null
  if (ID_FIELDS[name] && typeof v === 'number') return formatId(ID_FIELDS[name], v)
  if (FLAG_FIELDS.has(name) && typeof v === 'number') return v !== 0
  return v as ChangeValue
}

function fieldsOf(entity: HistoryEntity, kind: ChangeKind, data: string | null): ChangeEntry['fields'] {
  if (data === null || kind === 'removed') return []
  const parsed = JSON.parse(data) as Record<string, unknown>
  const out: ChangeEntry['fields'] = []
  // In the entity's field order, whatever order the JSON was written in.
  for (const [, name] of ENTITY_SPECS[entity].fields) {
    if (!(name in parsed)) continue
    const v = parsed[name]
    if (kind === 'added') out.push({ name, old: null, new: apiValue(name, v) })
    else {
      const [o, n] = v as [unknown, unknown]
      out.push({ name, old: apiValue(name, o), new: apiValue(name, n) })
    }
  }
  return out
}

/** One page of the changes of generations (afterSeq, toSeq], in change order. */
export async function listChanges(db: DB, f: ChangeFilter): Promise<ChangePage> {
  const where = [sql`h.seq > ${f.afterSeq}`, sql`h.seq <= ${f.toSeq}`, sql`h.n > ${f.afterN}`]
  if (f.kinds?.length) where.push(sql`h.kind IN (${sql.join(f.kinds)})`)
  if (f.entities?.length) where.push(sql`h.entity IN (${sql.join(f.entities)})`)
  if (f.titleTypes?.length) where.push(sql`h.title_type IN (${sql.join(f.titleTypes)})`)
  const { rows } = await sql<{
    n: number | string
    generation: string
    entity: HistoryEntity
    id: number
    sub: number | null
    kind: ChangeKind
    title_type: string | null
    data: string | null
  }>`SELECT h.n, g.generation, h.entity, h.id, h.sub, h.kind, h.title_type, h.data
    FROM history_changes h JOIN history_generations g ON g.seq = h.seq
    WHERE ${sql.join(where, sql` AND `)}
    ORDER BY h.n LIMIT ${f.limit + 1}`.execute(db)
  const more = rows.length > f.limit
  const page = more ? rows.slice(0, f.limit) : rows
  return {
    items: page.map((r) => ({
      generation: r.generation,
      entity: r.entity,
      id: formatId(r.entity === 'person' ? 'nm' : 'tt', r.id),
      ordering: r.sub,
      kind: r.kind,
      titleType: r.title_type,
      fields: fieldsOf(r.entity, r.kind, r.data),
    })),
    next: more ? Number(page[page.length - 1].n) : null,
  }
}
