/**
 * HtlcNetwork over what a caller brings: an existing L1 with its own
 * parties (keys and funded wallets, nothing minted for them), wei-sized
 * channels routed in gwei (`graphUnit`) with every hop paid exactly its fee
 * in wei; offline peers (nothing offered to a node that cannot answer, the
 * sender routes around it); a channel reopened after it closed on L1; and the
 * group-committing SqliteNodeStore (commits per payment, durability of
 * deferred writes); lock ids reserved in blocks across a restart.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { type Amount, NobleSigner, secretKeyFromSeed } from '@l2bench/core'
import { MockL1, type Receipt, Wallet } from '@l2bench/l1-mock'
import { SqliteStore } from '@l2bench/payment-channel'
import { Book, LOCK_ID_RESERVE } from '../src/htlc/book.ts'
import { HtlcNetwork, type HtlcStore, MemoryHtlcStore, type NetworkParty, SqliteHtlcStore, SqliteNodeStore, drainEventLoop, feeMsat } from '../src/index.ts'

const ETH = 10n ** 18n
const GWEI = 10n ** 9n
const policy = { baseFee: 1_000n * GWEI, feeRatePpm: 100n, cltvDelta: 46 }

function parties(l1: MockL1, names: string[], fund: Amount): NetworkParty[] {
  return names.map((name) => {
    const signer = new NobleSigner(secretKeyFromSeed(`net-test:${name}`))
    l1.mint(signer.address, fund)
    return { name, signer, wallet: new Wallet(signer, l1) }
  })
}

/** Σ over nodes of open channel balances + HTLCs they offered still locked + L1 balance + gas burnt. */
function total(net: HtlcNetwork): bigint {
  let t = 0n
  net.nodes.forEach((n, i) => {
    t += net.l1.balanceOf(n.address)
    for (const r of (net.receipts[i] as Map<string, Receipt>).values()) t += r.fee
    for (const id of n.channelIds()) {
      const s = n.channel.status(id)
      if (s.phase === 'closed') continue
      t += s.myBalance
      for (const e of s.locked) if (e.direction === s.me) t += e.amount
    }
  })
  return t
}

test("a network on the caller's L1 with the caller's keys and wallets routes wei amounts in gwei and pays every hop exactly its fee", async () => {
  const l1 = new MockL1()
  const ps = parties(l1, ['alice', 'bob', 'carol', 'dave'], 100n * ETH)
  const minted = l1.totalMinted()
  const net = await HtlcNetwork.create({
    nodes: ps.length,
    parties: ps,
    onL1: l1,
    graphUnit: GWEI,
    disputeWindow: 40,
    channels: [
      { a: 0, b: 1, depositA: 3n * ETH, depositB: 2n * ETH, policyAB: policy, policyBA: policy },
      { a: 1, b: 2, depositA: 3n * ETH, depositB: 2n * ETH, policyAB: policy, policyBA: policy },
      { a: 2, b: 3, depositA: 3n * ETH, depositB: 2n * ETH, policyAB: policy, policyBA: policy },
    ],
  })
  try {
    assert.equal(net.l1, l1)
    assert.equal(l1.totalMinted(), minted, 'nothing minted for parties that brought their own funds')
    assert.deepEqual(
      net.nodes.map((n) => n.address),
      ps.map((p) => p.signer.address),
    )
    assert.equal(net.graph.capacityMsat(0), 5n * 10n ** 9n, 'the graph counts gwei')
    const before = total(net)
    const amount = 123_456_789_012_345_678n // not a whole number of gwei
    const r = await net.pay(0, 3, amount, { finalCltvDelta: 52 })
    await drainEventLoop() // the sender has the preimage; the hops finish settling upstream a few turns later
    assert.equal(r.success, true, r.reason)
    const route = r.attempts[0]!.route
    assert.equal(route.hops.length, 3)
    // Exact wei: carol's fee on `amount`, bob's on amount + carol's fee.
    const feeCarol = feeMsat(policy.baseFee, policy.feeRatePpm, amount)
    const feeBob = feeMsat(policy.baseFee, policy.feeRatePpm, amount + feeCarol)
    const [alice, bob, carol, dave] = net.nodes
    assert.equal(dave!.ledger.received, amount)
    assert.equal(alice!.ledger.sent, amount)
    assert.equal(alice!.ledger.feesPaid, feeBob + feeCarol)
    assert.equal(bob!.ledger.feesEarned, feeBob)
    assert.equal(carol!.ledger.feesEarned, feeCarol)
    assert.equal(total(net), before, 'channels + L1 + gas conserved')
    for (const n of net.nodes) assert.deepEqual(n.pendingHtlcs(), [])
  } finally {
    net.stop()
  }
})

