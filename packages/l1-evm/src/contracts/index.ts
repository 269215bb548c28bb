/** The Solidity bindings of every contract the designs deploy. */
import type { ContractBinding } from '../binding.ts'
import { htlcAdjudicatorBinding, paymentChannelBinding } from './adjudicator.ts'
import { paychBinding } from './paych.ts'

export { htlcAdjudicatorBinding, paychBinding, paymentChannelBinding }

export const BINDINGS: readonly ContractBinding[] = [paychBinding, paymentChannelBinding, htlcAdjudicatorBinding] as unknown as readonly ContractBinding[]
