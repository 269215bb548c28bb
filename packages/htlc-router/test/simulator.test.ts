import assert from 'node:assert/strict'
import { test } from 'node:test'
import { InvalidInputError } from '@l2bench/core'
import {
  BalanceForwarder,
  HtlcError,
  NetworkSimulator,
  type Payment,
  Pathfinder,
  type Route,
  buildRoute,
  generateWorkload,
  hubAndSpoke,
  summarize,
} from '../src/index.ts'
import { SAT, named } from './helpers.ts'

const GAS = 40_000
const L = 100

/** S → A → B → T, plus a detour S → C → T; all balances on the `a` side (the first-named node). */
function network() {
  return named([
    { id: 'S-A', capacitySat: 1_000_000n },
    { id: 'A-B', capacitySat: 1_000_000n, ab: { baseFeeMsat: 1000n, feeRatePpm: 100 } },
    { id: 'B-T', capacitySat: 1_000_000n, ab: { baseFeeMsat: 1000n, feeRatePpm: 100 } },
    { id: 'S-C', capacitySat: 1_000_000n },
    { id: 'C-T', capacitySat: 1_000_000n, ab: { baseFeeMsat: 5000n, feeRatePpm: 1000 } },
  ])
}

function balances(f: BalanceForwarder, nodes: number): bigint[] {
  return Array.from({ length: nodes }, (_, v) => f.nodeBalanceMsat(v))
}

test('a payment settles hop by hop: balances move, hops keep their fees, latency is 2·hops·L', async () => {
  const { graph, n } = network()
  const sim = new NetworkSimulator(graph, { seed: 1, gasPerHtlcResolution: GAS, liquidity: 'funder', hopLatencyMs: L })
  const f = sim.forwarder as BalanceForwarder
  const before = balances(f, graph.nodeCount)
  const amount = 100_000n * SAT
  const [r] = await sim.run([{ id: 1, timeMs: 0, sender: n.S as number, receiver: n.T as number, amountMsat: amount }])
  assert.ok(r?.success, `failed: ${r?.reason}`)
  assert.equal(r.attempts.length, 1)
  const route = r.attempts[0]?.route as Route
  assert.deepEqual(
    route.hops.map((h) => h.to),
    [n.A, n.B, n.T],
  )
  assert.equal(r.latencyMs, 2 * 3 * L)
  const after = balances(f, graph.nodeCount)
  const feeB = 1000n + (amount * 100n) / 1_000_000n
  const feeA = 1000n + ((amount + feeB) * 100n) / 1_000_000n
  assert.equal(r.feesMsat, feeA + feeB)
  assert.equal(after[n.S as number], (before[n.S as number] as bigint) - amount - feeA - feeB)
  assert.equal(after[n.A as number], (before[n.A as number] as bigint) + feeA)
  assert.equal(after[n.B as number], (before[n.B as number] as bigint) + feeB)
  assert.equal(after[n.T as number], (before[n.T as number] as bigint) + amount)
  assert.deepEqual(sim.ledger(n.A as number), { sentMsat: 0n, receivedMsat: 0n, feesPaidMsat: 0n, feesEarnedMsat: feeA })
  assert.equal(sim.pendingHtlcs, 0)
  assert.equal(f.pendingCount, 0)
})

