/**
 * Multi-part payments: split an amount across several routes when no single
 * route carries it (lnd's split-on-failure, done up front). Try the whole
 * remainder; when no route exists for a shard, halve the shard and try again;
 * every route found is counted as in flight on its edges, so later shards see
 * less room on the channels earlier ones already use (and, under the
 * probability cost, a lower success probability there).
 */
import { InvalidInputError, describe, minAmount, toPositiveAmount } from '@l2bench/core'
import { CapacityError, NoRouteError } from '../errors.ts'
import type { ChannelGraph } from '../graph/graph.ts'
import type { Pathfinder, RouteRequest } from './pathfinder.ts'
import type { Route } from './route.ts'

export interface SplitOptions {
  /** At most this many parts (default 16). */
  maxParts?: number
  /** Shards are not halved below this (default 10,000 sat); a final remainder may be smaller. */
  minPartMsat?: bigint
}

export const DEFAULT_MAX_PARTS = 16
export const DEFAULT_MIN_PART_MSAT = 10_000_000n

/**
 * Routes that together deliver `req.amountMsat`: one route when one suffices,
 * otherwise up to `maxParts`. Throws NoRouteError when no split within the
 * limits is found, CapacityError when the amount exceeds everything the
 * source or target could ever carry at once.
 */
export function findPaymentParts(pathfinder: Pathfinder, req: RouteRequest, options: SplitOptions = {}): Route[] {
  const g: ChannelGraph = pathfinder.graph
  g.assertNode('source', req.source)
  g.assertNode('target', req.target)
  const amount = toPositiveAmount('amountMsat', req.amountMsat)
  const maxParts = options.maxParts ?? DEFAULT_MAX_PARTS
  if (!Number.isSafeInteger(maxParts) || maxParts < 1 || maxParts > 1024)
    throw new InvalidInputError('maxParts', `expected 1..1024, got ${describe(maxParts)}`)
  const minPart = options.minPartMsat ?? DEFAULT_MIN_PART_MSAT
  if (typeof minPart !== 'bigint' || minPart < 1n) throw new InvalidInputError('minPartMsat', `expected a positive bigint, got ${describe(minPart)}`)
  // The total any split can deliver is bounded by the channels at either end.
  const outCap = g.nodeCapacityMsat(req.source)
  const inCap = g.nodeCapacityMsat(req.target)
  if (amount > outCap) throw new CapacityError('amountMsat', `${amount} msat exceeds the source's total capacity ${outCap}`)
  if (amount > inCap) throw new CapacityError('amountMsat', `${amount} msat exceeds the target's total capacity ${inCap}`)

  const inFlight = new Map<number, bigint>(req.inFlightMsat ?? [])
  const parts: Route[] = []
  let remaining = amount
  let shard = amount
  while (remaining > 0n) {
    const want = minAmount(shard, remaining)
    let route: Route | undefined
    try {
      route = pathfinder.findRoute({ ...req, amountMsat: want, inFlightMsat: inFlight })
    } catch (err) {
      if (!(err instanceof NoRouteError || err instanceof CapacityError)) throw err
    }
    if (route === undefined) {
      if (want <= minPart) throw new NoRouteError('amountMsat', `no split of ${amount} msat into parts ≥ ${minPart} msat found (${parts.length} parts routed)`)
      const half = (want + 1n) / 2n
      shard = half > minPart ? half : minPart
      continue
    }
    if (parts.length === maxParts) throw new NoRouteError('amountMsat', `${amount} msat needs more than ${maxParts} parts`)
    parts.push(route)
    remaining -= want
    for (const h of route.hops) inFlight.set(h.edge, (inFlight.get(h.edge) ?? 0n) + h.amountMsat)
  }
  return parts
}
