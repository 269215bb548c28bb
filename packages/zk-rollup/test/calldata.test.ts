import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import {
  type BatchBody,
  type CircuitParams,
  FIELD_MODULUS,
  L2Key,
  OP_TRANSFER,
  OP_WITHDRAW,
  RollupError,
  circuitBody,
  circuitBodyBytes,
  commitmentFromPreimage,
  commitmentPreimage,
  decodeBatchCalldata,
  encodeBatchCalldata,
  encodeFloat40,
  opBytes,
  publicInputCount,
  publicInputs,
} from '../src/index.ts'

const params: CircuitParams = { n: 4, d: 2, depth: 16, mode: 'sha' }
const domain = { chainId: 31337n, contract: '0x00000000000000000000000000000000000000aa' as const }
const key = L2Key.fromSeed('calldata')

const malformed = (e: unknown) => e instanceof RollupError && e.code === 'MALFORMED_CALLDATA'

const opArb = fc.record({
  type: fc.constantFrom(OP_TRANSFER, OP_WITHDRAW) as fc.Arbitrary<typeof OP_TRANSFER | typeof OP_WITHDRAW>,
  from: fc.integer({ min: 0, max: 2 ** 16 - 1 }),
  to: fc.integer({ min: 0, max: 2 ** 16 - 1 }),
  amount: fc.oneof(fc.bigInt({ min: 1n, max: 2n ** 35n - 1n }), fc.bigInt({ min: 1n, max: 10n ** 9n }).map((m) => m * 10n ** 20n)),
})

const bodyArb: fc.Arbitrary<BatchBody> = fc.record({
  newRoot: fc.bigInt({ min: 0n, max: FIELD_MODULUS - 1n }),
  deposits: fc.array(
    fc.record({ index: fc.integer({ min: 0, max: 2 ** 16 - 1 }), amount: fc.bigInt({ min: 1n, max: 2n ** 128n - 1n }) }).map((d) => ({
      ...d,
      publicKey: key.publicKey,
    })),
    { maxLength: params.d },
  ),
  ops: fc.array(opArb, { maxLength: params.n }),
})

