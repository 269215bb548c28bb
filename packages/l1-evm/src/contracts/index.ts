/** The Solidity bindings of every contract the designs deploy. */
import type { ContractBinding } from '../binding.ts'
import { paychBinding } from './paych.ts'

export { paychBinding }

export const BINDINGS: readonly ContractBinding[] = [paychBinding as unknown as ContractBinding]
