import { hashApiKey, type UserResolver } from './api-keys.js'
import type { KeyStore, StoreUser } from './store.js'

export interface StoreResolverOptions {
  /** How long a user found by key is reused: a revoked key stops working within this. */
  ttlMs?: number
  /** Cached keys at most (oldest dropped first), so random keys cannot grow memory. */
  maxEntries?: number
}

/**
 * Resolves keys against the user store, through a short cache of the users found: a request costs a
 * hash and a map lookup, the store sees each known key at most once per `ttlMs` (concurrent lookups
 * of one key share a query), and a key revoked by `marquee keys revoke` (any process) stops working
 * within `ttlMs`.
 * `store()` yields null while there is no user database: then no key is known.
 */
export function storeResolver(
  store: () => Promise<KeyStore | null>,
  opts: StoreResolverOptions = {},
): UserResolver & { clear(): void } {
  const ttl = opts.ttlMs ?? 2000
  const max = opts.maxEntries ?? 10_000
  const cache = new Map<string, { user: StoreUser; expires: number }>()
  const inflight = new Map<string, Promise<StoreUser | null>>()

  const lookup = async (hash: string): Promise<StoreUser | null> => {
    const s = await store()
    const user = s ? await s.userByKeyHash(hash) : null
    cache.delete(hash)
    // Unknown keys are not kept: random keys would push real ones out (they are rate-limited per
    // address instead, see AuthFailures).
    if (user === null) return null
    cache.set(hash, { user, expires: Date.now() + ttl })
    if (cache.size > max) cache.delete(cache.keys().next().value as string)
    return user
  }

  return {
    async resolve(key) {
      const hash = hashApiKey(key)
      const hit = cache.get(hash)
      if (hit && hit.expires > Date.now()) return hit.user
      let p = inflight.get(hash)
      if (!p) {
        p = lookup(hash).finally(() => inflight.delete(hash))
        inflight.set(hash, p)
      }
      return p
    },
    clear: () => cache.clear(),
  }
}

/** Tries each resolver in turn: the first that knows the key wins. */
export function anyResolver(...resolvers: UserResolver[]): UserResolver {
  return {
    async resolve(key) {
      for (const r of resolvers) {
        const user = await r.resolve(key)
        if (user) return user
      }
      return null
    },
    async close() {
      for (const r of resolvers) await r.close?.()
    },
  }
}
