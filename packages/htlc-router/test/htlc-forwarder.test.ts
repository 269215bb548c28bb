/**
 * The channel-backed Forwarder behind the network simulator: on the same
 * graph and workload it gives exactly the results of the abstract
 * BalanceForwarder (same successes, failures, attempts, final liquidity per
 * edge), while every HTLC step is a countersigned update of a real channel;
 * money is conserved on L1 and in the channels; force-closes with stuck
 * HTLCs resolve on chain.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BalanceForwarder, ChannelForwarder, ChannelGraphBuilder, NetworkSimulator, type Payment, generateWorkload } from '../src/index.ts'

function smallGraph() {
  const b = new ChannelGraphBuilder()
  for (let i = 0; i < 6; i++) b.addNode(`v${i}`)
  const cap = 4_000_000n
  const edges: [number, number][] = [
    [0, 1],
    [1, 2],
    [2, 3],
    [3, 4],
    [4, 5],
    [5, 0],
    [1, 4],
    [0, 3],
  ]
  for (const [a, c] of edges) b.addChannel({ a, b: c, capacityMsat: cap, policyAB: { baseFeeMsat: 100n, feeRatePpm: 500 }, policyBA: { baseFeeMsat: 50n, feeRatePpm: 1000 } })
  return b.build()
}

test('the simulator over real channels gives the same results as over abstract balances, and conserves money', async () => {
  const graph = smallGraph()
  const fwd = await ChannelForwarder.create(graph, { liquidity: 'half' })
  try {
    const payments: Payment[] = generateWorkload(graph, { count: 24, ratePerSecond: 2, amount: { kind: 'logNormal', medianSat: 400, sigma: 1.2 }, seed: 7 })
    const common = { seed: 3, gasPerHtlcResolution: 0, startHeight: fwd.startHeight, hopLatencyMs: 50 }
    const abstract = new NetworkSimulator(graph, { ...common, forwarder: new BalanceForwarder(graph, { liquidity: 'half' }) })
    const real = new NetworkSimulator(graph, { ...common, forwarder: fwd })
    fwd.bindClock(() => real.heightAt(real.now))
    const l1Before = fwd.network.l1.totalBalances() + fwd.network.l1.totalBurnt()
    const r1 = await abstract.run(payments)
    const r2 = await real.run(payments)
    const view = (rs: typeof r1) => rs.map((r) => [r.success, r.reason, r.attempts.length, r.feesMsat])
    assert.deepEqual(view(r2), view(r1))
    assert.ok(r1.some((r) => r.success) && r1.some((r) => !r.success), 'the workload has successes and failures')
    assert.ok(r1.some((r) => r.attempts.length > 1), 'some payments were retried')
    for (let e = 0; e < graph.edgeCount; e++) assert.equal(fwd.liquidity(e), abstract.forwarder.liquidity(e), `edge ${e}`)
    assert.equal(fwd.pendingCount, 0)
    for (const n of fwd.network.nodes) assert.deepEqual(n.pendingHtlcs(), [])
    // Real channels: every channel still holds its capacity, and the L1 holds everything minted.
    for (let c = 0; c < graph.channelCount; c++) {
      const s = (fwd.network.nodes[graph.chanA[c] as number] as (typeof fwd.network.nodes)[number]).channel.status(fwd.network.channelIds[c] as Uint8Array)
      assert.equal(s.balances[0] + s.balances[1], graph.capacityMsat(c))
      assert.ok(s.version > 0n || !r1.some((r) => r.success))
    }
    assert.equal(fwd.network.l1.totalBalances() + fwd.network.l1.totalBurnt(), l1Before)
    for (let v = 0; v < graph.nodeCount; v++) assert.deepEqual(real.ledger(v), abstract.ledger(v))
  } finally {
    fwd.stop()
  }
})

test('stuck HTLCs: force-closed channels resolve their HTLCs on chain, as in the abstract run', async () => {
  const graph = smallGraph()
  const fwd = await ChannelForwarder.create(graph, { liquidity: 'half' })
  try {
    const payments: Payment[] = generateWorkload(graph, { count: 10, ratePerSecond: 1, amount: { kind: 'fixed', sat: 300 }, seed: 11 })
    const common = { seed: 5, gasPerHtlcResolution: 1, startHeight: fwd.startHeight, hopLatencyMs: 50, stuckProbability: 0.15 }
    const abstract = new NetworkSimulator(graph, { ...common, forwarder: new BalanceForwarder(graph, { liquidity: 'half' }) })
    const real = new NetworkSimulator(graph, { ...common, forwarder: fwd })
    fwd.bindClock(() => real.heightAt(real.now))
    const r1 = await abstract.run(payments)
    const r2 = await real.run(payments)
    assert.ok(abstract.stats.forceCloses > 0, 'the seed produces force-closes')
    assert.equal(real.stats.forceCloses, abstract.stats.forceCloses)
    assert.equal(real.stats.onchainHtlcResolutions, abstract.stats.onchainHtlcResolutions)
    assert.deepEqual(
      r2.map((r) => [r.success, r.reason]),
      r1.map((r) => [r.success, r.reason]),
    )
    assert.equal(fwd.pendingCount, 0)
    // Every closed channel paid out everything: the adjudicator holds only the open channels' deposits.
    let open = 0n
    for (let c = 0; c < graph.channelCount; c++) if (!real.closedChannels[c]) open += graph.capacityMsat(c)
    assert.equal(fwd.network.l1.balanceOf(fwd.network.adjudicator.address), open)
  } finally {
    fwd.stop()
  }
})
