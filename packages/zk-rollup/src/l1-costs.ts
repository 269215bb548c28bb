/**
 * What the rollup contract computes that the EVM has no precompile for, and
 * the gas it is charged for it. These are modelled figures (the mock runs the
 * TypeScript and charges these amounts), taken from published Solidity
 * benchmarks:
 *  - Poseidon: poseidon-solidity (chancehudson) — T3 (2 inputs) 21,124 gas,
 *    T5 (4 inputs) 54,352, T6 (5 inputs) 74,065;
 *  - a Baby Jubjub variable-base scalar multiplication: 82,601 gas
 *    (AztecProtocol/Oliver, one point);
 *  - EdDSA-Poseidon verification = Poseidon(5) for h + 2 scalar
 *    multiplications (S·B8, 8h·A) ≈ 74,065 + 2 × 82,601 = 239,267.
 * A Solidity port would measure its own.
 */
import { FIELD_MODULUS } from './constants.ts'
import { leafHash, pathOf, rootFromPath, treeLevels } from './tree.ts'
import type { PublicKey } from './keys.ts'

export const POSEIDON2_GAS = 21_124
export const POSEIDON4_GAS = 54_352
export const POSEIDON5_GAS = 74_065
export const BJJ_SCALAR_MUL_GAS = 82_601
/** Prime-order subgroup check of a key: one scalar multiplication by the subgroup order. */
export const SUBGROUP_CHECK_GAS = BJJ_SCALAR_MUL_GAS
export const EDDSA_VERIFY_GAS = POSEIDON5_GAS + 2 * BJJ_SCALAR_MUL_GAS

/** Gas of checking a leaf against a root: the leaf hash (when not empty) and one Poseidon(4) per level of the quaternary tree. */
export function leafProofGas(depth: number, empty: boolean): number {
  return (empty ? 0 : POSEIDON4_GAS) + treeLevels(depth) * POSEIDON4_GAS
}

/** An account leaf as posted on L1 (undefined: the empty leaf 0). */
export interface LeafWitness {
  account: { publicKey: PublicKey; balance: bigint; nonce: bigint } | undefined
  /** The three other children per level, leaf level first (flatSiblings). */
  siblings: readonly bigint[]
}

/** Root reached from a leaf at `index` through `siblings` in a tree of `depth`; undefined if they are not 3 field elements per level. */
export function rootOfLeaf(index: number, depth: number, w: LeafWitness): bigint | undefined {
  if (w.siblings.some((s) => s < 0n || s >= FIELD_MODULUS)) return undefined
  const path = pathOf(index, depth, w.siblings)
  if (path === undefined) return undefined
  const leaf = w.account === undefined ? 0n : leafHash(w.account)
  return rootFromPath(leaf, path)
}
