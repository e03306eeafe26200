import type { FastifyInstance, FastifyRequest } from 'fastify'
import { formatId } from '../../datasets/catalogue.js'
import { badRequest } from '../../errors.js'
import type { Cursor, RatingEntry, StoreUser, UserStore, WatchlistEntry } from '../../users/store.js'
import type { TitleFacts } from '../../users/title-lookup.js'

/** Every /me route answers 401 or 403 before its handler unless the user came from the store. */
export function userIdOf(request: FastifyRequest): number {
  return (request.ctx.user as StoreUser).userId
}

/** The store; it exists whenever a store user is signed in. */
export async function storeOf(app: FastifyInstance): Promise<UserStore> {
  const store = await app.users.store()
  if (!store) throw new Error('there is no user database, yet a store user is signed in')
  return store
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

/** Opaque to clients: base64url of `[at, titleId]`. */
export function encodeCursor(c: Cursor | null): string | null {
  return c === null ? null : Buffer.from(JSON.stringify([c.at, c.titleId])).toString('base64url')
}

export function decodeCursor(raw: string | undefined): Cursor | undefined {
  if (raw === undefined) return undefined
  try {
    const v: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'))
    if (
      Array.isArray(v) &&
      v.length === 2 &&
      typeof v[0] === 'string' &&
      ISO.test(v[0]) &&
      Number.isSafeInteger(v[1]) &&
      v[1] >= 0
    ) {
      return { at: v[0], titleId: v[1] }
    }
  } catch {
    // falls through
  }
  throw badRequest('querystring parameter "cursor" is not a cursor this API returned', {
    errors: [{ parameter: 'cursor', in: 'querystring', reason: 'is malformed' }],
  })
}

export function watchlistItem(e: WatchlistEntry, title: TitleFacts | null) {
  return { tconst: formatId('tt', e.titleId), addedAt: e.addedAt, yourRating: e.rating, title }
}

export function ratingItem(e: RatingEntry, title: TitleFacts | null) {
  return {
    tconst: formatId('tt', e.titleId),
    rating: e.rating,
    ratedAt: e.ratedAt,
    onWatchlist: e.onWatchlist,
    title,
  }
}

export const SECURITY: { [scheme: string]: string[] }[] = [{ bearer: [] }, { apiKey: [] }]
