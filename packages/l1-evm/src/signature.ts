/**
 * The project's signatures on the EVM.
 *
 * The protocol signs ECDSA over sha256(digest) and ships 64-byte low-s
 * signatures without a recovery id (core/src/signing.ts). ecrecover needs the
 * parity of R. Two ways to get it on chain:
 *  - try both parities in the contract: a second ecrecover (3,000 gas plus
 *    about 700 for the staticcall and its memory) for the half of the
 *    signatures whose parity is 1, so a signature's gas depends on luck;
 *  - carry it: the client finds the parity by recovering the key off-chain
 *    (at most two recoveries, ≈ 1–2 ms with noble) and sends the signature in
 *    the EIP-2098 compact form (r, parity << 255 | s), which is still 64
 *    bytes of calldata because a low-s `s` leaves the top bit free.
 * The bindings do the second: one ecrecover per signature on chain, the same
 * bytes as the mock's calldata, and no change to the protocol's signatures.
 * A signature that recovers to neither parity is sent with parity 0; the
 * contract then rejects it, as the mock does.
 */
import { type Address, type Hex, publicKeyToAddress, toHex } from '@l2bench/core'
import * as secp from '@noble/secp256k1'

export interface CompactSignature {
  r: Hex
  /** parity << 255 | s (EIP-2098). */
  vs: Hex
}

/** The recovery parity (0 or 1) under which `signature` over sha256(digest) recovers `signer`; undefined if none. */
export function recoveryParity(signature: Uint8Array, digest: Uint8Array, signer: Address): 0 | 1 | undefined {
  if (!(signature instanceof Uint8Array) || signature.length !== 64 || digest.length !== 32) return undefined
  for (const bit of [0, 1] as const) {
    try {
      const key = secp.recoverPublicKey(Uint8Array.of(bit, ...signature), digest, { prehash: true })
      if (publicKeyToAddress(key) === signer) return bit
    } catch {
      // not a valid signature under this parity
    }
  }
  return undefined
}

/** EIP-2098 form of a 64-byte signature by `signer` over sha256(digest). */
export function toCompact(signature: Uint8Array, digest: Uint8Array, signer: Address): CompactSignature {
  const bytes = signature instanceof Uint8Array && signature.length === 64 ? signature : new Uint8Array(64)
  const parity = recoveryParity(bytes, digest, signer) ?? 0
  const vs = bytes.slice(32)
  if (parity === 1) vs[0] = (vs[0] as number) | 0x80
  return { r: toHex(bytes.slice(0, 32)), vs: toHex(vs) }
}
