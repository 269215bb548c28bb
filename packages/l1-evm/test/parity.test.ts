/**
 * The mock's gas model against the EVM: every operation of every design's
 * parity script runs on both backends and must agree within ±5 %, with the
 * same calldata bytes (the mock charges the ABI encoding of each call, from
 * the contract class's description of its port, which must match the
 * compiled Solidity). The Groth16 verification has its own gate in
 * groth16.test.ts (it needs a real proof).
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { HTLC_ADJUDICATOR_ABI, HtlcAdjudicator } from '@l2bench/htlc-router'
import { type AbiItem, canonicalType, encodeAbiCall, parseAbi, signatureOf } from '@l2bench/l1-mock'
import { ADJUDICATOR_ABI, Adjudicator } from '@l2bench/payment-channel'
import { PAYCH_ABI, PaychContract } from '@l2bench/paych-manager'
import { VIRTUAL_ABI, VirtualAdjudicator } from '@l2bench/virtual-channel'
import { ROLLUP_ABI } from '@l2bench/zk-rollup'
import { type Abi, encodeFunctionData } from 'viem'
import { BINDINGS, EvmL1, PARITY_SCENARIOS, artifact, formatError, measureParity, parityMarkdown } from '../src/index.ts'

const evm = await EvmL1.start({ bindings: BINDINGS })
after(() => evm.stop())

test('every operation of every parity script is within ±5 % of the EVM, with the same calldata bytes', async () => {
  const rows = await measureParity(PARITY_SCENARIOS, evm)
  assert.ok(rows.length >= 32)
  assert.ok(rows.some((r) => r.design === 'virtual channel' && r.operation === 'resolveLocked (virtual lock, split to both)'))
  assert.ok(rows.some((r) => r.design.startsWith('ZK rollup') && r.operation === 'submitBatch (1 withdrawal)'))
  const over = rows.filter((r) => Math.abs(r.error) > 0.05)
  assert.deepEqual(
    over.map((r) => `${r.design} / ${r.operation}: mock ${r.mockGas}, EVM ${r.evmGas} (${formatError(r.error)})`),
    [],
  )
  for (const r of rows) {
    assert.equal(r.error, (r.mockGas - r.evmGas) / r.evmGas)
    assert.equal(r.mockCalldataBytes, r.evmCalldataBytes, `${r.operation}: both backends carry the ABI encoding`)
  }
  const md = parityMarkdown(rows, { solc: 's', anvil: 'a', hardfork: 'h', command: 'c' })
  for (const r of rows) assert.ok(md.includes(`| ${r.operation} | ${r.mockGas.toLocaleString('en-US')} |`), r.operation)
  assert.ok(md.includes('Every operation is within ±5 %.'))
})

function described(abi: readonly AbiItem[]): string[] {
  return abi.map((i) =>
    i.type === 'event'
      ? `event ${i.name}(${i.inputs.map((p) => `${canonicalType(p)}${p.indexed === true ? ' indexed' : ''} ${p.name}`).join(',')})`
      : `function ${signatureOf(i)} ${i.stateMutability} (${i.inputs.map((p) => p.name).join(',')})`,
  )
}

test("each contract class's ABI description is the compiled port's (methods, mutability, parameter names, events)", () => {
  const cases: Array<[string, readonly AbiItem[]]> = [
    ['PaymentChannelAdjudicator', ADJUDICATOR_ABI],
    ['HtlcAdjudicator', HTLC_ADJUDICATOR_ABI],
    ['Paych', PAYCH_ABI],
    ['VirtualAdjudicator', [...ADJUDICATOR_ABI, ...VIRTUAL_ABI]],
    ['Rollup', ROLLUP_ABI],
  ]
  for (const [contract, abi] of cases) {
    const compiled = described(artifact(contract).abi as unknown as AbiItem[])
    for (const d of described(abi)) assert.ok(compiled.includes(d), `${contract}: ${d} is not in the compiled ABI`)
  }
  assert.equal(new PaychContract().solidityAbi, PAYCH_ABI)
  assert.equal(new Adjudicator().solidityAbi, ADJUDICATOR_ABI)
  assert.equal(new HtlcAdjudicator().solidityAbi, HTLC_ADJUDICATOR_ABI)
  assert.deepEqual(new VirtualAdjudicator().solidityAbi, [...ADJUDICATOR_ABI, ...VIRTUAL_ABI])
})

test('the mock’s ABI encoder gives viem’s bytes (static, dynamic, nested tuples, fixed arrays, signed)', () => {
  const abi = parseAbi([
    'function f((address a, bytes32[2] k, uint64 n, (uint8 d, bytes b)[] xs, bool t) s, bytes blob, int8 q, uint256[] us)',
  ])
  const w = `0x${'ab'.repeat(32)}`
  const args = [
    { a: `0x${'11'.repeat(20)}`, k: [w, w], n: 2n ** 64n - 1n, xs: [{ d: 7, b: '0x0102' }, { d: 0, b: `0x${'ff'.repeat(40)}` }], t: true },
    `0x${'ee'.repeat(33)}`,
    -5,
    [0n, 1n, 2n ** 256n - 1n],
  ]
  const ours = Buffer.from(encodeAbiCall(abi, { functionName: 'f', args })).toString('hex')
  const theirs = encodeFunctionData({ abi: abi as unknown as Abi, functionName: 'f', args }).slice(2)
  assert.equal(ours, theirs)
})
