/**
 * What the rollup's run reports beside gas: its prover work per payment
 * (results.json `prover`) and the inputs of its capacity formula, from the
 * measurements of the proven batches (this run's, or the same circuit's
 * earlier in this process) and the batches built.
 */
import { calldataGas } from '@l2bench/l1-mock'
import type { ClosedBatch } from '@l2bench/zk-rollup'
import type { CapacityInputs } from '../design.ts'
import type { ProverCostJson } from '../results.ts'
import { type FixedGas, mean, steadyFixedGas } from './rollup-gas.ts'

export interface CostFacts {
  basis: { proofMs: readonly number[]; cpuMs: readonly number[]; fixedGas: readonly FixedGas[] }
  /** The basis was measured earlier in this process (nothing proven in this run). */
  reused: boolean
  circuit: string
  constraints: number
  workers: number
  n: number
  d: number
  /** In order; `gasBeyondCalldata`: its submitBatch's gas less its calldata gas, where known exactly (its receipt, or executed on the EVM). */
  batches: readonly { proven: boolean; closed: ClosedBatch; gasBeyondCalldata?: number }[]
  /** The L1's receipts carry the labelled gas breakdown the fixed-gas split reads (the mock); not on the EVM backend. */
  labelled: boolean
  succeeded: number
  /** The proofs came from a prover farm (worker processes, each prover using its machine's cores), not this process's pool. */
  farm: boolean
}

/**
 * The run's prover work per payment: every batch proves the whole circuit
 * (padding and deposit slots included), so constraints per payment =
 * constraints × batches ÷ payments; CPU per payment = the CPU per proof
 * (the proving thread's, or a farm worker's process over the job; measured
 * on the proven batches) × batches ÷ payments, absent when not measured.
 */
export function proverCostOf(f: CostFacts): ProverCostJson {
  const basis = f.basis
  const batches = f.batches.length
  const proven = f.batches.filter((b) => b.proven).length
  const cpuPerProof = mean(basis.cpuMs) / 1000
  const payments = Math.max(1, f.succeeded)
  const all = proven === batches && batches > 0
  const clock = f.farm
    ? "CPU time measured on the farm's workers (each worker process over its job: its prover's threads)"
    : "the proving threads' CPU time (/proc/thread-self/schedstat)"
  const cpuHow = all
    ? `${basis.cpuMs.length} proofs made in this run, ${clock} ÷ ${payments} payments`
    : `${cpuPerProof.toFixed(2)} s CPU per proof (mean over ${basis.cpuMs.length} proven batches, ${clock}) × ${batches} batches ÷ ${payments} payments`
  const measured = basis.cpuMs.length > 0
  return {
    circuit: f.circuit,
    constraintsPerBatch: f.constraints,
    batches,
    provenBatches: proven,
    workers: f.workers,
    constraintsPerPayment: {
      value: Math.round((f.constraints * batches) / payments),
      unit: 'constraints/payment',
      source: 'computed',
      how: `${f.constraints.toLocaleString('en-US')} constraints × ${batches} batches ÷ ${payments} payments (every batch proves the whole circuit: no-op padding and deposit slots included; a full batch of transfers alone: ${Math.round(f.constraints / f.n).toLocaleString('en-US')})`,
    },
    // Not measured (no /proc, or a farm worker that proved two jobs at once): absent, never a 0.
    ...(measured
      ? {
          cpuSecondsPerPayment: {
            value: Number(((cpuPerProof * batches) / payments).toPrecision(4)),
            unit: 'CPU s/payment',
            source: all ? ('measured' as const) : ('computed' as const),
            how: cpuHow,
          },
          cpuSecondsPerProof: Number(cpuPerProof.toPrecision(4)),
        }
      : {}),
    wallSecondsPerProof: Number((mean(basis.proofMs) / 1000).toPrecision(4)),
  }
}

