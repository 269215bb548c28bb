/**
 * Typed rejections of the virtual-channel package: an L2Error with a stable
 * `code` and the `field` it refers to. A refused proposal writes nothing and
 * signs nothing; the node records it and keeps serving.
 */
import { L2Error, type L2ErrorOptions } from '@l2bench/core'

export type VirtualErrorCode =
  /** The message (or call) comes from someone who is not the party it must come from. */
  | 'NOT_PARTY'
  /** Balances do not add up to the virtual channel's deposits. */
  | 'CONSERVATION'
  /** A share is more than the ledger balance it would be locked from. */
  | 'INSUFFICIENT_BALANCE'
  /** The ledger channel named is not this node's open channel with the party named. */
  | 'UNKNOWN_LEDGER'
  /** No virtual channel with this id is known here. */
  | 'UNKNOWN_VIRTUAL'
  /** The virtual channel is not in a state where this step applies (e.g. paying before activation). */
  | 'STATE'
  /** A lock, state or parameter differs from the one agreed. */
  | 'MISMATCH'
  /** Another final state was already settled for this virtual channel. */
  | 'CONFLICT'
  /** Outside this node's acceptance limits (share, collateral, dispute window, validity). */
  | 'LIMIT'
  /** No answer in time. */
  | 'TIMEOUT'
  /** The peer refused (its code and field are in the message). */
  | 'REFUSED'
  /** The node was stopped. */
  | 'STOPPED'

export class VirtualError extends L2Error {
  override name = 'VirtualError'
  constructor(code: VirtualErrorCode, field: string, message: string, options: Omit<L2ErrorOptions, 'field'> = {}) {
    super(code, message, { ...options, field })
  }
}
