/**
 * ATTACKS 32, 33, 35 and 36 (found by trying, issue 11) over real channels:
 * a final state signed while an HTLC is pending, a CLTV delta shorter than
 * the upstream dispute window + on-chain margin, a stranger's hello on an
 * HTLC link, and floods of HTLC adds, instructions and fail reasons. Each
 * attack is refused or survived, and every scenario ends with each party's
 * money (channel balances + L1 funds + gas burnt) exactly where the honest
 * outcome puts it.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { type Amount, L2Error, NodeSigner, bytesEqual, codec, encode, secretKeyFromSeed, sha256 } from '@l2bench/core'
import { MockL1, Wallet } from '@l2bench/l1-mock'
import { type Machine, digestOf, memoryLinkPair } from '@l2bench/payment-channel'
import {
  DEFAULT_HTLC_LIMITS,
  HtlcAdjudicator,
  HtlcNetwork,
  HtlcNode,
  type HtlcNodeOptions,
  type NetworkChannelSpec,
  buildAdd,
  encodeHtlcMessage,
  lockIdFor,
  drainEventLoop as settle,
} from '../src/index.ts'

const M = 1_000_000n

/** Σ over nodes of channel + L1 + gas. */
function total(net: HtlcNetwork): Amount {
  return net.accounts().reduce((s, a) => s + a.total, 0n)
}

function totals(net: HtlcNetwork): Amount[] {
  return net.accounts().map((a) => a.total)
}

/** Mines until `cond` or `max` blocks. */
async function mineUntil(net: HtlcNetwork, cond: () => boolean, max: number): Promise<void> {
  for (let i = 0; i < max && !cond(); i++) await net.mine(1)
  assert.ok(cond(), 'condition not reached while mining')
}

function line(window: number, policy: { baseFee: bigint; feeRatePpm: bigint; cltvDelta: number }): Promise<HtlcNetwork> {
  const channels: NetworkChannelSpec[] = [
    { a: 0, b: 1, depositA: M, depositB: M, policyAB: policy },
    { a: 1, b: 2, depositA: M, depositB: M, policyAB: policy },
  ]
  return HtlcNetwork.create({ nodes: ['alice', 'bob', 'carol'], channels, disputeWindow: window })
}

const feeOf = (p: { baseFee: bigint; feeRatePpm: bigint }, amount: bigint) => p.baseFee + (amount * p.feeRatePpm) / 1_000_000n

// ---------------------------------------------------------------------------------------------- ATTACKS 33

test('ATTACKS 33: a hop refuses to forward when incoming − outgoing expiry < upstream dispute window + on-chain margin, with the reason', async () => {
  // Upstream window 40, bob's cltv delta 40 (the default): the delta the issue found accepted.
  const policy = { baseFee: 100n, feeRatePpm: 1000n, cltvDelta: 40 }
  const net = await line(40, policy)
  try {
    const [alice, bob, carol] = net.nodes as [HtlcNode, HtlcNode, HtlcNode]
    const [ab, bc] = net.channelIds as [Uint8Array, Uint8Array]
    const before = totals(net)
    const h = BigInt(net.l1.head().height)
    const amount = 10_000n
    const fee = feeOf(policy, amount)
    const inv = carol.createInvoice(amount)
    const out = await alice.sendPayment(inv.hash, [
      { channelId: ab, amount: amount + fee, expiry: h + 60n + 40n },
      { channelId: bc, amount, expiry: h + 60n },
    ])
    assert.equal(out.status, 'failed')
    assert.equal(out.status === 'failed' && out.failure.code, 'incorrect_cltv_expiry')
    assert.equal(out.status === 'failed' && out.failure.reporter, bob.address)
    const why = bob.errors.find((e) => e.code === 'HTLC_EXPIRY' && e.field === 'onward[0].expiry')
    assert.ok(why !== undefined, 'bob records why')
    assert.match(why.message, /40 < upstream dispute window 40 \+ on-chain margin 6/)
    await settle()
    // Nothing was offered to carol; nothing moved.
    assert.equal(carol.allHtlcs().length, 0)
    for (const n of net.nodes) assert.deepEqual(n.pendingHtlcs(), [])
    assert.deepEqual(totals(net), before)
    // With delta ≥ 46 the same payment goes through.
    bob.setForwardingPolicy(bc, { cltvDelta: 46 })
    const ok = await alice.sendPayment(carol.createInvoice(amount).hash, [
      { channelId: ab, amount: amount + fee, expiry: h + 60n + 46n },
      { channelId: bc, amount, expiry: h + 60n },
    ])
    assert.equal(ok.status, 'settled')
    await settle()
    assert.deepEqual(
      totals(net).map((x, i) => x - (before[i] as Amount)),
      [-(amount + fee), fee, amount],
    )
  } finally {
    net.stop()
  }
})

