/**
 * The HTLC design's real engine: every user (and the hub) is an HtlcNode of
 * @l2bench/htlc-router with the harness's own key and L1 wallet and its own
 * store, all on the run's metered L1 (one HtlcNetwork over them, in-memory
 * authenticated links). A payment is the sender's loop of HtlcNetwork.pay:
 * the receiver's invoice (a real preimage), a route from the router's
 * pathfinder, an HTLC added on every hop inside a countersigned channel
 * state — each hop checking its fee, the forwarding rule (incoming − outgoing
 * expiry ≥ upstream dispute window + margin), the expiries and its balance —
 * then settled back hop by hop with the preimage, or failed back with a BOLT 4
 * code and the failing node; on failure the sender learns through mission
 * control and tries another route.
 *
 * Latency: soft = final = the preimage is back at the sender (a settled HTLC
 * is enforceable on L1): the wall-clock compute of every node on the way
 * (signing, verifying, persisting, all in this process) + the simulated
 * network delay, one `hopLatencyMs` per message on the critical path (an add
 * travels forward one hop per message, the preimage back one per message:
 * 2 × hops per attempt that reaches the payee, 2 × the failing hop's index
 * for one that fails on the way). Both parts are reported. Throughput is the
 * wall clock of all that work.
 *
 * Faults happen to the nodes:
 *   offline-hop        the first node after the sender on its route loses
 *                      every link for the payment; the sender's own node
 *                      refuses to offer to it (unknown_next_peer) and routes
 *                      around it where the graph allows (a hub has no way around);
 *   withheld-preimage  the payee accepts the HTLC, keeps the preimage and goes
 *                      silent; blocks pass (the simulated clock jumps): at the
 *                      expiry the hop fails the sender's HTLC back, then
 *                      registers its channel, waits out the dispute window,
 *                      finalizes and refunds the HTLC on L1 — real transactions,
 *                      gas from their receipts; the pair then reopens;
 *   stale-state        after the payment the payer registers its channel's
 *                      state from before it; the peer's node challenges with
 *                      the newest; it finalizes after the window and the pair reopens.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Amount, MAX_AMOUNT, monotonicMs, toHex } from '@l2bench/core'
import {
  type ForwardingPolicy,
  HtlcNetwork,
  type HtlcNode,
  type HtlcNodeOptions,
  type HtlcStore,
  MemoryHtlcStore,
  MissionControl,
  type PayResult,
  SqliteNodeStore,
  drainEventLoop,
} from '@l2bench/htlc-router'
import { type ChannelStore, MemoryStore, type SignedState } from '@l2bench/payment-channel'
import { composeBound, signVerify, sqliteCommit } from '../bounds.ts'
import type { CapacityInputs, Design, PaymentBound, PaymentResult, World } from '../design.ts'
import type { BenchL1 } from '../meter.ts'
import type { StoreJson } from '../results.ts'
import { summarize } from '../stats.ts'
import { aboutChannel, channelStoreJson, eventLanded } from './channel.ts'
import type { Payment } from '../workload.ts'
import { type HtlcPlan, UNIT } from './htlc.ts'
import { type NodeWork, TimedNodeStore, hubCapacityInputs, newWork, timedSigner, timedVerifier } from './htlc-timing.ts'
import type { HtlcOptions } from './options.ts'

/** Blocks the forwarding rule asks on top of the dispute window (htlc-router's default on-chain margin). */
const MARGIN = 6

/**
 * The least work of one two-hop payment (sender → hub → payee), all nodes
 * together: four channel updates (add and settle on each hop), each one sign
 * and one verify by each side; and SQLite commits with one group-committing
 * store per node: the payee's invoice, three per update (the proposal, its
 * countersignature, the proposer's copy of the signed state) and the two
 * fulfils' preimages — 15, counted per payment in test/htlc-design.test.ts.
 */
export const HTLC_SIGN_VERIFIES_PER_PAYMENT = 8
export const HTLC_COMMITS_PER_PAYMENT = 15

