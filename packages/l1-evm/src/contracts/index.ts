/** The Solidity bindings of every contract the designs deploy. */
import type { ContractBinding } from '../binding.ts'
import { htlcAdjudicatorBinding, paymentChannelBinding } from './adjudicator.ts'
import { paychBinding } from './paych.ts'
import { virtualAdjudicatorBinding } from './virtual.ts'

export { htlcAdjudicatorBinding, paychBinding, paymentChannelBinding, virtualAdjudicatorBinding }

export const BINDINGS: readonly ContractBinding[] = [paychBinding, paymentChannelBinding, htlcAdjudicatorBinding, virtualAdjudicatorBinding] as unknown as readonly ContractBinding[]
