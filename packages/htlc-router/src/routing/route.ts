/**
 * Routes: the plain per-hop instructions a sender hands along a path (amount
 * and expiry of the HTLC on each channel). There is no onion here — every hop
 * could read the whole route; this package models payments, not privacy.
 *
 * Conventions (BOLT 4 / lnd): hop i is the HTLC on directed edge
 * hops[i].from → hops[i].to. Node hops[i].from (i ≥ 1) forwards it and keeps
 * a fee set by its policy on that edge, and needs its incoming HTLC to expire
 * at least that edge's cltv delta after its outgoing one:
 *
 *   hops[i−1].amountMsat = hops[i].amountMsat + fee(edge_i, hops[i].amountMsat)
 *   hops[i−1].expiry     = hops[i].expiry + delta(edge_i)
 *   hops[last].amountMsat = amount delivered; hops[last].expiry = height + final delta
 *
 * The sender keeps no fee on the first hop, so hops[0].feeMsat = 0 and
 * hops[0].cltvDelta = 0.
 */
import { AmountError, InvalidInputError, describe, toPositiveAmount } from '@l2bench/core'
import { CapacityError, FeeError, RouteLoopError, TimelockError, UnknownChannelError } from '../errors.ts'
import { feeMsat } from '../graph/fees.ts'
import type { ChannelGraph } from '../graph/graph.ts'

/** BOLT 11's default min_final_cltv_expiry_delta is 18; lnd's invoices ask for 40 (DefaultFinalCltvDelta). */
export const MIN_FINAL_CLTV_EXPIRY_DELTA = 18
export const DEFAULT_FINAL_CLTV_EXPIRY_DELTA = 40
/** lnd's and BOLT 4's bound on the total timelock of a route (two weeks of blocks). */
export const MAX_TOTAL_CLTV_EXPIRY = 2016

export interface RouteHop {
  /** Directed edge 2·channel + direction. */
  readonly edge: number
  readonly channel: number
  readonly direction: 0 | 1
  readonly from: number
  readonly to: number
  /** Amount of the HTLC on this edge. */
  readonly amountMsat: bigint
  /** Absolute block height at which the HTLC on this edge expires. */
  readonly expiry: number
  /** Fee `from` keeps for forwarding onto this edge (0 on the first hop). */
  readonly feeMsat: bigint
  /** Timelock delta `from` requires between its incoming and this HTLC (0 on the first hop). */
  readonly cltvDelta: number
}

export interface Route {
  readonly source: number
  readonly target: number
  /** Amount delivered to the target. */
  readonly amountMsat: bigint
  /** Amount the sender locks on the first hop: delivered amount plus all fees. */
  readonly totalAmountMsat: bigint
  readonly totalFeesMsat: bigint
  /** Blocks the sender's funds can stay locked: hops[0].expiry − currentHeight. */
  readonly totalCltvDelta: number
  readonly currentHeight: number
  readonly finalCltvDelta: number
  /** Estimated success probability under the uniform-liquidity prior and mission control (1 when not estimated). */
  readonly probability: number
  readonly hops: readonly RouteHop[]
}

export interface RouteTiming {
  currentHeight: number
  finalCltvDelta: number
}

/**
 * Computes the exact amounts and expiries of a path of directed edges that
 * delivers `amountMsat` (backwards from the target, in bigint). Performs only
 * the structural checks the arithmetic needs; `validateRoute` does the rest.
 */
export function routeFromEdges(
  graph: ChannelGraph,
  edges: readonly number[],
  amountMsat: bigint,
  timing: RouteTiming,
  probability = 1,
): Route {
  if (edges.length === 0) throw new InvalidInputError('edges', 'a route needs at least one hop')
  const n = edges.length
  const hops = new Array<RouteHop>(n)
  let amount = amountMsat
  let expiry = timing.currentHeight + timing.finalCltvDelta
  for (let i = n - 1; i >= 0; i--) {
    const e = edges[i] as number
    graph.assertEdge(`edges[${i}]`, e)
    let fee = 0n
    let delta = 0
    if (i > 0) {
      fee = feeMsat(BigInt(graph.baseFee[e] as number), BigInt(graph.feeRate[e] as number), amount)
      delta = graph.cltvDelta[e] as number
    }
    hops[i] = {
      edge: e,
      channel: e >> 1,
      direction: (e & 1) as 0 | 1,
      from: graph.edgeFrom[e] as number,
      to: graph.edgeTo[e] as number,
      amountMsat: amount,
      expiry,
      feeMsat: fee,
      cltvDelta: delta,
    }
    amount += fee
    expiry += delta
  }
  const first = hops[0] as RouteHop
  const last = hops[n - 1] as RouteHop
  return {
    source: first.from,
    target: last.to,
    amountMsat,
    totalAmountMsat: first.amountMsat,
    totalFeesMsat: first.amountMsat - amountMsat,
    totalCltvDelta: first.expiry - timing.currentHeight,
    currentHeight: timing.currentHeight,
    finalCltvDelta: timing.finalCltvDelta,
    probability,
    hops,
  }
}

