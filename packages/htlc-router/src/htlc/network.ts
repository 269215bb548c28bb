/**
 * HtlcNetwork: a small in-process network of HtlcNodes over real channels —
 * one L1 with an HtlcAdjudicator (a new MockL1, or the caller's: a benchmark
 * harness's metered mock, or a real EVM node where mining, deploying and
 * minting are promises — the network awaits them either way), real secp256k1
 * signatures, in-memory links and stores — plus the ChannelGraph describing
 * it, so the package's Pathfinder and MissionControl route payments over real
 * channel states.
 *
 * `pay` is the sender's loop: find a route (the sender knows its own
 * balances, not anyone else's), send it, and on failure learn from the
 * failing hop (mission control) and try another route (ATTACKS 14), up to
 * `maxAttempts`. Route instructions are plain (no onion).
 *
 * Meant for tests and benchmarks of tens of nodes, not for the big simulated
 * networks (use NetworkSimulator with the abstract BalanceForwarder there).
 */
import { type Address, type Amount, InvalidInputError, NodeSigner, NobleSigner, type Signer, describe, secretKeyFromSeed } from '@l2bench/core'
import { type Contract, type L1, MockL1, type MockL1Options, type Receipt, Wallet } from '@l2bench/l1-mock'
import { type MemoryLink, memoryLinkPair } from '@l2bench/payment-channel'
import { CapacityError, NoRouteError } from '../errors.ts'
import { feeMsat } from '../graph/fees.ts'
import { type ChannelGraph, ChannelGraphBuilder } from '../graph/graph.ts'
import { MissionControl } from '../routing/mission-control.ts'
import { Pathfinder } from '../routing/pathfinder.ts'
import { type Route, validateRoute } from '../routing/route.ts'
import { HtlcAdjudicator } from './adjudicator.ts'
import { DEFAULT_FORWARDING, type ForwardingPolicy, HtlcNode, type HtlcNodeOptions, type HtlcRouteHop, type PaymentOutcome } from './node.ts'

export interface NetworkChannelSpec {
  a: number
  b: number
  depositA: Amount
  depositB?: Amount
  /** a's policy for forwarding a → b. */
  policyAB?: Partial<ForwardingPolicy>
  policyBA?: Partial<ForwardingPolicy>
}

/** A participant brought by the caller: its own key and an L1 wallet on the network's L1. */
export interface NetworkParty {
  name?: string
  signer: Signer
  wallet: Wallet
}

/**
 * The L1 a network runs on: the seam its nodes use, plus the chain's admin —
 * synchronous on MockL1, promises on a real EVM node; the network awaits both.
 */
export interface NetworkL1 extends L1 {
  mine(n?: number): void | Promise<void>
  advanceTo(height: number): void | Promise<void>
  deploy<C extends Contract>(contract: C): C | Promise<C>
  mint(address: Address, amount: bigint): void | Promise<void>
}

export interface HtlcNetworkOptions<L extends NetworkL1 = MockL1> {
  /** Node names (or a count). */
  nodes: readonly string[] | number
  channels: readonly NetworkChannelSpec[]
  /** Dispute window of every channel, in blocks (default 6). */
  disputeWindow?: number
  /** L1 funds minted to every node for deposits and gas (default 10^21). */
  l1Funds?: Amount
  /** 'node' (OpenSSL, default) or 'noble' signing. */
  signer?: 'node' | 'noble'
  /** Options of the MockL1 the network creates (ignored with `onL1`). */
  l1?: MockL1Options
  /**
   * An existing L1 to run on (e.g. a benchmark harness's metered one) instead
   * of a new MockL1 — a real EVM node too (its mining and deploying are
   * awaited). The HtlcAdjudicator is deployed on it unless `adjudicator` is given.
   */
  onL1?: L
  adjudicator?: HtlcAdjudicator
  /**
   * The nodes' own keys and wallets (their wallets must be on the network's
   * L1, and funded: nothing is minted for them). Default: keys derived from
   * `seed`, each funded with `l1Funds`.
   */
  parties?: readonly NetworkParty[]
  /**
   * Node amounts per pathfinder unit (default 1). The pathfinder searches in
   * float64, exact below 2^53 units: wei-denominated channels route in gwei
   * (10^9). The route's amounts are then rebuilt in node units from the
   * delivered amount and each hop's fee policy, so every hop gets exactly its fee.
   */
  graphUnit?: bigint
  /** Called after each channel opened (progress of a big network's setup). */
  onChannelOpen?: (done: number, total: number) => void
  /** Extra options per node. */
  nodeOptions?: (index: number) => Partial<HtlcNodeOptions>
  /** Seed prefix for the deterministic keys. */
  seed?: string
}

