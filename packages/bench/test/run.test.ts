import assert from 'node:assert/strict'
import { test } from 'node:test'
import { KeyRing, L1Design, findCrossovers, fitCrossover, fitLatency, generateWorkload, parseScenario, runDesign, runScenario } from '../src/index.ts'

test('limits: a design runs the first N payments and its figures are marked extrapolated', async () => {
  const s = parseScenario({ name: 'lim', users: 4, payments: 30, designs: ['l1'], limits: { l1: 10 } })
  const r = await runScenario(s, { sweeps: false, calibrationMs: 20, factories: { l1: async () => new L1Design() } })
  const d = r.designs[0]!
  assert.equal(d.payments, 10)
  assert.equal(d.extrapolated, true)
  assert.match(d.extrapolations[0]!.fit, /first 10 payments/)
  assert.equal(r.workload.payments, 30)
})

test('a design whose adapter fails to load is reported as not run, the others still run', async () => {
  const s = parseScenario({ name: 'broken', users: 3, payments: 5, designs: ['l1', 'rollup'] })
  const r = await runScenario(s, {
    sweeps: false,
    calibrationMs: 20,
    factories: {
      l1: async () => new L1Design(),
      rollup: async () => {
        throw new Error('module mid-edit')
      },
    },
  })
  assert.equal(r.designs[0]?.ran, true)
  assert.equal(r.designs[1]?.ran, false)
  assert.match(r.designs[1]?.error ?? '', /failed to load.*module mid-edit/)
  assert.ok(r.gate.every((m) => !m.name.includes('/rollup/')))
})

test('crossover: a design with a fixed cost and no per-payment gas beats 21,000 gas transfers past a/21,000', () => {
  const pts = (design: string, a: number, b: number) =>
    [1, 10, 100].map((n) => ({
      dimension: 'paymentsPerPair' as const,
      value: n,
      design,
      ran: true,
      payments: n,
      succeeded: n,
      harnessPaymentsPerSecond: 1,
      gas: a + b * n,
      gasPerPayment: (a + b * n) / n,
      bytesPerPayment: 0,
      txsPerPayment: 0,
      finalP50Ms: 0,
      lockedWeiSeconds: '0',
    }))
  const fits = fitCrossover([...pts('l1', 0, 21_000), ...pts('channel', 420_000, 0)])
  const c = findCrossovers(fits)
  assert.equal(c.length, 1)
  assert.equal(c[0]?.a, 'channel')
  assert.equal(c[0]?.paymentsPerPair, 20)
})

test('latency crossover: total latency = a + b · n over the payments-per-pair sweep; a design that waits once (an open) beats one that waits every payment above a / (b_other − b)', () => {
  // virtual: 400 ms once (its open) + 100 ms per payment; htlc: 200 ms per payment; noise-level slopes are no crossover.
  const pts = (design: string, once: number, each: number) =>
    [1, 10, 100].map((n) => ({
      dimension: 'paymentsPerPair' as const,
      value: n,
      design,
      ran: true,
      payments: n,
      succeeded: n,
      harnessPaymentsPerSecond: 1,
      gas: 0,
      gasPerPayment: 0,
      bytesPerPayment: 0,
      txsPerPayment: 0,
      finalP50Ms: each,
      finalMeanMs: (once + each * n) / n,
      lockedWeiSeconds: '0',
    }))
  const fits = fitLatency([...pts('virtual', 400, 100), ...pts('htlc', 0, 200), ...pts('channel', 0, 199.5)])
  assert.deepEqual(
    fits.map((f) => [f.design, f.intercept, f.slope]),
    [
      ['virtual', 400, 100],
      ['htlc', 0, 200],
      ['channel', 0, 199.5],
    ],
  )
  const c = findCrossovers(fits, 1)
  assert.deepEqual(
    c.map((x) => [x.a, x.b, x.paymentsPerPair]),
    [
      ['virtual', 'htlc', 4],
      ['virtual', 'channel', 4],
    ],
  )
})

test('timers run during the payment phase (in-process nodes pay in microtasks only): a link keep-alive or idle check is not starved until settle', async () => {
  // A design whose payments never leave the microtask queue, and a timer armed at setup.
  class MicrotaskOnly extends L1Design {
    fired = false
    readonly seen: boolean[] = []
    override async setup(world: Parameters<L1Design['setup']>[0]): Promise<void> {
      await super.setup(world)
      setTimeout(() => {
        this.fired = true
      }, 0)
    }
    override async pay(): Promise<{ ok: true; softLatencyMs: number; finalLatencyMs: number }> {
      this.seen.push(this.fired)
      await Promise.resolve()
      return { ok: true, softLatencyMs: 0, finalLatencyMs: 0 }
    }
  }
  const design = new MicrotaskOnly()
  const s = parseScenario({ name: 'turns', seed: 1, users: 2, payments: 100, arrival: { kind: 'poisson', ratePerSecond: 1_000_000 } })
  await runDesign(design, generateWorkload(s), { keys: new KeyRing() })
  assert.equal(design.seen.length, 100)
  assert.ok(design.seen.some((x) => x), 'the timer fired before the last payment')
})
