/**
 * A binding ties one TypeScript contract class (the design's, hosted by the
 * mock) to its Solidity port, so the design runs unchanged on the EVM: the
 * design still builds its calls with the class's codec and reads its views
 * and events in the class's shapes; the binding translates.
 *
 *  - toAbi: the decoded TypeScript call → an ABI function call (signatures in
 *    EIP-2098 form, see signature.ts; the transaction hash where the
 *    TypeScript contract reads it).
 *  - result: the ABI return value → what the TypeScript method returns (the
 *    receipt's `result`).
 *  - event: a decoded log → the TypeScript event's name and data.
 *  - view: an `L1.read` method → eth_calls (and log queries) → the same shape.
 *
 * Reverts need no per-binding code: every port reverts with
 * `Rejected(code, field)` (contracts/L2Bench.sol), decoded by the backend.
 */
import type { Address } from '@l2bench/core'
import type { AbiCall, Contract, ContractCallOf, TxHash } from '@l2bench/l1-mock'

export type { AbiCall }

export interface CallEnv {
  chainId: bigint
  /** The contract's address. */
  contract: Address
  from: Address
  value: bigint
  /** The transaction's hash as the L1 seam names it (txHash of the SignedTx). */
  txHash: TxHash
}

export interface DecodedLog {
  eventName: string
  args: Record<string, unknown>
  blockNumber: number
}

export interface ViewEnv {
  chainId: bigint
  contract: Address
  /** eth_call of a view function on the pending state; returns viem's decoded result. */
  call(functionName: string, args: readonly unknown[]): Promise<unknown>
  /** Logs of `eventName` whose indexed arguments equal `indexed`. */
  logs(eventName: string, indexed: Record<string, unknown>): Promise<DecodedLog[]>
}

export interface ContractBinding<C extends Contract = Contract> {
  /** The TypeScript contract's `name`. */
  readonly name: string
  /** The Solidity contract's name (contracts/*.sol). */
  readonly solidity: string
  /** Extra Solidity sources (generated, e.g. a Groth16 verifier), file name → text. */
  sources?(contract: C): Record<string, string>
  constructorArgs(contract: C): readonly unknown[]
  /** `view` reads the chain (including transactions not yet mined) where a translation needs it. */
  toAbi(call: ContractCallOf<C>, env: CallEnv, view: ViewEnv): AbiCall | Promise<AbiCall>
  result?(functionName: string, output: unknown, call: ContractCallOf<C>, env: CallEnv, contract: C): unknown
  event(log: DecodedLog): { name: string; data: Record<string, unknown> } | undefined
  view(contract: C, method: string, args: unknown[], env: ViewEnv): Promise<unknown>
}

/** viem returns checksummed addresses; the project's are lowercase. */
export function lower(a: unknown): Address {
  return (a as string).toLowerCase() as Address
}
