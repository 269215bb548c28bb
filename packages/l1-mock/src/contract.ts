/**
 * The contract host's side of a contract. A contract is a TypeScript class:
 * its calldata is a tagged message of its `abi` (core's canonical codec), its
 * logic runs in `execute(ctx, call)`, and it touches the world only through the
 * `CallContext`, which charges every operation through the one gas schedule and
 * journals every write so a revert leaves nothing behind.
 *
 * Storage values are plain JS values under string keys (one key ≈ one EVM slot
 * group; pass `slots` when a value stands for several slots). Contracts must
 * treat values they read as immutable and write new ones with `sstore`.
 */
import { type Address, type Codec, ZERO_ADDRESS, decode, encode } from '@l2bench/core'
import type { GasOp } from './gas.ts'

export interface ReadContext {
  readonly self: Address
  readonly chainId: bigint
  readonly height: number
  readonly timestamp: number
  /** Reads a storage value (charged as cold/warm SLOAD inside a transaction, free in a view). */
  sload<T>(key: string, label?: string): T | undefined
  balanceOf(address: Address): bigint
}

export interface CallContext extends ReadContext {
  readonly sender: Address
  /** Value sent with the call (already credited to the contract's balance). */
  readonly value: bigint
  readonly txHash: `0x${string}`
  /** Charges `gas` units for schedule entry `op` (times `count`), labelled. Throws OutOfGas past the limit. */
  charge(op: GasOp, label: string, count?: number): void
  /** Charges an arbitrary amount under an op (for composite costs such as a Groth16 verify). */
  chargeGas(op: GasOp, label: string, gas: number): void
  /** Writes storage; `undefined` clears. `slots` = how many 32-byte slots the value stands for. */
  sstore(key: string, value: unknown, label?: string, slots?: number): void
  /** Pays `amount` from the contract's balance to `to` (charged as a value transfer). */
  transfer(to: Address, amount: bigint, label?: string): void
  /** Emits an event, charged as a LOG with `topics` topics and `dataBytes` bytes (default 32 per field). */
  emit(name: string, data: Record<string, unknown>, options?: { topics?: number; dataBytes?: number }): void
  /** Checks a secp256k1 signature (charged as ecrecover + sha256 of the digest). */
  verifySignature(label: string, signature: Uint8Array, digest: Uint8Array, publicKey: Uint8Array): boolean
  /** Aborts the call: everything it did is undone; the sender keeps paying the gas used. `code` lands in the receipt's revertCode. */
  revert(reason: string, field?: string, code?: string): never
}

export type ContractCallOf<C> = C extends Contract<infer M> ? M : never

export abstract class Contract<M extends { type: string } = { type: string }> {
  /** Set by the host on deploy. */
  address: Address = ZERO_ADDRESS
  abstract readonly name: string
  abstract readonly abi: Codec<M>
  abstract execute(ctx: CallContext, call: M): unknown
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
