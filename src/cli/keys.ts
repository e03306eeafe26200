import { loadConfig } from '../config.js'
import { hashApiKey, newApiKey } from '../users/api-keys.js'
import { openUserStore } from '../users/open.js'
import { nowIso, type UserStore } from '../users/store.js'
import type { Role } from '../users/user.js'
import { EXIT } from './exit-codes.js'
import { settingsFrom } from './options.js'

/**
 * The user store of the command's settings (`--users-db`, MARQUEE_USERS_DB, or next to the dataset;
 * or `--database-url`).
 */
async function withStore(
  opts: Record<string, unknown>,
  create: boolean,
  fn: (store: UserStore, file: string) => Promise<number>,
): Promise<number> {
  const config = loadConfig(settingsFrom(opts))
  // With a database URL, the keys live in PostgreSQL (as the server's, selected by the same URL).
  const file = config.databaseUrl ?? config.usersDbPath
  let store: UserStore
  try {
    store = await openUserStore(file, { create, inline: true, schemaPrefix: config.databaseSchema })
  } catch (err) {
    process.stderr.write(`marquee keys: ${(err as Error).message}\n`)
    return EXIT.FAILURE
  }
  try {
    return await fn(store, file)
  } finally {
    await store.close()
  }
}

/** `marquee keys create --name NAME [--role ROLE]`: prints the new key once, on stdout. */
export async function create(opts: Record<string, unknown>): Promise<number> {
  const name = String(opts.name).trim()
  const role = (opts.role ?? 'user') as Role
  if (name === '') {
    process.stderr.write('marquee keys create: --name must not be empty\n')
    return EXIT.USAGE
  }
  return withStore(opts, true, async (store, file) => {
    const key = newApiKey()
    const rec = await store.createKey({ name, role, keyHash: hashApiKey(key), at: nowIso() })
    process.stderr.write(
      `Created key ${rec.id} for "${rec.name}" (role ${rec.role}) in ${file}.\n` +
        'This is the only time the key is shown: only its SHA-256 is stored.\n',
    )
    process.stdout.write(`${key}\n`)
    return EXIT.OK
  })
}

/** `marquee keys list [--json]` */
export async function list(opts: Record<string, unknown>): Promise<number> {
  return withStore(opts, false, async (store) => {
    const keys = await store.listKeys()
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(keys, null, 2)}\n`)
      return EXIT.OK
    }
    const rows = [
      ['ID', 'NAME', 'ROLE', 'CREATED', 'REVOKED'],
      ...keys.map((k) => [String(k.id), k.name, k.role, k.createdAt, k.revokedAt ?? '-']),
    ]
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
    for (const r of rows)
      process.stdout.write(
        `${r
          .map((c, i) => c.padEnd(widths[i]))
          .join('  ')
          .trimEnd()}\n`,
      )
    return EXIT.OK
  })
}

/** `marquee keys revoke ID`: the key stops working within seconds, on running servers too. */
export async function revoke(opts: Record<string, unknown>): Promise<number> {
  const id = opts.id as number
  return withStore(opts, false, async (store) => {
    const result = await store.revokeKey(id, nowIso())
    if (!result) {
      process.stderr.write(`marquee keys revoke: there is no key ${id}\n`)
      return EXIT.FAILURE
    }
    const { key, alreadyRevoked } = result
    process.stderr.write(
      alreadyRevoked
        ? `Key ${key.id} ("${key.name}") was already revoked at ${key.revokedAt}.\n`
        : `Revoked key ${key.id} ("${key.name}"); running servers stop accepting it within seconds.\n`,
    )
    return EXIT.OK
  })
}
