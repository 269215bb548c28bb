import assert from 'node:assert/strict'
import { test } from 'node:test'
import { AmountError, InvalidInputError, Rng } from '@l2bench/core'
import fc from 'fast-check'
import {
  CapacityError,
  type ChannelGraph,
  MissionControl,
  NoRouteError,
  Pathfinder,
  type Route,
  TimelockError,
  UnknownNodeError,
  feeMsat,
  routeFromEdges,
  validateRoute,
} from '../src/index.ts'
import { SAT, named, randomSmallGraph } from './helpers.ts'

/** Every feasible simple route by exhaustive search; the minimum total fee, or undefined. */
function bruteForceMinFee(g: ChannelGraph, source: number, target: number, amount: bigint, maxCltv: number): bigint | undefined {
  let best: bigint | undefined
  const path: number[] = []
  const onPath = new Set<number>([source])
  const visit = (v: number): void => {
    if (v === target) {
      const r = routeFromEdges(g, path, amount, { currentHeight: 0, finalCltvDelta: 40 })
      for (const h of r.hops) {
        if (g.disabled[h.edge] === 1) return
        if (h.amountMsat > BigInt(g.capacity[h.channel] as number)) return
        if (h.amountMsat > BigInt(g.htlcMax[h.edge] as number) || h.amountMsat < BigInt(g.htlcMin[h.edge] as number)) return
      }
      if (r.totalCltvDelta > maxCltv) return
      if (best === undefined || r.totalFeesMsat < best) best = r.totalFeesMsat
      return
    }
    for (const e of g.outgoing(v)) {
      const u = g.edgeTo[e] as number
      if (onPath.has(u)) continue
      onPath.add(u)
      path.push(e)
      visit(u)
      path.pop()
      onPath.delete(u)
    }
  }
  visit(source)
  return best
}

test('backward Dijkstra finds the minimum-fee route (brute force on small random graphs)', () => {
  let routed = 0
  let unroutable = 0
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 1e9 }),
      fc.integer({ min: 3, max: 7 }),
      fc.integer({ min: 2, max: 14 }),
      fc.bigInt({ min: 1n, max: 1_500_000n }),
      (seed, nodes, channels, amount) => {
        const g = randomSmallGraph(seed, nodes, channels)
        const rng = new Rng(seed)
        const source = rng.int(nodes)
        const target = (source + 1 + rng.int(nodes - 1)) % nodes
        const expected = bruteForceMinFee(g, source, target, amount, 2016)
        let route: Route | undefined
        try {
          route = new Pathfinder(g).findRoute({ source, target, amountMsat: amount, riskFactorBillionths: 0 })
        } catch (e) {
          if (!(e instanceof NoRouteError || e instanceof CapacityError)) throw e
        }
        if (expected === undefined) {
          assert.equal(route, undefined)
          unroutable++
        } else {
          assert.ok(route, 'brute force found a route, Dijkstra did not')
          assert.equal(route.totalFeesMsat, expected)
          validateRoute(g, route)
          routed++
        }
      },
    ),
    { numRuns: 400 },
  )
  // The property must have exercised both outcomes to mean anything.
  assert.ok(routed > 50 && unroutable > 20, `routed ${routed}, unroutable ${unroutable}`)
})

test('fees and timelocks accumulate hop by hop', () => {
  // S → A → B → T; A and B charge, the sender's own hop does not.
  const { graph, n } = named([
    { id: 'S-A', capacitySat: 1_000_000n, ab: { baseFeeMsat: 999n, feeRatePpm: 9999, cltvExpiryDelta: 99 } },
    { id: 'A-B', capacitySat: 1_000_000n, ab: { baseFeeMsat: 1000n, feeRatePpm: 100, cltvExpiryDelta: 40 } },
    { id: 'B-T', capacitySat: 1_000_000n, ab: { baseFeeMsat: 2000n, feeRatePpm: 1000, cltvExpiryDelta: 144 } },
  ])
  const amount = 500_000_000n
  const r = new Pathfinder(graph).findRoute({ source: n.S as number, target: n.T as number, amountMsat: amount, currentHeight: 800_000, finalCltvDelta: 40 })
  assert.deepEqual(
    r.hops.map((h) => [h.from, h.to]),
    [
      [n.S, n.A],
      [n.A, n.B],
      [n.B, n.T],
    ],
  )
  const feeB = 2000n + (amount * 1000n) / 1_000_000n // B forwards the amount onto B→T
  const feeA = 1000n + ((amount + feeB) * 100n) / 1_000_000n // A forwards amount + feeB onto A→B
  assert.equal(r.hops[2]?.amountMsat, amount)
  assert.equal(r.hops[2]?.feeMsat, feeB)
  assert.equal(r.hops[1]?.amountMsat, amount + feeB)
  assert.equal(r.hops[1]?.feeMsat, feeA)
  assert.equal(r.hops[0]?.amountMsat, amount + feeB + feeA)
  assert.equal(r.hops[0]?.feeMsat, 0n)
  assert.equal(r.totalFeesMsat, feeA + feeB)
  assert.equal(r.hops[2]?.expiry, 800_040)
  assert.equal(r.hops[1]?.expiry, 800_040 + 144)
  assert.equal(r.hops[0]?.expiry, 800_040 + 144 + 40)
  assert.equal(r.totalCltvDelta, 40 + 144 + 40)
  for (let i = 1; i < r.hops.length; i++) {
    const h = r.hops[i] as Route['hops'][number]
    const prev = r.hops[i - 1] as Route['hops'][number]
    assert.equal(prev.amountMsat, h.amountMsat + h.feeMsat)
    assert.equal(prev.expiry, h.expiry + h.cltvDelta)
    const p = graph.policy(h.edge)
    assert.equal(h.feeMsat, feeMsat(p.baseFeeMsat, BigInt(p.feeRatePpm), h.amountMsat))
  }
})

