/**
 * Property (fast-check, small sizes): a 3-hop payment alice → bob → carol →
 * dave over real channels, with a random fault script — dave withholds the
 * preimage for a random number of blocks (or for ever), random links are cut
 * at random blocks and some come back later (the nodes stay on L1; a
 * reconnection resyncs the channel) — and blocks mined until every HTLC
 * is resolved. Whatever happens: nothing stays locked, money is conserved
 * (channel balances + L1 funds + gas burnt), the payment is all or nothing
 * (alice paid ⇔ dave paid), and bob and carol never lose: each ends with
 * exactly its fee or exactly nothing, gas aside. The second property runs
 * several payments at once, both ways, and restarts random nodes at random
 * blocks (from their stores): every payment is still all or nothing and every
 * node ends with exactly its payments and fees.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Amount } from '@l2bench/core'
import fc from 'fast-check'
import { HtlcNetwork, type HtlcNode, type PaymentOutcome } from '../src/index.ts'

const M = 1_000_000n
const policy = { baseFee: 100n, feeRatePpm: 1000n, cltvDelta: 18 }

test('random withholding and link cuts: all or nothing, forwarding hops never lose', async () => {
  const seen = { settled: 0, failed: 0, onChain: 0 }
  await fc.assert(
    fc.asyncProperty(
      fc.option(fc.integer({ min: 0, max: 50 }), { nil: undefined }),
      fc.array(
        fc.record({
          link: fc.integer({ min: 0, max: 2 }),
          at: fc.integer({ min: 0, max: 45 }),
          /** Blocks until the link comes back (undefined: never). */
          down: fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
        }),
        { maxLength: 3 },
      ),
      fc.bigInt({ min: 1_000n, max: 100_000n }),
      async (releaseAt, cuts, amount) => {
        const net = await HtlcNetwork.create({
          nodes: ['alice', 'bob', 'carol', 'dave'],
          channels: [0, 1, 2].map((i) => ({ a: i, b: i + 1, depositA: M, depositB: M, policyAB: policy })),
          disputeWindow: 6,
          seed: 'faults',
        })
        try {
          const nodes = [...net.nodes] as HtlcNode[]
          const dave = nodes[3] as HtlcNode
          dave.withholding = true
          const before = net.accounts().map((a) => a.total)
          const sum = before.reduce((s, x) => s + x, 0n)
          const route = net.findRoute(0, 3, amount)
          let outcome: PaymentOutcome | undefined
          const paid = net.payAlong(route).then((o) => {
            outcome = o
          })
          for (let block = 0; block < 160; block++) {
            for (const c of cuts) if (c.at === block) net.setLinked(c.link, c.link + 1, false)
            for (const c of cuts) if (c.down !== undefined && c.at + c.down === block) net.setLinked(c.link, c.link + 1, true)
            if (releaseAt === block) dave.releasePreimages()
            const quiet = nodes.every((n) => n.pendingHtlcs().length === 0)
            if (quiet && outcome !== undefined && block > Math.max(releaseAt ?? 0, ...cuts.map((c) => c.at + (c.down ?? 0)))) break
            await net.mine(1)
          }
          await paid
          for (const n of nodes) assert.deepEqual(n.pendingHtlcs(), [], 'nothing left locked')
          const after = net.accounts().map((a) => a.total)
          assert.equal(
            after.reduce((s, x) => s + x, 0n),
            sum,
          )
          const delta = after.map((x, i) => x - (before[i] as Amount))
          const hops = route.hops
          const fee = (i: number) => (hops[i - 1] as (typeof hops)[number]).amountMsat - (hops[i] as (typeof hops)[number]).amountMsat
          const o = outcome as PaymentOutcome
          if (o.status === 'settled') {
            seen.settled++
            assert.deepEqual(delta, [-route.totalAmountMsat, fee(1), fee(2), amount])
          } else {
            seen.failed++
            assert.deepEqual(delta, [0n, 0n, 0n, 0n])
          }
          if (o.onChain) seen.onChain++
        } finally {
          net.stop()
        }
      },
    ),
    { numRuns: 40, seed: 4242 },
  )
  assert.ok(seen.settled > 0 && seen.failed > 0 && seen.onChain > 0, JSON.stringify(seen))
})

