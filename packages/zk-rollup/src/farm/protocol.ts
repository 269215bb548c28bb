/** The jobs on a farm's queues: what a run sends and what a worker returns. */
import type { Groth16Proof } from '../pipeline/index.ts'
import type { WireInput } from './codec.ts'

/** 'prove': witness and Groth16 proof; 'witness': the witness only (does the circuit accept the input?). */
export type JobKind = 'prove' | 'witness'

export interface ProveJobData {
  /** The circuit id the input is for (the worker refuses any other). */
  circuit: string
  /** For logs: which batch of which run. */
  label: string
  input: WireInput
  /** Each attempt is abandoned after this long (the engine then retries it elsewhere). */
  timeoutMs: number
}

export interface ProveJobResult {
  proof?: Groth16Proof
  publicSignals?: string[]
  witnessMs: number
  proveMs: number
  /**
   * CPU time the proof took on the worker, ms: the proving thread's when it
   * proves single-threaded, else the worker process's (all its threads) over
   * the job; absent when it cannot be told apart from another job's.
   */
  cpuMs?: number
  /** The worker that did it. */
  worker: string
}

/** Failure reasons a worker gives that must not be retried, by prefix. */
export const WITNESS_REFUSED = 'WITNESS_REFUSED: '
export const CIRCUIT_MISMATCH = 'CIRCUIT_MISMATCH: '
export const BAD_JOB = 'BAD_JOB: '
