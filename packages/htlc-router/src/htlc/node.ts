/**
 * HtlcNode: one participant of a multi-hop payment network — a
 * payment-channel ChannelNode whose states carry HTLCs, plus the HTLC logic
 * around it: offering, forwarding, settling and failing HTLCs off chain, and
 * resolving them on chain when a peer does not cooperate.
 *
 * This file is the facade (public API, wiring, restart). The parts:
 *   book.ts       records, preimages, invoices, instructions, failures; the
 *                 only writer of the HtlcStore (`transition` persists)
 *   forwarding.ts offer, forward or fail an incoming HTLC, `resolveOffChain`
 *                 (settle / fail / refund), `resolved` (accounting, propagation)
 *   reconcile.ts  one `reconcile(ch, state)` for restart and every signed state
 *   links.ts      authenticated HTLC links, inbound messages, fulfils repeated on reconnect
 *   onchain.ts    block and adjudicator-event checks: claim, refund, close
 *
 * Off chain (every step a countersigned update of ChannelNode, checked by the
 * peer's `htlcPolicy`):
 *   sender    sendPayment(hash, route): `add` instructions, then the add update
 *   hop       on a fully signed state with a new incoming HTLC and its
 *             instructions: checks (fee ≥ its policy, incoming − outgoing
 *             expiry ≥ max(its cltv delta, upstream dispute window + margin),
 *             outgoing expiry not too soon, incoming not too far, outgoing
 *             balance) and offers the next HTLC, or fails the incoming one
 *             with a BOLT 4 code
 *   receiver  knows the preimage (invoice): `fulfill`, then the settle update
 *   back      a hop that learns the preimage (fulfil message or L1) settles its
 *             incoming HTLC at once; a failure travels back the same way
 *
 * Route instructions are plain (no onion): every hop sees the whole rest of
 * the route and the amount the receiver gets.
 */
import { randomBytes } from 'node:crypto'
import {
  type Address,
  type Amount,
  InvalidInputError,
  L2Error,
  type Signer,
  type Verifier,
  describe,
  nodeVerifier,
  sha256,
  toHex,
} from '@l2bench/core'
import type { Head, L1, L1Event, Receipt, Unsubscribe, Wallet } from '@l2bench/l1-mock'
import { type AcceptLimits, ChannelNode, type ChannelState, type ChannelStore, type Link, MemoryStore, type SecureLink, type SignedState, channelIdHex } from '@l2bench/payment-channel'
import { MIN_FINAL_CLTV_EXPIRY_DELTA } from '../routing/route.ts'
import type { FailureCode } from '../sim/hop.ts'
import type { HtlcAdjudicator, RevealedPreimage } from './adjudicator.ts'
import { Book, type ForwardingPolicy, type HtlcRecord, type HtlcStatus, type PaymentFailure, type PaymentOutcome, htlcKey } from './book.ts'
import { HtlcRejectedError } from './errors.ts'
import { Forwarding, type HtlcContext, type HtlcLedger } from './forwarding.ts'
import { Links } from './links.ts'
import { OnChain } from './onchain.ts'
import { reconcile } from './reconcile.ts'
import { DEFAULT_HTLC_LIMITS, type HtlcLimits, checkExpiry, checkHash, checkLimits, checkPreimage, htlcPolicy } from './state.ts'
import { type HtlcStore, MemoryHtlcStore } from './store.ts'
import { MAX_HOPS } from './wire.ts'

export type { ForwardingPolicy, HtlcLedger, PaymentFailure, PaymentOutcome }

export const DEFAULT_FORWARDING: ForwardingPolicy = { baseFee: 1000n, feeRatePpm: 1n, cltvDelta: 40 }

/** Blocks on top of a channel's dispute window kept for an on-chain claim: register, finalize and claim each take a block, plus slack. */
export const DEFAULT_ON_CHAIN_MARGIN = 6

