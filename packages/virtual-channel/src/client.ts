/**
 * VirtualClient: typed L1 calls and views of the VirtualAdjudicator's
 * virtual part (the ledger calls go through payment-channel's
 * AdjudicatorClient). Every write waits for its receipt and throws the
 * contract's RevertError (reason and field) when it reverted.
 */
import type { L1, Receipt, Wallet } from '@l2bench/l1-mock'
import type { SignedState } from '@l2bench/payment-channel'
import { type VirtualAdjudicator, type VirtualDispute, virtualCalls } from './adjudicator.ts'
import { type VirtualParams, encodeParams, initialState, virtualId } from './params.ts'

const EMPTY = new Uint8Array()

export class VirtualClient {
  constructor(
    readonly wallet: Wallet,
    readonly contract: VirtualAdjudicator,
  ) {}

  get l1(): L1 {
    return this.wallet.l1
  }

  /**
   * Registers (or refutes with) a virtual state. Version 0 needs no
   * signatures (pass `undefined`); a later one is signed by both and goes
   * with Ingrid's activation.
   */
  register(params: VirtualParams, signed: SignedState | undefined, activation: Uint8Array = EMPTY): Promise<Receipt> {
    const state = signed?.state ?? initialState(params)
    return this.wallet.callOk(virtualCalls(this.contract), {
      type: 'registerVirtual',
      params,
      state,
      sigA: signed?.sigs[0] ?? EMPTY,
      sigB: signed?.sigs[1] ?? EMPTY,
      activation: signed === undefined || signed.state.version === 0n ? EMPTY : activation,
    })
  }

  /** Ingrid: a final state signed by both becomes the outcome at once. */
  conclude(params: VirtualParams, final: SignedState): Promise<Receipt> {
    return this.wallet.callOk(virtualCalls(this.contract), {
      type: 'concludeVirtual',
      params,
      state: final.state,
      sigA: final.sigs[0],
      sigB: final.sigs[1],
    })
  }

  /** Pays a concluded ledger's virtual lock by the final outcome (anyone may call it; the money goes to the ledger's parties). */
  resolve(ledgerId: Uint8Array, params: VirtualParams): Promise<Receipt> {
    return this.wallet.callOk(this.contract, { type: 'resolveLocked', channelId: ledgerId, lockId: virtualId(params), witness: encodeParams(params) })
  }

  dispute(vid: Uint8Array): Promise<VirtualDispute | undefined> {
    return this.l1.read<VirtualDispute | undefined>(this.contract.address, 'virtual', [vid])
  }
}
