/**
 * results.json: the one file every report, the gate and the regression JSON
 * are rendered from. Amounts (wei) are decimal strings, since JSON numbers
 * cannot carry them exactly. `schema` is bumped on any breaking change; the
 * reader refuses other versions with a clear error.
 */
import { readFileSync } from 'node:fs'
import { z } from 'zod'
import { ResultsError } from './errors.ts'
import type { ShardRunJson } from './shard.ts'
import type { SpreadJson } from './spread.ts'

export const RESULTS_SCHEMA = 2

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

/**
 * Where a figure came from: measured in this run; computed from measured
 * figures (with the formula shown); modelled (a model constant or a figure
 * derived from the calibration stands in for a measurement); or a parameter
 * of the scenario or of the workload's structure (block gas, provers, pairs).
 */
export type Source = 'measured' | 'computed' | 'modelled' | 'parameter'

/** One input of a formula: its value, unit, provenance and how it was obtained. */
export interface FigureJson {
  value: number
  unit: string
  source: Source
  how: string
}

/** One bound of a capacity formula (off-chain, L1, prover, …), in payments/s. */
export interface BoundJson {
  name: string
  paymentsPerSecond: number
  /** The formula with this run's numbers, e.g. "30,000,000 gas ÷ 21,000 gas ÷ 12 s". */
  formula: string
  source: Source
}

/**
 * System capacity: the payments per second the design sustains as a system
 * (its parties on their own machines, the L1 of the scenario), computed from
 * per-operation costs measured in this run. Not the harness's speed.
 */
export interface CapacityJson {
  paymentsPerSecond: number
  /** computed (from measured figures and parameters) or modelled (some input is a model stand-in). */
  source: Extract<Source, 'computed' | 'modelled'>
  /** The model in symbols, e.g. "min(r_pair × M, G ÷ g ÷ T)". */
  model: string
  bounds: BoundJson[]
  /** Name of the smallest bound. */
  binding: string
  inputs: Record<string, FigureJson>
}

/** Where a design kept its state while producing its figures. */
export interface StoreJson {
  kind: 'sqlite' | 'memory' | 'none'
  /** SQLite `synchronous` pragma (FULL: every commit fsynced). */
  synchronous?: 'FULL' | 'NORMAL'
  /** Directory of the database files and its filesystem (e.g. "ext4 on /dev/vda"). */
  location?: string
  filesystem?: string
  description: string
}

/** Per-round ratios and their spread. */
export interface RatioStatsJson {
  /** Sign test over the (payment, bound run) pairs: how often the payment took less time; p = chance of that many or more if it were a coin flip. */
  faster: { pairs: number; designFaster: number; p: number }
  median: number
  q1: number
  q3: number
  min: number
  max: number
  /** (max − min) ÷ median. */
  spread: number
  ratios: number[]
}

/**
 * A design's rate against its own crypto (and fsync) bound, measured in short
 * alternating rounds in one process (probe.ts): each round alternates one
 * payment on one pair and one run of exactly the signatures, verifications
 * and commits a payment needs; ratio = median bound time ÷ median payment
 * time, in CPU time (`cpu`, the CI gate's figure) and in wall time (`wall`,
 * which adds fsync waits and other processes' load). A ratio above 1 means
 * the design did less work than its bound says: a bug.
 */
export interface BoundRatioJson {
  /** What one payment's bound consists of, e.g. "2 × (noble sign + node:crypto verify) + 3 SQLite FULL commits". */
  bound: string
  rounds: number
  /** 1 ÷ the median wall time of one payment (one pair paying back to back), payments/s. */
  designPerSecond: number
  /** 1 ÷ the median wall time of one bound run. */
  boundPerSecond: number
  cpu: RatioStatsJson
  wall: RatioStatsJson
}

/**
 * Prover work as a cost (designs that prove: the rollup). Per payment = over
 * the whole run (every batch's circuit, padding and deposit slots included)
 * ÷ succeeded payments; `source` says whether a figure rests on proofs made
 * in this run only or partly on the prover rate measured here.
 */
export interface ProverCostJson {
  /** The circuit, e.g. "Batch(n=8, d=4, depth 6, packed)". */
  circuit: string
  constraintsPerBatch: number
  batches: number
  /** Batches proven and verified on L1 in this run (the rest were built for real, their proving time from the measured rate). */
  provenBatches: number
  /** Proving workers: single-threaded worker threads of this process (one per core), or the prover farm's worker processes that proved. */
  workers: number
  constraintsPerPayment: FigureJson
  /** Absent when no proof's CPU time could be measured (the proving thread's clock is read from /proc on Linux). */
  cpuSecondsPerPayment?: FigureJson
  /** One batch's witness + proof on one worker, mean over the proven batches: wall, and CPU (absent when not measured). */
  wallSecondsPerProof: number
  cpuSecondsPerProof?: number
}