export interface HtlcNodeOptions {
  signer: Signer
  wallet: Wallet
  adjudicator: HtlcAdjudicator
  store?: ChannelStore
  verifier?: Verifier
  /** Default forwarding policy of every channel (per channel: setForwardingPolicy). */
  forwarding?: Partial<ForwardingPolicy>
  /** Bounds for HTLCs the peer adds: expiry (default min 18 blocks ahead, max 2016), max pending per side (default 30). */
  limits?: Partial<HtlcLimits>
  /** Final node: smallest expiry − height accepted (default 18). */
  minFinalDelta?: number
  /**
   * Blocks on top of the dispute window kept in hand when going on chain to
   * claim (default 6). A hop forwards only when incoming − outgoing expiry ≥
   * the incoming channel's dispute window + this margin.
   */
  onChainMargin?: number
  /** Blocks after an outgoing HTLC's expiry the peer has to fail it off chain before we close (default 2). */
  refundGrace?: number
  /** Test hook: the receiver accepts HTLCs for its invoices but never reveals the preimage (ATTACKS 12). */
  withholdPreimages?: boolean
  /** Receives every fully signed state too (e.g. a Watchtower's handOff). */
  /** Every countersigned state; a merged one with its steps (one per update it carries). */
  onSignedState?: (s: SignedState, steps?: ChannelState[]) => void
  /** Durable HTLC bookkeeping (default in memory); with the ChannelStore, what a restart recovers from. */
  htlcStore?: HtlcStore
  /** Run the on-chain checks on every L1 block (default true; the channel-backed Forwarder turns it off and resolves on chain itself). */
  watchChain?: boolean
  /** What the node agrees to when a peer opens a channel (payment-channel's defaults deposit nothing of ours). */
  acceptLimits?: Partial<AcceptLimits>
  /** Handshake and idle timeouts (ms) of both links to a peer (defaults 10,000 and 60,000). */
  links?: { helloTimeoutMs?: number; idleTimeoutMs?: number }
}

/** One hop of a route as the sender hands it out: the HTLC on `channelId`. */
export interface HtlcRouteHop {
  channelId: Uint8Array
  amount: Amount
  expiry: bigint
}

export class HtlcNode {
  readonly address: Address
  readonly channel: ChannelNode
  readonly l1: L1
  readonly adjudicator: HtlcAdjudicator
  readonly wallet: Wallet
  /** Rejections and failed steps (typed errors), newest last. */
  readonly errors: L2Error[] = []
  /** Receipts of every L1 transaction this node sent for HTLC resolution and closing. */
  readonly receipts: Receipt[] = []
  readonly ledger: HtlcLedger = { sent: 0n, received: 0n, feesPaid: 0n, feesEarned: 0n }
  readonly htlcStore: HtlcStore
  /** While true, a receiver accepts HTLCs for its invoices but reveals no preimage (ATTACKS 12; tests). */
  withholding: boolean
  private readonly limits: HtlcLimits
  private readonly book: Book
  private readonly fw: Forwarding
  private readonly links: Links
  private readonly chain: OnChain
  private readonly ctx: HtlcContext
  private readonly released = new Set<string>()
  private readonly unsubscribe: Unsubscribe[] = []
  private stopped = false

