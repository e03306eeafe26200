import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import type { Keyset } from '../../db/queries/title-list.js'
import { badRequest } from '../../errors.js'

/**
 * Opaque keyset cursors: the sort key and id of the last row of a page, bound to the query they
 * came from (a hash of its filters, sort and order) and sealed with an HMAC (96 bits) under the
 * dataset generation's secret (Generation.cursorKey: random, written with the generation, never
 * sent). So a cursor the server did not hand out cannot be made, and one from an earlier generation
 * stops working at the swap (the secret rotates with it). A cursor that is malformed, altered, from
 * another generation or reused with other filters is a 400 naming `cursor`.
 */

const b64 = (buf: Buffer) => buf.toString('base64url')

function seal(body: string, key: Buffer): string {
  return b64(createHmac('sha256', key).update(body).digest().subarray(0, 12))
}

/** A stable hash of the query a cursor belongs to (every filter, sort and order; not limit or cursor). */
export function queryFingerprint(parts: Record<string, unknown>): string {
  const canonical = JSON.stringify(
    Object.keys(parts)
      .sort()
      .filter((k) => parts[k] !== undefined)
      .map((k) => [k, parts[k]]),
  )
  return b64(createHash('sha256').update(canonical).digest().subarray(0, 9))
}

export function encodeCursor(keyset: Keyset, fingerprint: string, key: Buffer): string {
  const body = b64(Buffer.from(JSON.stringify([keyset.key, keyset.id, fingerprint])))
  return `${body}.${seal(body, key)}`
}

const tampered = (why: string) =>
  badRequest(`query parameter "cursor" ${why}; use the \`next\` link of the previous page as it is`, {
    errors: [{ parameter: 'cursor', in: 'querystring', reason: why }],
  })

/** Decodes a cursor sealed under `key` for the query with `fingerprint`; its sort key must be a `keyType`. */
export function decodeCursor(
  cursor: string,
  fingerprint: string,
  keyType: 'number' | 'string',
  key: Buffer,
): Keyset {
  const dot = cursor.indexOf('.')
  if (dot <= 0) throw tampered('is malformed')
  const body = cursor.slice(0, dot)
  // The seal is compared as text: base64url decoding ignores stray trailing characters, so
  // comparing decoded bytes would accept altered spellings of a cursor.
  const mac = Buffer.from(cursor.slice(dot + 1))
  const expected = Buffer.from(seal(body, key))
  if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) {
    throw tampered(
      'was altered, or belongs to an earlier dataset generation (start again from the first page)',
    )
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'))
  } catch {
    throw tampered('is malformed')
  }
  if (!Array.isArray(parsed) || parsed.length !== 3) throw tampered('is malformed')
  const [sortKey, id, fp] = parsed as unknown[]
  if (fp !== fingerprint) throw tampered('belongs to a different query (other filters, sort or order)')
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) throw tampered('is malformed')
  const bad =
    keyType === 'number'
      ? typeof sortKey !== 'number' || !Number.isFinite(sortKey)
      : typeof sortKey !== 'string'
  if (bad) throw tampered('is malformed')
  return { key: sortKey as number | string, id }
}

/** The `next` link: the request's own path and query with `cursor` replaced. */
export function nextLink(url: string, cursor: string): string {
  const u = new URL(url, 'http://x')
  u.searchParams.set('cursor', cursor)
  return `${u.pathname}?${u.searchParams.toString()}`
}
