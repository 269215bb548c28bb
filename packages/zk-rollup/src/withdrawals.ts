/**
 * Withdrawal claims. When a batch with withdrawals is verified, the contract
 * stores one 32-byte commitment to the batch's withdrawal list: a keccak Merkle
 * tree over leaves (batch, position, payee, amount). Each payee later claims
 * with a Merkle proof against that batch's commitment; the contract marks
 * (batch, position) as claimed, so a second claim, or a claim proven against
 * any other (stale, forged) root, reverts. Leaves and inner nodes are hashed
 * under different tags, so a node can never pass as a leaf. A withdrawal to
 * the reserved payee id 2^depth − 1 needs no registered address: its leaf
 * names the account instead (another tag), and the account's key names the
 * payee when it is claimed (exodus.ts, claimByKey) — so a payee table filled
 * by someone else cannot keep anyone's funds on L2.
 */
import { type Address, ZERO_ADDRESS, addressToBytes, bigintToBytes, keccakTagged } from '@l2bench/core'
import type { BodyOp } from './calldata.ts'
import { OP_WITHDRAW } from './constants.ts'
import { RollupError } from './errors.ts'

export interface Withdrawal {
  /** Position among the batch's withdrawals (0-based). */
  position: number
  /** The L1 address paid (ZERO_ADDRESS for a withdrawal the account's key claims). */
  payee: Address
  amount: bigint
  /**
   * Set for a withdrawal to the reserved payee id 2^depth − 1 (keyPayeeId):
   * the account it came from, whose key names the L1 payee when claiming.
   */
  account?: number
}

const LEAF_TAG = 'l2bench/zk-rollup/withdrawal-leaf/v1'
const KEY_LEAF_TAG = 'l2bench/zk-rollup/withdrawal-leaf-key/v1'

/** The payee id no address is registered under: a withdrawal to it is claimed with the account's key (claimByKey). */
export function keyPayeeId(depth: number): number {
  return 2 ** depth - 1
}
const NODE_TAG = 'l2bench/zk-rollup/withdrawal-node/v1'
const COMMIT_TAG = 'l2bench/zk-rollup/withdrawals/v1'
const ZERO = new Uint8Array(32)

/**
 * A batch's withdrawal list, in body order, as the contract commits to it:
 * the registered address of each payee id (`payeeOf`, which the contract
 * makes revert on an unknown id), or the account for the reserved id.
 */
export function withdrawalsOf(depth: number, ops: readonly BodyOp[], payeeOf: (id: number, op: number) => Address): Withdrawal[] {
  const out: Withdrawal[] = []
  ops.forEach((op, i) => {
    if (op.type !== OP_WITHDRAW) return
    if (op.to === keyPayeeId(depth)) out.push({ position: out.length, payee: ZERO_ADDRESS, amount: op.amount, account: op.from })
    else out.push({ position: out.length, payee: payeeOf(op.to, i), amount: op.amount })
  })
  return out
}

export function withdrawalLeaf(batch: bigint, w: Withdrawal): Uint8Array {
  if (w.account !== undefined)
    return keccakTagged(
      KEY_LEAF_TAG,
      bigintToBytes('batch', batch, 8),
      bigintToBytes('position', BigInt(w.position), 4),
      bigintToBytes('account', BigInt(w.account), 4),
      bigintToBytes('amount', w.amount, 16),
    )
  return keccakTagged(
    LEAF_TAG,
    bigintToBytes('batch', batch, 8),
    bigintToBytes('position', BigInt(w.position), 4),
    addressToBytes('payee', w.payee),
    bigintToBytes('amount', w.amount, 16),
  )
}

export function withdrawalNode(left: Uint8Array, right: Uint8Array): Uint8Array {
  return keccakTagged(NODE_TAG, left, right)
}

/** Levels of the tree for `count` leaves (0 for a single leaf). */
export function withdrawalTreeDepth(count: number): number {
  let depth = 0
  while (2 ** depth < count) depth++
  return depth
}

/** Root over the leaves (padded with zero leaves to a power of two). Also returns the number of hashes (for gas). */
export function withdrawalRoot(leaves: readonly Uint8Array[]): { root: Uint8Array; hashes: number } {
  if (leaves.length === 0) return { root: ZERO, hashes: 0 }
  let level = [...leaves]
  let hashes = 0
  const depth = withdrawalTreeDepth(leaves.length)
  for (let d = 0; d < depth; d++) {
    const next: Uint8Array[] = []
    for (let i = 0; i < level.length; i += 2) {
      next.push(withdrawalNode(level[i] as Uint8Array, level[i + 1] ?? ZERO))
      hashes++
    }
    level = next
  }
  return { root: level[0] as Uint8Array, hashes }
}

export function withdrawalProof(leaves: readonly Uint8Array[], position: number): Uint8Array[] {
  const proof: Uint8Array[] = []
  let level = [...leaves]
  let pos = position
  const depth = withdrawalTreeDepth(leaves.length)
  for (let d = 0; d < depth; d++) {
    proof.push(level[pos ^ 1] ?? ZERO)
    const next: Uint8Array[] = []
    for (let i = 0; i < level.length; i += 2) next.push(withdrawalNode(level[i] as Uint8Array, level[i + 1] ?? ZERO))
    level = next
    pos >>= 1
  }
  return proof
}

/** Root from a leaf and its proof. */
export function rootFromWithdrawalProof(leaf: Uint8Array, position: number, proof: readonly Uint8Array[]): Uint8Array {
  let cur = leaf
  let pos = position
  for (const sib of proof) {
    cur = pos & 1 ? withdrawalNode(sib, cur) : withdrawalNode(cur, sib)
    pos >>= 1
  }
  return cur
}

/** The one value the contract stores per batch: binds the root and the number of withdrawals. */
export function withdrawalCommitment(count: number, root: Uint8Array): Uint8Array {
  return keccakTagged(COMMIT_TAG, bigintToBytes('count', BigInt(count), 4), root)
}

/** Batch, position, count, amount and Merkle proof of one withdrawal of a verified batch. */
export function withdrawalClaimFields(report: { batch: bigint; withdrawals: readonly Withdrawal[] }, position: number) {
  const w = report.withdrawals[position]
  if (w === undefined) throw new RollupError('INVALID_OP', `batch ${report.batch} has no withdrawal ${position}`, { field: 'position' })
  const leaves = report.withdrawals.map((x) => withdrawalLeaf(report.batch, x))
  return { batch: report.batch, position, count: report.withdrawals.length, amount: w.amount, proof: withdrawalProof(leaves, position) }
}