describe('batch calldata', () => {
  it('a transfer takes 10 bytes at depth 16 (type 1, indices 2+2, float40 5)', () => {
    assert.equal(opBytes(16), 10)
    const body: BatchBody = { newRoot: 5n, deposits: [], ops: [{ type: OP_TRANSFER, from: 1, to: 2, amount: 3n }] }
    assert.equal(encodeBatchCalldata(params, body).length, 35 + 10)
  })

  it('decode(encode(body)) = body', () => {
    fc.assert(
      fc.property(bodyArb, (body) => {
        const bytes = encodeBatchCalldata(params, body)
        const plain = (b: BatchBody) => ({
          newRoot: b.newRoot,
          deposits: b.deposits.map((d) => ({ index: d.index, publicKey: [...d.publicKey], amount: d.amount })),
          ops: b.ops.map((o) => ({ ...o })),
        })
        assert.deepEqual(plain(decodeBatchCalldata(params, bytes)), plain(body))
      }),
      { numRuns: 200 },
    )
  })

  it('rejects truncated, extended and out-of-range calldata with MALFORMED_CALLDATA', () => {
    const body: BatchBody = {
      newRoot: 7n,
      deposits: [{ index: 3, publicKey: key.publicKey, amount: 100n }],
      ops: [{ type: OP_TRANSFER, from: 1, to: 2, amount: 3n }],
    }
    const good = encodeBatchCalldata(params, body)
    assert.throws(() => decodeBatchCalldata(params, good.subarray(0, good.length - 1)), malformed)
    assert.throws(() => decodeBatchCalldata(params, new Uint8Array([...good, 0])), malformed)
    assert.throws(() => decodeBatchCalldata(params, new Uint8Array(10)), malformed)
    const at = (i: number, v: number) => {
      const b = Uint8Array.from(good)
      b[i] = v
      return b
    }
    // newRoot ≥ p
    const big = Uint8Array.from(good)
    big.fill(0xff, 0, 32)
    assert.throws(() => decodeBatchCalldata(params, big), malformed)
    // more deposits than slots, more ops than slots
    assert.throws(() => decodeBatchCalldata(params, at(32, 3)), malformed)
    assert.throws(() => decodeBatchCalldata(params, at(34, 5)), malformed)
    // op type 0 (no-ops are never posted) and 3
    const opAt = 35 + 82
    assert.throws(() => decodeBatchCalldata(params, at(opAt, 0)), malformed)
    assert.throws(() => decodeBatchCalldata(params, at(opAt, 3)), malformed)
    // non-canonical float: 3 written as 30·10^-1 is impossible, but 30 as 3·10^1 is canonical; write 30 as (e=0, m=30) → fine; write 3·10^1 with e=1 when canonical is e=0
    const nonCanonical = Uint8Array.from(good)
    const f = (1n << 35n) | 3n // 3·10^1 = 30, canonical encoding is (0, 30)
    for (let i = 0; i < 5; i++) nonCanonical[opAt + 5 + i] = Number((f >> BigInt(8 * (4 - i))) & 0xffn)
    assert.throws(() => decodeBatchCalldata(params, nonCanonical), malformed)
    // zero amount
    const zero = Uint8Array.from(good)
    zero.fill(0, opAt + 5, opAt + 10)
    assert.throws(() => decodeBatchCalldata(params, zero), malformed)
    // a deposit key off the curve
    const offCurve = Uint8Array.from(good)
    offCurve[35 + 2 + 31] = (offCurve[35 + 2 + 31] as number) ^ 1
    assert.throws(() => decodeBatchCalldata(params, offCurve), malformed)
    // an index beyond 2^depth at depth 12 (2 bytes hold 16 bits)
    const p12: CircuitParams = { ...params, depth: 12 }
    const b12 = encodeBatchCalldata(p12, { newRoot: 1n, deposits: [], ops: [{ type: OP_TRANSFER, from: 1, to: 2, amount: 3n }] })
    b12[35 + 1] = 0x10
    assert.throws(() => decodeBatchCalldata(p12, b12), malformed)
  })

  it('encoding refuses what it could not decode', () => {
    assert.throws(() => encodeBatchCalldata(params, { newRoot: 1n, deposits: [], ops: [{ type: OP_TRANSFER, from: 1, to: 2, amount: 10n ** 12n + 1n }] }), (e: unknown) => e instanceof RollupError && e.code === 'AMOUNT_NOT_REPRESENTABLE')
    assert.throws(() => encodeBatchCalldata(params, { newRoot: 1n, deposits: [], ops: Array(5).fill({ type: OP_TRANSFER, from: 1, to: 2, amount: 1n }) }), malformed)
    assert.throws(() => encodeBatchCalldata(params, { newRoot: FIELD_MODULUS, deposits: [], ops: [] }), malformed)
  })

  it('the circuit body has a fixed length and zero padding', () => {
    const body: BatchBody = { newRoot: 9n, deposits: [], ops: [{ type: OP_WITHDRAW, from: 258, to: 3, amount: 10n ** 20n }] }
    const b = circuitBody(params, domain, body)
    assert.equal(b.length, circuitBodyBytes(params))
    assert.equal(b.length, 8 + 20 + 1 + 2 * 82 + 4 * 10)
    const opAt = 29 + 2 * 82
    assert.deepEqual([...b.subarray(opAt, opAt + 5)], [2, 1, 2, 0, 3])
    const f = encodeFloat40(10n ** 20n)
    assert.equal(BigInt(`0x${Buffer.from(b.subarray(opAt + 5, opAt + 10)).toString('hex')}`), f)
    assert.ok(b.subarray(opAt + 10).every((x) => x === 0))
  })

  it('public inputs: one SHA-256 commitment below 2^253, or packed 31-byte chunks', () => {
    const body: BatchBody = { newRoot: 9n, deposits: [], ops: [] }
    const [c] = publicInputs(params, domain, 1n, body)
    assert.ok(c !== undefined && c < 1n << 253n)
    assert.equal(c, commitmentFromPreimage(commitmentPreimage(params, domain, 1n, body)))
    assert.notEqual(publicInputs(params, domain, 2n, body)[0], c, 'the old root is bound')
    assert.notEqual(publicInputs(params, { ...domain, chainId: 1n }, 1n, body)[0], c, 'the chain is bound')
    const packed: CircuitParams = { ...params, mode: 'packed' }
    const pub = publicInputs(packed, domain, 1n, body)
    assert.equal(pub.length, publicInputCount(packed))
    assert.equal(pub.length, 2 + Math.ceil(circuitBodyBytes(packed) / 31))
    assert.equal(pub[0], 1n)
    assert.equal(pub[1], 9n)
  })
})
