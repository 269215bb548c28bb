/**
 * results.json: the one file every report, the gate and the regression JSON
 * are rendered from. Amounts (wei) are decimal strings, since JSON numbers
 * cannot carry them exactly. `schema` is bumped on any breaking change; the
 * reader refuses other versions with a clear error.
 */
import { readFileSync } from 'node:fs'
import { z } from 'zod'
import { ResultsError } from './errors.ts'

export const RESULTS_SCHEMA = 1

export interface LatencySummary {
  p50: number
  p95: number
  p99: number
  mean: number
  max: number
  count: number
}

export interface CostLineJson {
  gas: number
  bytes: number
  txs: number
}

export interface DesignResultJson {
  name: string
  /** False when the adapter is missing or failed; `error` says why. */
  ran: boolean
  error?: string
  payments: number
  succeeded: number
  successRate: number
  failureReasons: Record<string, number>
  throughput: { paymentsPerSecond: number; measured: 'wall-clock' }
  wallMs: { setup: number; payments: number; settle: number }
  latencyMs: { soft: LatencySummary; final: LatencySummary; notFinal: number }
  l1: {
    gas: number
    gasPerPayment: number
    bytes: number
    bytesPerPayment: number
    /** Whole signed transactions (envelope + calldata), bytes. `bytes` is calldata only. */
    txBytes: number
    txBytesPerPayment: number
    txs: number
    txsPerPayment: number
    reverted: number
    feesWei: string
    byPhase: Record<'setup' | 'payments' | 'settle', CostLineJson>
    byOperation: Record<string, CostLineJson>
    byCharge: Record<string, number>
  }
  capital: { lockedWeiSeconds: string; meanLockedWei: string; peakLockedWei: string; simulatedSeconds: number }
  conservation: { ok: boolean; usersChecked: number; mismatches: { user: number; expected: string; actual: string }[] }
  faults: { paymentId: number; kind: string; outcome: string; safe: boolean }[]
  notes: string[]
  extrapolated: boolean
  extrapolations: { what: string; fit: string; measuredAt: string }[]
  samples?: { softMs: number[]; finalMs: number[] }
}

export interface SweepPointJson {
  dimension: 'payments' | 'users' | 'pairs' | 'paymentsPerPair'
  value: number
  design: string
  ran: boolean
  error?: string
  payments: number
  succeeded: number
  paymentsPerSecond: number
  gas: number
  gasPerPayment: number
  bytesPerPayment: number
  txsPerPayment: number
  finalP50Ms: number
  lockedWeiSeconds: string
}

export interface FitJson {
  design: string
  /** What was fitted, e.g. "total L1 gas = a + b · payments (one pair)". */
  model: string
  intercept: number
  slope: number
  r2: number
  points: number
}

export interface GateMetricJson {
  name: string
  value: number
  unit: string
  better: 'higher' | 'lower'
  /** Allowed relative regression before the gate fails (0.3 = 30 %). */
  tolerance: number
  description: string
}

export interface ResultsJson {
  schema: 1
  tool: { name: '@l2bench/bench'; version: string }
  scenario: string
  description: string
  seed: number
  quick: boolean
  startedAt: string
  durationMs: number
  machine: { os: string; arch: string; cpus: number; cpuModel: string; memoryGb: number; node: string }
  packages: Record<string, string>
  gasSchedule: Record<string, number>
  workload: {
    users: number
    pairs: number
    payments: number
    durationSimSeconds: number
    totalVolumeWei: string
    arrival: unknown
    amounts: unknown
    pairDistribution: unknown
    topology: unknown
    faults: unknown
    l1: { blockTime: number; blockGasLimit: number; gasPriceWei: string }
  }
  calibration: { signVerifyPerSecond: number; nodeSignVerifyPerSecond: number; nobleSignVerifyPerSecond: number; sha256PerSecond: number; measured: 'wall-clock' }
  designs: DesignResultJson[]
  sweeps: SweepPointJson[]
  fits: FitJson[]
  crossovers: { a: string; b: string; paymentsPerPair: number; extrapolated: true; from: string }[]
  gate: GateMetricJson[]
}

/** Minimal structural check when reading a file back; the full shape is ours. */
const readSchema = z.looseObject({
  schema: z.literal(RESULTS_SCHEMA, { error: (i) => `unsupported results schema ${JSON.stringify(i.input)} (expected ${RESULTS_SCHEMA})` }),
  scenario: z.string(),
  seed: z.number(),
  machine: z.looseObject({}),
  designs: z.array(
    z.looseObject({
      name: z.string(),
      payments: z.number(),
      succeeded: z.number(),
      throughput: z.looseObject({ paymentsPerSecond: z.number() }),
      latencyMs: z.looseObject({
        soft: z.looseObject({ p50: z.number(), p95: z.number(), p99: z.number() }),
        final: z.looseObject({ p50: z.number(), p95: z.number(), p99: z.number() }),
      }),
      l1: z.looseObject({ gas: z.number(), gasPerPayment: z.number(), bytes: z.number(), bytesPerPayment: z.number(), txs: z.number() }),
      extrapolated: z.boolean(),
    }),
  ),
  gate: z.array(z.looseObject({ name: z.string(), value: z.number() })).optional(),
})

export function validateResults(raw: unknown, file = 'results.json'): ResultsJson {
  const r = readSchema.safeParse(raw)
  if (!r.success) {
    const issue = r.error.issues[0]!
    const field = issue.path.map(String).join('.') || '(root)'
    throw new ResultsError(field, `${issue.message} in ${file}`)
  }
  return raw as ResultsJson
}

export function readResults(file: string): ResultsJson {
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'))
  } catch (cause) {
    throw new ResultsError('file', `cannot read ${file}: ${(cause as Error).message}`, { cause })
  }
  return validateResults(raw, file)
}
