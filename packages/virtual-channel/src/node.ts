/**
 * VirtualNode: one participant — Alice, Bob, Ingrid, or all three in
 * different virtual channels — built on one payment-channel ChannelNode that
 * runs its ledger channels and its virtual channels alike (a virtual channel
 * is a channel funded elsewhere: `openFunded`).
 *
 * This file is the facade (public API, wiring, restart). The parts:
 *   party.ts     Alice's and Bob's open, activation and close
 *   hub.ts       Ingrid's funding, activation, settlement and abort
 *   policy.ts    what this node countersigns on ledger and virtual channels
 *   onchain.ts   watching virtual registrations; forceClose / finalize
 *   context.ts   records (the only writer of the VirtualStore), lookups
 *
 * Two links per peer: the channel protocol's (ledger and virtual updates)
 * and the coordination protocol's (propose, accept, fund, active, settle,
 * settled, refuse), each a SecureLink in its own PeerTable, so every
 * message's sender is an authenticated peer. A refused message is recorded
 * (`errors`), answered with `refuse` naming the code and field, and changes
 * nothing: nothing is signed, saved or sent before its checks pass.
 */
import {
  type Address,
  type Amount,
  InvalidInputError,
  L2Error,
  type Signer,
  type Verifier,
  nodeVerifier,
  toHex,
} from '@l2bench/core'
import type { L1, Receipt, Wallet } from '@l2bench/l1-mock'
import {
  type AcceptLimits,
  ChannelNode,
  type ChannelStore,
  type Link,
  MemoryStore,
  type PaymentEvent,
  PeerTable,
  type SecureLink,
  type SignedState,
} from '@l2bench/payment-channel'
import type { VirtualAdjudicator } from './adjudicator.ts'
import { VirtualClient } from './client.ts'
import { DEFAULT_VIRTUAL_LIMITS, Records, type VirtualContext, type VirtualLimits, finalWhenRead, hex, latestOf } from './context.ts'
import { VirtualError } from './errors.ts'
import { Hub } from './hub.ts'
import { OnChain } from './onchain.ts'
import { type VirtualParams, virtualId } from './params.ts'
import { type OpenVirtualParameters, Party, isRefusal } from './party.ts'
import { virtualPolicy } from './policy.ts'
import { MemoryVirtualStore, type Role, type Status, type VirtualStore } from './store.ts'
import { VIRTUAL_MESSAGE_MAX, type VirtualMessage, decodeVirtualMessage, encodeVirtualMessage } from './wire.ts'

export type { OpenVirtualParameters } from './party.ts'

/** The coordination links' handshake protocol (a channel-protocol handshake is void on them, and back). */
export const VIRTUAL_PROTOCOL = 'l2bench/virtual-channel/v1'

export interface VirtualNodeOptions {
  signer: Signer
  wallet: Wallet
  adjudicator: VirtualAdjudicator
  /** Ledger and virtual channel states (default in memory). */
  store?: ChannelStore
  /** Virtual-channel records (default in memory); with a SqliteStore, `new SqliteVirtualStore(store.db)` keeps both in one file. */
  virtualStore?: VirtualStore
  verifier?: Verifier
  /** What this node agrees to when a peer opens a ledger channel with it (payment-channel's defaults deposit nothing of ours). */
  acceptLimits?: Partial<AcceptLimits>
  /** What this node agrees to as Bob or as Ingrid (defaults lock nothing of ours). */
  limits?: Partial<VirtualLimits>
  /** Retransmission timeout of channel proposals and coordination messages (ms, default 2,000). */
  timeoutMs?: number
  /** Open and close calls give up after this many timeouts (default 5). */
  maxAttempts?: number
  /** Refute stale virtual registrations and (as Ingrid) conclude with the final state she settled by (default true). */
  autoDefend?: boolean
  links?: { helloTimeoutMs?: number; idleTimeoutMs?: number }
  /** Runs `tick` on a timer (default true). */
  timers?: boolean
  now?: () => number
}

