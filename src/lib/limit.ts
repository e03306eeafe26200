/**
 * A small concurrency limiter: at most `concurrency` of the functions passed to the returned `run`
 * are in flight; the others wait in FIFO order. Used to fan a request out over the worker pool
 * without letting one request occupy every worker and queue slot.
 */
export function limit(concurrency: number): <T>(fn: () => Promise<T>) => Promise<T> {
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new RangeError('concurrency must be a positive integer')
  let active = 0
  const waiting: (() => void)[] = []
  // A finishing call hands its slot straight to the next waiter, so a newcomer cannot slip in between.
  const release = () => {
    const wake = waiting.shift()
    if (wake) wake()
    else active--
  }
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active < concurrency) active++
    else await new Promise<void>((resolve) => waiting.push(resolve))
    try {
      return await fn()
    } finally {
      release()
    }
  }
}

/** `items.map(fn)` with at most `concurrency` calls in flight; results in the order of `items`. */
export async function mapLimit<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const run = limit(concurrency)
  return Promise.all(items.map((item, i) => run(() => fn(item, i))))
}

/** Splits `items` into chunks of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}