test('parties are checked: one per node, each wallet on the network L1 and signed by its own key', async () => {
  const l1 = new MockL1()
  const ps = parties(l1, ['a', 'b'], ETH)
  const channels = [{ a: 0, b: 1, depositA: GWEI }]
  await assert.rejects(HtlcNetwork.create({ nodes: 3, parties: ps, onL1: l1, channels }), (e: Error & { field?: string }) => e.field === 'parties')
  const elsewhere = new MockL1()
  const moved = [ps[0]!, { ...ps[1]!, wallet: new Wallet(ps[1]!.signer, elsewhere) }]
  await assert.rejects(HtlcNetwork.create({ nodes: 2, parties: moved, onL1: l1, channels }), (e: Error & { field?: string }) => e.field === 'parties[1].wallet')
  const swapped = [ps[0]!, { ...ps[1]!, signer: ps[0]!.signer }]
  await assert.rejects(HtlcNetwork.create({ nodes: 2, parties: swapped, onL1: l1, channels }), (e: Error & { field?: string }) => e.field === 'parties[1].signer')
  await assert.rejects(HtlcNetwork.create({ nodes: 2, parties: ps, onL1: l1, channels, graphUnit: 0n }), (e: Error & { field?: string }) => e.field === 'graphUnit')
})

test('an offline peer: the sender routes around it and its node offers nothing to it (unknown_next_peer), a hop fails back the same way, no attempt starts past the payment timeout, and everyone keeps serving', async () => {
  // alice → bob → dave and alice → carol → dave; bob's policy is cheaper, so the first route goes through bob.
  const cheap = { baseFee: 0n, feeRatePpm: 1n, cltvDelta: 18 }
  const dear = { baseFee: 0n, feeRatePpm: 5000n, cltvDelta: 18 }
  const net = await HtlcNetwork.create({
    nodes: ['alice', 'bob', 'carol', 'dave'],
    channels: [
      { a: 0, b: 1, depositA: 1_000_000n, depositB: 1_000_000n },
      { a: 1, b: 3, depositA: 1_000_000n, depositB: 1_000_000n, policyAB: cheap },
      { a: 0, b: 2, depositA: 1_000_000n, depositB: 1_000_000n },
      { a: 2, b: 3, depositA: 1_000_000n, depositB: 1_000_000n, policyAB: dear },
    ],
  })
  try {
    const before = total(net)
    const viaBob = net.findRoute(0, 3, 10_000n)
    assert.equal(viaBob.hops[0]!.to, 1, 'the cheap route goes through bob')
    // Bob offline: alice's node knows its link is down — routes avoid it, and an explicit route through it is refused
    // by alice's own node, which records and proposes nothing.
    net.setOnline(1, false)
    const forced = await net.payAlong(viaBob)
    assert.equal(forced.status, 'failed')
    assert.deepEqual(forced.status === 'failed' && forced.failure, { code: 'unknown_next_peer', reporter: net.nodes[0]!.address })
    assert.deepEqual(net.nodes[0]!.pendingHtlcs(), [])
    assert.equal(net.nodes[0]!.allHtlcs().length, 0, 'nothing recorded')
    const r1 = await net.pay(0, 3, 10_000n)
    await drainEventLoop()
    assert.equal(r1.success, true, r1.reason)
    assert.equal(r1.attempts.length, 1)
    assert.equal(r1.attempts[0]!.route.hops[0]!.to, 2, 'through carol')
    net.setOnline(1, true)
    await drainEventLoop()
    // Dave offline: bob takes the HTLC and fails it back (unknown_next_peer at hop 1); no other way reaches dave.
    net.setOnline(3, false)
    const r2 = await net.pay(0, 3, 10_000n, { maxAttempts: 3 })
    await drainEventLoop()
    assert.equal(r2.success, false)
    assert.equal(r2.attempts[0]!.failedHop, 1)
    assert.equal(r2.attempts[0]!.outcome.status === 'failed' && r2.attempts[0]!.outcome.failure.code, 'unknown_next_peer')
    assert.equal(r2.reason, 'unknown_next_peer')
    assert.ok(r2.attempts.length >= 2, 'retried through carol')
    // Past the payment timeout no new attempt starts (the clock is the caller's).
    let clock = 0
    const r2b = await net.pay(0, 3, 10_000n, { maxAttempts: 3, timeoutMs: 60_000, now: () => (clock += 60_000) })
    await drainEventLoop()
    assert.equal(r2b.attempts.length, 1)
    assert.equal(r2b.reason, 'unknown_next_peer')
    for (const n of net.nodes) assert.deepEqual(n.pendingHtlcs(), [], 'nothing left pending')
    net.setOnline(3, true)
    await drainEventLoop()
    const r3 = await net.pay(0, 3, 10_000n)
    await drainEventLoop()
    assert.equal(r3.success, true, 'everyone serves again')
    assert.equal(total(net), before)
  } finally {
    net.stop()
  }
})

