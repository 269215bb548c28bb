/**
 * Typed errors of the circuit build pipeline.
 *
 * `PipelineError` carries a stable `code` so callers (the rollup, the CLI) can
 * tell a compile failure from a too-small ptau without parsing messages.
 */
import { L2Error, type L2ErrorOptions } from '@l2bench/core'

export type PipelineErrorCode =
  | 'CIRCUIT_COMPILE'
  | 'CIRCUIT_INCLUDE'
  | 'PTAU_FORMAT'
  | 'PTAU_TOO_SMALL'
  | 'PTAU_NOT_PREPARED'
  | 'SETUP_FAILED'
  | 'PHASE2_NO_SECRET'
  | 'CACHE_CORRUPT'

export class PipelineError extends L2Error {
  override name = 'PipelineError'
  constructor(code: PipelineErrorCode, message: string, options: L2ErrorOptions = {}) {
    super(code, message, options)
  }
}
