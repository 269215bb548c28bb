/**
 * Typed rejections of HTLC operations inside channel states. One class with
 * stable codes: a peer's policy, a local builder and the node's forwarding
 * checks all throw it, naming the field they refuse, so a test (or a peer's
 * `reject` message) can tell "wrong preimage" from "expiry too soon" without
 * parsing text. A rejected operation never changes a state.
 */
import type { L2ErrorOptions } from '@l2bench/core'
import { ChannelError, type ChannelErrorCode } from '@l2bench/payment-channel'

export type HtlcRejectCode =
  /** A payment hash or lock id that is not 32 bytes, or names no HTLC in the state. */
  | 'HTLC_UNKNOWN'
  /** A preimage that is not 32 bytes or does not hash to the HTLC's payment hash. */
  | 'HTLC_BAD_PREIMAGE'
  /** An expiry in the past, too soon to claim on chain, or beyond the maximum. */
  | 'HTLC_EXPIRY'
  /** An amount ≤ 0, above the proposer's balance or above the channel's capacity. */
  | 'HTLC_AMOUNT'
  /** An update that is not one of add / settle / fail as its proposer may make it. */
  | 'HTLC_POLICY'
  /** A bound reached: too many HTLCs pending in a channel, or instructions waiting for them. */
  | 'HTLC_LIMIT'

/**
 * A ChannelError (so a channel node answers the refused proposal with a
 * `reject` carrying this code, and the proposer stops waiting) with the
 * HTLC-specific codes above.
 */
export class HtlcRejectedError extends ChannelError {
  override name = 'HtlcRejectedError'
  constructor(code: HtlcRejectCode, field: string, message: string, options: Omit<L2ErrorOptions, 'field'> = {}) {
    super(code as unknown as ChannelErrorCode, field, message, options)
  }
}
