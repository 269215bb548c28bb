/**
 * @l2bench/core — the pieces every design shares: bigint amounts with checked
 * arithmetic, the canonical codec, domain-separated hashing, secp256k1 signing
 * behind a Signer/Verifier seam, Ethereum-style addresses, one typed error base
 * and one seeded RNG.
 */
export * from './address.ts'
export * from './amount.ts'
export * from './assert.ts'
export * from './bytes.ts'
export * from './clock.ts'
export * as codec from './codec.ts'
export type { Codec, Infer } from './codec.ts'
export { decode, encode } from './codec.ts'
export * from './errors.ts'
export * from './hash.ts'
export * from './rng.ts'
export * from './signing.ts'
export * from './worker.ts'