  constructor(readonly options: HtlcNodeOptions) {
    this.address = options.signer.address
    this.wallet = options.wallet
    this.l1 = options.wallet.l1
    this.adjudicator = options.adjudicator
    this.limits = checkLimits({ ...DEFAULT_HTLC_LIMITS, ...options.limits })
    const margin = options.onChainMargin ?? DEFAULT_ON_CHAIN_MARGIN
    if (!Number.isSafeInteger(margin) || margin < 3) throw new InvalidInputError('onChainMargin', `expected an integer ≥ 3 (register, finalize, claim), got ${describe(margin)}`)
    this.withholding = options.withholdPreimages === true
    this.htlcStore = options.htlcStore ?? new MemoryHtlcStore()
    this.book = new Book(this.htlcStore, () => this.stopped, this.limits.maxAcceptedHtlcs)
    const policy = htlcPolicy({ height: () => this.height(), preimageFor: (hash) => this.book.preimage(hash), limits: this.limits })
    this.channel = new ChannelNode({
      signer: options.signer,
      wallet: options.wallet,
      adjudicator: options.adjudicator,
      store: options.store ?? new MemoryStore(),
      verifier: options.verifier ?? nodeVerifier,
      policy,
      policyReplacesDefault: true,
      timers: false,
      ...(options.links === undefined ? {} : { links: options.links }),
      ...(options.acceptLimits === undefined ? {} : { acceptLimits: options.acceptLimits }),
      onSignedState: (s, steps) => {
        this.onSignedState(s, steps)
        options.onSignedState?.(s, steps)
      },
    })
    this.ctx = {
      address: this.address,
      channel: this.channel,
      l1: this.l1,
      book: this.book,
      settings: {
        limits: this.limits,
        minFinalDelta: options.minFinalDelta ?? MIN_FINAL_CLTV_EXPIRY_DELTA,
        onChainMargin: margin,
        refundGrace: options.refundGrace ?? 2,
        defaultForwarding: { ...DEFAULT_FORWARDING, ...options.forwarding },
      },
      ledger: this.ledger,
      receipts: this.receipts,
      height: () => this.height(),
      record: (err) => this.record(err),
      send: (peer, msg) => this.links.send(peer, msg),
      peerOnline: (peer) => this.peerOnline(peer),
      stopped: () => this.stopped,
      withholds: (hash) => this.withholding && !this.released.has(toHex(hash)),
    }
    this.fw = new Forwarding(this.ctx)
    this.links = new Links(this.ctx, this.fw, {
      signer: options.signer,
      ...(options.verifier === undefined ? {} : { verifier: options.verifier }),
      ...(options.links === undefined ? {} : { timeouts: options.links }),
    })
    this.chain = new OnChain(this.ctx, this.fw, options.adjudicator)
    const l1 = this.l1 as L1 & {
      subscribe(f: object, cb: (e: L1Event) => void, o?: { owner?: Address }): Unsubscribe
      onBlock?: (cb: (h: Head) => void) => Unsubscribe
    }
    this.unsubscribe.push(l1.subscribe({ address: options.adjudicator.address }, (e) => this.chain.onL1Event(e), { owner: this.wallet.address }))
    if (options.watchChain !== false && typeof l1.onBlock === 'function') this.unsubscribe.push(l1.onBlock(() => this.chain.schedule()))
    this.recover()
  }

  /**
   * Restart: reloads the HTLC book and reconciles it with the channel states
   * ChannelNode restored (the same `reconcile` every signed state goes
   * through), then resumes what was under way: forwarding with received
   * instructions, settling with known preimages.
   */
  private recover(): void {
    this.book.load()
    if (this.book.htlcs.size === 0 && this.channel.channelIds().length === 0) return
    for (const id of this.channel.channelIds()) reconcile(this.ctx, this.fw, this.fw.track(id), this.channel.machine(id).latest.state)
    queueMicrotask(() => {
      for (const rec of this.book.htlcs.values()) {
        if (!rec.incoming || rec.status !== 'pending') continue
        if (!rec.processed) this.fw.processIncoming(rec)
        else if (this.book.preimage(rec.entry.hash) !== undefined && !this.withholding) this.fw.settleIncoming(rec)
      }
    })
  }

  /** A countersigned state; a merged one comes with its steps (one per HTLC update it carries), reconciled in order. */
  private onSignedState(s: SignedState, steps: readonly ChannelState[] = []): void {
    if (this.stopped) return
    try {
      const ch = this.fw.track(s.state.channelId)
      // The last step holds what the signed state holds.
      for (const state of steps.length > 0 ? steps : [s.state]) reconcile(this.ctx, this.fw, ch, state)
    } catch (err) {
      this.record(err)
    }
  }

  height(): number {
    return this.l1.head().height
  }

  private record(err: unknown): void {
    const e = err instanceof L2Error ? err : new L2Error('INTERNAL', String((err as Error)?.message ?? err), { cause: err })
    this.errors.push(e)
    if (this.errors.length > 1000) this.errors.shift()
  }

  // ------------------------------------------------------------------ links and channels

  /**
   * Attaches the two links to one peer: the channel protocol's and ours. Each
   * authenticates its peer on every connection (a signed handshake); returns
   * their authenticated views.
   */
  attach(channelLink: Link, htlcLink: Link): { channel: SecureLink; htlc: SecureLink } {
    return { channel: this.channel.attach(channelLink), htlc: this.attachHtlc(htlcLink) }
  }

  /**
   * Attaches one HTLC link (e.g. a connection accepted by a TCP server; the
   * peer's channel link is attached to `channel` on its own). Its peer is
   * whoever authenticates on it.
   */
  attachHtlc(link: Link): SecureLink {
    return this.links.attach(link)
  }

  /** Both links to `peer` (the channel protocol's and the HTLC messages') are up and authenticated: it can take an HTLC. */
  peerOnline(peer: Address): boolean {
    return this.channel.isConnected(peer) && this.links.linkTo(peer) !== undefined
  }

