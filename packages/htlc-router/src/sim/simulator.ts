/**
 * Discrete-event simulator of payments over a channel network.
 *
 * Senders know the graph (capacities, policies) and their own balances, not
 * anyone else's — so payments fail where a channel lacks liquidity, and the
 * sender learns (mission control) and retries on another route. A payment:
 *
 *   route (Pathfinder, or a multi-part split) → the sender adds the HTLC on
 *   its first channel → each hop, when the HTLC reaches it one message
 *   latency later, applies its checks (hop.ts: delta ≥ its minimum, expiry
 *   not too soon or too far, fee, HTLC limits, next peer online) and adds the
 *   next HTLC if its outgoing balance allows → the receiver, once every part
 *   has arrived, releases the preimage; fulfils travel back hop by hop
 *   (balances move, each hop keeps its fee). A refusal travels back the same
 *   way from the failing hop, each hop releasing its lock, and the sender
 *   retries with what it learnt until it succeeds, finds no route, runs out
 *   of attempts, or passes its deadline.
 *
 * Offline nodes refuse nothing themselves: their upstream peer reports
 * unknown_next_peer. With `stuckProbability`, a node that has accepted an
 * HTLC goes silent; its upstream peer waits until the HTLC's expiry, then
 * force-closes the channel and times the HTLC out on chain — that is where
 * on-chain cost comes from (`gasPerHtlcResolution` per HTLC resolved on
 * chain), and every HTLC still pending on a closed channel resolves on chain
 * too.
 *
 * Money moves only through the Forwarder (forwarder.ts), so the same
 * simulator can drive abstract balances or real channel states. Time is
 * simulated milliseconds; block height = startHeight + ⌊t / blockTimeMs⌋.
 *
 * A payment's data (what goes in and out, its session and attempts, the
 * events scheduled for it) is payment.ts; the options and their checks are
 * options.ts.
 */
import { InvalidInputError, Rng } from '@l2bench/core'
import { CapacityError, NoRouteError } from '../errors.ts'
import type { ChannelGraph } from '../graph/graph.ts'
import { MissionControl } from '../routing/mission-control.ts'
import { type SplitOptions, findPaymentParts } from '../routing/mpp.ts'
import { Pathfinder, type RouteRequest } from '../routing/pathfinder.ts'
import type { ProbabilityCostParams } from '../routing/probability.ts'
import type { Route } from '../routing/route.ts'
import { EventQueue } from './event-queue.ts'
import { BalanceForwarder, type Forwarder } from './forwarder.ts'
import { type FailureCode, categoryOf, checkFinal, checkForward } from './hop.ts'
import { type ResolvedOptions, type SimulatorOptions, checkMpp, optionNumber, resolveOptions } from './options.ts'
import {
  type Attempt,
  type AttemptRecord,
  type HopFailure,
  type NodeLedger,
  type Payment,
  type PaymentResult,
  type Session,
  type SimEvent,
  checkPayment,
  newSession,
} from './payment.ts'

export type { SimulatorOptions } from './options.ts'
export type { AttemptRecord, HopFailure, NodeLedger, Payment, PaymentResult } from './payment.ts'

export class NetworkSimulator {
  readonly graph: ChannelGraph
  readonly forwarder: Forwarder
  readonly pathfinder: Pathfinder
  /** 1 = offline for the whole run. */
  readonly offline: Uint8Array
  /**
   * 1 = as the payee, accepts HTLCs but withholds the preimage (seed 002's
   * griefing case): upstream can only wait for the expiry, then times the HTLC
   * out on chain. Mutable between runs, like `offline`.
   */
  readonly withholding: Uint8Array
  /** 1 = force-closed (excluded from routing for every sender once closed). */
  readonly closedChannels: Uint8Array
  /** Simulated time, ms. */
  now = 0
  /** Counters for the report. */
  readonly stats = {
    forceCloses: 0,
    onchainHtlcResolutions: 0,
    routingCalls: 0,
    routingWallMs: 0,
    routingTimesMs: [] as number[],
  }
  readonly results: PaymentResult[] = []