test('ATTACKS 33: at exactly window + margin, carol claiming on chain at her expiry − 1 while alice stays silent still leaves bob time to claim upstream', async () => {
  const window = 40
  const policy = { baseFee: 100n, feeRatePpm: 1000n, cltvDelta: window + 6 }
  const net = await line(window, policy)
  try {
    const [alice, bob, carol] = net.nodes as [HtlcNode, HtlcNode, HtlcNode]
    const [ab, bc] = net.channelIds as [Uint8Array, Uint8Array]
    carol.withholding = true
    const before = totals(net)
    const sum = total(net)
    const h = BigInt(net.l1.head().height)
    const amount = 20_000n
    const fee = feeOf(policy, amount)
    const inv = carol.createInvoice(amount)
    const eOut = h + 60n
    const eIn = eOut + BigInt(policy.cltvDelta)
    const paid = alice.sendPayment(inv.hash, [
      { channelId: ab, amount: amount + fee, expiry: eIn },
      { channelId: bc, amount, expiry: eOut },
    ])
    await settle()
    assert.equal(carol.pendingHtlcs().length, 1)
    // Alice goes silent off chain (her node still refunds on chain the moment it may).
    net.setLinked(0, 1, false)
    // Carol registers at once, waits out the window, and claims with the preimage at the last block.
    await carol.channel.forceClose({ channelId: bc })
    await mineUntil(net, () => carol.channel.status(bc).phase === 'closed', window + 5)
    await mineUntil(net, () => BigInt(net.l1.head().height) >= eOut - 2n, 200)
    const lock = carol.pendingHtlcs()[0] as { lockId: `0x${string}` }
    const claim = await carol.channel.client.resolveLocked(bc, Uint8Array.from(Buffer.from(lock.lockId.slice(2), 'hex')), inv.preimage)
    assert.equal(claim.status, 'success')
    assert.ok(BigInt(claim.height) < eOut)
    await mineUntil(net, () => bob.pendingHtlcs().length === 0 && alice.pendingHtlcs().length === 0 && carol.pendingHtlcs().length === 0, 120)
    const out = await paid
    assert.equal(out.status, 'settled')
    const bobClaim = bob.receipts.find((r) => r.events.some((e) => e.name === 'LockedResolved' && e.data.to === bob.address))
    assert.ok(bobClaim !== undefined && BigInt(bobClaim.height) < eIn, 'bob claimed upstream before the incoming expiry')
    assert.deepEqual(
      totals(net).map((x, i) => x - (before[i] as Amount)),
      [-(amount + fee), fee, amount],
    )
    assert.equal(total(net), sum)
    assert.equal(net.l1.balanceOf(net.adjudicator.address), 0n)
  } finally {
    net.stop()
  }
})

// ---------------------------------------------------------------------------------------------- ATTACKS 32

/** alice → bob → carol for 30,000 with carol withholding: bob holds the incoming HTLC and has forwarded it. */
async function forwardedAndHeld() {
  const net = await line(6, { baseFee: 100n, feeRatePpm: 1000n, cltvDelta: 18 })
  const [alice, bob, carol] = net.nodes as [HtlcNode, HtlcNode, HtlcNode]
  carol.withholding = true
  const before = totals(net)
  const route = net.findRoute(0, 2, 30_000n)
  const paid = net.payAlong(route)
  await settle()
  assert.equal(bob.pendingHtlcs().length, 2, 'bob holds the incoming HTLC and forwarded it')
  return { net, alice, bob, carol, ab: net.channelIds[0] as Uint8Array, before, route, paid }
}

/** Carol reveals: the held payment settles off chain, nothing stays pending, each party moved by exactly it (bob: his fee). */
async function releaseAndCheck(held: Awaited<ReturnType<typeof forwardedAndHeld>>): Promise<void> {
  const { net, carol, before, route, paid } = held
  carol.releasePreimages()
  const out = await paid
  assert.equal(out.status, 'settled')
  await settle()
  for (const n of net.nodes) assert.deepEqual(n.pendingHtlcs(), [])
  const fee = route.totalFeesMsat
  assert.deepEqual(
    totals(net).map((x, i) => x - (before[i] as Amount)),
    [-(30_000n + fee), fee, 30_000n],
  )
}

