/**
 * Forwarding: what a node does with HTLCs off chain — offer one (as sender
 * or hop), check an incoming one against its instructions and forward it or
 * fail it back, settle with a preimage, refund an expired one, and account
 * for an HTLC once it left the channel (`resolved`), off or on chain.
 *
 * Every settle, fail and refund goes through one `resolveOffChain(rec, how)`
 * with one set of guards: the record is pending, no proposal of ours is in
 * flight for it, the channel still takes off-chain updates (`offChain`, the
 * only place that reads the channel's phase), and a preimage is revealed
 * only while an on-chain claim would still fit before the expiry.
 *
 * The forwarding rule (ATTACKS 10 and 33): a hop forwards only if
 *   incoming expiry − outgoing expiry ≥ max(its cltv delta,
 *                                           upstream dispute window + on-chain margin)
 * so that after the downstream peer claims on chain at the last moment
 * (revealing the preimage just before the outgoing expiry), the hop can
 * still register, wait out the upstream dispute window, finalize and claim
 * the incoming HTLC before its expiry.
 */
import type { Address, Amount } from '@l2bench/core'
import { bytesEqual, sha256 } from '@l2bench/core'
import type { L1, Receipt } from '@l2bench/l1-mock'
import { type ChannelNode, type ChannelState, type LockedEntry, acceptsUpdates, channelIdHex } from '@l2bench/payment-channel'
import { feeMsat } from '../graph/fees.ts'
import { MAX_TOTAL_CLTV_EXPIRY } from '../routing/route.ts'
import { EXPIRY_TOO_SOON_BLOCKS, type FailureCode } from '../sim/hop.ts'
import {
  type Book,
  type ForwardingPolicy,
  type HtlcRecord,
  type Instructions,
  type PaymentFailure,
  type PaymentOutcome,
  type TrackedChannel,
  htlcKey,
  isResolved,
} from './book.ts'
import { HtlcRejectedError } from './errors.ts'
import { type HtlcLimits, buildAdd, buildFail, buildSettle } from './state.ts'
import type { HtlcWireMessage, WireHop } from './wire.ts'

/** Everything a node earned, paid, sent and received, for ledgers and conservation checks. */
export interface HtlcLedger {
  sent: Amount
  received: Amount
  feesPaid: Amount
  feesEarned: Amount
}

export interface HtlcSettings {
  limits: HtlcLimits
  minFinalDelta: number
  /** Blocks on top of a channel's dispute window kept in hand for an on-chain claim. */
  onChainMargin: number
  refundGrace: number
  defaultForwarding: ForwardingPolicy
}

/** What the parts of a node share (the facade builds it). */
export interface HtlcContext {
  readonly address: Address
  readonly channel: ChannelNode
  readonly l1: L1
  readonly book: Book
  readonly settings: HtlcSettings
  readonly ledger: HtlcLedger
  readonly receipts: Receipt[]
  height(): number
  record(err: unknown): void
  send(peer: Address, msg: HtlcWireMessage): void
  /** Both links to `peer` are up and authenticated (an HTLC is offered only to a peer that can answer). */
  peerOnline(peer: Address): boolean
  stopped(): boolean
  /** Receiver: the preimage of `hash` is withheld for now (test hook, ATTACKS 12). */
  withholds(hash: Uint8Array): boolean
}

/** Why an incoming HTLC is failed back: the BOLT 4 code, and the typed reason recorded beside it. */
interface Refusal {
  code: FailureCode
  why?: HtlcRejectedError
}

export type Resolution = { type: 'settle' } | { type: 'fail'; failure: PaymentFailure } | { type: 'refund' }

export interface OfferSpec {
  amount: Amount
  hash: Uint8Array
  expiry: bigint
  onward: WireHop[]
  finalAmount: Amount
}

export class Forwarding {
  constructor(private readonly ctx: HtlcContext) {}

  // ---------------------------------------------------------------- channels

  /** Starts tracking a channel ChannelNode knows (B learns of its channels from their first signed state). */
  track(id: `0x${string}` | Uint8Array): TrackedChannel {
    const s = this.ctx.channel.status(id)
    const key = s.channelId.slice(2)
    let ch = this.ctx.book.channels.get(key)
    if (ch === undefined) {
      ch = {
        channelId: this.ctx.channel.machine(id).params.channelId,
        key,
        peer: s.peer,
        me: s.me,
        seen: undefined,
        forwarding: { ...this.ctx.settings.defaultForwarding },
        closing: false,
        finalizing: false,
      }
      this.ctx.book.channels.set(key, ch)
    }
    return ch
  }

