/**
 * Conservation: over random multi-hop workloads (retries, multi-part
 * payments, offline nodes, silent hops timed out on chain), money is only
 * moved, never made or lost. Checked after every forwarder operation
 * (per-channel sums) and at the end (per-node accounting).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import {
  type AddHtlcResult,
  BalanceForwarder,
  type ChannelGraph,
  type Forwarder,
  type HtlcOffer,
  NetworkSimulator,
  barabasiAlbert,
  generateWorkload,
} from '../src/index.ts'

/** Wraps the abstract forwarder and re-checks every channel's sum after each operation. */
class CheckingForwarder implements Forwarder {
  readonly graph: ChannelGraph
  operations = 0
  constructor(private readonly inner: BalanceForwarder) {
    this.graph = inner.graph
  }
  private check(): void {
    this.operations++
    for (let c = 0; c < this.graph.channelCount; c++) {
      const sum = this.inner.liquidity(2 * c) + this.inner.liquidity(2 * c + 1) + this.inner.pendingMsat(c)
      assert.equal(sum, BigInt(this.graph.capacity[c] as number), `channel ${c} after operation ${this.operations}`)
    }
  }
  addHtlc(offer: HtlcOffer): AddHtlcResult {
    const r = this.inner.addHtlc(offer)
    this.check()
    return r
  }
  fulfillHtlc(id: number, preimage: Uint8Array): void {
    this.inner.fulfillHtlc(id, preimage)
    this.check()
  }
  failHtlc(id: number): void {
    this.inner.failHtlc(id)
    this.check()
  }
  closeChannel(channel: number): void {
    this.inner.closeChannel(channel)
    this.check()
  }
  liquidity(edge: number): bigint {
    return this.inner.liquidity(edge)
  }
}

test('property: balances are conserved and each node’s change equals what it received, sent, paid and earned', async () => {
  let succeededTotal = 0
  let failedTotal = 0
  let multiHop = 0
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        seed: fc.integer({ min: 1, max: 1e9 }),
        nodes: fc.integer({ min: 8, max: 30 }),
        m: fc.integer({ min: 1, max: 3 }),
        payments: fc.integer({ min: 10, max: 60 }),
        medianSat: fc.integer({ min: 1_000, max: 300_000 }),
        rate: fc.double({ min: 0.5, max: 50, noNaN: true }),
        cost: fc.constantFrom('fee' as const, 'probability' as const),
        mpp: fc.boolean(),
        offline: fc.constantFrom(0, 0.1),
        stuck: fc.constantFrom(0, 0, 0.03),
      }),
      async (p) => {
        const graph = barabasiAlbert({
          seed: p.seed,
          nodes: p.nodes,
          m: p.m,
          capacity: { kind: 'logNormal', medianSat: 500_000, sigma: 1, minSat: 20_000, maxSat: 5_000_000 },
        })
        const inner = new BalanceForwarder(graph, { seed: p.seed, liquidity: 'uniform' })
        const forwarder = new CheckingForwarder(inner)
        const sim = new NetworkSimulator(graph, {
          seed: p.seed,
          gasPerHtlcResolution: 1,
          forwarder,
          cost: p.cost,
          mpp: p.mpp ? { minPartMsat: 500_000n } : false,
          offlineFraction: p.offline,
          stuckProbability: p.stuck,
        })
        const start = Array.from({ length: graph.nodeCount }, (_, v) => inner.nodeBalanceMsat(v))
        const total = inner.totalMsat()
        const work = generateWorkload(graph, {
          seed: p.seed,
          count: p.payments,
          ratePerSecond: p.rate,
          amount: { kind: 'logNormal', medianSat: p.medianSat, sigma: 1 },
        })
        const results = await sim.run(work)
        assert.equal(sim.pendingHtlcs, 0)
        assert.equal(inner.pendingCount, 0)
        assert.equal(inner.totalMsat(), total)
        let paid = 0n
        let earned = 0n
        for (let v = 0; v < graph.nodeCount; v++) {
          const l = sim.ledger(v)
          const delta = inner.nodeBalanceMsat(v) - (start[v] as bigint)
          assert.equal(delta, l.receivedMsat - l.sentMsat - l.feesPaidMsat + l.feesEarnedMsat, `node ${v}`)
          paid += l.feesPaidMsat
          earned += l.feesEarnedMsat
        }
        assert.equal(paid, earned)
        for (const r of results) {
          if (r.success) {
            succeededTotal++
            if (r.attempts.some((a) => a.outcome === 'settled' && a.route.hops.length > 1)) multiHop++
          } else {
            failedTotal++
            assert.equal(r.feesMsat, 0n)
          }
        }
      },
    ),
    { numRuns: 40 },
  )
  // The property is only meaningful if real multi-hop payments succeeded and others failed.
  assert.ok(multiHop > 100 && failedTotal > 50, `multi-hop successes ${multiHop}, failures ${failedTotal}, successes ${succeededTotal}`)
})
