/**
 * Seeded payment workloads in the style of the simulators the anchors cite:
 * Poisson arrivals (exponential gaps, CLoTH), log-normal amounts, senders and
 * receivers drawn in proportion to their channel capacity (SimLN's activity
 * model) or uniformly. Same options, same payments.
 */
import { InvalidInputError, Rng, WeightedTable, describe } from '@l2bench/core'
import type { ChannelGraph } from '../graph/graph.ts'
import type { Payment } from './payment.ts'

export type AmountDistribution =
  | { kind: 'fixed'; sat: number }
  | { kind: 'logNormal'; medianSat: number; sigma: number; minSat?: number; maxSat?: number }

export interface WorkloadOptions {
  seed: number | string
  count: number
  /** Mean arrivals per second of simulated time (Poisson). */
  ratePerSecond: number
  amount: AmountDistribution
  /** 'capacity' (default): probability ∝ the node's total channel capacity. */
  senders?: 'capacity' | 'uniform'
  receivers?: 'capacity' | 'uniform'
  /** Nodes never picked as sender or receiver. */
  exclude?: Iterable<number>
  startMs?: number
  /** First payment id (default 0). */
  firstId?: number
}

export function generateWorkload(graph: ChannelGraph, options: WorkloadOptions): Payment[] {
  const o = options
  if (!Number.isSafeInteger(o.count) || o.count < 0) throw new InvalidInputError('count', `expected a count, got ${describe(o.count)}`)
  if (typeof o.ratePerSecond !== 'number' || !(o.ratePerSecond > 0) || !Number.isFinite(o.ratePerSecond))
    throw new InvalidInputError('ratePerSecond', `expected a positive rate, got ${describe(o.ratePerSecond)}`)
  const a = o.amount
  if (a?.kind === 'fixed') {
    if (!(a.sat >= 1)) throw new InvalidInputError('amount.sat', `expected ≥ 1 sat, got ${describe(a.sat)}`)
  } else if (a?.kind === 'logNormal') {
    if (!(a.medianSat > 0) || !(a.sigma >= 0)) throw new InvalidInputError('amount', 'logNormal needs medianSat > 0 and sigma ≥ 0')
  } else throw new InvalidInputError('amount', `expected a fixed or logNormal amount distribution, got ${describe(a)}`)
  const startMs = o.startMs ?? 0
  if (typeof startMs !== 'number' || !(startMs >= 0)) throw new InvalidInputError('startMs', `expected ≥ 0, got ${describe(startMs)}`)
  const excluded = new Uint8Array(graph.nodeCount)
  for (const v of o.exclude ?? []) {
    graph.assertNode('exclude', v)
    excluded[v] = 1
  }
  const senderPick = picker(graph, o.senders ?? 'capacity', excluded, 'senders')
  const receiverPick = picker(graph, o.receivers ?? 'capacity', excluded, 'receivers')

  const rng = new Rng(`workload:${o.seed}`)
  const timeRng = rng.fork('arrivals')
  const nodeRng = rng.fork('nodes')
  const amountRng = rng.fork('amounts')
  const out: Payment[] = []
  let t = startMs
  const firstId = o.firstId ?? 0
  for (let i = 0; i < o.count; i++) {
    t += timeRng.exponential(o.ratePerSecond) * 1000
    const sender = senderPick(nodeRng)
    let receiver = receiverPick(nodeRng)
    for (let k = 0; receiver === sender; k++) {
      if (k > 1000) throw new InvalidInputError('receivers', 'cannot draw a receiver distinct from the sender')
      receiver = receiverPick(nodeRng)
    }
    let sat: number
    if (a.kind === 'fixed') sat = a.sat
    else sat = Math.min(a.maxSat ?? Number.POSITIVE_INFINITY, Math.max(a.minSat ?? 1, amountRng.logNormal(Math.log(a.medianSat), a.sigma)))
    const amountMsat = BigInt(Math.max(1, Math.round(sat))) * 1000n
    out.push({ id: firstId + i, timeMs: t, sender, receiver, amountMsat })
  }
  return out
}

/** Draws nodes by weight (core's WeightedTable: O(log n) per draw). */
function picker(graph: ChannelGraph, mode: 'capacity' | 'uniform', excluded: Uint8Array, field: string): (r: Rng) => number {
  if (mode !== 'capacity' && mode !== 'uniform') throw new InvalidInputError(field, `expected 'capacity' or 'uniform', got ${describe(mode)}`)
  const n = graph.nodeCount
  const weights = new Float64Array(n)
  for (let v = 0; v < n; v++) {
    if (excluded[v] !== 0 || graph.degree(v) === 0) continue
    if (mode === 'uniform') weights[v] = 1
    else for (const e of graph.outgoing(v)) weights[v] = (weights[v] as number) + (graph.capacity[e >> 1] as number)
  }
  const table = new WeightedTable(weights)
  if (!(table.total() > 0)) throw new InvalidInputError(field, 'no eligible node to draw')
  return (r) => table.draw(r)
}
