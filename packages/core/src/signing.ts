/**
 * secp256k1 signing behind a `Signer` / `Verifier` seam.
 *
 * The scheme: ECDSA over sha256(m), where m is the caller's (domain-separated)
 * 32-byte digest; signatures are 64-byte compact r ‖ s and always low-s.
 * ECDSA over sha256(m) is what OpenSSL computes for `crypto.verify(null, m, …)`
 * on an EC key, so the node:crypto verifier (about 7× faster than noble here)
 * and the noble one check the very same equation.
 *
 * Acceptance rules, identical for every Verifier (a test compares them on
 * random and adversarial inputs):
 *   - signature is exactly 64 bytes, 1 ≤ r < n, 1 ≤ s ≤ n/2 (high-s is rejected:
 *     it is the malleable twin of a valid signature);
 *   - the public key is a valid 33-byte compressed or 65-byte uncompressed point;
 *   - the ECDSA equation holds for sha256(m).
 * A malformed signature or key makes verify return false; a wrong-typed
 * argument (not bytes, digest not 32 bytes) throws InvalidInputError.
 */
import crypto from 'node:crypto'
import * as secp from '@noble/secp256k1'
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { type Address, addressFromBytes } from './address.ts'
import { assertBytes } from './assert.ts'
import { InvalidInputError, SignatureError } from './errors.ts'
import { bigintToBytes, bytesToBigint } from './bytes.ts'

secp.hashes.hmacSha256 = (key, msg) => hmac(nobleSha256, key, msg)
secp.hashes.sha256 = nobleSha256

export const CURVE_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
const HALF_N = CURVE_N >> 1n

export const SIGNATURE_LENGTH = 64

export interface Signer {
  /** 33-byte compressed public key. */
  readonly publicKey: Uint8Array
  readonly address: Address
  /** Signs a 32-byte digest; returns a 64-byte low-s compact signature. */
  sign(digest: Uint8Array): Uint8Array
}

export interface Verifier {
  readonly name: string
  verify(signature: Uint8Array, digest: Uint8Array, publicKey: Uint8Array): boolean
}

/** Address of a public key (33 or 65 bytes). */
export function publicKeyToAddress(publicKey: Uint8Array): Address {
  assertBytes('publicKey', publicKey)
  let uncompressed: Uint8Array
  if (publicKey.length === 65) uncompressed = publicKey
  else if (publicKey.length === 33) uncompressed = secp.Point.fromBytes(publicKey).toBytes(false)
  else throw new InvalidInputError('publicKey', `expected 33 or 65 bytes, got ${publicKey.length}`)
  return addressFromBytes(keccak_256(uncompressed.subarray(1)).subarray(12))
}

/**
 * The 64 bytes x ‖ y of a public key (33 or 65 bytes), as an EVM contract
 * hashes it into an address; undefined when the bytes are not a point.
 */
export function uncompressedPublicKey(publicKey: Uint8Array): Uint8Array | undefined {
  try {
    return secp.Point.fromBytes(publicKey).toBytes(false).subarray(1)
  } catch {
    return undefined
  }
}

/** Validates a 32-byte secret key in [1, n). */
export function assertSecretKey(field: string, secretKey: unknown): asserts secretKey is Uint8Array {
  assertBytes(field, secretKey, 32)
  const d = bytesToBigint(secretKey)
  if (d === 0n || d >= CURVE_N) throw new InvalidInputError(field, 'secret key out of range [1, n)')
}

/** Derives a valid secret key deterministically from a seed (tests, benchmarks, simulations). */
export function secretKeyFromSeed(seed: Uint8Array | string): Uint8Array {
  const base = typeof seed === 'string' ? new TextEncoder().encode(seed) : seed
  for (let i = 0; ; i++) {
    const k = nobleSha256(Uint8Array.from([...base, i]))
    const d = bytesToBigint(k)
    if (d > 0n && d < CURVE_N) return k
  }
}

export function randomSecretKey(): Uint8Array {
  return secp.utils.randomSecretKey()
}

function parseCompact(sig: Uint8Array): { r: bigint; s: bigint } | undefined {
  if (!(sig instanceof Uint8Array) || sig.length !== SIGNATURE_LENGTH) return undefined
  const r = bytesToBigint(sig.subarray(0, 32))
  const s = bytesToBigint(sig.subarray(32))
  if (r === 0n || r >= CURVE_N || s === 0n || s > HALF_N) return undefined
  return { r, s }
}

function checkArgs(digest: Uint8Array, publicKey: Uint8Array): void {
  assertBytes('digest', digest, 32)
  assertBytes('publicKey', publicKey)
}

