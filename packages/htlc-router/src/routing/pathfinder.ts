/**
 * Backward Dijkstra over the channel graph, as lnd's findPath does: the search
 * starts at the receiver with the amount to deliver and walks incoming edges
 * toward the sender, because a hop's fee depends on what it must forward —
 * which is only known once everything downstream is fixed. Each label carries
 * the amount that must arrive at the node and the blocks of timelock
 * accumulated so far, so fees compound and deltas add up exactly as the HTLCs
 * will.
 *
 * Edges are skipped when they are disabled or excluded (closed), too small
 * (capacity, htlc_maximum, htlc_minimum, or minus amounts already in flight),
 * when the accumulated timelock passes the maximum, when the fee limit is
 * exceeded, or when mission control rules them out (the amount is above the
 * decayed liquidity ceiling learnt from a failure; the next node was blamed
 * for a failure recently). The sender's own channels use the balances it
 * knows, when given.
 *
 * Two cost functions:
 *  - 'fee' (plain): fee + riskFactor · amount · delta (lnd's timelock risk
 *    term, 15 ppb per block by default). With riskFactor = 0 the cost is the
 *    total fee, and the search is exact: a cheaper label means a smaller
 *    amount, which never costs more upstream (fees are monotone in amount).
 *  - 'probability': adds LDK-style −log10 P penalties (see probability.ts)
 *    with P from the uniform liquidity prior narrowed by mission control.
 *
 * Hot loop: typed arrays only, float64 msat (exact below 2^53; see fees.ts),
 * generation stamps instead of clearing per-node arrays, an indexed binary
 * heap. The route is then rebuilt exactly in bigint by routeFromEdges.
 */
import { InvalidInputError, describe, toPositiveAmount } from '@l2bench/core'
import { CapacityError, NoRouteError } from '../errors.ts'
import { feeMsatNumber } from '../graph/fees.ts'
import type { ChannelGraph } from '../graph/graph.ts'
import { IndexedMinHeap } from './heap.ts'
import type { MissionControl } from './mission-control.ts'
import { DEFAULT_PROBABILITY_COST, type ProbabilityCostParams, liquidityProbability } from './probability.ts'
import {
  DEFAULT_FINAL_CLTV_EXPIRY_DELTA,
  MAX_TOTAL_CLTV_EXPIRY,
  type Route,
  checkCltvLimit,
  checkFinalDelta,
  checkHeight,
  routeFromEdges,
} from './route.ts'

export type CostFunction = 'fee' | 'probability'

export interface RouteRequest {
  source: number
  target: number
  /** Amount to deliver to the target (msat, > 0). */
  amountMsat: bigint
  /** Height the expiries are counted from (default 0). */
  currentHeight?: number
  /** Receiver's min_final_cltv_expiry_delta (default 40, at least 18). */
  finalCltvDelta?: number
  /** Bound on the route's total timelock (default and protocol maximum 2016). */
  maxTotalCltv?: number
  /** Largest total fee the sender accepts. */
  feeLimitMsat?: bigint
  /** 'fee' (default) or 'probability'. */
  cost?: CostFunction
  /** Timelock risk: cost per msat per block, in billionths (default 15, as lnd). */
  riskFactorBillionths?: number
  /** Penalties of the 'probability' cost (defaults: LDK's). */
  probabilityCost?: Partial<ProbabilityCostParams>
  /** What the sender has learnt from earlier attempts. */
  missionControl?: MissionControl
  /** Time (ms) for mission control's decay. */
  now?: number
  /** Amounts already in flight per directed edge (other parts of the same payment). */
  inFlightMsat?: ReadonlyMap<number, bigint>
  /** Spendable balance of the sender's own outgoing edges (it knows its channels). */
  localLiquidityMsat?: (edge: number) => bigint
  /** Per channel: 1 = do not use (closed, or excluded by the caller). */
  excludedChannels?: Uint8Array
}