  /** The tracked channel `channelId`, if ChannelNode knows it. */
  known(channelId: Uint8Array): TrackedChannel | undefined {
    const key = channelIdHex(channelId)
    const ch = this.ctx.book.channels.get(key)
    if (ch !== undefined) return ch
    return this.ctx.channel.channelIds().includes(`0x${key}`) ? this.track(channelId) : undefined
  }

  channelOf(rec: HtlcRecord): TrackedChannel {
    return this.ctx.book.channels.get(rec.chanKey) ?? this.track(rec.channelId)
  }

  /**
   * Whether `ch` still takes off-chain updates (payment-channel's
   * `acceptsUpdates`, and no on-chain close of ours under way): the only place
   * that reads the channel's phase. Otherwise its HTLCs resolve on chain.
   */
  offChain(ch: TrackedChannel): boolean {
    return !ch.closing && acceptsUpdates(this.ctx.channel.status(ch.channelId).phase)
  }

  /** Blocks an on-chain claim on `ch` takes from now: register, its dispute window, finalize, claim — the window plus the margin. */
  claimBlocks(ch: TrackedChannel): bigint {
    return BigInt(this.ctx.channel.machine(ch.channelId).params.disputeWindow + this.ctx.settings.onChainMargin)
  }

  /**
   * Whether our add for `rec` is in a proposal whose signature the peer holds and may still countersign: the one
   * in flight, or one it refused at the next version (it can countersign that one later and resync it).
   */
  inProposal(rec: HtlcRecord): boolean {
    const m = this.ctx.channel.machine(rec.channelId)
    const carries = (p: { state: ChannelState } | undefined) => p?.state.locked.some((e) => bytesEqual(e.id, rec.entry.id)) === true
    return carries(m.pending) || m.refused?.some(carries) === true
  }

  // ---------------------------------------------------------------- offering

  /**
   * Offers an HTLC on `ch`: instructions first, then the add update. Returns
   * a failure code when it was not offered (nothing changed). An add that
   * failed while its proposal is still out stays recorded: if the peer
   * countersigns it later, it resolves like any other (and what it serves
   * with it), so a hop never fails upstream an HTLC it may still pay downstream.
   */
  async offer(
    ch: TrackedChannel,
    h: OfferSpec,
    from: string | undefined,
    payment: ((o: PaymentOutcome) => void) | undefined,
    instructions = true,
    out?: { lockId?: Uint8Array },
  ): Promise<FailureCode | undefined> {
    const { ctx } = this
    const status = ctx.channel.status(ch.channelId)
    if (!this.offChain(ch)) return 'permanent_channel_failure'
    // An offline peer could not countersign: nothing is recorded or proposed (BOLT 4: the link is down).
    if (!ctx.peerOnline(ch.peer)) return 'unknown_next_peer'
    if (status.myBalance < h.amount) return 'temporary_channel_failure'
    const id = ctx.book.nextLockId(ctx.address)
    if (out !== undefined) out.lockId = id
    const entry: LockedEntry = { id, amount: h.amount, direction: ch.me, hash: h.hash, expiry: h.expiry }
    // Durable before the peer hears of it: after a restart we must know what it serves.
    const rec = ctx.book.create(ch.key, {
      channelId: ch.channelId,
      entry,
      incoming: false,
      status: 'offering',
      processed: true,
      ...(from === undefined ? {} : { from }),
      ...(payment === undefined ? {} : { payment }),
    })
    rec.adding = true
    if (instructions) ctx.send(ch.peer, { type: 'add', channelId: ch.channelId, lockId: id, onward: h.onward, finalAmount: h.finalAmount })
    const refusals = refusalCounter()
    try {
      await ctx.channel.update(ch.channelId, (latest) => {
        // A rebuilt proposal after a crossing is fine; one refused again and again is not.
        if (refusals(latest) > 4) throw new HtlcRejectedError('HTLC_POLICY', 'state', 'the peer keeps refusing this HTLC')
        return buildAdd(latest, ch.me, { id, amount: h.amount, hash: h.hash, expiry: h.expiry }, ctx.height(), ctx.settings.limits)
      })
    } catch (err) {
      rec.adding = false
      ctx.record(err)
      if (rec.status !== 'offering') return undefined
      if (this.inProposal(rec)) {
        // Refused, but the peer keeps our signature on the proposal that adds it (payment-channel's `refused`): a
        // no-op at that version makes the refusal final once countersigned (reconcile then fails it upstream at
        // once); a peer that refuses the no-op too leaves it recorded until it is signed or expires.
        if (ctx.channel.machine(ch.channelId).pending === undefined) this.endRefused(ch)
        return undefined
      }
      ctx.book.drop(rec)
      if (err instanceof HtlcRejectedError && err.code === 'HTLC_EXPIRY') return 'expiry_too_soon'
      return 'temporary_channel_failure'
    }
    rec.adding = false
    if (rec.status === 'offering') ctx.book.transition(rec, 'pending')
    return undefined
  }