  /** The authenticated HTLC link that reaches `peer` (what this node sends HTLC messages on). */
  linkTo(peer: Address): SecureLink | undefined {
    return this.links.linkTo(peer)
  }

  /** Opens a channel (as A) with a connected peer and registers it for HTLCs. */
  async openChannel(p: Parameters<ChannelNode['open']>[0] & { forwarding?: Partial<ForwardingPolicy> }): Promise<`0x${string}`> {
    const id = await this.channel.open(p)
    const ch = this.fw.track(id)
    if (p.forwarding !== undefined) ch.forwarding = { ...ch.forwarding, ...p.forwarding }
    return id
  }

  /** Sets what this node charges and requires for forwarding onto `channelId`. */
  setForwardingPolicy(channelId: `0x${string}` | Uint8Array, policy: Partial<ForwardingPolicy>): void {
    const ch = this.fw.track(channelId)
    const next = { ...ch.forwarding, ...policy }
    if (typeof next.baseFee !== 'bigint' || next.baseFee < 0n) throw new InvalidInputError('baseFee', `expected a bigint ≥ 0, got ${describe(next.baseFee)}`)
    if (typeof next.feeRatePpm !== 'bigint' || next.feeRatePpm < 0n) throw new InvalidInputError('feeRatePpm', 'expected a bigint ≥ 0')
    if (!Number.isSafeInteger(next.cltvDelta) || next.cltvDelta < 1) throw new InvalidInputError('cltvDelta', 'expected a positive integer')
    ch.forwarding = next
  }

  /** Our spendable balance in a channel (HTLCs we offered excluded). */
  balance(channelId: `0x${string}` | Uint8Array): Amount {
    return this.channel.status(channelId).myBalance
  }

  channelIds(): `0x${string}`[] {
    return this.channel.channelIds()
  }

  // ------------------------------------------------------------------ invoices and payments

  /** A new invoice: the receiver keeps the preimage, the sender gets the hash. */
  createInvoice(amount: Amount, preimage: Uint8Array = new Uint8Array(randomBytes(32))): { hash: Uint8Array; preimage: Uint8Array } {
    if (typeof amount !== 'bigint' || amount <= 0n) throw new HtlcRejectedError('HTLC_AMOUNT', 'amount', `expected a positive bigint, got ${describe(amount)}`)
    checkPreimage('preimage', preimage)
    const hash = sha256(preimage)
    this.book.addInvoice(hash, preimage, amount)
    this.book.flush() // the hash leaves the node: its preimage must not be lost
    return { hash, preimage: preimage.slice() }
  }

  /** Stops withholding: settles every pending HTLC paying one of our invoices (off chain, or on chain near its expiry). */
  releasePreimages(): void {
    this.withholding = false
    this.fw.releaseInvoices(undefined)
  }

  /** Stops withholding the preimage of one invoice (the others stay withheld while `withholding`). */
  releasePreimage(hash: Uint8Array): void {
    checkHash('hash', hash)
    this.released.add(toHex(hash))
    this.fw.releaseInvoices(hash)
  }

