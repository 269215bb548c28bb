/**
 * Rebuilding the account tree from L1 data alone (data availability, ATTACKS
 * 25): read the rollup contract's BatchVerified events in order, fetch each
 * batch transaction's calldata, decode its body and replay it on an empty
 * tree. Deposit entries travel inside the batch bodies, so nothing else is
 * needed. Each replayed root must equal the root the contract stored.
 * A node resumes from this (RollupNode.resume), and users rebuild the tree
 * this way to prove their leaves when they exit in exodus mode.
 */
import type { Address } from '@l2bench/core'
import type { L1, L1Event, TxHash } from '@l2bench/l1-mock'
import type { TxDataSource } from './archive.ts'
import { applyBody } from './batch.ts'
import { type BatchBody, type CircuitParams, decodeBatchCalldata } from './calldata.ts'
import { rollupAbi } from './contract.ts'
import { RollupError } from './errors.ts'
import { AccountTree } from './tree.ts'
import { decode } from '@l2bench/core'

export interface RebuildResult {
  tree: AccountTree
  batches: number
  /** Root after each batch, in order. */
  roots: bigint[]
  /** Deposits the batches consumed: the contract's deposit queue head. */
  depositsConsumed: number
}

/** The body of the batch a BatchVerified event reports, decoded from its transaction's calldata. */
export function batchBodyOf(e: L1Event, params: CircuitParams, data: TxDataSource): BatchBody {
  const input = data.calldataOf(e.txHash as TxHash)
  if (input === undefined)
    throw new RollupError('STATE_MISMATCH', `calldata of batch ${String(e.data.batch)} (tx ${e.txHash}) is not available`, { field: 'txHash' })
  const call = decode(rollupAbi, input)
  if (call.type !== 'submitBatch') throw new RollupError('STATE_MISMATCH', `tx ${e.txHash} is not a submitBatch`, { field: 'txHash' })
  return decodeBatchCalldata(params, call.body)
}

export async function rebuildFromL1(options: {
  l1: L1
  contract: Address
  params: CircuitParams
  data: TxDataSource
}): Promise<RebuildResult> {
  const { l1, contract, params, data } = options
  const tree = new AccountTree(params.depth)
  const roots: bigint[] = []
  let depositsConsumed = 0
  const events = l1.events({ address: contract, name: 'BatchVerified' })
  for (const e of events) {
    const body = batchBodyOf(e, params, data)
    applyBody(tree, body)
    depositsConsumed += body.deposits.length
    if (tree.root !== e.data.newRoot)
      throw new RollupError('STATE_MISMATCH', `batch ${String(e.data.batch)}: rebuilt root differs from the event's`, { field: 'newRoot' })
    roots.push(tree.root)
  }
  const onChain = await l1.read<bigint>(contract, 'root', [])
  if (tree.root !== onChain) throw new RollupError('STATE_MISMATCH', "rebuilt root differs from the contract's root", { field: 'root' })
  return { tree, batches: events.length, roots, depositsConsumed }
}
