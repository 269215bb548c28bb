/**
 * Vouchers: the signed, cumulative IOUs of a Filecoin-style payment channel.
 *
 * A voucher says "lane L of channel C has now been paid `amount` in total, this
 * is update number `nonce` of that lane". It is signed by the channel's `from`
 * over the canonical encoding of every field but the signature, inside a digest
 * that also binds the chain id and the paych contract (so a voucher can be
 * replayed neither on another channel — the channel address is a signed field,
 * specs-actors #612 — nor on another deployment or chain).
 *
 * Heights are u32 block numbers; 0 in timeLockMin / timeLockMax /
 * minSettleHeight means "unset", as in the Filecoin actor. `extra` (the
 * optional call into another actor) is deliberately not modelled.
 */
import {
  type Address,
  type Signer,
  type Verifier,
  addressToBytes,
  bigintToBytes,
  codec,
  decode,
  encode,
  keccakTagged,
} from '@l2bench/core'

/** Most merges one voucher may carry (bounds contract gas and decode size). */
export const MAX_MERGES = 16
/** Most bytes of a hash-lock preimage. */
export const MAX_SECRET_BYTES = 256
/** Most lanes one channel may open (the Filecoin actor's historical LaneLimit). */
export const LANE_LIMIT = 256

export const mergeCodec = codec.struct({ lane: codec.u32, nonce: codec.u64 })
export type Merge = codec.Infer<typeof mergeCodec>

/** The signed fields, in signing order; the signed form appends the signature. */
const voucherFields = {
  channel: codec.address,
  timeLockMin: codec.u32,
  timeLockMax: codec.u32,
  secretHash: codec.optional(codec.fixedBytes(32)),
  lane: codec.u32,
  nonce: codec.u64,
  amount: codec.amount,
  minSettleHeight: codec.u32,
  merges: codec.list(mergeCodec, MAX_MERGES),
}

export const voucherBodyCodec = codec.struct(voucherFields)
export type VoucherBody = codec.Infer<typeof voucherBodyCodec>

export const signedVoucherCodec = codec.struct({ ...voucherFields, signature: codec.fixedBytes(64) })
export type SignedVoucher = codec.Infer<typeof signedVoucherCodec>

/** Where a voucher is valid: the chain and the paych contract. */
export interface VoucherDomain {
  chainId: bigint
  contract: Address
}

const VOUCHER_TAG = 'l2bench/paych/voucher/v1'

/** The body of a signed voucher (every field but the signature). */
export function voucherBody(sv: SignedVoucher): VoucherBody {
  return {
    channel: sv.channel,
    timeLockMin: sv.timeLockMin,
    timeLockMax: sv.timeLockMax,
    secretHash: sv.secretHash,
    lane: sv.lane,
    nonce: sv.nonce,
    amount: sv.amount,
    minSettleHeight: sv.minSettleHeight,
    merges: sv.merges,
  }
}

/** Canonical signing bytes of a voucher body (validates every field). */
export function voucherSigningBytes(body: VoucherBody): Uint8Array {
  return encode(voucherBodyCodec, body)
}

/** The 32-byte digest `from` signs: keccak(tag ‖ chainId ‖ contract ‖ body). */
export function voucherDigest(domain: VoucherDomain, body: VoucherBody): Uint8Array {
  return keccakTagged(
    VOUCHER_TAG,
    bigintToBytes('chainId', domain.chainId, 8),
    addressToBytes('contract', domain.contract),
    voucherSigningBytes(body),
  )
}

/** Signs a voucher body with `from`'s key. */
export function signVoucher(signer: Signer, domain: VoucherDomain, body: VoucherBody): SignedVoucher {
  const signature = signer.sign(voucherDigest(domain, body))
  return { ...body, merges: body.merges.map((m) => ({ ...m })), signature }
}

export function verifyVoucherSignature(verifier: Verifier, domain: VoucherDomain, sv: SignedVoucher, publicKey: Uint8Array): boolean {
  return verifier.verify(sv.signature, voucherDigest(domain, voucherBody(sv)), publicKey)
}

/** Wire form of a signed voucher (what a client hands a provider). */
export function encodeVoucher(sv: SignedVoucher): Uint8Array {
  return encode(signedVoucherCodec, sv)
}

export function decodeVoucher(bytes: Uint8Array): SignedVoucher {
  return decode(signedVoucherCodec, bytes, { maxSize: 4096 })
}

/**
 * Checks that `sv` has the voucher shape (every field typed and in range) and
 * returns a detached copy; throws InvalidInputError naming the bad field.
 */
export function toSignedVoucher(sv: unknown): SignedVoucher {
  return decodeVoucher(encode(signedVoucherCodec, sv as SignedVoucher))
}

/** A voucher body with every optional field unset (convenience for callers and tests). */
export function plainVoucher(channel: Address, lane: number, nonce: bigint, amount: bigint): VoucherBody {
  return { channel, timeLockMin: 0, timeLockMax: 0, secretHash: undefined, lane, nonce, amount, minSettleHeight: 0, merges: [] }
}