  private readonly opts: ResolvedOptions
  private readonly riskFactorBillionths: number | undefined
  private readonly probabilityCost: Partial<ProbabilityCostParams> | undefined
  private readonly mpp: SplitOptions | undefined
  private readonly queue = new EventQueue<SimEvent>()
  private readonly stuckRng: Rng
  private readonly preimageRng: Rng
  private readonly ledgerSent: bigint[]
  private readonly ledgerReceived: bigint[]
  private readonly ledgerFeesPaid: bigint[]
  private readonly ledgerFeesEarned: bigint[]
  private readonly mcBySender = new Map<number, MissionControl>()
  private readonly sharedMc: MissionControl
  private nextHtlcId = 1
  private readonly pendingIds = new Set<number>()

  constructor(graph: ChannelGraph, options: SimulatorOptions) {
    this.graph = graph
    this.opts = resolveOptions(options)
    const o = options
    this.riskFactorBillionths = o.riskFactorBillionths
    this.probabilityCost = o.probabilityCost
    this.mpp = o.mpp === undefined || o.mpp === false ? undefined : o.mpp
    const rng = new Rng(`simulator:${o.seed}`)
    this.stuckRng = rng.fork('stuck')
    this.preimageRng = rng.fork('preimage')
    this.forwarder = o.forwarder ?? new BalanceForwarder(graph, { seed: o.seed, liquidity: o.liquidity ?? 'uniform' })
    if (this.forwarder.graph !== graph) throw new InvalidInputError('forwarder', 'forwarder was built for another graph')
    this.pathfinder = new Pathfinder(graph)
    this.sharedMc = new MissionControl(graph, { halfLifeMs: this.opts.halfLifeMs })
    this.offline = new Uint8Array(graph.nodeCount)
    this.withholding = new Uint8Array(graph.nodeCount)
    for (const v of o.offlineNodes ?? []) {
      graph.assertNode('offlineNodes', v)
      this.offline[v] = 1
    }
    const frac = optionNumber('offlineFraction', o.offlineFraction ?? 0, 0, 1)
    const offRng = rng.fork('offline')
    for (let v = 0; v < graph.nodeCount; v++) if (offRng.next() < frac) this.offline[v] = 1
    this.closedChannels = new Uint8Array(graph.channelCount)
    const n = graph.nodeCount
    this.ledgerSent = new Array<bigint>(n).fill(0n)
    this.ledgerReceived = new Array<bigint>(n).fill(0n)
    this.ledgerFeesPaid = new Array<bigint>(n).fill(0n)
    this.ledgerFeesEarned = new Array<bigint>(n).fill(0n)
    // Probe the routing options once so a bad one fails here, not mid-run.
    if (this.mpp !== undefined) checkMpp(this.mpp)
  }

  /** Block height at simulated time t. */
  heightAt(t: number): number {
    return this.opts.startHeight + Math.floor(t / this.opts.blockTimeMs)
  }

  /** What `node` has sent, received, paid and earned in settled payments so far. */
  ledger(node: number): NodeLedger {
    this.graph.assertNode('node', node)
    return {
      sentMsat: this.ledgerSent[node] as bigint,
      receivedMsat: this.ledgerReceived[node] as bigint,
      feesPaidMsat: this.ledgerFeesPaid[node] as bigint,
      feesEarnedMsat: this.ledgerFeesEarned[node] as bigint,
    }
  }

  /** Gas spent resolving HTLCs on chain so far. */
  get onchainGas(): number {
    return this.stats.onchainHtlcResolutions * this.opts.gasPerHtlcResolution
  }

