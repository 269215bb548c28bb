/**
 * HTLC network adapter (@l2bench/htlc-router): payments routed hop by hop
 * over a channel graph by the router's discrete-event NetworkSimulator
 * (pathfinding with fees and timelocks, per-hop checks, retries with mission
 * control), with the channels opened and closed for real on the L1 through
 * @l2bench/payment-channel's adjudicator.
 *
 * Topology: `hub` — every user that pays or is paid opens one channel to a
 * single hub run by an operator, funded with perfect foresight (the user's
 * peak net outflow on its side, the hub's peak net outflow to the user on the
 * other, × headroom); `scale-free` — the workload's preferential-attachment
 * graph over the users, every channel `topology.capacity`, split in half.
 *
 * Latency: soft = final = the simulated time until the preimage is back at
 * the sender (one `hopLatencyMs` per message, retries included) + the wall
 * time of routing and simulating. HTLCs move abstract balances in the
 * simulator (the HTLC-in-channel-state forwarder is not in the router yet),
 * so there are no signatures on the payment path: throughput here is routing
 * and simulation speed, not signing speed.
 *
 * Units: the simulator counts msat in numbers below 2^53, so 1 msat here is
 * 1 gwei; amounts are rounded up to whole gwei and the rounding is accounted
 * for in the conservation check (adjustments), as are routing fees.
 *
 * Big graphs: above `maxOnchainChannels`, only the first `sampleChannels`
 * channels go on L1; the gas of the rest is extrapolated from their mean
 * (marked †), and their final balances count as held off L1.
 */
import { type Address, type Amount, type Signer, monotonicMs } from '@l2bench/core'
import { type ChannelGraph, ChannelGraphBuilder, NetworkSimulator } from '@l2bench/htlc-router'
import { Adjudicator, AdjudicatorClient, type ChannelState, stateDigest } from '@l2bench/payment-channel'
import type { Wallet } from '@l2bench/l1-mock'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteStore } from '@l2bench/payment-channel'
import { secondsPerCall, signVerify, sqliteCommit } from '../bounds.ts'
import type { CapacityInputs, Design, ExtraCost, PaymentResult, User, World } from '../design.ts'
import type { StoreJson } from '../results.ts'
import type { Payment } from '../workload.ts'
import { type HtlcOptions, designOptions } from './options.ts'

/** Wei per simulator msat. */
const UNIT = 10n ** 9n

/**
 * The hub's work per forwarded payment in the capacity model, until the
 * adapter forwards real signed HTLCs (issue 14): four channel updates (add
 * and settle on the incoming and on the outgoing channel), each one sign and
 * one verify at the hub; it proposes two of them (two commits each: the
 * proposal, then the countersigned state) and countersigns two (one commit
 * each), as the channel design does per update.
 */
export const HUB_MODEL = { signVerifies: 4, commits: 6 } as const


interface Party {
  node: number
  user: number // -1 = hub operator
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

export class HtlcDesign implements Design {
  readonly name = 'htlc' as const
  private world!: World
  private options!: HtlcOptions
  private graph!: ChannelGraph
  private sim!: NetworkSimulator
  private parties: Party[] = []
  private initial: [bigint, bigint][] = [] // per channel, msat
  private onchain: (OnChain | undefined)[] = []
  private adjudicator!: Adjudicator
  private locked = 0n
  private extra: ExtraCost[] = []
  private routedFaults = 0
  private batch: Payment[] = []