export interface DesignResultJson {
  name: string
  /**
   * What ran when it is not the design's full form (the HTLC design's
   * "simulated forwarding" on graphs too big for real nodes): every table and
   * chart shows it with the name (report/format.ts `designLabel`).
   */
  variant?: string
  /** False when the adapter is missing or failed; `error` says why. */
  ran: boolean
  error?: string
  payments: number
  succeeded: number
  successRate: number
  failureReasons: Record<string, number>
  /**
   * Diagnostic: how fast this harness pushed the workload through the design
   * (succeeded payments ÷ wall time of the payment phase, every party in one
   * process on this machine). Not a property of the design; see `capacity`.
   */
  harness: { paymentsPerSecond: number; measured: 'wall-clock' }
  /** System capacity with its formula (absent when the design could not be probed; `capacityError` says why). */
  capacity?: CapacityJson
  capacityError?: string
  /** The design's rate ÷ its crypto/fsync bound, interleaved (absent for designs with no bound, e.g. simulated forwarding). */
  boundRatio?: BoundRatioJson
  /** Which store and sync mode produced these figures. */
  store: StoreJson
  wallMs: { setup: number; payments: number; settle: number }
  /** `finalParts`: the final latency's parts (design-defined, e.g. batch close, prover queue, proving, L1 inclusion), each over the payments that report them. */
  latencyMs: { soft: LatencySummary; final: LatencySummary; notFinal: number; finalParts?: Record<string, LatencySummary> }
  /** Prover work per payment (designs that prove). */
  prover?: ProverCostJson
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
  /** As DesignResultJson.variant. */
  variant?: string
  ran: boolean
  error?: string
  payments: number
  succeeded: number
  /** Harness speed (diagnostic, wall clock). */
  harnessPaymentsPerSecond: number
  gas: number
  gasPerPayment: number
  bytesPerPayment: number
  txsPerPayment: number
  finalP50Ms: number
  /** Mean final latency (absent in results written before it was recorded). */
  finalMeanMs?: number
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

/** The chain a run's designs ran on. */
export type L1Backend = 'mock' | 'evm'

export interface ResultsJson {
  schema: 2
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
  /**
   * Which L1 produced the gas and calldata figures: 'mock' (MockL1, the gas
   * schedule above; docs/parity.md compares it with a real EVM) or 'evm'
   * (anvil running the designs' Solidity ports: measured gas). Absent in
   * files written before the EVM backend: the mock.
   */
  l1Backend?: { name: L1Backend; description: string }
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
  /** Parameters of the capacity and cost model (scenario `model:`). */
  model: { provers: number; ethPriceUsd: number }
  /** Primitive rates on this machine, measured once before the designs (context only: the gate uses `designs[].boundRatio`). */
  calibration: { signVerifyPerSecond: number; nodeSignVerifyPerSecond: number; nobleSignVerifyPerSecond: number; sha256PerSecond: number; measured: 'wall-clock' }
  designs: DesignResultJson[]
  sweeps: SweepPointJson[]
  fits: FitJson[]
  crossovers: { a: string; b: string; paymentsPerPair: number; extrapolated: true; from: string }[]
  /** Total final latency of one pair's payments = a + b · payments, per design (the payments-per-pair sweep): a is what a pair's first payment waits for once (a channel's open). */
  latencyFits?: FitJson[]
  /** Payments per pair above which design a has the lower mean latency than design b (from latencyFits). */
  latencyCrossovers?: { a: string; b: string; paymentsPerPair: number; extrapolated: true; from: string }[]
  gate: GateMetricJson[]
  /**
   * A multi-seed run (--seeds): every seed, the headline `seed` first. The
   * tables above (designs, sweeps, fits, gate) are the headline seed's;
   * `seedRuns` holds the other seeds' results and `spread` each figure's mean
   * and 95 % interval over all of them.
   */
  seeds?: number[]
  seedRuns?: { seed: number; designs: DesignResultJson[]; sweeps: SweepPointJson[] }[]
  spread?: SpreadJson
  /** A run merged from shards (l2bench merge): where and when each shard ran; `machine` and `calibration` above are shard 1's. */
  shards?: ShardRunJson[]
}

/** Minimal structural check when reading a file back; the full shape is ours. */
const readSchema = z.looseObject({
  schema: z.literal(RESULTS_SCHEMA, { error: (i) => `unsupported results schema ${JSON.stringify(i.input)} (expected ${RESULTS_SCHEMA})` }),
  scenario: z.string(),
  seed: z.number(),
  machine: z.looseObject({}),
  model: z.looseObject({ provers: z.number(), ethPriceUsd: z.number() }),
  designs: z.array(
    z.looseObject({
      name: z.string(),
      payments: z.number(),
      succeeded: z.number(),
      harness: z.looseObject({ paymentsPerSecond: z.number() }),
      store: z.looseObject({ kind: z.string(), description: z.string() }),
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
