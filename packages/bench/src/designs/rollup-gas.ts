/**
 * The L1 gas of the rollup's proven batches, split so that a batch built but
 * not proven (†) can be charged what it would have paid: read from the
 * receipts' labelled breakdown of the mock's gas model.
 */
import { EVM_STEP, GAS_SCHEDULE } from '@l2bench/l1-mock'
import type { BatchReport } from '@l2bench/zk-rollup'

/**
 * The gas of a proven submitBatch beyond its calldata, split so that a batch
 * built but not proven (†) is charged for its own deposits: `base` is what
 * every batch pays (the transaction, the proof verification, the reads, the
 * root and batch-count writes); each deposit consumed adds `perDeposit` (its
 * entry's hash and read), and a batch with deposits writes the queue head,
 * `headWrite`. `slotsNew`: the batch wrote a storage slot for the first time
 * (20,000 instead of 2,900: the chain's first batch), which no later batch does.
 */
export interface FixedGas {
  base: number
  deposits: number
  perDeposit: number
  headWrite: number
  slotsNew: boolean
}
export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length
}

/** A proven batch's gas beyond calldata, split by its receipt's labelled breakdown (see FixedGas). */
export function fixedGasOf(r: BatchReport): FixedGas {
  let calldata = 0
  let deposit = 0
  let headWrite = 0
  let slotsNew = false
  // Each storage slot read or written also costs the EVM's slot step (charged under evm.storage, unlabelled).
  const steps = (c: { op: string; gas: number }) => EVM_STEP.slot * Math.round(c.gas / GAS_SCHEDULE[c.op as keyof typeof GAS_SCHEDULE])
  for (const c of r.receipt.breakdown) {
    if (c.op === 'storageNew' && ['submitBatch.root', 'submitBatch.batches', 'submitBatch.queueHead'].includes(c.label)) slotsNew = true
    if (c.label === 'tx.calldata') calldata += c.gas
    else if (c.label === 'submitBatch.depositHash') deposit += c.gas
    else if (c.label === 'submitBatch.queueEntry') deposit += c.gas + steps(c)
    // The queue head is read by every batch and written by a batch with deposits (its cold read came with the read).
    else if (c.label === 'submitBatch.queueHead' && (c.op === 'storageNew' || c.op === 'storageUpdate' || c.op === 'storageDirty')) headWrite += c.gas + steps(c)
  }
  return {
    base: r.gasUsed - calldata - deposit - headWrite,
    deposits: r.deposits,
    perDeposit: r.deposits > 0 ? deposit / r.deposits : 0,
    headWrite,
    slotsNew,
  }
}

/**
 * The fixed gas of a later batch: the mean over the proven batches that wrote
 * no storage slot for the first time, as every later batch does (all of them
 * if there is none); per deposit and the head write over those that consumed
 * deposits.
 */
export function steadyFixedGas(all: readonly FixedGas[]): { base: number; perDeposit: number; headWrite: number; how: string } {
  const steady = all.filter((f) => !f.slotsNew)
  const use = steady.length > 0 ? steady : all
  const withDeposits = use.some((f) => f.deposits > 0) ? use.filter((f) => f.deposits > 0) : all.filter((f) => f.deposits > 0)
  const skipped = all.length - use.length
  return {
    base: mean(use.map((f) => f.base)),
    perDeposit: mean(withDeposits.map((f) => f.perDeposit)),
    headWrite: mean(withDeposits.map((f) => f.headWrite)),
    how:
      skipped > 0
        ? `mean of ${use.length} proven batch${use.length === 1 ? '' : 'es'}; the chain's first batch, which wrote its storage slots for the first time, left out`
        : steady.length > 0
          ? `mean of ${use.length} proven batch${use.length === 1 ? '' : 'es'}`
          : `mean of ${use.length} proven batch${use.length === 1 ? '' : 'es'}, every one of which wrote a storage slot for the first time: an overestimate for later batches`,
  }
}
