/**
 * Summary of a simulation run: success rate with failure reasons (CLoTH's
 * categories), hops, fees, latency, attempts, routing time and on-chain cost.
 * Percentiles are nearest-rank over the measured values; nothing is
 * extrapolated.
 */
import type { FailureCategory } from './hop.ts'
import { FAILURE_CATEGORIES } from './hop.ts'
import type { PaymentResult } from './payment.ts'
import type { NetworkSimulator } from './simulator.ts'

export interface Distribution {
  count: number
  mean: number
  p50: number
  p99: number
  max: number
}

export interface SimReport {
  payments: number
  succeeded: number
  successRate: number
  failures: Record<FailureCategory, number>
  /** Over all payments. */
  attempts: Distribution
  /** Over successful payments. */
  parts: Distribution
  /** Over settled parts. */
  hops: Distribution
  /** Over successful payments, simulated ms. */
  latencyMs: Distribution
  volumeMsat: bigint
  feesMsat: bigint
  /** Fees per delivered amount, ppm. */
  feePpm: number
  /** Wall-clock time of each routing call (single route or split). */
  routingMs: Distribution
  onchain: { forceCloses: number; htlcResolutions: number; gas: number }
}

export function distribution(values: readonly number[]): Distribution {
  if (values.length === 0) return { count: 0, mean: 0, p50: 0, p99: 0, max: 0 }
  const v = values.slice().sort((a, b) => a - b)
  const rank = (q: number) => v[Math.min(v.length - 1, Math.max(0, Math.ceil(q * v.length) - 1))] as number
  let sum = 0
  for (const x of v) sum += x
  return { count: v.length, mean: sum / v.length, p50: rank(0.5), p99: rank(0.99), max: v[v.length - 1] as number }
}

/** Summarises `results` (default: everything the simulator ran). */
export function summarize(sim: NetworkSimulator, results: readonly PaymentResult[] = sim.results): SimReport {
  const failures = Object.fromEntries(FAILURE_CATEGORIES.map((c) => [c, 0])) as Record<FailureCategory, number>
  let succeeded = 0
  let volume = 0n
  let fees = 0n
  const attempts: number[] = []
  const parts: number[] = []
  const hops: number[] = []
  const latency: number[] = []
  for (const r of results) {
    attempts.push(r.attempts.length)
    if (r.success) {
      succeeded++
      volume += r.amountMsat
      fees += r.feesMsat
      parts.push(r.parts)
      latency.push(r.latencyMs)
      for (const a of r.attempts) if (a.outcome === 'settled') hops.push(a.route.hops.length)
    } else if (r.reason !== undefined) failures[r.reason]++
  }
  return {
    payments: results.length,
    succeeded,
    successRate: results.length === 0 ? 0 : succeeded / results.length,
    failures,
    attempts: distribution(attempts),
    parts: distribution(parts),
    hops: distribution(hops),
    latencyMs: distribution(latency),
    volumeMsat: volume,
    feesMsat: fees,
    feePpm: volume === 0n ? 0 : Number((fees * 1_000_000_000n) / volume) / 1000,
    routingMs: distribution(sim.stats.routingTimesMs),
    onchain: { forceCloses: sim.stats.forceCloses, htlcResolutions: sim.stats.onchainHtlcResolutions, gas: sim.onchainGas },
  }
}

/** A short plain-text rendering of a report. */
export function formatReport(r: SimReport): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`
  const fail = FAILURE_CATEGORIES.filter((c) => r.failures[c] > 0)
    .map((c) => `${c} ${r.failures[c]}`)
    .join(', ')
  return [
    `payments ${r.payments}, succeeded ${r.succeeded} (${pct(r.successRate)})${fail ? `; failed: ${fail}` : ''}`,
    `attempts mean ${r.attempts.mean.toFixed(2)} (max ${r.attempts.max}); parts mean ${r.parts.mean.toFixed(2)}; hops mean ${r.hops.mean.toFixed(2)} p99 ${r.hops.p99}`,
    `latency p50 ${r.latencyMs.p50.toFixed(0)} ms, p99 ${r.latencyMs.p99.toFixed(0)} ms (simulated)`,
    `fees ${r.feesMsat} msat on ${r.volumeMsat} msat delivered (${r.feePpm.toFixed(1)} ppm)`,
    `routing p50 ${r.routingMs.p50.toFixed(2)} ms, p99 ${r.routingMs.p99.toFixed(2)} ms (wall clock, ${r.routingMs.count} calls)`,
    `on chain: ${r.onchain.forceCloses} force-closes, ${r.onchain.htlcResolutions} HTLC resolutions, ${r.onchain.gas} gas`,
  ].join('\n')
}
