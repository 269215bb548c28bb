/**
 * The HTLC design: real HtlcNodes (signed HTLCs inside channel states) for
 * hub-and-spoke and small scale-free graphs, the simulator only for graphs
 * past `maxRealChannels` (labelled). Conservation over every node — users
 * and hub — and L1 after settle; faults happening to the nodes with their
 * on-chain steps as real, metered transactions; bad input failing one
 * payment with a reason while every node keeps serving.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import type { HtlcNetwork, NetworkL1 } from '@l2bench/htlc-router'
import type { Receipt } from '@l2bench/l1-mock'
import type { CapacityInputs, PaymentResult } from '../src/design.ts'
import { HTLC_COMMITS_PER_PAYMENT, type RealHtlc } from '../src/designs/htlc-real.ts'
import { HarnessWorld, HtlcDesign, KeyRing, generateWorkload, parseScenario, runDesign } from '../src/index.ts'
import { toProgress } from '../src/progress.ts'
import type { Payment } from '../src/workload.ts'

const keys = new KeyRing()

function real(d: HtlcDesign): RealHtlc {
  assert.equal(d.forwarding, 'real')
  return d.inner as RealHtlc
}

/** What each node's L1 balance must be after settle: genesis + received − sent − fees paid + fees earned − its own gas. */
function checkEveryNode(net: HtlcNetwork<NetworkL1>, genesis: (i: number) => bigint): void {
  net.nodes.forEach((n, i) => {
    let gas = 0n
    for (const r of (net.receipts[i] as Map<string, Receipt>).values()) gas += r.fee
    const l = n.ledger
    const want = genesis(i) + l.received - l.sent - l.feesPaid + l.feesEarned - gas
    assert.equal(net.l1.balanceOf(n.address), want, `node ${i}: L1 after settle`)
    assert.deepEqual(n.pendingHtlcs(), [], `node ${i}: nothing pending`)
    for (const id of n.channelIds()) assert.equal(n.channel.status(id).phase, 'closed', `node ${i}: every channel closed`)
  })
  assert.equal(net.l1.balanceOf(net.adjudicator.address), 0n, 'the adjudicator holds nothing')
}

test('real HTLC hub network: every payment a signed HTLC; funds conserved over every node (users and hub) and L1 after settle', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 2, max: 6 }), fc.integer({ min: 1, max: 30 }), async (seed, users, payments) => {
      const s = parseScenario({ name: 'h', seed, users, payments, designOptions: { htlc: { store: 'memory' } } })
      const design = new HtlcDesign()
      const r = await runDesign(design, generateWorkload(s), { keys })
      assert.equal(r.conservation.ok, true, JSON.stringify(r.conservation))
      assert.equal(r.l1.byPhase.payments.txs, 0, 'routing touches no L1')
      assert.equal(r.succeeded, payments, JSON.stringify(r.failureReasons))
      const net = real(design).network
      const hub = net.nodes.length - 1
      checkEveryNode(net, (i) => (i === hub ? s.capital.userBalance * 1000n : s.capital.userBalance))
      // The hub earned exactly what the users paid in fees; every HTLC the users sent was settled by a real preimage.
      const paid = net.nodes.reduce((t, n) => t + n.ledger.feesPaid, 0n)
      assert.equal(net.nodes[hub]!.ledger.feesEarned, paid)
      assert.ok(paid > 0n)
      for (const ms of r.samples?.finalMs ?? []) assert.ok(ms >= 4 * 50, 'two hops, four messages of 50 ms at least')
    }),
    { numRuns: 5 },
  )
})

