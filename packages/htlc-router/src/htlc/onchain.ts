/**
 * On chain: what a node does on every L1 block and adjudicator event so that
 * no HTLC is lost when a peer stops cooperating.
 *
 *   - an incoming HTLC whose preimage we know: settled off chain while the
 *     channel is open and there is time; on chain once the height reaches
 *     expiry − (dispute window + margin) — or at once if the channel is
 *     closing (a final state was signed, or a state was registered), since it
 *     can no longer be settled off chain (ATTACKS 32);
 *   - an outgoing HTLC at its expiry: the incoming one it serves is failed
 *     back, and it is refunded off chain, or on chain after `refundGrace`
 *     more blocks (at once on a closing channel);
 *   - `PreimageRevealed` for one of our outgoing HTLCs: settle what it serves;
 *   - `LockedResolved`: an HTLC paid on chain, to whom it went.
 *
 * Going on chain: a channel whose newest fully signed state is final is
 * closed with it (cooperative close, no dispute window); otherwise our newest
 * state is registered. A disputed channel is finalized from its deadline; on
 * a closed one every HTLC of ours still locked on L1 is claimed with its
 * preimage (before the expiry) or refunded (from the expiry).
 */
import type { L1Event, Receipt } from '@l2bench/l1-mock'
import { channelIdHex, isFullySigned } from '@l2bench/payment-channel'
import type { HtlcAdjudicator } from './adjudicator.ts'
import type { TrackedChannel } from './book.ts'
import type { Forwarding, HtlcContext } from './forwarding.ts'

export class OnChain {
  private queue: Promise<void> = Promise.resolve()

  constructor(
    private readonly ctx: HtlcContext,
    private readonly fw: Forwarding,
    private readonly adjudicator: HtlcAdjudicator,
  ) {}

  onL1Event(e: L1Event): void {
    if (this.ctx.stopped()) return
    try {
      if (e.name === 'PreimageRevealed') {
        const pre = e.data.preimage
        if (!(pre instanceof Uint8Array) || pre.length !== 32) return
        this.fw.learnPreimage(pre)
        this.schedule()
      } else if (e.name === 'LockedResolved') {
        const cid = e.data.channelId
        const lid = e.data.lockId
        if (!(cid instanceof Uint8Array) || !(lid instanceof Uint8Array)) return
        const rec = this.ctx.book.htlcs.get(`${channelIdHex(cid)}:${channelIdHex(lid)}`)
        if (rec === undefined) return
        const toMe = e.data.to === this.ctx.address
        this.fw.resolved(rec, rec.incoming === toMe ? 'settled' : 'failed', true)
      }
    } catch (err) {
      this.ctx.record(err)
    }
  }

  schedule(): void {
    if (this.ctx.stopped()) return
    this.queue = this.queue.then(() => this.check()).catch((err) => this.ctx.record(err))
  }

  /** Runs the checks now; resolves when their transactions are mined. */
  poll(): Promise<void> {
    this.schedule()
    return this.queue
  }

  private async tx(p: Promise<Receipt>): Promise<Receipt | undefined> {
    try {
      const r = await p
      this.ctx.receipts.push(r)
      return r
    } catch (err) {
      this.ctx.record(err)
      return undefined
    }
  }