  /**
   * Runs the payments (arrival times ≥ the current simulated time) until every
   * event has played out — every HTLC resolved — and returns their results in
   * input order. May be called again; balances and mission control carry over.
   */
  async run(payments: readonly Payment[]): Promise<PaymentResult[]> {
    if (!Array.isArray(payments)) throw new InvalidInputError('payments', 'expected an array')
    const sessions = payments.map((p, i) => this.prepare(p, i))
    for (const s of sessions) this.queue.push({ time: s.payment.timeMs, kind: 'arrive', s })
    for (;;) {
      const ev = this.queue.pop()
      if (ev === undefined) break
      // A receiver's timer for a payment that completed meanwhile: nothing happens, time does not advance.
      if (ev.kind === 'mpp_timeout' && (ev.generation !== ev.s.mppGeneration || ev.s.settling)) continue
      this.now = ev.time
      await this.handle(ev)
    }
    const out = sessions.map((s) => s.result)
    this.results.push(...out)
    return out
  }

  /** One payment along a fixed route, no retries (lnd SendToRoute); the route is checked for shape only. */
  async sendToRoute(route: Route, options: { id?: number; timeMs?: number } = {}): Promise<PaymentResult> {
    const [r] = await this.run([
      {
        id: options.id ?? this.results.length,
        timeMs: options.timeMs ?? this.now,
        sender: route.source,
        receiver: route.target,
        amountMsat: route.amountMsat,
        route,
      },
    ])
    return r as PaymentResult
  }

  private prepare(p: Payment, i: number): Session {
    checkPayment(this.graph, p, i, this.now)
    const preimage = this.preimageRng.bytes(32)
    let mc: MissionControl
    if (this.opts.missionControl === 'shared') mc = this.sharedMc
    else if (this.opts.missionControl === 'per-payment') mc = new MissionControl(this.graph, { halfLifeMs: this.opts.halfLifeMs })
    else {
      let m = this.mcBySender.get(p.sender)
      if (m === undefined) {
        m = new MissionControl(this.graph, { halfLifeMs: this.opts.halfLifeMs })
        this.mcBySender.set(p.sender, m)
      }
      mc = m
    }
    return newSession(p, preimage, mc, p.timeMs + this.opts.paymentTimeoutMs)
  }

  private async handle(ev: SimEvent): Promise<void> {
    switch (ev.kind) {
      case 'arrive':
        if (this.offline[ev.s.payment.sender] === 1) ev.s.gaveUp = 'offline'
        else await this.trySend(ev.s)
        this.maybeFinish(ev.s)
        return
      case 'htlc':
        return this.onHtlcArrives(ev.a, ev.i)
      case 'fail':
        return this.onFailArrives(ev.a, ev.j, ev.f)
      case 'fulfill':
        return this.onFulfillArrives(ev.a, ev.j)
      case 'expire':
        return this.onExpire(ev.a, ev.j)
      case 'mpp_timeout':
        return this.onMppTimeout(ev.s, ev.generation)
    }
  }

  /** Sender: route and launch attempts for the unallocated amount, as long as it may. */
  private async trySend(s: Session): Promise<void> {
    const fixed = s.payment.route
    while (s.unallocated > 0n && s.gaveUp === undefined) {
      if (fixed !== undefined && s.attemptsMade > 0) {
        s.gaveUp = s.lastFailure ?? 'no_route'
        return
      }
      if (this.now >= s.deadline && s.attemptsMade > 0) {
        s.gaveUp = 'timeout'
        return
      }
      if (s.attemptsMade >= this.opts.maxAttempts) {
        s.gaveUp = s.lastFailure ?? 'no_route'
        return
      }
      const routes = fixed !== undefined ? [fixed] : this.findRoutes(s)
      if (routes === undefined) {
        s.gaveUp = s.lastFailure ?? 'no_route'
        return
      }
      for (const r of routes) await this.launch(s, r)
    }
  }

