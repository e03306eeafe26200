import type { Role, User } from './user.js'

/**
 * The user store: API keys (one key is one user), watchlists and personal ratings. It lives in its
 * own database, apart from the dataset, so no ingest, swap or refresh can touch it.
 *
 * Backends implement these interfaces over the tables of `types.ts`: `kysely-store.ts` does it for
 * any Kysely dialect, and `sqlite/` supplies the SQLite connections and migrations. A PostgreSQL
 * backend supplies its own connections and migrations (same versions, same tables) and reuses
 * `KyselyUserStore`.
 */

/** A user who came from the user store (keys from an `--api-keys` file have no personal data). */
export interface StoreUser extends User {
  /** `users.id`: what watchlist and ratings rows belong to. */
  readonly userId: number
}

export function isStoreUser(user: User | null | undefined): user is StoreUser {
  return user != null && typeof (user as Partial<StoreUser>).userId === 'number'
}

export interface ApiKeyRecord {
  id: number
  name: string
  role: Role
  createdAt: string
  revokedAt: string | null
}

export interface WatchlistEntry {
  titleId: number
  addedAt: string
  /** The user's own rating of the title, if any. */
  rating: number | null
}

export interface RatingEntry {
  titleId: number
  rating: number
  ratedAt: string
  onWatchlist: boolean
}

/** Where a page stopped: the time and title id of its last row (lists are newest first). */
export interface Cursor {
  at: string
  titleId: number
}

export interface Page<T> {
  items: T[]
  /** The cursor of the last item when there is a next page. */
  next: Cursor | null
}

export interface PageOptions {
  limit: number
  after?: Cursor
}

/**
 * One title's change in an import, already merged per title: `rating` null removes the rating,
 * `watchlist` false removes the title from the watchlist; an absent field leaves it alone.
 */
export interface ImportChange {
  titleId: number
  rating?: number | null
  watchlist?: boolean
}

export interface ImportCounts {
  watchlistAdded: number
  watchlistRemoved: number
  ratingsSet: number
  ratingsRemoved: number
}

/** Reads of one user's data. Through the store: committed data; through a transaction: its writes too. */
export interface UserReads {
  watchlist(userId: number, opts: PageOptions): Promise<Page<WatchlistEntry>>
  watchlistEntry(userId: number, titleId: number): Promise<WatchlistEntry | null>
  ratings(userId: number, opts: PageOptions): Promise<Page<RatingEntry>>
  rating(userId: number, titleId: number): Promise<RatingEntry | null>
}

export interface UserWrites {
  /** Adds a title (keeping the first `addedAt` when it is already there). */
  addToWatchlist(
    userId: number,
    titleId: number,
    at: string,
  ): Promise<{ created: boolean; entry: WatchlistEntry }>
  /** False when the title was not on the watchlist. */
  removeFromWatchlist(userId: number, titleId: number): Promise<boolean>
  setRating(
    userId: number,
    titleId: number,
    rating: number,
    at: string,
  ): Promise<{ created: boolean; entry: RatingEntry }>
  /** False when the title had no rating. */
  removeRating(userId: number, titleId: number): Promise<boolean>
  /** Applies changes (at most one per title) with a few statements per call; callers chunk large imports. */
  applyImport(userId: number, changes: readonly ImportChange[], at: string): Promise<ImportCounts>
}

/**
 * A write transaction. `commit()` and `rollback()` each finish it; after a failed commit the
 * transaction is rolled back before the error is thrown, so either way it is over and its
 * connection released. Using it afterwards throws.
 */
export interface UserTransaction extends UserReads, UserWrites {
  commit(): Promise<void>
  rollback(): Promise<void>
  readonly finished: boolean
}

export interface BeginOptions {
  /** Gives up waiting for the writer (client gone): rejects with the signal's reason. */
  signal?: AbortSignal
  /** Gives up waiting for the writer after this long: rejects with WriterBusyError. */
  timeoutMs?: number
}

export interface TransactionStats {
  /** Transactions opened (each `begin()` that returned). */
  begun: number
  committed: number
  rolledBack: number
  /** Open right now. */
  open: number
  /** `begin()` calls waiting for the writer right now. */
  waiting: number
}

export interface KeyStore {
  createKey(input: { name: string; role: Role; keyHash: string; at: string }): Promise<ApiKeyRecord>
  listKeys(): Promise<ApiKeyRecord[]>
  /** Null when there is no such key; `alreadyRevoked` when it had been revoked before. */
  revokeKey(id: number, at: string): Promise<{ key: ApiKeyRecord; alreadyRevoked: boolean } | null>
  /** The user of a live key, or null when the hash is unknown or the key revoked. */
  userByKeyHash(keyHash: string): Promise<StoreUser | null>
}

export interface UserStore extends KeyStore {
  /** Committed data; never waits for a write transaction. */
  readonly reads: UserReads
  /**
   * Opens a write transaction. Transactions are serialised where the backend allows one writer
   * (SQLite): a second caller waits asynchronously, in arrival order, without blocking the event loop.
   */
  begin(opts?: BeginOptions): Promise<UserTransaction>
  stats(): TransactionStats
  close(): Promise<void>
}

/** The user database was written by a newer marquee: refusing beats corrupting it. */
export class UsersSchemaTooNewError extends Error {
  readonly code = 'USERS_SCHEMA_TOO_NEW'
  constructor(
    readonly file: string,
    readonly found: number,
    readonly supported: number,
  ) {
    super(
      `the user database ${file} has schema version ${found}, newer than this marquee supports ` +
        `(version ${supported}); upgrade marquee, or point --users-db at another file`,
    )
    this.name = 'UsersSchemaTooNewError'
  }
}

/** Waited too long for the writer (another request holds a long transaction). */
export class WriterBusyError extends Error {
  readonly code = 'USERS_WRITER_BUSY'
  constructor(ms: number) {
    super(`waited ${ms} ms for the user store's writer`)
    this.name = 'WriterBusyError'
  }
}

/** ISO-8601 UTC with milliseconds: the one time format of the store. */
export const nowIso = (): string => new Date().toISOString()
