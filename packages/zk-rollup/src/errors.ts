/**
 * Typed rejections of the rollup. Each has a stable `code` (for programs) and
 * names the offending field; the sequencer throws them before anything is
 * queued or proven, so a rejected call changes nothing.
 */
import { L2Error, type L2ErrorOptions } from '@l2bench/core'

export type RollupErrorCode =
  | 'UNKNOWN_ACCOUNT'
  | 'BAD_PUBLIC_KEY'
  | 'CIRCUIT_REJECTED'
  | 'BAD_SIGNATURE'
  | 'BAD_NONCE'
  | 'INSUFFICIENT_BALANCE'
  | 'BALANCE_OVERFLOW'
  | 'AMOUNT_NOT_REPRESENTABLE'
  | 'AMOUNT_RANGE'
  | 'INVALID_OP'
  | 'UNKNOWN_PAYEE'
  | 'TREE_FULL'
  | 'MEMPOOL_FULL'
  | 'MALFORMED_CALLDATA'
  | 'STATE_MISMATCH'
  | 'PROVER'
  | 'EXODUS'
  | 'BATCH_ABANDONED'

export class RollupError extends L2Error {
  override name = 'RollupError'
  declare readonly code: RollupErrorCode
  constructor(code: RollupErrorCode, message: string, options: L2ErrorOptions = {}) {
    super(code, message, options)
  }
}