test('ATTACKS 14: a hop without balance fails at that hop, the sender learns and retries on another route', async () => {
  const { graph, n, ch } = network()
  // B holds nothing toward T: the cheap route fails at B (hop 2).
  const liquidity = (c: number, cap: bigint) => (c === ch['B-T'] ? 0n : cap)
  const sim = new NetworkSimulator(graph, { seed: 1, gasPerHtlcResolution: GAS, liquidity, hopLatencyMs: L })
  const f = sim.forwarder as BalanceForwarder
  const before = balances(f, graph.nodeCount)
  const amount = 100_000n * SAT
  const [r] = await sim.run([{ id: 1, timeMs: 0, sender: n.S as number, receiver: n.T as number, amountMsat: amount }])
  assert.ok(r?.success)
  assert.equal(r.attempts.length, 2)
  const [first, second] = r.attempts
  assert.equal(first?.outcome, 'failed')
  assert.deepEqual(first?.failure, { hopIndex: 2, reportedBy: n.B, code: 'temporary_channel_failure' })
  assert.equal(first?.route.hops[2]?.channel, ch['B-T'])
  assert.equal(second?.outcome, 'settled')
  assert.deepEqual(
    second?.route.hops.map((h) => h.to),
    [n.C, n.T],
  )
  // The failure travelled back 2 hops after the HTLC travelled 2: the retry starts at 4L and takes 4L.
  assert.equal(first?.endMs, 4 * L)
  assert.equal(r.latencyMs, 4 * L + 4 * L)
  // A and B were made whole: their locks were released; only C earned a fee.
  const after = balances(f, graph.nodeCount)
  assert.equal(after[n.A as number], before[n.A as number])
  assert.equal(after[n.B as number], before[n.B as number])
  assert.equal(after[n.C as number], (before[n.C as number] as bigint) + r.feesMsat)
  assert.equal(after[n.T as number], (before[n.T as number] as bigint) + amount)
  // Next payment from S: mission control already knows B→T is dry and goes straight to C.
  const [r2] = await sim.run([{ id: 2, timeMs: 10_000, sender: n.S as number, receiver: n.T as number, amountMsat: amount }])
  assert.equal(r2?.attempts.length, 1)
  assert.equal(r2?.attempts[0]?.route.hops[0]?.to, n.C)
})

test('mission control scope: per sender, per payment, or shared by everyone', async () => {
  const { graph, n, ch } = named([
    { id: 'S-A', capacitySat: 1_000_000n },
    { id: 'A-T', capacitySat: 1_000_000n, ab: { baseFeeMsat: 0n, feeRatePpm: 10 } },
    { id: 'S-B', capacitySat: 1_000_000n },
    { id: 'B-T', capacitySat: 1_000_000n, ab: { baseFeeMsat: 0n, feeRatePpm: 500 } },
    { id: 'R-S', capacitySat: 1_000_000n },
  ])
  const liquidity = (c: number, cap: bigint) => (c === ch['A-T'] ? 0n : cap)
  const pay = (id: number, sender: number, timeMs: number): Payment => ({ id, timeMs, sender, receiver: n.T as number, amountMsat: 100_000n * SAT })
  const attempts = async (missionControl: 'per-sender' | 'per-payment' | 'shared') => {
    const sim = new NetworkSimulator(graph, { seed: 1, gasPerHtlcResolution: GAS, liquidity, missionControl })
    // S learns that A→T is dry; then S pays again, and R (who routes through S) pays.
    const res = await sim.run([pay(1, n.S as number, 0), pay(2, n.S as number, 10_000), pay(3, n.R as number, 20_000)])
    assert.ok(res.every((r) => r.success))
    return res.map((r) => r.attempts.length)
  }
  assert.deepEqual(await attempts('per-sender'), [2, 1, 2])
  assert.deepEqual(await attempts('per-payment'), [2, 2, 2])
  assert.deepEqual(await attempts('shared'), [2, 1, 1])
})

