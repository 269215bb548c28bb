/**
 * Direct channel adapter (@l2bench/payment-channel): one ChannelNode per user,
 * one channel per pair that pays in the workload, opened on L1 before the
 * payments with perfect-foresight deposits (each side's peak net outflow ×
 * headroom, or the scenario's fixed deposit), cooperatively closed at the end.
 *
 * One payment = one countersigned state update over an in-process link; the
 * payee holds a state signed by both as soon as it answers, so it can enforce
 * the payment on L1 at once: soft latency = final latency = the round trip's
 * wall-clock time (signing, verifying, persisting). State is persisted in
 * SQLite (WAL, synchronous=FULL by default: every commit fsynced, the
 * package's durable default, on which "enforceable at once" rests) in a
 * directory under the OS temp dir, like a real node's.
 *
 * Capacity inputs: the pairs that can update at once (a maximum matching of
 * the channel graph: each party on its own machine, one update at a time);
 * the per-pair rate comes from the interleaved probe, whose bound is one
 * update's crypto and commits: 2 × (sign + verify) + 3 SQLite commits (the
 * payer persists its proposal and the countersigned state, the payee the
 * state it countersigned).
 *
 * Merged updates and group commit (the package's defaults): payments queued
 * on a channel behind an update in flight ride in the next state together
 * (up to DEFAULT_MAX_MERGE, each with its own result), and a node's records
 * changed by the work queued at one moment commit in one transaction. The runner pays
 * one payment at a time, so payments queue on a channel only when a design
 * is driven concurrently; the report counts the states and says how many
 * payments shared one.
 *
 * Fault `stale-state`: after the payment, the payer turns Mallory — stops
 * defending itself and registers the state from before the payment on L1.
 * The payee's node sees the registration and challenges with the newest
 * state; after the dispute window the payee finalizes, and the pair reopens
 * a fresh channel for the rest of the workload.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Amount, MAX_AMOUNT, monotonicMs, toHex } from '@l2bench/core'
import type { EventFilter, L1Event } from '@l2bench/l1-mock'
import {
  Adjudicator,
  type ChannelNodeOptions,
  type ChannelStore,
  ChannelNode,
  DEFAULT_MAX_MERGE,
  MemoryStore,
  type SignedState,
  SqliteStore,
  channelIdHex,
  memoryLinkPair,
} from '@l2bench/payment-channel'
import { composeBound, filesystemOf, signVerify, sqliteCommit } from '../bounds.ts'
import type { CapacityInputs, Design, PaymentBound, PaymentResult, World } from '../design.ts'
import { maximumMatching } from '../matching.ts'
import type { BenchL1 } from '../meter.ts'
import type { StoreJson } from '../results.ts'
import { type ChannelOptions, designOptions } from './options.ts'
import { type Payment, type Workload, depositFor } from '../workload.ts'

/** Lets queued microtasks and immediate callbacks run (message delivery between in-process nodes). */
export async function turns(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r))
}

/**
 * Waits until `l1` holds an event matching `filter` and `match` from height
 * `from` on, at most `ms` of wall clock; whether it came. A watcher's answer
 * to a registration (a challenge, a refutation) lands within a few turns on
 * the mock and after its RPC round trips on a real node: a fault script mines
 * the dispute window only then, as a chain gives a watcher blocks to react.
 */
export function eventLanded(l1: BenchL1, filter: EventFilter, from: number, match: (e: L1Event) => boolean, ms = 10_000): Promise<boolean> {
  return settleWithin(() => l1.events(filter, from).some(match), { ms })
}

/**
 * Runs `step(i)` (if given) and lets queued callbacks run, until `done()`,
 * for at most `ms` of wall clock (after 20 rounds it also yields to I/O
 * between rounds): nodes in this process settle within a few turns on the
 * mock, while on a real node their reads and transactions wait for RPC
 * round trips, which a count of turns does not bound. Whether `done()` came true.
 */
export async function settleWithin(done: () => boolean, options: { ms?: number; step?: (i: number) => void } = {}): Promise<boolean> {
  const until = monotonicMs() + (options.ms ?? 10_000)
  for (let i = 0; !done() && monotonicMs() < until; i++) {
    options.step?.(i)
    await turns(5)
    if (i >= 20 && !done()) await new Promise((r) => setTimeout(r, 2))
  }
  return done()
}

/** Whether an event's `channelId` is `id` (hex). */
export const aboutChannel = (id: string) => (e: L1Event) => e.data.channelId instanceof Uint8Array && toHex(e.data.channelId) === id

