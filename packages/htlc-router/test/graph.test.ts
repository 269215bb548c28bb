import assert from 'node:assert/strict'
import { test } from 'node:test'
import { AmountError, InvalidInputError } from '@l2bench/core'
import fc from 'fast-check'
import {
  CapacityError,
  ChannelGraphBuilder,
  MAX_CAPACITY_MSAT,
  TimelockError,
  UnknownChannelError,
  UnknownNodeError,
  feeMsat,
  feeMsatNumber,
} from '../src/index.ts'
import { named } from './helpers.ts'

test('fee: base + floor(amount·ppm/1e6), number version exact against bigint', () => {
  assert.equal(feeMsat(1000n, 1n, 1_000_000n), 1001n)
  assert.equal(feeMsat(0n, 500n, 1999n), 0n) // 0.9995 msat rounds down
  assert.equal(feeMsat(0n, 500n, 2000n), 1n)
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 0xffff_ffff }),
      fc.integer({ min: 0, max: 10_000_000 }),
      fc.bigInt({ min: 0n, max: MAX_CAPACITY_MSAT }),
      (base, ppm, amount) => {
        const exact = feeMsat(BigInt(base), BigInt(ppm), amount)
        if (exact > MAX_CAPACITY_MSAT) return // beyond every capacity: only rejection matters
        assert.equal(feeMsatNumber(base, ppm, Number(amount)), Number(exact))
      },
    ),
    { numRuns: 2000 },
  )
  // The float quotient alone would round up here: (10^6·k − 1)·ppm / 10^6 lands just below an integer.
  for (const amount of [999_999, 1_999_999, 9_007_199_254_740_991]) {
    for (const ppm of [1, 999_999, 1_000_000, 9_999_999]) {
      const exact = feeMsat(0n, BigInt(ppm), BigInt(amount))
      if (exact <= MAX_CAPACITY_MSAT) assert.equal(feeMsatNumber(0, ppm, amount), Number(exact))
    }
  }
})

test('CSR adjacency matches the channels, in both directions', () => {
  const { graph, n, ch } = named([
    { id: 'A-B', capacitySat: 100n },
    { id: 'B-C', capacitySat: 200n },
    { id: 'A-C', capacitySat: 300n },
    { id: 'C-D', capacitySat: 400n },
  ])
  assert.equal(graph.nodeCount, 4)
  assert.equal(graph.channelCount, 4)
  for (let v = 0; v < graph.nodeCount; v++) {
    for (const e of graph.outgoing(v)) assert.equal(graph.edgeFrom[e], v)
    for (const e of graph.incoming(v)) assert.equal(graph.edgeTo[e], v)
    assert.equal(graph.outgoing(v).length, graph.incoming(v).length)
  }
  const ab = graph.edge(ch['A-B'] as number, 0)
  assert.equal(graph.edgeFrom[ab], n.A)
  assert.equal(graph.edgeTo[ab], n.B)
  assert.deepEqual(graph.edgesBetween(n.B as number, n.A as number), [ab ^ 1])
  assert.equal(graph.degree(n.C as number), 3)
  assert.equal(graph.nodeCapacityMsat(n.C as number), 900_000n)
  assert.equal(graph.capacityMsat(ch['C-D'] as number), 400_000n)
  assert.equal(graph.node('D'), n.D)
  assert.equal(graph.label(n.B as number), 'B')
  assert.deepEqual(graph.policy(ab), {
    baseFeeMsat: 1000n,
    feeRatePpm: 1,
    cltvExpiryDelta: 40,
    htlcMinimumMsat: 1000n,
    htlcMaximumMsat: 100_000n,
    disabled: false,
  })
})

test('builder rejects bad channels with typed errors naming the field, and changes nothing', () => {
  const b = new ChannelGraphBuilder()
  const x = b.addNode('x')
  const y = b.addNode('y')
  const reject = (input: Parameters<ChannelGraphBuilder['addChannel']>[0], type: new (...a: never[]) => Error, field: string) => {
    assert.throws(
      () => b.addChannel(input),
      (e: unknown) => e instanceof type && (e as { field?: string }).field === field,
    )
    assert.equal(b.channelCount, 0)
  }
  reject({ a: x, b: 7, capacityMsat: 1000n }, UnknownNodeError, 'b')
  reject({ a: -1, b: y, capacityMsat: 1000n }, UnknownNodeError, 'a')
  reject({ a: x, b: x, capacityMsat: 1000n }, InvalidInputError, 'b')
  reject({ a: x, b: y, capacityMsat: 0n }, AmountError, 'capacityMsat')
  reject({ a: x, b: y, capacityMsat: -5n }, AmountError, 'capacityMsat')
  reject({ a: x, b: y, capacityMsat: MAX_CAPACITY_MSAT + 1n }, CapacityError, 'capacityMsat')
  reject({ a: x, b: y, capacityMsat: 10_000n, policyBA: { cltvExpiryDelta: 17 } }, TimelockError, 'policyBA.cltvExpiryDelta')
  reject({ a: x, b: y, capacityMsat: 10_000n, policyAB: { feeRatePpm: -1 } }, InvalidInputError, 'policyAB.feeRatePpm')
  reject({ a: x, b: y, capacityMsat: 10_000n, policyAB: { baseFeeMsat: 1n << 32n } }, InvalidInputError, 'policyAB.baseFeeMsat')
  reject({ a: x, b: y, capacityMsat: 10_000n, policyAB: { htlcMaximumMsat: 10_001n } }, InvalidInputError, 'policyAB.htlcMaximumMsat')
  reject(
    { a: x, b: y, capacityMsat: 10_000n, policyAB: { htlcMinimumMsat: 5000n, htlcMaximumMsat: 4000n } },
    InvalidInputError,
    'policyAB.htlcMinimumMsat',
  )
  assert.throws(() => b.addNode('x'), (e: unknown) => e instanceof InvalidInputError && e.field === 'label')
  b.addChannel({ a: x, b: y, capacityMsat: 10_000n, policyAB: { cltvExpiryDelta: 18 } })
  const g = b.build()
  assert.throws(() => g.outgoing(2), (e: unknown) => e instanceof UnknownNodeError && e.field === 'node')
  assert.throws(() => g.policy(2), (e: unknown) => e instanceof UnknownChannelError && e.field === 'edge')
  assert.throws(() => g.node('nobody'), UnknownNodeError)
  assert.throws(() => new ChannelGraphBuilder({ minCltvExpiryDelta: 0 }), InvalidInputError)
})
