import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { CHANNEL_COMMITS_PER_PAYMENT, turns } from '../src/designs/channel.ts'
import { HarnessWorld, KeyRing, VirtualDesign, generateWorkload, parseScenario, runDesign } from '../src/index.ts'
import { toProgress } from '../src/progress.ts'

const keys = new KeyRing()

test('virtual channels conserve funds: after the virtual and ledger closes, balances = genesis ± payments − fees; payments touch no L1', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 2, max: 5 }), fc.integer({ min: 1, max: 30 }), async (seed, users, payments) => {
      const s = parseScenario({ name: 'v', seed, users, payments, designOptions: { virtual: { store: 'memory' } } })
      const r = await runDesign(new VirtualDesign(), generateWorkload(s), { keys })
      assert.equal(r.conservation.ok, true, JSON.stringify(r.conservation))
      assert.equal(r.succeeded, payments, JSON.stringify(r.failureReasons))
      assert.equal(r.l1.byPhase.payments.txs, 0, 'virtual opens and payments touch no L1')
      assert.ok(r.notes.some((n) => /Hub collateral locked in virtual channels × time: \d+ wei·s = Σ over [1-9]\d* virtual channels/.test(n)), 'the hub’s collateral × time is reported')
    }),
    { numRuns: 6 },
  )
})

test('stale-state fault is a virtual-channel dispute: Mallory registers, the payee refutes, the hub unlocks both ledgers by the L1 outcome; nothing lost', async () => {
  const s = parseScenario({
    name: 'vstale',
    seed: 5,
    users: 3,
    payments: 30,
    faults: { staleState: 2 },
    designOptions: { virtual: { store: 'memory', disputeWindow: 5, virtualDisputeWindow: 5 } },
  })
  const r = await runDesign(new VirtualDesign(), generateWorkload(s), { keys })
  assert.equal(r.faults.length, 2)
  for (const f of r.faults) assert.equal(f.safe, true, f.outcome)
  assert.equal(r.l1.byOperation['VirtualAdjudicator.registerVirtual']?.txs, 4, 'two registrations, two refutations')
  assert.equal(r.l1.byOperation['VirtualAdjudicator.register']?.txs ?? 0, 0, 'no ledger channel went to L1')
  assert.equal(r.conservation.ok, true, JSON.stringify(r.conservation))
  assert.equal(r.succeeded, 30)
  const note = r.notes.find((n) => n.startsWith('Hub collateral')) ?? ''
  assert.match(note, /× time: [1-9]\d* wei·s/, 'collateral held over the payments’ simulated time')
})

test('one payment after the open = the bound’s 3 commits, and the hub is in none of them; capacity inputs count the hub’s ledger updates', async () => {
  const s = parseScenario({ name: 'vdurable', users: 3, payments: 20, pairs: { count: 2 } })
  const w = generateWorkload(s)
  const world = new HarnessWorld(s, w, 'virtual', keys, toProgress(undefined))
  const d = new VirtualDesign()
  await d.setup(world)
  const inner = d as unknown as { stores: { channel: { saves?: number }; virtual: { saves?: number } }[]; nodes: Map<number, { channel: { channelIds(): string[]; status(id: string): { version: bigint } } }> }
  const saves = () => inner.stores.reduce((a, st) => a + (st.channel.saves ?? 0) + (st.virtual.saves ?? 0), 0)
  const hub = inner.nodes.get(-1)!
  const hubVersions = () => hub.channel.channelIds().reduce((a, id) => a + hub.channel.status(id).version, 0n)
  const seen = new Set<number>()
  let counted = 0
  let during = 0
  for (const p of w.payments) {
    const first = !seen.has(p.pair)
    seen.add(p.pair)
    const [before, hv] = [saves(), hubVersions()]
    assert.equal((await d.pay(p)).ok, true)
    await turns()
    if (first) continue
    counted++
    during += saves() - before
    assert.equal(hubVersions(), hv, 'the hub signs nothing for a payment')
  }
  assert.ok(counted > 0)
  assert.equal(during, CHANNEL_COMMITS_PER_PAYMENT * counted, 'commits per payment, as the bound declares')
  const inputs = d.capacityInputs()
  assert.equal(inputs.model, 'channels')
  if (inputs.model === 'channels') assert.equal(inputs.hubUpdatesPerPayment?.value, (4 * seen.size) / w.payments.length, 'two locks and two unlocks per virtual channel')
  assert.equal(d.store().kind, 'sqlite')
  await d.settle()
  assert.equal(d.lockedCapital(), 0n)
})