  private async check(): Promise<void> {
    const { ctx, fw } = this
    const { book } = ctx
    // Every step below acts on an unresolved HTLC: with none, a block costs nothing (a big network checks every node on every block).
    if (ctx.stopped() || !book.hasUnresolved()) return
    const hb = BigInt(ctx.height())
    // Durable before any transaction below reveals or relies on it.
    book.flush()
    const toChain = new Set<TrackedChannel>()
    for (const rec of book.unresolved()) {
      const ch = fw.channelOf(rec)
      const off = fw.offChain(ch)
      const e = rec.entry
      if (rec.incoming) {
        if (book.preimage(e.hash) === undefined || hb >= e.expiry) continue
        if (!off) toChain.add(ch)
        else {
          fw.settleIncoming(rec)
          if (hb + fw.claimBlocks(ch) >= e.expiry) toChain.add(ch)
        }
        continue
      }
      if (hb < e.expiry) continue
      // Expired: ours again (see releaseUpstream) — unless its preimage is known: another HTLC with
      // the same hash may have been claimed, but then the incoming one is settled with it.
      if (book.preimage(e.hash) === undefined) fw.releaseUpstream(rec, book.failure(rec.key) ?? { code: 'htlc_timed_out', reporter: ch.peer })
      if (rec.status === 'offering') {
        const proposed = fw.inProposal(rec)
        // Never countersigned and no longer proposed: it never existed.
        if (!rec.adding && !proposed) fw.resolved(rec, 'failed', false)
        // Proposed and never answered: the peer may hold it signed. Only L1 can tell (a refund there, or absent).
        else if (proposed && hb >= e.expiry + BigInt(ctx.settings.refundGrace)) toChain.add(ch)
        continue
      }
      if (!off) toChain.add(ch)
      else {
        fw.resolveOffChain(rec, { type: 'refund' })?.catch((err) => ctx.record(err))
        if (hb >= e.expiry + BigInt(ctx.settings.refundGrace)) toChain.add(ch)
      }
    }
    for (const ch of toChain) await this.goOnChain(ch)
    for (const ch of book.channels.values()) await this.settleOnChain(ch)
  }

  /** Closes `ch` on L1 with our newest fully signed state: a final one closes at once, any other is registered. */
  private async goOnChain(ch: TrackedChannel): Promise<void> {
    if (ch.closing) return
    const info = await this.ctx.channel.onChain(ch.channelId)
    if (info?.phase !== 'open') return // disputed or closed already: settleOnChain
    ch.closing = true
    const latest = this.ctx.channel.latest(ch.channelId)
    const final = latest.state.isFinal && isFullySigned(latest)
    const r = await this.tx(final ? this.ctx.channel.closeCooperative({ channelId: ch.channelId }) : this.ctx.channel.forceClose({ channelId: ch.channelId }))
    if (r === undefined) ch.closing = false // retried on the next block
  }

  /** A disputed channel past its deadline: finalize. A closed one: claim or refund our HTLCs on L1. */
  private async settleOnChain(ch: TrackedChannel): Promise<void> {
    const { ctx, fw } = this
    const pending = ctx.book.unresolved(ch.key)
    if (pending.length === 0) return
    const info = await ctx.channel.onChain(ch.channelId)
    if (info === undefined) return
    // A transaction sent now is mined in the next block: finalize from the deadline on.
    if (info.phase === 'disputed' && info.dispute !== undefined && ctx.height() >= info.dispute.deadline && !ch.finalizing) {
      ch.finalizing = true
      if ((await this.tx(ctx.channel.finalize({ channelId: ch.channelId }))) === undefined) ch.finalizing = false
    }
    const after = await ctx.channel.onChain(ch.channelId)
    if (after?.phase !== 'closed') return
    for (const rec of pending) {
      if (rec.status !== 'pending' && rec.status !== 'offering') continue
      const onL1 = await ctx.l1.read<unknown>(this.adjudicator.address, 'locked', [ch.channelId, rec.entry.id])
      if (onL1 === undefined) {
        // Not in the state that closed the channel (or resolved without our noticing): the
        // balances of that state already hold the amount where it went.
        fw.resolved(rec, 'failed', true)
        continue
      }
      const pre = ctx.book.preimage(rec.entry.hash)
      const h = BigInt(ctx.height())
      if (rec.incoming && pre !== undefined && h + 1n < rec.entry.expiry) {
        await this.tx(ctx.channel.client.resolveLocked(ch.channelId, rec.entry.id, pre))
      } else if (!rec.incoming && h >= rec.entry.expiry) {
        await this.tx(ctx.channel.client.resolveLocked(ch.channelId, rec.entry.id))
      }
    }
  }
}