/**
 * Prover: this machine's pool — workers × the circuit's constraints ÷ the
 * mean witness + proof time of a proven batch (the proofs ran side by
 * side). Constraints per payment: a full batch, constraints ÷ n. L1 gas per
 * transfer in a full batch: the measured fixed gas of a proven submitBatch
 * ÷ n + the calldata gas one transfer adds to a batch body (measured over
 * the batches of the payment phase that carried no deposit).
 */
export function capacityInputsOf(f: CostFacts): CapacityInputs {
  const basis = f.basis
  const proofS = mean(basis.proofMs) / 1000
  const fixed = fixedGasWithoutDeposits(f)
  let bodyGas = 0
  let transfers = 0
  for (const b of f.batches)
    if (b.closed.deposits.length === 0 && b.closed.ops.length > 0) {
      bodyGas += calldataGas(b.closed.batch.calldata)
      transfers += b.closed.ops.length
    }
  const marginal = transfers > 0 ? bodyGas / transfers : Number.NaN
  const n = f.n
  const where = f.reused ? 'batches of the same circuit proven earlier in this process' : `${basis.proofMs.length} batches proven side by side in this run`
  return {
    model: 'rollup',
    proverConstraintsPerSecond: {
      value: Math.round((f.workers * f.constraints) / proofS),
      unit: 'constraints/s',
      source: 'measured',
      how: `${f.workers} workers × ${f.constraints.toLocaleString('en-US')} constraints ÷ ${proofS.toFixed(2)} s witness + Groth16 proof per batch (snarkjs, ${f.farm ? "the prover farm's worker processes, each prover using its machine's cores" : 'one single-threaded worker per core'}; ${where})`,
    },
    constraintsPerPayment: {
      value: Math.round(f.constraints / n),
      unit: 'constraints/payment',
      source: 'computed',
      how: `${f.constraints.toLocaleString('en-US')} constraints ÷ ${n} transfers in a full batch (n = ${n} op slots, d = ${f.d} deposit slots)`,
    },
    gasPerTransfer: {
      value: Math.round(fixed.gas / n + marginal),
      unit: 'gas/transfer',
      source: 'computed',
      how: `${Math.round(fixed.gas).toLocaleString('en-US')} fixed gas of a ${fixed.of} without deposits (tx, proof verification, storage; ${fixed.how}) ÷ ${n} transfers per full batch + ${marginal.toFixed(1)} calldata gas per transfer (measured over ${transfers} transfers built into batches)`,
    },
  }
}


/**
 * The gas of a submitBatch beyond its calldata when it consumes no deposit
 * and writes no storage slot for the first time. With labelled receipts (the
 * mock) the proven batches' split gives it; an EVM's receipts carry no
 * labels, so there it is read off the batches that are such a batch — no
 * deposit, not the chain's first — whose gas is known exactly (proven, or a †
 * batch executed on the EVM), and the labelled split is the fallback only
 * when there is none.
 */
export function fixedGasWithoutDeposits(f: CostFacts): { gas: number; of: string; how: string } {
  const split = () => ({ gas: steadyFixedGas(f.basis.fixedGas).base, of: 'proven submitBatch', how: 'measured' })
  if (f.labelled) return split()
  const plain = f.batches.flatMap((b, i) => (i > 0 && b.closed.deposits.length === 0 && b.gasBeyondCalldata !== undefined ? [b.gasBeyondCalldata] : []))
  if (plain.length === 0) {
    const s = split()
    return { gas: s.gas, of: s.of, how: 'the proven batches\' receipts less calldata, as no batch without deposits was proven or executed: these receipts carry no labels, so the first batch\'s first-time writes and the deposits are in it, an overestimate' }
  }
  return { gas: mean(plain), of: 'submitBatch', how: `measured: the mean over ${plain.length} batch${plain.length === 1 ? '' : 'es'} without deposits after the chain's first, each proven or executed on the EVM, less its calldata gas` }
}