test('the invariants hold on every route of random graphs, under both costs', () => {
  for (let seed = 1; seed <= 60; seed++) {
    const g = randomSmallGraph(seed, 8, 16)
    const pf = new Pathfinder(g)
    for (let s = 0; s < g.nodeCount; s++)
      for (let t = 0; t < g.nodeCount; t++) {
        if (s === t) continue
        let r: Route
        try {
          r = pf.findRoute({ source: s, target: t, amountMsat: 50_000n, currentHeight: 100, cost: seed % 2 === 0 ? 'fee' : 'probability' })
        } catch (e) {
          if (e instanceof NoRouteError || e instanceof CapacityError) continue
          throw e
        }
        assert.ok(r.probability > 0 && r.probability <= 1)
        validateRoute(g, r)
        assert.equal(r.hops[0]?.from, s)
        assert.equal(r.hops.at(-1)?.to, t)
        assert.equal(r.totalAmountMsat, r.amountMsat + r.totalFeesMsat)
        assert.equal(new Set(r.hops.map((h) => h.to)).size, r.hops.length)
      }
  }
})

test('skips channels too small, disabled, below htlc minimum or above htlc maximum', () => {
  // Four parallel two-hop paths S → X → T; only the last one is usable for 100k sat.
  const amount = 100_000n * SAT
  const { graph, n } = named([
    { id: 'S-A', capacitySat: 1_000_000n },
    { id: 'A-T', capacitySat: 99_999n, ab: { baseFeeMsat: 0n, feeRatePpm: 0 } }, // too small
    { id: 'S-B', capacitySat: 1_000_000n },
    { id: 'B-T', capacitySat: 1_000_000n, ab: { baseFeeMsat: 0n, feeRatePpm: 0, disabled: true } },
    { id: 'S-C', capacitySat: 1_000_000n },
    { id: 'C-T', capacitySat: 1_000_000n, ab: { baseFeeMsat: 0n, feeRatePpm: 0, htlcMaximumMsat: amount - 1n } },
    { id: 'S-D', capacitySat: 1_000_000n },
    { id: 'D-T', capacitySat: 1_000_000n, ab: { baseFeeMsat: 0n, feeRatePpm: 0, htlcMinimumMsat: amount + 1n } },
    { id: 'S-E', capacitySat: 1_000_000n },
    { id: 'E-T', capacitySat: 1_000_000n, ab: { baseFeeMsat: 5000n, feeRatePpm: 5000 } }, // expensive but fits
  ])
  const pf = new Pathfinder(graph)
  const r = pf.findRoute({ source: n.S as number, target: n.T as number, amountMsat: amount })
  assert.deepEqual(
    r.hops.map((h) => h.to),
    [n.E, n.T],
  )
  // A small payment takes the free path through A.
  const small = pf.findRoute({ source: n.S as number, target: n.T as number, amountMsat: 1000n * SAT })
  assert.equal(small.hops[0]?.to, n.A)
  assert.equal(small.totalFeesMsat, 0n)
  // Excluding a channel (closed) forces another path.
  const excluded = new Uint8Array(graph.channelCount)
  excluded[small.hops[1]?.channel as number] = 1
  const other = pf.findRoute({ source: n.S as number, target: n.T as number, amountMsat: 1000n * SAT, excludedChannels: excluded })
  assert.notEqual(other.hops[0]?.to, n.A)
})

