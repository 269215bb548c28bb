/**
 * Money is `bigint`, always. These helpers are the only arithmetic on amounts:
 * they refuse negatives and anything past MAX_AMOUNT (2^128 − 1, far above any
 * real supply, and small enough that a sum of 2^64 amounts still fits in 256
 * bits on an EVM), so an overflow or underflow is an error, never a wrap.
 */
import { AmountError, describe } from './errors.ts'

export type Amount = bigint

export const MAX_AMOUNT: Amount = (1n << 128n) - 1n

/** Validates that `value` is an amount: a bigint in [min, MAX_AMOUNT]. */
export function toAmount(field: string, value: unknown, min: Amount = 0n): Amount {
  if (typeof value !== 'bigint') throw new AmountError(field, `expected a bigint amount, got ${describe(value)}`)
  if (value < min) throw new AmountError(field, value < 0n ? `negative amount ${value}` : `amount ${value} below minimum ${min}`)
  if (value > MAX_AMOUNT) throw new AmountError(field, `amount ${value} exceeds MAX_AMOUNT`)
  return value
}

/** A strictly positive amount (payments, deposits that must move value). */
export function toPositiveAmount(field: string, value: unknown): Amount {
  return toAmount(field, value, 1n)
}

export function addAmounts(field: string, a: Amount, b: Amount): Amount {
  const r = a + b
  if (a < 0n || b < 0n) throw new AmountError(field, 'negative operand')
  if (r > MAX_AMOUNT) throw new AmountError(field, `sum ${r} exceeds MAX_AMOUNT`)
  return r
}

/** a − b; throws when the result would be negative (e.g. spending above a balance). */
export function subAmounts(field: string, a: Amount, b: Amount): Amount {
  if (a < 0n || b < 0n) throw new AmountError(field, 'negative operand')
  if (b > a) throw new AmountError(field, `insufficient: ${a} < ${b}`, { details: { have: a, need: b } })
  return a - b
}

export function sumAmounts(field: string, values: Iterable<Amount>): Amount {
  let total = 0n
  for (const v of values) total = addAmounts(field, total, v)
  return total
}

export function minAmount(a: Amount, b: Amount): Amount {
  return a < b ? a : b
}

export function maxAmount(a: Amount, b: Amount): Amount {
  return a > b ? a : b
}