export interface PayOptions {
  maxAttempts?: number
  /** Receiver's final expiry delta (default 40). */
  finalCltvDelta?: number
  /** Shared across payments to let a sender remember failures (default: one per call). */
  missionControl?: MissionControl
  preimage?: Uint8Array
  /**
   * No new attempt starts once `now() − start ≥ timeoutMs` (lnd's payment
   * timeout, 60 s by default there; default here: none). `now` defaults to
   * Date.now; a simulation passes its own clock.
   */
  timeoutMs?: number
  now?: () => number
}

export interface PayAttempt {
  route: Route
  outcome: PaymentOutcome
  /** Index into route.hops of the failing hop (hops.length: the receiver), when it failed. */
  failedHop?: number
}

export interface PayResult {
  success: boolean
  preimage?: Uint8Array
  attempts: PayAttempt[]
  /** Why it stopped without success: the last failure code or 'no_route'. */
  reason?: string
}

export class HtlcNetwork<L extends NetworkL1 = MockL1> {
  readonly pathfinder: Pathfinder
  /** Node index by address. */
  private readonly index = new Map<Address, number>()
  private readonly links = new Map<string, { channel: [MemoryLink, MemoryLink]; htlc: [MemoryLink, MemoryLink] }>()
  /** Forwarding policy per directed edge (2·channel + direction), in node units: what each hop charges. */
  private readonly policies: ForwardingPolicy[] = []
  /** Node units per pathfinder unit. */
  readonly graphUnit: bigint
  private readonly window: number

  private constructor(
    readonly l1: L,
    readonly adjudicator: HtlcAdjudicator,
    readonly nodes: readonly HtlcNode[],
    readonly names: readonly string[],
    readonly graph: ChannelGraph,
    /** Channel id per graph channel index (a reopened channel gets the new id). */
    readonly channelIds: readonly Uint8Array[],
    /** Every receipt of every node's L1 transactions (gas accounting), by tx hash. */
    readonly receipts: readonly Map<string, Receipt>[],
    options: { graphUnit: bigint; disputeWindow: number },
  ) {
    this.pathfinder = new Pathfinder(graph)
    this.graphUnit = options.graphUnit
    this.window = options.disputeWindow
    for (const [i, n] of nodes.entries()) this.index.set(n.address, i)
  }