interface Routed {
  result: PayResult | undefined
  /** Thrown before anything was sent (a typed error's code). */
  error?: string
  computeMs: number
  networkMs: number
}

export class RealHtlc implements Design {
  readonly name = 'htlc' as const
  readonly forwarding = 'real' as const
  private world!: World
  private net!: HtlcNetwork<BenchL1>
  private readonly stores: (ChannelStore | HtlcStore)[] = []
  private dir: string | undefined
  /** Deposits of each graph channel's current L1 channel (undefined: closed). */
  private deposits: ([Amount, Amount] | undefined)[] = []
  private generation: number[] = []
  private readonly missionControls = new Map<number, MissionControl>()
  private shared: MissionControl | undefined
  private readonly computeMs: number[] = []
  private readonly networkMs: number[] = []
  private readonly failedAt = new Map<string, number>()
  private settled = false
  /** Countersigned HTLC states (each seen once), and those that carried several updates (payment-channel's merged updates). */
  private readonly merging = { seen: new Set<string>(), states: 0, merged: 0, mergedUpdates: 0 }
  /** Per node: time in its own signing, verifying and commits during the payment phase. */
  private work: NodeWork[] = []
  private measuring = false

  constructor(
    private readonly plan: HtlcPlan,
    private readonly options: HtlcOptions,
  ) {}

  /** The nodes (tests). */
  get network(): HtlcNetwork<BenchL1> {
    return this.net
  }

  get hopDelta(): number {
    return this.options.disputeWindow + MARGIN
  }

  get finalDelta(): number {
    return this.options.disputeWindow + 2 * MARGIN
  }

  async setup(world: World): Promise<void> {
    this.world = world
    const o = this.options
    const plan = this.plan
    const policy: ForwardingPolicy = { baseFee: BigInt(o.baseFeeMsat) * UNIT, feeRatePpm: BigInt(o.feeRatePpm), cltvDelta: this.hopDelta }
    const on = () => this.measuring
    this.work = Array.from({ length: plan.nodes }, newWork)
    const parties = world.users.map((u) => ({ name: `user${u.index}`, signer: timedSigner(u.signer, this.work[u.index]!, on), wallet: u.wallet }))
    if (plan.hub !== undefined) parties.push({ name: 'hub', signer: timedSigner(plan.hub.signer, this.work[plan.nodes - 1]!, on), wallet: plan.hub.wallet })
    if (o.store === 'sqlite') this.dir = mkdtempSync(join(tmpdir(), 'l2bench-htlc-'))
    const nodeOptions = (i: number): Partial<HtlcNodeOptions> => {
      let store: ChannelStore
      let htlcStore: HtlcStore
      const verifier = timedVerifier(this.work[i]!, on)
      if (this.dir !== undefined) {
        // One database per node for its channel states and HTLC book, committed together (group commit).
        const both = new TimedNodeStore(join(this.dir, `node-${i}.db`), o.synchronous, this.work[i]!, on)
        store = both
        htlcStore = both
      } else {
        store = new MemoryStore()
        htlcStore = new MemoryHtlcStore()
      }
      this.stores.push(htlcStore)
      if ((store as unknown) !== htlcStore) this.stores.push(store)
      // The simulated users agreed on the workload's channels: each accepts the deposits asked of it.
      return { store, htlcStore, verifier, acceptLimits: { maxDeposit: MAX_AMOUNT }, onSignedState: (s, steps) => this.countState(s, steps) }
    }
    world.note(
      `Real HTLCs: every user${plan.hub === undefined ? '' : ' and the hub'} runs an HtlcNode (@l2bench/htlc-router) with its own key, L1 wallet and store; every payment is an HTLC added, forwarded and settled (or failed) inside countersigned channel states, over authenticated in-process links; ${plan.topology}; routing fee ${o.feeRatePpm} ppm + ${o.baseFeeMsat} gwei per hop.`,
    )
    world.note(`Funding: ${plan.funding}.`)
    world.note(
      `Store: ${o.store === 'sqlite' ? `SQLite (WAL, synchronous=${o.synchronous}), one database per node for its channel states and HTLC book (HTLC writes committed with the next channel save, or before an HTLC message or L1 transaction leaves the node)` : 'in memory (nothing survives a crash)'}; dispute window ${o.disputeWindow} blocks, each hop asks an expiry delta of ${this.hopDelta} (window + ${MARGIN}), the payee ${this.finalDelta}.`,
    )
    world.note(
      `Mission control: ${o.missionControl}${o.missionControl === 'per-payment' ? ' (a sender forgets failures between payments)' : ''}; up to ${o.maxAttempts} routes per payment, none started after ${o.paymentTimeoutMs / 1000} s of simulated time.`,
    )
    // The run's chain, mock or anvil: HtlcNetwork awaits its mining and deploying either way.
    const onL1 = world.l1
    const bar = world.task('opening channels', plan.channels.length)
    this.net = await HtlcNetwork.create({
      nodes: parties.length,
      parties,
      onL1,
      channels: plan.channels.map((c) => ({ a: c.a, b: c.b, depositA: c.depositA, depositB: c.depositB, policyAB: policy, policyBA: policy })),
      disputeWindow: o.disputeWindow,
      graphUnit: UNIT,
      nodeOptions,
      onChannelOpen: (done) => bar.update(done),
    })
    bar.end()
    this.deposits = plan.channels.map((c) => [c.depositA, c.depositB])
    this.generation = plan.channels.map(() => 0)
    if (o.missionControl === 'shared') this.shared = new MissionControl(this.net.graph)
  }

