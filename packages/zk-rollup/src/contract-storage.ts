/**
 * The rollup contract's storage layout (keys and stored shapes) and the
 * withdrawal payout, shared by contract.ts and exodus.ts. One key ≈ one EVM
 * slot group.
 */
import { type Address, bigintToBytes, keccakTagged } from '@l2bench/core'
import { type CallContext, GAS_SCHEDULE } from '@l2bench/l1-mock'
import { rollupLog } from './abi.ts'
import { type PublicKey, publicKeyId } from './keys.ts'
import { type Withdrawal, rootFromWithdrawalProof, withdrawalCommitment, withdrawalLeaf, withdrawalTreeDepth } from './withdrawals.ts'

const DEPOSIT_TAG = 'l2bench/zk-rollup/deposit/v1'

/** The hash the contract stores per queued deposit (its first 20 bytes, beside the queueing time). */
export function depositEntryHash(pk: PublicKey, amount: bigint): Uint8Array {
  return keccakTagged(DEPOSIT_TAG, bigintToBytes('pubX', pk[0], 32), bigintToBytes('pubY', pk[1], 32), bigintToBytes('amount', amount, 16)).subarray(0, 20)
}

/** One queued deposit as stored: one slot (bytes20 hash, u64 time). */
export interface QueueEntry {
  hash: Uint8Array
  /** L1 timestamp (seconds) when it was queued. */
  at: number
}

/** Storage keys. */
export const K = {
  root: 'root',
  batches: 'batches',
  queueLength: 'queue.length',
  queueHead: 'queue.head',
  queue: (i: number) => `queue.${i}`,
  payees: 'payees.count',
  payee: (id: number) => `payee.${id}`,
  payeeId: (a: Address) => `payeeId.${a}`,
  withdrawals: (b: bigint) => `withdrawals.${b}`,
  claimed: (b: bigint, p: number) => `claimed.${b}.${p}`,
  leavesReserved: 'leaves.reserved',
  keyLeaf: (pk: PublicKey) => `keyLeaf.${publicKeyId(pk)}`,
  exodus: 'exodus',
  forced: (account: number) => `forced.${account}`,
  exited: (index: number) => `exited.${index}`,
  refunded: (queueIndex: number) => `refunded.${queueIndex}`,
} as const

export function eqBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}


/**
 * Pays withdrawal `w` of a verified batch to `to`, once: the leaf must be in
 * the batch's stored commitment (Merkle proof of `proof.length` =
 * log2(count) levels) and not paid yet.
 */
export function payWithdrawal(
  ctx: CallContext,
  call: { batch: bigint; position: number; count: number; proof: Uint8Array[] },
  w: Withdrawal,
  to: Address,
  label: string,
): void {
  const stored = ctx.sload<Uint8Array>(K.withdrawals(call.batch), `${label}.commitment`)
  if (stored === undefined) ctx.revert(`batch ${call.batch} has no withdrawals`, 'batch', 'NO_WITHDRAWALS')
  if (call.position >= call.count) ctx.revert('position outside the batch', 'position', 'WITHDRAWAL_PROOF_MISMATCH')
  if (call.proof.length !== withdrawalTreeDepth(call.count)) ctx.revert('proof length does not match the count', 'proof', 'WITHDRAWAL_PROOF_MISMATCH')
  ctx.chargeGas('keccakBase', `${label}.proof`, (call.proof.length + 2) * (GAS_SCHEDULE.keccakBase + GAS_SCHEDULE.keccakWord * 3))
  const root = rootFromWithdrawalProof(withdrawalLeaf(call.batch, w), call.position, call.proof)
  if (!eqBytes(withdrawalCommitment(call.count, root), stored))
    ctx.revert("proof does not match the batch's withdrawals", 'proof', 'WITHDRAWAL_PROOF_MISMATCH')
  if (ctx.sload<boolean>(K.claimed(call.batch, call.position), `${label}.claimed`) === true)
    ctx.revert('withdrawal already paid', 'position', 'ALREADY_WITHDRAWN')
  ctx.sstore(K.claimed(call.batch, call.position), true, `${label}.claimed`)
  ctx.transfer(to, w.amount, `${label}.pay`)
  ctx.emit('Withdrawn', { batch: call.batch, position: call.position, payee: to, amount: w.amount }, rollupLog('Withdrawn'))
}