  /** Proposes a no-op (same balances and HTLCs, one version up): countersigned, no refused proposal of ours is signable any more. */
  private endRefused(ch: TrackedChannel): void {
    this.ctx.channel.update(ch.channelId, (latest) => ({ ...latest, version: latest.version + 1n, isFinal: false })).catch((err) => this.ctx.record(err))
  }

  // ---------------------------------------------------------------- incoming

  /** An incoming HTLC with its instructions: pay it (final hop) or forward it, or fail it back with a reason. */
  processIncoming(rec: HtlcRecord): void {
    const { ctx } = this
    if (rec.processed || rec.status !== 'pending' || ctx.stopped()) return
    const instr = ctx.book.takeInstructions(rec)
    if (instr === undefined) return // wait for them; without any the offerer times the HTLC out
    rec.processed = true
    rec.onward = instr.onward
    rec.finalAmount = instr.finalAmount
    ctx.book.save(rec)
    const refuse = (r: Refusal) => {
      if (r.why !== undefined) ctx.record(r.why)
      this.resolveOffChain(rec, { type: 'fail', failure: { code: r.code, reporter: ctx.address } })?.catch((err) => ctx.record(err))
    }
    if (instr.onward.length === 0) {
      const r = this.checkFinal(rec, instr)
      if (r !== undefined) refuse(r)
      else if (!ctx.withholds(rec.entry.hash)) {
        ctx.book.setPreimage(rec.entry.hash, (ctx.book.invoice(rec.entry.hash) as { preimage: Uint8Array }).preimage)
        this.settleIncoming(rec)
      }
      return
    }
    if (!this.offChain(this.channelOf(rec))) {
      // Closing: we could neither fail it back nor settle it off chain; not forwarding costs us nothing
      // (the offerer takes it back on chain after its expiry).
      ctx.record(new HtlcRejectedError('HTLC_POLICY', 'channelId', 'incoming channel is closing: HTLC not forwarded'))
      return
    }
    const hop = instr.onward[0] as WireHop
    const out = this.known(hop.channelId)
    const r = out === undefined || out.key === rec.chanKey ? { code: 'unknown_next_peer' as const } : this.checkForward(rec, out, hop)
    if (r !== undefined) {
      refuse(r)
      return
    }
    const spec: OfferSpec = { amount: hop.amount, hash: rec.entry.hash, expiry: hop.expiry, onward: instr.onward.slice(1), finalAmount: instr.finalAmount }
    this.offer(out as TrackedChannel, spec, rec.key, undefined)
      .then((c) => {
        if (c !== undefined) refuse({ code: c })
      })
      .catch((err) => {
        ctx.record(err)
        refuse({ code: 'temporary_channel_failure' })
      })
  }

  /** The receiver's checks: an invoice, its amount, and an expiry that leaves time to claim on chain. */
  private checkFinal(rec: HtlcRecord, instr: Instructions): Refusal | undefined {
    const { ctx } = this
    const e = rec.entry
    const h = ctx.height()
    const inv = ctx.book.invoice(e.hash)
    if (inv === undefined) return { code: 'incorrect_or_unknown_payment_details' }
    if (e.amount < instr.finalAmount || e.amount < inv.amount) return { code: 'final_incorrect_htlc_amount' }
    if (e.expiry < BigInt(h + ctx.settings.minFinalDelta)) return { code: 'incorrect_or_unknown_payment_details' }
    if (BigInt(h) + this.claimBlocks(this.channelOf(rec)) >= e.expiry)
      return {
        code: 'incorrect_or_unknown_payment_details',
        why: new HtlcRejectedError('HTLC_EXPIRY', 'entry.expiry', `expiry ${e.expiry} leaves no time to claim on chain (height ${h} + dispute window + margin)`),
      }
    return undefined
  }

