/**
 * Virtual channel adapter (@l2bench/virtual-channel, Perun §3.3 in seed 002):
 * a hub (Ingrid, an operator) and one ledger channel per user with it,
 * opened on L1 before the payments. A virtual channel per pair that pays is
 * opened off chain on the pair's first payment (its payer is Alice), reused
 * for every later payment of the pair, and closed cooperatively at settle
 * (Ingrid unlocks both ledgers by its final state); then every ledger closes
 * on L1.
 *
 * Deposits (perfect foresight, as the channel design): each side's share of
 * a pair's virtual channel is its peak net outflow in that pair × headroom
 * (or the scenario's fixed deposit). A user's ledger holds the user's shares
 * of all its virtual channels; the hub puts into it the counterparts' shares
 * (it stands in for Bob in Alice's ledger and for Alice in Bob's), so the
 * hub's collateral is Σ over virtual channels of x_A + x_B.
 *
 * One payment = one countersigned update of the virtual channel between the
 * two users; the hub is not involved. Soft = final latency (the payee holds
 * a state signed by both and Ingrid's activation: it can enforce it on L1
 * alone) = the wall time of the update + `messageLatencyMs` × its 2
 * messages (a round trip; the htlc design charges its hop latency the same
 * way); the first payment of a pair also waits for the virtual open — its
 * wall time + 6 messages (proposal, acceptance, fund, both ledger locks'
 * proposal and answer in parallel, activation) — and its latency says so
 * (the open's own mean is noted). L1 gas: the ledger channels' opens and
 * closes, plus disputes.
 *
 * Hub collateral × time: Σ over virtual channels of (x_A + x_B) × the
 * simulated time between its open and its close (a note, with the formula).
 *
 * Fault `stale-state`: after the payment the payer turns Mallory — stops
 * defending itself and registers the virtual state from before the payment
 * on L1. The payee's node refutes with the newest; once the window has
 * passed the hub unlocks both ledgers off chain by the L1 outcome (the
 * ledgers stay open), and the pair's next payment opens a new virtual channel
 * with the balances it ended with.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Amount, MAX_AMOUNT, monotonicMs } from '@l2bench/core'
import { type ChannelStore, MemoryStore, type SignedState, SqliteStore, memoryLinkPair } from '@l2bench/payment-channel'
import {
  MemoryVirtualStore,
  SqliteVirtualStore,
  VirtualAdjudicator,
  VirtualClient,
  VirtualNode,
  type VirtualStore,
} from '@l2bench/virtual-channel'
import type { CapacityInputs, Design, PaymentBound, PaymentResult, User, World } from '../design.ts'
import type { StoreJson } from '../results.ts'
import { type Payment, depositFor } from '../workload.ts'
import { aboutChannel, channelStoreJson, eventLanded, pairCapacityInputs, settleWithin, turns, updateBound } from './channel.ts'
import { type VirtualOptions, designOptions } from './options.ts'

/** The hub's index in the node table. */
const HUB = -1
/** Messages on the critical path of a payment (propose, accept) and of a virtual open (propose, accept, fund, lock proposals, lock answers, activation). */
const PAY_MESSAGES = 2
const OPEN_MESSAGES = 6
/** Blocks from a virtual open until the hub alone may register it (≈ 2 weeks of 12 s blocks): how long silent parties can hold its collateral. */
const VALIDITY = 100_000

interface Ledger {
  id: `0x${string}`
  deposits: [Amount, Amount]
}

interface PairVirtual {
  id: `0x${string}`
  alice: number
  bob: number
  /** [x_A, x_B] */
  shares: [Amount, Amount]
  generation: number
  openedAtMs: number
}