test('a channel closed on L1 is reopened in place: same nodes and policies, a new id, payments flow again', async () => {
  const net = await HtlcNetwork.create({
    nodes: ['alice', 'bob'],
    channels: [{ a: 0, b: 1, depositA: 1_000_000n, depositB: 1_000_000n }],
  })
  try {
    const [alice] = net.nodes
    const old = net.channelIds[0]!
    assert.equal((await net.pay(0, 1, 5_000n)).success, true)
    await alice!.channel.closeCooperative({ channelId: old })
    await drainEventLoop()
    assert.equal((await net.pay(0, 1, 5_000n)).success, false, 'nothing to pay over')
    const id = await net.reopen(0, 1_005_000n, 995_000n, 99n)
    assert.notDeepEqual(id, old)
    assert.deepEqual(net.channelIds[0], id)
    assert.equal(net.channelOf(id), 0)
    assert.equal(net.channelOf(old), undefined)
    assert.equal((await net.pay(0, 1, 5_000n)).success, true)
    assert.equal(alice!.balance(id), 1_000_000n)
  } finally {
    net.stop()
  }
})

async function commitsPerPayment(kind: 'separate' | 'combined', dir: string, payments: number): Promise<number> {
  const stores: (SqliteNodeStore | { channel: SqliteStore; htlc: SqliteHtlcStore })[] = []
  const net = await HtlcNetwork.create({
    nodes: ['alice', 'hub', 'bob'],
    channels: [
      { a: 0, b: 1, depositA: 10_000_000n, depositB: 10_000_000n },
      { a: 1, b: 2, depositA: 10_000_000n, depositB: 10_000_000n },
    ],
    nodeOptions: (i) => {
      if (kind === 'combined') {
        const s = new SqliteNodeStore(join(dir, `${kind}-${i}.db`), { synchronous: 'NORMAL' })
        stores.push(s)
        return { store: s, htlcStore: s }
      }
      const channel = new SqliteStore(join(dir, `${kind}-${i}-c.db`), { synchronous: 'NORMAL' })
      const htlc = new SqliteHtlcStore(join(dir, `${kind}-${i}-h.db`), { synchronous: 'NORMAL' })
      stores.push({ channel, htlc })
      return { store: channel, htlcStore: htlc }
    },
  })
  // Each SqliteHtlcStore put is one commit; count them.
  let puts = 0
  for (const s of stores)
    if (!(s instanceof SqliteNodeStore)) {
      const put = s.htlc.put.bind(s.htlc)
      s.htlc.put = (k, key, v) => {
        puts++
        put(k, key, v)
      }
    }
  const commits = () => stores.reduce((t, s) => t + (s instanceof SqliteNodeStore ? s.commits : s.channel.saves), 0) + puts
  try {
    const start = commits()
    for (let i = 0; i < payments; i++) assert.equal((await net.pay(0, 2, 1_000n)).success, true)
    return (commits() - start) / payments
  } finally {
    net.stop()
    for (const s of stores) {
      if (s instanceof SqliteNodeStore) s.close()
      else {
        s.channel.close()
        s.htlc.close()
      }
    }
  }
}

