import assert from 'node:assert/strict'
import { test } from 'node:test'
import { AmountError, InvalidInputError } from '@l2bench/core'
import {
  CapacityError,
  FeeError,
  type Route,
  RouteLoopError,
  TimelockError,
  UnknownChannelError,
  UnknownNodeError,
  buildRoute,
  validateRoute,
} from '../src/index.ts'
import { SAT, named } from './helpers.ts'

const net = named([
  { id: 'S-A', capacitySat: 1_000_000n },
  { id: 'A-B', capacitySat: 1_000_000n, ab: { cltvExpiryDelta: 40, baseFeeMsat: 1000n, feeRatePpm: 10 } },
  // Two parallel channels B→T: the cheaper one that fits is picked.
  { id: 'B-T', capacitySat: 50_000n, ab: { cltvExpiryDelta: 144, baseFeeMsat: 0n, feeRatePpm: 0 } },
  { id: 'B-T#2', capacitySat: 1_000_000n, ab: { cltvExpiryDelta: 144, baseFeeMsat: 500n, feeRatePpm: 100 } },
  { id: 'T-S', capacitySat: 1_000_000n },
  { id: 'A-X', capacitySat: 1_000_000n, ab: { cltvExpiryDelta: 1000 } },
  { id: 'X-Y', capacitySat: 1_000_000n, ab: { cltvExpiryDelta: 1000 } },
])
const { graph, n } = net

const fieldIs = (type: new (...a: never[]) => Error, field: string) => (e: unknown) =>
  e instanceof type && (e as { field?: string }).field === field

test('buildRoute follows a node path, picks the cheapest channel that fits, and validates', () => {
  const path = [n.S, n.A, n.B, n.T] as number[]
  const small = buildRoute(graph, { path, amountMsat: 10_000n * SAT, currentHeight: 100 })
  assert.equal(small.hops[2]?.channel, net.ch['B-T'])
  assert.equal(small.hops[2]?.expiry, 140)
  assert.equal(small.hops[1]?.expiry, 140 + 144)
  assert.equal(small.hops[0]?.expiry, 140 + 144 + 40)
  assert.equal(small.totalFeesMsat, 1000n + (10_000_000n * 10n) / 1_000_000n)
  validateRoute(graph, small)
  // 100k sat does not fit the small B→T channel: the dearer parallel one is used.
  const large = buildRoute(graph, { path, amountMsat: 100_000n * SAT })
  assert.equal(large.hops[2]?.channel, net.ch['B-T#2'])
  assert.throws(() => buildRoute(graph, { path, amountMsat: 2_000_000n * SAT }), fieldIs(CapacityError, 'path[3]'))
})

test('buildRoute rejects unknown nodes, loops, missing channels and out-of-bound timelocks', () => {
  const amountMsat = 1000n * SAT
  assert.throws(() => buildRoute(graph, { path: [n.S as number, 42], amountMsat }), fieldIs(UnknownNodeError, 'path[1]'))
  assert.throws(() => buildRoute(graph, { path: [n.S, n.A, n.B, n.T, n.S] as number[], amountMsat }), fieldIs(RouteLoopError, 'path[4]'))
  assert.throws(() => buildRoute(graph, { path: [n.S, n.B] as number[], amountMsat }), fieldIs(UnknownChannelError, 'path[1]'))
  assert.throws(() => buildRoute(graph, { path: [n.S, n.A] as number[], amountMsat: 0n }), fieldIs(AmountError, 'amountMsat'))
  assert.throws(() => buildRoute(graph, { path: [n.S, n.A] as number[], amountMsat, finalCltvDelta: 9 }), fieldIs(TimelockError, 'finalCltvDelta'))
  // 40 final + 1000 (X→Y) + 1000 (A→X) > 2016.
  assert.throws(() => buildRoute(graph, { path: [n.S, n.A, n.X, n.Y] as number[], amountMsat }), fieldIs(TimelockError, 'hops[0].expiry'))
  assert.throws(() => buildRoute(graph, { path: [n.S] as number[], amountMsat }), fieldIs(InvalidInputError, 'path'))
})

test('validateRoute names the hop whose delta, fee or expiry is wrong', () => {
  const r = buildRoute(graph, { path: [n.S, n.A, n.B, n.T] as number[], amountMsat: 10_000n * SAT, currentHeight: 100 })
  const patch = (i: number, fields: Partial<Route['hops'][number]>): Route => ({
    ...r,
    hops: r.hops.map((h, k) => (k === i ? { ...h, ...fields } : h)),
  })
  // A's incoming HTLC expires only 39 blocks after its outgoing one; A asks for 40.
  const short = patch(0, { expiry: (r.hops[1]?.expiry as number) + 39 })
  assert.throws(() => validateRoute(graph, short), fieldIs(TimelockError, 'hops[0].expiry'))
  // The same route is fine in shape.
  validateRoute(graph, short, { checkPolicy: false })
  const cheap = patch(0, { amountMsat: (r.hops[0]?.amountMsat as bigint) - 1n })
  assert.throws(() => validateRoute(graph, cheap), fieldIs(FeeError, 'hops[0].amountMsat'))
  assert.throws(() => validateRoute(graph, r, { currentHeight: 123 }), fieldIs(TimelockError, 'hops[2].expiry'))
  assert.throws(() => validateRoute(graph, r, { maxTotalCltv: 200 }), fieldIs(TimelockError, 'hops[0].expiry'))
  const loop = { ...r, hops: [...r.hops, ...buildRoute(graph, { path: [n.T, n.S] as number[], amountMsat: 1000n }).hops] }
  assert.throws(() => validateRoute(graph, loop, { checkPolicy: false }), fieldIs(RouteLoopError, 'hops[3].to'))
  const broken = { ...r, hops: [r.hops[0], r.hops[2]] as Route['hops'] }
  assert.throws(() => validateRoute(graph, broken, { checkPolicy: false }), fieldIs(UnknownChannelError, 'hops[1].from'))
  const huge = patch(2, { amountMsat: 60_000n * SAT })
  assert.throws(() => validateRoute(graph, huge, { checkPolicy: false }), fieldIs(CapacityError, 'hops[2].amountMsat'))
  const negative = patch(2, { amountMsat: -1n })
  assert.throws(() => validateRoute(graph, negative, { checkPolicy: false }), fieldIs(AmountError, 'hops[2].amountMsat'))
})
