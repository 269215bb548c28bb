/**
 * @l2bench/l1-mock — the shared L1: the `L1` interface every design talks to,
 * and MockL1, its in-process implementation with an explicit gas schedule.
 */
export * from './contract.ts'
export * from './errors.ts'
export * from './gas.ts'
export * from './mock.ts'
export * from './tx.ts'
export * from './types.ts'
export * from './wallet.ts'
