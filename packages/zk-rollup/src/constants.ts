/**
 * Fixed parameters of the rollup's circuits and encodings. They appear in the
 * circuit (circuits/batch.circom), the calldata codec and the contract, so they
 * live in one place.
 */

/** BN254 scalar field (the circuit's field, and the Groth16 public-input bound). */
export const FIELD_MODULUS = 21888242871839275222246405745257275088548364400416034343698204186575808495617n

/** Order l of Baby Jubjub's prime subgroup; a valid EdDSA S is below it (the circuit checks this too). */
export const SUBGROUP_ORDER = 2736030358979909402780800718157159386076813972158567259200215660948447373041n

/** Balances are < 2^BAL_BITS (circuit: Num2Bits(128) on every new balance). Matches core's MAX_AMOUNT. */
export const BAL_BITS = 128
export const MAX_BALANCE = (1n << BigInt(BAL_BITS)) - 1n

/** Nonces are < 2^NONCE_BITS (circuit: Num2Bits(40) on the sender's nonce). */
export const NONCE_BITS = 40
export const MAX_NONCE = (1n << BigInt(NONCE_BITS)) - 1n

/** Deepest account tree supported (@zk-kit/incremental-merkle-tree's limit; indices fit 4 bytes). */
export const MAX_DEPTH = 32
export const DEFAULT_DEPTH = 16

/** Op type bytes in the batch body. 0 is padding and never appears in posted calldata. */
export const OP_NOOP = 0
export const OP_TRANSFER = 1
export const OP_WITHDRAW = 2
/** Signed-message type of an L1 exit or refund (exodus mode); never an op in a batch. */
export const OP_EXIT_MESSAGE = 3

/** Bytes used by a leaf index at a tree depth. */
export function indexBytes(depth: number): number {
  return Math.ceil(depth / 8)
}
