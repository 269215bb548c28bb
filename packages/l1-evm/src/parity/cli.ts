/**
 * `npm run parity -w @l2bench/l1-evm [-- --out FILE]`: measures the parity
 * table (every design's operations on the mock and on anvil) and writes it as
 * markdown (default docs/parity.md at the repository root) and prints it.
 *
 * `-- --profile`: instead, runs anvil with step tracing and prints where each
 * operation's execution gas goes (priced operations against interpretation,
 * interpretation by Solidity function), the mock's EVM_STEP units for it, and
 * the per-unit costs those measurements give (gas.ts documents the method).
 */
import { writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { EVM_STEP } from '@l2bench/l1-mock'
import { terminateCurve } from '@l2bench/zk-rollup'
import { DEFAULT_HARDFORK, anvilVersion } from '../anvil.ts'
import { BINDINGS } from '../contracts/index.ts'
import { EvmL1 } from '../evm.ts'
import { solcVersion } from '../solc.ts'
import { groth16Rows, provenBatches } from './groth16.ts'
import { measureParity, parityMarkdown } from './index.ts'
import { type ProfileRow, type StepUnit, fitSteps, profileMarkdown, profileParity } from './profile.ts'
import { PARITY_SCENARIOS, PARITY_TABLE_SCENARIOS } from './scenarios.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..')
const { values } = parseArgs({
  options: { out: { type: 'string', default: join(root, 'docs', 'parity.md') }, profile: { type: 'boolean', default: false } },
})

/** Median self gas of `functions` per unit of `unit`, over the operations that have that unit. */
function perUnit(rows: readonly ProfileRow[], functions: readonly string[], unit: StepUnit): number | undefined {
  const xs = rows
    .filter((r) => r.units[unit] > 0)
    .map((r) => r.byFunction.filter(([f]) => functions.includes(f)).reduce((t, [, g]) => t + g, 0) / r.units[unit])
    .sort((a, b) => a - b)
  return xs.length === 0 ? undefined : Math.round(xs[Math.floor(xs.length / 2)] as number)
}

if (values.profile) {
  const evm = await EvmL1.start({ bindings: BINDINGS, anvil: { stepsTracing: true } })
  try {
    const rows = await profileParity(
      PARITY_SCENARIOS,
      PARITY_SCENARIOS.map((s) => s.contract),
      evm,
      EVM_STEP,
    )
    const fixed: Partial<Record<StepUnit, number>> = { dispatch: EVM_STEP.dispatch }
    const sig = perUnit(rows, ['Sig.verify'], 'signature')
    const pay = perUnit(rows, ['PaymentChannelAdjudicator.pay', 'Paych.pay'], 'transfer')
    const amount = perUnit(rows, ['Codec.putAmount'], 'codecAmount')
    if (sig !== undefined) fixed.signature = sig
    if (pay !== undefined) fixed.transfer = pay
    if (amount !== undefined) fixed.codecAmount = amount
    process.stdout.write(profileMarkdown(rows, fitSteps(rows, fixed), EVM_STEP))
  } finally {
    await evm.stop()
  }
} else {
  const evm = await EvmL1.start({ bindings: BINDINGS })
  try {
    const rows = [...(await measureParity(PARITY_TABLE_SCENARIOS, evm)), ...(await groth16Rows(evm, await provenBatches()))]
    const md = parityMarkdown(rows, { solc: solcVersion(), anvil: anvilVersion(), hardfork: DEFAULT_HARDFORK, command: 'npm run parity -w @l2bench/l1-evm' })
    writeFileSync(resolve(values.out as string), md)
    process.stdout.write(md)
  } finally {
    await evm.stop()
    await terminateCurve()
  }
}
