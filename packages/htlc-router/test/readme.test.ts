/** The README's usage example, run as written (on a smaller LN-like graph). */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  ChannelGraphBuilder,
  MissionControl,
  NetworkSimulator,
  Pathfinder,
  findPaymentParts,
  formatReport,
  generateWorkload,
  lnLikeGraph,
  summarize,
} from '../src/index.ts'

test('README usage example', async () => {
  const b = new ChannelGraphBuilder()
  const [alice, bob, carol, dave] = ['alice', 'bob', 'carol', 'dave'].map((l) => b.addNode(l)) as [number, number, number, number]
  b.addChannel({ a: alice, b: bob, capacityMsat: 5_000_000_000n })
  b.addChannel({ a: bob, b: carol, capacityMsat: 2_000_000_000n, policyAB: { baseFeeMsat: 1000n, feeRatePpm: 100, cltvExpiryDelta: 40 } })
  b.addChannel({ a: alice, b: dave, capacityMsat: 5_000_000_000n })
  b.addChannel({ a: dave, b: carol, capacityMsat: 2_000_000_000n, policyAB: { baseFeeMsat: 1000n, feeRatePpm: 500, cltvExpiryDelta: 80 } })
  const graph = b.build()

  const pf = new Pathfinder(graph)
  const route = pf.findRoute({ source: alice, target: carol, amountMsat: 100_000_000n, currentHeight: 800_000 })
  assert.equal(route.hops[0]?.to, bob)
  assert.equal(route.hops[0]?.amountMsat, 100_011_000n)
  assert.equal(route.hops[0]?.expiry, 800_080)
  assert.equal(route.hops[1]?.amountMsat, 100_000_000n)
  assert.equal(route.hops[1]?.expiry, 800_040)

  const mc = new MissionControl(graph)
  mc.recordFailure(route.hops[1]!.edge, route.hops[1]!.amountMsat, 0)
  const retry = pf.findRoute({ source: alice, target: carol, amountMsat: 100_000_000n, missionControl: mc, now: 1 })
  assert.equal(retry.hops[0]?.to, dave)

  const parts = findPaymentParts(pf, { source: alice, target: carol, amountMsat: 3_000_000_000n, cost: 'probability' })
  assert.equal(parts.length, 2)
  assert.deepEqual(new Set(parts.map((p) => p.hops[0]?.to)), new Set([bob, dave]))

  const ln = lnLikeGraph({ seed: 1, nodes: 1000, channels: 3750 })
  const sim = new NetworkSimulator(ln, {
    seed: 1,
    gasPerHtlcResolution: 60_000,
    liquidity: 'bimodal',
    cost: 'probability',
    mpp: {},
    offlineFraction: 0.02,
    stuckProbability: 0.001,
  })
  await sim.run(generateWorkload(ln, { seed: 1, count: 150, ratePerSecond: 5, amount: { kind: 'logNormal', medianSat: 20_000, sigma: 1.5 } }))
  const report = summarize(sim)
  assert.equal(report.payments, 150)
  assert.ok(report.successRate > 0.5 && report.successRate < 1, `success ${report.successRate}`)
  assert.equal(
    Object.values(report.failures).reduce((x, y) => x + y, 0),
    report.payments - report.succeeded,
  )
  assert.match(formatReport(report), /payments 150, succeeded/)
})
