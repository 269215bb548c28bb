/**
 * @l2bench/paych-manager — Filecoin-style voucher payment channels on the L1
 * mock (PaychContract) and the seed 004 manager API over them (PaychManager):
 * lanes, nonces, merges, reserve/release without chain messages, settle and
 * collect, a settler that redeems the best vouchers when the payer settles,
 * and durable state in SQLite.
 */
export * from './abi.ts'
export * from './contract.ts'
export * from './errors.ts'
export * from './rules.ts'
export * from './voucher.ts'
export * from './manager.ts'
export * from './store.ts'