export interface VirtualStatus {
  channelId: `0x${string}`
  role: Role
  status: Status
  params: VirtualParams
  /** Our newest virtual state signed by both (Alice and Bob, once it runs). */
  version: bigint | undefined
  balances: readonly [Amount, Amount] | undefined
}

type Ref = { channelId: `0x${string}` | Uint8Array }

export class VirtualNode {
  readonly address: Address
  readonly channel: ChannelNode
  readonly client: VirtualClient
  readonly l1: L1
  /** Rejected inputs and failed steps (typed errors), newest last, capped at 1,000. */
  readonly errors: L2Error[] = []
  readonly records: Records
  private readonly peers: PeerTable
  private readonly party: Party
  private readonly hub: Hub
  private readonly chain: OnChain
  private readonly ctx: VirtualContext
  private readonly lastSent = new Map<string, number>()
  private timer: NodeJS.Timeout | undefined
  private stopped = false
  private readonly now: () => number
  private readonly timeoutMs: number

  constructor(readonly options: VirtualNodeOptions) {
    this.address = options.signer.address
    this.l1 = options.wallet.l1
    this.now = options.now ?? Date.now
    this.timeoutMs = options.timeoutMs ?? 2_000
    this.client = new VirtualClient(options.wallet, options.adjudicator)
    const store = options.virtualStore ?? new MemoryVirtualStore()
    this.records = new Records(store, () => this.stopped)
    const verifier = options.verifier ?? nodeVerifier
    const policy = virtualPolicy({
      record: (vidHex) => this.records.get(vidHex),
      isVirtual: (idHex) => {
        const r = this.records.get(idHex)
        return r !== undefined && r.role !== 'ingrid'
      },
      ledgerParties: (idHex) => this.channel.machine(`0x${idHex}`).params.parties,
      virtualLatest: (vidHex) => latestOf(this.channel, vidHex),
      finalOutcome: (vidHex) => {
        const d = this.ctx.outcomes.get(vidHex)
        return d !== undefined && finalWhenRead(d) ? d.balances : undefined
      },
    })
    this.channel = new ChannelNode({
      signer: options.signer,
      wallet: options.wallet,
      adjudicator: options.adjudicator,
      store: options.store ?? new MemoryStore(),
      verifier,
      policy,
      policyReplacesDefault: true,
      timeoutMs: this.timeoutMs,
      ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
      timers: false,
      ...(options.acceptLimits === undefined ? {} : { acceptLimits: options.acceptLimits }),
      ...(options.links === undefined ? {} : { links: options.links }),
      onSignedState: (s) => queueMicrotask(() => this.onSigned(s)),
      now: this.now,
    })
    this.ctx = {
      address: this.address,
      signer: options.signer,
      verifier,
      channel: this.channel,
      client: this.client,
      l1: this.l1,
      records: this.records,
      limits: { ...DEFAULT_VIRTUAL_LIMITS, ...options.limits },
      outcomes: new Map(),
      send: (peer, msg) => this.send(peer, msg),
      record: (err) => this.record(err),
      now: this.now,
      stopped: () => this.stopped,
    }
    this.party = new Party(this.ctx)
    this.hub = new Hub(this.ctx, this.timeoutMs, (vid) => this.chain.settleOnL1(vid))
    this.chain = new OnChain(this.ctx, () => this.options.autoDefend !== false)
    this.peers = new PeerTable({
      signer: options.signer,
      verifier,
      chainId: this.l1.chainId,
      protocol: VIRTUAL_PROTOCOL,
      maxPayload: VIRTUAL_MESSAGE_MAX,
      ...options.links,
      onFrame: (peer, payload) => this.onFrame(peer, payload),
      onPeer: (peer) => this.resend(peer),
      onError: (err) => this.record(err),
    })
    this.start()
  }

  private start(): void {
    this.party.recover()
    for (const r of this.records.all()) if (r.status === 'disputed') this.chain.refresh(r.vid).catch((err) => this.record(err))
    this.hub.progressAll()
    // A node with records reads the whole log (registrations made while it was down); a new one starts at the head.
    this.chain.start(this.records.all().length > 0 ? 0 : this.l1.head().height + 1)
    if (this.options.timers !== false) {
      this.timer = setInterval(() => this.tick(), Math.max(10, Math.floor(this.timeoutMs / 4)))
      this.timer.unref()
    }
  }