  static async create<L extends NetworkL1 = MockL1>(o: HtlcNetworkOptions<L>): Promise<HtlcNetwork<L>> {
    const parties = o.parties
    if (parties !== undefined && (!Array.isArray(parties) || (typeof o.nodes === 'number' ? o.nodes : o.nodes.length) !== parties.length))
      throw new InvalidInputError('parties', 'expected one party per node')
    const names = typeof o.nodes === 'number' ? Array.from({ length: o.nodes }, (_, i) => parties?.[i]?.name ?? `n${i}`) : [...o.nodes]
    if (names.length < 2) throw new InvalidInputError('nodes', 'a network needs at least two nodes')
    const window = o.disputeWindow ?? 6
    if (!Number.isSafeInteger(window) || window < 1) throw new InvalidInputError('disputeWindow', `expected a positive integer, got ${describe(window)}`)
    const unit = o.graphUnit ?? 1n
    if (typeof unit !== 'bigint' || unit < 1n) throw new InvalidInputError('graphUnit', `expected a bigint ≥ 1, got ${describe(unit)}`)
    const l1 = o.onL1 ?? (new MockL1(o.l1) as NetworkL1 as L)
    const adjudicator = o.adjudicator ?? (await l1.deploy(new HtlcAdjudicator()))
    const funds = o.l1Funds ?? 10n ** 21n
    const seed = o.seed ?? 'htlc-net'
    let maxDepositB = 0n
    for (const c of o.channels) if (typeof c?.depositB === 'bigint' && c.depositB > maxDepositB) maxDepositB = c.depositB
    const receipts: Map<string, Receipt>[] = []
    const nodes: HtlcNode[] = []
    for (const [i, name] of names.entries()) {
      const party = parties?.[i]
      let signer: Signer
      let gasPrice: bigint | undefined
      if (party === undefined) {
        const sk = secretKeyFromSeed(`${seed}:${name}`)
        signer = o.signer === 'noble' ? new NobleSigner(sk) : new NodeSigner(sk)
        await l1.mint(signer.address, funds)
      } else {
        if (party.wallet?.l1 !== l1)
          throw new InvalidInputError(`parties[${i}].wallet`, "the party's wallet is not on the network's L1")
        if (party.wallet.address !== party.signer.address) throw new InvalidInputError(`parties[${i}].signer`, "the signer is not the wallet's")
        signer = party.signer
        gasPrice = party.wallet.gasPrice
      }
      const sink = new Map<string, Receipt>()
      receipts.push(sink)
      // The same key and gas price, on the same L1, through a proxy that records the node's receipts (gas accounting).
      const wallet = new Wallet(signer, recordingL1(l1, sink), gasPrice)
      // Every node agrees to the deposits the network's channels ask of it (a node deposits nothing for a stranger by default).
      nodes.push(new HtlcNode({ signer, wallet, adjudicator, acceptLimits: { maxDeposit: maxDepositB }, ...o.nodeOptions?.(i) }))
    }
    const builder = new ChannelGraphBuilder({ minCltvExpiryDelta: 1 })
    for (const name of names) builder.addNode(name)
    const net = new HtlcNetwork<L>(l1, adjudicator, nodes, names, builderStub(), [], receipts, { graphUnit: unit, disputeWindow: window })
    const ids: Uint8Array[] = []
    for (let c = 0; c < o.channels.length; c++) {
      const spec = o.channels[c] as NetworkChannelSpec
      const f = `channels[${c}]`
      for (const side of ['a', 'b'] as const) {
        const v = spec[side]
        if (!Number.isSafeInteger(v) || v < 0 || v >= names.length) throw new InvalidInputError(`${f}.${side}`, `expected a node index, got ${describe(v)}`)
      }
      if (spec.a === spec.b) throw new InvalidInputError(`${f}.b`, 'a channel needs two distinct nodes')
      const pAB = { ...DEFAULT_FORWARDING, ...spec.policyAB }
      const pBA = { ...DEFAULT_FORWARDING, ...spec.policyBA }
      ids.push(await net.openPair(spec.a, spec.b, spec.depositA, spec.depositB ?? 0n, BigInt(c + 1), pAB, pBA))
      net.policies.push(pAB, pBA)
      const capacity = spec.depositA + (spec.depositB ?? 0n)
      builder.addChannel({
        a: spec.a,
        b: spec.b,
        capacityMsat: capacity / unit,
        policyAB: { baseFeeMsat: pAB.baseFee / unit, feeRatePpm: Number(pAB.feeRatePpm), cltvExpiryDelta: pAB.cltvDelta, htlcMinimumMsat: 1n },
        policyBA: { baseFeeMsat: pBA.baseFee / unit, feeRatePpm: Number(pBA.feeRatePpm), cltvExpiryDelta: pBA.cltvDelta, htlcMinimumMsat: 1n },
      })
      o.onChannelOpen?.(c + 1, o.channels.length)
    }
    const built = new HtlcNetwork<L>(l1, adjudicator, nodes, names, builder.build(), ids, receipts, { graphUnit: unit, disputeWindow: window })
    for (const [k, v] of net.links) built.links.set(k, v)
    built.policies.push(...net.policies)
    return built
  }

