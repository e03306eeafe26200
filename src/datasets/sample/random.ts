/**
 * Seeded, allocation-free randomness for the sample generator. Nothing here reads the clock or
 * `Math.random`: every value is a pure function of the seed, so a sample is byte-for-byte
 * reproducible, and any row of any file can be rendered on its own (by any worker, in any order)
 * from `(seed, stream, index)`.
 */

/** murmur3's 32-bit finaliser: a bijective avalanche mix. */
export function mix32(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** A 32-bit hash of three integers (order matters). */
export function hash3(a: number, b: number, c: number): number {
  let h = mix32((a ^ 0x9e3779b9) >>> 0)
  h = mix32((h ^ Math.imul(b | 0, 0x27d4eb2f)) >>> 0)
  return mix32((h ^ Math.imul(c | 0, 0x165667b1) ^ 0x5bd1e995) >>> 0)
}

const TWO_POW_32 = 4294967296

/**
 * mulberry32, reseedable in place: `at(seed, stream, index)` puts the generator into a state that
 * depends only on its arguments, so one instance serves millions of rows without allocations.
 */
export class Rng {
  private s: number

  constructor(seed = 0) {
    this.s = seed | 0
  }

  /** Reseeds from a hash of (seed, stream, index). */
  at(seed: number, stream: number, index: number): this {
    this.s = hash3(seed, stream, index) | 0
    return this
  }

  u32(): number {
    this.s = (this.s + 0x6d2b79f5) | 0
    let t = this.s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / TWO_POW_32
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n)
  }

  /** Uniform integer in [lo, hi], both included. */
  range(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1))
  }

  chance(p: number): boolean {
    return this.float() < p
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)]
  }

  /** Roughly standard normal (Irwin-Hall of four uniforms): no trigonometry, bounded at +-3.46. */
  normal(): number {
    return (this.float() + this.float() + this.float() + this.float() - 2) * 1.7320508075688772
  }

  /** Geometric count of successes before the first failure: P(k) = (1 - p) p^k. */
  geometric(p: number): number {
    let k = 0
    while (this.float() < p && k < 1000) k++
    return k
  }

  /** Poisson (Knuth) for the small means used here. */
  poisson(mean: number): number {
    const limit = Math.exp(-mean)
    let k = 0
    let p = this.float()
    while (p > limit && k < 1000) {
      k++
      p *= this.float()
    }
    return k
  }

  /** Pareto: `min / u^(1/alpha)`, heavy-tailed for small alpha. */
  pareto(min: number, alpha: number): number {
    return min / (1 - this.float()) ** (1 / alpha)
  }
}

/**
 * A Zipf-Mandelbrot rank sampler over `n` ranks: rank r is drawn with probability about
 * `(r + q)^-s`. A larger offset `q` flattens the head, a larger exponent `s` thins the tail. O(1)
 * per draw (inverse CDF of the continuous law), so it costs the same for 10 ranks and 10 million.
 */
export class Zipf {
  private readonly a: number
  private readonly b: number
  private readonly inv: number

  constructor(
    readonly n: number,
    private readonly q = 1,
    private readonly s = 1,
  ) {
    if (s === 1) {
      this.a = 0
      this.b = Math.log((n + q) / q)
      this.inv = 0
    } else {
      this.a = q ** (1 - s)
      this.b = (n + q) ** (1 - s) - this.a
      this.inv = 1 / (1 - s)
    }
  }

  /** A rank in [0, n), from a uniform `u` in [0, 1). */
  rank(u: number): number {
    const x = this.s === 1 ? this.q * Math.exp(u * this.b) : (this.a + u * this.b) ** this.inv
    const r = Math.floor(x - this.q)
    return r < 0 ? 0 : r >= this.n ? this.n - 1 : r
  }

  sample(rng: Rng): number {
    return this.rank(rng.float())
  }
}

/** A categorical distribution over `values` with the given relative weights. */
export class Weighted<T> {
  private readonly cumulative: Float64Array
  private readonly total: number

  constructor(
    readonly values: readonly T[],
    weights: readonly number[],
  ) {
    if (values.length !== weights.length || values.length === 0) throw new Error('Weighted: bad table')
    this.cumulative = new Float64Array(weights.length)
    let sum = 0
    for (let i = 0; i < weights.length; i++) {
      sum += weights[i]
      this.cumulative[i] = sum
    }
    this.total = sum
  }

  /** From pairs `[value, weight]`. */
  static of<T>(pairs: readonly (readonly [T, number])[]): Weighted<T> {
    return new Weighted(
      pairs.map((p) => p[0]),
      pairs.map((p) => p[1]),
    )
  }

  index(rng: Rng): number {
    const x = rng.float() * this.total
    const c = this.cumulative
    let lo = 0
    let hi = c.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (c[mid] > x) hi = mid
      else lo = mid + 1
    }
    return lo
  }

  sample(rng: Rng): T {
    return this.values[this.index(rng)]
  }
}
