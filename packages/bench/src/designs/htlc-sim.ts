/**
 * The HTLC design's simulated engine ("simulated forwarding"): payments
 * routed hop by hop by the router's discrete-event NetworkSimulator over
 * abstract channel balances — pathfinding with fees and timelocks, per-hop
 * checks, retries with mission control — with no signatures and no store on
 * the payment path. The channels are opened and closed for real on the L1
 * through the HtlcAdjudicator. Used for graphs too big to run node by node;
 * every report labels its figures "simulated forwarding".
 *
 * Latency: soft = final = the simulated time until the preimage is back at
 * the sender (one `hopLatencyMs` per message, retries included) + the wall
 * time of routing and simulating. Throughput is routing and simulation
 * speed, not signing speed.
 *
 * Units: the simulator counts msat in numbers below 2^53, so 1 msat here is
 * 1 gwei; amounts are rounded up to whole gwei and the rounding is accounted
 * for in the conservation check (adjustments), as are routing fees.
 *
 * Big graphs: above `maxOnchainChannels`, only the first `sampleChannels`
 * channels go on L1; the gas of the rest is extrapolated from their mean
 * (marked †), and their final balances count as held off L1.
 *
 * On-chain HTLC resolution (a withholding payee's HTLC timed out after a
 * force-close): not run on this L1; its gas is measured on a one-channel
 * network of real HtlcNodes (register with the HTLC, finalize, refund, each a
 * mined receipt) and charged per force-close and per HTLC (marked †).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Address, type Amount, type Signer, monotonicMs } from '@l2bench/core'
import { type ChannelGraph, ChannelGraphBuilder, HtlcAdjudicator, HtlcNetwork, NetworkSimulator, drainEventLoop } from '@l2bench/htlc-router'
import type { Wallet } from '@l2bench/l1-mock'
import { AdjudicatorClient, type ChannelState, SqliteStore, stateDigest } from '@l2bench/payment-channel'
import { secondsPerCall, signVerify, sqliteCommit } from '../bounds.ts'
import type { CapacityInputs, Design, ExtraCost, PaymentResult, World } from '../design.ts'
import { MeteredL1 } from '../meter.ts'
import type { StoreJson } from '../results.ts'
import type { Payment } from '../workload.ts'
import { type HtlcPlan, UNIT } from './htlc.ts'
import type { HtlcOptions } from './options.ts'

interface Party {
  node: number
  address: Address
  signer: Signer
  wallet: Wallet
}

interface OnChain {
  channelId: Uint8Array
  deposits: [Amount, Amount]
}

const ceilDiv = (a: bigint, b: bigint) => (a + b - 1n) / b
const fmtCount = (n: number) => n.toLocaleString('en-US')
const ADJ = 'HtlcAdjudicator.'

/**
 * The hub's work per forwarded payment in the capacity model of simulated
 * forwarding (which has no signatures to time): four channel updates (add
 * and settle on the incoming and on the outgoing channel), each one sign and
 * one verify at the hub; it proposes two of them (two commits each: the
 * proposal, then the countersigned state) and countersigns two (one commit
 * each), as the channel design does per update.
 */
export const HUB_MODEL = { signVerifies: 4, commits: 6 } as const

/** Gas of one HTLC timed out on chain, measured on real HtlcNodes: register (a state holding it), finalize, refund. */
export interface OnChainHtlcGas {
  register: number
  finalize: number
  refund: number
}

export async function measureOnChainHtlcGas(disputeWindow: number): Promise<OnChainHtlcGas> {
  const l1 = new MeteredL1()
  const net = await HtlcNetwork.create({ nodes: ['hop', 'payee'], channels: [{ a: 0, b: 1, depositA: 10n ** 15n, depositB: 10n ** 15n }], disputeWindow, onL1: l1 })
  try {
    const payee = net.nodes[1]!
    payee.withholding = true
    let done = false
    const paying = net.pay(0, 1, 10n ** 12n, { maxAttempts: 1, finalCltvDelta: disputeWindow + 12 }).finally(() => {
      done = true
    })
    await drainEventLoop()
    net.setOnline(1, false) // accepted, then silent: the hop must go on chain
    for (let i = 0; i < 20 * (disputeWindow + 50) && (!done || net.nodes[0]!.pendingHtlcs().length > 0); i++) await net.mine(1)
    await paying
    const gas = (op: string) => l1.minedReceipts().find((r) => r.tx.operation === `${ADJ}${op}` && r.tx.phase === 'setup')?.receipt.gasUsed
    const register = gas('register')
    const finalize = gas('finalize')
    const refund = gas('resolveLocked')
    if (register === undefined || finalize === undefined || refund === undefined) throw new Error('the on-chain refund did not run')
    return { register, finalize, refund }
  } finally {
    net.stop()
  }
}