  /** A hop's checks (BOLT 4 codes): fee, cltv delta and the forwarding rule, outgoing expiry not too soon, incoming not too far. */
  private checkForward(rec: HtlcRecord, out: TrackedChannel, hop: WireHop): Refusal | undefined {
    const { ctx } = this
    const e = rec.entry
    const h = ctx.height()
    const p = out.forwarding
    if (e.amount - hop.amount < feeMsat(p.baseFee, p.feeRatePpm, hop.amount)) return { code: 'fee_insufficient' }
    const delta = e.expiry - hop.expiry
    if (delta < BigInt(p.cltvDelta)) return { code: 'incorrect_cltv_expiry' }
    const need = this.claimBlocks(this.channelOf(rec))
    if (delta < need) {
      const margin = ctx.settings.onChainMargin
      return {
        code: 'incorrect_cltv_expiry',
        why: new HtlcRejectedError(
          'HTLC_EXPIRY',
          'onward[0].expiry',
          `incoming − outgoing expiry ${delta} < upstream dispute window ${need - BigInt(margin)} + on-chain margin ${margin}: could not claim upstream on chain in time`,
        ),
      }
    }
    if (hop.expiry <= BigInt(h + Math.max(EXPIRY_TOO_SOON_BLOCKS, ctx.settings.limits.minExpiryDelta))) return { code: 'expiry_too_soon' }
    if (e.expiry > BigInt(h + Math.min(ctx.settings.limits.maxExpiryDelta, MAX_TOTAL_CLTV_EXPIRY))) return { code: 'expiry_too_far' }
    return undefined
  }

  settleIncoming(rec: HtlcRecord): void {
    this.resolveOffChain(rec, { type: 'settle' })?.catch((err) => this.ctx.record(err))
  }

  // ---------------------------------------------------------------- settle, fail, refund

  /**
   * Proposes the off-chain resolution of `rec`: `settle` (we received it and
   * know the preimage), `fail` (we received it) or `refund` (we offered it
   * and it expired). Returns undefined, proposing nothing, when it cannot be
   * done off chain now — see `whyNotOffChain`.
   */
  resolveOffChain(rec: HtlcRecord, how: Resolution): Promise<void> | undefined {
    if (this.whyNotOffChain(rec, how) !== undefined) return undefined
    const { ctx } = this
    const ch = this.channelOf(rec)
    const lockId = rec.entry.id
    if (how.type === 'settle') {
      const pre = ctx.book.preimage(rec.entry.hash) as Uint8Array
      return this.propose(ch, rec, (latest) => buildSettle(latest, ch.me, lockId, pre, ctx.height()), {
        type: 'fulfill',
        channelId: ch.channelId,
        lockId,
        preimage: pre,
      })
    }
    const announce: HtlcWireMessage | undefined =
      how.type === 'fail'
        ? { type: 'fail', channelId: ch.channelId, lockId, code: String(how.failure.code).slice(0, 64), reporter: how.failure.reporter }
        : undefined
    return this.propose(ch, rec, (latest) => buildFail(latest, ch.me, lockId, ctx.height()), announce)
  }

  /** Why `rec` cannot be resolved off chain `how` now (undefined: it can). */
  whyNotOffChain(rec: HtlcRecord, how: Resolution): string | undefined {
    const { ctx } = this
    if (rec.status !== 'pending') return `HTLC is ${rec.status}`
    if (rec.proposing) return 'a proposal for it is in flight'
    if (ctx.stopped()) return 'node stopped'
    if (rec.incoming === (how.type === 'refund')) return how.type === 'refund' ? 'only the offerer refunds' : 'only the receiver settles or fails'
    const ch = this.channelOf(rec)
    if (!this.offChain(ch)) return 'channel is closing: resolve on chain'
    const h = BigInt(ctx.height())
    if (how.type === 'refund' && h < rec.entry.expiry) return `not expired before height ${rec.entry.expiry}`
    if (how.type === 'settle') {
      if (ctx.book.preimage(rec.entry.hash) === undefined) return 'preimage unknown'
      // Reveal off chain only while an on-chain claim would still fit before the expiry: if the
      // peer took the preimage and then refused the settle (or closed the channel), we must still
      // be able to claim. Later, the preimage goes out only in a claim transaction, which pays us.
      if (h + this.claimBlocks(ch) >= rec.entry.expiry) return 'too close to the expiry to reveal off chain: claim on chain'
    }
    return undefined
  }

