/**
 * The one seeded RNG (xoshiro128**, seeded through splitmix32 from a number or a
 * string). Same seed, same sequence, on every machine: workloads, topologies
 * and property-test fixtures are reproducible from the seed a report prints.
 * Not for keys that guard real money.
 */
import { InvalidInputError } from './errors.ts'
import { sha256 } from './hash.ts'

export class Rng {
  private a: number
  private b: number
  private c: number
  private d: number
  private spareNormal: number | undefined

  constructor(seed: number | string = 1) {
    let s: number
    if (typeof seed === 'string') {
      const h = sha256(new TextEncoder().encode(seed))
      s = ((h[0] as number) << 24) | ((h[1] as number) << 16) | ((h[2] as number) << 8) | (h[3] as number)
    } else if (Number.isFinite(seed)) s = Math.floor(seed) >>> 0
    else throw new InvalidInputError('seed', 'expected a finite number or a string')
    const next = () => {
      s = (s + 0x9e3779b9) | 0
      let z = s
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
      return (z ^ (z >>> 16)) >>> 0
    }
    this.a = next()
    this.b = next()
    this.c = next()
    this.d = next()
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0
    const t = this.b << 9
    this.c ^= this.a
    this.d ^= this.b
    this.b ^= this.c
    this.a ^= this.d
    this.c ^= t
    this.d = rotl(this.d, 11)
    return result
  }

  /** Uniform float in [0, 1) with 53 bits. */
  next(): number {
    const hi = this.nextU32() >>> 5
    const lo = this.nextU32() >>> 6
    return (hi * 67108864 + lo) / 9007199254740992
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidInputError('n', `expected a positive integer, got ${n}`)
    return Math.floor(this.next() * n)
  }

  /** Uniform integer in [min, max]. */
  range(min: number, max: number): number {
    return min + this.int(max - min + 1)
  }

  /** Uniform bigint in [0, n). */
  bigint(n: bigint): bigint {
    if (n <= 0n) throw new InvalidInputError('n', `expected a positive bigint, got ${n}`)
    const bits = n.toString(2).length
    for (;;) {
      let v = 0n
      for (let i = 0; i < bits; i += 32) v = (v << 32n) | BigInt(this.nextU32())
      v &= (1n << BigInt(bits)) - 1n
      if (v < n) return v
    }
  }

  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length)
    for (let i = 0; i < length; i += 4) {
      const v = this.nextU32()
      for (let j = 0; j < 4 && i + j < length; j++) out[i + j] = (v >>> (8 * j)) & 0xff
    }
    return out
  }

  bool(p = 0.5): boolean {
    return this.next() < p
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new InvalidInputError('items', 'cannot pick from an empty list')
    return items[this.int(items.length)] as T
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1)
      const t = items[i] as T
      items[i] = items[j] as T
      items[j] = t
    }
    return items
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const v = this.spareNormal
      this.spareNormal = undefined
      return v
    }
    let u = 0
    while (u === 0) u = this.next()
    const v = this.next()
    const r = Math.sqrt(-2 * Math.log(u))
    this.spareNormal = r * Math.sin(2 * Math.PI * v)
    return r * Math.cos(2 * Math.PI * v)
  }

  logNormal(mu: number, sigma: number): number {
    return Math.exp(mu + sigma * this.normal())
  }

  /** Exponential with the given rate (inter-arrival times of a Poisson process). */
  exponential(rate: number): number {
    if (!(rate > 0)) throw new InvalidInputError('rate', `expected > 0, got ${rate}`)
    let u = 0
    while (u === 0) u = this.next()
    return -Math.log(u) / rate
  }

  /** Index drawn with probability proportional to `weights[i]`. */
  weighted(weights: readonly number[]): number {
    let total = 0
    for (const w of weights) total += w
    if (!(total > 0)) throw new InvalidInputError('weights', 'total weight must be positive')
    let x = this.next() * total
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i] as number
      if (x < 0) return i
    }
    return weights.length - 1
  }

  /** An independent child generator (stable for a given label). */
  fork(label: string): Rng {
    return new Rng(`${this.nextU32()}:${label}`)
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k))
}

/**
 * Weighted draws in O(log n): a cumulative table built once, then a binary
 * search per draw. `draw(rng, limit)` restricts the draw to the first `limit`
 * entries (preferential attachment over the nodes placed so far).
 */
export class WeightedTable {
  private readonly cum: Float64Array

  constructor(weights: ArrayLike<number>) {
    const n = weights.length
    this.cum = new Float64Array(n + 1)
    for (let i = 0; i < n; i++) {
      const w = weights[i] as number
      if (!(w >= 0) || !Number.isFinite(w)) throw new InvalidInputError(`weights[${i}]`, `expected a finite weight ≥ 0, got ${w}`)
      this.cum[i + 1] = (this.cum[i] as number) + w
    }
  }

  get size(): number {
    return this.cum.length - 1
  }

  /** Sum of the first `limit` weights. */
  total(limit = this.size): number {
    return this.cum[limit] as number
  }

  /** Index i in [0, limit) with probability w[i] / total(limit). */
  draw(rng: Rng, limit = this.size): number {
    const total = this.cum[limit]
    if (total === undefined || !(total > 0)) throw new InvalidInputError('limit', `no positive weight among the first ${limit} entries`)
    const x = rng.next() * total
    let lo = 0
    let hi = limit - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if ((this.cum[mid + 1] as number) > x) hi = mid
      else lo = mid + 1
    }
    return lo
  }
}
