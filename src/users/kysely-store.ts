import type { ControlledTransaction, Kysely } from 'kysely'
import { Gate } from './gate.js'
import type {
  ApiKeyRecord,
  BeginOptions,
  ImportChange,
  ImportCounts,
  Page,
  PageOptions,
  RatingEntry,
  StoreUser,
  TransactionStats,
  UserReads,
  UserStore,
  UserTransaction,
  UserWrites,
  WatchlistEntry,
} from './store.js'
import type { UsersDB } from './types.js'

/**
 * The user store over any Kysely dialect: every query here is portable SQL (row-value keysets,
 * ON CONFLICT upserts, RETURNING), so SQLite and PostgreSQL share it. A backend supplies two Kysely
 * instances: `reader` for committed reads (its own connection or pool, so reads never queue behind
 * a write transaction) and `writer` for writes and transactions.
 */
export interface KyselyUserStoreOptions {
  reader: Kysely<UsersDB>
  writer: Kysely<UsersDB>
  /** Write transactions open at once: 1 on SQLite (one writer); more on PostgreSQL. */
  maxWriters?: number
  /** Runs after both instances are destroyed. */
  onClose?: () => Promise<void>
}

/** Rows per statement in bulk writes: far below every backend's bound-parameter limit. */
const BULK_ROWS = 250

const n = (v: bigint | number | undefined | null): number => Number(v ?? 0)

