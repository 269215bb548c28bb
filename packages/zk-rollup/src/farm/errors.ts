/**
 * Typed failures of the prover farm. A failure the circuit itself causes (the
 * witness refused the input) is not one of these: it stays a
 * RollupError('PROVER') with `details.stage === 'witness'`, so the node's
 * bisection of a refused batch works the same with a farm as with a local prover.
 */
import { L2Error, type L2ErrorOptions } from '@l2bench/core'

export type ProverFarmErrorCode =
  /** Redis could not be reached when starting (wrong URL, server down, auth). */
  | 'REDIS_UNREACHABLE'
  /** Redis went away mid-run and did not come back within the give-up window. */
  | 'REDIS_LOST'
  /** No live worker serves the circuit (none running, all dead, or all built for other circuits). */
  | 'NO_WORKER'
  /** A worker was asked to prove for a circuit it was not built for. */
  | 'CIRCUIT_MISMATCH'
  /** The circuit is not in the shared cache (or its files do not hash to its id). */
  | 'CIRCUIT_NOT_FOUND'
  /** The engine gave up on a job (every attempt failed or it stalled too often). */
  | 'JOB_FAILED'
  /** A job outlived every attempt's timeout. */
  | 'JOB_TIMEOUT'
  /** A proof came back that does not verify against the circuit's key, or for other public inputs. */
  | 'BAD_PROOF'
  /** The prover was closed with jobs outstanding. */
  | 'CLOSED'

export class ProverFarmError extends L2Error {
  override name = 'ProverFarmError'
  declare readonly code: ProverFarmErrorCode
  constructor(code: ProverFarmErrorCode, message: string, options: L2ErrorOptions = {}) {
    super(code, message, options)
  }
}
