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
  batches: readonly { proven: boolean; closed: ClosedBatch }[]
  succeeded: number
}

/**
 * The run's prover work per payment: every batch proves the whole circuit
 * (padding and deposit slots included), so constraints per payment =
 * constraints × batches ÷ payments; CPU per payment = the proving thread's
 * CPU per proof (measured on the proven batches) × batches ÷ payments.
 */
export function proverCostOf(f: CostFacts): ProverCostJson {
  const basis = f.basis
  const batches = f.batches.length
  const proven = f.batches.filter((b) => b.proven).length
  const cpuPerProof = mean(basis.cpuMs) / 1000
  const payments = Math.max(1, f.succeeded)
  const all = proven === batches && batches > 0
  const cpuHow =
    basis.cpuMs.length === 0
      ? 'not measured (the proving thread’s CPU time is read from /proc on Linux)'
      : all
        ? `${basis.cpuMs.length} proofs made in this run, the proving threads' CPU time (/proc/thread-self/schedstat) ÷ ${payments} payments`
        : `${cpuPerProof.toFixed(2)} s CPU per proof (mean of the proving thread's CPU over ${basis.cpuMs.length} proven batches) × ${batches} batches ÷ ${payments} payments`
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
    cpuSecondsPerPayment: {
      value: Number(((cpuPerProof * batches) / payments).toPrecision(4)),
      unit: 'CPU s/payment',
      source: all ? 'measured' : 'computed',
      how: cpuHow,
    },
    wallSecondsPerProof: Number((mean(basis.proofMs) / 1000).toPrecision(4)),
    cpuSecondsPerProof: Number(cpuPerProof.toPrecision(4)),
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
  const fixed = steadyFixedGas(basis.fixedGas).base
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
      how: `${f.workers} workers × ${f.constraints.toLocaleString('en-US')} constraints ÷ ${proofS.toFixed(2)} s witness + Groth16 proof per batch (snarkjs, one single-threaded worker per core; ${where})`,
    },
    constraintsPerPayment: {
      value: Math.round(f.constraints / n),
      unit: 'constraints/payment',
      source: 'computed',
      how: `${f.constraints.toLocaleString('en-US')} constraints ÷ ${n} transfers in a full batch (n = ${n} op slots, d = ${f.d} deposit slots)`,
    },
    gasPerTransfer: {
      value: Math.round(fixed / n + marginal),
      unit: 'gas/transfer',
      source: 'computed',
      how: `${Math.round(fixed).toLocaleString('en-US')} fixed gas of a proven submitBatch without deposits (tx, proof verification, storage; measured) ÷ ${n} transfers per full batch + ${marginal.toFixed(1)} calldata gas per transfer (measured over ${transfers} transfers built into batches)`,
    },
  }
}