export class SimulatedHtlc implements Design {
  readonly name = 'htlc' as const
  readonly forwarding = 'simulated' as const
  private world!: World
  private graph!: ChannelGraph
  private sim!: NetworkSimulator
  private parties: Party[] = []
  private initial: [bigint, bigint][] = [] // per channel, msat
  private onchain: (OnChain | undefined)[] = []
  private adjudicator!: HtlcAdjudicator
  private locked = 0n
  private extra: ExtraCost[] = []
  private routedFaults = 0
  private batch: Payment[] = []

  constructor(
    private readonly plan: HtlcPlan,
    private readonly options: HtlcOptions,
  ) {}

  async setup(world: World): Promise<void> {
    this.world = world
    const o = this.options
    const s = world.scenario
    const plan = this.plan
    const policy = { baseFeeMsat: BigInt(o.baseFeeMsat), feeRatePpm: o.feeRatePpm }
    const b = new ChannelGraphBuilder()
    b.addNodes(world.users.length)
    for (const u of world.users) this.parties.push({ node: u.index, address: u.address, signer: u.signer, wallet: u.wallet })
    if (plan.hub !== undefined) {
      const hub = b.addNode('hub')
      this.parties.push({ node: hub, address: plan.hub.address, signer: plan.hub.signer, wallet: plan.hub.wallet })
    }
    for (const c of plan.channels) {
      const caps: [bigint, bigint] = [c.depositA / UNIT, c.depositB / UNIT]
      b.addChannel({ a: c.a, b: c.b, capacityMsat: caps[0] + caps[1], policyAB: policy, policyBA: policy })
      this.initial.push(caps)
    }
    world.note(
      `Simulated forwarding (the router's NetworkSimulator over abstract balances: no signatures, no store on the payment path); ${plan.topology}; funding: ${plan.funding}; routing fee ${o.feeRatePpm} ppm + ${o.baseFeeMsat} gwei; hop latency ${o.hopLatencyMs} ms simulated.`,
    )
    world.note(`Mission control: ${o.missionControl}${o.missionControl === 'per-payment' ? ' (a sender forgets failures between payments)' : ''}.`)
    this.graph = b.build()
    this.sim = new NetworkSimulator(this.graph, {
      seed: `${s.seed}:htlc`,
      gasPerHtlcResolution: 0, // measured on real nodes at settle (see the module comment)
      liquidity: (channel) => this.initial[channel]![0],
      hopLatencyMs: o.hopLatencyMs,
      blockTimeMs: s.l1.blockTime * 1000,
      cost: o.cost,
      maxAttempts: o.maxAttempts,
      paymentTimeoutMs: o.paymentTimeoutMs,
      missionControl: o.missionControl,
    })

    // ---- open the channels on L1
    this.adjudicator = await world.l1.deploy(new HtlcAdjudicator())
    const n = this.graph.channelCount
    const materialize = n <= o.maxOnchainChannels ? n : Math.min(n, o.sampleChannels)
    this.onchain = new Array(n).fill(undefined)
    for (let c = 0; c < materialize; c++) {
      await this.openOnChain(c)
      if ((c + 1) % 200 === 0) world.progress(`opened ${c + 1}/${materialize} channels on L1`)
    }
    if (materialize < n) {
      world.extrapolated({
        what: `L1 gas of ${n - materialize} of ${n} channel opens and closes`,
        fit: `mean gas, bytes and txs per channel of the ${materialize} channels run on L1 × ${n - materialize}`,
        measuredAt: `${materialize} channels`,
      })
    }
    for (let c = 0; c < n; c++) this.locked += (this.initial[c]![0] + this.initial[c]![1]) * UNIT
  }

  private party(node: number): Party {
    return this.parties[node]!
  }