interface PairChannel {
  id: `0x${string}`
  lo: number
  hi: number
  deposits: [Amount, Amount]
  generation: number
}

/** SQLite commits per payment (both nodes), checked against the stores' counters in test/channel-design.test.ts. */
export const CHANNEL_COMMITS_PER_PAYMENT = 3

export class ChannelDesign implements Design {
  readonly name = 'channel' as const
  private world!: World
  private options!: ChannelOptions
  private adjudicator!: Adjudicator
  private readonly nodes = new Map<number, ChannelNode>()
  private readonly nodeOptions = new Map<number, ChannelNodeOptions>()
  private readonly stores: ChannelStore[] = []
  private readonly channels = new Map<number, PairChannel>()
  private dir: string | undefined
  private locked = 0n
  /** Countersigned payment states (each seen once) and the payments they carried. */
  private readonly merging = { seen: new Set<string>(), states: 0, payments: 0, mergedStates: 0, mergedPayments: 0 }

  async setup(world: World): Promise<void> {
    this.world = world
    this.options = designOptions(world.scenario, 'channel')
    this.adjudicator = await world.l1.deploy(new Adjudicator())
    if (this.options.store === 'sqlite') this.dir = mkdtempSync(join(tmpdir(), 'l2bench-channel-'))
    world.note(
      `One channel per pair that pays, opened before the payments with perfect-foresight deposits; soft = final latency (a countersigned state is enforceable at once); store ${this.options.store}${this.options.store === 'sqlite' ? ` (synchronous=${this.options.synchronous})` : ''}; dispute window ${this.options.disputeWindow} blocks.`,
    )
    world.note(
      `Merged updates on (payment-channel's default): payments queued on a channel behind an update in flight ride in the next countersigned state together, up to ${DEFAULT_MAX_MERGE}, each with its own result; a node's records changed by the work queued at one moment commit in one SQLite transaction (group commit).`,
    )

    const used = new Set(world.workload.payments.map((p) => p.pair))
    const pairs = [...used].sort((a, b) => a - b)
    for (const pair of pairs) {
      const [lo, hi] = world.workload.pairs[pair]!
      this.node(lo)
      this.node(hi)
      const links = memoryLinkPair()
      this.node(lo).attach(links[0])
      this.node(hi).attach(links[1])
    }
    await turns()
    let n = 0
    for (const pair of pairs) {
      await this.open(pair, 0)
      if (++n % 100 === 0) world.progress(`opened ${n}/${pairs.length} channels`)
    }
  }

  private node(user: number): ChannelNode {
    let node = this.nodes.get(user)
    if (node === undefined) {
      const u = this.world.users[user]!
      let store: ChannelStore
      if (this.options.store === 'sqlite') store = new SqliteStore(join(this.dir!, `user-${user}.db`), { synchronous: this.options.synchronous })
      else store = new MemoryStore()
      this.stores.push(store)
      // The simulated users agreed on the workload's channels: each accepts the deposit and window asked of it
      // (a node's defaults deposit nothing into a channel someone else opens).
      const window = this.options.disputeWindow
      const acceptLimits = { maxDeposit: MAX_AMOUNT, minDisputeWindow: Math.min(window, 3), maxDisputeWindow: Math.max(window, 10_000) }
      const opts: ChannelNodeOptions = {
        signer: u.signer,
        wallet: u.wallet,
        adjudicator: this.adjudicator,
        store,
        timers: false,
        autoChallenge: true,
        acceptLimits,
        onSignedState: (s, steps) => this.countState(s, steps),
      }
      node = new ChannelNode(opts)
      this.nodes.set(user, node)
      this.nodeOptions.set(user, opts)
    }
    return node
  }

  /** Each payment state once (both nodes see it): how many payments it carried. */
  private countState(s: SignedState, steps: readonly unknown[] | undefined): void {
    if (s.state.version === 0n || s.state.isFinal) return
    const key = `${channelIdHex(s.state.channelId)}:${s.state.version}`
    const m = this.merging
    if (m.seen.has(key)) return
    m.seen.add(key)
    const n = steps?.length ?? 1
    m.states++
    m.payments += n
    if (n > 1) {
      m.mergedStates++
      m.mergedPayments += n
    }
  }

  /** What merging did in this run, for the report. */
  mergeSummary(): { states: number; payments: number; mergedStates: number; mergedPayments: number } {
    const { states, payments, mergedStates, mergedPayments } = this.merging
    return { states, payments, mergedStates, mergedPayments }
  }

