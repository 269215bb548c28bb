import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DecodeError, InvalidInputError, MAX_AMOUNT, codec, decode, encode } from '@l2bench/core'
import fc from 'fast-check'

const Msg = codec.messages({
  ping: [1, codec.struct({ id: codec.u32, note: codec.string(64) })],
  state: [
    2,
    codec.struct({
      channel: codec.fixedBytes(32),
      version: codec.u64,
      balances: codec.list(codec.amount, 4),
      owner: codec.address,
      final: codec.bool,
      memo: codec.optional(codec.bytes(100)),
      mode: codec.enumeration(['none', 'slash'] as const),
      big: codec.uint(32),
      small: codec.u8,
      mid: codec.u16,
    }),
  ],
})
type Msg = codec.Infer<typeof Msg>

const arbAddress = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => `0x${Buffer.from(b).toString('hex')}` as const)
const arbMsg: fc.Arbitrary<Msg> = fc.oneof(
  fc.record({ type: fc.constant('ping' as const), id: fc.nat({ max: 0xffffffff }), note: fc.string({ maxLength: 16 }) }, { noNullPrototype: true }),
  fc.record({
    type: fc.constant('state' as const),
    channel: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    version: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    balances: fc.array(fc.bigInt({ min: 0n, max: MAX_AMOUNT }), { maxLength: 4 }),
    owner: arbAddress,
    final: fc.boolean(),
    memo: fc.option(fc.uint8Array({ maxLength: 100 }), { nil: undefined }),
    mode: fc.constantFrom('none' as const, 'slash' as const),
    big: fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }),
    small: fc.nat({ max: 255 }),
    mid: fc.nat({ max: 65535 }),
  }, { noNullPrototype: true }),
)

test('decode(encode(m)) == m and encode(decode(b)) == b for every message type', () => {
  fc.assert(
    fc.property(arbMsg, (m) => {
      const b = encode(Msg, m)
      const back = decode(Msg, b)
      assert.deepEqual(back, m)
      assert.deepEqual(encode(Msg, back), b)
    }),
    { numRuns: 2000 },
  )
})

test('every strict prefix of an encoding is rejected as truncated (DecodeError)', () => {
  fc.assert(
    fc.property(arbMsg, (m) => {
      const b = encode(Msg, m)
      for (let n = 0; n < b.length; n++) assert.throws(() => decode(Msg, b.subarray(0, n)), DecodeError)
    }),
    { numRuns: 200 },
  )
})

test('trailing bytes (extra fields) are rejected', () => {
  const b = encode(Msg, { type: 'ping', id: 7, note: 'hi' })
  assert.throws(() => decode(Msg, new Uint8Array([...b, 0])), (e: DecodeError) => e.code === 'DECODE' && /trailing/.test(e.message))
})

test('oversized input is rejected before parsing', () => {
  assert.throws(() => decode(Msg, new Uint8Array(2_000_000)), /exceeds limit/)
  const b = encode(Msg, { type: 'ping', id: 1, note: 'x'.repeat(60) })
  assert.throws(() => decode(Msg, b, { maxSize: 10 }), DecodeError)
})

test('mistyped values: wrong tag, bad bool, non-minimal integer, length over max, bad utf-8', () => {
  assert.throws(() => decode(Msg, new Uint8Array([9])), (e: DecodeError) => e.field === 'type')
  const bool = codec.struct({ f: codec.bool })
  assert.throws(() => decode(bool, new Uint8Array([2])), (e: DecodeError) => e.field === 'f')
  assert.throws(() => decode(codec.uint(32), new Uint8Array([2, 0, 1])), /non-minimal/)
  assert.throws(() => decode(codec.uint(2), new Uint8Array([3, 1, 1, 1])), /exceeds/)
  assert.throws(() => decode(codec.bytes(4), new Uint8Array([0, 0, 0, 5, 1, 2, 3, 4, 5])), /exceeds 4/)
  assert.throws(() => decode(codec.string(8), new Uint8Array([0, 0, 0, 1, 0xff])), /UTF-8/)
  assert.throws(() => decode(codec.amount, new Uint8Array([17, ...new Array(17).fill(1)])), DecodeError)
})

test('strings are canonical: a leading BOM is kept, not stripped; lone surrogates are refused (ATTACKS 37)', () => {
  const s = codec.string(16)
  const withBom = new Uint8Array([0, 0, 0, 4, 0xef, 0xbb, 0xbf, 0x41])
  const text = decode(s, withBom)
  assert.equal(text, '\uFEFFA')
  assert.deepEqual(encode(s, text), withBom, 'decode then encode gives the same bytes')
  assert.equal(decode(s, new Uint8Array([0, 0, 0, 1, 0x41])), 'A', 'without the BOM: another string')
  assert.throws(() => encode(s, 'a\uD800'), (e: InvalidInputError) => e instanceof InvalidInputError && /surrogate/.test(e.message))
  assert.throws(() => decode(s, new Uint8Array([0, 0, 0, 3, 0xed, 0xa0, 0x80])), DecodeError, 'an encoded surrogate is invalid UTF-8')
})

test('encode rejects wrong types with an error naming the field', () => {
  assert.throws(
    () => encode(Msg, { type: 'ping', id: -1, note: '' }),
    (e: InvalidInputError) => e instanceof InvalidInputError && e.field === 'id',
  )
  assert.throws(
    // @ts-expect-error — a number where a bigint belongs
    () => encode(Msg, { type: 'state', channel: new Uint8Array(32), version: 1, balances: [], owner: `0x${'0'.repeat(40)}`, final: true, memo: undefined, mode: 'none', big: 0n, small: 0, mid: 0 }),
    (e: InvalidInputError) => e.field === 'version',
  )
  assert.throws(() => encode(codec.amount, MAX_AMOUNT + 1n), InvalidInputError)
  assert.throws(() => encode(codec.address, '0xABC' as `0x${string}`), InvalidInputError)
})

test('random bytes never crash the decoder: they decode or throw DecodeError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
      try {
        const m = decode(Msg, b)
        assert.deepEqual(encode(Msg, m), b) // canonical: any accepted input re-encodes to itself
      } catch (e) {
        assert.ok(e instanceof DecodeError, String(e))
      }
    }),
    { numRuns: 10_000 },
  )
})
