/**
 * HtlcNode: one participant of a multi-hop payment network — a
 * payment-channel ChannelNode whose states carry HTLCs, plus the HTLC logic
 * around it: offering, forwarding, settling and failing HTLCs off chain, and
 * resolving them on chain when a peer does not cooperate.
 *
 * Off chain (every step a countersigned update of ChannelNode, checked by the
 * peer's `htlcPolicy`):
 *   sender    sendPayment(hash, route): `add` instructions, then the add update
 *   hop       on a fully signed state with a new incoming HTLC and its
 *             instructions: checks (fee ≥ its policy, incoming − outgoing
 *             expiry ≥ its cltv delta, outgoing expiry not too soon, incoming
 *             not too far, outgoing balance) and offers the next HTLC, or
 *             fails the incoming one with a BOLT 4 code
 *   receiver  knows the preimage (invoice): `fulfill`, then the settle update
 *   back      a hop that learns the preimage (fulfil message or L1) settles its
 *             incoming HTLC at once; a failure travels back the same way
 *
 * On chain (checked on every L1 block, `onBlock`):
 *   - an incoming HTLC whose preimage we know and that is still pending when
 *     the height reaches expiry − (dispute window + margin): force-close,
 *     finalize after the window, claim with the preimage (which publishes it);
 *   - an outgoing HTLC still pending at its expiry: propose a fail (refund)
 *     off chain; after `refundGrace` more blocks force-close and refund on
 *     chain. Its incoming HTLC is failed back at the expiry already: from then
 *     on the downstream peer can take the money neither on chain (the
 *     adjudicator pays a preimage only before the expiry) nor off chain (our
 *     policy refuses a late settle);
 *   - a preimage revealed on L1 (`PreimageRevealed`) for one of our outgoing
 *     HTLCs: settle the matching incoming HTLC (off chain, or on chain as above);
 *   - a disputed channel past its deadline: finalize.
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
  bytesEqual,
  decode,
  describe,
  encode,
  nodeVerifier,
  sha256,
  toHex,
} from '@l2bench/core'
import type { Head, L1, L1Event, Receipt, Unsubscribe, Wallet } from '@l2bench/l1-mock'
import {
  ChannelNode,
  type ChannelStore,
  type Link,
  type LockedEntry,
  MemoryStore,
  type PartyIndex,
  type ChannelState,
  type SignedState,
  channelIdHex,
  other,
} from '@l2bench/payment-channel'
import { feeMsat } from '../graph/fees.ts'
import { MAX_TOTAL_CLTV_EXPIRY, MIN_FINAL_CLTV_EXPIRY_DELTA } from '../routing/route.ts'
import { EXPIRY_TOO_SOON_BLOCKS, type FailureCode } from '../sim/hop.ts'
import type { HtlcAdjudicator, RevealedPreimage } from './adjudicator.ts'
import { HtlcRejectedError } from './errors.ts'
import {
  DEFAULT_HTLC_LIMITS,
  type HtlcLimits,
  buildAdd,
  buildFail,
  buildSettle,
  checkExpiry,
  checkHash,
  checkPreimage,
  htlcPolicy,
  lockIdFor,
} from './state.ts'
import {
  type HtlcRecordData,
  type HtlcStore,
  type HtlcStoreKind,
  MemoryHtlcStore,
  counterCodec,
  failureCodec,
  htlcRecordCodec,
  instructionsCodec,
  invoiceCodec,
} from './store.ts'
import { type HtlcWireMessage, MAX_HOPS, type WireHop, decodeHtlcMessage, encodeHtlcMessage } from './wire.ts'

/** What a node asks for forwarding over one of its channels (BOLT 7 channel_update fields). */
export interface ForwardingPolicy {
  baseFee: bigint
  feeRatePpm: bigint
  cltvDelta: number
}

export const DEFAULT_FORWARDING: ForwardingPolicy = { baseFee: 1000n, feeRatePpm: 1n, cltvDelta: 40 }

export interface HtlcNodeOptions {
  signer: Signer
  wallet: Wallet
  adjudicator: HtlcAdjudicator
  store?: ChannelStore
  verifier?: Verifier
  /** Default forwarding policy of every channel (per channel: setForwardingPolicy). */
  forwarding?: Partial<ForwardingPolicy>
  /** Expiry bounds for HTLCs the peer adds (default: min 18 blocks ahead, max 2016). */
  limits?: Partial<HtlcLimits>
  /** Final node: smallest expiry − height accepted (default 18). */
  minFinalDelta?: number
  /**
   * Blocks on top of the dispute window kept in hand when going on chain to
   * claim (default 6: register, finalize and claim each take a block, plus slack).
   * A forwarding policy's cltv delta must exceed dispute window + margin.
   */
  onChainMargin?: number
  /** Blocks after an outgoing HTLC's expiry the peer has to fail it off chain before we close (default 2). */
  refundGrace?: number
  /** Test hook: the receiver accepts HTLCs for its invoices but never reveals the preimage (ATTACKS 12). */
  withholdPreimages?: boolean
  /** Receives every fully signed state too (e.g. a Watchtower's handOff). */
  onSignedState?: (s: SignedState) => void
  /** Durable HTLC bookkeeping (default in memory); with the ChannelStore, what a restart recovers from. */
  htlcStore?: HtlcStore
  /** Run the on-chain checks on every L1 block (default true; the channel-backed Forwarder turns it off and resolves on chain itself). */
  watchChain?: boolean
}

/** One hop of a route as the sender hands it out: the HTLC on `channelId`. */
export interface HtlcRouteHop {
  channelId: Uint8Array
  amount: Amount
  expiry: bigint
}

export interface PaymentFailure {
  code: FailureCode | string
  /** Node that failed the payment (the one that could not forward, or the receiver). */
  reporter: Address
}

