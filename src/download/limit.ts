/**
 * Runs `fn` over `items` with at most `limit` calls in flight, and returns the results in input
 * order: `limit` workers pull the next index from a shared cursor, and `Promise.all` waits for them.
 * `fn` should not reject (the other workers would keep running unobserved); report failures in R.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`limit must be a positive integer, got ${limit}`)
  const results = new Array<R>(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      results[i] = await fn(items[i], i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}
