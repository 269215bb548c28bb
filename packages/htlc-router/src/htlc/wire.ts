/**
 * Messages between two HTLC nodes, beside the channel protocol's own (core's
 * canonical codec, strict decode), each the payload of an authenticated
 * frame (links.ts: who sent it is proven by the link's handshake, not said in
 * a message). They carry what a channel state cannot:
 *
 *   add      the plain route instructions for an HTLC the sender of the message
 *            offers in our channel: the onward hops (channel, amount, expiry)
 *            or, when there are none, the amount the receiver must get. No
 *            onion: every hop sees the rest of the route.
 *   fulfill  the preimage of an HTLC we are about to settle (sent before the
 *            settle update, so the offerer's policy can check it)
 *   fail     why we are about to fail an HTLC (BOLT 4 code, and who failed)
 */
import { codec, decode, encode } from '@l2bench/core'

/** Longest route a node accepts (BOLT 4's 20 hops). */
export const MAX_HOPS = 20

export const wireHopCodec = codec.struct({
  channelId: codec.fixedBytes(32),
  amount: codec.amount,
  expiry: codec.u64,
})
export type WireHop = codec.Infer<typeof wireHopCodec>

/** Largest HTLC message accepted (an `add` with MAX_HOPS onward hops is about 1.7 KB). */
export const HTLC_MESSAGE_MAX = 4096

/** Type 1 was an unsigned `hello {address}`; peers are now authenticated by their link (ATTACKS 35). */
export const htlcWireCodec = codec.messages({
  add: [
    2,
    codec.struct({ channelId: codec.fixedBytes(32), lockId: codec.fixedBytes(32), onward: codec.list(wireHopCodec, MAX_HOPS), finalAmount: codec.amount }),
  ],
  fulfill: [3, codec.struct({ channelId: codec.fixedBytes(32), lockId: codec.fixedBytes(32), preimage: codec.fixedBytes(32) })],
  fail: [4, codec.struct({ channelId: codec.fixedBytes(32), lockId: codec.fixedBytes(32), code: codec.string(64), reporter: codec.address })],
})
export type HtlcWireMessage = codec.Infer<typeof htlcWireCodec>

export function encodeHtlcMessage(m: HtlcWireMessage): Uint8Array {
  return encode(htlcWireCodec, m)
}

export function decodeHtlcMessage(bytes: Uint8Array): HtlcWireMessage {
  return decode(htlcWireCodec, bytes, { maxSize: HTLC_MESSAGE_MAX })
}
