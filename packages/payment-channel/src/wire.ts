/**
 * Wire messages between two channel nodes (core's canonical codec: one tag
 * byte, then the struct; strict decode with a size limit). They travel as
 * payloads of a SecureLink, so each one is known to come from the peer that
 * authenticated the connection (the handshake replaces a `hello` message).
 *
 *   open     A → B: channel parameters and A's signature on version 0
 *   openAck  B → A: B's signature on version 0 (B has confirmed on L1)
 *   propose  the next state and the proposer's signature (and, when merged, the updates it carries)
 *   accept   the responder's countersignature on that state (and whether it has updates of its own waiting)
 *   confirm  the proposer holds the countersigned state (the responder may propose again)
 *   reject   the responder refuses a proposal (code says why)
 *   sync     after (re)connecting: my latest fully signed version
 *   state    a fully signed state (resync of a peer that is behind)
 */
import { codec, decode, encode } from '@l2bench/core'
import { MAX_MERGE, changeCodec } from './merge.ts'
import type { ChannelParams } from './protocol.ts'
import { PENALTIES, balancesCodec, stateCodec } from './state.ts'

/** Largest frame a node accepts (a state with MAX_LOCKED entries is ~60 KiB). */
export const MAX_FRAME = 128 * 1024

const id = codec.fixedBytes(32)
const sig = codec.fixedBytes(64)

export const channelParamsCodec = codec.struct({
  channelId: id,
  chainId: codec.u64,
  adjudicator: codec.address,
  nonce: codec.u64,
  a: codec.address,
  b: codec.address,
  pkA: codec.fixedBytes(33),
  pkB: codec.fixedBytes(33),
  deposits: balancesCodec,
  disputeWindow: codec.u32,
  fundingTimeout: codec.u32,
  penalty: codec.enumeration(PENALTIES),
})
export type WireParams = codec.Infer<typeof channelParamsCodec>

/** ChannelParams in their flat wire/record shape (the one encoding of them). */
export function paramsToWire(p: ChannelParams): WireParams {
  return {
    channelId: p.channelId,
    chainId: p.domain.chainId,
    adjudicator: p.domain.adjudicator,
    nonce: p.nonce,
    a: p.parties[0],
    b: p.parties[1],
    pkA: p.publicKeys[0],
    pkB: p.publicKeys[1],
    deposits: p.deposits,
    disputeWindow: p.disputeWindow,
    fundingTimeout: p.fundingTimeout,
    penalty: p.penalty,
  }
}

export function paramsFromWire(w: WireParams): ChannelParams {
  return {
    channelId: w.channelId,
    domain: { chainId: w.chainId, adjudicator: w.adjudicator },
    nonce: w.nonce,
    parties: [w.a, w.b],
    publicKeys: [w.pkA, w.pkB],
    deposits: w.deposits,
    disputeWindow: w.disputeWindow,
    fundingTimeout: w.fundingTimeout,
    penalty: w.penalty,
  }
}
export type WireChannelParams = codec.Infer<typeof channelParamsCodec>

export const wireCodec = codec.messages({
  open: [2, codec.struct({ params: channelParamsCodec, sig })],
  openAck: [3, codec.struct({ channelId: id, sig })],
  /** `entries`: the updates a merged proposal carries (empty: a single update). */
  propose: [4, codec.struct({ state: stateCodec, sig, topUp: codec.amount, entries: codec.list(changeCodec, MAX_MERGE) })],
  /** `more`: the responder has updates of its own waiting; the proposer lets it propose the next version. */
  accept: [5, codec.struct({ channelId: id, version: codec.u64, sig, more: codec.bool })],
  confirm: [6, codec.struct({ channelId: id, version: codec.u64 })],
  /**
   * `digest`: the refused proposal's state digest (a late duplicate refusal of an earlier proposal at the same
   * version must not refuse the new one); `entry`: the update of a merged proposal the refusal is about.
   */
  reject: [7, codec.struct({ channelId: id, version: codec.u64, code: codec.string(64), digest: codec.optional(id), entry: codec.optional(codec.u16) })],
  sync: [8, codec.struct({ channelId: id, version: codec.u64 })],
  state: [9, codec.struct({ state: stateCodec, sigA: sig, sigB: sig })],
})
export type WireMessage = codec.Infer<typeof wireCodec>
export type WireType = WireMessage['type']
export type MessageOf<T extends WireType> = Extract<WireMessage, { type: T }>

export function encodeMessage(msg: WireMessage): Uint8Array {
  return encode(wireCodec, msg)
}

/** Strict decode; throws DecodeError naming the field on any malformed input. */
export function decodeMessage(bytes: Uint8Array): WireMessage {
  return decode(wireCodec, bytes, { maxSize: MAX_FRAME })
}
