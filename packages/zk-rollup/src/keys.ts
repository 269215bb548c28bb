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
 * entries, op signature checks — goes through this one function.
 */
export function isValidPublicKey(pk: unknown): pk is PublicKey {
  if (!Array.isArray(pk) || pk.length !== 2) return false
  const [x, y] = pk as unknown[]
  if (typeof x !== 'bigint' || typeof y !== 'bigint') return false
  if (x < 0n || y < 0n || x >= FIELD_MODULUS || y >= FIELD_MODULUS) return false
  if (x === 0n) return false // (0, ±1): identity and the order-2 point
  if (!inCurve([x, y])) return false
  return inPrimeSubgroup(x, y)
}

// Baby Jubjub (EIP-2494): a·x² + y² = 1 + d·x²·y² over the BN254 scalar field.
const BJJ_A = 168700n
const BJJ_D = 168696n
const P = FIELD_MODULUS
const mod = (v: bigint) => {
  const r = v % P
  return r < 0n ? r + P : r
}

/** Extended twisted-Edwards coordinates (X:Y:Z:T), x = X/Z, y = Y/Z, T = XY/Z: no inversions. */
type Ext = readonly [bigint, bigint, bigint, bigint]

function extAdd([x1, y1, z1, t1]: Ext, [x2, y2, z2, t2]: Ext): Ext {
  // add-2008-hwcd (complete on Baby Jubjub: a square, d non-square)
  const a = mod(x1 * x2)
  const b = mod(y1 * y2)
  const c = mod(BJJ_D * mod(t1 * t2))
  const d = mod(z1 * z2)
  const e = mod((x1 + y1) * (x2 + y2) - a - b)
  const f = d - c
  const g = d + c
  const h = b - BJJ_A * a
  return [mod(e * f), mod(g * h), mod(f * g), mod(e * h)]
}

const VALID_KEYS_MAX = 65_536
const validKeys = new Set<string>()

/** subOrder·P = identity, by double-and-add in extended coordinates (about 2 ms; results memoised). */
function inPrimeSubgroup(x: bigint, y: bigint): boolean {
  const id = `${x.toString(16)}:${y.toString(16)}`
  if (validKeys.has(id)) return true
  const p: Ext = [x, y, 1n, mod(x * y)]
  let acc: Ext = [0n, 1n, 1n, 0n]
  for (let i = SUBGROUP_ORDER.toString(2).length - 1; i >= 0; i--) {
    acc = extAdd(acc, acc)
    if ((SUBGROUP_ORDER >> BigInt(i)) & 1n) acc = extAdd(acc, p)
  }
  const ok = acc[0] === 0n && acc[1] === acc[2]
  if (ok) {
    if (validKeys.size >= VALID_KEYS_MAX) validKeys.clear()
    validKeys.add(id)
  }
  return ok
}

export function verifyOpSignature(message: bigint, signature: EdDSASignature, publicKey: PublicKey): boolean {
  try {
    if (!isValidPublicKey(publicKey)) return false
    if (signature.S >= SUBGROUP_ORDER) return false
    return verifySignature(message, { R8: [signature.R8[0], signature.R8[1]], S: signature.S }, [publicKey[0], publicKey[1]])
  } catch {
    return false
  }
}

export function publicKeyId(pk: PublicKey): string {
  return `${pk[0].toString(16)}:${pk[1].toString(16)}`
}
