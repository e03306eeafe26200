/**
 * Failed key checks per client address, in fixed one-minute windows: past `perMinute` failures an
 * address is refused (429) until its window ends, before its keys are even looked up, so guessing
 * keys costs the guesser a minute per `perMinute` tries and the user store nothing.
 */
export class AuthFailures {
  readonly #windows = new Map<string, { failures: number; endsAt: number }>()
  readonly #perMinute: number
  readonly #maxAddresses: number

  /** `perMinute` 0: never refuses. `maxAddresses` bounds memory (the oldest windows go first). */
  constructor(perMinute: number, maxAddresses = 10_000) {
    this.#perMinute = perMinute
    this.#maxAddresses = maxAddresses
  }

  /** Seconds until `address` may try again, or 0 when it may try now. */
  retryAfter(address: string, now = Date.now()): number {
    const w = this.#windows.get(address)
    if (!w || this.#perMinute === 0) return 0
    if (w.endsAt <= now) {
      this.#windows.delete(address)
      return 0
    }
    return w.failures >= this.#perMinute ? Math.max(1, Math.ceil((w.endsAt - now) / 1000)) : 0
  }

  /** Counts a failed key check by `address`. */
  fail(address: string, now = Date.now()): void {
    if (this.#perMinute === 0) return
    const w = this.#windows.get(address)
    if (w && w.endsAt > now) {
      w.failures++
      return
    }
    this.#windows.delete(address)
    this.#windows.set(address, { failures: 1, endsAt: now + 60_000 })
    if (this.#windows.size > this.#maxAddresses)
      this.#windows.delete(this.#windows.keys().next().value as string)
  }
}
