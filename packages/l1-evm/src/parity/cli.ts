/**
 * `npm run parity -w @l2bench/l1-evm [-- --out FILE]`: measures the parity
 * table (every design's operations on the mock and on anvil) and writes it as
 * markdown (default docs/parity.md at the repository root) and prints it.
 */
import { writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { DEFAULT_HARDFORK } from '../anvil.ts'
import { BINDINGS } from '../contracts/index.ts'
import { EvmL1 } from '../evm.ts'
import { solcVersion } from '../solc.ts'
import { terminateCurve } from '@l2bench/zk-rollup'
import { groth16Rows, provenBatches } from './groth16.ts'
import { measureParity, parityMarkdown } from './index.ts'
import { PARITY_SCENARIOS } from './scenarios.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..')
const { values } = parseArgs({ options: { out: { type: 'string', default: join(root, 'docs', 'parity.md') } } })
const evm = await EvmL1.start({ bindings: BINDINGS })
try {
  const rows = [...(await measureParity(PARITY_SCENARIOS, evm)), ...(await groth16Rows(evm, await provenBatches()))]
  const anvil = (createRequire(import.meta.url)('@foundry-rs/anvil/package.json') as { version: string }).version
  const md = parityMarkdown(rows, { solc: solcVersion(), anvil, hardfork: DEFAULT_HARDFORK, command: 'npm run parity -w @l2bench/l1-evm' })
  writeFileSync(resolve(values.out as string), md)
  process.stdout.write(md)
} finally {
  await evm.stop()
  await terminateCurve()
}