test('ATTACKS 10: a hop refuses an HTLC whose delta is below its minimum; nothing moves', async () => {
  const { graph, n } = network()
  const sim = new NetworkSimulator(graph, { seed: 1, gasPerHtlcResolution: GAS, liquidity: 'funder', hopLatencyMs: L })
  const f = sim.forwarder as BalanceForwarder
  const before = balances(f, graph.nodeCount)
  const h = sim.heightAt(0)
  const good = buildRoute(graph, { path: [n.S, n.A, n.B, n.T] as number[], amountMsat: 10_000n * SAT, currentHeight: h })
  // Give A only 39 blocks between its incoming and outgoing HTLC (its policy asks 40).
  const bad: Route = { ...good, hops: good.hops.map((x, i) => (i === 0 ? { ...x, expiry: x.expiry - 1 } : x)) }
  const r = await sim.sendToRoute(bad)
  assert.equal(r.success, false)
  assert.equal(r.reason, 'policy')
  assert.deepEqual(r.attempts[0]?.failure, { hopIndex: 1, reportedBy: n.A, code: 'incorrect_cltv_expiry' })
  assert.deepEqual(balances(f, graph.nodeCount), before)
  // Fees short by 1 msat: fee_insufficient at A. Expiry too far: expiry_too_far.
  const cheap: Route = { ...good, hops: good.hops.map((x, i) => (i === 0 ? { ...x, amountMsat: x.amountMsat - 1n } : x)) }
  assert.equal((await sim.sendToRoute(cheap)).attempts[0]?.failure?.code, 'fee_insufficient')
  const far: Route = { ...good, hops: good.hops.map((x, i) => (i === 0 ? { ...x, expiry: h + 3000 } : x)) }
  assert.equal((await sim.sendToRoute(far)).attempts[0]?.failure?.code, 'expiry_too_far')
  // The honest route goes through.
  assert.equal((await sim.sendToRoute(good)).success, true)
})

test('offline nodes: an offline hop is reported by its upstream peer and routed around; an offline receiver fails', async () => {
  const { graph, n } = network()
  const sim = new NetworkSimulator(graph, { seed: 1, gasPerHtlcResolution: GAS, liquidity: 'funder', offlineNodes: [n.B as number] })
  const [r] = await sim.run([{ id: 1, timeMs: 0, sender: n.S as number, receiver: n.T as number, amountMsat: 1000n * SAT }])
  assert.ok(r?.success)
  assert.deepEqual(r.attempts[0]?.failure, { hopIndex: 1, reportedBy: n.A, code: 'unknown_next_peer' })
  assert.equal(r.attempts[1]?.route.hops[0]?.to, n.C)

  const sim2 = new NetworkSimulator(graph, { seed: 1, gasPerHtlcResolution: GAS, liquidity: 'funder', offlineNodes: [n.T as number] })
  const [r2] = await sim2.run([{ id: 1, timeMs: 0, sender: n.S as number, receiver: n.T as number, amountMsat: 1000n * SAT }])
  assert.equal(r2?.success, false)
  assert.equal(r2?.reason, 'offline')
  // The failure blames T itself, so no other route into T is tried.
  assert.equal(r2?.attempts.length, 1)
  assert.equal(r2?.attempts[0]?.failure?.code, 'unknown_next_peer')
})

test('a silent hop: the HTLC is timed out on chain at its expiry, gas counted, the payment fails with timeout', async () => {
  const { graph, n } = named([
    { id: 'S-A', capacitySat: 1_000_000n },
    { id: 'A-T', capacitySat: 1_000_000n },
  ])
  const sim = new NetworkSimulator(graph, {
    seed: 1,
    gasPerHtlcResolution: GAS,
    liquidity: 'funder',
    stuckProbability: 1,
    blockTimeMs: 600_000,
    startHeight: 1000,
  })
  const f = sim.forwarder as BalanceForwarder
  const before = balances(f, graph.nodeCount)
  const [r] = await sim.run([{ id: 1, timeMs: 0, sender: n.S as number, receiver: n.T as number, amountMsat: 1000n * SAT }])
  assert.equal(r?.success, false)
  assert.equal(r?.reason, 'timeout')
  const hop0 = r?.attempts[0]?.route.hops[0] as Route['hops'][number]
  assert.deepEqual(r?.attempts[0]?.failure, { hopIndex: 0, reportedBy: n.S, code: 'htlc_timed_out' })
  // A went silent on S's HTLC: S waited until its expiry height, then went on chain.
  assert.equal(r?.endMs, (hop0.expiry - 1000) * 600_000)
  assert.deepEqual(summarize(sim).onchain, { forceCloses: 1, htlcResolutions: 1, gas: GAS })
  assert.equal((sim.forwarder as BalanceForwarder).isClosed(hop0.channel), true)
  assert.deepEqual(balances(f, graph.nodeCount), before)
  // The closed channel is gone for routing: the next payment finds no route.
  const [r2] = await sim.run([{ id: 2, timeMs: sim.now, sender: n.S as number, receiver: n.T as number, amountMsat: 1000n * SAT }])
  assert.equal(r2?.reason, 'no_route')
  assert.equal(r2?.attempts.length, 0)
})