  private async openOnChain(c: number): Promise<void> {
    const [ia, ib] = this.initial[c]!
    const a = this.party(this.graph.chanA[c]!)
    const bb = this.party(this.graph.chanB[c]!)
    const deposits: [Amount, Amount] = [ia * UNIT, ib * UNIT]
    const clientA = new AdjudicatorClient(a.wallet, this.adjudicator)
    const r = await clientA.open({
      b: bb.address,
      pkA: a.signer.publicKey,
      pkB: bb.signer.publicKey,
      nonce: BigInt(c + 1),
      depositA: deposits[0],
      depositB: deposits[1],
      disputeWindow: this.options.disputeWindow,
      fundingTimeout: 20,
      penalty: 'none',
    })
    const channelId = Uint8Array.from(Buffer.from((r.result as string).slice(2), 'hex'))
    await new AdjudicatorClient(bb.wallet, this.adjudicator).confirm(channelId, deposits[1])
    this.onchain[c] = { channelId, deposits }
  }

  async pay(p: Payment): Promise<PaymentResult> {
    // Buffer the payment; a batch runs once arrivals span the window, so
    // payments overlap in the simulated network (each one's result is
    // resolved when its batch has run).
    const first = this.batch[0]
    const alone = p.fault === 'offline-hop' || p.fault === 'withheld-preimage'
    if (first !== undefined && (p.atMs - first.atMs > this.options.batchWindowMs || alone)) await this.runBatch()
    this.batch.push(p)
    // A payment with a faulty hop or payee runs alone, so only it meets the fault.
    if (alone) await this.runBatch()
    return { ok: true }
  }

  private async runBatch(): Promise<void> {
    const batch = this.batch
    this.batch = []
    if (batch.length === 0) return
    const offline: number[] = []
    const offlineFor = new Map<number, number | undefined>()
    const withholding: number[] = []
    for (const p of batch) {
      if (p.fault === 'withheld-preimage') {
        this.sim.withholding[p.to] = 1
        withholding.push(p.to)
      }
      if (p.fault === 'offline-hop') {
        const node = this.takeHopOffline(p)
        if (node !== undefined) offline.push(node)
        offlineFor.set(p.id, node)
      }
    }
    const base = this.sim.now
    const t0 = monotonicMs()
    let results: Awaited<ReturnType<NetworkSimulator['run']>>
    try {
      results = await this.sim.run(
        batch.map((p) => ({ id: p.id, timeMs: Math.max(p.atMs, base), sender: p.from, receiver: p.to, amountMsat: ceilDiv(p.amount, UNIT) })),
      )
    } finally {
      for (const n of offline) this.sim.offline[n] = 0
      for (const n of withholding) this.sim.withholding[n] = 0
    }
    const wallEach = (monotonicMs() - t0) / batch.length
    batch.forEach((p, i) => {
      const r = results[i]!
      // Simulated time in the network (plus any wait for the previous batch's events) + this payment's share of the wall time.
      const latency = r.latencyMs + (Math.max(p.atMs, base) - p.atMs) + wallEach
      if (p.fault === 'withheld-preimage') {
        if (this.routedFaults++ === 0)
          this.world.note(
            'withheld-preimage (simulated forwarding): the payee accepts the HTLC and never reveals the preimage (it runs alone); the last hop waits for the HTLC expiry, force-closes and times it out on chain, every upstream HTLC is failed back; the closed channel stays closed.',
          )
        this.world.fault({
          paymentId: p.id,
          kind: 'withheld-preimage',
          outcome: r.success
            ? 'settled (the payee had no withholding route: direct or no HTLC reached it)'
            : `failed (${r.reason}) after ${r.attempts.length} attempts; HTLCs refunded after expiry, ${r.attempts.length > 0 ? 'last hop timed out on chain' : 'nothing locked'}`,
          safe: true,
        })
      }
      if (p.fault === 'offline-hop') {
        const node = offlineFor.get(p.id)
        this.world.fault({
          paymentId: p.id,
          kind: 'offline-hop',
          outcome:
            node === undefined
              ? 'no intermediate hop on the route (direct channel or no route); payment ran normally'
              : `node ${node} (first hop after the sender) offline during the payment: ${r.success ? `settled around it after ${r.attempts.length} attempts` : `failed (${r.reason}) after ${r.attempts.length} attempts, HTLCs released`}`,
          safe: true,
        })
        this.world.note(
          'offline-hop: the first hop after the sender is offline while the payment runs (alone); the sender retries around it where the graph allows — in a hub topology there is no way around.',
        )
      }
      if (r.success) this.world.resolve(p.id, { ok: true, softLatencyMs: latency, finalLatencyMs: latency })
      else this.world.resolve(p.id, { ok: false, reason: (r.reason ?? 'FAILED').toUpperCase(), softLatencyMs: latency })
    })
  }

