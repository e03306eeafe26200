import { existsSync } from 'node:fs'
import path from 'node:path'
import type { FastifyRequest } from 'fastify'
import type { UserResolver } from './api-keys.js'
import { datasetTitleLookup } from './dataset-title-lookup.js'
import { openUserStore } from './open.js'
import { usersSchemaExists } from './postgres/store.js'
import { storeResolver } from './resolver.js'
import type { UserStore } from './store.js'
import type { TitleLookup } from './title-lookup.js'

export interface UsersServiceOptions {
  usersDbPath: string
  /** PostgreSQL instead of the SQLite file: the store lives in the `<schemaPrefix>_users` schema there. */
  databaseUrl?: string | null
  schemaPrefix?: string
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
  readonly #postgres: { url: string; schemaPrefix?: string } | null
  /** PostgreSQL: whether the user schema exists, checked at most every few seconds. */
  #exists: { value: Promise<boolean>; until: number } | null = null

  constructor(opts: UsersServiceOptions) {
    this.file = path.resolve(opts.usersDbPath)
    this.#postgres = opts.databaseUrl ? { url: opts.databaseUrl, schemaPrefix: opts.schemaPrefix } : null
    this.resolver = storeResolver(() => this.store(), { ttlMs: opts.keyCacheTtlMs })
    this.titlesFor = opts.titleLookup ?? datasetTitleLookup
  }

  /**
   * The store, or null while its file (on PostgreSQL: its schema) does not exist and `create` is not
   * set. A server on a read-only replica thus starts without writing anything.
   */
  store(opts: { create?: boolean } = {}): Promise<UserStore | null> {
    if (this.#closed) return Promise.reject(new Error('the users service is closed'))
    if (this.#store) return this.#store
    const pg = this.#postgres
    if (pg && !opts.create) {
      return this.#schemaExists(pg.url, pg.schemaPrefix).then((exists) =>
        exists ? this.store({ create: true }) : null,
      )
    }
    if (!pg && !opts.create && !existsSync(this.file)) return Promise.resolve(null)
    const opening = pg
      ? openUserStore(pg.url, { schemaPrefix: pg.schemaPrefix })
      : openUserStore(this.file, { create: true })
    this.#store = opening
    opening.catch(() => {
      if (this.#store === opening) this.#store = null
    })
    return opening
  }

  #schemaExists(url: string, schemaPrefix?: string): Promise<boolean> {
    const now = Date.now()
    if (this.#exists && now < this.#exists.until) return this.#exists.value
    const value = usersSchemaExists(url, schemaPrefix)
    this.#exists = { value, until: now + 2000 }
    value.catch(() => {
      this.#exists = null
    })
    return value
  }

  async close(): Promise<void> {
    this.#closed = true
    const store = await this.#store?.catch(() => null)
    await store?.close()
  }
}
