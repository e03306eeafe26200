/** Where `id` is among the first `n` of ascending `ids` (binary search); -1 when absent. */
export function indexOfSorted(ids: Float64Array, id: number, n = ids.length): number {
  let lo = 0
  let hi = n - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    const v = ids[mid]
    if (v < id) lo = mid + 1
    else if (v > id) hi = mid - 1
    else return mid
  }
  return -1
}