/** Counters of the last search (for benchmarks). */
export interface SearchStats {
  settled: number
  relaxed: number
}

const NO_EDGE = -1
const INV_2P20 = 1 / 1_048_576

/**
 * Finds routes on one graph, reusing its scratch memory between searches.
 * Not reentrant: one search at a time per Pathfinder.
 *
 * Layout: the backward search reads, for each settled node, all its incoming
 * edges. Edge attributes indexed by edge id would be scattered across memory
 * (a node's in-edges have unrelated ids), costing a cache miss per attribute
 * per edge; so the constructor copies them once into "slot" order — the
 * order of the graph's incoming CSR — where a node's in-edges are
 * contiguous. Per-search hints (mission control, in-flight, local balances,
 * exclusions) are likewise stored per slot.
 */
export class Pathfinder {
  readonly graph: ChannelGraph
  readonly lastStats: SearchStats = { settled: 0, relaxed: 0 }
  // Per node.
  private readonly cost: Float64Array
  private readonly amt: Float64Array
  private readonly cltv: Float64Array
  private readonly prob: Float64Array
  /** Slot of the edge the node forwards over toward the target. */
  private readonly next: Int32Array
  /** < 2·epoch: unseen; 2·epoch: labelled (in the heap); 2·epoch + 1: settled. */
  private readonly state: Uint32Array
  private readonly nodeStamp: Uint32Array
  private readonly nodeFactor: Float64Array
  private readonly heap: IndexedMinHeap
  // Per slot (incoming-CSR order), copied from the graph once.
  private readonly slotEdge: Int32Array
  private readonly slotFrom: Int32Array
  private readonly slotCap: Float64Array
  private readonly slotBase: Float64Array
  private readonly slotPpm: Float64Array
  private readonly slotDelta: Float64Array
  private readonly slotHmin: Float64Array
  private readonly slotHmax: Float64Array
  private readonly slotDisabled: Uint8Array
  private readonly slotOfEdge: Int32Array
  // Per slot, valid where hintStamp == epoch.
  private readonly hintStamp: Uint32Array
  private readonly hintExcluded: Uint8Array
  private readonly mcLo: Float64Array
  private readonly mcHi: Float64Array
  private readonly inFlight: Float64Array
  private readonly localLiq: Float64Array
  private epoch = 0

  constructor(graph: ChannelGraph) {
    this.graph = graph
    const n = graph.nodeCount
    const m2 = graph.edgeCount
    this.cost = new Float64Array(n)
    this.amt = new Float64Array(n)
    this.cltv = new Float64Array(n)
    this.prob = new Float64Array(n)
    this.next = new Int32Array(n)
    this.state = new Uint32Array(n)
    this.nodeStamp = new Uint32Array(n)
    this.nodeFactor = new Float64Array(n)
    this.heap = new IndexedMinHeap(n)
    this.slotEdge = new Int32Array(m2)
    this.slotFrom = new Int32Array(m2)
    this.slotCap = new Float64Array(m2)
    this.slotBase = new Float64Array(m2)
    this.slotPpm = new Float64Array(m2)
    this.slotDelta = new Float64Array(m2)
    this.slotHmin = new Float64Array(m2)
    this.slotHmax = new Float64Array(m2)
    this.slotDisabled = new Uint8Array(m2)
    this.slotOfEdge = new Int32Array(m2)
    for (let k = 0; k < m2; k++) {
      const e = graph.inEdges[k] as number
      this.slotEdge[k] = e
      this.slotOfEdge[e] = k
      this.slotFrom[k] = graph.edgeFrom[e] as number
      this.slotCap[k] = graph.capacity[e >> 1] as number
      this.slotBase[k] = graph.baseFee[e] as number
      this.slotPpm[k] = graph.feeRate[e] as number
      this.slotDelta[k] = graph.cltvDelta[e] as number
      this.slotHmin[k] = graph.htlcMin[e] as number
      this.slotHmax[k] = graph.htlcMax[e] as number
      this.slotDisabled[k] = graph.disabled[e] as number
    }
    this.hintStamp = new Uint32Array(m2)
    this.hintExcluded = new Uint8Array(m2)
    this.mcLo = new Float64Array(m2)
    this.mcHi = new Float64Array(m2)
    this.inFlight = new Float64Array(m2)
    this.localLiq = new Float64Array(m2)
  }