  // ------------------------------------------------------------------ links

  /** A link for the channel protocol (ledger and virtual channel updates). */
  attach(link: Link): SecureLink {
    return this.channel.attach(link)
  }

  /** A link for the virtual channels' coordination messages. */
  attachVirtual(link: Link): SecureLink {
    return this.peers.attach(link)
  }

  /** Resolves once `peer` authenticated on both kinds of link. */
  async whenConnected(peer: Address): Promise<void> {
    await Promise.all([this.channel.whenConnected(peer), this.peers.whenConnected(peer)])
  }

  /** The authenticated coordination link to `peer` (tests send through it as that peer would). */
  virtualLinkTo(peer: Address): SecureLink | undefined {
    return this.peers.route(peer)
  }

  private send(peer: Address, msg: VirtualMessage): void {
    if (this.stopped) return
    this.peers.send(peer, encodeVirtualMessage(msg))
  }

  private record(err: unknown): void {
    const e = err instanceof L2Error ? err : new L2Error('INTERNAL', String((err as Error)?.message ?? err), { cause: err })
    this.errors.push(e)
    if (this.errors.length > 1000) this.errors.shift()
  }

  private onFrame(peer: Address, payload: Uint8Array): void {
    if (this.stopped) return
    let msg: VirtualMessage
    try {
      msg = decodeVirtualMessage(payload)
    } catch (err) {
      this.record(err)
      return
    }
    try {
      if (msg.type === 'propose') this.party.onPropose(peer, msg)
      else if (msg.type === 'accept') this.party.onAccept(peer, msg)
      else if (msg.type === 'fund') this.hub.onFund(peer, msg)
      else if (msg.type === 'active') this.party.onActive(peer, msg)
      else if (msg.type === 'settle') this.hub.onSettle(peer, msg)
      else if (msg.type === 'refuse') this.party.onRefuse(peer, msg)
      // 'settled' is informational: each party learns it from its own ledger.
    } catch (err) {
      this.record(err)
      if (msg.type !== 'refuse' && isRefusal(err)) this.send(peer, { type: 'refuse', channelId: channelOf(msg), code: err.code.slice(0, 64), field: (err.field ?? '').slice(0, 128) })
    }
  }

  /** Every newly countersigned state, ledger or virtual. */
  private onSigned(s: SignedState): void {
    if (this.stopped) return
    try {
      const r = this.records.get(s.state.channelId)
      if (r !== undefined && r.role !== 'ingrid') {
        if (s.state.isFinal) this.party.onFinal(s)
        return
      }
      this.party.onLedgerSigned(s.state)
      this.hub.onLedgerSigned(s.state.channelId)
    } catch (err) {
      this.record(err)
    }
  }

  private resend(peer: Address): void {
    if (this.stopped) return
    try {
      this.party.resend(peer)
      this.hub.resend(peer)
    } catch (err) {
      this.record(err)
    }
  }

  // ------------------------------------------------------------------ API

  /**
   * Opens a virtual channel with `peer` through `ingrid` (we are Alice).
   * Resolves with its id once Ingrid activated it (both ledger locks in
   * place); rejects with a typed error when a check fails (nothing signed or
   * saved), when Bob or Ingrid refuses, or after the timeout.
   */
  async openVirtual(o: OpenVirtualParameters): Promise<`0x${string}`> {
    if (this.stopped) throw new VirtualError('STOPPED', 'node', 'node stopped')
    const { vid, done } = this.party.open(o)
    this.lastSent.set(hex(vid), this.now())
    await done
    return toHex(vid)
  }

