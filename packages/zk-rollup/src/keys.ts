/**
 * L2 keys: EdDSA-Poseidon on Baby Jubjub (@zk-kit/eddsa-poseidon), the scheme
 * circomlib's EdDSAPoseidonVerifier checks in the circuit. An L2 account is
 * identified by its public key (x, y); the L1 keys (secp256k1) are separate.
 */
import { InvalidInputError, assertBytes, taggedHash, utf8ToBytes } from '@l2bench/core'
import { createRequire } from 'node:module'
import { inCurve } from '@zk-kit/baby-jubjub'
import { FIELD_MODULUS } from './constants.ts'

// The ESM build of @zk-kit/eddsa-poseidon imports named exports from blakejs
// (CommonJS), which Node's ESM loader refuses; its CommonJS build works.
const { derivePublicKey, signMessage, verifySignature } = createRequire(import.meta.url)(
  '@zk-kit/eddsa-poseidon',
) as typeof import('@zk-kit/eddsa-poseidon')

export type PublicKey = readonly [bigint, bigint]

export interface EdDSASignature {
  readonly R8: readonly [bigint, bigint]
  readonly S: bigint
}

/** Order of Baby Jubjub's prime subgroup; a valid S is below it (the circuit checks this too). */
export const SUBGROUP_ORDER = 2736030358979909402780800718157159386076813972158567259200215660948447373041n

export class L2Key {
  readonly publicKey: PublicKey
  readonly #privateKey: Uint8Array

  constructor(privateKey: Uint8Array) {
    assertBytes('privateKey', privateKey, 32)
    this.#privateKey = Uint8Array.from(privateKey)
    const [x, y] = derivePublicKey(Buffer.from(this.#privateKey))
    this.publicKey = [x, y]
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
    const sig = signMessage(Buffer.from(this.#privateKey), message)
    return { R8: [BigInt(sig.R8[0]), BigInt(sig.R8[1])], S: BigInt(sig.S) }
  }
}

/** A public key the circuit and contract accept: two field elements on the curve, not the identity. */
export function isValidPublicKey(pk: unknown): pk is PublicKey {
  if (!Array.isArray(pk) || pk.length !== 2) return false
  const [x, y] = pk as unknown[]
  if (typeof x !== 'bigint' || typeof y !== 'bigint') return false
  if (x < 0n || y < 0n || x >= FIELD_MODULUS || y >= FIELD_MODULUS) return false
  if (x === 0n) return false // (0, ±1): identity and the order-2 point; signatures under them are forgeable
  return inCurve([x, y])
}

export function verifyOpSignature(message: bigint, signature: EdDSASignature, publicKey: PublicKey): boolean {
  try {
    if (signature.S >= SUBGROUP_ORDER) return false
    return verifySignature(message, { R8: [signature.R8[0], signature.R8[1]], S: signature.S }, [publicKey[0], publicKey[1]])
  } catch {
    return false
  }
}

export function publicKeyId(pk: PublicKey): string {
  return `${pk[0].toString(16)}:${pk[1].toString(16)}`
}