test('ATTACKS 32: a final state proposed after an HTLC add is refused; the hop forwards, settles and keeps its fee', async () => {
  const held = await forwardedAndHeld()
  const { net, alice, bob, ab } = held
  try {
    const version = bob.channel.status(ab).version
    // Mallory-alice proposes {…state, version + 1, isFinal: true} with the HTLC still in it.
    let builds = 0
    await assert.rejects(
      alice.channel.update(ab, (latest) => {
        if (++builds > 1) throw new L2Error('POLICY', 'refused, giving up', { field: 'state' })
        return { ...latest, version: latest.version + 1n, isFinal: true }
      }),
    )
    assert.ok(bob.channel.errors.some((e) => e.code === 'HTLC_POLICY' && e.field === 'state.isFinal'))
    assert.equal(bob.channel.status(ab).phase, 'open')
    assert.equal(bob.channel.status(ab).version, version)
    await releaseAndCheck(held)
  } finally {
    net.stop()
  }
})

test('ATTACKS 32: a hop whose channel holds a final state with a pending HTLC (signed before the rule, restored from its store) claims it on chain before the offerer can refund', async () => {
  const { net, alice, bob, carol, ab, before, route, paid } = await forwardedAndHeld()
  try {
    const sum = before.reduce((s, x) => s + x, 0n)
    // The final state {…latest, version + 1, isFinal} signed by both, as an older node accepted it:
    // written to both stores, both nodes restarted from them.
    const m = bob.channel.machine(ab)
    const state = { ...m.latest.state, version: m.latest.state.version + 1n, isFinal: true }
    const digest = digestOf(m.params, state)
    const latest = { state, digest, sigs: [alice.channel.signer.sign(digest), bob.channel.signer.sign(digest)] as [Uint8Array, Uint8Array] }
    for (const n of [alice, bob]) {
      const mine = n.channel.machine(ab)
      n.channel.store.save({ ...mine, phase: 'closing', latest, pending: undefined, unconfirmed: undefined } satisfies Machine)
    }
    const bob2 = await net.restart(1)
    const alice2 = await net.restart(0)
    assert.equal(bob2.channel.status(ab).phase, 'closing')
    assert.equal(alice2.channel.status(ab).phase, 'closing')
    assert.equal(bob2.pendingHtlcs().length, 2)
    // Carol reveals: bob learns the preimage, cannot settle off chain, closes with the final state and claims.
    carol.releasePreimages()
    await settle()
    await mineUntil(net, () => net.nodes.every((n) => n.pendingHtlcs().length === 0), 80)
    assert.equal((await bob2.channel.onChain(ab))?.phase, 'closed')
    const claim = bob2.receipts.find((r) => r.events.some((e) => e.name === 'LockedResolved' && e.data.to === bob2.address))
    assert.ok(claim !== undefined, 'bob claimed the incoming HTLC on chain')
    assert.ok(claim.height < (route.hops[0] as { expiry: number }).expiry, 'before the incoming expiry')
    // The restarted sender lost its promise; its HTLC resolved settled all the same.
    void paid.catch(() => undefined)
    assert.ok(alice2.allHtlcs().some((x) => !x.incoming && x.status === 'settled'))
    const fee = route.totalFeesMsat
    assert.deepEqual(
      totals(net).map((x, i) => x - (before[i] as Amount)),
      [-(30_000n + fee), fee, 30_000n],
    )
    assert.equal(total(net), sum)
    // Only the open bob–carol channel's deposits are left in the adjudicator: no HTLC stranded there.
    assert.equal(net.l1.balanceOf(net.adjudicator.address), 2n * M)
  } finally {
    net.stop()
  }
})

