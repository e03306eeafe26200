import type { Migration, Migrator } from 'kysely'
import { UsersSchemaTooNewError } from './store.js'

/**
 * What the user store's migrations share on every backend. Migration names start with a
 * zero-padded version (`0001_...`); each backend keeps the same versions with its own DDL.
 */

/** `0003_add_x` -> 3 */
export function versionOf(name: string): number {
  const m = /^(\d+)_/.exec(name)
  if (!m) throw new Error(`migration name "${name}" does not start with a version number`)
  return Number(m[1])
}

/** The newest version among `migrations`: the schema version they bring a store to. */
export function schemaVersion(migrations: Record<string, Migration>): number {
  return Math.max(...Object.keys(migrations).map(versionOf))
}

/**
 * Refuses a recorded history with migrations `known` lacks: from a newer marquee when one has a
 * newer version, otherwise from something that is not marquee (or an edited history).
 * `label` names the store in the messages: its file, or its PostgreSQL schema.
 */
export function refuseUnknownHistory(
  recorded: readonly string[],
  known: Record<string, Migration>,
  store: { noun: 'database' | 'schema'; label: string },
): void {
  const unknown = recorded.filter((name) => !(name in known))
  if (unknown.length === 0) return
  const supported = schemaVersion(known)
  const versions = unknown.filter((name) => /^\d+_/.test(name)).map(versionOf)
  const newest = versions.length > 0 ? Math.max(...versions) : 0
  if (newest > supported) throw new UsersSchemaTooNewError(store.label, newest, supported)
  throw new Error(
    `the user ${store.noun} ${store.label} records migrations this marquee does not know (${unknown.join(', ')}); ` +
      'it was not written by marquee, or its history was edited',
  )
}

/** Applies the pending migrations; the names of those it applied. */
export async function migrateToLatest(migrator: Migrator): Promise<string[]> {
  const { error, results } = await migrator.migrateToLatest()
  if (error) throw error
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName)
}