  /**
   * Proposes a settle / fail of `rec` through the channel. `announce` (the
   * fulfil or fail message) is sent before every attempt, so a re-proposal
   * after a refusal or a crossing finds the peer informed. A proposal refused
   * again and again gives up (the request rejects); the block checks retry.
   */
  private propose(ch: TrackedChannel, rec: HtlcRecord, build: (latest: ChannelState) => ChannelState, announce?: HtlcWireMessage): Promise<void> {
    rec.proposing = true
    const refusals = refusalCounter()
    return this.ctx.channel
      .update(ch.channelId, (latest) => {
        if (refusals(latest) > 4) throw new HtlcRejectedError('HTLC_POLICY', 'state', 'the peer keeps refusing this update')
        if (announce !== undefined) this.ctx.send(ch.peer, announce)
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

  // ---------------------------------------------------------------- preimages and resolution

  /** A preimage for one of our outgoing HTLCs became known (fulfil message or L1): settle what it serves. */
  learnPreimage(preimage: Uint8Array): void {
    const { book } = this.ctx
    const hash = sha256(preimage)
    book.setPreimage(hash, preimage)
    for (const rec of book.withHash(hash)) {
      if (rec.incoming || rec.from === undefined) continue
      const up = book.htlcs.get(rec.from)
      if (up !== undefined) this.settleIncoming(up)
    }
  }

  /** Stops withholding: settles pending HTLCs paying our invoices (all, or those for `hash`). */
  releaseInvoices(hash: Uint8Array | undefined): void {
    const { book } = this.ctx
    for (const rec of book.unresolved()) {
      if (!rec.incoming || rec.status !== 'pending' || rec.onward === undefined || rec.onward.length > 0) continue
      if (hash !== undefined && !bytesEqual(hash, rec.entry.hash)) continue
      const inv = book.invoice(rec.entry.hash)
      if (inv === undefined) continue
      book.setPreimage(rec.entry.hash, inv.preimage)
      this.settleIncoming(rec)
    }
  }

  /** An HTLC left the channel (off or on chain): account and propagate. */
  resolved(rec: HtlcRecord, how: 'settled' | 'failed', onChain: boolean): void {
    if (isResolved(rec)) return
    const { ctx } = this
    const failure =
      how === 'failed' && !rec.incoming
        ? (ctx.book.failure(rec.key) ?? { code: onChain ? 'htlc_timed_out' : 'temporary_channel_failure', reporter: this.channelOf(rec).peer })
        : undefined
    if (!ctx.book.transition(rec, how, { onChain, ...(failure === undefined ? {} : { failure }) })) return
    if (rec.incoming) {
      if (how === 'settled') {
        // Final: what we were paid. Forwarded: the incoming side of a fee (see the outgoing side below).
        if (rec.onward !== undefined && rec.onward.length === 0) ctx.ledger.received += rec.entry.amount
        else ctx.ledger.feesEarned += rec.entry.amount
      }
      return
    }
    if (how === 'settled') {
      if (rec.from !== undefined) ctx.ledger.feesEarned -= rec.entry.amount
      rec.payment?.({ status: 'settled', preimage: ctx.book.preimage(rec.entry.hash) ?? new Uint8Array(), onChain })
      return
    }
    rec.payment?.({ status: 'failed', failure: failure as PaymentFailure, onChain })
    this.releaseUpstream(rec, failure as PaymentFailure)
  }

  /**
   * Fails the incoming HTLC an outgoing one serves — once, when the outgoing
   * one failed, or at its expiry already: from then on the downstream peer
   * can take the money neither on chain (the adjudicator pays a preimage only
   * before the expiry) nor off chain (our policy refuses a late settle).
   */
  releaseUpstream(rec: HtlcRecord, failure: PaymentFailure): void {
    if (rec.incoming || rec.from === undefined || rec.releasedUpstream) return
    rec.releasedUpstream = true
    this.ctx.book.save(rec)
    const up = this.ctx.book.htlcs.get(rec.from)
    if (up !== undefined) this.resolveOffChain(up, { type: 'fail', failure })?.catch((err) => this.ctx.record(err))
  }

  /** The record of HTLC `lockId` on `ch`, if any. */
  get(ch: TrackedChannel, lockId: Uint8Array): HtlcRecord | undefined {
    return this.ctx.book.htlcs.get(htlcKey(ch.key, lockId))
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