export type PaymentOutcome =
  | { status: 'settled'; preimage: Uint8Array; onChain: boolean }
  | { status: 'failed'; failure: PaymentFailure; onChain: boolean }

type Status = 'offering' | 'pending' | 'settled' | 'failed'

interface Htlc {
  key: string
  chanKey: string
  channelId: Uint8Array
  entry: LockedEntry
  /** Offered to us. */
  incoming: boolean
  status: Status
  onChain: boolean
  /** Incoming: route instructions once received. */
  onward?: WireHop[]
  finalAmount?: Amount
  processed: boolean
  /** Outgoing: the incoming HTLC it serves (its key). */
  from?: string
  /** Outgoing: the sender's payment waiting for it. */
  payment?: (o: PaymentOutcome) => void
  failure?: PaymentFailure
  /** A settle/fail proposal of ours is in flight. */
  proposing: boolean
  /** Outgoing: its incoming HTLC was already failed back at expiry. */
  releasedUpstream: boolean
}

interface Channel {
  channelId: Uint8Array
  key: string
  peer: Address
  me: PartyIndex
  locked: readonly LockedEntry[]
  balances: readonly [Amount, Amount]
  forwarding: ForwardingPolicy
  /** An on-chain step (register / finalize) is under way. */
  closing: boolean
  finalizing: boolean
}

/** Everything a node earned, paid, sent and received, for ledgers and conservation checks. */
export interface HtlcLedger {
  sent: Amount
  received: Amount
  feesPaid: Amount
  feesEarned: Amount
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
  private readonly limits: HtlcLimits
  private readonly minFinalDelta: number
  private readonly onChainMargin: number
  private readonly refundGrace: number
  private readonly defaultForwarding: ForwardingPolicy
  private readonly channels = new Map<string, Channel>()
  private readonly htlcs = new Map<string, Htlc>()
  private readonly preimages = new Map<string, Uint8Array>()
  private readonly invoices = new Map<string, { preimage: Uint8Array; amount: Amount }>()
  private readonly instructions = new Map<string, { onward: WireHop[]; finalAmount: Amount }>()
  private readonly failures = new Map<string, PaymentFailure>()
  private readonly htlcLinks = new Map<Address, Link>()
  private readonly unsubscribe: Unsubscribe[] = []
  private counter = 0
  readonly htlcStore: HtlcStore
  /** While true, a receiver accepts HTLCs for its invoices but reveals no preimage (ATTACKS 12; tests). */
  withholding: boolean
  private readonly released = new Set<string>()
  private chainQueue: Promise<void> = Promise.resolve()
  private stopped = false

  constructor(readonly options: HtlcNodeOptions) {
    this.address = options.signer.address
    this.wallet = options.wallet
    this.l1 = options.wallet.l1
    this.adjudicator = options.adjudicator
    this.limits = { ...DEFAULT_HTLC_LIMITS, ...options.limits }
    this.minFinalDelta = options.minFinalDelta ?? MIN_FINAL_CLTV_EXPIRY_DELTA
    this.onChainMargin = options.onChainMargin ?? 6
    this.refundGrace = options.refundGrace ?? 2
    this.defaultForwarding = { ...DEFAULT_FORWARDING, ...options.forwarding }
    this.withholding = options.withholdPreimages === true
    this.htlcStore = options.htlcStore ?? new MemoryHtlcStore()
    const policy = htlcPolicy({
      height: () => this.height(),
      preimageFor: (hash) => this.preimages.get(toHex(hash)),
      limits: this.limits,
    })
    this.channel = new ChannelNode({
      signer: options.signer,
      wallet: options.wallet,
      adjudicator: options.adjudicator,
      store: options.store ?? new MemoryStore(),
      verifier: options.verifier ?? nodeVerifier,
      policy,
      policyReplacesDefault: true,
      timers: false,
      onSignedState: (s) => {
        this.onSignedState(s)
        options.onSignedState?.(s)
      },
    })
    const l1 = this.l1 as L1 & {
      subscribe(f: object, cb: (e: L1Event) => void, o?: { owner?: Address }): Unsubscribe
      onBlock?: (cb: (h: Head) => void) => Unsubscribe
    }
    this.unsubscribe.push(l1.subscribe({ address: options.adjudicator.address }, (e) => this.onL1Event(e), { owner: this.wallet.address }))
    if (options.watchChain !== false && typeof l1.onBlock === 'function') this.unsubscribe.push(l1.onBlock(() => this.scheduleChainCheck()))
    this.recover()
  }

  /** A stopped node writes nothing (as a dead process would not), even from continuations still running. */
  private put(kind: HtlcStoreKind, key: string, value: Uint8Array | undefined): void {
    if (!this.stopped) this.htlcStore.put(kind, key, value)
  }

  private save(rec: Htlc): void {
    const data: HtlcRecordData = {
      channelId: rec.channelId,
      entry: rec.entry,
      incoming: rec.incoming,
      status: rec.status,
      onChain: rec.onChain,
      processed: rec.processed,
      onward: rec.onward,
      finalAmount: rec.finalAmount,
      from: rec.from,
      releasedUpstream: rec.releasedUpstream,
      failure: rec.failure === undefined ? undefined : { code: String(rec.failure.code).slice(0, 64), reporter: rec.failure.reporter },
    }
    this.put('htlc', rec.key, encode(htlcRecordCodec, data))
  }

  private setPreimage(hash: Uint8Array, preimage: Uint8Array): void {
    const k = toHex(hash)
    if (this.preimages.has(k)) return
    // Durable before anything (our policy accepting a settle) relies on it.
    this.put('preimage', k, preimage)
    this.preimages.set(k, preimage.slice())
  }