test('the total timelock bound and the fee limit prune routes', () => {
  const { graph, n } = named([
    { id: 'S-A', capacitySat: 1_000_000n },
    { id: 'A-B', capacitySat: 1_000_000n, ab: { cltvExpiryDelta: 1000, baseFeeMsat: 0n, feeRatePpm: 0 } },
    { id: 'B-T', capacitySat: 1_000_000n, ab: { cltvExpiryDelta: 1000, baseFeeMsat: 0n, feeRatePpm: 0 } },
    { id: 'S-C', capacitySat: 1_000_000n },
    { id: 'C-T', capacitySat: 1_000_000n, ab: { cltvExpiryDelta: 40, baseFeeMsat: 50_000n, feeRatePpm: 0 } },
  ])
  const pf = new Pathfinder(graph)
  const req = { source: n.S as number, target: n.T as number, amountMsat: 10_000_000n, riskFactorBillionths: 0 }
  // The free path needs 40 + 1000 + 1000 blocks > 2016, so the paid one is taken.
  const r = pf.findRoute(req)
  assert.equal(r.hops[0]?.to, n.C)
  assert.ok(r.totalCltvDelta <= 2016)
  assert.throws(() => pf.findRoute({ ...req, feeLimitMsat: 49_999n }), NoRouteError)
  assert.equal(pf.findRoute({ ...req, feeLimitMsat: 50_000n }).totalFeesMsat, 50_000n)
})

test('bad input: typed errors naming the field', () => {
  const { graph, n } = named([
    { id: 'S-A', capacitySat: 100_000n },
    { id: 'A-T', capacitySat: 100_000n },
    { id: 'X-Y', capacitySat: 100_000n },
  ])
  const pf = new Pathfinder(graph)
  const base = { source: n.S as number, target: n.T as number, amountMsat: 1_000_000n }
  const check = (patch: Record<string, unknown>, type: new (...a: never[]) => Error, field: string) =>
    assert.throws(
      () => pf.findRoute({ ...base, ...patch } as typeof base),
      (e: unknown) => e instanceof type && (e as { field?: string }).field === field,
      `${JSON.stringify(patch, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))} → ${type.name} ${field}`,
    )
  check({ amountMsat: 0n }, AmountError, 'amountMsat')
  check({ amountMsat: -1n }, AmountError, 'amountMsat')
  check({ amountMsat: 1000 }, AmountError, 'amountMsat')
  check({ amountMsat: 100_000_001n }, CapacityError, 'amountMsat')
  check({ source: 99 }, UnknownNodeError, 'source')
  check({ target: -1 }, UnknownNodeError, 'target')
  check({ target: 0.5 }, UnknownNodeError, 'target')
  check({ target: n.S }, InvalidInputError, 'target')
  check({ finalCltvDelta: 17 }, TimelockError, 'finalCltvDelta')
  check({ maxTotalCltv: 2017 }, TimelockError, 'maxTotalCltv')
  check({ maxTotalCltv: 500, finalCltvDelta: 501 }, TimelockError, 'finalCltvDelta')
  check({ cost: 'cheapest' }, InvalidInputError, 'cost')
  check({ feeLimitMsat: -1n }, InvalidInputError, 'feeLimitMsat')
  check({ currentHeight: -3 }, InvalidInputError, 'currentHeight')
  check({ inFlightMsat: new Map([[999, 1n]]) }, Error, 'inFlightMsat')
  // A component without a path to the target is a routing failure, not bad input.
  assert.throws(() => pf.findRoute({ ...base, target: n.Y as number }), NoRouteError)
})

test('mission control: a failed channel is avoided on retry, and forgiven as the failure decays', () => {
  // Cheap path S → A → T, dearer path S → B → T.
  const { graph, n } = named([
    { id: 'S-A', capacitySat: 1_000_000n },
    { id: 'A-T', capacitySat: 1_000_000n, ab: { baseFeeMsat: 0n, feeRatePpm: 10 } },
    { id: 'S-B', capacitySat: 1_000_000n },
    { id: 'B-T', capacitySat: 1_000_000n, ab: { baseFeeMsat: 0n, feeRatePpm: 500 } },
  ])
  const pf = new Pathfinder(graph)
  const mc = new MissionControl(graph, { halfLifeMs: 60_000 })
  const req = { source: n.S as number, target: n.T as number, amountMsat: 300_000_000n, missionControl: mc, now: 0 }
  const first = pf.findRoute(req)
  assert.equal(first.hops[0]?.to, n.A)
  // A reports it cannot forward 300k sat over A→T.
  const failed = first.hops[1] as Route['hops'][number]
  mc.recordFailure(failed.edge, failed.amountMsat, 0)
  const retry = pf.findRoute({ ...req, now: 1 })
  assert.equal(retry.hops[0]?.to, n.B)
  // Smaller amounts still fit under the learnt ceiling.
  assert.equal(pf.findRoute({ ...req, amountMsat: 200_000_000n, now: 1 }).hops[0]?.to, n.A)
  assert.equal(mc.successProbability(failed.edge, 300_000_000n, 1), 0)
  // After a few half-lives the ceiling has relaxed toward the capacity: the cheap path is back.
  assert.equal(pf.findRoute({ ...req, now: 10 * 60_000 }).hops[0]?.to, n.A)
  // A node blamed for a failure is avoided for about a half-life.
  mc.clear()
  mc.recordNodeFailure(n.A as number, 0)
  assert.equal(pf.findRoute({ ...req, now: 30_000 }).hops[0]?.to, n.B)
  assert.equal(pf.findRoute({ ...req, now: 61_000 }).hops[0]?.to, n.A)
})