  private findRoutes(s: Session): Route[] | undefined {
    const p = s.payment
    // Parts already in flight count against the edges they use — except the
    // sender's own first hop, whose known balance already reflects them.
    const inFlight = new Map<number, bigint>()
    for (const a of s.inFlight)
      for (let i = 1; i < a.route.hops.length; i++) {
        const h = a.route.hops[i] as Route['hops'][number]
        inFlight.set(h.edge, (inFlight.get(h.edge) ?? 0n) + h.amountMsat)
      }
    const req: RouteRequest = {
      source: p.sender,
      target: p.receiver,
      amountMsat: s.unallocated,
      currentHeight: this.heightAt(this.now),
      finalCltvDelta: this.opts.finalCltvDelta,
      maxTotalCltv: this.opts.maxTotalCltv,
      cost: this.opts.cost,
      missionControl: s.mc,
      now: this.now,
      inFlightMsat: inFlight,
      localLiquidityMsat: (e) => (this.offline[this.graph.edgeTo[e] as number] === 1 ? 0n : this.forwarder.liquidity(e)),
      excludedChannels: this.closedChannels,
    }
    if (this.riskFactorBillionths !== undefined) req.riskFactorBillionths = this.riskFactorBillionths
    if (this.probabilityCost !== undefined) req.probabilityCost = this.probabilityCost
    const t0 = performance.now()
    try {
      return this.mpp !== undefined ? findPaymentParts(this.pathfinder, req, this.mpp) : [this.pathfinder.findRoute(req)]
    } catch (err) {
      if (err instanceof NoRouteError || err instanceof CapacityError) return undefined
      throw err
    } finally {
      const dt = performance.now() - t0
      this.stats.routingCalls++
      this.stats.routingWallMs += dt
      this.stats.routingTimesMs.push(dt)
    }
  }

  private async launch(s: Session, route: Route): Promise<void> {
    const record: AttemptRecord = { route, startMs: this.now, endMs: this.now, outcome: 'in_flight', failure: undefined }
    const a: Attempt = { session: s, route, htlcIds: new Array<number>(route.hops.length).fill(-1), record }
    s.result.attempts.push(record)
    s.attemptsMade++
    s.unallocated -= route.amountMsat
    s.inFlight.add(a)
    const hop = route.hops[0] as Route['hops'][number]
    let code: FailureCode | undefined
    if (this.offline[hop.to] === 1) code = 'unknown_next_peer'
    else code = await this.offer(a, 0)
    if (code !== undefined) {
      // Refused by the sender's own channel: it learns at once, no message travels.
      await this.senderFailure(a, { hopIndex: 0, reportedBy: s.payment.sender, code }, false)
      return
    }
    this.queue.push({ time: this.now + this.opts.hopLatencyMs, kind: 'htlc', a, i: 1 })
  }

  /** Node hops[i].from adds the HTLC of hop i through the forwarder. */
  private async offer(a: Attempt, i: number): Promise<FailureCode | undefined> {
    const hop = a.route.hops[i] as Route['hops'][number]
    if (this.closedChannels[hop.channel] === 1) return 'permanent_channel_failure'
    const id = this.nextHtlcId++
    const res = await this.forwarder.addHtlc({ id, edge: hop.edge, amountMsat: hop.amountMsat, expiry: hop.expiry, paymentHash: a.session.hash })
    if (!res.ok) return res.reason === 'channel_closed' ? 'permanent_channel_failure' : 'temporary_channel_failure'
    a.htlcIds[i] = id
    this.pendingIds.add(id)
    return undefined
  }