  /** Connects a and b if needed and opens a channel between them (a opens), each side's forwarding policy set. */
  private async openPair(a: number, b: number, depositA: Amount, depositB: Amount, nonce: bigint, pAB: ForwardingPolicy, pBA: ForwardingPolicy): Promise<Uint8Array> {
    const na = this.nodes[a] as HtlcNode
    const nb = this.nodes[b] as HtlcNode
    await this.connect(a, b)
    const id = await na.openChannel({
      peer: nb.address,
      peerPublicKey: nb.channel.signer.publicKey,
      deposit: depositA,
      peerDeposit: depositB,
      disputeWindow: this.window,
      nonce,
      forwarding: pAB,
    })
    nb.setForwardingPolicy(id, pBA)
    return Uint8Array.from(Buffer.from(id.slice(2), 'hex'))
  }

  /**
   * Opens a fresh channel in place of graph channel `c` (after it closed on
   * L1): same two nodes and policies, the given deposits, a new nonce; the
   * graph keeps the channel's original capacity as its bound. Returns the new id.
   */
  async reopen(c: number, depositA: Amount, depositB: Amount, nonce: bigint): Promise<Uint8Array> {
    this.graph.assertChannel('c', c)
    const pAB = this.policies[2 * c] as ForwardingPolicy
    const pBA = this.policies[2 * c + 1] as ForwardingPolicy
    const id = await this.openPair(this.graph.chanA[c] as number, this.graph.chanB[c] as number, depositA, depositB, nonce, pAB, pBA)
    ;(this.channelIds as Uint8Array[])[c] = id
    return id
  }

  /** Connects two nodes (channel and HTLC links), once per pair. */
  async connect(i: number, j: number): Promise<void> {
    const k = i < j ? `${i}-${j}` : `${j}-${i}`
    if (this.links.has(k)) return
    const channel = memoryLinkPair()
    const htlc = memoryLinkPair()
    const [x, y] = i < j ? [i, j] : [j, i]
    ;(this.nodes[x] as HtlcNode).attach(channel[0], htlc[0])
    ;(this.nodes[y] as HtlcNode).attach(channel[1], htlc[1])
    this.links.set(k, { channel, htlc })
    await drainEventLoop()
  }

  /**
   * Crash and restart of node `i`: the old HtlcNode stops (its stores are
   * left to the caller to close), a new one is built from the same options
   * and the old node's stores, or `extra` (typically stores reopened from the
   * same files), and gets fresh links to every peer the old one had.
   */
  async restart(i: number, extra: Partial<HtlcNodeOptions> = {}): Promise<HtlcNode> {
    const old = this.nodes[i]
    if (old === undefined) throw new InvalidInputError('i', `no node ${describe(i)}`)
    old.stop()
    // By default the new node reopens the old one's stores (in-memory stores then act as durable ones).
    const node = new HtlcNode({ ...old.options, store: old.channel.store, htlcStore: old.htlcStore, ...extra })
    ;(this.nodes as HtlcNode[])[i] = node
    for (const [k, l] of this.links) {
      const [x, y] = k.split('-').map(Number) as [number, number]
      if (x !== i && y !== i) continue
      l.channel[0].close()
      l.htlc[0].close()
      const channel = memoryLinkPair()
      const htlc = memoryLinkPair()
      ;(this.nodes[x] as HtlcNode).attach(channel[0], htlc[0])
      ;(this.nodes[y] as HtlcNode).attach(channel[1], htlc[1])
      this.links.set(k, { channel, htlc })
    }
    await drainEventLoop()
    return node
  }

  /** Cuts (or restores) both links between two nodes: a network partition, the nodes stay on L1. */
  setLinked(i: number, j: number, up: boolean): void {
    const l = this.links.get(i < j ? `${i}-${j}` : `${j}-${i}`)
    if (l === undefined) throw new InvalidInputError('j', `nodes ${i} and ${j} are not connected`)
    for (const link of [l.channel[0], l.htlc[0]]) up ? link.reconnect() : link.disconnect()
  }

  /** Takes node `i` off the network (every link to it cut) or brings it back; it stays on L1 and keeps its state. */
  setOnline(i: number, up: boolean): void {
    if (this.nodes[i] === undefined) throw new InvalidInputError('i', `no node ${describe(i)}`)
    for (const [k, l] of this.links) {
      const [x, y] = k.split('-').map(Number) as [number, number]
      if (x !== i && y !== i) continue
      for (const link of [l.channel[0], l.htlc[0]]) up ? link.reconnect() : link.disconnect()
    }
  }

