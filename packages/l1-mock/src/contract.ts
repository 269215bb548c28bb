/**
 * The contract host's side of a contract. A contract is a TypeScript class:
 * its calldata is a tagged message of its `abi` (core's canonical codec), its
 * logic runs in `execute(ctx, call)`, and it touches the world only through the
 * `CallContext`, which charges every operation through the one gas schedule and
 * journals every write so a revert leaves nothing behind.
 *
 * Storage values are plain JS values under string keys; a SlotLayout
 * (slots.ts) says which EVM slots the Solidity port keeps for a value, so
 * reads and writes are priced per slot (gas.ts). Contracts must treat values
 * they read as immutable and write new ones with `sstore`.
 *
 * Calldata: a contract with an EVM port describes the port's ABI
 * (`solidityAbi`) and maps each call onto it (`toAbiCall`); the host charges
 * the ABI encoding's bytes, which is what a real EVM transaction carries.
 */
import { type Address, type Codec, type Hex, ZERO_ADDRESS, decode, encode } from '@l2bench/core'
import type { AbiCall, AbiItem } from './abi.ts'
import type { GasOp, ScheduleEntry } from './gas.ts'
import type { SlotLayout } from './slots.ts'

export interface ReadContext {
  readonly self: Address
  readonly chainId: bigint
  readonly height: number
  readonly timestamp: number
  /**
   * Reads a storage value (free in a view). In a transaction each slot of
   * `layout` is charged as a cold or warm SLOAD, or only the slots listed in
   * `only` (the fields the Solidity port reads). Without a layout the value is
   * one slot (`layout` a number: that many).
   */
  sload<T>(key: string, label?: string, layout?: SlotLayout<T> | number, only?: readonly number[]): T | undefined
  balanceOf(address: Address): bigint
}

export interface CallContext extends ReadContext {
  readonly sender: Address
  /** Value sent with the call (already credited to the contract's balance). */
  readonly value: bigint
  readonly txHash: `0x${string}`
  /** Charges `gas` units for schedule entry `op` (times `count`), labelled. Throws OutOfGas past the limit. */
  charge(op: ScheduleEntry, label: string, count?: number): void
  /** Charges an arbitrary amount under an op (for composite costs such as a Groth16 verify). */
  chargeGas(op: GasOp, label: string, gas: number): void
  /**
   * Writes storage; `undefined` clears. With a layout, the slots whose content
   * changes are written (as Solidity writes the fields a method assigns);
   * without one the value is one slot, written even when unchanged (`layout`
   * a number: that many slots).
   */
  sstore<T>(key: string, value: T | undefined, label?: string, layout?: SlotLayout<T> | number): void
  /** Pays `amount` from the contract's balance to `to` (a CALL with value: warm/cold account, new account). */
  transfer(to: Address, amount: bigint, label?: string): void
  /** Emits an event, charged as a LOG with `topics` topics and `dataBytes` bytes (default 32 per field). */
  emit(name: string, data: Record<string, unknown>, options?: { topics?: number; dataBytes?: number }): void
  /** Checks a secp256k1 signature over sha256(digest) (charged as the sha256 and ecrecover precompile calls). */
  verifySignature(label: string, signature: Uint8Array, digest: Uint8Array, publicKey: Uint8Array): boolean
  /** Charges `gas` of the EVM's interpretation work (dispatch, decoding, memory, loops): schedule entries evmStep*. */
  step(label: string, gas: number): void
  /** Aborts the call: everything it did is undone; the sender keeps paying the gas used. `code` lands in the receipt's revertCode. */
  revert(reason: string, field?: string, code?: string): never
}

export type ContractCallOf<C> = C extends Contract<infer M> ? M : never

/** What mapping a call onto the port's ABI may depend on besides the call itself. */
export interface AbiEnv {
  readonly chainId: bigint
  /** The contract's address. */
  readonly contract: Address
  readonly from: Address
  /** The transaction's hash as the L1 seam names it. */
  readonly txHash: Hex
  /**
   * The EIP-2098 form (r, yParity << 255 | s) of a 64-byte signature by party
   * `signer` of the call (the binding knows who that is). The EVM backend
   * finds the parity by recovery; the mock, which only needs the bytes' cost,
   * sets it to 1 (the top byte is then non-zero, as it is for parity 0 unless
   * s's top byte is zero: at most 12 gas apart, with probability 1/512).
   */
  compactSignature(signature: Uint8Array, signer: number): { r: Hex; vs: Hex }
}

export abstract class Contract<M extends { type: string } = { type: string }> {
  /** Set by the host on deploy. */
  address: Address = ZERO_ADDRESS
  abstract readonly name: string
  abstract readonly abi: Codec<M>
  abstract execute(ctx: CallContext, call: M): unknown
  /** The Solidity port's ABI (methods and events), when the contract has one. */
  readonly solidityAbi?: readonly AbiItem[]
  /** `call` as the Solidity port takes it (needs `solidityAbi`); undefined for a call the port lacks (charged as its codec bytes). */
  toAbiCall?(call: M, env: AbiEnv): AbiCall | undefined
  /**
   * ABI words of `call` its port reads in place rather than decodes (a static
   * struct argument read field by field where used): left out of the decoded
   * words the host charges (EVM_STEP.abiWord); the contract charges their use.
   */
  lazyAbiWords?(call: AbiCall): number
  /** View methods for `L1.read`; override to expose some. */
  view(_ctx: ReadContext, method: string, _args: unknown[]): unknown {
    throw new Error(`${this.name}: no view method ${method}`)
  }
  encodeCall(call: M): Uint8Array {
    return encode(this.abi, call)
  }
  decodeCall(data: Uint8Array): M {
    return decode(this.abi, data)
  }
}
