import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import type { CapacityInputs } from '../src/design.ts'
import { HtlcDesign, KeyRing, generateWorkload, parseScenario, runDesign } from '../src/index.ts'

const keys = new KeyRing()

test('HTLC hub network conserves funds, fees and gwei rounding included', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 2, max: 6 }), fc.integer({ min: 1, max: 40 }), async (seed, users, payments) => {
      const s = parseScenario({ name: 'h', seed, users, payments })
      const r = await runDesign(new HtlcDesign(), generateWorkload(s), { keys })
      assert.equal(r.conservation.ok, true, JSON.stringify(r.conservation))
      assert.equal(r.l1.byPhase.payments.txs, 0, 'routing touches no L1')
      assert.ok(r.succeeded > 0)
      for (const ms of r.samples?.finalMs ?? []) assert.ok(ms >= 4 * 50, 'two hops, four messages of 50 ms at least')
    }),
    { numRuns: 6 },
  )
})

test('HTLC over a scale-free graph routes multi-hop and conserves funds', async () => {
  const s = parseScenario({
    name: 'sf',
    seed: 4,
    users: 40,
    payments: 60,
    pairs: { count: 60 },
    topology: { kind: 'scale-free', m: 2, capacity: '1 eth' },
    designOptions: { htlc: { missionControl: 'per-payment' } },
  })
  const r = await runDesign(new HtlcDesign(), generateWorkload(s), { keys })
  assert.equal(r.conservation.ok, true, JSON.stringify(r.conservation))
  assert.ok(r.successRate > 0.8, JSON.stringify(r.failureReasons))
  assert.equal(r.l1.byOperation['PaymentChannelAdjudicator.open']?.txs, 3 + 37 * 2, 'm(m+1)/2 + (n − m − 1)·m channels')
  assert.equal(r.extrapolated, false)
})

test('big graphs: channels past maxOnchainChannels are extrapolated from a measured sample and marked', async () => {
  const s = parseScenario({
    name: 'big',
    seed: 2,
    users: 30,
    payments: 30,
    pairs: { count: 30 },
    topology: { kind: 'scale-free', m: 2, capacity: '1 eth' },
    designOptions: { htlc: { maxOnchainChannels: 10, sampleChannels: 8 } },
  })
  const r = await runDesign(new HtlcDesign(), generateWorkload(s), { keys })
  assert.equal(r.extrapolated, true)
  const channels = 3 + 27 * 2
  const opens = (r.l1.byOperation['PaymentChannelAdjudicator.open']?.txs ?? 0) + (r.l1.byOperation['PaymentChannelAdjudicator.open †']?.txs ?? 0)
  assert.equal(opens, channels)
  assert.equal(r.conservation.ok, true, JSON.stringify(r.conservation))
})

test('offline hop in a hub network: the payment fails (the hub is the only route) and is reported', async () => {
  const s = parseScenario({ name: 'off', seed: 3, users: 4, payments: 20, faults: { offlineHop: 1 } })
  const r = await runDesign(new HtlcDesign(), generateWorkload(s), { keys })
  assert.equal(r.faults.length, 1)
  assert.equal(r.faults[0]?.kind, 'offline-hop')
  assert.equal(r.conservation.ok, true)
})

test('a payee withholding the preimage: the payment fails with timeout, the hop times out on chain, funds conserved', async () => {
  const s = parseScenario({ name: 'withhold', seed: 5, users: 6, payments: 40, faults: { withheldPreimage: 2 } })
  const r = await runDesign(new HtlcDesign(), generateWorkload(s), { keys })
  assert.equal(r.conservation.ok, true, JSON.stringify(r.conservation))
  const faults = r.faults.filter((f) => f.kind === 'withheld-preimage')
  assert.equal(faults.length, 2)
  for (const f of faults) assert.match(f.outcome, /failed \(timeout\).*timed out on chain/)
  assert.ok((r.failureReasons.TIMEOUT ?? 0) >= 2, JSON.stringify(r.failureReasons))
  assert.ok(r.extrapolations.some((e) => /on-chain HTLC resolutions/.test(e.what)), 'the on-chain timeout is costed (modelled gas, marked)')
})

test('HTLC capacity inputs: one hub carries every payment (H = 1); its forwarding rate is modelled from this run’s primitives and says so', async () => {
  const s = parseScenario({ name: 'hcap', seed: 2, users: 5, payments: 20 })
  let inputs: CapacityInputs | undefined
  const r = await runDesign(new HtlcDesign(), generateWorkload(s), { keys, capacityInputs: (i) => (inputs = i) })
  assert.ok(inputs !== undefined && inputs.model === 'hub')
  assert.equal(inputs.hubs.value, 1)
  assert.match(inputs.hubs.how, /forwarded by the busiest node \(the hub\)/)
  assert.equal(inputs.forwardRate.source, 'modelled')
  assert.ok(inputs.forwardRate.value > 0 && Number.isFinite(inputs.forwardRate.value))
  assert.equal(r.store.kind, 'none')
})
