import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CapacityError, NoRouteError, Pathfinder, findPaymentParts } from '../src/index.ts'
import { SAT, named } from './helpers.ts'

// Three disjoint paths of 60k, 50k and 40k sat from S to T.
const { graph, n } = named([
  { id: 'S-A', capacitySat: 60_000n },
  { id: 'A-T', capacitySat: 60_000n },
  { id: 'S-B', capacitySat: 50_000n },
  { id: 'B-T', capacitySat: 50_000n },
  { id: 'S-C', capacitySat: 40_000n },
  { id: 'C-T', capacitySat: 40_000n },
])
const S = n.S as number
const T = n.T as number

function checkParts(parts: ReturnType<typeof findPaymentParts>, amount: bigint): void {
  assert.equal(
    parts.reduce((s, r) => s + r.amountMsat, 0n),
    amount,
  )
  // Together, the parts never ask an edge for more than its capacity.
  const used = new Map<number, bigint>()
  for (const r of parts) for (const h of r.hops) used.set(h.edge, (used.get(h.edge) ?? 0n) + h.amountMsat)
  for (const [e, x] of used) assert.ok(x <= BigInt(graph.capacity[e >> 1] as number), `edge ${e} over capacity`)
}

test('one route when one carries the amount', () => {
  const parts = findPaymentParts(new Pathfinder(graph), { source: S, target: T, amountMsat: 30_000n * SAT })
  assert.equal(parts.length, 1)
})

test('splits across routes when no single route carries the amount', () => {
  const pf = new Pathfinder(graph)
  const amount = 120_000n * SAT
  // No single channel at the source is that large.
  assert.throws(() => pf.findRoute({ source: S, target: T, amountMsat: amount }), CapacityError)
  for (const cost of ['fee', 'probability'] as const) {
    const parts = findPaymentParts(pf, { source: S, target: T, amountMsat: amount, cost }, { minPartMsat: 1000n * SAT })
    assert.ok(parts.length >= 3, `${cost}: ${parts.length} parts`)
    checkParts(parts, amount)
    // All three paths are needed (60 + 50 < 120).
    assert.equal(new Set(parts.map((r) => r.hops[0]?.to)).size, 3)
  }
  // 140k of the 150k the source has in total still splits, over many smaller parts.
  const all = findPaymentParts(pf, { source: S, target: T, amountMsat: 140_000n * SAT }, { minPartMsat: 100n * SAT, maxParts: 64 })
  checkParts(all, 140_000n * SAT)
})

test('limits: too many parts, parts too small, more than the source could ever send', () => {
  const pf = new Pathfinder(graph)
  const req = { source: S, target: T, amountMsat: 120_000n * SAT }
  assert.throws(() => findPaymentParts(pf, req, { maxParts: 2 }), NoRouteError)
  assert.throws(() => findPaymentParts(pf, req, { minPartMsat: 60_000n * SAT }), NoRouteError)
  assert.throws(
    () => findPaymentParts(pf, { ...req, amountMsat: 150_001n * SAT }),
    (e: unknown) => e instanceof CapacityError && e.field === 'amountMsat',
  )
  // In-flight amounts from the caller count too: with 50k already on A's path, 100k no longer fits.
  const onA = pf.findRoute({ source: S, target: T, amountMsat: 50_000n * SAT })
  const inFlight = new Map(onA.hops.map((h) => [h.edge, h.amountMsat]))
  assert.throws(() => findPaymentParts(pf, { ...req, amountMsat: 100_000n * SAT, inFlightMsat: inFlight }, { minPartMsat: 1000n * SAT }), NoRouteError)
  checkParts(findPaymentParts(pf, { ...req, amountMsat: 90_000n * SAT, inFlightMsat: inFlight }, { minPartMsat: 1000n * SAT }), 90_000n * SAT)
})