export class VirtualDesign implements Design {
  readonly name = 'virtual' as const
  private world!: World
  private options!: VirtualOptions
  private adjudicator!: VirtualAdjudicator
  private hub!: User
  private readonly nodes = new Map<number, VirtualNode>()
  private readonly stores: { channel: ChannelStore; virtual: VirtualStore }[] = []
  private readonly ledgers = new Map<number, Ledger>()
  private readonly virtuals = new Map<number, PairVirtual>()
  /** Each pair's shares for its next virtual channel (the perfect-foresight ones, then what a dispute left). */
  private readonly nextShares = new Map<number, [Amount, Amount]>()
  private readonly generations = new Map<number, number>()
  private dir: string | undefined
  private locked = 0n
  /** Σ (x_A + x_B) × seconds open, wei·s. */
  private collateralSeconds = 0n
  private peakCollateral = 0n
  private collateral = 0n
  private opens: number[] = []
  /** Σ of the hub's ledger versions after setup (its updates in the payment phase are counted from here). */
  private hubVersions = 0n
  private paid = 0

  async setup(world: World): Promise<void> {
    this.world = world
    this.options = designOptions(world.scenario, 'virtual')
    this.adjudicator = await world.l1.deploy(new VirtualAdjudicator())
    this.hub = await world.operator('virtual-hub')
    if (this.options.store === 'sqlite') this.dir = mkdtempSync(join(tmpdir(), 'l2bench-virtual-'))
    const o = this.options
    world.note(
      `Hub and spoke: one ledger channel per user with the hub, opened before the payments (the user deposits its own shares of its virtual channels, the hub the counterparts'); one virtual channel per paying pair, opened off chain on the pair's first payment and reused; payments are direct two-party updates the hub never sees; soft = final latency = wall time + ${o.messageLatencyMs} ms simulated per message on the critical path (${PAY_MESSAGES} per payment, ${OPEN_MESSAGES} more for a virtual open; the channel and paych designs model no network delay); store ${o.store}${o.store === 'sqlite' ? ` (synchronous=${o.synchronous})` : ''}; ledger dispute window ${o.disputeWindow} blocks, virtual ${o.virtualDisputeWindow}.`,
    )
    const w = world.workload
    const used = [...new Set(w.payments.map((p) => p.pair))].sort((a, b) => a - b)
    // Per user: its own shares and the hub's shares opposite it, over all its pairs.
    const userDeposit = new Map<number, [Amount, Amount]>()
    for (const pair of used) {
      const [lo, hi] = w.pairs[pair]!
      const s = this.shares(pair)
      this.nextShares.set(pair, s)
      const add = (u: number, mine: Amount, hubs: Amount) => {
        const d = userDeposit.get(u) ?? [0n, 0n]
        userDeposit.set(u, [d[0] + mine, d[1] + hubs])
      }
      add(lo, s[0], s[1])
      add(hi, s[1], s[0])
    }
    this.node(HUB)
    for (const u of userDeposit.keys()) this.link(u, HUB)
    for (const pair of used) {
      const [lo, hi] = w.pairs[pair]!
      this.link(lo, hi)
    }
    await turns()
    let n = 0
    for (const [u, d] of [...userDeposit].sort((a, b) => a[0] - b[0])) {
      if (d[0] + d[1] === 0n) continue
      const id = await this.node(u).channel.open({
        peer: this.hub.address,
        peerPublicKey: this.hub.signer.publicKey,
        deposit: d[0],
        peerDeposit: d[1],
        disputeWindow: o.disputeWindow,
        penalty: 'none',
        nonce: BigInt(u) + 1n,
      })
      this.ledgers.set(u, { id, deposits: d })
      this.locked += d[0] + d[1]
      if (++n % 100 === 0) world.progress(`opened ${n}/${userDeposit.size} ledger channels`)
    }
    await turns()
    this.hubVersions = this.hubLedgerVersions()
  }

  private hubLedgerVersions(): bigint {
    let v = 0n
    for (const l of this.ledgers.values()) v += this.node(HUB).channel.status(l.id).version
    return v
  }

  /** The hub's ledger updates over the virtual channels' lifetime: counted in the payment phase, plus two unlocks for each still open (at settle). */
  private get hubUpdates(): number {
    return Number(this.hubLedgerVersions() - this.hubVersions) + 2 * this.virtuals.size
  }