test('the default store is SQLite, one group-committing database per node, and the report says which store ran', async () => {
  const s = parseScenario({ name: 'sq', seed: 3, users: 4, payments: 12 })
  const r = await runDesign(new HtlcDesign(), generateWorkload(s), { keys })
  assert.equal(r.conservation.ok, true)
  assert.equal(r.succeeded, 12)
  assert.ok(r.notes.some((n) => /^Store: SQLite \(WAL, synchronous=(FULL|NORMAL)\), one database per node/.test(n)), r.notes.join('\n'))
  assert.ok(r.notes.some((n) => /^Funding: perfect foresight/.test(n)))
  assert.ok(r.notes.some((n) => /compute of every node on the path \(p50 [\d.]+ ms.*simulated network delay/.test(n)))
  const fixed = parseScenario({ name: 'fx', seed: 3, users: 4, payments: 12, capital: { channelDeposit: '1 eth' }, designOptions: { htlc: { store: 'memory' } } })
  const rf = await runDesign(new HtlcDesign(), generateWorkload(fixed), { keys })
  assert.ok(rf.notes.some((n) => /^Funding: a fixed 1000000000000000000 wei per side/.test(n)))
  assert.ok(rf.notes.some((n) => /^Store: in memory/.test(n)))
})

test('real HTLCs over a scale-free graph: multi-hop routes, every hop paid its fee, funds conserved over every node', async () => {
  const s = parseScenario({
    name: 'sf',
    seed: 4,
    users: 40,
    payments: 60,
    pairs: { count: 60 },
    topology: { kind: 'scale-free', m: 2, capacity: '1 eth' },
    designOptions: { htlc: { store: 'memory' } },
  })
  const design = new HtlcDesign()
  const r = await runDesign(design, generateWorkload(s), { keys })
  assert.equal(r.conservation.ok, true, JSON.stringify(r.conservation))
  assert.ok(r.successRate > 0.8, JSON.stringify(r.failureReasons))
  assert.equal(r.l1.byOperation['HtlcAdjudicator.open']?.txs, 3 + 37 * 2, 'm(m+1)/2 + (n − m − 1)·m channels')
  assert.equal(r.extrapolated, false)
  const net = real(design).network
  checkEveryNode(net, () => s.capital.userBalance)
  const earned = net.nodes.reduce((t, n) => t + n.ledger.feesEarned, 0n)
  assert.ok(earned > 0n, 'some payments were forwarded')
  assert.equal(
    earned,
    net.nodes.reduce((t, n) => t + n.ledger.feesPaid, 0n),
  )
})

test('past maxRealChannels the graph is simulated, labelled "simulated forwarding", and big graphs extrapolate their L1 cost from a sample', async () => {
  const s = parseScenario({
    name: 'big',
    seed: 2,
    users: 30,
    payments: 30,
    pairs: { count: 30 },
    topology: { kind: 'scale-free', m: 2, capacity: '1 eth' },
    designOptions: { htlc: { maxRealChannels: 20, maxOnchainChannels: 10, sampleChannels: 8 } },
  })
  const design = new HtlcDesign()
  const r = await runDesign(design, generateWorkload(s), { keys })
  assert.equal(design.forwarding, 'simulated')
  assert.ok(r.notes.some((n) => n.startsWith('Simulated forwarding')))
  assert.equal(r.extrapolated, true)
  const channels = 3 + 27 * 2
  const opens = (r.l1.byOperation['HtlcAdjudicator.open']?.txs ?? 0) + (r.l1.byOperation['HtlcAdjudicator.open †']?.txs ?? 0)
  assert.equal(opens, channels)
  assert.equal(r.conservation.ok, true, JSON.stringify(r.conservation))
})

test('simulated forwarding: a withheld preimage times out on chain, charged at the gas real HtlcNodes measured (no constant)', async () => {
  const s = parseScenario({ name: 'sw', seed: 5, users: 6, payments: 30, faults: { withheldPreimage: 1 }, designOptions: { htlc: { forwarding: 'simulated' } } })
  const r = await runDesign(new HtlcDesign(), generateWorkload(s), { keys })
  assert.equal(r.conservation.ok, true, JSON.stringify(r.conservation))
  const e = r.extrapolations.find((x) => /on-chain HTLC refunds of simulated forwarding/.test(x.what))
  assert.ok(e, JSON.stringify(r.extrapolations))
  // The per-refund figure is what a real refund cost on the metered L1 (a resolveLocked after expiry: 30k–45k gas), and every simulated refund is charged exactly that.
  const perRefund = Number(/refund (\d+) gas/.exec(e.fit)?.[1])
  assert.ok(perRefund > 30_000 && perRefund < 45_000, e.fit)
  const charged = r.l1.byOperation['HtlcAdjudicator.resolveLocked (simulated refund) †']?.gas ?? 0
  assert.ok(charged >= perRefund && charged % perRefund === 0, `${charged} is a whole number of ${perRefund}`)
})

test('offline hop in a hub network: the hub is unreachable, the sender offers nothing and the payment fails with a reason; the hub serves again after', async () => {
  // Fixed deposits: with perfect-foresight ones, the payment that failed leaves later payments short (they counted on it).
  const s = parseScenario({
    name: 'off',
    seed: 3,
    users: 4,
    payments: 20,
    faults: { offlineHop: 1 },
    capital: { channelDeposit: '1 eth' },
    designOptions: { htlc: { store: 'memory' } },
  })
  const w = generateWorkload(s)
  const design = new HtlcDesign()
  const r = await runDesign(design, w, { keys })
  assert.equal(r.faults.length, 1)
  const f = r.faults[0]!
  assert.equal(f.kind, 'offline-hop')
  assert.match(f.outcome, /the hub \(first hop after the sender\) offline/)
  assert.equal(f.safe, true)
  assert.equal(r.failureReasons.NO_ROUTE, 1, JSON.stringify(r.failureReasons))
  assert.equal(r.succeeded, 19, 'every other payment, before and after, settled')
  assert.equal(r.conservation.ok, true)
})

test('a payee withholding the preimage: the payment fails (htlc_timed_out), the hub refunds on chain with real metered transactions, funds conserved', async () => {
  const s = parseScenario({ name: 'withhold', seed: 5, users: 6, payments: 40, faults: { withheldPreimage: 2 }, designOptions: { htlc: { store: 'memory' } } })
  const design = new HtlcDesign()
  const r = await runDesign(design, generateWorkload(s), { keys })
  assert.equal(r.conservation.ok, true, JSON.stringify(r.conservation))
  const faults = r.faults.filter((f) => f.kind === 'withheld-preimage')
  assert.equal(faults.length, 2)
  for (const f of faults) {
    assert.match(f.outcome, /went silent.*failed \(htlc_timed_out\).*register [\d,]+ gas, finalize [\d,]+ gas, resolveLocked [\d,]+ gas \(mined receipts\); 1 channel reopened; every other node's channel \+ L1 \+ gas unchanged/)
    assert.equal(f.safe, true)
  }
  assert.equal(r.failureReasons.HTLC_TIMED_OUT, 2, JSON.stringify(r.failureReasons))
  // Real transactions in the payment phase, no modelled constant.
  for (const op of ['register', 'finalize', 'resolveLocked']) assert.equal(r.l1.byOperation[`HtlcAdjudicator.${op}`]?.txs, 2, op)
  assert.equal(r.extrapolated, false)
  assert.ok(r.l1.byPhase.payments.gas > 2 * 40_000)
  checkEveryNode(real(design).network, (i) => (i === 6 ? s.capital.userBalance * 1000n : s.capital.userBalance))
})

test("a stale state registered by a payer: the hub's node challenges with the newest, finalizes, and the pair reopens", async () => {
  const s = parseScenario({ name: 'stale', seed: 7, users: 5, payments: 30, faults: { staleState: 2 }, designOptions: { htlc: { store: 'memory' } } })
  const design = new HtlcDesign()
  const r = await runDesign(design, generateWorkload(s), { keys })
  assert.equal(r.conservation.ok, true, JSON.stringify(r.conservation))
  const faults = r.faults.filter((f) => f.kind === 'stale-state')
  assert.equal(faults.length, 2)
  for (const f of faults) {
    assert.equal(f.safe, true, f.outcome)
    assert.match(f.outcome, /registered v\d+ .* challenged with v\d+/)
  }
  assert.equal(r.l1.byOperation['HtlcAdjudicator.challenge']?.txs, 2)
  assert.equal(r.succeeded, 30)
})

/** Runs the harness with a design that, at its first payment, also sends bad input through the real nodes. */
class Probing extends HtlcDesign {
  readonly seen: { what: string; status: string; code?: string; failedHop?: number }[] = []
  private probed = false
  override async pay(p: Payment): Promise<PaymentResult> {
    if (!this.probed) {
      this.probed = true
      const net = (this.inner as RealHtlc).network
      const hub = net.nodes.length - 1
      // A route sender → hub → payee as the pathfinder builds it, then spoiled.
      const good = net.findRoute(0, 1, 10n ** 12n, { finalCltvDelta: (this.inner as RealHtlc).finalDelta })
      const hops = net.toHtlcRoute(good, 10n ** 12n)
      const send = async (what: string, hash: Uint8Array, route: typeof hops) => {
        const o = await net.nodes[0]!.sendPayment(hash, route)
        const at = o.status === 'failed' ? net.failedHop(good, o.failure.reporter) : undefined
        this.seen.push({ what, status: o.status, ...(o.status === 'failed' ? { code: String(o.failure.code) } : {}), ...(at === undefined ? {} : { failedHop: at }) })
      }
      const inv = () => net.nodes[1]!.createInvoice(10n ** 12n).hash
      await send('fee too small', inv(), [{ ...hops[0]!, amount: hops[1]!.amount }, hops[1]!])
      await send('timelock delta too small', inv(), [{ ...hops[0]!, expiry: hops[1]!.expiry + 10n }, hops[1]!])
      await send('unknown payment hash', new Uint8Array(randomBytes(32)), hops)
      // One wei above the hub's balance towards the payee: the hub cannot forward it.
      const huge = net.nodes[hub]!.balance(net.channelIds[1]!) + 1n
      await send('above the balance', net.nodes[1]!.createInvoice(huge).hash, net.toHtlcRoute(good, huge))
      // Above the sender's own balance: no route is even tried.
      const r = await net.pay(0, 1, net.nodes[0]!.balance(net.channelIds[0]!) + 1n, { maxAttempts: 2 })
      this.seen.push({ what: "above the sender's balance", status: r.success ? 'settled' : 'failed', ...(r.reason === undefined ? {} : { code: r.reason }) })
      assert.equal(await (this.inner as RealHtlc).quiesce(), true, 'every failure travelled back')
      for (const n of net.nodes) assert.deepEqual(n.pendingHtlcs(), [], 'nothing left pending after the bad input')
    }
    return super.pay(p)
  }
}

test('bad input on the harness path — a fee or timelock delta too small, an unknown payment hash, an amount above the balance — fails that payment with a reason and the failing hop; every node keeps serving', async () => {
  const s = parseScenario({
    name: 'bad',
    seed: 11,
    users: 2,
    payments: 10,
    pairs: { count: 1, direction: 'forward' },
    designOptions: { htlc: { store: 'memory', feeRatePpm: 1000, baseFeeMsat: 10 } },
  })
  const design = new Probing()
  const r = await runDesign(design, generateWorkload(s), { keys })
  const by = Object.fromEntries(design.seen.map((x) => [x.what, x]))
  assert.deepEqual(by['fee too small'], { what: 'fee too small', status: 'failed', code: 'fee_insufficient', failedHop: 1 })
  assert.deepEqual(by['timelock delta too small'], { what: 'timelock delta too small', status: 'failed', code: 'incorrect_cltv_expiry', failedHop: 1 })
  assert.deepEqual(by['unknown payment hash'], { what: 'unknown payment hash', status: 'failed', code: 'incorrect_or_unknown_payment_details', failedHop: 2 })
  assert.deepEqual(by['above the balance'], { what: 'above the balance', status: 'failed', code: 'temporary_channel_failure', failedHop: 1 })
  assert.deepEqual(by["above the sender's balance"], { what: "above the sender's balance", status: 'failed', code: 'no_route' })
  // ... and every payment of the workload still went through, funds conserved.
  assert.equal(r.succeeded, 10, JSON.stringify(r.failureReasons))
  assert.equal(r.conservation.ok, true)
  checkEveryNode(real(design).network, (i) => (i === 2 ? s.capital.userBalance * 1000n : s.capital.userBalance))
})

test('capacity inputs from the real nodes: one hub (H = 1), its forwarding rate measured inside its own signer, verifier and store', async () => {
  const s = parseScenario({ name: 'hcap', seed: 2, users: 5, payments: 20 })
  let inputs: CapacityInputs | undefined
  const r = await runDesign(new HtlcDesign(), generateWorkload(s), { keys, capacityInputs: (i) => (inputs = i) })
  assert.ok(inputs !== undefined && inputs.model === 'hub')
  assert.equal(inputs.hubs.value, 1)
  assert.match(inputs.hubs.how, /20 payments that succeeded ÷ 20 forwarded by the busiest node \(the hub\)/)
  assert.equal(inputs.forwardRate.source, 'measured')
  assert.match(inputs.forwardRate.how, /^20 payments forwarded by the hub ÷ [\d.]+ s .*signing \(80 × median [\d.]+ ms, noble\), verifying \(\d+ × [\d.]+ ms, node:crypto\) and commits \(\d+ × [\d.]+ ms, SQLite FULL\)/)
  assert.ok(inputs.forwardRate.value > 0 && Number.isFinite(inputs.forwardRate.value))
  assert.equal(r.store.kind, 'sqlite')
  assert.equal(r.store.synchronous, 'FULL', 'the channel design’s default')
})

/** Counts every node's commits around each payment. */
class Counting extends HtlcDesign {
  readonly perPayment: number[] = []
  override async pay(p: Payment): Promise<PaymentResult> {
    const inner = this.inner as RealHtlc
    const before = inner.commits
    const r = await super.pay(p)
    await inner.quiesce() // the hops' last settles land a few turns after the sender has the preimage
    this.perPayment.push(inner.commits - before)
    return r
  }
}

test(`the bound's ${HTLC_COMMITS_PER_PAYMENT} commits per payment are a floor: every two-hop payment through the hub commits at least that many (group commit)`, async () => {
  const s = parseScenario({ name: 'commits', seed: 4, users: 2, payments: 40, pairs: { count: 1, direction: 'both' } })
  const design = new Counting()
  const r = await runDesign(design, generateWorkload(s), { keys })
  assert.equal(r.succeeded, 40)
  assert.equal(design.perPayment.length, 40)
  for (const n of design.perPayment) assert.ok(n >= HTLC_COMMITS_PER_PAYMENT && n <= HTLC_COMMITS_PER_PAYMENT + 2, `${n} commits`)
})

test('HTLC updates queued on a channel ride in merged states (payments driven concurrently), each payment with its own result; the report counts them', async () => {
  // A fixed deposit above the total volume: in any order no side runs short.
  const s = parseScenario({ name: 'hmerge', seed: 5, users: 2, payments: 24, pairs: { count: 1, direction: 'both' }, capital: { channelDeposit: '5 eth' }, designOptions: { htlc: { store: 'memory' } } })
  const w = generateWorkload(s)
  const world = new HarnessWorld(s, w, 'htlc', keys, toProgress(undefined))
  const design = new HtlcDesign()
  await design.setup(world)
  // The runner pays one at a time; here all are in flight at once.
  const results = await Promise.all(w.payments.map((p) => design.pay(p)))
  assert.ok(
    results.every((r) => r.ok),
    JSON.stringify(results.filter((r) => !r.ok)),
  )
  await design.settle()
  const note = world.notes.find((n) => n.startsWith('Merged updates (payment-channel'))
  const m = /in this run (\d+) updates shared (\d+) of (\d+) states/.exec(note ?? '')
  assert.ok(m !== null, note)
  assert.ok(Number(m[2]) > 0 && Number(m[1]) > Number(m[2]), note)
  const net = real(design).network
  const hub = net.nodes.length - 1
  const paid = net.nodes.reduce((t, n) => t + n.ledger.feesPaid, 0n)
  assert.equal(net.nodes[hub]!.ledger.feesEarned, paid, 'the hub earned exactly the fees paid')
  for (const n of net.nodes) assert.deepEqual(n.pendingHtlcs(), [], 'nothing pending')
})