test('group commit: a two-hop payment commits about half as often with one SqliteNodeStore per node as with two stores', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'htlc-commits-'))
  try {
    const separate = await commitsPerPayment('separate', dir, 6)
    const combined = await commitsPerPayment('combined', dir, 6)
    assert.ok(separate >= 30, `separate stores: ${separate} commits per payment`)
    assert.ok(combined <= 18, `combined: ${combined} commits per payment`)
    assert.ok(combined * 1.8 <= separate, `${combined} vs ${separate}`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('SqliteNodeStore: an HTLC put is durable after flush or with the next channel save, not before; close commits what is pending', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'htlc-nodestore-'))
  const path = join(dir, 'n.db')
  // A second connection sees what is committed.
  const reader = (): HtlcStore => new SqliteHtlcStore(path, { synchronous: 'NORMAL' })
  try {
    const s = new SqliteNodeStore(path, { synchronous: 'FULL' })
    assert.equal(s.synchronous, 'FULL')
    s.put('preimage', 'a', Uint8Array.of(1))
    let r = reader()
    assert.deepEqual(r.all('preimage'), [], 'not committed yet')
    r.close()
    s.flush()
    r = reader()
    assert.deepEqual(r.all('preimage'), [['a', Uint8Array.of(1)]])
    r.close()
    const commits = s.commits
    s.flush()
    assert.equal(s.commits, commits, 'nothing pending: no commit')
    // The last write of a key wins; a delete is deferred too.
    s.put('preimage', 'b', Uint8Array.of(2))
    s.put('preimage', 'b', Uint8Array.of(3))
    s.put('preimage', 'a', undefined)
    s.close()
    const again = new SqliteNodeStore(path)
    assert.deepEqual(again.all('preimage'), [['b', Uint8Array.of(3)]])
    again.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('lock ids: the counter is written once per reserved block, and a restart continues past the block (no id reused)', () => {
  const store = new MemoryHtlcStore()
  let metaPuts = 0
  const put = store.put.bind(store)
  store.put = (kind, key, value) => {
    if (kind === 'meta') metaPuts++
    put(kind, key, value)
  }
  const book = new Book(store, () => false, 30)
  const offerer = '0x00000000000000000000000000000000000000aa'
  const seen = new Set<string>()
  for (let i = 0; i < LOCK_ID_RESERVE + 3; i++) seen.add(Buffer.from(book.nextLockId(offerer)).toString('hex'))
  assert.equal(seen.size, LOCK_ID_RESERVE + 3)
  assert.equal(metaPuts, 2, 'one write per block of reserved ids')
  // A crash: the in-memory counter is gone; the restarted book starts after the reserved block.
  const again = new Book(store, () => false, 30)
  again.load()
  for (let i = 0; i < LOCK_ID_RESERVE; i++) {
    const id = Buffer.from(again.nextLockId(offerer)).toString('hex')
    assert.ok(!seen.has(id), 'a lock id is never reused')
  }
})
