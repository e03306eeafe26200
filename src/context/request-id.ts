import { randomUUID } from 'node:crypto'

/** A well-formed incoming X-Request-Id: at most 128 characters of `[A-Za-z0-9._-]`. */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/

/** The time part of the ids of the last millisecond: many requests arrive within one under load. */
let lastMs = -1
let lastPrefix = ''

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits, so ids sort by arrival in
 * logs. The random part comes from `randomUUID()`, whose entropy Node draws in batches of 128
 * UUIDs: one `randomFillSync` (and the getpid() OpenSSL makes with it) per 128 requests instead of
 * one per request, which the `uuid` package's v7 cost on every request.
 */
export function newRequestId(now = Date.now()): string {
  if (now !== lastMs) {
    const ts = now.toString(16).padStart(12, '0')
    lastPrefix = `${ts.slice(0, 8)}-${ts.slice(8)}-7`
    lastMs = now
  }
  // randomUUID(): xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx; keep its variant and random tail (from
  // index 15) after the time and 7 as the version.
  return lastPrefix + randomUUID().slice(15)
}

/** The client's X-Request-Id when it is well-formed, else a new one. */
export function requestIdOf(incoming: string | string[] | undefined): string {
  return typeof incoming === 'string' && REQUEST_ID_PATTERN.test(incoming) ? incoming : newRequestId()
}
