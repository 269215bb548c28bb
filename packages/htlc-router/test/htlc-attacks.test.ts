/**
 * ATTACKS 10–14 over real channels (HtlcNetwork: MockL1, HtlcAdjudicator,
 * real signatures): timelock deltas enforced, a middle hop that claims
 * upstream on chain with the preimage learnt from L1, a receiver that
 * withholds the preimage, two HTLCs with the same hash and amount, and a
 * route through a channel without balance retried elsewhere. Every scenario
 * ends with no HTLC pending anywhere and money conserved (channel balances +
 * L1 funds + gas burnt).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Amount } from '@l2bench/core'
import { HtlcNetwork, type HtlcRouteHop, type NetworkChannelSpec, type PaymentOutcome, drainEventLoop as settle } from '../src/index.ts'

const M = 1_000_000n

async function network(channels: NetworkChannelSpec[], names: string[]) {
  return HtlcNetwork.create({ nodes: names, channels, disputeWindow: 6 })
}

/** Σ over nodes of channel + L1 + gas: constant whenever no HTLC is pending. */
function total(net: HtlcNetwork): Amount {
  return net.accounts().reduce((s, a) => s + a.total, 0n)
}

function money(net: HtlcNetwork, i: number): Amount {
  return (net.accounts()[i] as { total: Amount }).total
}

function assertQuiet(net: HtlcNetwork): void {
  for (const [i, n] of net.nodes.entries()) assert.deepEqual(n.pendingHtlcs(), [], `${net.names[i]} still has pending HTLCs`)
}

/** Mines until `cond` or `max` blocks. */
async function mineUntil(net: HtlcNetwork, cond: () => boolean, max: number): Promise<number> {
  for (let i = 0; i < max; i++) {
    if (cond()) return i
    await net.mine(1)
  }
  assert.ok(cond(), 'condition not reached while mining')
  return max
}

const line = (names = ['alice', 'bob', 'carol']) =>
  network(
    [
      { a: 0, b: 1, depositA: M, depositB: M, policyAB: { baseFee: 100n, feeRatePpm: 1000n, cltvDelta: 18 } },
      { a: 1, b: 2, depositA: M, depositB: M, policyAB: { baseFee: 100n, feeRatePpm: 1000n, cltvDelta: 18 } },
    ],
    names,
  )

test('ATTACKS 10: a hop refuses an outgoing timelock less than its delta below the incoming one (and other hop checks)', async () => {
  const net = await line()
  try {
    const [alice, bob, carol] = net.nodes as [(typeof net.nodes)[0], (typeof net.nodes)[0], (typeof net.nodes)[0]]
    const [ab, bc] = net.channelIds as [Uint8Array, Uint8Array]
    const before = total(net)
    const h = BigInt(net.l1.head().height)
    const send = async (route: HtlcRouteHop[]): Promise<PaymentOutcome> => {
      const inv = carol.createInvoice(10_000n)
      return alice.sendPayment(inv.hash, route)
    }
    const fee = 100n + 10n // base + 10,000 · 1000 ppm
    // Delta 17 < bob's 18.
    let out = await send([
      { channelId: ab, amount: 10_000n + fee, expiry: h + 40n + 17n },
      { channelId: bc, amount: 10_000n, expiry: h + 40n },
    ])
    assert.equal(out.status, 'failed')
    assert.equal(out.status === 'failed' && out.failure.code, 'incorrect_cltv_expiry')
    assert.equal(out.status === 'failed' && out.failure.reporter, bob.address)
    // Fee one short.
    out = await send([
      { channelId: ab, amount: 10_000n + fee - 1n, expiry: h + 40n + 18n },
      { channelId: bc, amount: 10_000n, expiry: h + 40n },
    ])
    assert.equal(out.status === 'failed' && out.failure.code, 'fee_insufficient')
    // Outgoing expiry too soon for bob to offer (carol could not claim it on chain in time).
    out = await send([
      { channelId: ab, amount: 10_000n + fee, expiry: h + 10n + 18n + 18n },
      { channelId: bc, amount: 10_000n, expiry: h + 10n },
    ])
    assert.equal(out.status === 'failed' && out.failure.code, 'expiry_too_soon')
    assert.equal(out.status === 'failed' && out.failure.reporter, bob.address)
    // Receiver: less than its invoice asks for.
    out = await alice.sendPayment(carol.createInvoice(10_000n).hash, [
      { channelId: ab, amount: 9_999n + fee, expiry: h + 40n + 18n },
      { channelId: bc, amount: 9_999n, expiry: h + 40n },
    ])
    assert.equal(out.status === 'failed' && out.failure.code, 'final_incorrect_htlc_amount')
    assert.equal(out.status === 'failed' && out.failure.reporter, carol.address)
    // Bob forwards with exactly his delta and fee.
    out = await send([
      { channelId: ab, amount: 10_000n + fee, expiry: h + 40n + 18n },
      { channelId: bc, amount: 10_000n, expiry: h + 40n },
    ])
    assert.equal(out.status, 'settled')
    await settle()
    assertQuiet(net)
    assert.equal(total(net), before)
    assert.deepEqual(net.nodes.map((n) => n.channel.status(n.channelIds()[0] as `0x${string}`).version > 0n), [true, true, true])
    assert.equal(bob.balance(ab), M + 10_000n + fee)
    assert.equal(bob.balance(bc), M - 10_000n)
  } finally {
    net.stop()
  }
})

