/** The Solidity bindings of every contract the designs deploy. */
import type { ContractBinding } from '../binding.ts'
import { htlcAdjudicatorBinding, paymentChannelBinding } from './adjudicator.ts'
import { paychBinding } from './paych.ts'
import { rollupBinding } from './rollup.ts'
import { virtualAdjudicatorBinding } from './virtual.ts'

export { htlcAdjudicatorBinding, paychBinding, paymentChannelBinding, rollupBinding, virtualAdjudicatorBinding }

export const BINDINGS: readonly ContractBinding[] = [
  paychBinding,
  paymentChannelBinding,
  htlcAdjudicatorBinding,
  virtualAdjudicatorBinding,
  rollupBinding,
] as unknown as readonly ContractBinding[]