test('a payee withholding the preimage (ATTACKS 12 in the simulator): the last hop times out on chain, every hop gets its money back', async () => {
  const { graph, n } = named([
    { id: 'S-A', capacitySat: 1_000_000n },
    { id: 'A-T', capacitySat: 1_000_000n },
  ])
  const sim = new NetworkSimulator(graph, { seed: 1, gasPerHtlcResolution: GAS, liquidity: 'funder', blockTimeMs: 600_000, startHeight: 1000 })
  const f = sim.forwarder as BalanceForwarder
  const before = balances(f, graph.nodeCount)
  sim.withholding[n.T as number] = 1
  const [r] = await sim.run([{ id: 1, timeMs: 0, sender: n.S as number, receiver: n.T as number, amountMsat: 1000n * SAT }])
  assert.equal(r?.success, false)
  assert.equal(r?.reason, 'timeout')
  const last = r?.attempts[0]?.route.hops[1] as Route['hops'][number]
  // A waited for the expiry of its HTLC to T, then went on chain; S's HTLC to A was failed back off-chain.
  assert.equal(r?.attempts[0]?.failure?.hopIndex, 1)
  assert.deepEqual(summarize(sim).onchain, { forceCloses: 1, htlcResolutions: 1, gas: GAS })
  assert.equal(f.isClosed(last.channel), true)
  assert.equal(f.pendingCount, 0)
  assert.deepEqual(balances(f, graph.nodeCount), before)
  // Once it reveals again, a payee with a fresh route is paid as usual.
  sim.withholding[n.T as number] = 0
  assert.equal(sim.withholding.length, graph.nodeCount)
})

test('multi-part payments settle all parts or none', async () => {
  const { graph, n } = named([
    { id: 'S-A', capacitySat: 60_000n },
    { id: 'A-T', capacitySat: 60_000n },
    { id: 'S-B', capacitySat: 60_000n },
    { id: 'B-T', capacitySat: 60_000n },
  ])
  const amount = 100_000n * SAT
  const single = new NetworkSimulator(graph, { seed: 1, gasPerHtlcResolution: GAS, liquidity: 'funder' })
  const [r0] = await single.run([{ id: 1, timeMs: 0, sender: n.S as number, receiver: n.T as number, amountMsat: amount }])
  assert.equal(r0?.reason, 'no_route')
  const sim = new NetworkSimulator(graph, { seed: 1, gasPerHtlcResolution: GAS, liquidity: 'funder', mpp: { minPartMsat: 1000n * SAT } })
  const f = sim.forwarder as BalanceForwarder
  const [r] = await sim.run([{ id: 1, timeMs: 0, sender: n.S as number, receiver: n.T as number, amountMsat: amount }])
  assert.ok(r?.success, `failed: ${r?.reason}`)
  assert.ok(r.parts >= 2)
  assert.equal(f.nodeBalanceMsat(n.T as number), amount)
})

test('a multi-part payment that cannot complete: the receiver holds the parts that arrive, then fails them all back', async () => {
  const { graph, n, ch } = named([
    { id: 'S-A', capacitySat: 60_000n },
    { id: 'A-T', capacitySat: 60_000n },
    { id: 'S-B', capacitySat: 60_000n },
    { id: 'B-T', capacitySat: 60_000n },
  ])
  // A can pass only 10k sat on to T, which S cannot know: 70k sat can reach T in all.
  const liquidity = (c: number, cap: bigint) => (c === ch['A-T'] ? 10_000n * SAT : cap)
  const sim = new NetworkSimulator(graph, { seed: 1, gasPerHtlcResolution: GAS, liquidity, mpp: { minPartMsat: 1000n * SAT } })
  const f = sim.forwarder as BalanceForwarder
  const before = balances(f, graph.nodeCount)
  const [r] = await sim.run([{ id: 1, timeMs: 0, sender: n.S as number, receiver: n.T as number, amountMsat: 100_000n * SAT }])
  assert.equal(r?.success, false)
  const codes = new Set(r?.attempts.map((a) => a.failure?.code))
  assert.ok(codes.has('temporary_channel_failure'))
  assert.ok(codes.has('mpp_timeout'), `codes: ${[...codes]}`)
  // Parts were held at T until its 60 s timer ran out.
  assert.ok((r?.endMs as number) >= 60_000)
  assert.deepEqual(balances(f, graph.nodeCount), before)
  assert.equal(sim.pendingHtlcs, 0)
  assert.equal(f.pendingCount, 0)
})