  private deposits(pair: number): [Amount, Amount] {
    const c = this.world.scenario.capital
    if (c.channelDeposit !== 'auto') return [c.channelDeposit, c.channelDeposit]
    const need = this.world.workload.pairNeeds[pair]!
    return [depositFor(need.a, c.headroom), depositFor(need.b, c.headroom)]
  }

  private async open(pair: number, generation: number, deposits: [Amount, Amount] = this.deposits(pair)): Promise<PairChannel> {
    const [lo, hi] = this.world.workload.pairs[pair]!
    const peer = this.world.users[hi]!
    const id = await this.node(lo).open({
      peer: peer.address,
      peerPublicKey: peer.signer.publicKey,
      deposit: deposits[0],
      peerDeposit: deposits[1],
      disputeWindow: this.options.disputeWindow,
      penalty: 'none',
      // Deterministic ids (the default nonce reads the wall clock), so gas is the same run to run.
      nonce: BigInt(generation) * 1_000_000_000n + BigInt(pair) + 1n,
    })
    await turns()
    const ch: PairChannel = { id, lo, hi, deposits, generation }
    this.channels.set(pair, ch)
    this.locked += deposits[0] + deposits[1]
    return ch
  }

  async pay(p: Payment): Promise<PaymentResult> {
    const ch = this.channels.get(p.pair)
    if (ch === undefined) return { ok: false, reason: 'NO_CHANNEL' }
    const payer = this.node(p.from)
    const before = p.fault === 'stale-state' ? payer.latest(ch.id) : undefined
    const t0 = monotonicMs()
    try {
      await payer.pay({ channelId: ch.id, amount: p.amount })
    } catch (err) {
      return { ok: false, reason: (err as { code?: string }).code ?? 'ERROR', softLatencyMs: monotonicMs() - t0 }
    }
    const ms = monotonicMs() - t0
    if (before !== undefined) await this.staleStateAttack(p, ch, before)
    return { ok: true, softLatencyMs: ms, finalLatencyMs: ms }
  }

  private async staleStateAttack(p: Payment, ch: PairChannel, stale: ReturnType<ChannelNode['latest']>): Promise<void> {
    const w = this.world
    const mallory = this.node(p.from)
    const honest = this.node(p.to)
    const latest = honest.latest(ch.id)
    const payee = w.users[p.to]!.address
    const honestBefore = w.l1.balanceOf(payee)
    const mark = w.l1.sent.length
    const opts = this.nodeOptions.get(p.from)!
    opts.autoChallenge = false // Mallory does not defend against her own fraud
    let outcome: string
    let safe = false
    try {
      const from = w.l1.head().height
      await mallory.client.register(stale)
      // The honest node sees Registered and challenges.
      await eventLanded(w.l1, { address: this.adjudicator.address, name: 'Challenged' }, from, aboutChannel(ch.id))
      await w.l1.mine(this.options.disputeWindow + 1)
      await honest.finalize({ channelId: ch.id })
      await turns()
      // The payee's L1 gain, not counting what it paid in fees to challenge and finalize.
      let fees = 0n
      for (const tx of w.l1.sent.slice(mark)) {
        const r = w.l1.receiptSync(tx.hash)
        if (r !== undefined && r.from === payee) fees += r.fee
      }
      const gained = w.l1.balanceOf(payee) + fees - honestBefore
      const me = ch.lo === p.to ? 0 : 1
      const expected = latest.state.balances[me]
      safe = gained === expected
      outcome = `Mallory registered v${stale.state.version}; payee challenged with v${latest.state.version}; finalized after ${this.options.disputeWindow} blocks; payee received ${gained} wei before fees (latest state owes ${expected})`
    } catch (err) {
      outcome = `dispute failed: ${(err as Error).message}`
    } finally {
      opts.autoChallenge = true
    }
    this.locked -= ch.deposits[0] + ch.deposits[1]
    this.channels.delete(p.pair)
    w.fault({ paymentId: p.id, kind: 'stale-state', outcome, safe })
    w.note('After a stale-state dispute the pair reopens a fresh channel funded with the balances it ended with; the dispute jumps the simulated clock by the window.')
    const b = latest.state.balances
    await this.open(p.pair, ch.generation + 1, [b[0], b[1]])
  }

  async flush(): Promise<void> {}