  /** Each state once (both nodes of a channel see it): did it carry several HTLC updates? */
  private countState(s: SignedState, steps: readonly unknown[] | undefined): void {
    if (s.state.version === 0n || s.state.isFinal) return
    const key = `${toHex(s.state.channelId)}:${s.state.version}`
    if (this.merging.seen.has(key)) return
    this.merging.seen.add(key)
    this.merging.states++
    if (steps !== undefined && steps.length > 1) {
      this.merging.merged++
      this.merging.mergedUpdates += steps.length
    }
  }

  private node(i: number): HtlcNode {
    return this.net.nodes[i]!
  }

  private missionControl(sender: number): MissionControl | undefined {
    if (this.options.missionControl === 'shared') return this.shared
    if (this.options.missionControl === 'per-payment') return undefined
    let mc = this.missionControls.get(sender)
    if (mc === undefined) {
      mc = new MissionControl(this.net.graph)
      this.missionControls.set(sender, mc)
    }
    return mc
  }

  /** One payment through the sender's loop; its compute (wall clock) and simulated network delay. */
  private async route(p: Payment): Promise<Routed> {
    const mc = this.missionControl(p.from)
    const t0 = monotonicMs()
    let result: PayResult
    try {
      result = await this.net.pay(p.from, p.to, p.amount, {
        maxAttempts: this.options.maxAttempts,
        // The simulated clock (it moves when blocks pass, as in the withheld-preimage fault).
        timeoutMs: this.options.paymentTimeoutMs,
        now: () => this.world.nowMs(),
        finalCltvDelta: this.finalDelta,
        ...(mc === undefined ? {} : { missionControl: mc }),
      })
    } catch (err) {
      return { result: undefined, error: (err as { code?: string }).code ?? (err as Error).name, computeMs: monotonicMs() - t0, networkMs: 0 }
    }
    const computeMs = monotonicMs() - t0
    let messages = 0
    for (const a of result.attempts) {
      const n = a.route.hops.length
      messages += 2 * (a.outcome.status === 'settled' ? n : (a.failedHop ?? n))
      if (a.outcome.status === 'settled') for (let i = 0; i < n - 1; i++) this.work[a.route.hops[i]!.to]!.forwards++
      if (a.outcome.status === 'failed') {
        const at = a.failedHop ?? n
        const where = at === 0 ? "the sender's own channel" : at === n ? 'the payee' : `hop ${at} of ${n}`
        const k = `${a.outcome.failure.code} at ${where}`
        this.failedAt.set(k, (this.failedAt.get(k) ?? 0) + 1)
      }
    }
    return { result, computeMs, networkMs: messages * this.options.hopLatencyMs }
  }