  /**
   * The cheapest route delivering `amountMsat` from source to target under the
   * request's cost function. Throws NoRouteError when none satisfies the
   * constraints, and typed input errors (UnknownNodeError, AmountError,
   * CapacityError, TimelockError, InvalidInputError) naming the bad field.
   */
  findRoute(req: RouteRequest): Route {
    const g: ChannelGraph = this.graph
    g.assertNode('source', req.source)
    g.assertNode('target', req.target)
    const source = req.source
    const target = req.target
    if (source === target) throw new InvalidInputError('target', 'source and target are the same node')
    const amount = toPositiveAmount('amountMsat', req.amountMsat)
    const height = req.currentHeight ?? 0
    checkHeight('currentHeight', height)
    const maxCltv = req.maxTotalCltv ?? MAX_TOTAL_CLTV_EXPIRY
    checkCltvLimit('maxTotalCltv', maxCltv)
    const finalDelta = req.finalCltvDelta ?? DEFAULT_FINAL_CLTV_EXPIRY_DELTA
    checkFinalDelta('finalCltvDelta', finalDelta, maxCltv)
    const costFn = req.cost ?? 'fee'
    if (costFn !== 'fee' && costFn !== 'probability')
      throw new InvalidInputError('cost', `expected 'fee' or 'probability', got ${describe(costFn)}`)
    const risk = (req.riskFactorBillionths ?? 15) / 1e9
    if (!(risk >= 0) || !Number.isFinite(risk))
      throw new InvalidInputError('riskFactorBillionths', `expected a non-negative number, got ${describe(req.riskFactorBillionths)}`)
    const hopPenalty = penaltyParam('hopPenaltyMsat', req.probabilityCost?.hopPenaltyMsat)
    const liqPenalty = penaltyParam('liquidityPenaltyMsat', req.probabilityCost?.liquidityPenaltyMsat)
    const liqAmountPenalty = penaltyParam('liquidityPenaltyAmountPer2p20', req.probabilityCost?.liquidityPenaltyAmountPer2p20) * INV_2P20
    let feeLimit = Number.POSITIVE_INFINITY
    if (req.feeLimitMsat !== undefined) {
      if (typeof req.feeLimitMsat !== 'bigint' || req.feeLimitMsat < 0n)
        throw new InvalidInputError('feeLimitMsat', `expected a non-negative bigint, got ${describe(req.feeLimitMsat)}`)
      feeLimit = Number(req.feeLimitMsat)
    }
    const now = req.now ?? 0
    if (typeof now !== 'number' || !Number.isFinite(now)) throw new InvalidInputError('now', `expected a time, got ${describe(now)}`)
    const excluded = req.excludedChannels
    if (excluded !== undefined && (!(excluded instanceof Uint8Array) || excluded.length !== g.channelCount))
      throw new InvalidInputError('excludedChannels', `expected a Uint8Array of length ${g.channelCount}`)
    if (req.missionControl !== undefined && req.missionControl.graph !== g)
      throw new InvalidInputError('missionControl', 'mission control belongs to another graph')
    const A = Number(amount)

    // Amounts no channel at either end could carry are bad input, not a routing failure.
    let maxOut = 0
    for (let k = g.outStart[source] as number; k < (g.outStart[source + 1] as number); k++)
      maxOut = Math.max(maxOut, g.capacity[(g.outEdges[k] as number) >> 1] as number)
    let maxIn = 0
    for (let k = g.inStart[target] as number; k < (g.inStart[target + 1] as number); k++)
      maxIn = Math.max(maxIn, g.capacity[(g.inEdges[k] as number) >> 1] as number)
    if (maxOut === 0) throw new NoRouteError('source', `node ${source} has no channels`)
    if (maxIn === 0) throw new NoRouteError('target', `node ${target} has no channels`)
    if (A > maxOut) throw new CapacityError('amountMsat', `${amount} msat is above the largest channel of the source (${maxOut} msat)`)
    if (A > maxIn) throw new CapacityError('amountMsat', `${amount} msat is above the largest channel of the target (${maxIn} msat)`)

    const epoch = this.nextEpoch()
    this.loadHints(req, epoch, now)

    const { cost, amt, cltv, prob, next, state, heap, nodeStamp, nodeFactor } = this
    const { slotFrom, slotCap, slotBase, slotPpm, slotDelta, slotHmin, slotHmax, slotDisabled } = this
    const { hintStamp, hintExcluded, mcLo, mcHi, inFlight, localLiq } = this
    const inStart = g.inStart
    const probabilityMode = costFn === 'probability'
    const hasLocal = req.localLiquidityMsat !== undefined
    const labelled = 2 * epoch
    const settledMark = labelled + 1
    let settled = 0
    let relaxed = 0

    state[target] = labelled
    cost[target] = 0
    amt[target] = A
    cltv[target] = finalDelta
    prob[target] = 1
    next[target] = NO_EDGE
    heap.clear()
    heap.pushOrDecrease(target, 0)
    let found = false
    while (heap.size > 0) {
      const v = heap.pop()
      state[v] = settledMark
      settled++
      if (v === source) {
        found = true
        break
      }
      const vFactor = nodeStamp[v] === epoch ? (nodeFactor[v] as number) : 1
      // A node blamed for a failure: the plain cost skips it for a half-life, the probability cost scales P.
      if (vFactor <= 0 || (!probabilityMode && vFactor < 0.5)) continue
      const a = amt[v] as number
      const vCltv = cltv[v] as number
      const vCost = cost[v] as number
      const vProb = prob[v] as number
      const kEnd = inStart[v + 1] as number
      for (let k = inStart[v] as number; k < kEnd; k++) {
        const u = slotFrom[k] as number
        if ((state[u] as number) === settledMark || slotDisabled[k] === 1) continue
        relaxed++
        const cap = slotCap[k] as number
        if (a > (slotHmax[k] as number) || a < (slotHmin[k] as number)) continue
        const isSource = u === source
        let x = a
        let p: number
        if (hintStamp[k] === epoch) {
          if (hintExcluded[k] === 1) continue
          x = a + (inFlight[k] as number)
          if (x > cap) continue
          if (isSource && hasLocal) {
            if (x > (localLiq[k] as number)) continue
            p = 1
          } else p = liquidityProbability(x, mcLo[k] as number, mcHi[k] as number)
        } else {
          if (x > cap) continue
          p = (cap + 1 - x) / (cap + 1)
        }
        if (p <= 0) continue
        p *= vFactor
        let edgeCost = 0
        let uAmt = a
        let uCltv = vCltv
        if (!isSource) {
          const fee = feeMsatNumber(slotBase[k] as number, slotPpm[k] as number, a)
          uAmt = a + fee
          const delta = slotDelta[k] as number
          uCltv = vCltv + delta
          if (uCltv > maxCltv || uAmt - A > feeLimit) continue
          edgeCost = fee + risk * uAmt * delta
          if (probabilityMode) edgeCost += hopPenalty
        }
        // The sender's own channel with a known balance is certain (p = 1): no liquidity penalty.
        if (probabilityMode && p < 1) edgeCost += (liqPenalty + a * liqAmountPenalty) * -Math.log10(p)
        const c = vCost + edgeCost
        if ((state[u] as number) === labelled && c >= (cost[u] as number)) continue
        state[u] = labelled
        cost[u] = c
        amt[u] = uAmt
        cltv[u] = uCltv
        prob[u] = vProb * p
        next[u] = k
        heap.pushOrDecrease(u, c)
      }
    }
    heap.clear()
    this.lastStats.settled = settled
    this.lastStats.relaxed = relaxed
    if (!found) throw new NoRouteError('target', `no route from ${source} to ${target} for ${amount} msat`)

    const edges: number[] = []
    for (let u = source; u !== target; ) {
      const e = this.slotEdge[next[u] as number] as number
      edges.push(e)
      u = g.edgeTo[e] as number
    }
    return routeFromEdges(g, edges, amount, { currentHeight: height, finalCltvDelta: finalDelta }, prob[source] as number)
  }

