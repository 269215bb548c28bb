/**
 * Figures over several seeds: each as its mean and 95 % confidence interval,
 * mean ± t(0.975, n−1) · s/√n with s the sample standard deviation over the
 * seeds (Student's t: the seeds are independent replications of the run).
 * CLoTH reports its figures the same way (batch-means.py: scipy's sem and
 * t.ppf over its batches); here the replications are whole runs.
 */
import type { DesignResultJson } from './results.ts'

export interface SpreadFigureJson {
  mean: number
  /** 95 % interval: mean ± t · s/√n (equal to the mean when n = 1 or every seed agrees). */
  low: number
  high: number
  /** Sample standard deviation over the seeds. */
  sd: number
  /** Seeds the figure exists for (a design that did not run for a seed has no figures there). */
  n: number
  values: number[]
}

export interface SpreadJson {
  method: string
  seeds: number[]
  designs: { name: string; figures: Record<string, SpreadFigureJson> }[]
}

/** Two-sided 95 % quantiles t(0.975, df) for df = 1..30, then 40, 60, 120. */
const T975: Record<number, number> = {
  1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
  11: 2.201, 12: 2.179, 13: 2.16, 14: 2.145, 15: 2.131, 16: 2.12, 17: 2.11, 18: 2.101, 19: 2.093, 20: 2.086,
  21: 2.08, 22: 2.074, 23: 2.069, 24: 2.064, 25: 2.06, 26: 2.056, 27: 2.052, 28: 2.048, 29: 2.045, 30: 2.042,
  40: 2.021, 60: 2.0, 120: 1.98,
}

/** t(0.975, df): the table, the next smaller tabulated df above 30 (conservative), 1.96 beyond 120. */
export function t975(df: number): number {
  if (!Number.isInteger(df) || df < 1) throw new RangeError(`t975: df must be an integer ≥ 1, got ${df}`)
  if (df <= 30) return T975[df]!
  if (df < 40) return T975[30]!
  if (df < 60) return T975[40]!
  if (df < 120) return T975[60]!
  if (df === 120) return T975[120]!
  return 1.96
}

export function spreadOf(values: readonly number[]): SpreadFigureJson {
  const xs = values.filter((v) => Number.isFinite(v))
  const n = xs.length
  if (n === 0) return { mean: Number.NaN, low: Number.NaN, high: Number.NaN, sd: Number.NaN, n: 0, values: [] }
  const mean = xs.reduce((a, b) => a + b, 0) / n
  if (n === 1) return { mean, low: mean, high: mean, sd: 0, n, values: [...xs] }
  const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1))
  const half = t975(n - 1) * (sd / Math.sqrt(n))
  return { mean, low: mean - half, high: mean + half, sd, n, values: [...xs] }
}

/** The figures reported with their spread, per design: name → how to read it off one seed's result. */
export const SPREAD_FIGURES: Record<string, { label: string; unit: string; of: (d: DesignResultJson) => number | undefined }> = {
  successRate: { label: 'success rate', unit: 'ratio', of: (d) => d.successRate },
  gasPerPayment: { label: 'L1 gas / payment', unit: 'gas', of: (d) => d.l1.gasPerPayment },
  bytesPerPayment: { label: 'L1 calldata bytes / payment', unit: 'bytes', of: (d) => d.l1.bytesPerPayment },
  txsPerPayment: { label: 'L1 txs / payment', unit: 'txs', of: (d) => d.l1.txsPerPayment },
  txBytesPerPayment: { label: 'L1 tx bytes / payment', unit: 'bytes', of: (d) => d.l1.txBytesPerPayment },
  softP50Ms: { label: 'soft p50', unit: 'ms', of: (d) => d.latencyMs.soft.p50 },
  softP95Ms: { label: 'soft p95', unit: 'ms', of: (d) => d.latencyMs.soft.p95 },
  softP99Ms: { label: 'soft p99', unit: 'ms', of: (d) => d.latencyMs.soft.p99 },
  finalP50Ms: { label: 'final p50', unit: 'ms', of: (d) => (d.latencyMs.final.count > 0 ? d.latencyMs.final.p50 : undefined) },
  finalP95Ms: { label: 'final p95', unit: 'ms', of: (d) => (d.latencyMs.final.count > 0 ? d.latencyMs.final.p95 : undefined) },
  finalP99Ms: { label: 'final p99', unit: 'ms', of: (d) => (d.latencyMs.final.count > 0 ? d.latencyMs.final.p99 : undefined) },
  constraintsPerPayment: { label: 'constraints / payment', unit: 'count', of: (d) => d.prover?.constraintsPerPayment.value },
  proverCpuPerPayment: { label: 'prover CPU s / payment', unit: 's', of: (d) => d.prover?.cpuSecondsPerPayment?.value },
  capacityPerSecond: { label: 'capacity, payments/s', unit: 'payments/s', of: (d) => d.capacity?.paymentsPerSecond },
  lockedEthHours: { label: 'capital locked × time', unit: 'ETH·h', of: (d) => Number(BigInt(d.capital.lockedWeiSeconds)) / 1e18 / 3600 },
}

/** Each design's figures over the seeds' results (one list of design results per seed, headline first). */
export function spreadOverSeeds(seeds: readonly number[], runs: readonly (readonly DesignResultJson[])[]): SpreadJson {
  const names: string[] = []
  for (const run of runs) for (const d of run) if (!names.includes(d.name)) names.push(d.name)
  return {
    method: 'mean ± t(0.975, n−1) · s/√n over the seeds (Student t; s = sample standard deviation)',
    seeds: [...seeds],
    designs: names.map((name) => {
      const ran = runs.map((run) => run.find((d) => d.name === name)).filter((d): d is DesignResultJson => d?.ran === true)
      const figures: Record<string, SpreadFigureJson> = {}
      for (const [key, f] of Object.entries(SPREAD_FIGURES)) {
        const values = ran.map(f.of).filter((v): v is number => v !== undefined)
        if (values.length > 0) figures[key] = spreadOf(values)
      }
      return { name, figures }
    }),
  }
}
