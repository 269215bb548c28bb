/** The README's "HTLCs and multi-hop" example, run as written. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { HtlcNetwork } from '../src/index.ts'

test('README HTLC example', async () => {
  const policy = { baseFee: 100n, feeRatePpm: 1000n, cltvDelta: 18 }
  const net = await HtlcNetwork.create({
    nodes: ['alice', 'bob', 'carol'],
    channels: [
      { a: 0, b: 1, depositA: 1_000_000n, depositB: 1_000_000n, policyAB: policy },
      { a: 1, b: 2, depositA: 1_000_000n, depositB: 1_000_000n, policyAB: policy },
    ],
    disputeWindow: 6,
  })
  try {
    // Routed by the package's Pathfinder; retried on another route after a failure.
    const r = await net.pay(0, 2, 50_000n)
    assert.equal(r.success, true)
    assert.equal(r.attempts[0]?.route.totalFeesMsat, 150n) // bob: 100 + 50,000 · 1000 / 10⁶

    // By hand: carol's invoice, an explicit route (amount − fee, expiry − delta at bob).
    const [alice, , carol] = net.nodes
    const inv = carol!.createInvoice(10_000n)
    const h = BigInt(net.l1.head().height)
    const out = await alice!.sendPayment(inv.hash, [
      { channelId: net.channelIds[0]!, amount: 10_110n, expiry: h + 58n },
      { channelId: net.channelIds[1]!, amount: 10_000n, expiry: h + 40n },
    ])
    assert.equal(out.status, 'settled')
    assert.deepEqual(out.status === 'settled' && out.preimage, inv.preimage)
  } finally {
    net.stop()
  }
})