  /** [share of the pair's lower user, of its higher user]. */
  private shares(pair: number): [Amount, Amount] {
    const c = this.world.scenario.capital
    if (c.channelDeposit !== 'auto') return [c.channelDeposit, c.channelDeposit]
    const need = this.world.workload.pairNeeds[pair]!
    return [depositFor(need.a, c.headroom), depositFor(need.b, c.headroom)]
  }

  private user(i: number): User {
    return i === HUB ? this.hub : this.world.users[i]!
  }

  private node(i: number): VirtualNode {
    let node = this.nodes.get(i)
    if (node === undefined) {
      const u = this.user(i)
      let stores: { channel: ChannelStore; virtual: VirtualStore }
      if (this.options.store === 'sqlite') {
        const channel = new SqliteStore(join(this.dir!, `${i === HUB ? 'hub' : `user-${i}`}.db`), { synchronous: this.options.synchronous })
        stores = { channel, virtual: new SqliteVirtualStore(channel.db) }
      } else stores = { channel: new MemoryStore(), virtual: new MemoryVirtualStore() }
      this.stores.push(stores)
      const window = Math.max(this.options.disputeWindow, this.options.virtualDisputeWindow)
      // The simulated parties agreed on the workload's channels: each accepts the deposits, shares and windows asked of it
      // (a node's defaults lock nothing of its own for someone else).
      node = new VirtualNode({
        signer: u.signer,
        wallet: u.wallet,
        adjudicator: this.adjudicator,
        store: stores.channel,
        virtualStore: stores.virtual,
        timers: false,
        acceptLimits: { maxDeposit: MAX_AMOUNT, minDisputeWindow: Math.min(window, 3), maxDisputeWindow: Math.max(window, 10_000) },
        limits: {
          maxShare: MAX_AMOUNT,
          maxCollateral: MAX_AMOUNT,
          minDisputeWindow: Math.min(window, 3),
          maxDisputeWindow: Math.max(window, 10_000),
          maxValidity: VALIDITY,
          maxPendingPerPeer: 1_000_000,
        },
      })
      this.nodes.set(i, node)
    }
    return node
  }

  private link(a: number, b: number): void {
    for (const kind of ['channel', 'virtual'] as const) {
      const [x, y] = memoryLinkPair()
      if (kind === 'channel') {
        this.node(a).attach(x)
        this.node(b).attach(y)
      } else {
        this.node(a).attachVirtual(x)
        this.node(b).attachVirtual(y)
      }
    }
  }

  /** Opens the pair's virtual channel with `alice` (the payer) as Alice; resolves once both run it. */
  private async openVirtual(pair: number, alice: number): Promise<PairVirtual> {
    const [lo, hi] = this.world.workload.pairs[pair]!
    const bob = alice === lo ? hi : lo
    const s = this.nextShares.get(pair)!
    const shares: [Amount, Amount] = alice === lo ? [s[0], s[1]] : [s[1], s[0]]
    const generation = this.generations.get(pair) ?? 0
    const t0 = monotonicMs()
    const peer = this.user(bob)
    const id = await this.node(alice).openVirtual({
      peer: peer.address,
      peerPublicKey: peer.signer.publicKey,
      ingrid: this.hub.address,
      ledger: this.ledgers.get(alice)!.id,
      peerLedger: this.ledgers.get(bob)!.id,
      deposit: shares[0],
      peerDeposit: shares[1],
      disputeWindow: this.options.virtualDisputeWindow,
      validity: VALIDITY,
      // Deterministic ids, so gas is the same run to run.
      nonce: BigInt(generation) * 1_000_000_000n + BigInt(pair) + 1n,
    })
    for (let i = 0; i < 1000 && this.node(bob).records.get(id)?.status !== 'active'; i++) await turns(1)
    this.opens.push(monotonicMs() - t0)
    const v: PairVirtual = { id, alice, bob, shares, generation, openedAtMs: this.world.nowMs() }
    this.virtuals.set(pair, v)
    this.collateral += shares[0] + shares[1]
    if (this.collateral > this.peakCollateral) this.peakCollateral = this.collateral
    return v
  }