  /**
   * Sends a payment along `route` (hops[0] is one of our channels). Resolves
   * once the first HTLC is settled (with the preimage) or failed (with the
   * failing node and its code), off or on chain. Throws a typed error, and
   * sends nothing, for a malformed hash or route.
   */
  sendPayment(hash: Uint8Array, route: readonly HtlcRouteHop[]): Promise<PaymentOutcome> {
    try {
      checkHash('hash', hash)
      if (!Array.isArray(route) || route.length === 0 || route.length > MAX_HOPS)
        throw new InvalidInputError('route', `expected 1..${MAX_HOPS} hops, got ${describe(route)}`)
      const seen = new Set<string>()
      const h = this.height()
      for (let i = 0; i < route.length; i++) {
        const hop = route[i] as HtlcRouteHop
        if (!(hop.channelId instanceof Uint8Array) || hop.channelId.length !== 32)
          throw new InvalidInputError(`route[${i}].channelId`, 'expected a 32-byte channel id')
        const k = channelIdHex(hop.channelId)
        if (seen.has(k)) throw new InvalidInputError(`route[${i}].channelId`, 'route uses a channel twice (loop)')
        seen.add(k)
        if (typeof hop.amount !== 'bigint' || hop.amount <= 0n)
          throw new HtlcRejectedError('HTLC_AMOUNT', `route[${i}].amount`, `expected a positive bigint, got ${describe(hop.amount)}`)
        // The first HTLC is ours and must satisfy our peer's bounds; later ones are each hop's to judge
        // (a sender that hands out a too-tight route only gets a refusal back).
        if (i === 0) checkExpiry(`route[${i}].expiry`, hop.expiry, h, this.limits)
        else if (typeof hop.expiry !== 'bigint' || hop.expiry <= BigInt(h))
          throw new HtlcRejectedError('HTLC_EXPIRY', `route[${i}].expiry`, `expected a height after ${h}, got ${describe(hop.expiry)}`)
        if (i > 0) {
          const prev = route[i - 1] as HtlcRouteHop
          if (prev.amount < hop.amount) throw new HtlcRejectedError('HTLC_AMOUNT', `route[${i}].amount`, 'amounts must not grow along the route')
          if (prev.expiry <= hop.expiry) throw new HtlcRejectedError('HTLC_EXPIRY', `route[${i}].expiry`, 'expiries must decrease along the route')
        }
      }
      const first = route[0] as HtlcRouteHop
      const ch = this.fw.track(first.channelId)
      const capacity = this.channel.status(ch.channelId).total
      if (first.amount > capacity) throw new HtlcRejectedError('HTLC_AMOUNT', 'route[0].amount', `amount ${first.amount} exceeds the channel capacity ${capacity}`)
      const last = route[route.length - 1] as HtlcRouteHop
      const spec = { amount: first.amount, hash, expiry: first.expiry, onward: route.slice(1).map((x) => ({ ...x })), finalAmount: last.amount }
      return new Promise<PaymentOutcome>((resolve, reject) => {
        this.fw
          .offer(ch, spec, undefined, resolve)
          .then((r) => {
            if (r !== undefined) resolve({ status: 'failed', failure: { code: r, reporter: this.address }, onChain: false })
          })
          .catch(reject)
      }).then((o) => {
        if (o.status === 'settled') {
          this.ledger.sent += last.amount
          this.ledger.feesPaid += first.amount - last.amount
        }
        return o
      })
    } catch (err) {
      return Promise.reject(err)
    }
  }

  // ------------------------------------------------------------------ single-HTLC operations (the simulator's Forwarder seam)

  /**
   * Offers one HTLC on one of our channels without route instructions: the
   * peer holds it until `settleHtlc` / `failHtlc` is called on its node (the
   * simulator decides forwarding itself). Resolves with the lock id, or with
   * the failure code when it cannot be offered (nothing changed).
   */
  async offerHtlc(
    channelId: `0x${string}` | Uint8Array,
    h: { amount: Amount; hash: Uint8Array; expiry: bigint },
  ): Promise<{ ok: true; lockId: Uint8Array } | { ok: false; code: FailureCode }> {
    const ch = this.fw.track(channelId)
    if (typeof h.amount !== 'bigint' || h.amount <= 0n) throw new HtlcRejectedError('HTLC_AMOUNT', 'amount', `expected a positive bigint, got ${describe(h.amount)}`)
    checkHash('hash', h.hash)
    checkExpiry('expiry', h.expiry, this.height(), this.limits)
    const out: { lockId?: Uint8Array } = {}
    const code = await this.fw.offer(ch, { ...h, onward: [], finalAmount: h.amount }, undefined, undefined, false, out)
    if (code !== undefined) return { ok: false, code }
    return { ok: true, lockId: out.lockId as Uint8Array }
  }

  private incomingRecord(channelId: `0x${string}` | Uint8Array, lockId: Uint8Array): HtlcRecord {
    const ch = this.fw.track(channelId)
    if (!(lockId instanceof Uint8Array) || lockId.length !== 32) throw new HtlcRejectedError('HTLC_UNKNOWN', 'lockId', 'expected a 32-byte lock id')
    const rec = this.book.htlcs.get(htlcKey(ch.key, lockId))
    if (rec === undefined || !rec.incoming) throw new HtlcRejectedError('HTLC_UNKNOWN', 'lockId', 'no incoming HTLC with this id')
    return rec
  }

