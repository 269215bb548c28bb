/**
 * Wallet: the client side of an L1 account — signs transactions with a Signer,
 * tracks its next nonce locally (so several transactions can be in flight),
 * estimates gas by simulation, and waits for receipts. Every design uses it to
 * talk to its contracts; it works against any `L1`, with MockL1 extras
 * (simulation) used when present.
 */
import { type Address, InvalidInputError, type Signer, toAddress, toAmount } from '@l2bench/core'
import type { Contract } from './contract.ts'
import { RevertError } from './errors.ts'
import { GAS_SCHEDULE, calldataGas } from './gas.ts'
import type { MockL1 } from './mock.ts'
import { type SignedTx, type TxHash, signTx } from './tx.ts'
import type { L1, Receipt } from './types.ts'

export interface SendOptions {
  value?: bigint
  gasLimit?: bigint
  gasPrice?: bigint
  /**
   * Sign with this nonce instead of the next one the wallet tracks (a caller
   * that keeps its own messages across restarts knows which nonces they hold);
   * the wallet's counter then moves past it.
   */
  nonce?: bigint
}

export const DEFAULT_GAS_PRICE = 1_000_000_000n // 1 gwei

export class Wallet {
  readonly address: Address
  private nextNonce: bigint | undefined

  constructor(
    readonly signer: Signer,
    readonly l1: L1,
    readonly gasPrice: bigint = DEFAULT_GAS_PRICE,
  ) {
    this.address = signer.address
  }

  balance(): bigint {
    return this.l1.balanceOf(this.address)
  }

  private takeNonce(): bigint {
    if (this.nextNonce === undefined || this.nextNonce < this.l1.nonceOf(this.address)) this.nextNonce = this.l1.nonceOf(this.address)
    return this.nextNonce++
  }

  private useNonce(nonce: bigint): bigint {
    if (typeof nonce !== 'bigint' || nonce < 0n) throw new InvalidInputError('nonce', 'expected a non-negative bigint')
    if (this.nextNonce === undefined || this.nextNonce <= nonce) this.nextNonce = nonce + 1n
    return nonce
  }

  /** Signs a transaction with the next nonce (does not send it). */
  sign(to: Address, data: Uint8Array, options: SendOptions = {}): SignedTx {
    const value = toAmount('value', options.value ?? 0n)
    const gasLimit = options.gasLimit ?? this.estimate(to, data, value)
    return signTx(this.signer, {
      chainId: this.l1.chainId,
      nonce: options.nonce === undefined ? this.takeNonce() : this.useNonce(options.nonce),
      to: toAddress('to', to),
      value,
      gasLimit,
      gasPrice: options.gasPrice ?? this.gasPrice,
      data,
    })
  }

  /** Gas limit for a call: simulated gas + 10% when the L1 can simulate, else a generous bound. */
  estimate(to: Address, data: Uint8Array, value: bigint): bigint {
    const mock = this.l1 as Partial<MockL1>
    if (typeof mock.simulate === 'function') {
      const sim = mock.simulate({ from: this.address, to, value, data })
      return BigInt(Math.ceil(sim.gasNeeded * 1.1) + 1000)
    }
    return BigInt(GAS_SCHEDULE.txBase + calldataGas(data) + 1_000_000)
  }

  /** Forgets the locally tracked nonce; the next transaction takes the chain's. */
  resyncNonce(): void {
    this.nextNonce = undefined
  }

  async sendRaw(to: Address, data: Uint8Array, options: SendOptions = {}): Promise<TxHash> {
    return this.sendSigned(this.sign(to, data, options))
  }

  /**
   * Sends a transaction made by `sign` (its hash is `txHash(tx)` already, so a
   * caller can persist the hash before the L1 sees it).
   */
  async sendSigned(tx: SignedTx): Promise<TxHash> {
    let hash: TxHash
    try {
      hash = await this.l1.send(tx)
    } catch (err) {
      this.nextNonce = undefined // resync from the chain
      throw err
    }
    // A dropped transaction never uses its nonce: resync so the next one does not wait on a gap.
    this.l1.receipt(hash).catch(() => {
      this.nextNonce = undefined
    })
    return hash
  }

  /** Plain value transfer (the L1 baseline payment). */
  async transfer(to: Address, value: bigint, options: Omit<SendOptions, 'value'> = {}): Promise<Receipt> {
    if (typeof value !== 'bigint' || value <= 0n) throw new InvalidInputError('value', 'transfer value must be a positive bigint')
    const hash = await this.sendRaw(to, new Uint8Array(), { ...options, value, gasLimit: options.gasLimit ?? BigInt(GAS_SCHEDULE.txBase) })
    return this.l1.receipt(hash)
  }

  /** Calls a contract method and waits for its receipt (whatever its status). */
  async call<M extends { type: string }>(contract: Contract<M>, call: M, options: SendOptions = {}): Promise<Receipt> {
    const hash = await this.sendRaw(contract.address, contract.encodeCall(call), options)
    return this.l1.receipt(hash)
  }

  /** Like `call`, but throws RevertError (with the contract's reason and field) when it reverted. */
  async callOk<M extends { type: string }>(contract: Contract<M>, call: M, options: SendOptions = {}): Promise<Receipt> {
    const receipt = await this.call(contract, call, options)
    if (receipt.status !== 'success')
      throw new RevertError(receipt.revertReason ?? 'reverted', {
        field: receipt.revertField,
        ...(receipt.revertCode === undefined ? {} : { code: receipt.revertCode }),
        details: { txHash: receipt.txHash, gasUsed: receipt.gasUsed },
      })
    return receipt
  }
}
