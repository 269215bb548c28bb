/**
 * The parity runner: every operation of a design's script is measured on both
 * backends, succeeds on both, and the table reports the error it computed.
 * (The ±5 % gate joins this file when the mock's gas model is brought in line.)
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { BINDINGS, EvmL1, PARITY_SCENARIOS, formatError, measureParity, parityMarkdown } from '../src/index.ts'

const evm = await EvmL1.start({ bindings: BINDINGS })
after(() => evm.stop())

test('every operation of every parity script runs on both backends; the table shows the error', async () => {
  const rows = await measureParity(PARITY_SCENARIOS, evm)
  assert.ok(rows.length >= 8)
  for (const r of rows) {
    assert.ok(r.mockGas > 21_000 && r.evmGas > 21_000, `${r.operation}: both backends charge more than a transfer`)
    assert.equal(r.error, (r.mockGas - r.evmGas) / r.evmGas)
    // The EVM takes ABI words: never fewer bytes than the compact codec.
    assert.ok(r.evmCalldataBytes >= r.mockCalldataBytes, r.operation)
  }
  const md = parityMarkdown(rows, { solc: 's', anvil: 'a', hardfork: 'h', command: 'c' })
  for (const r of rows) assert.ok(md.includes(`| ${r.operation} | ${r.mockGas.toLocaleString('en-US')} |`), r.operation)
  assert.equal(formatError(0.1234), '+12.3 %')
  assert.equal(formatError(-0.05), '-5.0 %')
})