export class NobleSigner implements Signer {
  readonly publicKey: Uint8Array
  readonly address: Address
  readonly #secretKey: Uint8Array
  constructor(secretKey: Uint8Array) {
    assertSecretKey('secretKey', secretKey)
    this.#secretKey = secretKey.slice()
    this.publicKey = secp.getPublicKey(secretKey, true)
    this.address = publicKeyToAddress(this.publicKey)
  }
  sign(digest: Uint8Array): Uint8Array {
    assertBytes('digest', digest, 32)
    // prehash: true → noble signs sha256(digest), lowS by default.
    return secp.sign(digest, this.#secretKey, { prehash: true, lowS: true })
  }
}

export const nobleVerifier: Verifier = {
  name: 'noble',
  verify(signature, digest, publicKey) {
    checkArgs(digest, publicKey)
    if (parseCompact(signature) === undefined) return false
    try {
      return secp.verify(signature, digest, publicKey, { prehash: true, lowS: true })
    } catch {
      return false
    }
  },
}

const SPKI_COMPRESSED = Buffer.from('3036301006072a8648ce3d020106052b8104000a032200', 'hex')
const SPKI_UNCOMPRESSED = Buffer.from('3056301006072a8648ce3d020106052b8104000a034200', 'hex')
const SEC1_PREFIX = Buffer.from('302e0201010420', 'hex')
const SEC1_SUFFIX = Buffer.from('a00706052b8104000a', 'hex')

/** Public KeyObjects are cached: parsing a point costs about as much as a verify. */
const keyCache = new Map<string, crypto.KeyObject | null>()
const KEY_CACHE_LIMIT = 4096

function nodePublicKey(publicKey: Uint8Array): crypto.KeyObject | null {
  const id = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('hex')
  const cached = keyCache.get(id)
  if (cached !== undefined) return cached
  let key: crypto.KeyObject | null = null
  const first = publicKey[0]
  const prefix =
    publicKey.length === 33 && (first === 2 || first === 3)
      ? SPKI_COMPRESSED
      : publicKey.length === 65 && first === 4
        ? SPKI_UNCOMPRESSED
        : undefined
  if (prefix !== undefined) {
    try {
      key = crypto.createPublicKey({ key: Buffer.concat([prefix, publicKey]), format: 'der', type: 'spki' })
    } catch {
      key = null
    }
  }
  if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.delete(keyCache.keys().next().value as string)
  keyCache.set(id, key)
  return key
}

/** OpenSSL's secp256k1 through node:crypto, with noble's acceptance rules enforced up front. */
export const nodeVerifier: Verifier = {
  name: 'node:crypto',
  verify(signature, digest, publicKey) {
    checkArgs(digest, publicKey)
    if (parseCompact(signature) === undefined) return false
    const key = nodePublicKey(publicKey)
    if (key === null) return false
    return crypto.verify(null, digest, { key, dsaEncoding: 'ieee-p1363' }, signature)
  },
}

/** Signs with OpenSSL; normalises s to the low half so the output is identical in form to noble's. */
export class NodeSigner implements Signer {
  readonly publicKey: Uint8Array
  readonly address: Address
  readonly #key: crypto.KeyObject
  constructor(secretKey: Uint8Array) {
    assertSecretKey('secretKey', secretKey)
    this.publicKey = secp.getPublicKey(secretKey, true)
    this.address = publicKeyToAddress(this.publicKey)
    this.#key = crypto.createPrivateKey({
      key: Buffer.concat([SEC1_PREFIX, secretKey, SEC1_SUFFIX]),
      format: 'der',
      type: 'sec1',
    })
  }
  sign(digest: Uint8Array): Uint8Array {
    assertBytes('digest', digest, 32)
    const sig = new Uint8Array(crypto.sign(null, digest, { key: this.#key, dsaEncoding: 'ieee-p1363' }))
    const s = bytesToBigint(sig.subarray(32))
    if (s > HALF_N) sig.set(bigintToBytes('s', CURVE_N - s, 32), 32)
    return sig
  }
}

export type VerifierName = 'noble' | 'node'

export function getVerifier(name: VerifierName = 'node'): Verifier {
  return name === 'noble' ? nobleVerifier : nodeVerifier
}

export function createSigner(secretKey: Uint8Array, backend: VerifierName = 'noble'): Signer {
  return backend === 'node' ? new NodeSigner(secretKey) : new NobleSigner(secretKey)
}

/** Throws SignatureError naming `field` unless `signature` is valid for `publicKey`. */
export function requireSignature(
  verifier: Verifier,
  field: string,
  signature: Uint8Array,
  digest: Uint8Array,
  publicKey: Uint8Array,
): void {
  if (!verifier.verify(signature, digest, publicKey)) throw new SignatureError(field, 'invalid signature')
}

/** The malleable high-s twin of a signature (for tests of rejection). */
export function toHighS(signature: Uint8Array): Uint8Array {
  const out = signature.slice()
  const s = bytesToBigint(signature.subarray(32))
  out.set(bigintToBytes('s', CURVE_N - s, 32), 32)
  return out
}