test('ATTACKS 11: downstream settles on chain while upstream times out — the middle hop claims upstream on chain in time and never loses', async () => {
  const net = await line()
  try {
    const [alice, bob, carol] = net.nodes as [(typeof net.nodes)[0], (typeof net.nodes)[0], (typeof net.nodes)[0]]
    carol.withholding = true
    const before = net.accounts()
    const sum = total(net)
    const paid = net.pay(0, 2, 50_000n)
    await settle()
    const route = net.findRoute(0, 2, 50_000n)
    assert.equal(carol.pendingHtlcs().length, 1)
    const eBC = (carol.pendingHtlcs()[0] as { expiry: bigint }).expiry
    const eAB = (alice.pendingHtlcs()[0] as { expiry: bigint }).expiry
    assert.equal(eAB - eBC, 18n)
    // Bob is cut off from both peers; carol reveals (she can only settle on chain now).
    net.setLinked(0, 1, false)
    net.setLinked(1, 2, false)
    carol.releasePreimages()
    await mineUntil(net, () => carol.pendingHtlcs().length === 0, 60)
    const revealed = await bob.revealedOnChain(sha(carol))
    assert.ok(revealed !== undefined, 'the preimage is on L1')
    assert.ok(BigInt(revealed.height) < eBC)
    await mineUntil(net, () => bob.pendingHtlcs().length === 0 && alice.pendingHtlcs().length === 0, 60)
    const result = await paid
    assert.equal(result.success, true)
    const claims = bob.receipts.filter((r) => r.events.some((e) => e.name === 'LockedResolved' && e.data.to === bob.address))
    assert.equal(claims.length, 1)
    assert.ok(BigInt((claims[0] as { height: number }).height) < eAB, 'bob claimed before the upstream expiry')
    assert.deepEqual(
      [alice, bob, carol].map((n) => n.channel.status(n.channelIds()[0] as `0x${string}`).phase),
      ['closed', 'closed', 'closed'],
    )
    const after = net.accounts()
    const fee = route.totalFeesMsat
    const gas = (i: number) => (after[i] as { gas: Amount }).gas - (before[i] as { gas: Amount }).gas
    // Everyone's money (gas included as spent) moved by exactly the payment; bob keeps his fee.
    assert.equal(money(net, 1) - (before[1] as { total: Amount }).total, fee)
    assert.equal(money(net, 0) - (before[0] as { total: Amount }).total, -(50_000n + fee))
    assert.equal(money(net, 2) - (before[2] as { total: Amount }).total, 50_000n)
    assert.ok(gas(1) > 0n && gas(2) > 0n)
    assert.equal(total(net), sum)
    assert.equal(net.l1.balanceOf(net.adjudicator.address), 0n)
  } finally {
    net.stop()
  }
})