function paged<T>(rows: T[], limit: number, cursorOf: (row: T) => { at: string; titleId: number }): Page<T> {
  const more = rows.length > limit
  if (more) rows.length = limit
  const last = rows[rows.length - 1]
  return { items: rows, next: more && last !== undefined ? cursorOf(last) : null }
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

/** Reads and writes of personal data over one Kysely handle (the reader, or a transaction). */
class Queries implements UserReads, UserWrites {
  constructor(protected readonly db: Kysely<UsersDB>) {}

  async watchlist(userId: number, { limit, after }: PageOptions): Promise<Page<WatchlistEntry>> {
    let q = this.db
      .selectFrom('watchlist as w')
      .leftJoin('ratings as r', (j) =>
        j.onRef('r.user_id', '=', 'w.user_id').onRef('r.title_id', '=', 'w.title_id'),
      )
      .select(['w.title_id', 'w.added_at', 'r.rating'])
      .where('w.user_id', '=', userId)
    if (after) {
      q = q.where((eb) => eb(eb.refTuple('w.added_at', 'w.title_id'), '<', eb.tuple(after.at, after.titleId)))
    }
    const rows = await q
      .orderBy('w.added_at', 'desc')
      .orderBy('w.title_id', 'desc')
      .limit(limit + 1)
      .execute()
    return paged(
      rows.map((r) => ({ titleId: r.title_id, addedAt: r.added_at, rating: r.rating })),
      limit,
      (e) => ({ at: e.addedAt, titleId: e.titleId }),
    )
  }

  async watchlistEntry(userId: number, titleId: number): Promise<WatchlistEntry | null> {
    const r = await this.db
      .selectFrom('watchlist as w')
      .leftJoin('ratings as r', (j) =>
        j.onRef('r.user_id', '=', 'w.user_id').onRef('r.title_id', '=', 'w.title_id'),
      )
      .select(['w.title_id', 'w.added_at', 'r.rating'])
      .where('w.user_id', '=', userId)
      .where('w.title_id', '=', titleId)
      .executeTakeFirst()
    return r ? { titleId: r.title_id, addedAt: r.added_at, rating: r.rating } : null
  }

  async ratings(userId: number, { limit, after }: PageOptions): Promise<Page<RatingEntry>> {
    let q = this.db
      .selectFrom('ratings as r')
      .leftJoin('watchlist as w', (j) =>
        j.onRef('w.user_id', '=', 'r.user_id').onRef('w.title_id', '=', 'r.title_id'),
      )
      .select(['r.title_id', 'r.rating', 'r.rated_at', 'w.title_id as listed'])
      .where('r.user_id', '=', userId)
    if (after) {
      q = q.where((eb) => eb(eb.refTuple('r.rated_at', 'r.title_id'), '<', eb.tuple(after.at, after.titleId)))
    }
    const rows = await q
      .orderBy('r.rated_at', 'desc')
      .orderBy('r.title_id', 'desc')
      .limit(limit + 1)
      .execute()
    return paged(
      rows.map((r) => ({
        titleId: r.title_id,
        rating: r.rating,
        ratedAt: r.rated_at,
        onWatchlist: r.listed !== null,
      })),
      limit,
      (e) => ({ at: e.ratedAt, titleId: e.titleId }),
    )
  }

  async rating(userId: number, titleId: number): Promise<RatingEntry | null> {
    const r = await this.db
      .selectFrom('ratings as r')
      .leftJoin('watchlist as w', (j) =>
        j.onRef('w.user_id', '=', 'r.user_id').onRef('w.title_id', '=', 'r.title_id'),
      )
      .select(['r.title_id', 'r.rating', 'r.rated_at', 'w.title_id as listed'])
      .where('r.user_id', '=', userId)
      .where('r.title_id', '=', titleId)
      .executeTakeFirst()
    return r
      ? { titleId: r.title_id, rating: r.rating, ratedAt: r.rated_at, onWatchlist: r.listed !== null }
      : null
  }

  async addToWatchlist(userId: number, titleId: number, at: string) {
    const res = await this.db
      .insertInto('watchlist')
      .values({ user_id: userId, title_id: titleId, added_at: at })
      .onConflict((oc) => oc.columns(['user_id', 'title_id']).doNothing())
      .executeTakeFirst()
    const entry = await this.watchlistEntry(userId, titleId)
    if (!entry) throw new Error(`watchlist row (${userId}, ${titleId}) vanished inside its transaction`)
    return { created: n(res.numInsertedOrUpdatedRows) > 0, entry }
  }

  async removeFromWatchlist(userId: number, titleId: number): Promise<boolean> {
    const res = await this.db
      .deleteFrom('watchlist')
      .where('user_id', '=', userId)
      .where('title_id', '=', titleId)
      .executeTakeFirst()
    return n(res.numDeletedRows) > 0
  }

  async setRating(userId: number, titleId: number, rating: number, at: string) {
    const before = await this.db
      .selectFrom('ratings')
      .select('rating')
      .where('user_id', '=', userId)
      .where('title_id', '=', titleId)
      .executeTakeFirst()
    await this.db
      .insertInto('ratings')
      .values({ user_id: userId, title_id: titleId, rating, rated_at: at })
      .onConflict((oc) => oc.columns(['user_id', 'title_id']).doUpdateSet({ rating, rated_at: at }))
      .execute()
    const entry = await this.rating(userId, titleId)
    if (!entry) throw new Error(`rating row (${userId}, ${titleId}) vanished inside its transaction`)
    return { created: before === undefined, entry }
  }

  async removeRating(userId: number, titleId: number): Promise<boolean> {
    const res = await this.db
      .deleteFrom('ratings')
      .where('user_id', '=', userId)
      .where('title_id', '=', titleId)
      .executeTakeFirst()
    return n(res.numDeletedRows) > 0
  }

  async applyImport(userId: number, changes: readonly ImportChange[], at: string): Promise<ImportCounts> {
    const counts: ImportCounts = { watchlistAdded: 0, watchlistRemoved: 0, ratingsSet: 0, ratingsRemoved: 0 }
    const add = changes.filter((c) => c.watchlist === true).map((c) => c.titleId)
    const remove = changes.filter((c) => c.watchlist === false).map((c) => c.titleId)
    const rate = changes.filter((c): c is ImportChange & { rating: number } => typeof c.rating === 'number')
    const unrate = changes.filter((c) => c.rating === null).map((c) => c.titleId)
    for (const ids of chunks(add, BULK_ROWS)) {
      const res = await this.db
        .insertInto('watchlist')
        .values(ids.map((id) => ({ user_id: userId, title_id: id, added_at: at })))
        .onConflict((oc) => oc.columns(['user_id', 'title_id']).doNothing())
        .executeTakeFirst()
      counts.watchlistAdded += n(res.numInsertedOrUpdatedRows)
    }
    for (const ids of chunks(remove, BULK_ROWS)) {
      const res = await this.db
        .deleteFrom('watchlist')
        .where('user_id', '=', userId)
        .where('title_id', 'in', ids)
        .executeTakeFirst()
      counts.watchlistRemoved += n(res.numDeletedRows)
    }
    for (const part of chunks(rate, BULK_ROWS)) {
      await this.db
        .insertInto('ratings')
        .values(part.map((c) => ({ user_id: userId, title_id: c.titleId, rating: c.rating, rated_at: at })))
        .onConflict((oc) =>
          oc.columns(['user_id', 'title_id']).doUpdateSet((eb) => ({
            rating: eb.ref('excluded.rating'),
            rated_at: eb.ref('excluded.rated_at'),
          })),
        )
        .execute()
      counts.ratingsSet += part.length
    }
    for (const ids of chunks(unrate, BULK_ROWS)) {
      const res = await this.db
        .deleteFrom('ratings')
        .where('user_id', '=', userId)
        .where('title_id', 'in', ids)
        .executeTakeFirst()
      counts.ratingsRemoved += n(res.numDeletedRows)
    }
    return counts
  }
}

class TransactionClosedError extends Error {
  constructor(state: string) {
    super(`the transaction is ${state}; it cannot be used any more`)
    this.name = 'TransactionClosedError'
  }
}

type Method<K extends keyof (UserReads & UserWrites)> = (UserReads & UserWrites)[K]

/**
 * A write transaction over a Kysely ControlledTransaction. Every call is tracked: commit() and
 * rollback() refuse new calls, wait for the ones in flight, then end the transaction exactly once,
 * so no statement can ever run on the connection after it was handed to the next transaction.
 */
class Transaction implements UserTransaction {
  readonly #trx: ControlledTransaction<UsersDB>
  readonly #queries: Queries
  readonly #inflight = new Set<Promise<unknown>>()
  readonly #onEnd: (committed: boolean) => void
  #state: 'open' | 'ending' | 'committed' | 'rolled back' = 'open'
  #ending: Promise<void> | null = null

  constructor(trx: ControlledTransaction<UsersDB>, onEnd: (committed: boolean) => void) {
    this.#trx = trx
    this.#queries = new Queries(trx)
    this.#onEnd = onEnd
  }

  get finished(): boolean {
    return this.#state !== 'open'
  }

  #call<K extends keyof (UserReads & UserWrites)>(
    name: K,
    args: Parameters<Method<K>>,
  ): ReturnType<Method<K>> {
    if (this.#state !== 'open')
      return Promise.reject(new TransactionClosedError(this.#state)) as ReturnType<Method<K>>
    const fn = this.#queries[name] as (...a: unknown[]) => Promise<unknown>
    const p = fn.apply(this.#queries, args)
    this.#inflight.add(p)
    const forget = () => this.#inflight.delete(p)
    p.then(forget, forget)
    return p as ReturnType<Method<K>>
  }

  async #settle(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight])
  }

  commit(): Promise<void> {
    if (this.#state !== 'open') return Promise.reject(new TransactionClosedError(this.#state))
    this.#state = 'ending'
    this.#ending = (async () => {
      await this.#settle()
      try {
        await this.#trx.commit().execute()
      } catch (err) {
        // A failed COMMIT (e.g. SQLITE_BUSY) leaves the transaction open: end it the other way.
        await this.#rollbackQuietly()
        this.#end(false)
        throw err
      }
      this.#end(true)
    })()
    return this.#ending
  }

  rollback(): Promise<void> {
    if (this.#ending) return this.#ending.catch(() => {})
    if (this.#state !== 'open') return Promise.resolve()
    this.#state = 'ending'
    this.#ending = (async () => {
      await this.#settle()
      await this.#rollbackQuietly()
      this.#end(false)
    })()
    return this.#ending
  }

  async #rollbackQuietly(): Promise<void> {
    if (this.#trx.isRolledBack || this.#trx.isCommitted) return
    try {
      await this.#trx.rollback().execute()
    } catch {
      // Kysely releases the connection even when ROLLBACK fails; the database drops the
      // transaction with the connection in the worst case.
    }
  }

  #end(committed: boolean): void {
    this.#state = committed ? 'committed' : 'rolled back'
    this.#onEnd(committed)
  }

  watchlist(...a: Parameters<UserReads['watchlist']>) {
    return this.#call('watchlist', a)
  }
  watchlistEntry(...a: Parameters<UserReads['watchlistEntry']>) {
    return this.#call('watchlistEntry', a)
  }
  ratings(...a: Parameters<UserReads['ratings']>) {
    return this.#call('ratings', a)
  }
  rating(...a: Parameters<UserReads['rating']>) {
    return this.#call('rating', a)
  }
  addToWatchlist(...a: Parameters<UserWrites['addToWatchlist']>) {
    return this.#call('addToWatchlist', a)
  }
  removeFromWatchlist(...a: Parameters<UserWrites['removeFromWatchlist']>) {
    return this.#call('removeFromWatchlist', a)
  }
  setRating(...a: Parameters<UserWrites['setRating']>) {
    return this.#call('setRating', a)
  }
  removeRating(...a: Parameters<UserWrites['removeRating']>) {
    return this.#call('removeRating', a)
  }
  applyImport(...a: Parameters<UserWrites['applyImport']>) {
    return this.#call('applyImport', a)
  }
}

const KEY_COLUMNS = ['id', 'name', 'role', 'created_at', 'revoked_at'] as const

function keyRecord(r: {
  id: number
  name: string
  role: ApiKeyRecord['role']
  created_at: string
  revoked_at: string | null
}): ApiKeyRecord {
  return { id: r.id, name: r.name, role: r.role, createdAt: r.created_at, revokedAt: r.revoked_at }
}

export class KyselyUserStore implements UserStore {
  readonly reads: UserReads
  readonly #reader: Kysely<UsersDB>
  readonly #writer: Kysely<UsersDB>
  readonly #gate: Gate
  readonly #onClose: (() => Promise<void>) | undefined
  #begun = 0
  #committed = 0
  #rolledBack = 0
  #closed: Promise<void> | null = null

  constructor(opts: KyselyUserStoreOptions) {
    this.#reader = opts.reader
    this.#writer = opts.writer
    this.#gate = new Gate(opts.maxWriters ?? 1)
    this.#onClose = opts.onClose
    this.reads = new Queries(opts.reader)
  }

  async begin(opts: BeginOptions = {}): Promise<UserTransaction> {
    if (this.#closed) throw new Error('the user store is closed')
    await this.#gate.acquire(opts)
    let trx: ControlledTransaction<UsersDB>
    try {
      opts.signal?.throwIfAborted()
      trx = await this.#writer.startTransaction().execute()
    } catch (err) {
      this.#gate.release()
      throw err
    }
    this.#begun++
    return new Transaction(trx, (committed) => {
      if (committed) this.#committed++
      else this.#rolledBack++
      this.#gate.release()
    })
  }

  stats(): TransactionStats {
    return {
      begun: this.#begun,
      committed: this.#committed,
      rolledBack: this.#rolledBack,
      open: this.#begun - this.#committed - this.#rolledBack,
      waiting: this.#gate.waiting,
    }
  }

  async createKey(input: { name: string; role: ApiKeyRecord['role']; keyHash: string; at: string }) {
    const row = await this.#writer
      .insertInto('users')
      .values({ name: input.name, role: input.role, key_hash: input.keyHash, created_at: input.at })
      .returning(KEY_COLUMNS)
      .executeTakeFirstOrThrow()
    return keyRecord(row)
  }

  async listKeys(): Promise<ApiKeyRecord[]> {
    const rows = await this.#reader.selectFrom('users').select(KEY_COLUMNS).orderBy('id').execute()
    return rows.map(keyRecord)
  }

  async revokeKey(id: number, at: string) {
    const updated = await this.#writer
      .updateTable('users')
      .set({ revoked_at: at })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .returning(KEY_COLUMNS)
      .executeTakeFirst()
    if (updated) return { key: keyRecord(updated), alreadyRevoked: false }
    const row = await this.#writer
      .selectFrom('users')
      .select(KEY_COLUMNS)
      .where('id', '=', id)
      .executeTakeFirst()
    return row ? { key: keyRecord(row), alreadyRevoked: true } : null
  }

  async userByKeyHash(keyHash: string): Promise<StoreUser | null> {
    const row = await this.#reader
      .selectFrom('users')
      .select(['id', 'name', 'role'])
      .where('key_hash', '=', keyHash)
      .where('revoked_at', 'is', null)
      .executeTakeFirst()
    return row ? { id: String(row.id), name: row.name, role: row.role, userId: row.id } : null
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#writer.destroy()
      if (this.#reader !== this.#writer) await this.#reader.destroy()
      await this.#onClose?.()
    })()
    return this.#closed
  }
}