  private outcome(r: Routed, waitedMs = 0): PaymentResult {
    const latency = r.computeMs + r.networkMs + waitedMs
    if (r.result?.success === true) {
      this.computeMs.push(r.computeMs)
      this.networkMs.push(r.networkMs)
      return { ok: true, softLatencyMs: latency, finalLatencyMs: latency, hops: r.result.attempts.at(-1)?.route.hops.length ?? 0 }
    }
    const reason = r.error !== undefined ? `ERROR:${r.error}` : (r.result?.reason ?? 'failed').toUpperCase()
    return { ok: false, reason, softLatencyMs: latency }
  }

  async pay(p: Payment): Promise<PaymentResult> {
    this.measuring = true
    if (p.fault === 'offline-hop') return this.offlineHop(p)
    if (p.fault === 'withheld-preimage') return this.withheldPreimage(p)
    const stale = p.fault === 'stale-state' ? this.snapshot(p.from) : undefined
    const r = await this.route(p)
    if (stale !== undefined) await this.staleState(p, r, stale)
    return this.outcome(r)
  }

  // ------------------------------------------------------------------ faults

  /** Takes the first node after the sender on the route it would take offline for this payment. */
  private async offlineHop(p: Payment): Promise<PaymentResult> {
    let hop: number | undefined
    try {
      const route = this.net.findRoute(p.from, p.to, p.amount, { finalCltvDelta: this.finalDelta })
      const first = route.hops[0]
      if (route.hops.length >= 2 && first !== undefined && first.to !== p.to) hop = first.to
    } catch {
      // no route at all: nothing to take offline
    }
    if (hop !== undefined) this.net.setOnline(hop, false)
    let r: Routed
    try {
      r = await this.route(p)
    } finally {
      if (hop !== undefined) await this.bringBack(hop)
    }
    const res = r.result
    const tried = res?.attempts.length ?? 0
    this.world.fault({
      paymentId: p.id,
      kind: 'offline-hop',
      outcome:
        hop === undefined
          ? 'no intermediate hop on the route (direct channel or no route); payment ran normally'
          : `${this.label(hop)} (first hop after the sender) offline during the payment: ${
              res?.success
                ? `settled around it after ${tried} attempt${tried === 1 ? '' : 's'}`
                : `failed (${res?.reason ?? r.error}) after ${tried} attempt${tried === 1 ? '' : 's'}: the sender's node knows the link is down and offers it nothing${tried === 0 ? ', and no other route exists' : ''}`
            }`,
      safe: await this.quiesce(),
    })
    this.world.note(
      "offline-hop: the first node after the sender on its route loses every link for the payment; the sender's node refuses to offer an HTLC to an unreachable peer and routes around it where the graph allows — in a hub topology there is no way around.",
    )
    return this.outcome(r)
  }

  private label(i: number): string {
    return this.plan.hub !== undefined && i === this.plan.nodes - 1 ? 'the hub' : `user ${i}`
  }

  /** Every link of `i` back up, and its handshakes done. */
  private async bringBack(i: number): Promise<void> {
    this.net.setOnline(i, true)
    const node = this.node(i)
    const peers = new Set(node.channelIds().map((id) => node.channel.status(id).peer))
    for (let k = 0; k < 50; k++) {
      if ([...peers].every((a) => node.channel.isConnected(a) && node.linkTo(a) !== undefined)) return
      await drainEventLoop(5)
    }
  }

  private nothingPending(except?: number): boolean {
    return this.net.nodes.every((n, i) => i === except || n.pendingHtlcs().length === 0)
  }

  /**
   * Lets the nodes finish what a payment left running: the sender has its
   * preimage (or failure) first, the hops settle (or fail) their incoming
   * HTLCs a few turns later. True once no node holds an unresolved HTLC.
   */
  async quiesce(except?: number): Promise<boolean> {
    for (let i = 0; i < 200; i++) {
      if (this.nothingPending(except)) return true
      await drainEventLoop(2)
    }
    return this.nothingPending(except)
  }

  /** Channel + L1 + gas paid, per node: constant for an honest node that neither paid nor was paid. */
  private totals(): bigint[] {
    return this.net.nodes.map((n, i) => {
      let t = this.world.l1.balanceOf(n.address)
      for (const r of this.net.receipts[i]!.values()) t += r.fee
      for (const id of n.channelIds()) {
        const s = n.channel.status(id)
        if (s.phase === 'closed') continue
        t += s.myBalance
        for (const e of s.locked) if (e.direction === s.me) t += e.amount
      }
      return t
    })
  }

  private async withheldPreimage(p: Payment): Promise<PaymentResult> {
    const w = this.world
    const payee = this.node(p.to)
    const before = this.totals()
    const simStart = w.nowMs()
    const mark = w.l1.sent.length
    payee.withholding = true
    let routed: Routed | undefined
    const paying = this.route(p).then((r) => {
      routed = r
    })
    // Everything is in process: a few turns take the HTLC to the payee (or fail the payment first).
    for (let i = 0; i < 100 && routed === undefined && !payee.pendingHtlcs().some((h) => h.incoming); i++) await drainEventLoop(2)
    const accepted = payee.pendingHtlcs().some((h) => h.incoming)
    this.net.setOnline(p.to, false) // ... and goes silent
    let blocks = 0
    const limit = 4 * (this.finalDelta + this.options.disputeWindow + 20)
    while ((routed === undefined || !this.nothingPending(p.to)) && blocks < limit) {
      await w.l1.mine(1)
      blocks++
      await drainEventLoop(2)
      await Promise.all(this.net.nodes.map((n, i) => (i !== p.to && n.pendingHtlcs().length > 0 ? n.poll() : undefined)))
    }
    await paying
    await this.bringBack(p.to)
    payee.withholding = false
    const r = routed as Routed
    const gas = new Map<string, number>()
    for (const t of w.l1.sent.slice(mark)) {
      const rc = w.l1.receiptSync(t.hash)
      if (rc !== undefined) gas.set(t.operation, (gas.get(t.operation) ?? 0) + rc.gasUsed)
    }
    const after = this.totals()
    const honest = before.every((b, i) => i === p.to || after[i] === b)
    const reopened = await this.reopenClosed()
    w.fault({
      paymentId: p.id,
      kind: 'withheld-preimage',
      outcome: !accepted
        ? `no HTLC reached the payee (${r.result?.success ? 'settled' : `failed: ${r.result?.reason ?? r.error}`}); nothing to withhold`
        : `payee accepted the HTLC, kept the preimage and went silent; after ${blocks} blocks the payment failed (${r.result?.reason ?? r.error}), the sender's HTLC failed back off chain; on L1: ${[...gas].map(([op, g]) => `${op.replace('HtlcAdjudicator.', '')} ${g.toLocaleString('en-US')} gas`).join(', ') || 'nothing'} (mined receipts); ${reopened} channel${reopened === 1 ? '' : 's'} reopened; every other node's channel + L1 + gas ${honest ? 'unchanged' : 'CHANGED'}`,
      safe: honest && this.nothingPending(),
    })
    w.note(
      'withheld-preimage: the payee accepts the HTLC, keeps the preimage and goes silent; blocks pass (the simulated clock jumps): at the expiry the hub fails the sender back off chain, then registers the channel, waits out the dispute window, finalizes and refunds the HTLC on L1 (real transactions, measured gas); the pair reopens a channel funded with what it ended with.',
    )
    return this.outcome(r, w.nowMs() - simStart)
  }

  /** Reopens every graph channel whose L1 channel closed, funded with what each side ended with. */
  private async reopenClosed(): Promise<number> {
    let n = 0
    for (let c = 0; c < this.deposits.length; c++) {
      if (this.deposits[c] === undefined) continue
      const id = this.net.channelIds[c]!
      const a = this.node(this.net.graph.chanA[c]!)
      if (a.channel.status(id).phase !== 'closed') continue
      const s = a.channel.latest(id).state
      const d: [Amount, Amount] = [s.balances[0], s.balances[1]]
      // An HTLC still in the last state was refunded to its offerer on L1 (the withholding fault) — or claimed; either way both sides are whole on L1.
      for (const e of s.locked) d[e.direction] += e.amount
      await this.reopen(c, d)
      n++
    }
    return n
  }

  private async reopen(c: number, d: [Amount, Amount]): Promise<void> {
    this.deposits[c] = undefined
    this.generation[c]! += 1
    await this.net.reopen(c, d[0], d[1], BigInt(this.generation[c]!) * 1_000_000_000n + BigInt(c) + 1n)
    this.deposits[c] = d
  }

  private snapshot(user: number): Map<string, SignedState> {
    const n = this.node(user)
    return new Map(n.channelIds().map((id) => [id, n.channel.latest(id)]))
  }

  private async staleState(p: Payment, r: Routed, stale: Map<string, SignedState>): Promise<void> {
    const w = this.world
    const route = r.result?.success === true ? r.result.attempts.at(-1)?.route : undefined
    if (route === undefined) {
      w.fault({ paymentId: p.id, kind: 'stale-state', outcome: 'the payment failed: no newer state to cheat with', safe: await this.quiesce() })
      return
    }
    await this.quiesce() // the hop's side of the last settle lands a few turns after the payer's
    const c = route.hops[0]!.channel
    const id = this.net.channelIds[c]!
    const key = toHex(id)
    const old = stale.get(key)
    const mallory = this.node(p.from)
    const peerIndex = this.net.graph.chanA[c] === p.from ? this.net.graph.chanB[c]! : this.net.graph.chanA[c]!
    const honest = this.node(peerIndex)
    const latest = honest.channel.latest(id)
    const mine = latest.state.balances[honest.channel.status(id).me]
    const fees = () => [...this.net.receipts[peerIndex]!.values()].reduce((x, rc) => x + rc.fee, 0n)
    const l1Before = w.l1.balanceOf(honest.address) + fees()
    let outcome: string
    let safe = false
    const opts = mallory.channel.options
    opts.autoChallenge = false // Mallory does not defend against her own fraud
    try {
      if (old === undefined) throw new Error('no state from before the payment')
      const from = w.l1.head().height
      await mallory.channel.client.register(old)
      // The honest node sees Registered and challenges.
      await eventLanded(w.l1, { address: this.net.adjudicator.address, name: 'Challenged' }, from, aboutChannel(key))
      await w.l1.mine(this.options.disputeWindow + 1)
      await drainEventLoop()
      await honest.channel.finalize({ channelId: id })
      await drainEventLoop()
      const gained = w.l1.balanceOf(honest.address) + fees() - l1Before
      safe = gained === mine && (await this.quiesce())
      outcome = `Mallory (user ${p.from}) registered v${old.state.version} of her channel with ${this.label(peerIndex)}; it challenged with v${latest.state.version}; finalized after ${this.options.disputeWindow} blocks; it received ${gained} wei before fees (its newest state owes ${mine})`
    } catch (err) {
      outcome = `dispute failed: ${(err as Error).message}`
    } finally {
      opts.autoChallenge = true
    }
    w.fault({ paymentId: p.id, kind: 'stale-state', outcome, safe })
    w.note("stale-state: after the payment the payer registers her channel's state from before it on L1; the peer's node challenges with its newest state and finalizes after the window (the simulated clock jumps); the pair reopens a channel funded with what it ended with.")
    const b = latest.state.balances
    await this.reopen(c, [b[0], b[1]])
  }

  // ------------------------------------------------------------------ end of run

  async flush(): Promise<void> {
    // Every payment's last settles are part of the payment phase (and of the hub's measured work).
    if (!(await this.quiesce())) this.world.note('Some HTLCs were still unresolved when the payments ended (settled at close).')
    this.measuring = false
    const c = summarize(this.computeMs)
    const n = summarize(this.networkMs)
    if (c.count > 0)
      this.world.note(
        `Latency of a settled payment (soft = final: the preimage back at the sender) = wall-clock compute of every node on the path (p50 ${c.p50.toFixed(2)} ms, p95 ${c.p95.toFixed(2)} ms) + simulated network delay, ${this.options.hopLatencyMs} ms per message, 2 × hops per attempt (p50 ${n.p50.toFixed(0)} ms, p95 ${n.p95.toFixed(0)} ms).`,
      )
    if (this.failedAt.size > 0)
      this.world.note(
        `Failed attempts by code and failing hop (retried on another route where one exists): ${[...this.failedAt]
          .sort((x, y) => y[1] - x[1])
          .map(([k, v]) => `${k}: ${v}`)
          .join('; ')}.`,
      )
  }

  async settle(): Promise<void> {
    const m = this.merging
    this.world.note(
      `Merged updates (payment-channel's default inside every HtlcNode): HTLC adds, settles and fails queued on a channel behind an update in flight ride in one countersigned state, each checked on its own by the peer's HTLC policy; in this run ${m.merged === 0 ? `none: ${m.states} states, one update each (the runner pays one at a time)` : `${m.mergedUpdates} updates shared ${m.merged} of ${m.states} states`}.`,
    )
    const g = this.net.graph
    const bar = this.world.task('closing channels', this.deposits.filter((d) => d !== undefined).length)
    let n = 0
    for (let c = 0; c < this.deposits.length; c++) {
      if (this.deposits[c] === undefined) continue
      await this.node(g.chanA[c]!).channel.closeCooperative({ channelId: this.net.channelIds[c]! })
      this.deposits[c] = undefined
      bar.update(++n)
    }
    bar.end()
    await drainEventLoop()
    this.settled = true
    this.net.stop()
    for (const s of this.stores) s.close()
    if (this.dir !== undefined) rmSync(this.dir, { recursive: true, force: true })
  }

  lockedCapital(): bigint {
    let t = 0n
    for (const d of this.deposits) if (d !== undefined) t += d[0] + d[1]
    return t
  }

  /** Routing fees each user paid (−) and earned (+), from its node's ledger. */
  adjustments(): Map<number, bigint> {
    const out = new Map<number, bigint>()
    for (const u of this.world.users) {
      const l = this.node(u.index).ledger
      const delta = l.feesEarned - l.feesPaid
      if (delta !== 0n) out.set(u.index, delta)
    }
    return out
  }

  store(): StoreJson {
    return channelStoreJson(
      this.options,
      this.dir,
      'one database per node for its channel states and HTLC book (HTLC writes committed with the next channel save, or before an HTLC message or L1 transaction leaves the node)',
    )
  }

  /** One two-hop payment's signatures, verifications and commits (see HTLC_COMMITS_PER_PAYMENT). */
  bound(): PaymentBound {
    const sv = { run: signVerify('htlc'), times: HTLC_SIGN_VERIFIES_PER_PAYMENT }
    const crypto = `${HTLC_SIGN_VERIFIES_PER_PAYMENT} × (noble sign + node:crypto verify)`
    if (this.dir === undefined) return composeBound(`${crypto}, memory store`, [sv])
    const store = new SqliteNodeStore(join(this.dir, 'bound.db'), { synchronous: this.options.synchronous })
    return composeBound(
      `${crypto} + ${HTLC_COMMITS_PER_PAYMENT} SQLite ${this.options.synchronous} commits`,
      [sv, { run: sqliteCommit(store.channels.db), times: HTLC_COMMITS_PER_PAYMENT }],
      () => store.close(),
    )
  }

  /** Hubs and the busiest node's forwarding rate, from what each node timed (htlc-timing.ts hubCapacityInputs). */
  capacityInputs(): CapacityInputs {
    return hubCapacityInputs(this.work, this.computeMs.length, (i) => this.label(i), this.dir === undefined ? undefined : this.options.synchronous)
  }

  /** SQLite commits made so far by every node's store (tests: the bound's count). */
  get commits(): number {
    let n = 0
    for (const s of this.stores) if (s instanceof SqliteNodeStore) n += s.commits
    return n
  }

  /** Whether settle ran (tests). */
  get closed(): boolean {
    return this.settled
  }
}
