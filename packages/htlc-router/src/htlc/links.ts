/**
 * Links: the HTLC messages beside the channel protocol — who is on a link,
 * routing inbound messages, and repeating fulfils after a reconnection.
 *
 * Who is on a link is proven, never claimed (ATTACKS 35): every HTLC link is
 * a payment-channel `SecureLink` in its own `PeerTable` (protocol
 * `HTLC_PROTOCOL`, so a handshake made for the channel protocol is void
 * here): on each connection both ends sign the other's fresh ephemeral key
 * with their channel key, and every frame after it carries a MAC under keys
 * only those two derived. A frame before the handshake, with a bad MAC or
 * replayed never reaches the node. A live authenticated link to a peer is
 * never replaced: another authenticated link of the same peer waits as a
 * standby (at most 4) and takes over when the route closes; a handshake
 * that does not complete in `helloTimeoutMs` (10 s) and a link silent for
 * `idleTimeoutMs` (60 s) are dropped; payloads above 4,096 bytes (the largest
 * HTLC message) are refused.
 *
 * Inbound messages change what the node believes, so each is checked
 * against the book before anything is stored: `add` instructions only for a
 * channel with that peer and a lock id not ours, at most `maxAcceptedHtlcs`
 * waiting per channel; `fail` reasons only for an unresolved HTLC we offered
 * on that channel; `fulfill` only with the preimage of one of our HTLCs.
 */
import type { Address, Signer, Verifier } from '@l2bench/core'
import { type Link, PeerTable, type SecureLink } from '@l2bench/payment-channel'
import { htlcKey, isResolved } from './book.ts'
import { HtlcRejectedError } from './errors.ts'
import type { Forwarding, HtlcContext } from './forwarding.ts'
import { checkPreimage } from './state.ts'
import { HTLC_MESSAGE_MAX, type HtlcWireMessage, decodeHtlcMessage, encodeHtlcMessage } from './wire.ts'

/** The handshake's protocol name for HTLC links (a channel-protocol handshake is void on them, and back). */
export const HTLC_PROTOCOL = 'l2bench/htlc-router/v1'

export interface LinkOptions {
  signer: Signer
  verifier?: Verifier
  /** Handshake and idle timeouts (ms) of the HTLC links, as payment-channel's `links` option. */
  timeouts?: { helloTimeoutMs?: number; idleTimeoutMs?: number }
}

export class Links {
  private readonly peers: PeerTable

  constructor(
    private readonly ctx: HtlcContext,
    private readonly fw: Forwarding,
    options: LinkOptions,
  ) {
    this.peers = new PeerTable({
      signer: options.signer,
      ...(options.verifier === undefined ? {} : { verifier: options.verifier }),
      chainId: ctx.l1.chainId,
      protocol: HTLC_PROTOCOL,
      maxPayload: HTLC_MESSAGE_MAX,
      ...options.timeouts,
      onFrame: (peer, payload) => this.onFrame(peer, payload),
      onPeer: (peer) => this.resendFulfils(peer),
      onError: (err) => ctx.record(err),
    })
  }

  /** Runs the handshake on every (re)connection of `link`; HTLC messages flow once its peer authenticated. */
  attach(link: Link): SecureLink {
    return this.peers.attach(link)
  }

  send(peer: Address, msg: HtlcWireMessage): void {
    if (this.ctx.stopped()) return
    // What a fulfil or fail rests on (a learnt preimage, a record) is durable before it leaves. Route
    // instructions commit nothing by themselves: the HTLC they describe goes out in a proposal, which a
    // channel save precedes (with a group-committing store, that save commits the HTLC's record too).
    if (msg.type !== 'add') this.ctx.book.flush()
    this.peers.send(peer, encodeHtlcMessage(msg))
  }

  /** The authenticated link that reaches `peer` (what this node sends HTLC messages on). */
  linkTo(peer: Address): SecureLink | undefined {
    return this.peers.route(peer)
  }

  /** A stopped node drops every HTLC connection (its peers see a disconnect, not silence). */
  suspend(): void {
    this.peers.suspend()
  }

  private onFrame(peer: Address, payload: Uint8Array): void {
    if (this.ctx.stopped()) return
    try {
      this.onMessage(peer, decodeHtlcMessage(payload))
    } catch (err) {
      this.ctx.record(err)
    }
  }

  /** A peer (re)connected: repeat the fulfil messages of settles still in flight on our open channels with it. */
  private resendFulfils(peer: Address): void {
    const { ctx, fw } = this
    for (const rec of ctx.book.unresolved()) {
      if (!rec.incoming || rec.status !== 'pending' || !rec.proposing) continue
      const ch = ctx.book.channels.get(rec.chanKey)
      const pre = ctx.book.preimage(rec.entry.hash)
      if (ch === undefined || ch.peer !== peer || pre === undefined) continue
      // The same guards as the settle itself (the proposal is in flight, so ask without it).
      if (fw.whyNotOffChain({ ...rec, proposing: false }, { type: 'settle' }) !== undefined) continue
      this.send(peer, { type: 'fulfill', channelId: ch.channelId, lockId: rec.entry.id, preimage: pre })
    }
  }

  private onMessage(peer: Address, msg: HtlcWireMessage): void {
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