  /** The virtual channel of a pair ended (closed or settled by its L1 outcome): its collateral × time. */
  private ended(pair: number, v: PairVirtual): void {
    const ms = BigInt(Math.max(0, Math.round(this.world.nowMs() - v.openedAtMs)))
    this.collateralSeconds += ((v.shares[0] + v.shares[1]) * ms) / 1000n
    this.collateral -= v.shares[0] + v.shares[1]
    this.virtuals.delete(pair)
  }

  async pay(p: Payment): Promise<PaymentResult> {
    const t0 = monotonicMs()
    const L = this.options.messageLatencyMs
    let delay = PAY_MESSAGES * L
    let v = this.virtuals.get(p.pair)
    try {
      if (v === undefined) {
        v = await this.openVirtual(p.pair, p.from)
        delay += OPEN_MESSAGES * L
      }
    } catch (err) {
      // The next attempt is a new virtual channel (a new nonce).
      this.generations.set(p.pair, (this.generations.get(p.pair) ?? 0) + 1)
      return { ok: false, reason: `OPEN_${(err as { code?: string }).code ?? 'ERROR'}`, softLatencyMs: monotonicMs() - t0 + OPEN_MESSAGES * L }
    }
    const payer = this.node(p.from)
    const before = p.fault === 'stale-state' ? payer.channel.latest(v.id) : undefined
    try {
      await payer.pay({ channelId: v.id, amount: p.amount })
    } catch (err) {
      return { ok: false, reason: (err as { code?: string }).code ?? 'ERROR', softLatencyMs: monotonicMs() - t0 + delay }
    }
    const ms = monotonicMs() - t0 + delay
    this.paid++
    if (before !== undefined) await this.staleStateAttack(p, v, before)
    return { ok: true, softLatencyMs: ms, finalLatencyMs: ms }
  }

  private async staleStateAttack(p: Payment, v: PairVirtual, stale: SignedState): Promise<void> {
    const w = this.world
    const mallory = this.node(p.from)
    const payee = this.node(p.to)
    const hub = this.node(HUB)
    const latest = payee.channel.latest(v.id)
    const rec = payee.records.require(v.id)
    const payeeIdx = p.to === v.alice ? 0 : 1
    const ledgerBefore = payee.channel.status(this.ledgers.get(p.to)!.id).myBalance
    let outcome: string
    let safe = false
    mallory.options.autoDefend = false // Mallory does not refute her own fraud
    try {
      const client = new VirtualClient(this.user(p.from).wallet, this.adjudicator)
      const from = w.l1.head().height
      await client.register(rec.params, stale.state.version === 0n ? undefined : stale, rec.activation)
      // The payee's node sees VirtualRegistered and refutes.
      const about = aboutChannel(v.id)
      await eventLanded(w.l1, { address: this.adjudicator.address, name: 'VirtualRegistered' }, from, (e) => about(e) && (e.data.version as bigint) > stale.state.version)
      await w.l1.mine(this.options.virtualDisputeWindow + 1)
      // The hub notices the final outcome on its next check and unlocks both ledgers by it.
      // (Ticks 10 s apart, up to 2,000 s ahead; on anvil its reads of the outcome wait for RPC round trips.)
      await settleWithin(() => hub.records.require(v.id).status === 'closed', { step: (i) => hub.tick(Date.now() + Math.min(i + 1, 200) * 10_000) })
      await settleWithin(() => payee.records.require(v.id).status === 'closed')
      const d = await client.dispute(new Uint8Array(Buffer.from(v.id.slice(2), 'hex')))
      const got = payee.channel.status(this.ledgers.get(p.to)!.id).myBalance - ledgerBefore
      const owed = latest.state.balances[payeeIdx]
      safe = d?.version === latest.state.version && got === owed && hub.records.require(v.id).status === 'closed'
      outcome = `Mallory registered virtual v${stale.state.version} on L1; the payee's node refuted with v${d?.version ?? '?'} (its newest: v${latest.state.version}); after ${this.options.virtualDisputeWindow} blocks the hub unlocked both ledger channels off chain by the L1 outcome (the ledgers stay open); the payee's ledger balance rose by ${got} wei (its virtual balance: ${owed})`
    } catch (err) {
      outcome = `virtual dispute failed: ${(err as Error).message}`
    } finally {
      mallory.options.autoDefend = true
    }
    w.fault({ paymentId: p.id, kind: 'stale-state', outcome, safe })
    w.note(
      'stale-state (virtual): a virtual-channel dispute — Mallory registers an old virtual state, the payee refutes, and once the window has passed the hub unlocks both ledgers by the L1 outcome; the pair then opens a new virtual channel with the balances it ended with. The dispute jumps the simulated clock by the window.',
    )
    // The pair's next virtual channel starts from the balances this one ended with.
    const [lo] = this.world.workload.pairs[p.pair]!
    const b = latest.state.balances
    this.nextShares.set(p.pair, v.alice === lo ? [b[0], b[1]] : [b[1], b[0]])
    this.generations.set(p.pair, v.generation + 1)
    this.ended(p.pair, v)
  }