  async settle(): Promise<void> {
    const m = this.merging
    this.world.note(
      m.mergedStates === 0
        ? `Merged updates in this run: none — ${m.payments} payments in ${m.states} countersigned states (the runner pays one at a time, so no payment queued on a channel).`
        : `Merged updates in this run: ${m.mergedPayments} of ${m.payments} payments shared a countersigned state (${m.mergedStates} merged states; ${m.states} states in all).`,
    )
    let n = 0
    for (const ch of this.channels.values()) {
      await this.node(ch.lo).closeCooperative({ channelId: ch.id })
      await turns()
      this.locked -= ch.deposits[0] + ch.deposits[1]
      if (++n % 100 === 0) this.world.progress(`closed ${n}/${this.channels.size} channels`)
    }
    this.channels.clear()
    for (const node of this.nodes.values()) node.stop()
    for (const s of this.stores) s.close()
    if (this.dir !== undefined) rmSync(this.dir, { recursive: true, force: true })
  }

  lockedCapital(): bigint {
    return this.locked
  }

  store(): StoreJson {
    return channelStoreJson(this.options, this.dir, 'each party its own database file')
  }

  capacityInputs(): CapacityInputs {
    return pairCapacityInputs(this.world.workload, 'channels')
  }

  bound(): PaymentBound {
    return updateBound('channel', this.options, this.dir)
  }
}

/**
 * Capacity inputs of a design whose payments are two-party updates of one
 * channel per pair (channel, virtual): the pairs that can update at once — a
 * maximum matching of the pairs that pay, no party in two updates at once —
 * and the busiest pair's share of the payments.
 */
export function pairCapacityInputs(w: Workload, what: string, note = ''): Extract<CapacityInputs, { model: 'channels' }> {
  const used = new Set(w.payments.map((p) => p.pair))
  const m = maximumMatching([...used].map((k) => w.pairs[k]!))
  const perPair = new Map<number, number>()
  for (const p of w.payments) perPair.set(p.pair, (perPair.get(p.pair) ?? 0) + 1)
  const hottest = Math.max(0, ...perPair.values())
  return {
    model: 'channels',
    concurrentPairs: {
      value: m.size,
      unit: 'pairs',
      source: 'parameter',
      how: `${m.exact ? 'maximum' : 'greedy (≥ half the maximum)'} matching of the ${m.edges} ${what} over ${m.vertices} parties: no party in two updates at once${note}`,
    },
    hottestPairShare: { value: hottest / Math.max(1, w.payments.length), unit: 'share of payments', source: 'parameter', how: 'payments of the busiest pair ÷ payments (the workload)' },
  }
}

/** One countersigned update's least work: 2 × (sign + verify) and, with SQLite, its commits (in `dir`, the design's store settings). */
export function updateBound(label: string, o: { store: 'sqlite' | 'memory'; synchronous: 'FULL' | 'NORMAL' }, dir: string | undefined): PaymentBound {
  const sv = { run: signVerify(label), times: 2 }
  if (o.store !== 'sqlite') return composeBound('2 × (noble sign + node:crypto verify), memory store', [sv])
  const store = new SqliteStore(join(dir!, 'bound.db'), { synchronous: o.synchronous })
  return composeBound(
    `2 × (noble sign + node:crypto verify) + ${CHANNEL_COMMITS_PER_PAYMENT} SQLite ${o.synchronous} commits`,
    [sv, { run: sqliteCommit(store.db), times: CHANNEL_COMMITS_PER_PAYMENT }],
    () => store.close(),
  )
}

/** The store line of a design that keeps SQLite (or memory) stores in `dir`. */
export function channelStoreJson(o: { store: 'sqlite' | 'memory'; synchronous: 'FULL' | 'NORMAL' }, dir: string | undefined, what: string): StoreJson {
  if (o.store === 'memory') return { kind: 'memory', description: 'in memory (designOptions store: memory): nothing survives a crash' }
  const fs = dir === undefined ? undefined : filesystemOf(dir)
  return {
    kind: 'sqlite',
    synchronous: o.synchronous,
    ...(dir === undefined ? {} : { location: dir }),
    ...(fs === undefined ? {} : { filesystem: fs }),
    description: `SQLite WAL, synchronous=${o.synchronous} (${o.synchronous === 'FULL' ? 'every commit fsynced' : 'commits not fsynced, only checkpoints: an OS crash or power loss can lose the last updates'}), ${what}${fs === undefined ? '' : `, ${fs}`}`,
  }
}
