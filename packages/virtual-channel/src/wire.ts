/**
 * The coordination messages of a virtual channel, beside the channel
 * protocol (core's canonical codec; they travel on SecureLinks of their own
 * protocol, so the sender is the authenticated peer, never a claimed one).
 *
 *   propose  Alice → Bob     parameters + Alice's signature on version 0
 *   accept   Bob → Alice     Bob's signature on version 0
 *   fund     Alice → Ingrid  parameters + both signatures on version 0 (both agreed)
 *   active   Ingrid → both   her activation: both ledger locks are in place
 *   settle   Alice/Bob → Ingrid   the final virtual state, signed by both
 *   settled  Ingrid → both   both ledgers were unlocked by it
 *   refuse   any             a refusal: the typed error's code and field
 *
 * The ledger updates themselves (lock, unlock) are ordinary channel updates
 * on the ledger channels, proposed by Ingrid and checked by each party's
 * policy (policy.ts).
 */
import { codec, decode, encode } from '@l2bench/core'
import { stateCodec } from '@l2bench/payment-channel'
import { virtualParamsCodec } from './params.ts'

/** Largest coordination message (a settle with a state and two signatures is < 300 bytes). */
export const VIRTUAL_MESSAGE_MAX = 2048

const id = codec.fixedBytes(32)
const sig = codec.fixedBytes(64)

export const virtualWireCodec = codec.messages({
  propose: [1, codec.struct({ params: virtualParamsCodec, sig })],
  accept: [2, codec.struct({ channelId: id, sig })],
  fund: [3, codec.struct({ params: virtualParamsCodec, sigA: sig, sigB: sig })],
  active: [4, codec.struct({ channelId: id, sig })],
  settle: [5, codec.struct({ state: stateCodec, sigA: sig, sigB: sig })],
  settled: [6, codec.struct({ channelId: id })],
  refuse: [7, codec.struct({ channelId: id, code: codec.string(64), field: codec.string(128) })],
})
export type VirtualMessage = codec.Infer<typeof virtualWireCodec>

export function encodeVirtualMessage(m: VirtualMessage): Uint8Array {
  return encode(virtualWireCodec, m)
}

/** Strict decode; throws DecodeError naming the field. */
export function decodeVirtualMessage(bytes: Uint8Array): VirtualMessage {
  return decode(virtualWireCodec, bytes, { maxSize: VIRTUAL_MESSAGE_MAX })
}
