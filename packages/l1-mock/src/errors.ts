/** Typed errors of the L1 mock (all derive from core's L2Error). */
import { L2Error, type L2ErrorOptions } from '@l2bench/core'

/** The mock refused a transaction before it entered the mempool (bad signature, nonce replay, funds, …). */
export class TxRejectedError extends L2Error {
  override name = 'TxRejectedError'
  constructor(code: string, message: string, options: L2ErrorOptions = {}) {
    super(code, message, options)
  }
}

/** A contract call reverted; carries the reason and the field the contract named. */
export class RevertError extends L2Error {
  override name = 'RevertError'
  constructor(reason: string, options: L2ErrorOptions & { code?: string } = {}) {
    super(options.code ?? 'REVERT', reason, options)
  }
}

/** A transaction ran out of its gas limit. */
export class OutOfGasError extends RevertError {
  override name = 'OutOfGasError'
  constructor(limit: bigint, needed: bigint) {
    super(`out of gas: limit ${limit}, needed at least ${needed}`, { field: 'gasLimit', code: 'OUT_OF_GAS' })
  }
}
