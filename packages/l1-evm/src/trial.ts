/**
 * Trials: calls run as real transactions on a throwaway copy of the chain
 * (`EvmL1.trial`), for gas that only executing tells — e.g. a batch the
 * bench built but did not prove, run with the verifier's code replaced by a
 * stub that accepts (the rollup design's † batches on `--l1 evm`).
 *
 * One trial: anvil's evm_snapshot; the `code` overrides (anvil_setCode);
 * each call sent from its sender (eth_sendTransaction, impersonated; gas
 * limit = the block gas limit, gas price 1) and mined in its own block, its
 * receipt and call trace (callTracer) read; then evm_revert, whatever
 * happened: chain state, code, balances, nonces, block height and time are
 * as before. A call that reverts stops the trial with TrialRevertedError
 * (its index and the contract's reason), after the chain is returned. If
 * anvil dies midway, the trial fails with AnvilError ANVIL_DIED.
 */
import { type Address, InvalidInputError, toAddress, toAmount } from '@l2bench/core'
import { type Hex, toHex } from 'viem'
import { lower } from './binding.ts'
import { AnvilError, TrialRevertedError } from './errors.ts'
import { type CallFrame, type EthReceipt, type Rpc, decodeRevert, traceCall } from './receipts.ts'

/** A call for a trial: raw calldata (the ABI call, as anvil runs it) from `from` to `to`. */
export interface TrialCall {
  from: Address
  to: Address
  data: Hex
  value?: bigint
}

export interface TrialResult {
  /** The receipt's gas (intrinsic part included). */
  gasUsed: number
  /** The call trace (callTracer): a sub-frame's `gasUsed` is what ran inside that call. */
  trace: CallFrame
}

export interface TrialOptions {
  /** Code put at these addresses for the trial only (anvil_setCode), e.g. a stub in place of a verifier. */
  code?: ReadonlyMap<Address, Hex>
  /** Called after each call's receipt and trace (calls done, calls in all). */
  onProgress?: (done: number, total: number) => void
}

const HEX_BYTES = /^0x(?:[0-9a-fA-F]{2})*$/

/** Checks a trial's input before anything is sent (typed errors naming the field). */
export function checkTrial(calls: readonly TrialCall[], options: TrialOptions): void {
  if (!Array.isArray(calls)) throw new InvalidInputError('calls', 'expected an array of calls')
  for (const [i, c] of calls.entries()) {
    toAddress(`calls[${i}].from`, c.from)
    toAddress(`calls[${i}].to`, c.to)
    if (typeof c.data !== 'string' || !HEX_BYTES.test(c.data)) throw new InvalidInputError(`calls[${i}].data`, 'expected 0x-prefixed hex bytes')
    if (c.value !== undefined) toAmount(`calls[${i}].value`, c.value)
  }
  for (const [a, code] of options.code ?? []) {
    toAddress('code', a)
    if (typeof code !== 'string' || !HEX_BYTES.test(code)) throw new InvalidInputError(`code[${a}]`, 'expected 0x-prefixed hex bytes')
  }
}

/** Runs a checked trial (inside the backend's exclusive queue; nothing pending). */
export async function runTrial(
  rpc: Rpc,
  calls: readonly TrialCall[],
  options: TrialOptions,
  chain: { gasLimit: number; contractName: (address: Address) => string | undefined },
): Promise<TrialResult[]> {
  const id = (await rpc('evm_snapshot', [])) as Hex
  const results: TrialResult[] = []
  let failure: unknown
  try {
    for (const [a, code] of options.code ?? []) await rpc('anvil_setCode', [a, code])
    for (const [i, c] of calls.entries()) {
      const tx = { from: c.from, to: c.to, data: c.data, value: toHex(c.value ?? 0n), gas: toHex(chain.gasLimit), gasPrice: '0x1' }
      const ethHash = (await rpc('eth_sendTransaction', [tx])) as Hex
      await rpc('evm_mine', [])
      const r = (await rpc('eth_getTransactionReceipt', [ethHash])) as EthReceipt | null
      if (r === null) throw new AnvilError('ANVIL_RPC', `trial call ${i}: no receipt after evm_mine`)
      const trace = await traceCall(rpc, ethHash)
      const gasUsed = Number(BigInt(r.gasUsed))
      if (r.status !== '0x1') {
        const why = decodeRevert(trace, gasUsed, BigInt(chain.gasLimit), chain.contractName(lower(c.to)))
        throw new TrialRevertedError(i, why.reason, why.code, why.field)
      }
      results.push({ gasUsed, trace })
      options.onProgress?.(i + 1, calls.length)
    }
  } catch (err) {
    failure = err
  }
  // Back to where the trial started, whatever happened (on a dead node this fails with ANVIL_DIED).
  try {
    if (!((await rpc('evm_revert', [id])) as boolean)) throw new AnvilError('ANVIL_RPC', `evm_revert: anvil has no snapshot ${id}`)
  } catch (err) {
    if (failure === undefined || !(err instanceof AnvilError)) throw err
    throw new AnvilError(err.code, `${err.message} (the trial had failed before: ${(failure as Error).message})`, { cause: failure })
  }
  if (failure !== undefined) throw failure
  return results
}