  /** Pays `amount` to the other party of the virtual channel: one two-party update; Ingrid is not involved. */
  pay(p: { channelId: `0x${string}` | Uint8Array; amount: Amount }): Promise<bigint> {
    try {
      const r = this.records.require(p.channelId)
      if (r.role === 'ingrid') throw new VirtualError('STATE', 'channelId', 'the intermediary is not in the virtual channel')
      if (r.status !== 'active') throw new VirtualError('STATE', 'channelId', `virtual channel is ${r.status}`)
      return this.channel.pay(p)
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /**
   * Closes cooperatively: a final state signed with the peer, settled by
   * Ingrid into both ledgers. Resolves once our ledger no longer holds the
   * lock; on a timeout or Ingrid's refusal, `forceCloseVirtual` takes it to L1.
   */
  async closeVirtual(p: Ref): Promise<void> {
    if (this.stopped) throw new VirtualError('STOPPED', 'node', 'node stopped')
    const vid = idBytes(p.channelId)
    this.lastSent.set(hex(vid), this.now())
    await this.party.close(vid)
  }

  /** Takes the virtual channel to L1 (see onchain.ts): registers our ledger(s) with the lock and the virtual channel's newest state. */
  forceCloseVirtual(p: Ref): Promise<Receipt[]> {
    return this.chain.forceClose(idBytes(p.channelId))
  }

  /** After the windows: finalizes our ledger(s) and resolves their virtual locks by the outcome. */
  finalizeVirtual(p: Ref): Promise<Receipt[]> {
    return this.chain.finalize(idBytes(p.channelId))
  }

  virtualStatus(channelId: `0x${string}` | Uint8Array): VirtualStatus {
    const r = this.records.require(channelId)
    const latest = r.role === 'ingrid' ? undefined : latestOf(this.channel, r.vid)
    return {
      channelId: toHex(r.vid),
      role: r.role,
      status: r.status,
      params: r.params,
      version: latest?.state.version,
      balances: latest?.state.balances,
    }
  }

  /** Ids of the virtual channels this node is in (any role). */
  virtualIds(): `0x${string}`[] {
    return this.records.all().map((r) => toHex(r.vid))
  }

  /** Payments received on virtual channels (not ledger updates). */
  on(event: 'payment', listener: (e: PaymentEvent) => void): () => void {
    return this.channel.on(event, (e) => {
      const r = this.records.get(e.channelId)
      if (r !== undefined && r.role !== 'ingrid') listener(e)
    })
  }

  /**
   * Retransmissions and timeouts: channel proposals (ChannelNode.tick),
   * coordination messages still outstanding, Ingrid's unfinished locks and
   * unlocks, and open/close calls that waited too long.
   */
  tick(now: number = this.now()): void {
    if (this.stopped) return
    this.channel.tick(now)
    this.chain.tick()
    for (const r of this.records.all()) {
      const k = hex(r.vid)
      const last = this.lastSent.get(k) ?? 0
      if (now - last < this.timeoutMs) continue
      if (r.role === 'ingrid') this.hub.progress(r)
      else if (r.status === 'proposed' || r.status === 'funding' || r.status === 'settling') {
        this.lastSent.set(k, now)
        this.party.resend(r.status === 'proposed' ? r.params.bob : r.params.ingrid)
      }
    }
    this.party.expire(now, this.timeoutMs * (this.options.maxAttempts ?? 5))
  }

  /** Stops timers, subscriptions and links; rejects what waits. The stores stay open (the caller's). */
  stop(): void {
    if (this.stopped) return
    this.stopped = true
    if (this.timer !== undefined) clearInterval(this.timer)
    this.chain.stop()
    this.party.rejectAll(new VirtualError('STOPPED', 'node', 'node stopped'))
    this.peers.suspend()
    this.channel.stop()
  }
}

function idBytes(id: `0x${string}` | Uint8Array): Uint8Array {
  if (id instanceof Uint8Array) return id
  if (typeof id !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(id)) throw new InvalidInputError('channelId', 'expected a 32-byte id')
  return new Uint8Array(Buffer.from(id.slice(2), 'hex'))
}

function channelOf(msg: VirtualMessage): Uint8Array {
  switch (msg.type) {
    case 'propose':
    case 'fund':
      return virtualIdSafe(msg.params)
    case 'settle':
      return msg.state.channelId
    default:
      return msg.channelId
  }
}

function virtualIdSafe(p: VirtualParams): Uint8Array {
  try {
    return virtualId(p)
  } catch {
    return new Uint8Array(32)
  }
}
