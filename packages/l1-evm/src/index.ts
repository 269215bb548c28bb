/**
 * @l2bench/l1-evm — the `L1` seam over a real EVM: anvil (from npm) driven
 * with viem, the designs' contracts ported to Solidity and compiled with
 * solc-js, each tied to its TypeScript class by a binding.
 */
export * from './anvil.ts'
export * from './binding.ts'
export * from './chain.ts'
export * from './contracts/index.ts'
export * from './errors.ts'
export * from './evm.ts'
export * from './groth16.ts'
export * from './parity/groth16.ts'
export * from './parity/index.ts'
export * from './parity/rollup.ts'
export * from './parity/scenarios.ts'
export { type CallFrame, decodeRevert, evmBreakdown } from './receipts.ts'
export * from './rpc.ts'
export * from './signature.ts'
export * from './solc.ts'
export type { TrialCall, TrialOptions, TrialResult } from './trial.ts'
