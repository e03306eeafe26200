import { existsSync } from 'node:fs'
import path from 'node:path'
import type { FastifyRequest } from 'fastify'
import type { UserResolver } from './api-keys.js'
import { datasetTitleLookup } from './dataset-title-lookup.js'
import { openUserStore } from './open.js'
import { storeResolver } from './resolver.js'
import type { UserStore } from './store.js'
import type { TitleLookup } from './title-lookup.js'

export interface UsersServiceOptions {
  usersDbPath: string
  /** Where the titles of a request come from (tests may substitute); default: the dataset service. */
  titleLookup?: (request: FastifyRequest) => TitleLookup
  /** How long a resolved key is trusted: a revoked key stops working within this. */
  keyCacheTtlMs?: number
}

/**
 * The server's handle on the user store. The store opens on first need and only if its file exists
 * (`marquee keys create` creates it), so a server whose users never touch personal data creates
 * nothing; `store({ create: true })` creates it. Titles come from the request's dataset handle.
 */
export class UsersService {
  readonly file: string
  readonly resolver: UserResolver & { clear(): void }
  /** The title lookup of a request: ids that exist, and the facts shown next to personal entries. */
  readonly titlesFor: (request: FastifyRequest) => TitleLookup
  #store: Promise<UserStore> | null = null
  #closed = false

  constructor(opts: UsersServiceOptions) {
    this.file = path.resolve(opts.usersDbPath)
    this.resolver = storeResolver(() => this.store(), { ttlMs: opts.keyCacheTtlMs })
    this.titlesFor = opts.titleLookup ?? datasetTitleLookup
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
  }
}
