/**
 * HTLCs inside channel states: the pure add/settle/fail updates and the
 * receiving side's policy (typed errors naming the field, conservation), the
 * HtlcAdjudicator's on-chain claim/refund and preimage registry, and bad
 * input to a node's sendPayment.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { L2Error, NodeSigner, secretKeyFromSeed, sha256 } from '@l2bench/core'
import { MockL1, Wallet } from '@l2bench/l1-mock'
import { AdjudicatorClient, type ChannelState, type LockedEntry, type SignedState, stateDigest, stateTotal } from '@l2bench/payment-channel'
import {
  HtlcAdjudicator,
  HtlcNetwork,
  HtlcRejectedError,
  buildAdd,
  buildFail,
  buildSettle,
  checkHtlcUpdate,
  RouteLoopError,
  lockIdFor,
  routeFromEdges,
} from '../src/index.ts'

const preimage = new Uint8Array(32).fill(7)
const hash = sha256(preimage)
const base: ChannelState = { channelId: new Uint8Array(32).fill(1), version: 5n, balances: [1000n, 500n], locked: [], isFinal: false }
const H = 100

function rejects(fn: () => unknown, code: string, field?: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof L2Error, `expected an L2Error, got ${String(err)}`)
    assert.equal(err.code, code, err.message)
    if (field !== undefined) assert.equal(err.field, field, err.message)
    return true
  })
}

const known = (h: Uint8Array) => (Buffer.compare(h, hash) === 0 ? preimage : undefined)
const ctx = (height = H, preimageFor: (h: Uint8Array) => Uint8Array | undefined = () => undefined) => ({ height: () => height, preimageFor })

test('add, settle and fail move the amount between a balance and the locked set, conserving the total', () => {
  const id = lockIdFor('a', 0)
  const s1 = buildAdd(base, 0, { id, amount: 300n, hash, expiry: BigInt(H + 40) }, H)
  assert.deepEqual(s1.balances, [700n, 500n])
  assert.equal(s1.locked.length, 1)
  assert.equal(s1.version, 6n)
  assert.equal(stateTotal(s1), stateTotal(base))
  const settled = buildSettle(s1, 1, id, preimage, H + 1)
  assert.deepEqual(settled.balances, [700n, 800n])
  assert.equal(settled.locked.length, 0)
  const failed = buildFail(s1, 1, id, H + 1)
  assert.deepEqual(failed.balances, [1000n, 500n])
  // The offerer takes it back only from the expiry on.
  rejects(() => buildFail(s1, 0, id, H + 39), 'HTLC_EXPIRY', 'lockId')
  assert.deepEqual(buildFail(s1, 0, id, H + 40).balances, [1000n, 500n])
  // Both peers' policies accept each honest step.
  assert.equal(checkHtlcUpdate(ctx(), base, s1, 1, 0n).type, 'add')
  assert.equal(checkHtlcUpdate(ctx(H, known), s1, settled, 0, 0n).type, 'settle')
  assert.equal(checkHtlcUpdate(ctx(), s1, failed, 0, 0n).type, 'fail')
  assert.equal(checkHtlcUpdate(ctx(H + 40), s1, buildFail(s1, 0, id, H + 40), 1, 0n).type, 'fail')
})

test('bad HTLC input is refused with a typed error naming the field', () => {
  const id = lockIdFor('a', 1)
  const add = (over: Partial<{ amount: bigint; hash: Uint8Array; expiry: bigint }>) => () =>
    buildAdd(base, 0, { id, amount: 10n, hash, expiry: BigInt(H + 40), ...over }, H)
  rejects(add({ amount: 0n }), 'HTLC_AMOUNT', 'amount')
  rejects(add({ amount: -5n }), 'HTLC_AMOUNT', 'amount')
  rejects(add({ amount: 1001n }), 'HTLC_AMOUNT', 'amount') // above the offerer's balance
  rejects(add({ amount: 2000n }), 'HTLC_AMOUNT', 'amount') // above the capacity
  rejects(add({ hash: new Uint8Array(31) }), 'HTLC_UNKNOWN', 'hash')
  rejects(add({ expiry: BigInt(H - 1) }), 'HTLC_EXPIRY', 'expiry') // in the past
  rejects(add({ expiry: BigInt(H + 10) }), 'HTLC_EXPIRY', 'expiry') // too soon to claim on chain
  rejects(add({ expiry: BigInt(H + 5000) }), 'HTLC_EXPIRY', 'expiry') // beyond the maximum
  const s1 = buildAdd(base, 0, { id, amount: 10n, hash, expiry: BigInt(H + 40) }, H)
  rejects(() => buildSettle(s1, 1, id, new Uint8Array(32), H), 'HTLC_BAD_PREIMAGE', 'preimage')
  rejects(() => buildSettle(s1, 1, id, new Uint8Array(31), H), 'HTLC_BAD_PREIMAGE', 'preimage')
  rejects(() => buildSettle(s1, 1, lockIdFor('a', 99), preimage, H), 'HTLC_UNKNOWN', 'lockId')
  rejects(() => buildSettle(s1, 1, new Uint8Array(5), preimage, H), 'HTLC_UNKNOWN', 'lockId')
  rejects(() => buildSettle(s1, 1, id, preimage, H + 40), 'HTLC_EXPIRY', 'lockId')
  rejects(() => buildSettle(s1, 0, id, preimage, H), 'HTLC_POLICY', 'lockId') // the offerer cannot settle
  // A rejected call leaves its input untouched.
  assert.equal(s1.locked.length, 1)
  assert.deepEqual(s1.balances, [990n, 500n])
})

test("the receiving side's policy refuses every proposal an honest peer would not make", () => {
  const id = lockIdFor('a', 2)
  const s1 = buildAdd(base, 0, { id, amount: 300n, hash, expiry: BigInt(H + 40) }, H)
  const e = s1.locked[0] as LockedEntry
  // B (index 1) checks A's add: A may not lock B's funds.
  const lockMine = { ...s1, balances: [1000n, 200n] as const, locked: [{ ...e, direction: 1 as const }] }
  rejects(() => checkHtlcUpdate(ctx(), base, lockMine, 1, 0n), 'HTLC_POLICY', 'state.locked')
  // An add that debits the wrong amount.
  rejects(() => checkHtlcUpdate(ctx(), base, { ...s1, balances: [750n, 450n] }, 1, 0n), 'HTLC_AMOUNT', 'state.balances')
  // Expiry too soon / too far for the receiver.
  rejects(() => checkHtlcUpdate(ctx(H + 30), base, s1, 1, 0n), 'HTLC_EXPIRY')
  rejects(() => checkHtlcUpdate(ctx(H - 3000), base, s1, 1, 0n), 'HTLC_EXPIRY')
  // A (offerer) checks B's settle: only with the preimage revealed to it, and before the expiry.
  const settled = buildSettle(s1, 1, id, preimage, H)
  rejects(() => checkHtlcUpdate(ctx(), s1, settled, 0, 0n), 'HTLC_BAD_PREIMAGE', 'state.locked')
  rejects(() => checkHtlcUpdate(ctx(H, () => new Uint8Array(32)), s1, settled, 0, 0n), 'HTLC_BAD_PREIMAGE')
  rejects(() => checkHtlcUpdate(ctx(H + 40, known), s1, settled, 0, 0n), 'HTLC_EXPIRY')
  // B checks A's refund: only from the expiry on.
  const refund = { ...s1, version: 7n, balances: [1000n, 500n] as const, locked: [] }
  rejects(() => checkHtlcUpdate(ctx(H + 39), s1, refund, 1, 0n), 'HTLC_EXPIRY')
  // The offerer cannot "settle" its own HTLC to the receiver without a preimage check either way.
  rejects(() => checkHtlcUpdate(ctx(), s1, { ...refund, balances: [700n, 800n] }, 1, 0n), 'HTLC_POLICY')
  // Two changes at once, a modified entry, a change with a top-up or in a closing state.
  const two = buildAdd(s1, 0, { id: lockIdFor('a', 3), amount: 1n, hash, expiry: BigInt(H + 40) }, H)
  rejects(() => checkHtlcUpdate(ctx(), base, two, 1, 0n), 'HTLC_POLICY', 'state.locked')
  rejects(() => checkHtlcUpdate(ctx(), s1, { ...s1, locked: [{ ...e, expiry: e.expiry + 1n }] }, 1, 0n), 'HTLC_POLICY', 'state.locked')
  rejects(() => checkHtlcUpdate(ctx(), base, s1, 1, 5n), 'HTLC_POLICY', 'topUp')
  rejects(() => checkHtlcUpdate(ctx(), base, { ...s1, isFinal: true }, 1, 0n), 'HTLC_POLICY', 'state.isFinal')
  // Plain updates fall back to payment-channel's default policy.
  rejects(() => checkHtlcUpdate(ctx(), base, { ...base, version: 6n, balances: [1100n, 400n] }, 1, 0n), 'POLICY', 'state.balances')
  assert.equal(checkHtlcUpdate(ctx(), base, { ...base, version: 6n, balances: [900n, 600n] }, 1, 0n).type, 'none')
})

test('adjudicator: claim with the preimage before expiry registers it on L1; refund only from expiry; gas metered', async () => {
  const l1 = new MockL1()
  const adj = l1.deploy(new HtlcAdjudicator())
  const party = (name: string) => {
    const signer = new NodeSigner(secretKeyFromSeed(name))
    l1.mint(signer.address, 10n ** 21n)
    const wallet = new Wallet(signer, l1)
    return { signer, wallet, client: new AdjudicatorClient(wallet, adj) }
  }
  const a = party('adj-a')
  const b = party('adj-b')
  const opened = await a.client.open({
    b: b.signer.address,
    pkA: a.signer.publicKey,
    pkB: b.signer.publicKey,
    nonce: 1n,
    depositA: 1000n,
    depositB: 500n,
    disputeWindow: 3,
    fundingTimeout: 5,
    penalty: 'none',
  })
  const channelId = Uint8Array.from(Buffer.from((opened.result as string).slice(2), 'hex'))
  await b.client.confirm(channelId, 500n)
  const h = l1.head().height
  const expiry = BigInt(h + 20)
  const l1Total = l1.totalBalances() + l1.totalBurnt()
  // Two HTLCs A → B with the same hash and amount (ATTACKS 13 on chain) and one B → A.
  const lock = (i: number, direction: 0 | 1): LockedEntry => ({ id: lockIdFor(`x${direction}`, i), amount: 100n, direction, hash, expiry })
  const state: ChannelState = { channelId, version: 3n, balances: [800n, 400n], locked: [lock(0, 0), lock(1, 0), lock(2, 1)], isFinal: false }
  const digest = stateDigest({ chainId: l1.chainId, adjudicator: adj.address }, state)
  const signed: SignedState = { state, digest, sigs: [a.signer.sign(digest), b.signer.sign(digest)] }
  await a.client.register(signed)
  l1.mine(4)
  await b.client.finalize(channelId)
  const [l0, l1x, l2] = state.locked as [LockedEntry, LockedEntry, LockedEntry]
  // Refund before the expiry and a wrong preimage are refused; nothing moves.
  await assert.rejects(a.client.resolveLocked(channelId, l0.id), /locked until height/)
  await assert.rejects(b.client.resolveLocked(channelId, l0.id, new Uint8Array(32)), /witness does not release/)
  await assert.rejects(b.client.resolveLocked(channelId, l0.id, new Uint8Array(31)), /witness does not release/)
  await assert.rejects(b.client.resolveLocked(channelId, lockIdFor('nope', 0), preimage), /no such locked entry/)
  const bBefore = l1.balanceOf(b.signer.address)
  const claim = await b.client.resolveLocked(channelId, l0.id, preimage)
  assert.equal(l1.balanceOf(b.signer.address), bBefore - claim.fee + 100n)
  assert.ok(claim.breakdown.some((c) => c.label === 'htlc.sha256'))
  assert.ok(claim.breakdown.some((c) => c.label === 'preimage.register'))
  const revealed = claim.events.find((e) => e.name === 'PreimageRevealed')
  assert.deepEqual(revealed?.data.preimage, preimage)
  const reg = await l1.read<{ preimage: Uint8Array; height: number }>(adj.address, 'preimage', [hash])
  assert.deepEqual(reg.preimage, preimage)
  // The twin HTLC (same hash, same amount) is still there, on its own.
  assert.ok((await l1.read(adj.address, 'locked', [channelId, l1x.id])) !== undefined)
  // A claim of the twin finds the preimage already registered: no second registry write.
  const claim2 = await b.client.resolveLocked(channelId, l2.id, preimage).catch((e: Error) => e)
  // l2 is B's own offer to A: sha256 matches, so A is paid (the receiver of that HTLC).
  assert.ok(!(claim2 instanceof Error))
  assert.ok(!claim2.breakdown.some((c) => c.label === 'preimage.register'))
  // From the expiry on, the preimage no longer pays; the refund does.
  l1.advanceTo(Number(expiry))
  await assert.rejects(b.client.resolveLocked(channelId, l1x.id, preimage), /witness does not release/)
  const refund = await a.client.resolveLocked(channelId, l1x.id)
  assert.equal(refund.status, 'success')
  assert.equal(l1.balanceOf(adj.address), 0n)
  assert.equal(l1.totalBalances() + l1.totalBurnt(), l1Total)
})

test('sendPayment refuses malformed hashes, amounts, expiries and looping routes before sending anything', async () => {
  const net = await HtlcNetwork.create({
    nodes: ['a', 'b', 'c'],
    channels: [
      { a: 0, b: 1, depositA: 100_000n, depositB: 100_000n },
      { a: 1, b: 2, depositA: 100_000n, depositB: 100_000n },
    ],
  })
  try {
    const [ab, bc] = net.channelIds as [Uint8Array, Uint8Array]
    const h = BigInt(net.l1.head().height)
    const a = net.nodes[0] as (typeof net.nodes)[number]
    const ok = [
      { channelId: ab, amount: 2000n, expiry: h + 80n },
      { channelId: bc, amount: 1000n, expiry: h + 40n },
    ]
    const bad = async (p: Promise<unknown>, code: string, field: string) => {
      await assert.rejects(p, (err: unknown) => err instanceof L2Error && err.code === code && err.field === field)
    }
    await bad(a.sendPayment(new Uint8Array(31), ok), 'HTLC_UNKNOWN', 'hash')
    await bad(a.sendPayment(hash, [{ ...ok[0]!, amount: 0n }, ok[1]!]), 'HTLC_AMOUNT', 'route[0].amount')
    await bad(a.sendPayment(hash, [{ ...ok[0]!, amount: 300_000n }]), 'HTLC_AMOUNT', 'route[0].amount')
    await bad(a.sendPayment(hash, [{ ...ok[0]!, expiry: h - 1n }, ok[1]!]), 'HTLC_EXPIRY', 'route[0].expiry')
    await bad(a.sendPayment(hash, [{ ...ok[0]!, expiry: h + 5000n }, ok[1]!]), 'HTLC_EXPIRY', 'route[0].expiry')
    await bad(a.sendPayment(hash, [ok[0]!, { ...ok[1]!, channelId: ab }]), 'INVALID_INPUT', 'route[1].channelId')
    await bad(a.sendPayment(hash, [ok[0]!, { ...ok[1]!, expiry: h + 90n }]), 'HTLC_EXPIRY', 'route[1].expiry')
    await bad(a.sendPayment(hash, []), 'INVALID_INPUT', 'route')
    assert.throws(() => a.createInvoice(0n), HtlcRejectedError)
    // A graph route that visits a node twice (a → b → a → b) is refused before anything is sent.
    const g = net.graph
    const loop = routeFromEdges(g, [g.edge(0, 0), g.edge(0, 1), g.edge(0, 0)], 1000n, { currentHeight: Number(h), finalCltvDelta: 40 })
    await assert.rejects(net.payAlong(loop), (err: unknown) => err instanceof RouteLoopError && err.field === 'hops[1].to')
    await assert.rejects(net.payAlong({ ...loop, hops: [{ ...loop.hops[0]!, amountMsat: 0n }], amountMsat: 0n }), (err: unknown) => err instanceof L2Error && err.field === 'hops[0].amountMsat')
    assert.equal(a.pendingHtlcs().length, 0)
    assert.equal(a.channel.status(ab).version, 0n)
  } finally {
    net.stop()
  }
})

test("a peer's settle without the preimage is refused by the offerer's policy over real channels", async () => {
  const net = await HtlcNetwork.create({ nodes: ['a', 'b'], channels: [{ a: 0, b: 1, depositA: 100_000n, depositB: 0n }] })
  try {
    const [a, b] = net.nodes as [(typeof net.nodes)[number], (typeof net.nodes)[number]]
    const id = net.channelIds[0] as Uint8Array
    b.withholding = true
    const inv = b.createInvoice(5000n, preimage)
    const h = BigInt(net.l1.head().height)
    const paid = a.sendPayment(inv.hash, [{ channelId: id, amount: 5000n, expiry: h + 40n }])
    await settle()
    const locked = b.channel.status(id).locked
    assert.equal(locked.length, 1)
    const version = b.channel.status(id).version
    // Mallory-B proposes the settle without sending the preimage first: A refuses it.
    let builds = 0
    await assert.rejects(
      b.channel.update(id, (latest) => {
        if (++builds > 1) throw new HtlcRejectedError('HTLC_POLICY', 'state', 'refused')
        return buildSettle(latest, 1, (locked[0] as LockedEntry).id, preimage, net.l1.head().height)
      }),
    )
    assert.ok(a.channel.errors.some((e) => e.code === 'HTLC_BAD_PREIMAGE'))
    assert.equal(a.channel.status(id).version, version)
    // Revealing it the honest way settles it.
    b.releasePreimages()
    const out = await paid
    assert.equal(out.status, 'settled')
    assert.deepEqual(a.channel.status(id).balances, [95_000n, 5_000n])
  } finally {
    net.stop()
  }
})

async function settle(rounds = 30): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r))
}

test('concurrent payments in both directions over shared channels all settle: crossing proposals are retried, not given up', async () => {
  const net = await HtlcNetwork.create({
    nodes: ['a', 'b', 'c'],
    channels: [
      { a: 0, b: 1, depositA: 1_000_000n, depositB: 1_000_000n },
      { a: 1, b: 2, depositA: 1_000_000n, depositB: 1_000_000n },
    ],
  })
  try {
    const before = net.accounts().map((x) => x.total)
    const there = net.toHtlcRoute(net.findRoute(0, 2, 1000n))
    const back = net.toHtlcRoute(net.findRoute(2, 0, 2000n))
    const [a, , c] = net.nodes as [(typeof net.nodes)[0], (typeof net.nodes)[0], (typeof net.nodes)[0]]
    const outs = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        i % 2 === 0 ? a.sendPayment(c.createInvoice(1000n).hash, there) : c.sendPayment(a.createInvoice(2000n).hash, back),
      ),
    )
    assert.deepEqual(
      outs.map((o) => o.status),
      Array(24).fill('settled'),
    )
    await settle()
    for (const n of net.nodes) assert.deepEqual(n.pendingHtlcs(), [])
    const fee = (r: typeof there) => (r[0] as { amount: bigint }).amount - (r[r.length - 1] as { amount: bigint }).amount
    const d = net.accounts().map((x, i) => x.total - (before[i] as bigint))
    assert.deepEqual(d, [12n * (2000n - 1000n - fee(there)), 12n * (fee(there) + fee(back)), 12n * (1000n - 2000n - fee(back))])
  } finally {
    net.stop()
  }
})