  /** Marks the first intermediate node of the route the sender would take offline (returns it). */
  private takeHopOffline(p: Payment): number | undefined {
    let route: ReturnType<NetworkSimulator['pathfinder']['findRoute']>
    try {
      route = this.sim.pathfinder.findRoute({ source: p.from, target: p.to, amountMsat: ceilDiv(p.amount, UNIT), currentHeight: this.sim.heightAt(this.sim.now) })
    } catch {
      return undefined // no route at all: nothing to take offline
    }
    const first = route.hops[0]
    if (route.hops.length < 2 || first === undefined) return undefined
    const node = this.graph.edgeTo[first.edge]!
    if (node === p.to || this.sim.offline[node] === 1) return undefined
    this.sim.offline[node] = 1
    return node
  }

  async flush(): Promise<void> {
    await this.runBatch()
  }

  async settle(): Promise<void> {
    const n = this.graph.channelCount
    let measured = 0
    for (let c = 0; c < n; c++) {
      const oc = this.onchain[c]
      if (oc === undefined) continue
      const a = this.party(this.graph.chanA[c]!)
      const bb = this.party(this.graph.chanB[c]!)
      const balA = this.sim.forwarder.liquidity(this.graph.edge(c, 0))
      const balB = this.sim.forwarder.liquidity(this.graph.edge(c, 1))
      const state: ChannelState = { channelId: oc.channelId, version: 1n, balances: [balA * UNIT, balB * UNIT], locked: [], isFinal: true }
      const digest = stateDigest({ chainId: this.world.l1.chainId, adjudicator: this.adjudicator.address }, state)
      await new AdjudicatorClient(a.wallet, this.adjudicator).close({ state, digest, sigs: [a.signer.sign(digest), bb.signer.sign(digest)] })
      measured++
      if (measured % 200 === 0) this.world.progress(`closed ${measured} channels on L1`)
    }
    this.locked = 0n
    const missing = n - measured
    if (missing > 0 && measured > 0) {
      // Mean per materialized channel, from this run's receipts, for the channels not run on L1.
      const per = new Map<string, ExtraCost>()
      for (const { tx, receipt } of this.world.l1.minedReceipts()) {
        if (!tx.operation.startsWith(ADJ)) continue
        const x = per.get(tx.operation) ?? { operation: tx.operation, phase: tx.phase, gas: 0, bytes: 0, txs: 0 }
        x.gas += receipt.gasUsed
        x.bytes += receipt.calldataBytes
        x.txs += 1
        per.set(tx.operation, x)
      }
      this.extra = [...per.values()].map((x) => ({
        ...x,
        gas: Math.round((x.gas / measured) * missing),
        bytes: Math.round((x.bytes / measured) * missing),
        txs: Math.round((x.txs / measured) * missing),
      }))
    }
    const res = this.sim.stats.onchainHtlcResolutions
    const closes = this.sim.stats.forceCloses
    if (res > 0 || closes > 0) {
      const g = await measureOnChainHtlcGas(this.options.disputeWindow)
      this.extra.push(
        { operation: `${ADJ}register (simulated force-close)`, phase: 'payments', gas: closes * g.register, bytes: 0, txs: closes },
        { operation: `${ADJ}finalize (simulated force-close)`, phase: 'payments', gas: closes * g.finalize, bytes: 0, txs: closes },
        { operation: `${ADJ}resolveLocked (simulated refund)`, phase: 'payments', gas: res * g.refund, bytes: 0, txs: res },
      )
      this.world.extrapolated({
        what: `${closes} force-closes and ${res} on-chain HTLC refunds of simulated forwarding`,
        fit: `per force-close register ${g.register} + finalize ${g.finalize} gas, per HTLC refund ${g.refund} gas`,
        measuredAt: 'one HTLC timed out on chain by real HtlcNodes on a separate L1 (mined receipts)',
      })
    }
  }

