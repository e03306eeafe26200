import type { Kysely } from 'kysely'
import { formatId } from '../../datasets/catalogue.js'
import type { DatasetDB } from '../types.js'

/** The Kysely handle every query function takes first; `dialectOf(db)` (src/db/dialect.ts) is its backend. */
export type DB = Kysely<DatasetDB>

export const tt = (n: number) => formatId('tt', n)
export const nm = (n: number) => formatId('nm', n)

/** "Drama,Romance" -> ["Drama", "Romance"]; null -> []. */
export function splitList(value: string | null, sep = ','): string[] {
  if (value === null || value === '') return []
  return value.split(sep)
}

/** A principals `characters` JSON array, tolerant of malformed input (kept as one string). */
export function parseCharacters(value: string | null): string[] {
  if (value === null || value === '') return []
  try {
    const parsed: unknown = JSON.parse(value)
    if (Array.isArray(parsed)) return parsed.map(String)
    return [String(parsed)]
  } catch {
    return [value]
  }
}

export function bool(value: number | null): boolean | null {
  return value === null ? null : value !== 0
}