  /** The HTLC of hop i−1 reaches node n_i = hops[i−1].to. */
  private async onHtlcArrives(a: Attempt, i: number): Promise<void> {
    const hops = a.route.hops
    const incoming = hops[i - 1] as Route['hops'][number]
    const node = incoming.to
    const height = this.heightAt(this.now)
    const withheld = i === hops.length && this.withholding[node] === 1
    if (withheld || (this.opts.stuckProbability > 0 && this.stuckRng.next() < this.opts.stuckProbability)) {
      // The node goes silent on this HTLC (or, as payee, withholds the preimage):
      // upstream can only wait for the expiry and go on chain.
      const t = Math.max(this.now, (incoming.expiry - this.opts.startHeight) * this.opts.blockTimeMs)
      this.queue.push({ time: t, kind: 'expire', a, j: i - 1 })
      return
    }
    let code: FailureCode | undefined
    if (i === hops.length) {
      code = checkFinal({
        incomingAmountMsat: incoming.amountMsat,
        incomingExpiry: incoming.expiry,
        expectedAmountMsat: a.route.amountMsat,
        currentHeight: height,
        minFinalCltvDelta: Math.min(this.opts.finalCltvDelta, a.route.finalCltvDelta),
      })
      if (code === undefined) return this.receiverAccepts(a)
    } else {
      const out = hops[i] as Route['hops'][number]
      code = checkForward({
        graph: this.graph,
        outgoingEdge: out.edge,
        incomingAmountMsat: incoming.amountMsat,
        incomingExpiry: incoming.expiry,
        outgoingAmountMsat: out.amountMsat,
        outgoingExpiry: out.expiry,
        currentHeight: height,
        maxTotalCltv: this.opts.maxTotalCltv,
      })
      if (code === undefined && this.offline[out.to] === 1) code = 'unknown_next_peer'
      if (code === undefined) code = await this.offer(a, i)
      if (code === undefined) {
        this.queue.push({ time: this.now + this.opts.hopLatencyMs, kind: 'htlc', a, i: i + 1 })
        return
      }
    }
    // n_i fails its incoming HTLC: the failure reaches n_{i−1} one latency later.
    this.queue.push({ time: this.now + this.opts.hopLatencyMs, kind: 'fail', a, j: i - 1, f: { hopIndex: i, reportedBy: node, code } })
  }

  private receiverAccepts(a: Attempt): void {
    const s = a.session
    s.held.push(a)
    s.heldMsat += a.route.amountMsat
    if (s.heldMsat === s.payment.amountMsat) {
      s.settling = true
      s.mppGeneration++
      for (const h of s.held) this.queue.push({ time: this.now + this.opts.hopLatencyMs, kind: 'fulfill', a: h, j: h.route.hops.length - 1 })
      s.held = []
      return
    }
    if (!s.mppTimerArmed) {
      s.mppTimerArmed = true
      this.queue.push({ time: this.now + this.opts.paymentTimeoutMs, kind: 'mpp_timeout', s, generation: s.mppGeneration })
    }
  }

  private onMppTimeout(s: Session, generation: number): void {
    if (generation !== s.mppGeneration || s.settling) return
    s.mppGeneration++
    s.mppTimerArmed = false
    for (const h of s.held) {
      const k = h.route.hops.length
      this.queue.push({
        time: this.now + this.opts.hopLatencyMs,
        kind: 'fail',
        a: h,
        j: k - 1,
        f: { hopIndex: k, reportedBy: s.payment.receiver, code: 'mpp_timeout' },
      })
    }
    s.held = []
    s.heldMsat = 0n
  }

  /** update_fail reaches n_j: the HTLC of hop j is removed and its amount returns to n_j. */
  private async onFailArrives(a: Attempt, j: number, f: HopFailure): Promise<void> {
    await this.resolve(a, j, false)
    if (j === 0) return this.senderFailure(a, f, true)
    this.queue.push({ time: this.now + this.opts.hopLatencyMs, kind: 'fail', a, j: j - 1, f })
  }

  /** update_fulfill reaches n_j: the HTLC of hop j settles; the amount moves to n_{j+1}. */
  private async onFulfillArrives(a: Attempt, j: number): Promise<void> {
    await this.resolve(a, j, true)
    const hops = a.route.hops
    if (j + 1 < hops.length) {
      const fwd = (hops[j + 1] as Route['hops'][number]).from
      this.ledgerFeesEarned[fwd] = (this.ledgerFeesEarned[fwd] as bigint) + (hops[j] as Route['hops'][number]).amountMsat - (hops[j + 1] as Route['hops'][number]).amountMsat
    }
    if (j > 0) {
      this.queue.push({ time: this.now + this.opts.hopLatencyMs, kind: 'fulfill', a, j: j - 1 })
      return
    }
    const s = a.session
    a.record.outcome = 'settled'
    a.record.endMs = this.now
    s.inFlight.delete(a)
    s.settledParts++
    s.feesMsat += a.route.totalFeesMsat
    for (const h of hops) s.mc.recordSettled(h.edge, h.amountMsat, this.now)
    if (s.inFlight.size === 0) {
      const p = s.payment
      s.result.success = true
      s.result.parts = s.settledParts
      s.result.feesMsat = s.feesMsat
      this.ledgerSent[p.sender] = (this.ledgerSent[p.sender] as bigint) + p.amountMsat
      this.ledgerFeesPaid[p.sender] = (this.ledgerFeesPaid[p.sender] as bigint) + s.feesMsat
      this.ledgerReceived[p.receiver] = (this.ledgerReceived[p.receiver] as bigint) + p.amountMsat
    }
    this.maybeFinish(s)
  }

