/**
 * Typed errors of the EVM backend. Each names its cause: the node could not
 * start (and why), the node died under us (exit code or signal, and the last
 * lines it printed), an RPC call failed or timed out, solc refused a source.
 */
import { L2Error, type L2ErrorOptions } from '@l2bench/core'

export type AnvilErrorCode =
  /** The binary is not installed for this platform. */
  | 'ANVIL_NOT_FOUND'
  /** The process exited or printed no listening address before the start timeout. */
  | 'ANVIL_START_FAILED'
  /** The process exited while the backend was using it. */
  | 'ANVIL_DIED'
  /** A JSON-RPC call failed (transport error or an error object from the node). */
  | 'ANVIL_RPC'
  /** A JSON-RPC call got no answer in time. */
  | 'ANVIL_TIMEOUT'
  /** The backend was stopped; no more calls. */
  | 'ANVIL_STOPPED'

export class AnvilError extends L2Error {
  override name = 'AnvilError'
  declare readonly code: AnvilErrorCode
  constructor(code: AnvilErrorCode, message: string, options: L2ErrorOptions = {}) {
    super(code, message, options)
  }
}

/** solc reported an error for a source (the message carries solc's formatted output). */
export class SolcError extends L2Error {
  override name = 'SolcError'
  constructor(message: string, options: L2ErrorOptions = {}) {
    super('SOLC', message, options)
  }
}

/**
 * A call of `EvmL1.trial` reverted: the trial stops there (the chain is
 * returned to where it was) and names the call and the contract's reason.
 */
export class TrialRevertedError extends L2Error {
  override name = 'TrialRevertedError'
  constructor(
    readonly index: number,
    readonly reason: string,
    readonly revertCode: string,
    readonly revertField: string | undefined,
  ) {
    super('TRIAL_REVERTED', `the trial's call ${index} reverted: ${reason}`, { field: `calls[${index}]`, details: { reason, revertCode, revertField } })
  }
}
