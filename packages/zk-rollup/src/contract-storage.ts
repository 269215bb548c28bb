/**
 * The rollup contract's storage layout (keys and stored shapes), shared by
 * contract.ts and exodus.ts. One key ≈ one EVM slot group.
 */
import { type Address, bigintToBytes, keccakTagged } from '@l2bench/core'
import { type PublicKey, publicKeyId } from './keys.ts'

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