test('mission control bounds: failure ceiling, forwarded floor, settled shift, decay', () => {
  const { graph, ch } = named([{ id: 'A-B', capacitySat: 1000n }])
  const e = graph.edge(ch['A-B'] as number, 0)
  const mc = new MissionControl(graph, { halfLifeMs: 1000 })
  assert.deepEqual(mc.bounds(e, 0), { lo: 0, hi: 1_000_000 })
  // Uniform prior: P = (c + 1 − a)/(c + 1).
  assert.equal(mc.successProbability(e, 250_000n, 0), (1_000_001 - 250_000) / 1_000_001)
  mc.recordFailure(e, 600_000n, 0)
  assert.deepEqual(mc.bounds(e, 0), { lo: 0, hi: 599_999 })
  mc.recordSuccess(e, 200_000n, 0)
  assert.deepEqual(mc.bounds(e, 0), { lo: 200_000, hi: 599_999 })
  assert.equal(mc.successProbability(e, 200_000n, 0), 1)
  assert.equal(mc.successProbability(e, 400_000n, 0), (599_999 + 1 - 400_000) / (599_999 + 1 - 200_000))
  mc.recordSettled(e, 100_000n, 0)
  assert.deepEqual(mc.bounds(e, 0), { lo: 100_000, hi: 499_999 })
  // One half-life: the floor halves, the ceiling moves half way to the capacity.
  assert.deepEqual(mc.bounds(e, 1000), { lo: 50_000, hi: Math.floor(1_000_000 - (1_000_000 - 499_999) / 2) })
  // A failure below the floor means the floor is stale.
  mc.recordFailure(e, 10_000n, 0)
  assert.deepEqual(mc.bounds(e, 0), { lo: 9_999, hi: 9_999 })
})

test('probability-aware cost prefers larger channels to slightly cheaper small ones', () => {
  const amount = 1_000_000n * SAT // 1M sat
  const { graph, n } = named([
    // Cheap path through channels barely larger than the amount.
    { id: 'S-A', capacitySat: 1_100_000n },
    { id: 'A-T', capacitySat: 1_100_000n, ab: { baseFeeMsat: 0n, feeRatePpm: 100 } },
    // 20 ppm dearer path through channels 50× the amount.
    { id: 'S-B', capacitySat: 50_000_000n },
    { id: 'B-T', capacitySat: 50_000_000n, ab: { baseFeeMsat: 0n, feeRatePpm: 120 } },
  ])
  const pf = new Pathfinder(graph)
  const req = { source: n.S as number, target: n.T as number, amountMsat: amount }
  const plain = pf.findRoute({ ...req, cost: 'fee' })
  const prob = pf.findRoute({ ...req, cost: 'probability' })
  assert.equal(plain.hops[0]?.to, n.A)
  assert.equal(prob.hops[0]?.to, n.B)
  assert.ok(prob.probability > plain.probability)
  // The reported probability is the product of the per-hop uniform priors.
  const p = (c: number, a: number) => (c + 1 - a) / (c + 1)
  const cA = 1_100_000_000
  const want = p(cA, Number(plain.hops[0]?.amountMsat)) * p(cA, Number(plain.hops[1]?.amountMsat))
  assert.ok(Math.abs(plain.probability - want) < 1e-12)
  // With a known local balance the sender's own channel counts as certain.
  const local = pf.findRoute({ ...req, cost: 'probability', localLiquidityMsat: () => 2_000_000_000n })
  assert.equal(local.hops[0]?.to, n.B)
  const noLocal = pf.findRoute({ ...req, cost: 'fee', localLiquidityMsat: (e) => (graph.edgeTo[e] === n.A ? 0n : 10n ** 12n) })
  assert.equal(noLocal.hops[0]?.to, n.B)
})
