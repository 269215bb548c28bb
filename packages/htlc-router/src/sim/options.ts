/**
 * The network simulator's options: `SimulatorOptions` as the caller gives
 * them, and their checks at the boundary (each bad field a typed error that
 * names it, thrown by the constructor before a run starts), with the
 * defaults filled in. The simulator itself is simulator.ts.
 */
import { InvalidInputError, describe } from '@l2bench/core'
import type { SplitOptions } from '../routing/mpp.ts'
import type { CostFunction } from '../routing/pathfinder.ts'
import type { ProbabilityCostParams } from '../routing/probability.ts'
import { DEFAULT_FINAL_CLTV_EXPIRY_DELTA, MAX_TOTAL_CLTV_EXPIRY } from '../routing/route.ts'
import type { Forwarder, InitialLiquidity } from './forwarder.ts'

export interface SimulatorOptions {
  seed: number | string
  /** Gas of one HTLC resolved on chain (from the adjudicator); multiplies the count in the report. */
  gasPerHtlcResolution: number
  /** Default: a BalanceForwarder over the graph with `liquidity` and `seed`. */
  forwarder?: Forwarder
  /** Initial split of capacities for the default forwarder (default 'uniform'). */
  liquidity?: InitialLiquidity
  /** One-way latency of a message between two peers, ms (default 100). */
  hopLatencyMs?: number
  /** Default 600,000 (Bitcoin's 10 minutes). */
  blockTimeMs?: number
  /** Default 800,000. */
  startHeight?: number
  /** Nodes offline for the whole run. */
  offlineNodes?: Iterable<number>
  /** Additionally, this share of nodes (drawn with the seed) is offline (default 0). */
  offlineFraction?: number
  /** Probability that a node, on accepting an HTLC, goes silent on it (default 0). */
  stuckProbability?: number
  /** Path cost: 'fee' (default) or 'probability'. */
  cost?: CostFunction
  riskFactorBillionths?: number
  probabilityCost?: Partial<ProbabilityCostParams>
  /** Split across routes when needed (default: single-path only). */
  mpp?: false | SplitOptions
  /** The sender starts no new attempt after this (default 60 s, as lnd). The receiver waits as long for missing parts. */
  paymentTimeoutMs?: number
  /** HTLC attempts per payment, parts included (default 32). */
  maxAttempts?: number
  finalCltvDelta?: number
  maxTotalCltv?: number
  /** Whose failures a sender learns from (default 'per-sender'). */
  missionControl?: 'per-sender' | 'per-payment' | 'shared'
  halfLifeMs?: number
}

/** The options with their defaults filled in. */
export type ResolvedOptions = Required<
  Pick<
    SimulatorOptions,
    | 'hopLatencyMs'
    | 'blockTimeMs'
    | 'startHeight'
    | 'stuckProbability'
    | 'cost'
    | 'paymentTimeoutMs'
    | 'maxAttempts'
    | 'finalCltvDelta'
    | 'maxTotalCltv'
    | 'missionControl'
    | 'halfLifeMs'
    | 'gasPerHtlcResolution'
  >
>

/** `v` as a finite number in min..max, or a typed error naming `field`. */
export function optionNumber(field: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max)
    throw new InvalidInputError(field, `expected a number in ${min}..${max}, got ${describe(v)}`)
  return v
}

/** Checks `o` and fills in the defaults; the simulator checks the forwarder, the offline nodes and `mpp` where it builds them. */
export function resolveOptions(o: SimulatorOptions): ResolvedOptions {
  if (typeof o !== 'object' || o === null) throw new InvalidInputError('options', 'expected an options object')
  if (typeof o.seed !== 'number' && typeof o.seed !== 'string') throw new InvalidInputError('seed', `expected a number or string, got ${describe(o.seed)}`)
  const opts: ResolvedOptions = {
    gasPerHtlcResolution: optionNumber('gasPerHtlcResolution', o.gasPerHtlcResolution, 0),
    hopLatencyMs: optionNumber('hopLatencyMs', o.hopLatencyMs ?? 100, 0),
    blockTimeMs: optionNumber('blockTimeMs', o.blockTimeMs ?? 600_000, 1),
    startHeight: optionNumber('startHeight', o.startHeight ?? 800_000, 0),
    stuckProbability: optionNumber('stuckProbability', o.stuckProbability ?? 0, 0, 1),
    cost: o.cost ?? 'fee',
    paymentTimeoutMs: optionNumber('paymentTimeoutMs', o.paymentTimeoutMs ?? 60_000, 0),
    maxAttempts: optionNumber('maxAttempts', o.maxAttempts ?? 32, 1, 100_000),
    finalCltvDelta: o.finalCltvDelta ?? DEFAULT_FINAL_CLTV_EXPIRY_DELTA,
    maxTotalCltv: o.maxTotalCltv ?? MAX_TOTAL_CLTV_EXPIRY,
    missionControl: o.missionControl ?? 'per-sender',
    halfLifeMs: optionNumber('halfLifeMs', o.halfLifeMs ?? 3_600_000, 1),
  }
  if (!Number.isSafeInteger(opts.startHeight)) throw new InvalidInputError('startHeight', 'expected an integer height')
  if (!['per-sender', 'per-payment', 'shared'].includes(opts.missionControl))
    throw new InvalidInputError('missionControl', `expected 'per-sender', 'per-payment' or 'shared', got ${describe(opts.missionControl)}`)
  if (opts.cost !== 'fee' && opts.cost !== 'probability')
    throw new InvalidInputError('cost', `expected 'fee' or 'probability', got ${describe(opts.cost)}`)
  return opts
}

/** Checks the split options (`mpp`), so a bad one fails when the simulator is built, not mid-run. */
export function checkMpp(mpp: SplitOptions): void {
  const { maxParts, minPartMsat } = mpp
  if (maxParts !== undefined && (!Number.isSafeInteger(maxParts) || maxParts < 1)) throw new InvalidInputError('mpp.maxParts', `expected ≥ 1, got ${describe(maxParts)}`)
  if (minPartMsat !== undefined && (typeof minPartMsat !== 'bigint' || minPartMsat < 1n))
    throw new InvalidInputError('mpp.minPartMsat', `expected a positive bigint, got ${describe(minPartMsat)}`)
}