/** The hash of carol's only invoice, read back from her pending or settled HTLCs. */
function sha(node: HtlcNetwork['nodes'][number]): Uint8Array {
  const h = node.allHtlcs()[0]?.hash as string
  return Uint8Array.from(Buffer.from(h.slice(2), 'hex'))
}

test('ATTACKS 12: the receiver withholds the preimage — every hop gets its money back after expiry, on chain where the peer is silent', async () => {
  const net = await line()
  try {
    const [alice, bob, carol] = net.nodes as [(typeof net.nodes)[0], (typeof net.nodes)[0], (typeof net.nodes)[0]]
    carol.withholding = true
    const before = net.accounts()
    const sum = total(net)
    const paid = net.pay(0, 2, 50_000n, { maxAttempts: 1 })
    await settle()
    assert.equal(carol.pendingHtlcs().length, 1)
    const eBC = (bob.pendingHtlcs().find((h) => !h.incoming) as { expiry: bigint }).expiry
    // Carol goes silent too: bob must refund on chain; alice ↔ bob stays off chain.
    net.setLinked(1, 2, false)
    await mineUntil(net, () => alice.pendingHtlcs().length === 0, 80)
    const result = await paid
    assert.equal(result.success, false)
    assert.equal(result.reason, 'htlc_timed_out')
    // Alice was refunded off chain, at bob's outgoing expiry (well before her own).
    assert.equal(alice.channel.status(net.channelIds[0] as Uint8Array).phase, 'open')
    assert.ok(BigInt(net.l1.head().height) < eBC + 18n)
    await mineUntil(net, () => bob.pendingHtlcs().length === 0 && carol.pendingHtlcs().length === 0, 40)
    const refunds = bob.receipts.filter((r) => r.events.some((e) => e.name === 'LockedResolved' && e.data.to === bob.address))
    assert.equal(refunds.length, 1, 'bob refunded on chain')
    assert.ok((refunds[0] as { height: number }).height >= Number(eBC))
    const after = net.accounts()
    for (const i of [0, 1, 2]) {
      const spent = (after[i] as { gas: Amount }).gas - (before[i] as { gas: Amount }).gas
      assert.equal(money(net, i), (before[i] as { total: Amount }).total, `${net.names[i]} lost nothing but gas (${spent})`)
    }
    assert.equal(total(net), sum)
    void carol
  } finally {
    net.stop()
  }
})

