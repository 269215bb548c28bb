/**
 * Typed rejections of the voucher channel protocol.
 *
 * Every rule of PAYCH.md has one stable code. The contract and the manager run
 * the same rule function (rules.ts), so a voucher the manager refuses is refused
 * by the contract with the same code. A contract revert only carries a message
 * through the L1 receipt, so the code is written into the message as `[CODE]`
 * and `PaychError.fromRevert` reads it back.
 */
import { L2Error, type L2ErrorOptions } from '@l2bench/core'

export const PAYCH_ERROR_CODES = [
  // voucher rules (contract and manager)
  'WRONG_CHANNEL',
  'UNKNOWN_CHANNEL',
  'CHANNEL_CLOSED',
  'SETTLING_FINISHED',
  'BAD_SIGNATURE',
  'TIME_LOCK_MIN',
  'VOUCHER_EXPIRED',
  'SECRET_MISMATCH',
  'NONCE_TOO_LOW',
  'TOO_MANY_LANES',
  'MERGE_SAME_LANE',
  'MERGE_DUPLICATE_LANE',
  'MERGE_UNKNOWN_LANE',
  'MERGE_NONCE_TOO_LOW',
  'AMOUNT_NOT_INCREASING',
  'MERGE_LOWERS_TO_SEND',
  'INSUFFICIENT_CHANNEL_FUNDS',
  // channel lifecycle (contract and manager)
  'NOT_PARTY',
  'BAD_PUBLIC_KEY',
  'ALREADY_SETTLING',
  'NOT_SETTLING',
  'SETTLE_NOT_DUE',
  'ZERO_AMOUNT',
  // manager only
  'DELTA_TOO_SMALL',
  'NOT_OUR_CHANNEL',
  'NOT_OUTBOUND',
  'NOT_INBOUND',
  'CHANNEL_NOT_READY',
  'RELEASE_EXCEEDS_RESERVED',
  'RESERVATION_TOO_SMALL',
  'NO_FREE_CHANNEL',
  'VOUCHER_UNKNOWN',
  'MANAGER_CLOSED',
  'CHAIN_MESSAGE_FAILED',
  'ALREADY_SUBMITTED',
  'FUNDS_STILL_QUEUED',
] as const

export type PaychErrorCode = (typeof PAYCH_ERROR_CODES)[number]

/** A protocol rule refused the call; `code` names the rule. */
export class PaychError extends L2Error {
  override name = 'PaychError'
  declare readonly code: PaychErrorCode
  constructor(code: PaychErrorCode, message: string, options: L2ErrorOptions = {}) {
    super(code, `[${code}] ${message}`, options)
  }

  /**
   * Rebuilds the typed error from a reverted receipt's reason (which carries
   * `[CODE]`); undefined when the revert did not come from a paych rule.
   */
  static fromRevert(reason: string | undefined, field?: string | undefined, details?: Record<string, unknown>): PaychError | undefined {
    if (reason === undefined) return undefined
    const m = /\[([A-Z_]+)\]\s*(.*)$/s.exec(reason)
    if (m === null || !(PAYCH_ERROR_CODES as readonly string[]).includes(m[1] as string)) return undefined
    return new PaychError(m[1] as PaychErrorCode, m[2] ?? '', { field, details })
  }
}

export function isPaychError(err: unknown, code?: PaychErrorCode): err is PaychError {
  return err instanceof PaychError && (code === undefined || err.code === code)
}
