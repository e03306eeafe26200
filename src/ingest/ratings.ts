import { indexOfSorted } from '../lib/sorted.js'
/** title.ratings in memory, sorted by id: merged into titles, summed into names.popularity. */
export class Ratings {
  ids = new Float64Array(1 << 16)
  avg = new Float64Array(1 << 16)
  votes = new Float64Array(1 << 16)
  n = 0
  private sorted = true

  add(id: number, avg: number, votes: number): void {
    if (this.n === this.ids.length) {
      const grow = (a: Float64Array) => {
        const b = new Float64Array(a.length * 2)
        b.set(a)
        return b
      }
      this.ids = grow(this.ids)
      this.avg = grow(this.avg)
      this.votes = grow(this.votes)
    }
    if (this.n > 0 && id <= this.ids[this.n - 1]) this.sorted = false
    this.ids[this.n] = id
    this.avg[this.n] = avg
    this.votes[this.n] = votes
    this.n++
  }

  /** Sorts by id keeping the first of equal ids; returns how many were dropped. */
  seal(): number {
    if (this.sorted) return 0
    const order = Array.from({ length: this.n }, (_, i) => i).sort(
      (a, b) => this.ids[a] - this.ids[b] || a - b,
    )
    const ids = new Float64Array(this.n)
    const avg = new Float64Array(this.n)
    const votes = new Float64Array(this.n)
    let k = 0
    for (const i of order) {
      if (k > 0 && ids[k - 1] === this.ids[i]) continue
      ids[k] = this.ids[i]
      avg[k] = this.avg[i]
      votes[k] = this.votes[i]
      k++
    }
    const dropped = this.n - k
    this.ids = ids
    this.avg = avg
    this.votes = votes
    this.n = k
    this.sorted = true
    return dropped
  }

  indexOf(id: number): number {
    return indexOfSorted(this.ids, id, this.n)
  }
}
