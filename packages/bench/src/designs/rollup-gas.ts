/**
 * The L1 gas of the rollup's batches built but not proven (†).
 *
 * On the mock: the proven batches' gas, split by the receipts' labelled
 * breakdown of the mock's gas model (FixedGas), priced per † batch by its
 * deposits and calldata.
 *
 * On the EVM backend (anvil gives no labelled breakdown): each † batch's
 * submitBatch is executed (EvmL1.trial) in batch order after the proven
 * batches, on a throwaway copy of the chain with the Groth16 verifier's code
 * replaced by a stub that accepts; its gas = the receipt's gas − the stub's
 * frame + the real verifier's frame, read from the proven batches' call
 * traces (Groth16 verification costs the same for every batch of a circuit:
 * fixed precompile prices, as many public inputs).
 */
import type { Address } from '@l2bench/core'
import type { CallFrame, EvmL1 } from '@l2bench/l1-evm'
import { EVM_STEP, GAS_SCHEDULE, type TxHash } from '@l2bench/l1-mock'
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

/** EVM code that returns uint256(1) whatever it is called with: PUSH1 1, PUSH1 0, MSTORE, PUSH1 32, PUSH1 0, RETURN. */
export const ACCEPTING_VERIFIER = '0x600160005260206000f3' as const

/** The gas that ran inside the one call a submitBatch trace makes to `verifier` (its callTracer frame). */
export function verifierFrameGas(trace: CallFrame, verifier: Address): number {
  const frames: CallFrame[] = []
  const walk = (f: CallFrame): void => {
    for (const c of f.calls ?? []) {
      if (c.to?.toLowerCase() === verifier) frames.push(c)
      walk(c)
    }
  }
  walk(trace)
  const [frame] = frames
  if (frames.length !== 1 || frame?.gasUsed === undefined)
    throw new Error(`rollup: expected one call to the verifier ${verifier} in a submitBatch trace, found ${frames.length}`)
  return Number(BigInt(frame.gasUsed))
}

/** The verifier the deployed port calls, and the gas its frame used in each proven batch (their submitBatch traces). */
export async function provenVerifierGas(evm: EvmL1, rollup: Address, hashes: readonly TxHash[]): Promise<{ verifier: Address; gas: number[] }> {
  const verifier = await evm.read<Address>(rollup, 'verifier', [])
  const gas: number[] = []
  for (const h of hashes) gas.push(verifierFrameGas(await evm.trace(h), verifier))
  return { verifier, gas }
}

/**
 * Each † batch's submitBatch gas, executed on the EVM backend (see the
 * module comment): `calls` in batch order, from `from` (the operator).
 * `verifierGas`: the real verifier frame's gas of the proven batches (this
 * run's, or those measured earlier in this process). A reverted submission
 * fails with the contract's reason (TrialRevertedError): nothing falls back
 * to a model.
 */
export async function executedBatchGas(
  evm: EvmL1,
  a: { rollup: Address; from: Address; calls: readonly Uint8Array[]; verifierGas: readonly number[]; onProgress?: (done: number, total: number) => void },
): Promise<{ gas: number[]; how: string }> {
  if (a.calls.length === 0) return { gas: [], how: 'no batch to execute' }
  if (a.verifierGas.length === 0) throw new Error('rollup: no proven batch traced: the real verifier gas of a † batch is unknown')
  const verifier = await evm.read<Address>(a.rollup, 'verifier', [])
  const hex = (b: Uint8Array) => `0x${Buffer.from(b).toString('hex')}` as const
  const results = await evm.trial(
    a.calls.map((c) => ({ from: a.from, to: a.rollup, data: hex(c) })),
    { code: new Map([[verifier, ACCEPTING_VERIFIER]]), ...(a.onProgress === undefined ? {} : { onProgress: a.onProgress }) },
  )
  const real = mean(a.verifierGas)
  const stubs = results.map((r) => verifierFrameGas(r.trace, verifier))
  const gas = results.map((r, i) => Math.round(r.gasUsed - (stubs[i] as number) + real))
  const lo = Math.min(...a.verifierGas)
  const hi = Math.max(...a.verifierGas)
  const n = a.verifierGas.length
  const stubLo = Math.min(...stubs)
  const stubHi = Math.max(...stubs)
  const fmt = (x: number) => Math.round(x).toLocaleString('en-US')
  return {
    gas,
    how:
      `executed on anvil with the verifier stubbed; verifier gas from the proven batches' traces: each batch's submitBatch (its exact calldata, a placeholder proof of 256 non-zero bytes) ` +
      `sent in batch order after the proven batches on a snapshot of the chain with the Groth16 verifier's code replaced by a stub returning true, the snapshot reverted afterwards (none of these transactions is counted); ` +
      `gas = the receipt's gas − the stub's frame (${stubLo === stubHi ? fmt(stubLo) : `${fmt(stubLo)}–${fmt(stubHi)}`} gas) + the real verifier's frame (${fmt(real)} gas: ` +
      (lo === hi ? `the same in each of the ${n} proven batch${n === 1 ? '' : 'es'}` : `mean of ${n} proven batches, ${fmt(lo)}–${fmt(hi)}`) +
      ', from their callTracer traces)',
  }
}
