/**
 * A forwarding hop crashes and restarts from SQLite — payment-channel's
 * SqliteStore for the channel states and SqliteHtlcStore for the HTLC
 * bookkeeping, or one SqliteNodeStore for both (group commit: a crash loses
 * the HTLC writes not yet committed) — with HTLCs in flight, and (the
 * dangerous moment) after it paid downstream but before it settled upstream.
 * It recovers which incoming HTLC each outgoing one serves and the preimage
 * it learnt, settles upstream, and keeps exactly its fee.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { type Amount, decode } from '@l2bench/core'
import { SqliteStore } from '@l2bench/payment-channel'
import {
  HtlcNetwork,
  type HtlcNode,
  type HtlcStore,
  MemoryHtlcStore,
  SqliteHtlcStore,
  SqliteNodeStore,
  htlcRecordCodec,
  drainEventLoop as settle,
} from '../src/index.ts'

const M = 1_000_000n
const policy = { baseFee: 100n, feeRatePpm: 1000n, cltvDelta: 18 }

type Kind = 'separate' | 'combined'

async function setup(dir: string, kind: Kind) {
  const stores = { channel: join(dir, 'bob-channels.db'), htlc: join(dir, 'bob-htlcs.db'), node: join(dir, 'bob.db') }
  const open = (): { store: SqliteStore | SqliteNodeStore; htlcStore: HtlcStore } => {
    if (kind === 'separate')
      return { store: new SqliteStore(stores.channel, { synchronous: 'NORMAL' }), htlcStore: new SqliteHtlcStore(stores.htlc, { synchronous: 'NORMAL' }) }
    const both = new SqliteNodeStore(stores.node, { synchronous: 'NORMAL' })
    return { store: both, htlcStore: both }
  }
  const bobStores = open()
  const net = await HtlcNetwork.create({
    nodes: ['alice', 'bob', 'carol'],
    channels: [
      { a: 0, b: 1, depositA: M, depositB: M, policyAB: policy },
      { a: 1, b: 2, depositA: M, depositB: M, policyAB: policy },
    ],
    nodeOptions: (i) => (i === 1 ? bobStores : {}),
  })
  // A crash: the process dies, so a group-committing store's pending writes die with it (its database closes unflushed).
  const die = () => {
    if (bobStores.store instanceof SqliteNodeStore) bobStores.store.channels.close()
    else {
      bobStores.store.close()
      bobStores.htlcStore.close()
    }
  }
  const crash = async () => {
    die()
    const again = open()
    Object.assign(bobStores, again)
    return net.restart(1, again)
  }
  /** What is on disk now, read through another connection. */
  const onDisk = (k: 'htlc' | 'preimage') => {
    if (kind === 'separate') return bobStores.htlcStore.all(k)
    const other = new SqliteNodeStore(stores.node, { synchronous: 'NORMAL' })
    try {
      return other.all(k)
    } finally {
      other.close()
    }
  }
  const close = () => {
    bobStores.store.close()
    if ((bobStores.store as unknown) !== bobStores.htlcStore) bobStores.htlcStore.close()
  }
  return { net, crash, onDisk, close }
}

const totals = (net: HtlcNetwork) => net.accounts().map((a) => a.total)

for (const kind of ['separate', 'combined'] as const) {
test(`a hop restarted from SQLite (${kind} stores) with HTLCs in flight forwards the settle upstream`, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'htlc-restart-'))
  const { net, crash, close } = await setup(dir, kind)
  try {
    const [, , carol] = net.nodes as HtlcNode[]
    ;(carol as HtlcNode).withholding = true
    const before = totals(net)
    const route = net.findRoute(0, 2, 40_000n)
    const paid = net.payAlong(route)
    await settle()
    assert.equal((carol as HtlcNode).pendingHtlcs().length, 1)
    const bob = await crash()
    assert.equal(bob.pendingHtlcs().length, 2, 'the restarted hop knows both HTLCs')
    ;(carol as HtlcNode).releasePreimages()
    const out = await paid
    assert.equal(out.status, 'settled')
    await settle()
    for (const n of net.nodes) assert.deepEqual(n.pendingHtlcs(), [])
    const d = totals(net).map((x, i) => x - (before[i] as Amount))
    const fee = route.totalFeesMsat
    assert.deepEqual(d, [-(40_000n + fee), fee, 40_000n])
  } finally {
    net.stop()
    close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test(`a hop (${kind} stores) that paid downstream and crashed before settling upstream recovers the preimage and claims its incoming HTLC`, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'htlc-restart-'))
  const { net, crash, onDisk, close } = await setup(dir, kind)
  try {
    const [alice, , carol] = net.nodes as HtlcNode[]
    ;(carol as HtlcNode).withholding = true
    const before = totals(net)
    const route = net.findRoute(0, 2, 40_000n)
    const paid = net.payAlong(route)
    await settle()
    // Alice is unreachable: bob pays carol (learns the preimage) but cannot settle with alice.
    net.setLinked(0, 1, false)
    ;(carol as HtlcNode).releasePreimages()
    await settle()
    assert.equal((carol as HtlcNode).pendingHtlcs().length, 0, 'carol was paid')
    assert.equal((alice as HtlcNode).pendingHtlcs().length, 1, 'alice has not settled yet')
    // What bob's store holds at the crash: the learnt preimage and the link to the incoming HTLC.
    const recs = onDisk('htlc').map(([, v]) => decode(htlcRecordCodec, v))
    assert.equal(onDisk('preimage').length, 1)
    // (With group commit the outgoing record's move to 'settled' may not be committed yet: the restart's
    // reconcile settles it from the channel state and the preimage, which are.)
    assert.ok(recs.some((r) => !r.incoming && r.from !== undefined && (r.status === 'settled' || kind === 'combined')))
    // Crash; the restart reconnects bob to both peers (fresh links).
    const bob = await crash()
    const out = await paid
    assert.equal(out.status, 'settled')
    await settle()
    for (const n of net.nodes) assert.deepEqual(n.pendingHtlcs(), [])
    assert.equal(bob.errors.filter((e) => e.code === 'INTERNAL').length, 0)
    const d = totals(net).map((x, i) => x - (before[i] as Amount))
    const fee = route.totalFeesMsat
    assert.deepEqual(d, [-(40_000n + fee), fee, 40_000n])
  } finally {
    net.stop()
    close()
    rmSync(dir, { recursive: true, force: true })
  }
})

}

test('stores round-trip every kind and refuse unknown kinds', () => {
  const dir = mkdtempSync(join(tmpdir(), 'htlc-store-'))
  try {
    for (const store of [new MemoryHtlcStore(), new SqliteHtlcStore(join(dir, 's.db')), new SqliteNodeStore(join(dir, 'n.db'))]) {
      store.put('preimage', 'a', Uint8Array.of(1, 2))
      store.put('preimage', 'b', Uint8Array.of(3))
      store.put('preimage', 'a', Uint8Array.of(9))
      store.put('preimage', 'b', undefined)
      assert.deepEqual(store.all('preimage'), [['a', Uint8Array.of(9)]])
      assert.deepEqual(store.all('htlc'), [])
      assert.throws(() => store.put('nope' as 'htlc', 'x', Uint8Array.of(1)), (e: Error & { field?: string }) => e.field === 'kind')
      store.close()
    }
    for (const reopened of [new SqliteHtlcStore(join(dir, 's.db')), new SqliteNodeStore(join(dir, 'n.db'))]) {
      assert.deepEqual(reopened.all('preimage'), [['a', Uint8Array.of(9)]])
      reopened.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