  /** Graph channel index of channel id `id` (undefined: not one of the network's current channels). */
  channelOf(id: Uint8Array): number | undefined {
    const k = Buffer.from(id).toString('hex')
    const c = this.channelIds.findIndex((x) => Buffer.from(x).toString('hex') === k)
    return c < 0 ? undefined : c
  }

  nodeOf(address: Address): number {
    const i = this.index.get(address)
    if (i === undefined) throw new InvalidInputError('address', `${address} is not a node of this network`)
    return i
  }

  /**
   * The sender's HTLC route for a graph route (channel ids, amounts, expiries
   * as L1 heights). With `amount` (node units, what the receiver gets), the
   * amounts are rebuilt from it backwards with each hop's fee policy in node
   * units (needed when `graphUnit` > 1: the graph's amounts are rounded);
   * without it the route's amounts are used as they are.
   */
  toHtlcRoute(route: Route, amount?: Amount): HtlcRouteHop[] {
    const hops = route.hops.map((h) => ({ channelId: this.channelIds[h.channel] as Uint8Array, amount: h.amountMsat, expiry: BigInt(h.expiry) }))
    if (amount === undefined) return hops
    let a = amount
    for (let i = hops.length - 1; i >= 0; i--) {
      ;(hops[i] as HtlcRouteHop).amount = a
      if (i > 0) {
        const p = this.policies[(route.hops[i] as Route['hops'][number]).edge] as ForwardingPolicy
        a += feeMsat(p.baseFee, p.feeRatePpm, a)
      }
    }
    return hops
  }

  /** A route from the package's pathfinder, counted from the current L1 height. */
  findRoute(sender: number, receiver: number, amount: Amount, options: { missionControl?: MissionControl; finalCltvDelta?: number } = {}): Route {
    const s = this.nodes[sender]
    if (s === undefined) throw new InvalidInputError('sender', `no node ${describe(sender)}`)
    const unit = this.graphUnit
    return this.pathfinder.findRoute({
      source: sender,
      target: receiver,
      amountMsat: (amount + unit - 1n) / unit,
      currentHeight: this.l1.head().height,
      finalCltvDelta: options.finalCltvDelta ?? 40,
      ...(options.missionControl === undefined ? {} : { missionControl: options.missionControl }),
      now: Date.now(),
      // The sender knows its own channels: their balance, and whether the peer is reachable (lnd's link bandwidth).
      localLiquidityMsat: (e) => {
        const peer = this.nodes[this.graph.edgeTo[e] as number] as HtlcNode
        return s.peerOnline(peer.address) ? s.balance(this.channelIds[e >> 1] as Uint8Array) / unit : 0n
      },
    })
  }

  /** Pays `amount` from `sender` to `receiver`, retrying on other routes after a failure. */
  async pay(sender: number, receiver: number, amount: Amount, options: PayOptions = {}): Promise<PayResult> {
    const s = this.nodes[sender]
    const r = this.nodes[receiver]
    if (s === undefined) throw new InvalidInputError('sender', `no node ${describe(sender)}`)
    if (r === undefined || receiver === sender) throw new InvalidInputError('receiver', `no other node ${describe(receiver)}`)
    const invoice = r.createInvoice(amount, options.preimage)
    const mc = options.missionControl ?? new MissionControl(this.graph)
    const attempts: PayAttempt[] = []
    const max = options.maxAttempts ?? 5
    const now = options.now ?? Date.now
    const start = now()
    let reason = 'no_route'
    for (let k = 0; k < max; k++) {
      if (k > 0 && options.timeoutMs !== undefined && now() - start >= options.timeoutMs) break
      let route: Route
      try {
        route = this.findRoute(sender, receiver, amount, { missionControl: mc, ...(options.finalCltvDelta === undefined ? {} : { finalCltvDelta: options.finalCltvDelta }) })
      } catch (err) {
        if (err instanceof NoRouteError || err instanceof CapacityError) return { success: false, attempts, reason: attempts.length === 0 ? 'no_route' : reason }
        throw err
      }
      const outcome = await s.sendPayment(invoice.hash, this.toHtlcRoute(route, this.graphUnit === 1n ? undefined : amount))
      const attempt: PayAttempt = { route, outcome }
      attempts.push(attempt)
      if (outcome.status === 'settled') return { success: true, preimage: outcome.preimage, attempts }
      reason = String(outcome.failure.code)
      const at = this.failedHop(route, outcome.failure.reporter)
      attempt.failedHop = at
      this.learn(mc, route, at, reason)
    }
    return { success: false, attempts, reason }
  }