  lockedCapital(): bigint {
    return this.locked
  }

  /** Final balances of channels that never went on L1 (big graphs): held for their users off L1. */
  heldFor(user: number): bigint {
    let held = 0n
    for (let c = 0; c < this.graph.channelCount; c++) {
      if (this.onchain[c] !== undefined) continue
      const [ia, ib] = this.initial[c]!
      if (this.graph.chanA[c] === user) held += (this.sim.forwarder.liquidity(this.graph.edge(c, 0)) - ia) * UNIT
      if (this.graph.chanB[c] === user) held += (this.sim.forwarder.liquidity(this.graph.edge(c, 1)) - ib) * UNIT
    }
    return held
  }

  /** Routing fees and the rounding to whole gwei, per user (from the simulator's ledger). */
  adjustments(): Map<number, bigint> {
    const out = new Map<number, bigint>()
    const sentWei = new Array<bigint>(this.world.users.length).fill(0n)
    const recvWei = new Array<bigint>(this.world.users.length).fill(0n)
    for (const r of this.sim.results) {
      if (!r.success) continue
      const p = this.world.workload.payments[r.id]!
      sentWei[p.from] = sentWei[p.from]! + p.amount
      recvWei[p.to] = recvWei[p.to]! + p.amount
    }
    for (const u of this.world.users) {
      const l = this.sim.ledger(u.index)
      const delta = l.receivedMsat * UNIT - recvWei[u.index]! - (l.sentMsat * UNIT - sentWei[u.index]!) - l.feesPaidMsat * UNIT + l.feesEarnedMsat * UNIT
      if (delta !== 0n) out.set(u.index, delta)
    }
    return out
  }

  extraCosts(): ExtraCost[] {
    return this.extra
  }

  store(): StoreJson {
    return { kind: 'none', description: 'none: simulated forwarding keeps channel balances in memory (no signatures, no persistence on the payment path)' }
  }

  /**
   * Hubs: payments that succeeded ÷ forwards at the busiest forwarding node.
   * Forwarding rate: modelled from this machine's measured primitives
   * (HUB_MODEL), since the simulator forwards without signatures or persistence.
   */
  capacityInputs(): CapacityInputs {
    const forwards = new Map<number, number>()
    let succeeded = 0
    for (const r of this.sim.results) {
      if (!r.success) continue
      succeeded++
      for (const a of r.attempts) {
        if (a.outcome !== 'settled') continue
        for (let i = 0; i < a.route.hops.length - 1; i++) {
          const node = this.graph.edgeTo[a.route.hops[i]!.edge]!
          forwards.set(node, (forwards.get(node) ?? 0) + 1)
        }
      }
    }
    const busiest = Math.max(0, ...forwards.values())
    const dir = mkdtempSync(join(tmpdir(), 'l2bench-hub-model-'))
    const store = new SqliteStore(join(dir, 'hub.db'), { synchronous: 'FULL' })
    let sv: number
    let commit: number
    try {
      sv = secondsPerCall(signVerify('hub'))
      commit = secondsPerCall(sqliteCommit(store.db))
    } finally {
      store.close()
      rmSync(dir, { recursive: true, force: true })
    }
    const perPayment = HUB_MODEL.signVerifies * sv + HUB_MODEL.commits * commit
    return {
      model: 'hub',
      forwardRate: {
        value: Number((1 / perPayment).toPrecision(4)),
        unit: 'payments/s',
        source: 'modelled',
        how: `1 ÷ (${HUB_MODEL.signVerifies} × ${(sv * 1000).toFixed(2)} ms noble sign + node:crypto verify + ${HUB_MODEL.commits} × ${(commit * 1000).toFixed(2)} ms SQLite FULL commit), primitives timed in this run: simulated forwarding has no signatures, so the hub's work is modelled as four channel updates per payment`,
      },
      hubs: {
        value: busiest > 0 ? succeeded / busiest : 1,
        unit: 'hubs',
        source: 'parameter',
        how:
          busiest > 0
            ? `${fmtCount(succeeded)} payments that succeeded ÷ ${fmtCount(busiest)} forwarded by the busiest node${this.world.scenario.topology.kind === 'hub' ? ' (the hub)' : ''}`
            : 'no payment was forwarded (all direct): one hub assumed',
      },
    }
  }
}