export interface ValidateRouteOptions {
  /** Height the route's expiries are checked against (default: route.currentHeight). */
  currentHeight?: number
  maxTotalCltv?: number
  minFinalCltvDelta?: number
  /**
   * false: check only the shape (edges exist and connect, no loops, positive
   * amounts within capacity), not fees, deltas, HTLC limits or expiry bounds —
   * for sending a deliberately bad route into the network, where each hop
   * enforces its own policy. Default true.
   */
  checkPolicy?: boolean
}

/**
 * Checks that a route is something honest hops would forward: edges exist and
 * connect, no node repeats, every HTLC fits its channel and policy, each hop
 * gets at least its fee and its timelock delta, and the expiries stay within
 * [height + min final delta, height + max total]. Throws a typed error naming
 * the offending field of the route.
 */
export function validateRoute(graph: ChannelGraph, route: Route, options: ValidateRouteOptions = {}): void {
  const height = options.currentHeight ?? route.currentHeight
  const maxTotal = options.maxTotalCltv ?? MAX_TOTAL_CLTV_EXPIRY
  const minFinal = options.minFinalCltvDelta ?? MIN_FINAL_CLTV_EXPIRY_DELTA
  const policy = options.checkPolicy ?? true
  checkHeight('currentHeight', height)
  checkCltvLimit('maxTotalCltv', maxTotal)
  const hops = route.hops
  if (!Array.isArray(hops) || hops.length === 0) throw new InvalidInputError('hops', 'a route needs at least one hop')
  const seen = new Set<number>()
  for (let i = 0; i < hops.length; i++) {
    const h = hops[i] as RouteHop
    const f = `hops[${i}]`
    graph.assertEdge(`${f}.edge`, h.edge)
    if (h.from !== graph.edgeFrom[h.edge] || h.to !== graph.edgeTo[h.edge] || h.channel !== h.edge >> 1 || h.direction !== (h.edge & 1))
      throw new UnknownChannelError(`${f}.edge`, `edge ${h.edge} does not join ${h.from} → ${h.to}`)
    if (i === 0) seen.add(h.from)
    else if (h.from !== (hops[i - 1] as RouteHop).to)
      throw new UnknownChannelError(`${f}.from`, `hop starts at ${h.from} but the previous hop ended at ${(hops[i - 1] as RouteHop).to}`)
    if (seen.has(h.to)) throw new RouteLoopError(`${f}.to`, `node ${h.to} appears twice in the route`)
    seen.add(h.to)
    toPositiveAmount(`${f}.amountMsat`, h.amountMsat)
    if (h.amountMsat > BigInt(graph.capacity[h.channel] as number))
      throw new CapacityError(`${f}.amountMsat`, `${h.amountMsat} exceeds the capacity of channel ${h.channel}`)
    if (!Number.isSafeInteger(h.expiry) || h.expiry < 0) throw new InvalidInputError(`${f}.expiry`, `expected a block height, got ${describe(h.expiry)}`)
    if (!policy) continue
    if (h.amountMsat > BigInt(graph.htlcMax[h.edge] as number))
      throw new CapacityError(`${f}.amountMsat`, `${h.amountMsat} exceeds htlc_maximum_msat of edge ${h.edge}`)
    if (h.amountMsat < BigInt(graph.htlcMin[h.edge] as number))
      throw new AmountError(`${f}.amountMsat`, `${h.amountMsat} is below htlc_minimum_msat of edge ${h.edge}`)
    if (i > 0) {
      const prev = hops[i - 1] as RouteHop
      const fee = feeMsat(BigInt(graph.baseFee[h.edge] as number), BigInt(graph.feeRate[h.edge] as number), h.amountMsat)
      if (prev.amountMsat - h.amountMsat < fee)
        throw new FeeError(`hops[${i - 1}].amountMsat`, `node ${h.from} needs a fee of ${fee} msat, the route pays ${prev.amountMsat - h.amountMsat}`)
      const delta = graph.cltvDelta[h.edge] as number
      if (prev.expiry - h.expiry < delta)
        throw new TimelockError(
          `hops[${i - 1}].expiry`,
          `node ${h.from} needs its incoming HTLC to expire ≥ ${delta} blocks after its outgoing one, the route gives ${prev.expiry - h.expiry}`,
        )
    }
  }
  const first = hops[0] as RouteHop
  const last = hops[hops.length - 1] as RouteHop
  if (route.source !== first.from) throw new InvalidInputError('source', `route source ${route.source} is not hops[0].from ${first.from}`)
  if (route.target !== last.to) throw new InvalidInputError('target', `route target ${route.target} is not the last hop's node ${last.to}`)
  if (route.amountMsat !== last.amountMsat)
    throw new InvalidInputError('amountMsat', `route amount ${route.amountMsat} differs from the last hop's ${last.amountMsat}`)
  if (!policy) return
  if (last.expiry - height < minFinal)
    throw new TimelockError(`hops[${hops.length - 1}].expiry`, `final expiry ${last.expiry} is less than ${minFinal} blocks after height ${height}`)
  if (first.expiry - height > maxTotal)
    throw new TimelockError('hops[0].expiry', `total timelock ${first.expiry - height} blocks exceeds the maximum ${maxTotal}`)
}

