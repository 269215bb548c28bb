/**
 * Links: the HTLC messages beside the channel protocol — who is on a link,
 * routing inbound messages, and repeating fulfils after a reconnection.
 *
 * Inbound messages change what the node believes, so each is checked
 * against the book before anything is stored: `add` instructions only for a
 * channel with that peer and a lock id not ours, at most `maxAcceptedHtlcs`
 * waiting per channel; `fail` reasons only for an unresolved HTLC we offered
 * on that channel; `fulfill` only with the preimage of one of our HTLCs.
 */
import { type Address, InvalidInputError } from '@l2bench/core'
import type { ChannelNode, Link } from '@l2bench/payment-channel'
import { htlcKey, isResolved } from './book.ts'
import { HtlcRejectedError } from './errors.ts'
import type { Forwarding, HtlcContext } from './forwarding.ts'
import { checkPreimage } from './state.ts'
import { type HtlcWireMessage, decodeHtlcMessage, encodeHtlcMessage } from './wire.ts'

export class Links {
  private readonly links = new Map<Address, Link>()

  constructor(
    private readonly ctx: HtlcContext,
    private readonly fw: Forwarding,
  ) {}

  /** Attaches the two links to one peer: the channel protocol's and ours. */
  attach(channel: ChannelNode, channelLink: Link, htlcLink: Link): void {
    const { ctx } = this
    channel.attach(channelLink)
    let peer: Address | undefined
    htlcLink.onOpen(() => htlcLink.send(encodeHtlcMessage({ type: 'hello', address: ctx.address })))
    htlcLink.onFrame((frame) => {
      if (ctx.stopped()) return
      try {
        const msg = decodeHtlcMessage(frame)
        if (msg.type === 'hello') {
          peer = msg.address
          this.links.set(peer, htlcLink)
          this.resendFulfils(peer)
          return
        }
        if (peer === undefined) throw new InvalidInputError('type', `${msg.type} before hello`)
        this.onMessage(peer, msg)
      } catch (err) {
        ctx.record(err)
      }
    })
  }

  send(peer: Address, msg: HtlcWireMessage): void {
    this.links.get(peer)?.send(encodeHtlcMessage(msg))
  }

  /** A peer (re)connected: repeat the fulfil messages of settles still in flight on our open channels with it. */
  private resendFulfils(peer: Address): void {
    const { ctx, fw } = this
    for (const rec of ctx.book.htlcs.values()) {
      if (!rec.incoming || rec.status !== 'pending' || !rec.proposing) continue
      const ch = ctx.book.channels.get(rec.chanKey)
      const pre = ctx.book.preimage(rec.entry.hash)
      if (ch === undefined || ch.peer !== peer || pre === undefined) continue
      // The same guards as the settle itself (the proposal is in flight, so ask without it).
      if (fw.whyNotOffChain({ ...rec, proposing: false }, { type: 'settle' }) !== undefined) continue
      this.send(peer, { type: 'fulfill', channelId: ch.channelId, lockId: rec.entry.id, preimage: pre })
    }
  }

  private onMessage(peer: Address, msg: Exclude<HtlcWireMessage, { type: 'hello' }>): void {
    const { ctx, fw } = this
    const ch = fw.known(msg.channelId)
    if (ch === undefined || ch.peer !== peer) throw new HtlcRejectedError('HTLC_UNKNOWN', 'channelId', 'no such channel with this peer')
    const key = htlcKey(ch.key, msg.lockId)
    const rec = ctx.book.htlcs.get(key)
    switch (msg.type) {
      case 'add': {
        if (rec !== undefined && (!rec.incoming || rec.processed))
          throw new HtlcRejectedError('HTLC_UNKNOWN', 'lockId', rec.incoming ? 'instructions for this HTLC already received' : 'lock id of an HTLC we offered')
        const dropped = ctx.book.putInstructions(ch.key, key, { onward: msg.onward, finalAmount: msg.finalAmount })
        if (dropped !== undefined)
          ctx.record(
            new HtlcRejectedError(
              'HTLC_LIMIT',
              'lockId',
              `more than ${ctx.settings.limits.maxAcceptedHtlcs} route instructions waiting for their HTLC on this channel: the oldest dropped`,
            ),
          )
        if (rec !== undefined) fw.processIncoming(rec)
        return
      }
      case 'fulfill': {
        if (rec === undefined || rec.incoming) throw new HtlcRejectedError('HTLC_UNKNOWN', 'lockId', 'no HTLC of ours with this id')
        checkPreimage('preimage', msg.preimage, rec.entry.hash)
        fw.learnPreimage(msg.preimage)
        return
      }
      case 'fail': {
        if (rec === undefined || rec.incoming || isResolved(rec)) throw new HtlcRejectedError('HTLC_UNKNOWN', 'lockId', 'no unresolved HTLC of ours with this id')
        ctx.book.setFailure(key, { code: msg.code, reporter: msg.reporter })
        return
      }
    }
  }
}
