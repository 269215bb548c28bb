/**
 * Which engine the committed scenarios give the HTLC and virtual designs,
 * and the adversarial scenario's fault mix on both (issues 14 and 19): the
 * hub scenarios run htlc on real HtlcNodes and virtual beside it, their
 * sweeps compare both with direct channels; the full network is past
 * maxRealChannels (simulated forwarding, labelled) while its quick mode, the
 * same graph family a few hundred nodes big, runs real nodes.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { HtlcDesign, KeyRing, type Scenario, VirtualDesign, designOptions, generateWorkload, loadScenario, runDesign } from '../src/index.ts'

const keys = new KeyRing()
const HUB_SCENARIOS = ['default', 'repeated-pair', 'many-strangers', 'adversarial'] as const

/** The channels HtlcDesign plans: one per user that pays or is paid (hub), or the workload's graph's edges. */
function plannedChannels(s: Scenario): number {
  const w = generateWorkload(s)
  if (s.topology.kind === 'hub') return w.userNeeds.filter((n) => n.a !== 0n || n.b !== 0n).length
  return w.graph?.edges.length ?? 0
}

test('the hub scenarios (default, repeated-pair, many-strangers, adversarial) run htlc on real nodes and virtual, full and quick; their sweeps put both beside direct channels', () => {
  for (const name of HUB_SCENARIOS) {
    for (const quick of [false, true]) {
      const s = loadScenario(name, { quick })
      const at = `${name}${quick ? ' --quick' : ''}`
      assert.equal(s.topology.kind, 'hub', at)
      for (const d of ['channel', 'htlc', 'virtual'] as const) assert.ok(s.designs.includes(d), `${at} runs ${d}`)
      const o = designOptions(s, 'htlc')
      assert.equal(o.forwarding, 'auto', at)
      assert.ok(plannedChannels(s) <= o.maxRealChannels, `${at}: ${plannedChannels(s)} channels, real nodes`)
      if (name !== 'adversarial') for (const d of ['channel', 'htlc', 'virtual']) assert.ok(s.sweeps.designs?.includes(d as never), `${at}: sweeps include ${d}`)
    }
  }
  // The adversarial scenario has a stale-state fault — for virtual, a virtual-channel dispute — full and quick.
  assert.ok(loadScenario('adversarial').faults.staleState >= 1)
  assert.ok(loadScenario('adversarial', { quick: true }).faults.staleState >= 1)
})

test('the full network is past maxRealChannels (simulated forwarding); its quick mode — the same graph family, 300 nodes — runs real HtlcNodes', () => {
  const full = loadScenario('network')
  const quick = loadScenario('network', { quick: true })
  assert.deepEqual(quick.topology, full.topology, 'the same graph family (scale-free, same m and capacity)')
  const o = designOptions(full, 'htlc')
  assert.equal(o.forwarding, 'auto')
  const [nFull, nQuick] = [plannedChannels(full), plannedChannels(quick)]
  assert.equal(nFull, 3 + (16_500 - 3) * 2, 'm(m+1)/2 + (n − m − 1)·m')
  assert.ok(nFull > o.maxRealChannels, `${nFull} channels: simulated`)
  assert.ok(nQuick <= designOptions(quick, 'htlc').maxRealChannels, `${nQuick} channels: real`)
  assert.ok(quick.users >= 200 && quick.users <= 1_000, 'a few hundred nodes')
  assert.ok(full.designs.includes('htlc') && quick.designs.includes('htlc'))
})

/**
 * The adversarial scenario's shape, cut to a test's size: one fault of each
 * kind. Fixed deposits: with perfect-foresight ones a payment that failed
 * leaves later payments short (the funding counted on it).
 */
function adversarial(payments: number): Scenario {
  const s = loadScenario('adversarial', { quick: true })
  return {
    ...s,
    payments,
    capital: { ...s.capital, channelDeposit: 10n ** 18n },
    faults: { staleState: 1, offlineHop: 1, withheldPreimage: 1 },
    designOptions: { ...s.designOptions, htlc: { ...designOptions(s, 'htlc'), store: 'memory' }, virtual: { ...designOptions(s, 'virtual'), store: 'memory' } },
  }
}

test('the adversarial fault mix on real HtlcNodes: each fault happens to the nodes, its on-chain steps are metered L1 transactions, every honest node safe, funds conserved', async () => {
  const s = adversarial(50)
  const r = await runDesign(new HtlcDesign(), generateWorkload(s), { keys })
  assert.equal(r.conservation.ok, true, JSON.stringify(r.conservation))
  assert.deepEqual(r.faults.map((f) => f.kind).sort(), ['offline-hop', 'stale-state', 'withheld-preimage'])
  for (const f of r.faults) assert.equal(f.safe, true, `${f.kind}: ${f.outcome}`)
  // Gas from receipts: the withheld preimage's refund and the stale state's challenge.
  for (const op of ['register', 'finalize', 'resolveLocked', 'challenge']) assert.ok((r.l1.byOperation[`HtlcAdjudicator.${op}`]?.gas ?? 0) > 20_000, op)
  assert.equal(r.extrapolated, false)
  // The hub has no way around itself: the offline-hop payment and the withheld one fail with a reason, every other settles.
  assert.equal(r.succeeded, s.payments - 2, JSON.stringify(r.failureReasons))
  assert.equal(r.store.kind, 'memory')
})

test('the adversarial fault mix on virtual channels: the stale state is a virtual-channel dispute refuted on L1, the faults it has no notion of run as payments, funds conserved', async () => {
  const s = adversarial(50)
  const r = await runDesign(new VirtualDesign(), generateWorkload(s), { keys })
  assert.equal(r.conservation.ok, true, JSON.stringify(r.conservation))
  assert.equal(r.succeeded, s.payments, JSON.stringify(r.failureReasons))
  assert.deepEqual(
    r.faults.map((f) => [f.kind, f.safe]),
    [['stale-state', true]],
  )
  assert.match(r.faults[0]!.outcome, /Mallory registered virtual v\d+ on L1; the payee's node refuted with v(\d+) \(its newest: v\1\)/)
  assert.equal(r.l1.byOperation['VirtualAdjudicator.registerVirtual']?.txs, 2, 'the registration and its refutation')
})
