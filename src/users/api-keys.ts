import { createHash, randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import type { Role, User } from './user.js'

/** Turns an API key into the user it belongs to; the one interface the request context uses. */
export interface UserResolver {
  /** The user of `key`, or null when the key is unknown or revoked. */
  resolve(key: string): Promise<User | null>
  close?(): Promise<void>
}

export const ROLES: readonly Role[] = ['user', 'analyst', 'admin']

/** Keys are long random strings, so a plain SHA-256 is the right hash: no salt or slow KDF is needed. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex')
}

export function newApiKey(): string {
  return 'mq_' + randomBytes(24).toString('base64url')
}

interface KeyFileEntry {
  id?: string
  name: string
  role: Role
  sha256: string
}

/**
 * Keys from a JSON file: `[{ "name": "alice", "role": "admin", "sha256": "<hex of the key's SHA-256>" }]`.
 * Read once at start; the file never holds a key itself.
 */
export async function keysFileResolver(file: string): Promise<UserResolver> {
  let entries: unknown
  try {
    entries = JSON.parse(await readFile(file, 'utf8'))
  } catch (err) {
    throw new Error(`cannot read API keys file ${file}: ${(err as Error).message}`)
  }
  if (!Array.isArray(entries)) throw new Error(`API keys file ${file}: expected a JSON array of keys`)
  const byHash = new Map<string, User>()
  entries.forEach((raw: Partial<KeyFileEntry>, i) => {
    const where = `API keys file ${file}, entry ${i}`
    if (typeof raw?.name !== 'string' || raw.name === '')
      throw new Error(`${where}: "name" must be a non-empty string`)
    if (!ROLES.includes(raw.role as Role))
      throw new Error(`${where}: "role" must be one of ${ROLES.join(', ')}`)
    if (typeof raw.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(raw.sha256)) {
      throw new Error(`${where}: "sha256" must be the 64 hex digits of the key's SHA-256`)
    }
    byHash.set(raw.sha256, { id: raw.id ?? raw.name, name: raw.name, role: raw.role as Role })
  })
  return { resolve: async (key) => byHash.get(hashApiKey(key)) ?? null }
}

/** No keys configured: every key is unknown. */
export const noKeysResolver: UserResolver = { resolve: async () => null }
