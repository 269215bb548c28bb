/**
 * The L1 seam: every design talks to the chain only through `L1`. MockL1 is
 * its first implementation; a real EVM node is the planned second one.
 */
import type { Address } from '@l2bench/core'
import type { GasOp } from './gas.ts'
import type { SignedTx, TxHash } from './tx.ts'

export interface Head {
  height: number
  /** Simulated seconds. */
  timestamp: number
}

/**
 * One labelled gas charge. `op` is the schedule entry, `label` what the contract
 * was doing; `evm` is execution gas a real EVM reported as one figure (the EVM
 * backend, @l2bench/l1-evm, has no per-operation breakdown).
 */
export interface GasCharge {
  op: GasOp | 'evm'
  label: string
  gas: number
}

export interface L1Event {
  /** Contract that emitted it. */
  address: Address
  name: string
  data: Readonly<Record<string, unknown>>
  height: number
  txHash: TxHash
  logIndex: number
}

export type TxStatus = 'success' | 'reverted'

export interface Receipt {
  txHash: TxHash
  from: Address
  to: Address
  status: TxStatus
  height: number
  timestamp: number
  gasUsed: number
  gasPrice: bigint
  /** gasUsed × gasPrice, burnt. */
  fee: bigint
  calldataBytes: number
  breakdown: readonly GasCharge[]
  events: readonly L1Event[]
  /** Return value of the contract method, when it succeeded. */
  result?: unknown
  revertReason?: string
  /** Stable code of the contract's error (`REVERT` for a plain revert, `OUT_OF_GAS`, or an L2Error code a contract threw). */
  revertCode?: string
  revertField?: string
}

export interface EventFilter {
  address?: Address
  name?: string
}

export type Unsubscribe = () => void

export interface SubscribeOptions {
  owner?: Address
}

export interface L1 {
  readonly chainId: bigint
  head(): Head
  /** Validates and queues a transaction; resolves with its hash. */
  send(tx: SignedTx): Promise<TxHash>
  /** Resolves once the transaction is in a block (rejects if it was dropped). */
  receipt(hash: TxHash): Promise<Receipt>
  /** Calls a view method of a contract (no gas, no state change). */
  read<T>(contract: Address, method: string, args: unknown[]): Promise<T>
  /**
   * Calls `onEvent` for every matching event, after its block is mined.
   * `owner`: the account whose process listens; while it is offline (a fault
   * the mock can inject) it hears nothing and must catch up with `events`.
   */
  subscribe(filter: EventFilter, onEvent: (e: L1Event) => void, options?: SubscribeOptions): Unsubscribe
  balanceOf(address: Address): bigint
  nonceOf(address: Address): bigint
  /** Events already emitted, from `fromHeight` (inclusive). */
  events(filter: EventFilter, fromHeight?: number): L1Event[]
}
