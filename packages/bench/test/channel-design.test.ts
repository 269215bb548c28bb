import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { CHANNEL_COMMITS_PER_PAYMENT, turns } from '../src/designs/channel.ts'
import { ChannelDesign, HarnessWorld, KeyRing, designOptions, generateWorkload, parseScenario, runDesign } from '../src/index.ts'
import { toProgress } from '../src/progress.ts'

const keys = new KeyRing()

test('direct channels conserve funds: after closing, balances = genesis ± payments − fees', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 2, max: 5 }), fc.integer({ min: 1, max: 30 }), async (seed, users, payments) => {
      const s = parseScenario({ name: 'c', seed, users, payments, designOptions: { channel: { store: 'memory' } } })
      const r = await runDesign(new ChannelDesign(), generateWorkload(s), { keys })
      assert.equal(r.conservation.ok, true, JSON.stringify(r.conservation))
      assert.equal(r.succeeded, payments, JSON.stringify(r.failureReasons))
      assert.equal(r.l1.byPhase.payments.txs, 0, 'payments touch no L1')
      assert.equal(r.capital.peakLockedWei !== '0', true)
    }),
    { numRuns: 6 },
  )
})

test('direct channels with SQLite and a fixed deposit: payments beyond the balance fail, funds still conserved', async () => {
  const s = parseScenario({
    name: 'cap',
    users: 2,
    payments: 40,
    pairs: { count: 1, direction: 'forward' },
    amounts: { kind: 'fixed', value: '0.01 eth' },
    capital: { channelDeposit: '0.1 eth' },
  })
  const r = await runDesign(new ChannelDesign(), generateWorkload(s), { keys })
  assert.equal(r.succeeded, 10)
  assert.ok(Object.keys(r.failureReasons).length === 1, JSON.stringify(r.failureReasons))
  assert.equal(r.conservation.ok, true, JSON.stringify(r.conservation))
})

test('stale-state fault: the payee challenges, finalizes with the newest state, loses nothing', async () => {
  const s = parseScenario({
    name: 'stale',
    seed: 5,
    users: 3,
    payments: 30,
    faults: { staleState: 2 },
    designOptions: { channel: { store: 'memory', disputeWindow: 5 } },
  })
  const r = await runDesign(new ChannelDesign(), generateWorkload(s), { keys })
  assert.equal(r.faults.length, 2)
  for (const f of r.faults) assert.equal(f.safe, true, f.outcome)
  assert.ok((r.l1.byOperation['PaymentChannelAdjudicator.register']?.txs ?? 0) === 2)
  assert.ok((r.l1.byOperation['PaymentChannelAdjudicator.challenge']?.txs ?? 0) === 2)
  assert.equal(r.conservation.ok, true, JSON.stringify(r.conservation))
  assert.equal(r.succeeded, 30)
})

test('same seed, same channel gas', async () => {
  const s = parseScenario({ name: 'det', seed: 9, users: 4, payments: 25, designOptions: { channel: { store: 'memory' } } })
  const a = await runDesign(new ChannelDesign(), generateWorkload(s), { keys })
  const b = await runDesign(new ChannelDesign(), generateWorkload(s), { keys })
  assert.deepEqual(a.l1, b.l1)
})

test('durable by default: SQLite synchronous=FULL on the machine’s disk, stated in the result; one payment = the bound’s 3 commits', async () => {
  const s = parseScenario({ name: 'durable', users: 3, payments: 15, pairs: { count: 2 } })
  assert.equal(designOptions(s, 'channel').synchronous, 'FULL')
  const w = generateWorkload(s)
  const world = new HarnessWorld(s, w, 'channel', keys, toProgress(undefined))
  const d = new ChannelDesign()
  await d.setup(world)
  const stores = (d as unknown as { stores: { saves?: number }[] }).stores
  const saves = () => stores.reduce((a, st) => a + (st.saves ?? 0), 0)
  const before = saves()
  for (const p of w.payments) assert.equal((await d.pay(p)).ok, true)
  await turns()
  assert.equal(saves() - before, CHANNEL_COMMITS_PER_PAYMENT * w.payments.length, 'commits per payment, as the bound declares')
  const store = d.store()
  assert.equal(store.kind, 'sqlite')
  assert.equal(store.synchronous, 'FULL')
  assert.match(store.description, /every commit fsynced/)
  assert.ok(store.location?.startsWith(tmpdir()))
  if (existsSync('/proc/mounts')) assert.doesNotMatch(store.filesystem ?? '', /tmpfs|ramfs/, 'on a disk, where fsync means something')
  const inputs = d.capacityInputs()
  assert.equal(inputs.model, 'channels')
  assert.equal(inputs.model === 'channels' ? inputs.concurrentPairs.value : -1, 1, 'two pairs among three users share a party: one updates at a time')
  await d.settle()
  // The scenario may ask for NORMAL, and the result says so.
  const normal = parseScenario({ name: 'n', users: 2, payments: 3, designOptions: { channel: { synchronous: 'NORMAL' } } })
  const r = await runDesign(new ChannelDesign(), generateWorkload(normal), { keys })
  assert.equal(r.store.synchronous, 'NORMAL')
  assert.match(r.store.description, /not fsynced/)
})

test('payments queued on a channel ride in merged states (driven concurrently), each with its own result; the report counts them', async () => {
  // A fixed deposit above the total volume: in any order no side over-spends (the perfect-foresight deposit assumes the workload's order).
  const s = parseScenario({ name: 'merge', users: 2, payments: 40, pairs: { count: 1, direction: 'both' }, capital: { channelDeposit: '5 eth' }, designOptions: { channel: { store: 'memory' } } })
  const w = generateWorkload(s)
  const world = new HarnessWorld(s, w, 'channel', keys, toProgress(undefined))
  const d = new ChannelDesign()
  await d.setup(world)
  // The runner pays one at a time; here all 40 are in flight at once.
  const results = await Promise.all(w.payments.map((p) => d.pay(p)))
  assert.ok(results.every((r) => r.ok))
  await turns()
  const m = d.mergeSummary()
  assert.equal(m.payments, 40)
  assert.ok(m.mergedStates > 0 && m.states < 40, JSON.stringify(m))
  await d.settle()
  assert.ok(world.notes.some((n) => /Merged updates in this run: \d+ of 40 payments shared/.test(n)), world.notes.join('\n'))
})

test('the runner pays one at a time: the report says no payment queued', async () => {
  const s = parseScenario({ name: 'seq', users: 2, payments: 5, designOptions: { channel: { store: 'memory' } } })
  const r = await runDesign(new ChannelDesign(), generateWorkload(s), { keys })
  assert.ok(r.notes.some((n) => /Merged updates in this run: none — 5 payments in 5 countersigned states/.test(n)), r.notes.join('\n'))
})
