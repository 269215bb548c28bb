/**
 * Float40 amounts (the Hermez encoding): value = m · 10^e with a 35-bit
 * mantissa m and a 5-bit exponent e, packed as e·2^35 + m in 5 bytes. It covers
 * every amount below 2^35 exactly and large round amounts up to ~3.4·10^41,
 * which is what lets a transfer fit in 10 bytes of calldata.
 *
 * Only the canonical encoding is accepted on decode: e = 0 when m·10^e < 2^35,
 * otherwise the smallest e that represents the value. The circuit accepts any
 * (m, e) — the amount is m·10^e either way — but the codec and the contract
 * refuse non-canonical bytes, so there is exactly one body per batch.
 */
import { RollupError } from './errors.ts'

export const FLOAT40_MANTISSA_BITS = 35
export const FLOAT40_MAX_MANTISSA = (1n << 35n) - 1n
export const FLOAT40_MAX_EXPONENT = 31
export const FLOAT40_BYTES = 5

const POW10: bigint[] = Array.from({ length: FLOAT40_MAX_EXPONENT + 1 }, (_, i) => 10n ** BigInt(i))

/** The canonical float40 encoding of `amount`; throws AMOUNT_NOT_REPRESENTABLE when there is none. */
export function encodeFloat40(amount: bigint, field = 'amount'): bigint {
  if (typeof amount !== 'bigint' || amount < 0n)
    throw new RollupError('AMOUNT_RANGE', `expected a non-negative bigint amount, got ${String(amount)}`, { field })
  for (let e = 0; e <= FLOAT40_MAX_EXPONENT; e++) {
    const p = POW10[e] as bigint
    if (amount % p !== 0n) break
    const m = amount / p
    if (m <= FLOAT40_MAX_MANTISSA) return (BigInt(e) << 35n) | m
  }
  throw new RollupError('AMOUNT_NOT_REPRESENTABLE', `${amount} is not m·10^e with m < 2^35, e ≤ 31`, { field })
}

/** The amount encoded by a float40 value (any encoding, canonical or not). */
export function float40Value(encoded: bigint): bigint {
  const m = encoded & FLOAT40_MAX_MANTISSA
  const e = Number(encoded >> 35n)
  return m * (POW10[e] as bigint)
}

/** Decodes and checks canonicality; throws MALFORMED_CALLDATA otherwise. */
export function decodeFloat40(encoded: bigint, field = 'amount'): bigint {
  if (encoded < 0n || encoded >= 1n << 40n) throw new RollupError('MALFORMED_CALLDATA', 'float40 out of range', { field })
  const value = float40Value(encoded)
  if (encodeFloat40(value, field) !== encoded)
    throw new RollupError('MALFORMED_CALLDATA', `non-canonical float40 encoding of ${value}`, { field })
  return value
}

export function isFloat40Representable(amount: bigint): boolean {
  try {
    encodeFloat40(amount)
    return true
  } catch {
    return false
  }
}

/** The largest representable amount ≤ `amount` (what a wallet should offer when rounding is acceptable). */
export function floorFloat40(amount: bigint): bigint {
  if (amount <= FLOAT40_MAX_MANTISSA) return amount
  let e = 0
  while (amount / (POW10[e] as bigint) > FLOAT40_MAX_MANTISSA) e++
  if (e > FLOAT40_MAX_EXPONENT) return FLOAT40_MAX_MANTISSA * (POW10[FLOAT40_MAX_EXPONENT] as bigint)
  return (amount / (POW10[e] as bigint)) * (POW10[e] as bigint)
}
