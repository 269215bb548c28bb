import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import {
  FLOAT40_MAX_MANTISSA,
  RollupError,
  decodeFloat40,
  encodeFloat40,
  float40Value,
  floorFloat40,
  isFloat40Representable,
} from '../src/index.ts'

describe('float40 amounts', () => {
  it('encodes small amounts exactly with exponent 0', () => {
    assert.equal(encodeFloat40(0n), 0n)
    assert.equal(encodeFloat40(12345n), 12345n)
    assert.equal(encodeFloat40(FLOAT40_MAX_MANTISSA), FLOAT40_MAX_MANTISSA)
  })

  it('uses the smallest exponent for large round amounts', () => {
    const oneEth = 10n ** 18n
    const enc = encodeFloat40(oneEth)
    assert.equal(float40Value(enc), oneEth)
    assert.equal(enc >> 35n, 8n) // 10^18 = 10^10 · 10^8, and 10^10 < 2^35 ≤ 10^11
  })

  it('refuses amounts it cannot represent, with a typed error', () => {
    assert.throws(() => encodeFloat40(FLOAT40_MAX_MANTISSA + 1n), (e: unknown) => e instanceof RollupError && e.code === 'AMOUNT_NOT_REPRESENTABLE')
    assert.throws(() => encodeFloat40(-1n), (e: unknown) => e instanceof RollupError && e.code === 'AMOUNT_RANGE')
    assert.equal(isFloat40Representable(10n ** 40n + 1n), false)
  })

  it('decode(encode(x)) = x and rejects non-canonical encodings', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: FLOAT40_MAX_MANTISSA }), fc.integer({ min: 0, max: 31 }), (m, e) => {
        const value = m * 10n ** BigInt(e)
        const enc = encodeFloat40(value)
        assert.equal(decodeFloat40(enc), value)
        const raw = (BigInt(e) << 35n) | m
        if (raw !== enc) assert.throws(() => decodeFloat40(raw), (err: unknown) => err instanceof RollupError && err.code === 'MALFORMED_CALLDATA')
      }),
    )
  })

  it('floorFloat40 returns the largest representable amount not above the input', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), (x) => {
        const f = floorFloat40(x)
        assert.ok(f <= x)
        assert.ok(isFloat40Representable(f))
      }),
    )
  })
})
