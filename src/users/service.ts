import { existsSync } from 'node:fs'
import path from 'node:path'
import type { UserResolver } from './api-keys.js'
import { openUserStore } from './open.js'
import { storeResolver } from './resolver.js'
import { SqliteTitleLookup } from './sqlite/title-lookup.js'
import type { UserStore } from './store.js'
import type { TitleLookup } from './title-lookup.js'

export interface UsersServiceOptions {
  usersDbPath: string
  /** The dataset database, for title lookups. */
  datasetDbPath: string
  /** How long a resolved key is trusted: a revoked key stops working within this. */
  keyCacheTtlMs?: number
}

/**
 * The server's handle on the user store. The store opens on first need and only if its file exists
 * (`marquee keys create` creates it), so a server whose users never touch personal data creates
 * nothing; `store({ create: true })` creates it. Title lookups run against the dataset.
 */
export class UsersService {
  readonly file: string
  readonly resolver: UserResolver & { clear(): void }
  readonly titles: TitleLookup & { close(): Promise<void> }
  #store: Promise<UserStore> | null = null
  #closed = false

  constructor(opts: UsersServiceOptions) {
    this.file = path.resolve(opts.usersDbPath)
    this.resolver = storeResolver(() => this.store(), { ttlMs: opts.keyCacheTtlMs })
    this.titles = new SqliteTitleLookup(opts.datasetDbPath)
  }

  /** The store, or null while its file does not exist (and `create` is not set). */
  store(opts: { create?: boolean } = {}): Promise<UserStore | null> {
    if (this.#closed) return Promise.reject(new Error('the users service is closed'))
    if (this.#store) return this.#store
    if (!opts.create && !existsSync(this.file)) return Promise.resolve(null)
    const opening = openUserStore(this.file, { create: true })
    this.#store = opening
    opening.catch(() => {
      if (this.#store === opening) this.#store = null
    })
    return opening
  }

  async close(): Promise<void> {
    this.#closed = true
    const store = await this.#store?.catch(() => null)
    await store?.close()
    await this.titles.close()
  }
}