  async flush(): Promise<void> {}

  async settle(): Promise<void> {
    const w = this.world
    let n = 0
    for (const [pair, v] of [...this.virtuals]) {
      await this.node(v.alice).closeVirtual({ channelId: v.id })
      for (let i = 0; i < 1000 && this.node(HUB).records.get(v.id)?.status !== 'closed'; i++) await turns(1)
      this.ended(pair, v)
      if (++n % 100 === 0) w.progress(`closed ${n} virtual channels`)
    }
    n = 0
    for (const [u, l] of this.ledgers) {
      await this.node(u).channel.closeCooperative({ channelId: l.id })
      await turns()
      this.locked -= l.deposits[0] + l.deposits[1]
      if (++n % 100 === 0) w.progress(`closed ${n}/${this.ledgers.size} ledger channels`)
    }
    this.ledgers.clear()
    const mean = this.opens.length === 0 ? 0 : this.opens.reduce((a, b) => a + b, 0) / this.opens.length
    const secs = w.nowMs() / 1000
    w.note(
      `Hub collateral locked in virtual channels × time: ${this.collateralSeconds} wei·s = Σ over ${this.opens.length} virtual channels of (x_A + x_B) × simulated seconds from open to close; mean ${secs > 0 ? (Number(this.collateralSeconds) / secs).toExponential(3) : 0} wei over the ${secs.toFixed(0)} s run, peak ${this.peakCollateral} wei. A virtual open (three-party agreement, two ledger updates, activation) took ${mean.toFixed(1)} ms on average (wall clock; + ${OPEN_MESSAGES} × ${this.options.messageLatencyMs} ms simulated messages), inside its pair's first payment.`,
    )
    for (const node of this.nodes.values()) node.stop()
    for (const s of this.stores) s.channel.close()
    if (this.dir !== undefined) rmSync(this.dir, { recursive: true, force: true })
  }

  lockedCapital(): bigint {
    return this.locked
  }

  store(): StoreJson {
    return channelStoreJson(this.options, this.dir, 'each party (the users and the hub) its own database file: ledger and virtual channel states and virtual records')
  }

  capacityInputs(): CapacityInputs {
    return {
      ...pairCapacityInputs(this.world.workload, 'virtual channels', ' (the hub is in no payment)'),
      hubUpdatesPerPayment: {
        value: this.hubUpdates / Math.max(1, this.paid),
        unit: 'updates/payment',
        source: 'measured',
        how: `the hub's ledger updates over the virtual channels' lifetime (${this.hubUpdates}: two locks per virtual open and two unlocks per dispute, counted in the payment phase, plus two unlocks per virtual channel closed at settle) ÷ ${this.paid} payments`,
      },
    }
  }

  bound(): PaymentBound {
    return updateBound('virtual', this.options, this.dir)
  }
}
