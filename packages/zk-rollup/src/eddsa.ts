/**
 * EdDSA-Poseidon on Baby Jubjub, exactly circomlib's scheme (the one its
 * EdDSAPoseidonVerifier circuit checks, and @zk-kit/eddsa-poseidon's default
 * "blake-1" variant), on @noble/curves' twisted-Edwards points:
 *
 *   h = BLAKE-512(privateKey); s = prune(h[0..32]) (LE); A = (s >> 3)·B8
 *   r = BLAKE-512(h[32..64] ‖ M as 32 bytes LE) mod l;  R8 = r·B8
 *   S = (r + Poseidon(R8.x, R8.y, A.x, A.y, M)·s) mod l
 *   valid ⇔ S < l and S·B8 = R8 + 8·Poseidon(R8, A, M)·A
 *
 * Speed comes from extended coordinates (no field inversion per addition), a
 * precomputed fixed-base table for B8 (sign: r·B8; verify: S·B8), the signer's
 * secret and public key derived once per key, and, per verified public key, a
 * small cached multi-scalar table for A (the sender's key repeats across ops).
 *
 * Verification also demands that A lie in the prime-order subgroup (and is not
 * the identity); R8 needs no separate check: when the equation holds, R8 equals
 * S·B8 − 8h·A, a point of that subgroup.
 */
import { type EdwardsPoint, edwards } from '@noble/curves/abstract/edwards.js'
import { interleavedMSMUnsafe } from '@noble/curves/abstract/curve.js'
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js'
import { blake512 } from '@noble/hashes/blake1.js'
import { hash5 } from './poseidon.ts'
import { FIELD_MODULUS, SUBGROUP_ORDER } from './constants.ts'
import type { EdDSASignature, PublicKey } from './keys.ts'

/** B8 = 8·G, the generator of the prime-order subgroup circomlib signs with. */
export const BASE8: PublicKey = [
  5299619240641551281634865583518297030282874472190772894086521144482721001553n,
  16950150798460657717958625567821834550301663161624707787222815936182638968203n,
]

/** Baby Jubjub (EIP-2494): a·x² + y² = 1 + d·x²·y² over the BN254 scalar field, cofactor 8, base point B8. */
export const BabyJubjub = edwards({
  p: FIELD_MODULUS,
  n: SUBGROUP_ORDER,
  h: 8n,
  a: 168700n,
  d: 168696n,
  Gx: BASE8[0],
  Gy: BASE8[1],
})
/** Fixed-base window for B8 (built lazily on first use): 33 additions per public multiplication, 49 per blinded one. */
BabyJubjub.BASE.precompute(8)

/** The secret half of a key, derived once: s, the nonce prefix, and the public key A. */
export interface EdDSASecret {
  readonly s: bigint
  readonly prefix: Uint8Array
  readonly publicKey: PublicKey
}

/** Derives s, the nonce prefix and A = (s >> 3)·B8 from a private key of any length, as circomlib/zk-kit do. */
export function deriveEdDSASecret(privateKey: Uint8Array): EdDSASecret {
  const h = blake512(privateKey)
  const sBytes = h.slice(0, 32)
  sBytes[0] = (sBytes[0] as number) & 0xf8
  sBytes[31] = ((sBytes[31] as number) & 0x7f) | 0x40
  const s = bytesToNumberLE(sBytes)
  // s < 2^255, so s >> 3 may exceed l; B8 has order l, so reducing first gives the same point
  // (0 would give the identity, as in circomlib; isValidPublicKey refuses it).
  const a = (s >> 3n) % SUBGROUP_ORDER
  const { x, y } = (a === 0n ? BabyJubjub.ZERO : BabyJubjub.BASE.multiply(a)).toAffine()
  return { s, prefix: h.slice(32, 64), publicKey: [x, y] }
}

/** Signs a field element (0 ≤ message < p; the caller checks the range). */
export function signEdDSAPoseidon(secret: EdDSASecret, message: bigint): EdDSASignature {
  const buf = new Uint8Array(64)
  buf.set(secret.prefix, 0)
  buf.set(numberToBytesLE(message, 32), 32)
  const r = bytesToNumberLE(blake512(buf)) % SUBGROUP_ORDER
  // r = 0 has probability 2^-251; circomlib then signs with R8 = identity, and so does this.
  const R8 = (r === 0n ? BabyJubjub.ZERO : BabyJubjub.BASE.multiply(r)).toAffine()
  const [ax, ay] = secret.publicKey
  const hm = hash5(R8.x, R8.y, ax, ay, message)
  return { R8: [R8.x, R8.y], S: (r + hm * secret.s) % SUBGROUP_ORDER }
}

function isFieldElement(v: unknown): v is bigint {
  return typeof v === 'bigint' && v >= 0n && v < FIELD_MODULUS
}

/** A verified public key: its point, and k ↦ k·A as one interleaved 4-point product of 63-bit scalar chunks. */
interface KeyEntry {
  readonly point: EdwardsPoint
  readonly mul: (k: bigint) => EdwardsPoint
}

