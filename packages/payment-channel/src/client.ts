/**
 * AdjudicatorClient: typed wrappers for the adjudicator's transactions and
 * views, over any `L1` and a Wallet. Every write waits for its receipt and
 * throws RevertError (with the contract's reason and field) when it reverted.
 */
import { type Address, type Amount, toHex } from '@l2bench/core'
import type { L1, Receipt, Wallet } from '@l2bench/l1-mock'
import { Adjudicator, type ChannelInfo } from './adjudicator.ts'
import type { Penalty, SignedState } from './state.ts'

export interface OpenOnChainParameters {
  b: Address
  pkA: Uint8Array
  pkB: Uint8Array
  nonce: bigint
  depositA: Amount
  depositB: Amount
  disputeWindow: number
  fundingTimeout: number
  penalty: Penalty
}

/** A handle on a deployed adjudicator (only its address is needed to encode calls). */
export function adjudicatorAt(address: Address): Adjudicator {
  const a = new Adjudicator()
  a.address = address
  return a
}

export class AdjudicatorClient {
  constructor(
    readonly wallet: Wallet,
    readonly contract: Adjudicator,
  ) {}

  get l1(): L1 {
    return this.wallet.l1
  }

  open(p: OpenOnChainParameters): Promise<Receipt> {
    return this.wallet.callOk(
      this.contract,
      {
        type: 'open',
        b: p.b,
        pkA: p.pkA,
        pkB: p.pkB,
        nonce: p.nonce,
        depositB: p.depositB,
        disputeWindow: p.disputeWindow,
        fundingTimeout: p.fundingTimeout,
        penalty: p.penalty,
      },
      { value: p.depositA },
    )
  }

  confirm(channelId: Uint8Array, deposit: Amount): Promise<Receipt> {
    return this.wallet.callOk(this.contract, { type: 'confirm', channelId }, { value: deposit })
  }

  refund(channelId: Uint8Array): Promise<Receipt> {
    return this.wallet.callOk(this.contract, { type: 'refund', channelId })
  }

  /** Deposits `amount` more; `s` (signed by both) must hold the new total. */
  topUp(s: SignedState, amount: Amount): Promise<Receipt> {
    return this.wallet.callOk(this.contract, { type: 'topUp', state: s.state, sigA: s.sigs[0], sigB: s.sigs[1] }, { value: amount })
  }

  close(s: SignedState): Promise<Receipt> {
    return this.wallet.callOk(this.contract, { type: 'close', state: s.state, sigA: s.sigs[0], sigB: s.sigs[1] })
  }

  register(s: SignedState): Promise<Receipt> {
    return this.wallet.callOk(this.contract, { type: 'register', state: s.state, sigA: s.sigs[0], sigB: s.sigs[1] })
  }

  challenge(s: SignedState): Promise<Receipt> {
    return this.wallet.callOk(this.contract, { type: 'challenge', state: s.state, sigA: s.sigs[0], sigB: s.sigs[1] })
  }

  finalize(channelId: Uint8Array): Promise<Receipt> {
    return this.wallet.callOk(this.contract, { type: 'finalize', channelId })
  }

  resolveLocked(channelId: Uint8Array, lockId: Uint8Array, witness: Uint8Array = new Uint8Array()): Promise<Receipt> {
    return this.wallet.callOk(this.contract, { type: 'resolveLocked', channelId, lockId, witness })
  }

  info(channelId: Uint8Array): Promise<ChannelInfo | undefined> {
    return this.l1.read<ChannelInfo | undefined>(this.contract.address, 'channel', [channelId])
  }

  static idHex(channelId: Uint8Array): `0x${string}` {
    return toHex(channelId)
  }
}