test('several concurrent payments both ways under faults and restarts: each all or nothing, every node gets exactly its payments and fees', async () => {
  const seen = { settled: 0, failed: 0, onChain: 0 }
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.record({
          from: fc.integer({ min: 0, max: 3 }),
          to: fc.integer({ min: 0, max: 3 }),
          amount: fc.bigInt({ min: 1_000n, max: 50_000n }),
          /** When the receiver reveals (undefined: never). */
          releaseAt: fc.option(fc.integer({ min: 0, max: 50 }), { nil: undefined }),
        }),
        { minLength: 1, maxLength: 3 },
      ),
      fc.array(
        fc.record({ link: fc.integer({ min: 0, max: 2 }), at: fc.integer({ min: 0, max: 45 }), down: fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }) }),
        { maxLength: 2 },
      ),
      fc.array(fc.record({ node: fc.integer({ min: 0, max: 3 }), at: fc.integer({ min: 0, max: 60 }) }), { maxLength: 2 }),
      async (payments, cuts, restarts) => {
        const net = await HtlcNetwork.create({
          nodes: ['alice', 'bob', 'carol', 'dave'],
          channels: [0, 1, 2].map((i) => ({ a: i, b: i + 1, depositA: M, depositB: M, policyAB: policy, policyBA: policy })),
          disputeWindow: 6,
          seed: 'faults',
        })
        try {
          const nodes = [...net.nodes] as HtlcNode[]
          for (const n of nodes) n.withholding = true
          const before = net.accounts().map((a) => a.total)
          const sum = before.reduce((s, x) => s + x, 0n)
          const live = payments.filter((p) => p.from !== p.to)
          // One invoice per payment, each released (or not) on its own schedule.
          const sent = live.map((p) => {
            const route = net.findRoute(p.from, p.to, p.amount)
            const inv = (nodes[p.to] as HtlcNode).createInvoice(p.amount)
            const rec = { p, route, inv, outcome: undefined as PaymentOutcome | undefined }
            void (nodes[p.from] as HtlcNode).sendPayment(inv.hash, net.toHtlcRoute(route)).then((o) => {
              rec.outcome = o
            })
            return rec
          })
          const last = Math.max(0, ...live.map((p) => p.releaseAt ?? 0), ...cuts.map((c) => c.at + (c.down ?? 0)))
          const restarted = new Set<number>()
          for (let block = 0; block < 200; block++) {
            for (const r of restarts)
              if (r.at === block) {
                const w = nodes[r.node] as HtlcNode
                const n = await net.restart(r.node)
                n.withholding = w.withholding
                nodes[r.node] = n
                restarted.add(r.node)
                for (const s of sent) if (s.p.to === r.node && s.p.releaseAt !== undefined && s.p.releaseAt < block) n.releasePreimage(s.inv.hash)
                // A restart reconnects every link of the node: re-cut the ones that are still down.
                for (const c of cuts)
                  if ((c.link === r.node || c.link + 1 === r.node) && c.at <= block && (c.down === undefined || c.at + c.down > block))
                    net.setLinked(c.link, c.link + 1, false)
              }
            for (const c of cuts) if (c.at === block) net.setLinked(c.link, c.link + 1, false)
            for (const c of cuts) if (c.down !== undefined && c.at + c.down === block) net.setLinked(c.link, c.link + 1, true)
            for (const s of sent) if (s.p.releaseAt === block) (nodes[s.p.to] as HtlcNode).releasePreimage(s.inv.hash)
            const quiet = nodes.every((n) => n.pendingHtlcs().length === 0)
            const done = sent.every((s) => s.outcome !== undefined || restarted.has(s.p.from))
            if (quiet && done && block > Math.max(last, ...restarts.map((r) => r.at))) break
            await net.mine(1)
          }
          for (const n of nodes) assert.deepEqual(n.pendingHtlcs(), [], 'nothing left locked')
          // A restarted sender lost its promise: read the outcome back from its HTLC records.
          for (const s of sent) {
            if (s.outcome !== undefined) continue
            const h = `0x${Buffer.from(s.inv.hash).toString('hex')}`
            const rec = (nodes[s.p.from] as HtlcNode).allHtlcs().find((x) => !x.incoming && x.hash === h && (x.status === 'settled' || x.status === 'failed'))
            if (rec !== undefined) s.outcome = rec.status === 'settled' ? { status: 'settled', preimage: s.inv.preimage, onChain: rec.onChain } : { status: 'failed', failure: { code: 'x', reporter: nodes[0]!.address }, onChain: rec.onChain }
            else if (!(nodes[s.p.from] as HtlcNode).allHtlcs().some((x) => !x.incoming && x.hash === h)) s.outcome = { status: 'failed', failure: { code: 'never sent', reporter: nodes[0]!.address }, onChain: false }
          }
          assert.ok(sent.every((s) => s.outcome !== undefined), 'every payment has an outcome')
          const after = net.accounts().map((a) => a.total)
          assert.equal(
            after.reduce((s, x) => s + x, 0n),
            sum,
          )
          const expected = [...before]
          for (const s of sent) {
            const o = s.outcome as PaymentOutcome
            if (o.onChain) seen.onChain++
            if (o.status !== 'settled') {
              seen.failed++
              continue
            }
            seen.settled++
            const hops = s.route.hops
            expected[s.p.from] = (expected[s.p.from] as Amount) - s.route.totalAmountMsat
            expected[s.p.to] = (expected[s.p.to] as Amount) + s.p.amount
            for (let i = 1; i < hops.length; i++)
              expected[(hops[i] as (typeof hops)[number]).from] =
                (expected[(hops[i] as (typeof hops)[number]).from] as Amount) +
                (hops[i - 1] as (typeof hops)[number]).amountMsat -
                (hops[i] as (typeof hops)[number]).amountMsat
          }
          assert.deepEqual(after, expected)
        } finally {
          net.stop()
        }
      },
    ),
    { numRuns: 25, seed: 777 },
  )
  assert.ok(seen.settled > 0 && seen.failed > 0 && seen.onChain > 0, JSON.stringify(seen))
})