const CHUNK = 63n
const CHUNK_MASK = (1n << CHUNK) - 1n
/** Verified keys kept (first in, first out): each holds 16 table points, about 4 KB. */
const MAX_CACHED_KEYS = 4096
const keyCache = new Map<string, KeyEntry>()

function keyEntry(x: bigint, y: bigint): KeyEntry | undefined {
  const id = `${x.toString(16)}:${y.toString(16)}`
  const cached = keyCache.get(id)
  if (cached !== undefined) return cached
  if (!isFieldElement(x) || !isFieldElement(y) || x === 0n) return undefined // (0, ±1): identity, order 2
  let point: EdwardsPoint
  try {
    point = BabyJubjub.fromAffine({ x, y })
    point.assertValidity() // on the curve, not the identity
  } catch {
    return undefined
  }
  // k·A = Σ k_i·(2^(63i)·A) for the 63-bit chunks k_i of k < 2^252: one shared chain of 63
  // doublings instead of 251 (exact for any point A, no reduction mod l involved).
  const p1 = doublings(point, CHUNK)
  const p2 = doublings(p1, CHUNK)
  const p3 = doublings(p2, CHUNK)
  const msm = interleavedMSMUnsafe(BabyJubjub, [point, p1, p2, p3], 4)
  const mul = (k: bigint): EdwardsPoint =>
    msm([k & CHUNK_MASK, (k >> CHUNK) & CHUNK_MASK, (k >> (2n * CHUNK)) & CHUNK_MASK, k >> (3n * CHUNK)])
  // In the prime-order subgroup ⇔ l·A = O ⇔ (l − 1)·A = −A.
  if (!mul(SUBGROUP_ORDER - 1n).equals(point.negate())) return undefined
  if (keyCache.size >= MAX_CACHED_KEYS) keyCache.delete(keyCache.keys().next().value as string)
  const entry = { point, mul }
  keyCache.set(id, entry)
  return entry
}

function doublings(p: EdwardsPoint, times: bigint): EdwardsPoint {
  let q = p
  for (let i = 0n; i < times; i++) q = q.double()
  return q
}

/**
 * A public key signatures can be checked against: two field elements, a point
 * of Baby Jubjub's prime-order subgroup other than the identity. A key with a
 * small-order component would accept every signature made for its torsion-free
 * part (8·h·A erases the component), so it is refused.
 */
export function isSubgroupPublicKey(pk: unknown): pk is PublicKey {
  if (!Array.isArray(pk) || pk.length !== 2) return false
  const [x, y] = pk as unknown[]
  if (typeof x !== 'bigint' || typeof y !== 'bigint') return false
  return keyEntry(x, y) !== undefined
}

const INV8 = (() => {
  // 8⁻¹ mod l (Fermat: 8^(l−2))
  let r = 1n
  let b = 8n
  for (let e = SUBGROUP_ORDER - 2n; e > 0n; e >>= 1n, b = (b * b) % SUBGROUP_ORDER) if (e & 1n) r = (r * b) % SUBGROUP_ORDER
  return r
})()

/**
 * The hint the Solidity port checks a key's subgroup membership with: the
 * point B = (8⁻¹ mod l)·A, so that 8·B = A exactly when A is in the
 * prime-order subgroup (the group has order 8·l: multiplying by 8 maps it
 * onto that subgroup). [0, 0] (not a curve point) for a key off the curve.
 */
export function subgroupHint(pk: PublicKey): PublicKey {
  const [x, y] = pk
  if (!isFieldElement(x) || !isFieldElement(y)) return [0n, 0n]
  try {
    const point = BabyJubjub.fromAffine({ x, y })
    point.assertValidity()
    const h = point.multiplyUnsafe(INV8).toAffine()
    return [h.x, h.y]
  } catch {
    return [0n, 0n]
  }
}

/** circomlib's EdDSAPoseidonVerifier, with the public key also required to be in the prime-order subgroup. */
export function verifyEdDSAPoseidon(message: bigint, signature: EdDSASignature, publicKey: PublicKey): boolean {
  if (!isFieldElement(message) || signature === null || typeof signature !== 'object') return false
  const { R8, S } = signature
  if (typeof S !== 'bigint' || S < 0n || S >= SUBGROUP_ORDER) return false
  if (!Array.isArray(R8) || R8.length !== 2 || !isFieldElement(R8[0]) || !isFieldElement(R8[1])) return false
  if (!Array.isArray(publicKey) || publicKey.length !== 2) return false
  const [ax, ay] = publicKey
  if (typeof ax !== 'bigint' || typeof ay !== 'bigint') return false
  const key = keyEntry(ax, ay)
  if (key === undefined) return false
  const hm = hash5(R8[0], R8[1], ax, ay, message)
  // A has order l, so 8·hm may be reduced mod l.
  const rhs = BabyJubjub.BASE.multiplyUnsafe(S).subtract(key.mul((8n * hm) % SUBGROUP_ORDER))
  // rhs = R8, compared projectively (no inversion): X = x·Z and Y = y·Z.
  const Fp = BabyJubjub.Fp
  return rhs.X === Fp.mul(R8[0], rhs.Z) && rhs.Y === Fp.mul(R8[1], rhs.Z)
}
