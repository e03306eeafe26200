import { setTimeout as sleep } from 'node:timers/promises'

/** How long a test waits for an event before calling it a hang: the wait ends at the event. */
export const HANG_MS = 60_000

/** Resolves once `check()` holds (polled every 10 ms); rejects naming `what` after `timeoutMs`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  what = 'the awaited state',
  timeoutMs = HANG_MS,
): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(10)
  }
}

/** `promise`, or a rejection naming `what` after `timeoutMs`. */
export async function within<T>(promise: Promise<T>, what: string, timeoutMs = HANG_MS): Promise<T> {
  const timeout = new AbortController()
  try {
    return await Promise.race([
      promise,
      sleep(timeoutMs, undefined, { signal: timeout.signal }).then(() => {
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
      }),
    ])
  } finally {
    timeout.abort()
  }
}
