/**
 * @l2bench/l1-mock — the shared L1: the `L1` interface every design talks to,
 * and MockL1, its in-process implementation with an explicit gas schedule.
 */
export * from './abi.ts'
export * from './admission.ts'
export * from './contract.ts'
export * from './errors.ts'
export * from './events.ts'
export * from './faults.ts'
export * from './gas.ts'
export * from './mock.ts'
export * from './receipts.ts'
export * from './slots.ts'
export * from './tx.ts'
export * from './types.ts'
export * from './wallet.ts'