test('ATTACKS 32: the offerer registers the state holding the HTLC on L1 (channel closing) after the hop forwarded it: the hop learns the preimage downstream, finalizes and claims', async () => {
  const { net, alice, bob, carol, ab, before, route, paid } = await forwardedAndHeld()
  try {
    const sum = before.reduce((s, x) => s + x, 0n)
    await alice.channel.forceClose({ channelId: ab })
    await settle()
    assert.equal(bob.channel.status(ab).phase, 'closing')
    carol.releasePreimages()
    await settle()
    assert.equal(carol.pendingHtlcs().length, 0, 'carol settled with bob off chain')
    await mineUntil(net, () => net.nodes.every((n) => n.pendingHtlcs().length === 0), 40)
    assert.equal((await paid).status, 'settled')
    const claim = bob.receipts.find((r) => r.events.some((e) => e.name === 'LockedResolved' && e.data.to === bob.address))
    assert.ok(claim !== undefined && claim.height < (route.hops[0] as { expiry: number }).expiry, 'bob claimed on chain before the expiry')
    const fee = route.totalFeesMsat
    assert.deepEqual(
      totals(net).map((x, i) => x - (before[i] as Amount)),
      [-(30_000n + fee), fee, 30_000n],
    )
    assert.equal(total(net), sum)
  } finally {
    net.stop()
  }
})

// ---------------------------------------------------------------------------------------------- ATTACKS 35

/** `needle` appears somewhere in `hay`. */
function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  for (let i = 0; i + needle.length <= hay.length; i++) if (bytesEqual(hay.subarray(i, i + needle.length), needle)) return true
  return false
}

test("ATTACKS 35: a stranger's hello{address: alice} on an HTLC link neither takes over bob's route to alice nor receives her frames (the fulfil preimage included)", async () => {
  const { net, alice, bob, carol, before, route, paid } = await forwardedAndHeld()
  try {
    const aliceRoute = bob.linkTo(alice.address)
    assert.ok(aliceRoute !== undefined)
    // Mallory dials bob (both links) and speaks the old unsigned hello as alice, then HTLC messages as her.
    const chan = memoryLinkPair()
    const htlc = memoryLinkPair()
    bob.attach(chan[1], htlc[1])
    const heard: Uint8Array[] = []
    htlc[0].onFrame((f) => heard.push(f))
    chan[0].onFrame((f) => heard.push(f))
    const legacy = codec.messages({ hello: [1, codec.struct({ address: codec.address })] })
    htlc[0].send(encode(legacy, { type: 'hello', address: alice.address }))
    const ab = net.channelIds[0] as Uint8Array
    htlc[0].send(encodeHtlcMessage({ type: 'add', channelId: ab, lockId: new Uint8Array(32).fill(1), onward: [], finalAmount: 1n }))
    await settle()
    assert.ok(
      bob.errors.some((e) => e.name === 'LinkError' || e.name === 'DecodeError'),
      'bob refused the unauthenticated hello',
    )
    assert.equal(htlc[0].isOpen, false, 'and dropped the connection')
    assert.equal(bob.linkTo(alice.address), aliceRoute, "bob's route to alice is unchanged")
    assert.equal(bob.htlcStore.all('instructions').length, 0)
    // Carol reveals: bob's fulfil goes to alice, not to mallory.
    carol.releasePreimages()
    const out = await paid
    assert.equal(out.status, 'settled')
    const preimage = out.status === 'settled' ? out.preimage : new Uint8Array()
    assert.ok(!heard.some((f) => contains(f, preimage)), 'mallory never saw the preimage')
    // Mallory hangs up: bob still reaches alice.
    htlc[0].close()
    chan[0].close()
    await settle()
    assert.equal(bob.linkTo(alice.address), aliceRoute)
    const again = await net.payAlong(route)
    assert.equal(again.status, 'settled')
    await settle()
    for (const n of net.nodes) assert.deepEqual(n.pendingHtlcs(), [])
    const fee = route.totalFeesMsat
    assert.deepEqual(
      totals(net).map((x, i) => x - (before[i] as Amount)),
      [-2n * (30_000n + fee), 2n * fee, 2n * 30_000n],
    )
  } finally {
    net.stop()
  }
})

