import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { KeyRing, L1Design, generateWorkload, parseScenario, runDesign } from '../src/index.ts'

const keys = new KeyRing()

test('L1 baseline conserves funds for random workloads (balances = genesis ± payments − fees)', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 10_000 }),
      fc.integer({ min: 2, max: 6 }),
      fc.integer({ min: 1, max: 40 }),
      fc.double({ min: 0.05, max: 500, noNaN: true }),
      async (seed, users, payments, rate) => {
        const s = parseScenario({ name: 'c', seed, users, payments, arrival: { kind: 'poisson', ratePerSecond: rate } })
        const r = await runDesign(new L1Design(), generateWorkload(s), { keys })
        assert.equal(r.conservation.ok, true, JSON.stringify(r.conservation))
        assert.equal(r.succeeded, payments)
        assert.equal(r.l1.txs, payments)
        assert.equal(r.l1.gas, payments * 21_000)
        assert.equal(r.latencyMs.final.count, payments)
      },
    ),
    { numRuns: 12 },
  )
})

test('L1 baseline: final latency includes waiting for the block, and never exceeds it for light load', async () => {
  const s = parseScenario({ name: 'lat', users: 5, payments: 200, arrival: { kind: 'poisson', ratePerSecond: 2 } })
  const r = await runDesign(new L1Design(), generateWorkload(s), { keys })
  // Arrivals are uniform within a 12 s block interval: median wait about 6 s.
  assert.ok(r.latencyMs.final.p50 > 3000 && r.latencyMs.final.p50 < 9000, `p50 ${r.latencyMs.final.p50}`)
  assert.ok(r.latencyMs.final.max >= r.latencyMs.final.p99)
  assert.deepEqual(r.latencyMs.soft, r.latencyMs.final)
})

test('L1 baseline: full blocks make a backlog (latency grows beyond one block)', async () => {
  // 3 transfers per block (63,000 gas) at ~1 per second: the queue grows.
  const s = parseScenario({ name: 'full', users: 4, payments: 60, arrival: { kind: 'poisson', ratePerSecond: 1 }, l1: { blockGasLimit: 63_000 } })
  const r = await runDesign(new L1Design(), generateWorkload(s), { keys })
  assert.equal(r.succeeded, 60)
  assert.ok(r.latencyMs.final.max > 2 * 12_000, `max ${r.latencyMs.final.max}`)
  assert.ok(r.conservation.ok)
})

test('L1 baseline: a payer who cannot afford the transfer fails with a reason, and conservation still holds', async () => {
  const s = parseScenario({
    name: 'poor',
    users: 3,
    payments: 30,
    capital: { userBalance: '0.0001 eth' },
    amounts: { kind: 'fixed', value: '0.00003 eth' },
  })
  const r = await runDesign(new L1Design(), generateWorkload(s), { keys })
  assert.ok(r.succeeded < 30)
  assert.ok((r.failureReasons.INSUFFICIENT_FUNDS ?? 0) > 0, JSON.stringify(r.failureReasons))
  assert.equal(r.conservation.ok, true, JSON.stringify(r.conservation))
})

test('the same seed gives the same gas, bytes and outcomes', async () => {
  const s = parseScenario({ name: 'det', seed: 42, users: 6, payments: 80, pairs: { count: 4, distribution: { kind: 'zipf', s: 1 } } })
  const a = await runDesign(new L1Design(), generateWorkload(s), { keys })
  const b = await runDesign(new L1Design(), generateWorkload(s), { keys })
  assert.deepEqual(a.l1, b.l1)
  assert.equal(a.succeeded, b.succeeded)
  assert.deepEqual(a.failureReasons, b.failureReasons)
})
