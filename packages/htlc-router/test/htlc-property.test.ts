/**
 * Property (fast-check, small sizes): over random multi-hop workloads on a
 * real-channel network — random deposits, policies, senders, receivers and
 * amounts, some too large for some channels so hops refuse and senders retry
 * — the sum over all nodes of (channel balances + L1 funds + gas burnt) never
 * changes, no HTLC is left pending after a payment returns, and each node's
 * change equals what it received − what it sent + fees earned − fees paid,
 * computed independently from the routes of the attempts that settled.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Amount } from '@l2bench/core'
import fc from 'fast-check'
import { HtlcNetwork, type NetworkChannelSpec, drainEventLoop as settle } from '../src/index.ts'

const TOPOLOGY: readonly [number, number][] = [
  [0, 1],
  [1, 2],
  [2, 3],
  [3, 4],
  [4, 0],
  [1, 3],
]

test('random multi-hop workloads conserve money and pay each node exactly its fees and payments', async () => {
  const seen = { multiHop: 0, failed: 0, retried: 0 }
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.bigInt({ min: 0n, max: 200_000n }), fc.bigInt({ min: 0n, max: 200_000n }), fc.bigInt({ min: 0n, max: 300n }), fc.integer({ min: 18, max: 30 })), {
        minLength: TOPOLOGY.length,
        maxLength: TOPOLOGY.length,
      }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.bigInt({ min: 1_000n, max: 150_000n })), { minLength: 1, maxLength: 5 }),
      async (chans, payments) => {
        const channels: NetworkChannelSpec[] = TOPOLOGY.map(([a, b], i) => {
          const [da, db, base, delta] = chans[i] as [bigint, bigint, bigint, number]
          return { a, b, depositA: da + 1n, depositB: db, policyAB: { baseFee: base, feeRatePpm: 100n, cltvDelta: delta }, policyBA: { baseFee: base, feeRatePpm: 10n, cltvDelta: delta } }
        })
        const net = await HtlcNetwork.create({ nodes: 5, channels, seed: 'prop' })
        try {
          const start = net.accounts().map((a) => a.total)
          const sum0 = start.reduce((s, x) => s + x, 0n)
          const expected = [...start]
          for (const [sender, offset, amount] of payments) {
            const receiver = (sender + offset) % 5
            const r = await net.pay(sender, receiver, amount, { maxAttempts: 3 })
            await settle()
            for (const n of net.nodes) assert.deepEqual(n.pendingHtlcs(), [])
            const now = net.accounts().map((a) => a.total)
            assert.equal(
              now.reduce((s, x) => s + x, 0n),
              sum0,
            )
            const won = r.attempts.filter((a) => a.outcome.status === 'settled')
            if (!r.success) seen.failed++
            if (r.attempts.length > 1) seen.retried++
            if (won.some((a) => a.route.hops.length > 1)) seen.multiHop++
            assert.equal(won.length, r.success ? 1 : 0)
            for (const a of won) {
              const hops = a.route.hops
              expected[sender] = (expected[sender] as Amount) - a.route.totalAmountMsat
              expected[receiver] = (expected[receiver] as Amount) + a.route.amountMsat
              for (let i = 1; i < hops.length; i++) {
                const h = hops[i] as (typeof hops)[number]
                expected[h.from] = (expected[h.from] as Amount) + ((hops[i - 1] as (typeof hops)[number]).amountMsat - h.amountMsat)
              }
            }
            assert.deepEqual(now, expected)
          }
          // Node ledgers agree with the balances.
          for (const [i, n] of net.nodes.entries()) {
            const l = n.ledger
            assert.equal(l.received - l.sent + l.feesEarned - l.feesPaid, (expected[i] as Amount) - (start[i] as Amount))
          }
        } finally {
          net.stop()
        }
      },
    ),
    { numRuns: 12, seed: 20261121 },
  )
  // The workloads exercised what they claim to.
  assert.ok(seen.multiHop > 0 && seen.failed > 0 && seen.retried > 0, JSON.stringify(seen))
})