test("ATTACKS 35: a stranger authenticated as itself cannot act on alice's channel; a second link of alice waits as a standby and never replaces the live one", async () => {
  const held = await forwardedAndHeld()
  const { net, alice, bob, carol, ab } = held
  const signer = new NodeSigner(secretKeyFromSeed('found:mallory'))
  net.l1.mint(signer.address, 10n ** 21n)
  const mallory = new HtlcNode({ signer, wallet: new Wallet(signer, net.l1), adjudicator: net.adjudicator })
  try {
    const bc = net.channelIds[1] as Uint8Array
    const outgoing = bob.pendingHtlcs().find((x) => !x.incoming) as { lockId: `0x${string}` }
    const lockId = Uint8Array.from(Buffer.from(outgoing.lockId.slice(2), 'hex'))
    const mc = memoryLinkPair()
    const mh = memoryLinkPair()
    const { htlc: malLink } = mallory.attach(mc[0], mh[0])
    bob.attach(mc[1], mh[1])
    await settle()
    assert.ok(bob.linkTo(mallory.address) !== undefined, 'mallory authenticated, as herself')
    const version = bob.channel.status(ab).version
    // Messages about channels that are not mallory's: a fail reason and a fake fulfil for bob's outgoing HTLC, instructions on alice's channel.
    malLink.send(encodeHtlcMessage({ type: 'fail', channelId: bc, lockId, code: 'unknown_next_peer', reporter: carol.address }))
    malLink.send(encodeHtlcMessage({ type: 'fulfill', channelId: bc, lockId, preimage: new Uint8Array(32).fill(9) }))
    malLink.send(encodeHtlcMessage({ type: 'add', channelId: ab, lockId: new Uint8Array(32).fill(2), onward: [], finalAmount: 1n }))
    await settle()
    assert.equal(bob.errors.filter((e) => e.code === 'HTLC_UNKNOWN' && e.field === 'channelId').length, 3)
    assert.equal(bob.htlcStore.all('failure').length, 0)
    assert.equal(bob.htlcStore.all('instructions').length, 0)
    assert.equal(bob.channel.status(ab).version, version)
    // A second authenticated link of alice: a standby, the live route stays.
    const aliceRoute = bob.linkTo(alice.address)
    const c2 = memoryLinkPair()
    const h2 = memoryLinkPair()
    alice.attach(c2[0], h2[0])
    bob.attach(c2[1], h2[1])
    await settle()
    assert.equal(bob.linkTo(alice.address), aliceRoute, 'a live authenticated route is never replaced')
    // The route dies (alice's first connection drops): the standby takes over and the fulfil goes through it.
    net.setLinked(0, 1, false)
    await settle()
    const standby = bob.linkTo(alice.address)
    assert.ok(standby !== undefined && standby !== aliceRoute)
    await releaseAndCheck(held)
  } finally {
    mallory.stop()
    net.stop()
  }
})

// ---------------------------------------------------------------------------------------------- ATTACKS 36

/** Two HtlcNodes with one channel, built by hand so that the test holds alice's end of the HTLC link. */
async function pair(options: Partial<HtlcNodeOptions> = {}) {
  const l1 = new MockL1()
  const adjudicator = l1.deploy(new HtlcAdjudicator())
  const nodes = ['alice', 'bob'].map((name) => {
    const signer = new NodeSigner(secretKeyFromSeed(`found:${name}`))
    l1.mint(signer.address, 10n ** 21n)
    // Bob agrees to deposit what Alice's open asks of him (payment-channel's default deposits nothing for a peer).
    return new HtlcNode({ signer, wallet: new Wallet(signer, l1), adjudicator, acceptLimits: { maxDeposit: M }, ...options })
  }) as [HtlcNode, HtlcNode]
  const [alice, bob] = nodes
  const channel = memoryLinkPair()
  const htlc = memoryLinkPair()
  const aliceLinks = alice.attach(channel[0], htlc[0])
  bob.attach(channel[1], htlc[1])
  await settle()
  const id = await alice.openChannel({ peer: bob.address, peerPublicKey: bob.channel.signer.publicKey, deposit: M, peerDeposit: M, disputeWindow: 6, nonce: 1n })
  const cid = Uint8Array.from(Buffer.from(id.slice(2), 'hex'))
  const gas = (n: HtlcNode) => n.receipts.reduce((s, r) => s + r.fee, 0n)
  const money = () => nodes.map((n) => n.channel.status(id).balances[n.channel.status(id).me] + lockedBy(n) + l1.balanceOf(n.address) + gas(n))
  const lockedBy = (n: HtlcNode) => n.channel.status(id).locked.filter((e) => e.direction === n.channel.status(id).me).reduce((s, e) => s + e.amount, 0n)
  return { l1, nodes, id, cid, aliceLinks, money, stop: () => {
      for (const n of nodes) n.stop()
    },
  }
}