  /**
   * Restart: reloads the HTLC records and reconciles them with the channel
   * states ChannelNode restored — HTLCs that left a state while we were down
   * are resolved, new incoming ones recorded — then resumes what was under way
   * (forwarding with received instructions, settling with known preimages).
   */
  private recover(): void {
    const st = this.htlcStore
    for (const [k, v] of st.all('preimage')) this.preimages.set(k, v)
    for (const [k, v] of st.all('invoice')) this.invoices.set(k, decode(invoiceCodec, v))
    for (const [k, v] of st.all('instructions')) this.instructions.set(k, decode(instructionsCodec, v))
    for (const [k, v] of st.all('failure')) this.failures.set(k, decode(failureCodec, v))
    for (const [k, v] of st.all('meta')) if (k === 'counter') this.counter = Number(decode(counterCodec, v))
    for (const [key, v] of st.all('htlc')) {
      const d = decode(htlcRecordCodec, v)
      const rec: Htlc = {
        key,
        chanKey: key.split(':')[0] as string,
        channelId: d.channelId,
        entry: d.entry,
        incoming: d.incoming,
        status: d.status,
        onChain: d.onChain,
        processed: d.processed,
        proposing: false,
        releasedUpstream: d.releasedUpstream,
        ...(d.onward === undefined ? {} : { onward: d.onward }),
        ...(d.finalAmount === undefined ? {} : { finalAmount: d.finalAmount }),
        ...(d.from === undefined ? {} : { from: d.from }),
        ...(d.failure === undefined ? {} : { failure: d.failure }),
      }
      this.htlcs.set(key, rec)
    }
    if (this.htlcs.size === 0 && this.channel.channelIds().length === 0) return
    for (const id of this.channel.channelIds()) {
      const ch = this.track(id)
      const m = this.channel.machine(id)
      const inState = new Set(m.latest.state.locked.map((e) => `${ch.key}:${channelIdHex(e.id)}`))
      const inProposal = new Set((m.pending?.state.locked ?? []).map((e) => `${ch.key}:${channelIdHex(e.id)}`))
      for (const rec of this.htlcs.values()) {
        if (rec.chanKey !== ch.key || rec.status === 'settled' || rec.status === 'failed') continue
        if (inState.has(rec.key)) {
          if (rec.status === 'offering') rec.status = 'pending'
          this.save(rec)
          continue
        }
        if (rec.status === 'offering' && inProposal.has(rec.key)) continue // our add may still be countersigned
        // Left the state while we were down (or never made it): the preimage tells which way.
        this.resolved(rec, rec.status === 'pending' && this.preimages.has(toHex(rec.entry.hash)) ? 'settled' : 'failed', false)
      }
      for (const e of m.latest.state.locked) {
        const key = `${ch.key}:${channelIdHex(e.id)}`
        if (this.htlcs.has(key) || e.direction === ch.me) continue
        const rec: Htlc = { key, chanKey: ch.key, channelId: ch.channelId, entry: e, incoming: true, status: 'pending', onChain: false, processed: false, proposing: false, releasedUpstream: false }
        this.htlcs.set(key, rec)
        this.save(rec)
      }
    }
    queueMicrotask(() => {
      for (const rec of this.htlcs.values()) {
        if (!rec.incoming || rec.status !== 'pending') continue
        if (!rec.processed) this.processIncoming(rec)
        else if (this.preimages.has(toHex(rec.entry.hash)) && !this.withholding) this.settleIncoming(rec)
      }
    })
  }

  height(): number {
    return this.l1.head().height
  }

  // ------------------------------------------------------------------ links

  /** Attaches the two links to one peer: the channel protocol's and ours. */
  attach(channelLink: Link, htlcLink: Link): void {
    this.channel.attach(channelLink)
    let peer: Address | undefined
    htlcLink.onOpen(() => htlcLink.send(encodeHtlcMessage({ type: 'hello', address: this.address })))
    htlcLink.onFrame((frame) => {
      if (this.stopped) return
      try {
        const msg = decodeHtlcMessage(frame)
        if (msg.type === 'hello') {
          peer = msg.address
          this.htlcLinks.set(peer, htlcLink)
          this.resendFulfils(peer)
          return
        }
        if (peer === undefined) throw new InvalidInputError('type', `${msg.type} before hello`)
        this.onMessage(peer, msg)
      } catch (err) {
        this.record(err)
      }
    })
  }

  private send(peer: Address, msg: HtlcWireMessage): void {
    this.htlcLinks.get(peer)?.send(encodeHtlcMessage(msg))
  }

  private record(err: unknown): void {
    const e = err instanceof L2Error ? err : new L2Error('INTERNAL', String((err as Error)?.message ?? err), { cause: err })
    this.errors.push(e)
    if (this.errors.length > 1000) this.errors.shift()
  }

  // ------------------------------------------------------------------ channels

  /** Opens a channel (as A) with a connected peer and registers it for HTLCs. */
  async openChannel(p: Parameters<ChannelNode['open']>[0] & { forwarding?: Partial<ForwardingPolicy> }): Promise<`0x${string}`> {
    const id = await this.channel.open(p)
    const ch = this.track(id)
    if (p.forwarding !== undefined) ch.forwarding = { ...ch.forwarding, ...p.forwarding }
    return id
  }

  /** Starts tracking a channel opened by the peer (B side); called lazily on its first signed state. */
  private track(id: `0x${string}` | Uint8Array): Channel {
    const s = this.channel.status(id)
    const key = s.channelId.slice(2)
    let ch = this.channels.get(key)
    if (ch === undefined) {
      const m = this.channel.machine(id)
      ch = {
        channelId: m.params.channelId,
        key,
        peer: s.peer,
        me: s.me,
        locked: m.latest.state.locked,
        balances: m.latest.state.balances,
        forwarding: { ...this.defaultForwarding },
        closing: false,
        finalizing: false,
      }
      this.channels.set(key, ch)
    }
    return ch
  }

