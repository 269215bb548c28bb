/**
 * The rollup's capacity input "fixed gas of a submitBatch without deposits"
 * (rollup-cost.ts fixedGasWithoutDeposits): from the labelled split on the
 * mock; on an EVM, whose receipts carry no labels, from the batches that
 * consume no deposit and are not the chain's first, each known exactly.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { ClosedBatch } from '@l2bench/zk-rollup'
import fc from 'fast-check'
import { type CostFacts, fixedGasWithoutDeposits } from '../src/designs/rollup-cost.ts'
import type { FixedGas } from '../src/designs/rollup-gas.ts'

const closed = (deposits: number) => ({ deposits: new Array(deposits).fill({}) }) as unknown as ClosedBatch

function facts(labelled: boolean, batches: { deposits: number; gas?: number }[], fixedGas: FixedGas[]): CostFacts {
  return {
    basis: { proofMs: [1], cpuMs: [], fixedGas },
    reused: false,
    circuit: 'c',
    constraints: 1,
    workers: 1,
    n: 1,
    d: 1,
    batches: batches.map((b) => ({ proven: true, closed: closed(b.deposits), ...(b.gas === undefined ? {} : { gasBeyondCalldata: b.gas }) })),
    succeeded: 1,
    farm: false,
    labelled,
  }
}

// What an unlabelled receipt gives the split: everything beyond calldata in `base` (first-time writes and deposits included).
const unlabelled = (base: number): FixedGas => ({ base, deposits: 0, perDeposit: 0, headWrite: 0, slotsNew: false })

test('on an EVM: the mean over the batches without deposits after the chain\'s first, not the first batch\'s writes nor the deposits', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 200_000, max: 400_000 }),
      fc.array(fc.record({ deposits: fc.integer({ min: 0, max: 4 }), extra: fc.integer({ min: 0, max: 50 }) }), { minLength: 1, maxLength: 20 }),
      (plain, rest) => {
        // The first batch writes its slots for the first time (+51,300) and consumes deposits (+20,000 each).
        const batches = [{ deposits: 2, gas: plain + 51_300 + 40_000 }, ...rest.map((b) => ({ deposits: b.deposits, gas: plain + b.deposits * 20_000 + b.extra }))]
        const f = fixedGasWithoutDeposits(facts(false, batches, batches.slice(0, 2).map((b) => unlabelled(b.gas))))
        const without = rest.filter((b) => b.deposits === 0)
        if (without.length === 0) {
          // Nothing to read it off: the unlabelled split, said to be an overestimate.
          assert.ok(f.gas > plain)
          assert.match(f.how, /an overestimate/)
        } else {
          const expected = plain + without.reduce((a, b) => a + b.extra, 0) / without.length
          assert.ok(Math.abs(f.gas - expected) < 1e-6, `${f.gas} vs ${expected}`)
          assert.match(f.how, new RegExp(`mean over ${without.length} batch(es)? without deposits after the chain's first`))
          assert.equal(f.of, 'submitBatch')
        }
      },
    ),
  )
})

test('on an EVM: a batch whose gas is not known exactly (neither proven nor executed) is not used', () => {
  const f = fixedGasWithoutDeposits(facts(false, [{ deposits: 1, gas: 400_000 }, { deposits: 0 }, { deposits: 0, gas: 300_000 }], [unlabelled(400_000)]))
  assert.equal(f.gas, 300_000)
})

test('on the mock: the proven batches\' labelled split, as before', () => {
  const split: FixedGas[] = [
    { base: 330_000, deposits: 2, perDeposit: 9_000, headWrite: 3_000, slotsNew: true },
    { base: 310_000, deposits: 1, perDeposit: 9_000, headWrite: 3_000, slotsNew: false },
  ]
  const f = fixedGasWithoutDeposits(facts(true, [{ deposits: 2, gas: 1 }, { deposits: 0, gas: 1 }], split))
  assert.deepEqual(f, { gas: 310_000, of: 'proven submitBatch', how: 'measured' })
})
