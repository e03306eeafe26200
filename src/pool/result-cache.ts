/**
 * Answers of slow, repeatable dataset queries (a list of titles for a common word, a search people
 * keep typing), kept in memory up to a byte budget and dropped least recently used first.
 *
 * Safe because a generation never changes: a key names the generation, the query and its
 * arguments, so a swap to a new generation simply stops hitting the old entries, which age out.
 * Values are cloned on the way in and out, so no caller can change what another one reads.
 */
export class ResultCache {
  readonly #entries = new Map<string, { value: unknown; bytes: number }>()
  readonly #maxBytes: number
  #bytes = 0
  hits = 0
  misses = 0

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes
  }

  /** The key of `query(args)` on `generation`, or null for arguments that are not plain data. */
  static key(generation: string, query: string, args: readonly unknown[]): string | null {
    try {
      return `${generation}\0${query}\0${JSON.stringify(args)}`
    } catch {
      return null
    }
  }

  get(key: string): { value: unknown } | undefined {
    const entry = this.#entries.get(key)
    if (!entry) {
      this.misses++
      return undefined
    }
    // Map order is insertion order: re-inserting marks it most recently used.
    this.#entries.delete(key)
    this.#entries.set(key, entry)
    this.hits++
    return { value: structuredClone(entry.value) }
  }

  set(key: string, value: unknown): void {
    if (this.#maxBytes <= 0) return
    // The JSON length stands in for the memory an answer holds (within a small factor).
    const bytes = key.length + (JSON.stringify(value)?.length ?? 0)
    if (bytes > this.#maxBytes / 16) return
    const old = this.#entries.get(key)
    if (old) {
      this.#bytes -= old.bytes
      this.#entries.delete(key)
    }
    this.#entries.set(key, { value: structuredClone(value), bytes })
    this.#bytes += bytes
    for (const [k, e] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) break
      this.#entries.delete(k)
      this.#bytes -= e.bytes
    }
  }

  get size(): number {
    return this.#entries.size
  }

  get bytes(): number {
    return this.#bytes
  }
}
