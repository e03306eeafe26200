import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Static } from 'typebox'
import { formatId, parseId } from '../../datasets/catalogue.js'
import { badRequest, notFound } from '../../errors.js'
import type {
  Cursor,
  Page,
  PageOptions,
  RatingEntry,
  StoreUser,
  UserStore,
  WatchlistEntry,
} from '../../users/store.js'
import type { TitleFacts, TitleLookup } from '../../users/title-lookup.js'
import type { PageQuery } from './schemas.js'

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

/**
 * A position in one of your own lists, opaque to clients: base64url of `[at, titleId]`. Unsealed:
 * it only ever pages the lists of the key that sends it.
 */
export function encodeListCursor(c: Cursor | null): string | null {
  return c === null ? null : Buffer.from(JSON.stringify([c.at, c.titleId])).toString('base64url')
}

export function decodeListCursor(raw: string | undefined): Cursor | undefined {
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

/** What a list route's query asks the store for. */
export function pageOptions(query: Static<typeof PageQuery>): PageOptions {
  return { limit: query.limit, after: decodeListCursor(query.cursor) }
}

/** A page of the user's entries as the API shows it: each with its title, null once the dataset lost it. */
export async function pageWithTitles<E extends { titleId: number }, Item>(
  titles: TitleLookup,
  page: Page<E>,
  toItem: (entry: E, title: TitleFacts | null) => Item,
): Promise<{ items: Item[]; next: string | null }> {
  const facts = await titles.facts(page.items.map((e) => e.titleId))
  return {
    items: page.items.map((e) => toItem(e, facts.get(e.titleId) ?? null)),
    next: encodeListCursor(page.next),
  }
}

/** One title's facts, null when the dataset does not have it. */
export async function titleFacts(titles: TitleLookup, id: number): Promise<TitleFacts | null> {
  return (await titles.facts([id])).get(id) ?? null
}

/** The title a write names: it must be in the dataset (404 otherwise). */
export async function titleToWrite(
  titles: TitleLookup,
  tconst: string,
): Promise<{ id: number; title: TitleFacts }> {
  const id = parseId(tconst)
  const title = await titleFacts(titles, id)
  if (!title) throw notFound(`No title ${tconst} in the dataset.`)
  return { id, title }
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

/** The 204 of a DELETE. */
export const REMOVED_RESPONSE = { type: 'null', description: 'Removed' } as const
