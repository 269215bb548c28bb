/**
 * @l2bench/payment-channel — a two-party payment channel as a 2-party
 * Byzantine-fault-safe state machine replication (n = 2, f = 1): every state
 * is signed by both, the newest one wins on L1, and safe termination needs
 * the honest side (or its watchtower) to reach L1 within the dispute window.
 */
export * from './abi.ts'
export * from './adjudicator.ts'
export * from './client.ts'
export { EventCursor, type EventCursorOptions } from './cursor.ts'
export * from './errors.ts'
export { type AcceptLimits, DEFAULT_ACCEPT_LIMITS } from './funding.ts'
export * from './merge.ts'
export * from './node.ts'
export * from './peers.ts'
export * from './phase.ts'
export type { RetryLimits } from './runtime.ts'
export * from './secure-link.ts'
export * from './protocol.ts'
export * from './state.ts'
export * from './store.ts'
export * from './tcp.ts'
export * from './transport.ts'
export * from './watchtower.ts'
export * from './wire.ts'
export * from './bench.ts'
export * from './bench-durable.ts'
