/**
 * @l2bench/virtual-channel — Perun-style virtual channels (seed 002 §3.3):
 * Alice and Bob, who each have a ledger channel with an intermediary Ingrid,
 * open a channel between themselves off chain by locking its money in both
 * ledger channels, pay each other with two-party updates Ingrid never sees,
 * and settle it back into the ledger channels; only a dispute touches L1.
 */
export * from './abi.ts'
export * from './adjudicator.ts'
export * from './client.ts'
export * from './errors.ts'
export * from './params.ts'
export * from './context.ts'
export * from './node.ts'
export * from './policy.ts'
export * from './store.ts'
export * from './wire.ts'