export interface BuildRouteParams {
  /** Nodes from sender to receiver. */
  path: readonly number[]
  amountMsat: bigint
  currentHeight?: number
  finalCltvDelta?: number
  maxTotalCltv?: number
}

/**
 * lnd's BuildRoute: a route along a given node path, picking for each pair the
 * cheapest enabled channel that can carry the amount. Throws a typed error for
 * unknown nodes, loops, pairs without a channel or without capacity, and
 * timelocks out of bounds.
 */
export function buildRoute(graph: ChannelGraph, params: BuildRouteParams): Route {
  const path = params.path
  if (!Array.isArray(path) || path.length < 2) throw new InvalidInputError('path', 'expected at least two nodes')
  const amount = toPositiveAmount('amountMsat', params.amountMsat)
  const height = params.currentHeight ?? 0
  const finalDelta = params.finalCltvDelta ?? DEFAULT_FINAL_CLTV_EXPIRY_DELTA
  const maxTotal = params.maxTotalCltv ?? MAX_TOTAL_CLTV_EXPIRY
  checkHeight('currentHeight', height)
  checkCltvLimit('maxTotalCltv', maxTotal)
  checkFinalDelta('finalCltvDelta', finalDelta, maxTotal)
  const seen = new Set<number>()
  path.forEach((v, i) => {
    graph.assertNode(`path[${i}]`, v)
    if (seen.has(v)) throw new RouteLoopError(`path[${i}]`, `node ${v} appears twice in the path`)
    seen.add(v)
  })
  // Walk backwards: the amount a pair must carry depends on everything after it.
  const edges = new Array<number>(path.length - 1)
  let amountOnEdge = amount
  for (let i = path.length - 2; i >= 0; i--) {
    const candidates = graph.edgesBetween(path[i] as number, path[i + 1] as number)
    if (candidates.length === 0) throw new UnknownChannelError(`path[${i + 1}]`, `no channel from ${path[i]} to ${path[i + 1]}`)
    let best = -1
    let bestFee = 0n
    for (const e of candidates) {
      if (graph.disabled[e] === 1) continue
      const a = amountOnEdge
      if (a > BigInt(graph.capacity[e >> 1] as number) || a > BigInt(graph.htlcMax[e] as number) || a < BigInt(graph.htlcMin[e] as number)) continue
      const fee = i > 0 ? feeMsat(BigInt(graph.baseFee[e] as number), BigInt(graph.feeRate[e] as number), a) : 0n
      if (best < 0 || fee < bestFee) {
        best = e
        bestFee = fee
      }
    }
    if (best < 0)
      throw new CapacityError(`path[${i + 1}]`, `no enabled channel from ${path[i]} to ${path[i + 1]} can carry ${amountOnEdge} msat`)
    edges[i] = best
    amountOnEdge += bestFee
  }
  const route = routeFromEdges(graph, edges, amount, { currentHeight: height, finalCltvDelta: finalDelta })
  validateRoute(graph, route, { currentHeight: height, maxTotalCltv: maxTotal })
  return route
}

export function checkHeight(field: string, height: unknown): asserts height is number {
  if (typeof height !== 'number' || !Number.isSafeInteger(height) || height < 0)
    throw new InvalidInputError(field, `expected a block height, got ${describe(height)}`)
}

export function checkCltvLimit(field: string, maxTotal: unknown): asserts maxTotal is number {
  if (typeof maxTotal !== 'number' || !Number.isSafeInteger(maxTotal) || maxTotal < MIN_FINAL_CLTV_EXPIRY_DELTA)
    throw new InvalidInputError(field, `expected an integer ≥ ${MIN_FINAL_CLTV_EXPIRY_DELTA}, got ${describe(maxTotal)}`)
  if (maxTotal > MAX_TOTAL_CLTV_EXPIRY)
    throw new TimelockError(field, `${maxTotal} blocks exceeds the protocol maximum ${MAX_TOTAL_CLTV_EXPIRY}`)
}

export function checkFinalDelta(field: string, delta: unknown, maxTotal: number): asserts delta is number {
  if (typeof delta !== 'number' || !Number.isSafeInteger(delta))
    throw new InvalidInputError(field, `expected an integer, got ${describe(delta)}`)
  if (delta < MIN_FINAL_CLTV_EXPIRY_DELTA)
    throw new TimelockError(field, `final delta ${delta} is below the minimum ${MIN_FINAL_CLTV_EXPIRY_DELTA} blocks`)
  if (delta > maxTotal) throw new TimelockError(field, `final delta ${delta} exceeds the maximum total timelock ${maxTotal}`)
}