  /** Sets what this node charges and requires for forwarding onto `channelId`. */
  setForwardingPolicy(channelId: `0x${string}` | Uint8Array, policy: Partial<ForwardingPolicy>): void {
    const ch = this.track(channelId)
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
    this.invoices.set(toHex(hash), { preimage: preimage.slice(), amount })
    this.put('invoice', toHex(hash), encode(invoiceCodec, { preimage, amount }))
    return { hash, preimage: preimage.slice() }
  }

  /** Stops withholding: settles every pending HTLC paying one of our invoices (off chain, or on chain near its expiry). */
  releasePreimages(): void {
    this.withholding = false
    this.release(undefined)
  }

  /** Stops withholding the preimage of one invoice (the others stay withheld while `withholding`). */
  releasePreimage(hash: Uint8Array): void {
    checkHash('hash', hash)
    this.released.add(toHex(hash))
    this.release(hash)
  }

  private release(hash: Uint8Array | undefined): void {
    for (const rec of this.htlcs.values()) {
      if (!rec.incoming || rec.status !== 'pending' || rec.onward === undefined || rec.onward.length > 0) continue
      if (hash !== undefined && !bytesEqual(hash, rec.entry.hash)) continue
      const inv = this.invoices.get(toHex(rec.entry.hash))
      if (inv === undefined) continue
      this.setPreimage(rec.entry.hash, inv.preimage)
      this.settleIncoming(rec)
    }
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
      const ch = this.channels.get(channelIdHex(first.channelId)) ?? this.track(first.channelId)
      const capacity = this.channel.status(ch.channelId).total
      if (first.amount > capacity) throw new HtlcRejectedError('HTLC_AMOUNT', 'route[0].amount', `amount ${first.amount} exceeds the channel capacity ${capacity}`)
      const last = route[route.length - 1] as HtlcRouteHop
      return new Promise<PaymentOutcome>((resolve, reject) => {
        this.offer(ch, { amount: first.amount, hash, expiry: first.expiry, onward: route.slice(1).map((x) => ({ ...x })), finalAmount: last.amount }, undefined, resolve)
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

  /**
   * Offers an HTLC on `ch`: instructions first, then the add update.
   * Returns a failure code when it cannot be offered (nothing changed).
   */
  private async offer(
    ch: Channel,
    h: { amount: Amount; hash: Uint8Array; expiry: bigint; onward: WireHop[]; finalAmount: Amount },
    from: string | undefined,
    payment: ((o: PaymentOutcome) => void) | undefined,
    instructions = true,
    out?: { lockId?: Uint8Array },
  ): Promise<FailureCode | undefined> {
    const status = this.channel.status(ch.channelId)
    if (status.phase !== 'open' || ch.closing) return 'permanent_channel_failure'
    if (status.myBalance < h.amount) return 'temporary_channel_failure'
    const id = lockIdFor(this.address, this.counter++)
    this.put('meta', 'counter', encode(counterCodec, BigInt(this.counter)))
    if (out !== undefined) out.lockId = id
    const key = `${ch.key}:${channelIdHex(id)}`
    const entry: LockedEntry = { id, amount: h.amount, direction: ch.me, hash: h.hash, expiry: h.expiry }
    const rec: Htlc = {
      key,
      chanKey: ch.key,
      channelId: ch.channelId,
      entry,
      incoming: false,
      status: 'offering',
      onChain: false,
      processed: true,
      proposing: false,
      releasedUpstream: false,
      ...(from === undefined ? {} : { from }),
      ...(payment === undefined ? {} : { payment }),
    }
    this.htlcs.set(key, rec)
    this.save(rec) // before the peer hears of it: after a restart we must know what it serves
    if (instructions) this.send(ch.peer, { type: 'add', channelId: ch.channelId, lockId: id, onward: h.onward, finalAmount: h.finalAmount })
    const refusals = refusalCounter()
    try {
      await this.channel.update(ch.channelId, (latest) => {
        // A rebuilt proposal after a crossing is fine; one refused again and again is not.
        if (refusals(latest) > 4) throw new HtlcRejectedError('HTLC_POLICY', 'state', 'the peer keeps refusing this HTLC')
        return buildAdd(latest, ch.me, { id, amount: h.amount, hash: h.hash, expiry: h.expiry }, this.height(), this.limits)
      })
    } catch (err) {
      if (rec.status === 'offering') this.htlcs.delete(key)
      this.record(err)
      if (err instanceof HtlcRejectedError && err.code === 'HTLC_EXPIRY') return 'expiry_too_soon'
      if (err instanceof HtlcRejectedError && err.code === 'HTLC_AMOUNT') return 'temporary_channel_failure'
      return 'temporary_channel_failure'
    }
    if (rec.status === 'offering') {
      rec.status = 'pending'
      this.save(rec)
    }
    return undefined
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
    const ch = this.track(channelId)
    if (typeof h.amount !== 'bigint' || h.amount <= 0n) throw new HtlcRejectedError('HTLC_AMOUNT', 'amount', `expected a positive bigint, got ${describe(h.amount)}`)
    checkHash('hash', h.hash)
    checkExpiry('expiry', h.expiry, this.height(), this.limits)
    const out: { lockId?: Uint8Array } = {}
    const code = await this.offer(ch, { ...h, onward: [], finalAmount: h.amount }, undefined, undefined, false, out)
    if (code !== undefined) return { ok: false, code }
    return { ok: true, lockId: out.lockId as Uint8Array }
  }

  private incomingRecord(channelId: `0x${string}` | Uint8Array, lockId: Uint8Array): Htlc {
    const ch = this.track(channelId)
    if (!(lockId instanceof Uint8Array) || lockId.length !== 32) throw new HtlcRejectedError('HTLC_UNKNOWN', 'lockId', 'expected a 32-byte lock id')
    const rec = this.htlcs.get(`${ch.key}:${channelIdHex(lockId)}`)
    if (rec === undefined || !rec.incoming) throw new HtlcRejectedError('HTLC_UNKNOWN', 'lockId', 'no incoming HTLC with this id')
    return rec
  }

  /** Settles an HTLC offered to us with its preimage: off chain, or by a claim on L1 if the channel is closed. */
  async settleHtlc(channelId: `0x${string}` | Uint8Array, lockId: Uint8Array, preimage: Uint8Array): Promise<void> {
    const rec = this.incomingRecord(channelId, lockId)
    checkPreimage('preimage', preimage, rec.entry.hash)
    if (rec.status === 'settled') return
    if (rec.status !== 'pending') throw new HtlcRejectedError('HTLC_UNKNOWN', 'lockId', `HTLC already ${rec.status}`)
    rec.processed = true
    this.setPreimage(rec.entry.hash, preimage)
    this.save(rec)
    const ch = this.channels.get(rec.chanKey) as Channel
    if (this.channel.status(ch.channelId).phase === 'open') {
      await this.propose(ch, rec, (latest) => buildSettle(latest, ch.me, rec.entry.id, preimage, this.height()), {
        type: 'fulfill',
        channelId: ch.channelId,
        lockId: rec.entry.id,
        preimage,
      })
      return
    }
    const r = await this.channel.client.resolveLocked(ch.channelId, rec.entry.id, preimage)
    this.receipts.push(r)
  }

  /** Fails an HTLC offered to us (its amount returns to the offerer), off chain; on a closed channel the offerer refunds it after expiry. */
  async failHtlc(channelId: `0x${string}` | Uint8Array, lockId: Uint8Array): Promise<void> {
    const rec = this.incomingRecord(channelId, lockId)
    if (rec.status === 'failed') return
    if (rec.status !== 'pending') throw new HtlcRejectedError('HTLC_UNKNOWN', 'lockId', `HTLC already ${rec.status}`)
    rec.processed = true
    this.save(rec)
    const ch = this.channels.get(rec.chanKey) as Channel
    if (this.channel.status(ch.channelId).phase !== 'open') throw new HtlcRejectedError('HTLC_POLICY', 'channelId', 'channel is closed: the offerer refunds on chain after expiry')
    await this.propose(ch, rec, (latest) => buildFail(latest, ch.me, rec.entry.id, this.height()), {
      type: 'fail',
      channelId: ch.channelId,
      lockId: rec.entry.id,
      code: 'temporary_channel_failure',
      reporter: this.address,
    })
  }

  /** Refunds an expired HTLC we offered on a closed channel (on L1). */
  async refundOnChain(channelId: `0x${string}` | Uint8Array, lockId: Uint8Array): Promise<void> {
    const ch = this.track(channelId)
    const r = await this.channel.client.resolveLocked(ch.channelId, lockId)
    this.receipts.push(r)
  }

  /**
   * Proposes a settle / fail of `rec` through the channel. `announce` (the
   * fulfil or fail message) is sent before every attempt, so a re-proposal
   * after a refusal or a crossing finds the peer informed. A proposal refused
   * again and again gives up (the request rejects); the block checks retry.
   */
  private propose(ch: Channel, rec: Htlc, build: (latest: ChannelState) => ChannelState, announce?: HtlcWireMessage): Promise<void> {
    rec.proposing = true
    const refusals = refusalCounter()
    return this.channel
      .update(ch.channelId, (latest) => {
        if (refusals(latest) > 4) throw new HtlcRejectedError('HTLC_POLICY', 'state', 'the peer keeps refusing this update')
        if (announce !== undefined) this.send(ch.peer, announce)
        return build(latest)
      })
      .then(
        () => {
          rec.proposing = false
        },
        (err) => {
          rec.proposing = false
          throw err
        },
      )
  }

  /** Blocks an on-chain claim takes from now: register, the dispute window, finalize, claim, plus the margin. */
  private claimBlocks(ch: Channel): bigint {
    return BigInt(this.channel.machine(ch.channelId).params.disputeWindow + this.onChainMargin)
  }

  /** A peer (re)connected: repeat the fulfil messages of settles still in flight on our open channels with it. */
  private resendFulfils(peer: Address): void {
    for (const rec of this.htlcs.values()) {
      if (!rec.incoming || rec.status !== 'pending' || !rec.proposing) continue
      const ch = this.channels.get(rec.chanKey)
      const pre = this.preimages.get(toHex(rec.entry.hash))
      if (ch === undefined || ch.peer !== peer || pre === undefined) continue
      if (this.channel.status(ch.channelId).phase !== 'open' || BigInt(this.height()) + this.claimBlocks(ch) >= rec.entry.expiry) continue
      this.send(peer, { type: 'fulfill', channelId: ch.channelId, lockId: rec.entry.id, preimage: pre })
    }
  }

  // ------------------------------------------------------------------ messages

  private onMessage(peer: Address, msg: HtlcWireMessage): void {
    if (msg.type === 'hello') return
    const chanKey = channelIdHex(msg.channelId)
    const ch = this.channels.get(chanKey) ?? (this.channel.channelIds().includes(`0x${chanKey}`) ? this.track(msg.channelId) : undefined)
    if (ch === undefined || ch.peer !== peer) throw new HtlcRejectedError('HTLC_UNKNOWN', 'channelId', 'no such channel with this peer')
    const key = `${chanKey}:${channelIdHex(msg.lockId)}`
    switch (msg.type) {
      case 'add': {
        this.instructions.set(key, { onward: msg.onward, finalAmount: msg.finalAmount })
        this.put('instructions', key, encode(instructionsCodec, { onward: msg.onward, finalAmount: msg.finalAmount }))
        const rec = this.htlcs.get(key)
        if (rec !== undefined) this.processIncoming(rec)
        return
      }
      case 'fulfill': {
        const rec = this.htlcs.get(key)
        if (rec === undefined || rec.incoming) throw new HtlcRejectedError('HTLC_UNKNOWN', 'lockId', 'no HTLC of ours with this id')
        checkPreimage('preimage', msg.preimage, rec.entry.hash)
        this.learnPreimage(msg.preimage, false)
        return
      }
      case 'fail': {
        this.failures.set(key, { code: msg.code, reporter: msg.reporter })
        this.put('failure', key, encode(failureCodec, { code: msg.code, reporter: msg.reporter }))
        return
      }
    }
  }

  // ------------------------------------------------------------------ signed states

  private onSignedState(s: SignedState): void {
    if (this.stopped) return
    const key = channelIdHex(s.state.channelId)
    let ch = this.channels.get(key)
    if (ch === undefined) {
      try {
        ch = this.track(s.state.channelId)
      } catch (err) {
        this.record(err)
        return
      }
    }
    const prevLocked = ch.locked
    const prevBal = ch.balances
    ch.locked = s.state.locked
    ch.balances = s.state.balances
    const now = new Set(s.state.locked.map((e) => channelIdHex(e.id)))
    const before = new Set(prevLocked.map((e) => channelIdHex(e.id)))
    for (const e of s.state.locked) {
      const lk = channelIdHex(e.id)
      if (before.has(lk)) continue
      const hk = `${key}:${lk}`
      if (e.direction === ch.me) {
        const rec = this.htlcs.get(hk)
        if (rec !== undefined && rec.status === 'offering') {
          rec.status = 'pending'
          this.save(rec)
        }
        continue
      }
      const rec: Htlc = {
        key: hk,
        chanKey: key,
        channelId: ch.channelId,
        entry: e,
        incoming: true,
        status: 'pending',
        onChain: false,
        processed: false,
        proposing: false,
        releasedUpstream: false,
      }
      this.htlcs.set(hk, rec)
      this.save(rec)
      queueMicrotask(() => this.processIncoming(rec))
    }
    const peer = other(ch.me)
    for (const e of prevLocked) {
      const lk = channelIdHex(e.id)
      if (now.has(lk)) continue
      const rec = this.htlcs.get(`${key}:${lk}`)
      if (rec === undefined || rec.status === 'settled' || rec.status === 'failed') continue
      // One HTLC change per update: the side whose balance grew by the amount got it.
      const toPeer = s.state.balances[peer] - prevBal[peer] === e.amount && s.state.balances[ch.me] === prevBal[ch.me]
      const toMe = s.state.balances[ch.me] - prevBal[ch.me] === e.amount && s.state.balances[peer] === prevBal[peer]
      const receiverGotIt = rec.incoming ? toMe : toPeer
      const offererGotIt = rec.incoming ? toPeer : toMe
      if (receiverGotIt) this.resolved(rec, 'settled', false)
      else if (offererGotIt) this.resolved(rec, 'failed', false)
      else this.resolved(rec, this.preimages.has(toHex(e.hash)) ? 'settled' : 'failed', false)
    }
  }

  /** An HTLC left the channel (off or on chain): account and propagate. */
  private resolved(rec: Htlc, how: 'settled' | 'failed', onChain: boolean): void {
    if (rec.status === 'settled' || rec.status === 'failed') return
    rec.status = how
    rec.onChain = onChain
    rec.proposing = false
    this.save(rec)
    if (rec.incoming) {
      if (how === 'settled') {
        // Final: what we were paid. Forwarded: the incoming side of a fee (see the outgoing side below).
        if (rec.onward !== undefined && rec.onward.length === 0) this.ledger.received += rec.entry.amount
        else this.ledger.feesEarned += rec.entry.amount
      }
      return
    }
    if (how === 'settled') {
      if (rec.from !== undefined) this.ledger.feesEarned -= rec.entry.amount
      const pre = this.preimages.get(toHex(rec.entry.hash))
      rec.payment?.({ status: 'settled', preimage: pre ?? new Uint8Array(), onChain })
      return
    }
    const failure = this.failures.get(rec.key) ?? { code: onChain ? 'htlc_timed_out' : 'temporary_channel_failure', reporter: this.peerOf(rec) }
    rec.failure = failure
    this.save(rec)
    rec.payment?.({ status: 'failed', failure, onChain })
    if (rec.from !== undefined && !rec.releasedUpstream) {
      const up = this.htlcs.get(rec.from)
      if (up !== undefined) this.failIncoming(up, failure)
    }
  }

  private peerOf(rec: Htlc): Address {
    return (this.channels.get(rec.chanKey) as Channel).peer
  }

  // ------------------------------------------------------------------ forwarding

  private processIncoming(rec: Htlc): void {
    if (rec.processed || rec.status !== 'pending' || this.stopped) return
    const instr = this.instructions.get(rec.key)
    if (instr === undefined) return // wait for them; without any the offerer times the HTLC out
    rec.processed = true
    rec.onward = instr.onward
    rec.finalAmount = instr.finalAmount
    this.save(rec)
    this.instructions.delete(rec.key)
    this.put('instructions', rec.key, undefined)
    const e = rec.entry
    const h = this.height()
    if (instr.onward.length === 0) {
      const inv = this.invoices.get(toHex(e.hash))
      let code: FailureCode | undefined
      if (inv === undefined) code = 'incorrect_or_unknown_payment_details'
      else if (e.amount < instr.finalAmount || e.amount < inv.amount) code = 'final_incorrect_htlc_amount'
      else if (e.expiry < BigInt(h + this.minFinalDelta)) code = 'incorrect_or_unknown_payment_details'
      if (code !== undefined) {
        this.failIncoming(rec, { code, reporter: this.address })
        return
      }
      if (this.withholding && !this.released.has(toHex(e.hash))) return
      this.setPreimage(e.hash, (inv as { preimage: Uint8Array }).preimage)
      this.settleIncoming(rec)
      return
    }
    const hop = instr.onward[0] as WireHop
    const outKey = channelIdHex(hop.channelId)
    const out = this.channels.get(outKey) ?? (this.channel.channelIds().includes(`0x${outKey}`) ? this.track(hop.channelId) : undefined)
    let code: FailureCode | undefined
    if (out === undefined || outKey === rec.chanKey) code = 'unknown_next_peer'
    else {
      const p = out.forwarding
      if (e.amount - hop.amount < feeMsat(p.baseFee, p.feeRatePpm, hop.amount)) code = 'fee_insufficient'
      else if (e.expiry - hop.expiry < BigInt(p.cltvDelta)) code = 'incorrect_cltv_expiry'
      else if (hop.expiry <= BigInt(h + Math.max(EXPIRY_TOO_SOON_BLOCKS, this.limits.minExpiryDelta))) code = 'expiry_too_soon'
      else if (e.expiry > BigInt(h + Math.min(this.limits.maxExpiryDelta, MAX_TOTAL_CLTV_EXPIRY))) code = 'expiry_too_far'
    }
    if (code !== undefined) {
      this.failIncoming(rec, { code, reporter: this.address })
      return
    }
    const target = out as Channel
    void this.offer(target, { amount: hop.amount, hash: e.hash, expiry: hop.expiry, onward: instr.onward.slice(1), finalAmount: instr.finalAmount }, rec.key, undefined)
      .then((c) => {
        if (c !== undefined) this.failIncoming(rec, { code: c, reporter: this.address })
      })
      .catch((err) => {
        this.record(err)
        this.failIncoming(rec, { code: 'temporary_channel_failure', reporter: this.address })
      })
  }

  private settleIncoming(rec: Htlc): void {
    const pre = this.preimages.get(toHex(rec.entry.hash))
    if (pre === undefined || rec.status !== 'pending' || rec.proposing) return
    const ch = this.channels.get(rec.chanKey) as Channel
    if (this.channel.status(ch.channelId).phase !== 'open') return // on chain: see chainCheck
    // Reveal off chain only while an on-chain claim would still fit before the expiry: if the
    // peer took the preimage and then refused the settle (or closed the channel), we must still
    // be able to claim. Later, the preimage goes out only in a claim transaction, which pays us.
    if (BigInt(this.height()) + this.claimBlocks(ch) >= rec.entry.expiry) return
    this.propose(ch, rec, (latest) => buildSettle(latest, ch.me, rec.entry.id, pre, this.height()), {
      type: 'fulfill',
      channelId: ch.channelId,
      lockId: rec.entry.id,
      preimage: pre,
    }).catch((err) => this.record(err))
  }

  private failIncoming(rec: Htlc, failure: PaymentFailure): void {
    if (rec.status !== 'pending' || rec.proposing) return
    const ch = this.channels.get(rec.chanKey) as Channel
    if (this.channel.status(ch.channelId).phase !== 'open') return // the offerer refunds on chain after expiry
    this.propose(ch, rec, (latest) => buildFail(latest, ch.me, rec.entry.id, this.height()), {
      type: 'fail',
      channelId: ch.channelId,
      lockId: rec.entry.id,
      code: String(failure.code).slice(0, 64),
      reporter: failure.reporter,
    }).catch((err) => this.record(err))
  }

  /** The offerer takes an expired HTLC back off chain (the peer's policy agrees from the expiry on). */
  private refundOffChain(rec: Htlc): void {
    if (rec.status !== 'pending' || rec.proposing) return
    const ch = this.channels.get(rec.chanKey) as Channel
    if (this.channel.status(ch.channelId).phase !== 'open') return
    this.propose(ch, rec, (latest) => buildFail(latest, ch.me, rec.entry.id, this.height())).catch((err) => this.record(err))
  }

  /** A preimage for one of our outgoing HTLCs became known: settle what it serves. */
  private learnPreimage(preimage: Uint8Array, fromChain: boolean): void {
    const hash = sha256(preimage)
    const hk = toHex(hash)
    if (!this.preimages.has(hk)) this.setPreimage(hash, preimage)
    for (const rec of this.htlcs.values()) {
      if (rec.incoming || !bytesEqual(rec.entry.hash, hash)) continue
      if (rec.from !== undefined) {
        const up = this.htlcs.get(rec.from)
        if (up !== undefined) this.settleIncoming(up)
      }
    }
    if (fromChain) this.scheduleChainCheck()
  }

  // ------------------------------------------------------------------ L1

  private onL1Event(e: L1Event): void {
    if (this.stopped) return
    try {
      if (e.name === 'PreimageRevealed') {
        const pre = e.data.preimage
        if (pre instanceof Uint8Array && pre.length === 32) this.learnPreimage(pre, true)
      } else if (e.name === 'LockedResolved') {
        const cid = e.data.channelId
        const lid = e.data.lockId
        if (!(cid instanceof Uint8Array) || !(lid instanceof Uint8Array)) return
        const rec = this.htlcs.get(`${channelIdHex(cid)}:${channelIdHex(lid)}`)
        if (rec === undefined) return
        const toMe = e.data.to === this.address
        this.resolved(rec, rec.incoming === toMe ? 'settled' : 'failed', true)
      }
    } catch (err) {
      this.record(err)
    }
  }

  private scheduleChainCheck(): void {
    if (this.stopped) return
    this.chainQueue = this.chainQueue.then(() => this.chainCheck()).catch((err) => this.record(err))
  }

  /** Runs the on-chain checks now (they also run on every block). Resolves when the transactions are mined. */
  poll(): Promise<void> {
    this.scheduleChainCheck()
    return this.chainQueue
  }

  private async tx(p: Promise<Receipt>): Promise<Receipt | undefined> {
    try {
      const r = await p
      this.receipts.push(r)
      return r
    } catch (err) {
      this.record(err)
      return undefined
    }
  }

  private async chainCheck(): Promise<void> {
    if (this.stopped) return
    const h = this.height()
    const hb = BigInt(h)
    const toClose = new Set<string>()
    for (const rec of this.htlcs.values()) {
      if (rec.status !== 'pending' && !(rec.status === 'offering' && !rec.incoming)) continue
      const ch = this.channels.get(rec.chanKey) as Channel
      const phase = this.channel.status(ch.channelId).phase
      const e = rec.entry
      const margin = BigInt(this.channel.machine(ch.channelId).params.disputeWindow + this.onChainMargin)
      if (rec.incoming) {
        if (!this.preimages.has(toHex(e.hash)) || hb >= e.expiry) continue
        if (phase === 'open') {
          this.settleIncoming(rec)
          if (hb + margin >= e.expiry) toClose.add(ch.key)
        }
      } else {
        if (hb < e.expiry) continue
        // Expired: downstream can no longer take it (neither the adjudicator nor our policy pays a
        // preimage from the expiry on), so it is ours again — even if its hash's preimage is known
        // (another HTLC with the same hash may have been claimed: each resolves on its own).
        if (rec.from !== undefined && !rec.releasedUpstream && !this.preimages.has(toHex(e.hash))) {
          rec.releasedUpstream = true
          this.save(rec)
          const up = this.htlcs.get(rec.from)
          if (up !== undefined) this.failIncoming(up, this.failures.get(rec.key) ?? { code: 'htlc_timed_out', reporter: ch.peer })
        }
        if (phase === 'open') {
          this.refundOffChain(rec)
          if (hb >= e.expiry + BigInt(this.refundGrace)) toClose.add(ch.key)
        }
      }
    }
    for (const key of toClose) {
      const ch = this.channels.get(key) as Channel
      if (ch.closing) continue
      ch.closing = true
      await this.tx(this.channel.forceClose({ channelId: ch.channelId }))
    }
    // Disputed channels past their deadline: finalize. Closed ones: resolve our HTLCs.
    for (const ch of this.channels.values()) {
      const pending = [...this.htlcs.values()].filter((r) => r.chanKey === ch.key && (r.status === 'pending' || r.status === 'offering'))
      if (pending.length === 0) continue
      const info = await this.channel.onChain(ch.channelId)
      if (info === undefined) continue
      // A transaction sent now is mined in the next block: finalize from the deadline on.
      if (info.phase === 'disputed' && info.dispute !== undefined && h >= info.dispute.deadline && !ch.finalizing) {
        ch.finalizing = true
        await this.tx(this.channel.finalize({ channelId: ch.channelId }))
      }
      const after = await this.channel.onChain(ch.channelId)
      if (after?.phase !== 'closed') continue
      for (const rec of pending) {
        if (rec.status !== 'pending' && rec.status !== 'offering') continue
        const onL1 = await this.l1.read<unknown>(this.adjudicator.address, 'locked', [ch.channelId, rec.entry.id])
        if (onL1 === undefined) {
          // Not in the state that closed the channel (or resolved without our noticing): the
          // balances of that state already hold the amount where it went.
          this.resolved(rec, 'failed', true)
          continue
        }
        const pre = this.preimages.get(toHex(rec.entry.hash))
        if (rec.incoming && pre !== undefined && BigInt(this.height()) + 1n < rec.entry.expiry) {
          await this.tx(this.channel.client.resolveLocked(ch.channelId, rec.entry.id, pre))
        } else if (!rec.incoming && BigInt(this.height()) >= rec.entry.expiry) {
          await this.tx(this.channel.client.resolveLocked(ch.channelId, rec.entry.id))
        }
      }
    }
  }

  /** The preimage registered on L1 for `hash`, if any. */
  async revealedOnChain(hash: Uint8Array): Promise<RevealedPreimage | undefined> {
    checkHash('hash', hash)
    return this.l1.read<RevealedPreimage | undefined>(this.adjudicator.address, 'preimage', [hash])
  }

  // ------------------------------------------------------------------ inspection

  /** HTLCs not yet resolved (both directions). */
  pendingHtlcs(): { channelId: `0x${string}`; lockId: `0x${string}`; incoming: boolean; amount: Amount; expiry: bigint; status: Status }[] {
    return [...this.htlcs.values()]
      .filter((r) => r.status === 'pending' || r.status === 'offering')
      .map((r) => ({ channelId: toHex(r.channelId), lockId: toHex(r.entry.id), incoming: r.incoming, amount: r.entry.amount, expiry: r.entry.expiry, status: r.status }))
  }

  /** Every HTLC this node has seen, resolved or not. */
  allHtlcs(): { incoming: boolean; amount: Amount; status: Status; onChain: boolean; hash: `0x${string}`; failure?: PaymentFailure }[] {
    return [...this.htlcs.values()].map((r) => ({
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
  }
}

/**
 * Counts how often a proposal is rebuilt on the same latest version. A
 * rebuild after a crossing comes on a newer version (we countersigned the
 * winner's state) and resets the count; a rebuild after a refusal comes on the
 * same one — those are what a give-up bounds.
 */
function refusalCounter(): (latest: ChannelState) => number {
  let version: bigint | undefined
  let n = 0
  return (latest) => {
    if (latest.version !== version) {
      version = latest.version
      n = 0
    }
    return ++n
  }
}