test('simulations are deterministic per seed; workloads too', async () => {
  const g = hubAndSpoke({ seed: 2, hubs: 3, spokes: 40, hubsPerSpoke: 2, spokeCapacity: { kind: 'logNormal', medianSat: 200_000, sigma: 1 } })
  const work = generateWorkload(g, { seed: 5, count: 150, ratePerSecond: 5, amount: { kind: 'logNormal', medianSat: 20_000, sigma: 1.2 } })
  assert.deepEqual(work, generateWorkload(g, { seed: 5, count: 150, ratePerSecond: 5, amount: { kind: 'logNormal', medianSat: 20_000, sigma: 1.2 } }))
  const once = async () => {
    const sim = new NetworkSimulator(g, { seed: 3, gasPerHtlcResolution: GAS, offlineFraction: 0.05, cost: 'probability', mpp: {} })
    const res = await sim.run(work)
    return res.map((r) => [r.success, r.reason, r.endMs, r.feesMsat, r.attempts.length])
  }
  const a = await once()
  assert.deepEqual(a, await once())
  const ok = a.filter((x) => x[0]).length
  assert.ok(ok > 30 && ok < 150, `${ok} of 150 succeeded`)
})

test('bad input to the simulator and the forwarder: typed errors naming the field', async () => {
  const { graph, n } = network()
  assert.throws(() => new NetworkSimulator(graph, { seed: 1, gasPerHtlcResolution: -1 }), (e: unknown) => e instanceof InvalidInputError && e.field === 'gasPerHtlcResolution')
  assert.throws(() => new NetworkSimulator(graph, { seed: 1, gasPerHtlcResolution: 1, stuckProbability: 2 }), (e: unknown) => e instanceof InvalidInputError && e.field === 'stuckProbability')
  const sim = new NetworkSimulator(graph, { seed: 1, gasPerHtlcResolution: 1 })
  const p: Payment = { id: 1, timeMs: 0, sender: n.S as number, receiver: n.T as number, amountMsat: 1000n }
  await assert.rejects(sim.run([{ ...p, amountMsat: 0n }]), (e: unknown) => (e as { field?: string }).field === 'payments[0].amountMsat')
  await assert.rejects(sim.run([{ ...p, receiver: 77 }]), (e: unknown) => (e as { field?: string }).field === 'payments[0].receiver')
  await assert.rejects(sim.run([{ ...p, receiver: p.sender }]), (e: unknown) => (e as { field?: string }).field === 'payments[0].receiver')
  const f = new BalanceForwarder(graph, { liquidity: 'half' })
  const hash = new Uint8Array(32)
  assert.deepEqual(f.addHtlc({ id: 1, edge: 0, amountMsat: 10n ** 15n, expiry: 10, paymentHash: hash }), { ok: false, reason: 'insufficient_balance' })
  assert.deepEqual(f.addHtlc({ id: 1, edge: 0, amountMsat: 1000n, expiry: 10, paymentHash: hash }), { ok: true })
  assert.throws(() => f.fulfillHtlc(1, new Uint8Array(32)), HtlcError) // wrong preimage: still pending
  assert.equal(f.pendingCount, 1)
  f.failHtlc(1)
  assert.throws(() => f.failHtlc(1), HtlcError)
  assert.equal(f.totalMsat(), Array.from(graph.capacity).reduce((s, c) => s + BigInt(c), 0n))
  // The pathfinder is shared, not rebuilt, per simulator.
  assert.ok(sim.pathfinder instanceof Pathfinder)
})
