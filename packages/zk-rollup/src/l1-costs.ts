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
/**
 * Prime-order subgroup check of a deposited key, as the Solidity port does it
 * (packages/l1-evm/contracts/Rollup.sol, BabyJubjub.isSubgroupKey): the
 * depositor's client sends the hint B = (8⁻¹ mod l)·A (eddsa.ts subgroupHint,
 * two more ABI words), and the contract checks B on the curve and 8·B = A by
 * three projective doublings. Measured on that port: 3,305 gas for a valid key
 * (l1-evm's test/rollup.test.ts measures it again). Computing l·A by
 * double-and-add in Solidity measured 337,869.
 */
export const SUBGROUP_CHECK_GAS = 3_305
/**
 * submitBatch's call of the Groth16 verifier contract beside the verification
 * itself (groth16VerifyGas): the cold account access, and the interpretation
 * around it — building the verifyProof calldata (the proof's 8 words and the
 * public inputs), the circuit body's memory and the decoding loops — per call
 * and per public input. Fitted to the parity rows of submitBatch
 * (docs/parity.md; `npm run parity -w @l2bench/l1-evm`).
 */
export const VERIFIER_CALL_STEP_BASE = 5_300
export const VERIFIER_CALL_STEP_PER_INPUT = 240
/** Per withdrawal in a batch: the leaf's encoding, the tree's memory and the payee returned (fitted likewise). */
export const WITHDRAWAL_STEP = 2_400
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
