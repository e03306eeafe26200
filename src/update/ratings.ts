/**
 * title.ratings as the ingest holds it in memory: ids ascending, the first row of an id kept,
 * missing votes as 0 and a missing average as NaN (stored NULL).
 */

import { layoutOf } from '../datasets/parse.js'
import { readBatches } from '../datasets/reader.js'
import type { RatingsTable } from './diff.js'

export async function readRatings(file: string): Promise<RatingsTable> {
  const layout = layoutOf('title.ratings')
  const slot = (name: string) => layout.slots.find((s) => s.column.name === name)!.num
  const [tconst, average, votes] = [slot('tconst'), slot('averageRating'), slot('numVotes')]
  let ids = new Float64Array(1 << 16)
  let avg = new Float64Array(1 << 16)
  let vts = new Float64Array(1 << 16)
  let n = 0
  for await (const b of readBatches(file, 'title.ratings', { dedupe: true, batchRows: 4096 })) {
    if (n + b.rows > ids.length) {
      const grow = (a: Float64Array) => {
        const g = new Float64Array(Math.max(a.length * 2, n + b.rows))
        g.set(a)
        return g
      }
      ids = grow(ids)
      avg = grow(avg)
      vts = grow(vts)
    }
    const nc = layout.numCols
    for (let r = 0; r < b.rows; r++) {
      ids[n] = b.nums[r * nc + tconst]
      avg[n] = b.nums[r * nc + average]
      const v = b.nums[r * nc + votes]
      vts[n] = Number.isNaN(v) ? 0 : v
      n++
    }
  }
  // The file is in text order, not numeric: sort, keeping the first row of an id (as the ingest).
  const order = new Uint32Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  order.sort((x, y) => ids[x] - ids[y] || x - y)
  const out = { ids: new Float64Array(n), votes: new Float64Array(n), avg: new Float64Array(n) }
  let k = 0
  for (let i = 0; i < n; i++) {
    const j = order[i]
    if (k > 0 && out.ids[k - 1] === ids[j]) continue
    out.ids[k] = ids[j]
    out.avg[k] = avg[j]
    out.votes[k] = vts[j]
    k++
  }
  return { ids: out.ids.slice(0, k), votes: out.votes.slice(0, k), avg: out.avg.slice(0, k) }
}
