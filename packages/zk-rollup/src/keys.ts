/**
 * L2 keys: EdDSA-Poseidon on Baby Jubjub (./eddsa.ts), the scheme circomlib's
 * EdDSAPoseidonVerifier checks in the circuit. An L2 account is identified by
 * its public key (x, y); the L1 keys (secp256k1) are separate.
 */
import { InvalidInputError, assertBytes, taggedHash, utf8ToBytes } from '@l2bench/core'
import { FIELD_MODULUS } from './constants.ts'
import { type EdDSASecret, deriveEdDSASecret, isSubgroupPublicKey, signEdDSAPoseidon, verifyEdDSAPoseidon } from './eddsa.ts'

export type PublicKey = readonly [bigint, bigint]

export interface EdDSASignature {
  readonly R8: readonly [bigint, bigint]
  readonly S: bigint
}

export class L2Key {
  readonly publicKey: PublicKey
  readonly #secret: EdDSASecret

  constructor(privateKey: Uint8Array) {
    assertBytes('privateKey', privateKey, 32)
    // Derived once: signing reuses s, the nonce prefix and the public key.
    this.#secret = deriveEdDSASecret(Uint8Array.from(privateKey))
    this.publicKey = this.#secret.publicKey
  }

  /** Deterministic key for tests and simulations (never for real funds). */
  static fromSeed(seed: string | Uint8Array): L2Key {
    const bytes = typeof seed === 'string' ? utf8ToBytes(seed) : seed
    return new L2Key(taggedHash('l2bench/zk-rollup/l2-key/v1', bytes))
  }

  /** Signs a field element (the op message). */
  sign(message: bigint): EdDSASignature {
    if (typeof message !== 'bigint' || message < 0n || message >= FIELD_MODULUS)
      throw new InvalidInputError('message', 'expected a field element')
    return signEdDSAPoseidon(this.#secret, message)
  }
}

/**
 * A public key the circuit and contract accept: two field elements, a point of
 * Baby Jubjub's prime-order subgroup other than the identity.
 *
 * On the curve is not enough. A point of small order (the curve has cofactor
 * 8) makes the off-chain check S·B8 = R8 + 8h·A accept R8 = S·B8 for any S,
 * while circomlib's verifier refuses it (it requires 8A ≠ O) — a signature
 * anyone can make, which used to pass admission and then fail every proof. A
 * point with a small-order component is refused too: 8h·A erases the
 * component, so it is a second key for the secret of its prime-order part.
 * So every place a key enters — deposit (contract), calldata decoder, deposit
 * entries, op signature checks — goes through this one check (verification
 * reaches it through eddsa.ts's key table, which is built only for a key that
 * passes it; l·A = O is tested there with @noble/curves, results memoised).
 */
export function isValidPublicKey(pk: unknown): pk is PublicKey {
  return isSubgroupPublicKey(pk)
}

/** EdDSA-Poseidon verification of an op message (false for anything malformed, never a throw). */
export function verifyOpSignature(message: bigint, signature: EdDSASignature, publicKey: PublicKey): boolean {
  try {
    // Refuses a key outside the prime-order subgroup (the same check as isValidPublicKey).
    return verifyEdDSAPoseidon(message, signature, publicKey)
  } catch {
    return false
  }
}

export function publicKeyId(pk: PublicKey): string {
  return `${pk[0].toString(16)}:${pk[1].toString(16)}`
}
