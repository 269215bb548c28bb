import assert from 'node:assert/strict'
import { test } from 'node:test'
import { AmountError, MAX_AMOUNT, addAmounts, subAmounts, sumAmounts, toAmount, toPositiveAmount } from '@l2bench/core'
import fc from 'fast-check'

test('toAmount accepts bigints in range and names the field otherwise', () => {
  assert.equal(toAmount('x', 5n), 5n)
  for (const bad of [-1n, MAX_AMOUNT + 1n, 5, '5', 1.5, null, undefined]) {
    assert.throws(() => toAmount('deposit', bad), (e: AmountError) => e instanceof AmountError && e.field === 'deposit')
  }
  assert.throws(() => toPositiveAmount('amt', 0n), AmountError)
})

test('checked arithmetic never goes negative or past the bound', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: MAX_AMOUNT }), fc.bigInt({ min: 0n, max: MAX_AMOUNT }), (a, b) => {
      if (a + b > MAX_AMOUNT) assert.throws(() => addAmounts('s', a, b), AmountError)
      else assert.equal(addAmounts('s', a, b), a + b)
      if (b > a) assert.throws(() => subAmounts('d', a, b), AmountError)
      else assert.equal(subAmounts('d', a, b), a - b)
    }),
  )
  assert.equal(sumAmounts('t', [1n, 2n, 3n]), 6n)
})