test('ATTACKS 13: two HTLCs with the same hash and amount resolve independently (one claimed on chain, the twin refunded)', async () => {
  const net = await network([{ a: 0, b: 1, depositA: M, depositB: 0n }], ['alice', 'bob'])
  try {
    const [alice, bob] = net.nodes as [(typeof net.nodes)[0], (typeof net.nodes)[0]]
    const id = net.channelIds[0] as Uint8Array
    bob.withholding = true
    const inv = bob.createInvoice(7_000n)
    const h = BigInt(net.l1.head().height)
    const sum = total(net)
    const before = net.accounts()
    const first = alice.sendPayment(inv.hash, [{ channelId: id, amount: 7_000n, expiry: h + 60n }])
    await settle()
    const second = alice.sendPayment(inv.hash, [{ channelId: id, amount: 7_000n, expiry: h + 40n }])
    await settle()
    const locks = bob.channel.status(id).locked
    assert.equal(locks.length, 2)
    assert.deepEqual(locks[0]?.hash, locks[1]?.hash)
    assert.equal(locks[0]?.amount, locks[1]?.amount)
    // Off to the chain: bob registers (his node finalizes after the window), then claims only the first one (he goes
    // offline afterwards, so his node does not claim the twin too).
    net.setLinked(0, 1, false)
    await bob.channel.forceClose({ channelId: id })
    await mineUntil(net, () => bob.channel.status(id).phase === 'closed', 10)
    bob.stop()
    const claim = await bob.channel.client.resolveLocked(id, locks[0]?.id as Uint8Array, inv.preimage)
    assert.equal(claim.status, 'success')
    await settle()
    assert.ok((await net.l1.read(net.adjudicator.address, 'locked', [id, locks[1]?.id])) !== undefined, 'the twin is untouched')
    assert.ok(alice.allHtlcs().every((x) => x.status !== 'failed'), 'alice knows the preimage now, and refunds nothing before expiry')
    // Alice now knows the preimage from L1 — and still refunds the twin once it expires.
    await mineUntil(net, () => alice.pendingHtlcs().length === 0, 60)
    assert.ok(BigInt(net.l1.head().height) >= h + 40n)
    const [o1, o2] = await Promise.all([first, second])
    assert.deepEqual([o1.status, o2.status], ['settled', 'failed'])
    assert.equal(o1.onChain, true)
    assert.equal(o2.onChain, true)
    assert.equal(net.l1.balanceOf(net.adjudicator.address), 0n)
    const after = net.accounts()
    const claimFee = claim.fee
    // Bob: +7,000 from the claim (his gas, the manual claim's included, is counted as spent money).
    assert.equal(money(net, 1) - (before[1] as { total: Amount }).total, 7_000n)
    assert.equal(money(net, 0) - (before[0] as { total: Amount }).total, -7_000n)
    assert.ok(claimFee > 0n && (after[0] as { gas: Amount }).gas > (before[0] as { gas: Amount }).gas)
    assert.equal(total(net), sum)
  } finally {
    net.stop()
  }
})

test('ATTACKS 14: a route through a channel without balance fails at that hop and is retried on another route', async () => {
  // alice → bob → dave is cheaper, but bob has nothing on his side of bob–dave.
  const net = await network(
    [
      { a: 0, b: 1, depositA: M, depositB: M, policyAB: { baseFee: 10n, feeRatePpm: 0n, cltvDelta: 18 } },
      { a: 1, b: 3, depositA: 0n, depositB: M, policyAB: { baseFee: 10n, feeRatePpm: 0n, cltvDelta: 18 } },
      { a: 0, b: 2, depositA: M, depositB: M, policyAB: { baseFee: 500n, feeRatePpm: 0n, cltvDelta: 18 } },
      { a: 2, b: 3, depositA: M, depositB: M, policyAB: { baseFee: 500n, feeRatePpm: 0n, cltvDelta: 18 } },
    ],
    ['alice', 'bob', 'carol', 'dave'],
  )
  try {
    const [, bob, carol] = net.nodes as [(typeof net.nodes)[0], (typeof net.nodes)[0], (typeof net.nodes)[0]]
    const sum = total(net)
    const result = await net.pay(0, 3, 20_000n)
    assert.equal(result.success, true)
    assert.equal(result.attempts.length, 2)
    const [a1, a2] = result.attempts as [(typeof result.attempts)[0], (typeof result.attempts)[0]]
    assert.deepEqual(
      a1.route.hops.map((h) => h.to),
      [1, 3],
    )
    assert.equal(a1.outcome.status, 'failed')
    assert.equal(a1.outcome.status === 'failed' && a1.outcome.failure.code, 'temporary_channel_failure')
    assert.equal(a1.outcome.status === 'failed' && a1.outcome.failure.reporter, bob.address)
    assert.equal(a1.failedHop, 1)
    assert.deepEqual(
      a2.route.hops.map((h) => h.to),
      [2, 3],
    )
    assert.equal(a2.outcome.status, 'settled')
    await settle()
    assertQuiet(net)
    assert.equal(bob.balance(net.channelIds[1] as Uint8Array), 0n)
    assert.equal(carol.balance(net.channelIds[3] as Uint8Array), M - 20_000n)
    assert.equal(total(net), sum)
  } finally {
    net.stop()
  }
})
