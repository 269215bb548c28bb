/**
 * Small statistics: percentiles (linear interpolation between closest ranks,
 * the same definition tinybench uses), summaries, CDF points for charts, and an
 * ordinary least-squares line for extrapolations (reported with its R²).
 */

export interface Percentiles {
  count: number
  mean: number
  min: number
  max: number
  p50: number
  p95: number
  p99: number
}

export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN
  const pos = (sorted.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  const a = sorted[lo]!
  const b = sorted[hi]!
  return a + (b - a) * (pos - lo)
}

export function summarize(values: readonly number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b)
  if (sorted.length === 0) return { count: 0, mean: 0, min: 0, max: 0, p50: 0, p95: 0, p99: 0 }
  let sum = 0
  for (const v of sorted) sum += v
  return {
    count: sorted.length,
    mean: sum / sorted.length,
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
  }
}

/** Up to `points` (value, cumulative fraction) pairs of the empirical CDF. */
export function cdf(values: readonly number[], points = 200): [number, number][] {
  const sorted = [...values].sort((a, b) => a - b)
  if (sorted.length === 0) return []
  const out: [number, number][] = []
  const step = Math.max(1, Math.floor(sorted.length / points))
  for (let i = 0; i < sorted.length; i += step) out.push([sorted[i]!, (i + 1) / sorted.length])
  const last = sorted.length - 1
  if (out[out.length - 1]?.[1] !== 1) out.push([sorted[last]!, 1])
  return out
}

export interface LinearFit {
  /** y = intercept + slope · x */
  intercept: number
  slope: number
  r2: number
  n: number
}

export function linearFit(xs: readonly number[], ys: readonly number[]): LinearFit | undefined {
  const n = Math.min(xs.length, ys.length)
  if (n < 2) return undefined
  let sx = 0
  let sy = 0
  for (let i = 0; i < n; i++) {
    sx += xs[i]!
    sy += ys[i]!
  }
  const mx = sx / n
  const my = sy / n
  let sxx = 0
  let sxy = 0
  let syy = 0
  for (let i = 0; i < n; i++) {
    const dx = xs[i]! - mx
    const dy = ys[i]! - my
    sxx += dx * dx
    sxy += dx * dy
    syy += dy * dy
  }
  if (sxx === 0) return undefined
  const slope = sxy / sxx
  const intercept = my - slope * mx
  const r2 = syy === 0 ? 1 : (sxy * sxy) / (sxx * syy)
  return { intercept, slope, r2, n }
}