test('ATTACKS 36: a peer flooding route instructions and fail reasons is bounded (oldest instructions dropped, unknown fails refused); honest payments still go through', async () => {
  const p = await pair()
  try {
    const [alice, bob] = p.nodes
    const before = p.money()
    // Alice's authenticated HTLC link: what her own process would send on.
    const aliceEnd = p.aliceLinks.htlc
    for (let i = 0; i < 5_000; i++) {
      aliceEnd.send(
        encodeHtlcMessage({ type: 'add', channelId: p.cid, lockId: new Uint8Array(randomBytes(32)), onward: [], finalAmount: 1n }),
      )
      aliceEnd.send(encodeHtlcMessage({ type: 'fail', channelId: p.cid, lockId: new Uint8Array(randomBytes(32)), code: 'x'.repeat(64), reporter: alice.address }))
    }
    await settle(50)
    const limit = DEFAULT_HTLC_LIMITS.maxAcceptedHtlcs
    assert.equal(bob.htlcStore.all('instructions').length, limit, 'at most maxAcceptedHtlcs instructions wait per channel')
    assert.equal(bob.htlcStore.all('failure').length, 0, 'no fail reason kept for an HTLC that is not ours')
    assert.ok(bob.errors.some((e) => e.code === 'HTLC_LIMIT' && e.field === 'lockId'))
    assert.ok(bob.errors.some((e) => e.code === 'HTLC_UNKNOWN' && e.field === 'lockId'))
    // An honest payment after the flood.
    const inv = bob.createInvoice(5_000n)
    const h = BigInt(p.l1.head().height)
    const out = await alice.sendPayment(inv.hash, [{ channelId: p.cid, amount: 5_000n, expiry: h + 40n }])
    assert.equal(out.status, 'settled')
    await settle()
    assert.deepEqual(
      p.money().map((x, i) => x - (before[i] as Amount)),
      [-5_000n, 5_000n],
    )
  } finally {
    p.stop()
  }
})

test('ATTACKS 36: HTLC adds beyond maxAcceptedHtlcs pending from one side are refused (HTLC_LIMIT); the pending ones are refunded at expiry, nothing lost', async () => {
  const p = await pair()
  try {
    const [alice, bob] = p.nodes
    const before = p.money()
    const limit = DEFAULT_HTLC_LIMITS.maxAcceptedHtlcs
    const h = p.l1.head().height
    const hash = sha256(new Uint8Array(32).fill(7))
    // Mallory-alice's builder ignores the limit; bob's policy does not.
    const add = (i: number) =>
      alice.channel.update(p.cid, (latest) =>
        buildAdd(latest, 0, { id: lockIdFor(`mallory-${i}`, i), amount: 10n, hash, expiry: BigInt(h + 30) }, h, { ...DEFAULT_HTLC_LIMITS, maxAcceptedHtlcs: 1000 }),
      )
    for (let i = 0; i < limit; i++) await add(i)
    assert.equal(bob.pendingHtlcs().length, limit)
    let builds = 0
    await assert.rejects(
      alice.channel.update(p.cid, (latest) => {
        if (++builds > 1) throw new L2Error('POLICY', 'refused, giving up', { field: 'state' })
        return buildAdd(latest, 0, { id: lockIdFor('mallory-x', 0), amount: 10n, hash, expiry: BigInt(h + 30) }, h, { ...DEFAULT_HTLC_LIMITS, maxAcceptedHtlcs: 1000 })
      }),
    )
    assert.ok(bob.channel.errors.some((e) => e.code === 'HTLC_LIMIT' && e.field === 'state.locked'))
    assert.equal(bob.channel.status(p.id).locked.length, limit)
    // Bob's own offers still fit: the bound is per side.
    const inv = alice.createInvoice(1_000n)
    const out = await bob.sendPayment(inv.hash, [{ channelId: p.cid, amount: 1_000n, expiry: BigInt(h + 40) }])
    assert.equal(out.status, 'settled')
    // Alice's adds carry no instructions: bob holds them, she refunds them off chain at their expiry.
    for (let i = 0; i < 40 && bob.pendingHtlcs().length > 0; i++) {
      p.l1.mine(1)
      await settle()
      await Promise.all(p.nodes.map((n) => n.poll()))
      await settle()
    }
    assert.deepEqual(bob.pendingHtlcs(), [])
    assert.deepEqual(alice.pendingHtlcs(), [])
    assert.equal(bob.channel.status(p.id).phase, 'open')
    assert.deepEqual(
      p.money().map((x, i) => x - (before[i] as Amount)),
      [1_000n, -1_000n],
    )
  } finally {
    p.stop()
  }
})