  async setup(world: World): Promise<void> {
    this.world = world
    this.options = designOptions(world.scenario, 'htlc')
    const o = this.options
    const s = world.scenario
    const h = BigInt(Math.round(s.capital.headroom * 1000))
    const policy = { baseFeeMsat: BigInt(o.baseFeeMsat), feeRatePpm: o.feeRatePpm }
    const b = new ChannelGraphBuilder()
    b.addNodes(world.users.length)
    for (const u of world.users) this.parties.push({ node: u.index, user: u.index, address: u.address, signer: u.signer, wallet: u.wallet })
    const caps: [bigint, bigint][] = []
    if (s.topology.kind === 'hub') {
      const hubUser: User = world.operator('htlc-hub')
      const hub = b.addNode('hub')
      this.parties.push({ node: hub, user: -1, address: hubUser.address, signer: hubUser.signer, wallet: hubUser.wallet })
      const fixed = s.capital.channelDeposit
      world.workload.userNeeds.forEach((need, u) => {
        if (need.a === 0n && need.b === 0n) return
        // The user's side also pays the hub's fee on what it sends.
        const mine = fixed === 'auto' ? ceilDiv(need.a * h, 1000n * UNIT) + ceilDiv(need.a * h * BigInt(o.feeRatePpm), 1000n * UNIT * 1_000_000n) + BigInt(o.baseFeeMsat) * 64n : fixed / UNIT
        const hubs = fixed === 'auto' ? ceilDiv(need.b * h, 1000n * UNIT) : fixed / UNIT
        if (mine + hubs === 0n) return
        b.addChannel({ a: u, b: hub, capacityMsat: mine + hubs, policyAB: policy, policyBA: policy })
        caps.push([mine, hubs])
      })
      world.note(
        `Hub and spoke: one channel per user to an operator's hub (perfect-foresight liquidity); routing fee ${o.feeRatePpm} ppm + ${o.baseFeeMsat} msat; hop latency ${o.hopLatencyMs} ms simulated.`,
      )
    } else {
      const cap = s.topology.capacity / UNIT
      for (const [x, y] of world.workload.graph?.edges ?? []) {
        b.addChannel({ a: x, b: y, capacityMsat: cap, policyAB: policy, policyBA: policy })
        caps.push([cap / 2n, cap - cap / 2n])
      }
      world.note(
        `Scale-free graph of ${caps.length} channels (m = ${s.topology.m}), each ${s.topology.capacity} wei split in half; multi-hop routing, fee ${o.feeRatePpm} ppm; hop latency ${o.hopLatencyMs} ms simulated.`,
      )
    }
    this.graph = b.build()
    this.initial = caps
    this.sim = new NetworkSimulator(this.graph, {
      seed: `${s.seed}:htlc`,
      gasPerHtlcResolution: o.gasPerHtlcResolution,
      liquidity: (channel) => caps[channel]![0],
      hopLatencyMs: o.hopLatencyMs,
      blockTimeMs: s.l1.blockTime * 1000,
      cost: o.cost,
      maxAttempts: o.maxAttempts,
      missionControl: o.missionControl,
    })
    world.note('HTLCs move the router simulator’s balances (no signatures on the payment path); channel opens and closes run on the L1 through the payment-channel adjudicator.')
    world.note(`Mission control: ${o.missionControl}${o.missionControl === 'per-payment' ? ' (a sender forgets failures between payments; per-sender, as lnd, fails ~30 % of the default scenario with no_route after transient in-flight liquidity failures)' : ''}.`)

    // ---- open the channels on L1
    this.adjudicator = world.l1.deploy(new Adjudicator())
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
    for (let c = 0; c < n; c++) this.locked += (caps[c]![0] + caps[c]![1]) * UNIT
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
      disputeWindow: 100,
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
            'withheld-preimage: the payee accepts the HTLC and never reveals the preimage (it runs alone); the last hop waits for the HTLC expiry, force-closes and times it out on chain (gas per resolution: the model constant), every upstream HTLC is failed back; the closed channel stays closed.',
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
        const f = this.world
        f.note('offline-hop: the first hop after the sender is offline while the payment runs (alone); the sender retries around it where the graph allows — in a hub topology there is no way around.')
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
    const mark = this.world.l1.sent.length
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
        if (!tx.operation.startsWith('PaymentChannelAdjudicator.')) continue
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
    void mark
    const res = this.sim.stats.onchainHtlcResolutions
    if (res > 0) {
      this.extra.push({ operation: 'HTLC resolution (modelled)', phase: 'payments', gas: this.sim.onchainGas, bytes: 0, txs: res })
      this.world.extrapolated({ what: `${res} on-chain HTLC resolutions after force-closes`, fit: `${this.options.gasPerHtlcResolution} gas each (model constant)`, measuredAt: 'not run on L1' })
    }
  }

  lockedCapital(): bigint {
    return this.locked
  }

  store(): StoreJson {
    return { kind: 'none', description: 'none: the router simulator keeps channel balances in memory (no signatures, no persistence on the payment path)' }
  }

  /**
   * Hubs: payments that succeeded ÷ forwards at the busiest forwarding node
   * (1 in the hub topology, where every payment crosses the hub). Forwarding
   * rate: modelled from this machine's measured primitives (HUB_MODEL), since
   * the simulator forwards without signatures or persistence.
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
        how: `1 ÷ (${HUB_MODEL.signVerifies} × ${(sv * 1000).toFixed(2)} ms noble sign + node:crypto verify + ${HUB_MODEL.commits} × ${(commit * 1000).toFixed(2)} ms SQLite FULL commit), primitives timed in this run: the simulator forwards without signatures, so the hub's work is modelled as four channel updates per payment`,
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
}
