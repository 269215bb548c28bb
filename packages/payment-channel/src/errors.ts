/**
 * Typed rejections of the payment-channel package. Each one is an L2Error with
 * a stable `code` and the `field` it refers to, so a peer, a test or an
 * operator can tell "stale version" from "bad signature" without parsing text.
 * A rejected message or call never changes stored state.
 */
import { L2Error, type L2ErrorOptions } from '@l2bench/core'

/** A protocol message or a local request was refused by the channel state machine. */
export class ChannelError extends L2Error {
  override name = 'ChannelError'
  constructor(code: ChannelErrorCode, field: string, message: string, options: Omit<L2ErrorOptions, 'field'> = {}) {
    super(code, message, { ...options, field })
  }
}

export type ChannelErrorCode =
  /** The message names a channel this node does not know. */
  | 'UNKNOWN_CHANNEL'
  /** A version that is not exactly the next one (goes back or skips). */
  | 'STALE_VERSION'
  | 'VERSION_GAP'
  /** Balances + locked do not add up to the channel's deposits. */
  | 'CONSERVATION'
  /** The counterparty's update takes money from us or changes what it must not. */
  | 'POLICY'
  /** A local update was asked for while another is in flight. */
  | 'BUSY'
  /** Two proposals for the same version crossed; ours lost and will be retried. */
  | 'CONFLICT'
  /** The channel is closing or closed. */
  | 'CHANNEL_CLOSED'
  /** The proposal was not answered in time. */
  | 'TIMEOUT'
  /** The peer refused the update repeatedly (its code is in the message); the request is given up. */
  | 'REJECTED'
  /** An L1 step failed (revert, wrong on-chain parameters). */
  | 'L1'
  /** The node was stopped. */
  | 'STOPPED'

/** A frame on a transport broke the framing rules (size limit, truncation). */
export class FrameError extends L2Error {
  override name = 'FrameError'
  constructor(field: string, message: string, options: Omit<L2ErrorOptions, 'field'> = {}) {
    super('FRAME', message, { ...options, field })
  }
}

/**
 * A frame or handshake on a SecureLink was refused: `HANDSHAKE` (malformed or
 * out of order), `AUTH` (signature or identity), `MAC` (frame not from the
 * authenticated peer), `REPLAY`, `TIMEOUT` (hello or idle), `FRAME` (size).
 * The frame never reaches the node.
 */
export class LinkError extends L2Error {
  override name = 'LinkError'
  constructor(code: 'HANDSHAKE' | 'AUTH' | 'MAC' | 'REPLAY' | 'TIMEOUT' | 'FRAME', field: string, message: string, options: Omit<L2ErrorOptions, 'field'> = {}) {
    super(code, message, { ...options, field })
  }
}

/** Thrown by crash-injection wrappers in tests: the simulated process died here. */
export class CrashError extends L2Error {
  override name = 'CrashError'
  constructor(point: string) {
    super('CRASH', `simulated crash at ${point}`, { field: point })
  }
}
