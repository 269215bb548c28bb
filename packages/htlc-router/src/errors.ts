/**
 * Typed rejections of the router and the network simulator. Each one names the
 * input field it rejects and carries a stable `code`, so callers (and the
 * simulator's failure accounting) can branch on them without parsing messages.
 */
import { L2Error, type L2ErrorOptions } from '@l2bench/core'

type Options = Omit<L2ErrorOptions, 'field'>

/** A node index that is not in the graph. */
export class UnknownNodeError extends L2Error {
  override name = 'UnknownNodeError'
  constructor(field: string, message: string, options: Options = {}) {
    super('UNKNOWN_NODE', message, { ...options, field })
  }
}

/** A channel or directed edge index that is not in the graph, or two hops that do not connect. */
export class UnknownChannelError extends L2Error {
  override name = 'UnknownChannelError'
  constructor(field: string, message: string, options: Options = {}) {
    super('UNKNOWN_CHANNEL', message, { ...options, field })
  }
}

/** An amount that no channel (or no set of channels) at that place can carry. */
export class CapacityError extends L2Error {
  override name = 'CapacityError'
  constructor(field: string, message: string, options: Options = {}) {
    super('CAPACITY', message, { ...options, field })
  }
}

/** No route satisfies the constraints (capacity, policies, timelocks, failure memory). */
export class NoRouteError extends L2Error {
  override name = 'NoRouteError'
  constructor(field: string, message: string, options: Options = {}) {
    super('NO_ROUTE', message, { ...options, field })
  }
}

/** A route visits a node twice. */
export class RouteLoopError extends L2Error {
  override name = 'RouteLoopError'
  constructor(field: string, message: string, options: Options = {}) {
    super('ROUTE_LOOP', message, { ...options, field })
  }
}

/** A timelock delta below the minimum, or an expiry beyond the maximum (BOLT 2/4). */
export class TimelockError extends L2Error {
  override name = 'TimelockError'
  constructor(field: string, message: string, options: Options = {}) {
    super('TIMELOCK', message, { ...options, field })
  }
}

/** A hop's amounts do not pay the fee its channel policy asks for. */
export class FeeError extends L2Error {
  override name = 'FeeError'
  constructor(field: string, message: string, options: Options = {}) {
    super('FEE', message, { ...options, field })
  }
}

/** An HTLC operation on a forwarder that does not match its state (unknown id, wrong preimage). */
export class HtlcError extends L2Error {
  override name = 'HtlcError'
  constructor(field: string, message: string, options: Options = {}) {
    super('HTLC', message, { ...options, field })
  }
}
