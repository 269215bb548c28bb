import assert from 'node:assert/strict'
import { test } from 'node:test'
import { composeBound, signVerify } from '../src/bounds.ts'
import type { Design, PaymentBound } from '../src/design.ts'
import { ChannelDesign, KeyRing, L1Design, PaychDesign, baselineFrom, compareGate, parseScenario, runScenario } from '../src/index.ts'
import { fasterThanBound, probeDesign, ratioStats, signTestP } from '../src/probe.ts'

const keys = new KeyRing()
const fast = { rounds: 5, roundMs: 40 }

/** Claims a payment costs a sign + verify, then does nothing at all. */
class Cheater implements Design {
  readonly name = 'l1' as const
  async setup(): Promise<void> {}
  async pay() {
    return { ok: true, softLatencyMs: 0, finalLatencyMs: 0 }
  }
  async flush(): Promise<void> {}
  async settle(): Promise<void> {}
  lockedCapital(): bigint {
    return 0n
  }
  capacityInputs() {
    return { model: 'l1' as const }
  }
  bound(): PaymentBound {
    return composeBound('noble sign + node:crypto verify', [{ run: signVerify('cheat'), times: 1 }])
  }
}

test('a design faster than its own bound is a bug: the run says so and the gate fails', async () => {
  const s = parseScenario({ name: 'cheat', users: 3, payments: 20, designs: ['l1'] })
  const r = await runScenario(s, { sweeps: false, calibrationMs: 20, probe: fast, factories: { l1: async () => new Cheater() } })
  const d = r.designs[0]!
  assert.ok(d.boundRatio !== undefined)
  assert.ok(d.boundRatio.cpu.median > 1, `cpu ratio ${d.boundRatio.cpu.median}`)
  assert.equal(fasterThanBound(d.boundRatio), true)
  assert.ok(d.notes.some((n) => n.startsWith('BUG: l1 ran faster than its own bound')))
  const gate = compareGate(baselineFrom(r), r)
  assert.equal(gate.ok, false)
  assert.match(gate.problems.join('\n'), /l1 ran faster than its own bound/)
})

test('honest designs stay under their bound in CPU time: L1, channels and vouchers with their durable default (SQLite FULL)', async () => {
  const s = parseScenario({ name: 'honest', users: 4, payments: 20 })
  for (const design of [new L1Design(), new ChannelDesign(), new PaychDesign()]) {
    const p = await probeDesign(design, s, { keys, rounds: 7, roundMs: 60 })
    assert.ok(p !== undefined, design.name)
    assert.ok(p.cpu.median < 1, `${design.name}: CPU ratio ${p.cpu.median} (${p.bound})`)
    assert.equal(fasterThanBound(p), false, `${design.name}: ${JSON.stringify(p)}`)
    assert.equal(p.rounds, 7)
    assert.ok(p.designPerSecond > 0 && p.boundPerSecond > 0)
    if (design.name !== 'l1') assert.match(p.bound, /SQLite FULL commits/)
  }
})

test('a design without a bound (no crypto on its payment path) is not probed', async () => {
  const d = new Cheater() as Design
  ;(d as { bound?: unknown }).bound = undefined
  assert.equal(await probeDesign(d, parseScenario({ name: 'x', users: 2, payments: 5 }), { keys, ...fast }), undefined)
})

test('ratio statistics: median, quartiles, range and relative spread; the sign test over the pairs', () => {
  const s = ratioStats([0.5, 0.7, 0.6, 0.9, 0.8], [[1, 2], [3, 2], [1, 1]])
  assert.deepEqual({ median: s.median, q1: s.q1, q3: s.q3, min: s.min, max: s.max, spread: s.spread }, { median: 0.7, q1: 0.6, q3: 0.8, min: 0.5, max: 0.9, spread: 0.5714 })
  assert.deepEqual(s.faster, { pairs: 3, designFaster: 1, p: 0.875 })
  // Sign test by hand: P(X ≥ 9 | n = 10) = (10 + 1) / 1024; P(X ≥ 0) = 1; 60 of 100 is p ≈ 0.028.
  assert.ok(Math.abs(signTestP(9, 10) - 11 / 1024) < 1e-12)
  assert.equal(signTestP(0, 10), 1)
  assert.ok(Math.abs(signTestP(60, 100) - 0.02844) < 1e-4)
  assert.ok(signTestP(1000, 1000) < 1e-300 || signTestP(1000, 1000) === 0)
})