  private nextEpoch(): number {
    this.epoch++
    if (this.epoch >= 0x7fff_ffff) {
      // 2·epoch + 1 must fit the Uint32 stamps: after 2^31 searches, reset every stamp once.
      this.state.fill(0)
      this.nodeStamp.fill(0)
      this.hintStamp.fill(0)
      this.epoch = 1
    }
    return this.epoch
  }

  /** Copies mission control, in-flight amounts, local balances and exclusions into the per-slot scratch arrays. */
  private loadHints(req: RouteRequest, epoch: number, now: number): void {
    const g: ChannelGraph = this.graph
    const { slotOfEdge, slotCap, hintStamp, hintExcluded, mcLo, mcHi, inFlight, localLiq, nodeStamp, nodeFactor } = this
    const touch = (e: number): number => {
      const k = slotOfEdge[e] as number
      if (hintStamp[k] === epoch) return k
      hintStamp[k] = epoch
      hintExcluded[k] = 0
      mcLo[k] = 0
      mcHi[k] = slotCap[k] as number
      inFlight[k] = 0
      localLiq[k] = Number.POSITIVE_INFINITY
      return k
    }
    const excluded = req.excludedChannels
    if (excluded !== undefined) {
      for (let c = excluded.indexOf(1); c >= 0; c = excluded.indexOf(1, c + 1)) {
        hintExcluded[touch(2 * c)] = 1
        hintExcluded[touch(2 * c + 1)] = 1
      }
    }
    req.missionControl?.forEachEdge(now, (e, lo, hi) => {
      const k = touch(e)
      mcLo[k] = lo
      mcHi[k] = hi
    })
    req.missionControl?.forEachNode(now, (v, factor) => {
      nodeStamp[v] = epoch
      nodeFactor[v] = factor
    })
    if (req.inFlightMsat !== undefined) {
      for (const [e, x] of req.inFlightMsat) {
        g.assertEdge('inFlightMsat', e)
        if (typeof x !== 'bigint' || x < 0n)
          throw new InvalidInputError(`inFlightMsat[${e}]`, `expected a non-negative bigint, got ${describe(x)}`)
        const k = touch(e)
        inFlight[k] = (inFlight[k] as number) + Number(x)
      }
    }
    const local = req.localLiquidityMsat
    if (local !== undefined) {
      const s = req.source
      for (let i = g.outStart[s] as number; i < (g.outStart[s + 1] as number); i++) {
        const e = g.outEdges[i] as number
        const bal = local(e)
        if (typeof bal !== 'bigint' || bal < 0n)
          throw new InvalidInputError('localLiquidityMsat', `expected a non-negative bigint for edge ${e}, got ${describe(bal)}`)
        localLiq[touch(e)] = Number(bal)
      }
    }
  }
}

function penaltyParam(name: keyof ProbabilityCostParams, v: number | undefined): number {
  const x = v ?? DEFAULT_PROBABILITY_COST[name]
  if (typeof x !== 'number' || !(x >= 0) || !Number.isFinite(x))
    throw new InvalidInputError(`probabilityCost.${name}`, `expected a non-negative number, got ${describe(x)}`)
  return x
}