  /**
   * Sends one payment along a given graph route (lnd's SendToRoute): the
   * route's shape is checked first (edges exist and connect, no node twice —
   * RouteLoopError — amounts positive and within capacity); fees, deltas and
   * expiries are left to each hop to enforce.
   */
  async payAlong(route: Route, options: { preimage?: Uint8Array } = {}): Promise<PaymentOutcome> {
    validateRoute(this.graph, route, { checkPolicy: false })
    const s = this.nodes[route.source] as HtlcNode
    const r = this.nodes[route.target] as HtlcNode
    const invoice = r.createInvoice(route.amountMsat, options.preimage)
    return s.sendPayment(invoice.hash, this.toHtlcRoute(route))
  }

  /** Hop index whose HTLC could not be forwarded: the reporter's outgoing hop (hops.length for the receiver). */
  failedHop(route: Route, reporter: Address): number {
    const node = this.index.get(reporter)
    const i = route.hops.findIndex((h) => h.from === node)
    return i < 0 ? route.hops.length : i
  }

  private learn(mc: MissionControl, route: Route, at: number, code: string): void {
    const now = Date.now()
    for (let i = 1; i < Math.min(at, route.hops.length); i++) {
      const h = route.hops[i] as Route['hops'][number]
      mc.recordSuccess(h.edge, h.amountMsat, now)
    }
    const h = route.hops[at]
    if (h === undefined) return
    if (code === 'temporary_channel_failure') mc.recordFailure(h.edge, h.amountMsat, now)
    else mc.recordFailure(h.edge, 1n, now)
  }

  /** Mines `n` blocks, letting every node react after each one. */
  async mine(n = 1): Promise<void> {
    for (let i = 0; i < n; i++) {
      await this.l1.mine(1)
      await drainEventLoop()
      await Promise.all(this.nodes.map((x) => x.poll()))
      await drainEventLoop()
    }
  }

  /**
   * Per node: Σ own channel balances of open channels + Σ HTLCs it offered
   * that are still locked (off or on chain) + L1 balance + gas it burnt.
   * Σ over nodes + what the adjudicator holds for nobody's account is constant.
   */
  accounts(): { channel: Amount; l1: Amount; gas: Amount; total: Amount }[] {
    return this.nodes.map((n, i) => {
      let channel = 0n
      for (const id of n.channelIds()) {
        const s = n.channel.status(id)
        if (s.phase === 'closed') continue
        channel += s.myBalance
      }
      let gas = 0n
      for (const r of (this.receipts[i] as Map<string, Receipt>).values()) gas += r.fee
      const l1 = this.l1.balanceOf(n.address)
      return { channel, l1, gas, total: channel + l1 + gas }
    })
  }

  stop(): void {
    for (const n of this.nodes) n.stop()
  }
}

/** The same L1, recording the receipt of every transaction its wallet waits for (each wallet waits for all its own). */
function recordingL1<L extends NetworkL1>(l1: L, sink: Map<string, Receipt>): L {
  return new Proxy(l1, {
    get(target, prop) {
      if (prop === 'receipt')
        return (hash: `0x${string}`) =>
          target.receipt(hash).then((r) => {
            sink.set(r.txHash, r)
            return r
          })
      const v = Reflect.get(target, prop, target)
      return typeof v === 'function' ? v.bind(target) : v
    },
  })
}

/** Placeholder graph while channels are being opened (replaced before create returns). */
function builderStub(): ChannelGraph {
  const b = new ChannelGraphBuilder({ minCltvExpiryDelta: 1 })
  b.addNode()
  return b.build()
}

/** Lets queued microtasks and zero-delay callbacks run. */
export async function drainEventLoop(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r))
}