  /**
   * Settles an HTLC offered to us with its preimage: off chain, or by a
   * claim on L1 if the channel is closed there. Refused (HTLC_EXPIRY) when it
   * is too close to the expiry to reveal the preimage off chain; the node
   * then claims on chain (its block checks, `poll`).
   */
  async settleHtlc(channelId: `0x${string}` | Uint8Array, lockId: Uint8Array, preimage: Uint8Array): Promise<void> {
    const rec = this.incomingRecord(channelId, lockId)
    checkPreimage('preimage', preimage, rec.entry.hash)
    if (rec.status === 'settled') return
    if (rec.status !== 'pending') throw new HtlcRejectedError('HTLC_UNKNOWN', 'lockId', `HTLC already ${rec.status}`)
    rec.processed = true
    this.book.setPreimage(rec.entry.hash, preimage)
    this.book.save(rec)
    const proposal = this.fw.resolveOffChain(rec, { type: 'settle' })
    if (proposal !== undefined) return proposal
    const ch = this.fw.channelOf(rec)
    if ((await this.channel.onChain(ch.channelId))?.phase === 'closed') {
      this.book.flush()
      this.receipts.push(await this.channel.client.resolveLocked(ch.channelId, rec.entry.id, preimage))
      return
    }
    throw new HtlcRejectedError('HTLC_EXPIRY', 'lockId', `cannot settle off chain: ${this.fw.whyNotOffChain(rec, { type: 'settle' })}`)
  }

  /** Fails an HTLC offered to us (its amount returns to the offerer), off chain; on a closing channel the offerer refunds it after expiry. */
  async failHtlc(channelId: `0x${string}` | Uint8Array, lockId: Uint8Array): Promise<void> {
    const rec = this.incomingRecord(channelId, lockId)
    if (rec.status === 'failed') return
    if (rec.status !== 'pending') throw new HtlcRejectedError('HTLC_UNKNOWN', 'lockId', `HTLC already ${rec.status}`)
    rec.processed = true
    this.book.save(rec)
    const proposal = this.fw.resolveOffChain(rec, { type: 'fail', failure: { code: 'temporary_channel_failure', reporter: this.address } })
    if (proposal === undefined)
      throw new HtlcRejectedError('HTLC_POLICY', 'channelId', `cannot fail off chain: ${this.fw.whyNotOffChain(rec, { type: 'fail', failure: { code: '', reporter: this.address } })}`)
    return proposal
  }

  /** Refunds an expired HTLC we offered on a closed channel (on L1). */
  async refundOnChain(channelId: `0x${string}` | Uint8Array, lockId: Uint8Array): Promise<void> {
    const ch = this.fw.track(channelId)
    this.book.flush()
    this.receipts.push(await this.channel.client.resolveLocked(ch.channelId, lockId))
  }

  // ------------------------------------------------------------------ L1

  /** Runs the on-chain checks now (they also run on every block). Resolves when the transactions are mined. */
  poll(): Promise<void> {
    return this.chain.poll()
  }

  /** The preimage registered on L1 for `hash`, if any. */
  async revealedOnChain(hash: Uint8Array): Promise<RevealedPreimage | undefined> {
    checkHash('hash', hash)
    return this.l1.read<RevealedPreimage | undefined>(this.adjudicator.address, 'preimage', [hash])
  }

  // ------------------------------------------------------------------ inspection

  /** HTLCs not yet resolved (both directions). */
  pendingHtlcs(): { channelId: `0x${string}`; lockId: `0x${string}`; incoming: boolean; amount: Amount; expiry: bigint; status: HtlcStatus }[] {
    return this.book
      .unresolved()
      .map((r) => ({ channelId: toHex(r.channelId), lockId: toHex(r.entry.id), incoming: r.incoming, amount: r.entry.amount, expiry: r.entry.expiry, status: r.status }))
  }

  /** Every HTLC this node has seen, resolved or not. */
  allHtlcs(): { incoming: boolean; amount: Amount; status: HtlcStatus; onChain: boolean; hash: `0x${string}`; failure?: PaymentFailure }[] {
    return [...this.book.htlcs.values()].map((r) => ({
      incoming: r.incoming,
      amount: r.entry.amount,
      status: r.status,
      onChain: r.onChain,
      hash: toHex(r.entry.hash),
      ...(r.failure === undefined ? {} : { failure: r.failure }),
    }))
  }

  stop(): void {
    this.stopped = true
    for (const u of this.unsubscribe) u()
    this.channel.stop()
    this.links.suspend()
  }
}