  /** The HTLC of hop j expired while n_{j+1} stayed silent: n_j force-closes and times it out on chain. */
  private async onExpire(a: Attempt, j: number): Promise<void> {
    const hop = a.route.hops[j] as Route['hops'][number]
    if (this.closedChannels[hop.channel] === 0) {
      this.closedChannels[hop.channel] = 1
      this.stats.forceCloses++
      await this.forwarder.closeChannel(hop.channel)
    }
    await this.resolve(a, j, false)
    const f: HopFailure = { hopIndex: j, reportedBy: hop.from, code: 'htlc_timed_out' }
    if (j === 0) return this.senderFailure(a, f, true)
    this.queue.push({ time: this.now + this.opts.hopLatencyMs, kind: 'fail', a, j: j - 1, f })
  }

  private async resolve(a: Attempt, j: number, fulfil: boolean): Promise<void> {
    const id = a.htlcIds[j] as number
    const hop = a.route.hops[j] as Route['hops'][number]
    if (fulfil) await this.forwarder.fulfillHtlc(id, a.session.preimage)
    else await this.forwarder.failHtlc(id)
    this.pendingIds.delete(id)
    a.htlcIds[j] = -1
    // A pending HTLC on a force-closed channel can only be resolved on chain.
    if (this.closedChannels[hop.channel] === 1) this.stats.onchainHtlcResolutions++
  }

  /** The sender learns that an attempt failed: update mission control, free the amount, maybe retry. */
  private async senderFailure(a: Attempt, f: HopFailure, retry: boolean): Promise<void> {
    const s = a.session
    a.record.outcome = 'failed'
    a.record.failure = f
    a.record.endMs = this.now
    s.inFlight.delete(a)
    s.unallocated += a.route.amountMsat
    s.lastFailure = categoryOf(f.code)
    this.learn(s.mc, a.route, f)
    if (retry && !s.settling) await this.trySend(s)
    this.maybeFinish(s)
  }

  private learn(mc: MissionControl, route: Route, f: HopFailure): void {
    const hops = route.hops
    const now = this.now
    // Hops before the failing one forwarded the HTLC: their liquidity was enough.
    const okUpTo = f.code === 'htlc_timed_out' ? f.hopIndex : f.hopIndex - 1
    for (let i = 1; i <= Math.min(okUpTo, hops.length - 1); i++) {
      const h = hops[i] as Route['hops'][number]
      mc.recordSuccess(h.edge, h.amountMsat, now)
    }
    if (f.hopIndex >= hops.length) return // the receiver refused (e.g. mpp_timeout): no channel to blame
    const h = hops[f.hopIndex] as Route['hops'][number]
    switch (f.code) {
      case 'temporary_channel_failure':
        mc.recordFailure(h.edge, h.amountMsat, now)
        return
      case 'unknown_next_peer':
      case 'htlc_timed_out':
        mc.recordNodeFailure(h.to, now)
        return
      default:
        // Policy mismatch or closed channel: the edge is no use at any amount for a while.
        mc.recordFailure(h.edge, 1n, now)
    }
  }

  private maybeFinish(s: Session): void {
    if (s.done || s.inFlight.size > 0) return
    if (!s.result.success && s.gaveUp === undefined) return
    s.done = true
    s.result.endMs = this.now
    s.result.latencyMs = this.now - s.result.arrivalMs
    if (!s.result.success) s.result.reason = s.gaveUp
  }

  /** HTLCs added and not yet resolved (0 after run() returns). */
  get pendingHtlcs(): number {
    return this.pendingIds.size
  }
}
