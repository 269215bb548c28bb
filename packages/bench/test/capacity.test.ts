import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type CapacityContext, computeCapacity, l1Bound } from '../src/capacity.ts'
import type { BoundRatioJson, FigureJson } from '../src/results.ts'
import { readResults } from '../src/index.ts'

const fixture = new URL('./fixtures/results.json', import.meta.url).pathname
const ctx: CapacityContext = { blockGasLimit: 30_000_000, blockTimeSeconds: 12, provers: 1 }
const fig = (value: number, source: FigureJson['source'] = 'measured'): FigureJson => ({ value, unit: 'x', source, how: 'test' })

/** A design result with just what the formulas read. */
function result(name: string, gasPerPayment: number) {
  const r = readResults(fixture).designs[0]!
  return { ...structuredClone(r), name, l1: { ...r.l1, gasPerPayment } }
}

test('capacity, L1: 30,000,000 gas ÷ 21,000 gas ÷ 12 s = 119.0 payments/s (the seed says 30 for Ethereum)', () => {
  const c = computeCapacity({ model: 'l1' }, result('l1', 21_000), undefined, ctx)
  // 30e6 / 21e3 / 12 = 119.047…
  assert.equal(c.paymentsPerSecond, 119)
  assert.equal(c.binding, 'L1 blocks')
  assert.equal(c.source, 'computed')
  assert.match(c.bounds[0]!.formula, /30,000,000 gas per block ÷ 21,000 gas per payment ÷ 12 s/)
  assert.equal(c.inputs.g?.source, 'measured')
})

test('capacity, channels: the smaller of r_pair × M and the L1 load of opens and closes', () => {
  // Off-chain 500/s × 25 pairs = 12,500/s; L1: 30e6 / 15,963 / 12 = 156.61/s → the L1 binds.
  const a = computeCapacity({ model: 'channels', concurrentPairs: fig(25, 'parameter') }, result('channel', 15_963), { ...probe(), designPerSecond: 500 }, ctx)
  assert.equal(a.bounds.find((b) => b.name.startsWith('off-chain'))!.paymentsPerSecond, 12_500)
  assert.equal(a.paymentsPerSecond, 156.6)
  assert.match(a.binding, /^L1/)
  assert.equal(a.inputs.r_pair?.value, 500)
  // Many payments per channel (282 gas each): L1 allows 8,865/s, the pairs bind at 12,500.
  const b = computeCapacity({ model: 'channels', concurrentPairs: fig(25, 'parameter') }, result('channel', 282), { ...probe(), designPerSecond: 500 }, ctx)
  assert.equal(b.paymentsPerSecond, 8865) // 30e6 / 282 / 12 = 8,865.2
  const c = computeCapacity({ model: 'channels', concurrentPairs: fig(1, 'parameter') }, result('channel', 282), { ...probe(), designPerSecond: 500 }, ctx)
  assert.equal(c.paymentsPerSecond, 500)
  assert.equal(c.binding, 'off-chain (pairs)')
  // A per-pair rate given by the adapter wins over the probe's.
  const d = computeCapacity({ model: 'channels', concurrentPairs: fig(2, 'parameter'), perPairRate: fig(40) }, result('paych', 282), probe(), ctx)
  assert.equal(d.paymentsPerSecond, 80)
  assert.throws(() => computeCapacity({ model: 'channels', concurrentPairs: fig(2, 'parameter') }, result('channel', 282), undefined, ctx), /no per-pair update rate/)
})

test('capacity, HTLC hub: f_hub × H unless the channel opens fill the L1 first; a modelled input marks the figure modelled', () => {
  // 200/s × 1 hub = 200; L1: 30e6 / 7,063 / 12 = 353.96 → 200.
  const c = computeCapacity({ model: 'hub', forwardRate: fig(200, 'modelled'), hubs: fig(1, 'parameter') }, result('htlc', 7063), undefined, ctx)
  assert.equal(c.paymentsPerSecond, 200)
  assert.equal(c.binding, 'hub forwarding')
  assert.equal(c.source, 'modelled')
  assert.equal(c.bounds.find((b) => b.name.startsWith('L1'))!.paymentsPerSecond, 354)
  const measured = computeCapacity({ model: 'hub', forwardRate: fig(200), hubs: fig(3, 'parameter') }, result('htlc', 7063), undefined, ctx)
  assert.equal(measured.source, 'computed')
  assert.equal(measured.paymentsPerSecond, 354) // 600 off-chain, the L1 binds
})

test('capacity, rollup: min(prover constraints/s × P ÷ constraints per payment, block gas ÷ gas per transfer ÷ T)', () => {
  const inputs = { model: 'rollup' as const, proverConstraintsPerSecond: fig(3100), constraintsPerPayment: fig(26_000, 'computed'), gasPerTransfer: fig(5037, 'computed') }
  // Prover: 3,100 × 1 ÷ 26,000 = 0.11923; L1 data: 30e6 / 5,037 / 12 = 496.3.
  const one = computeCapacity(inputs, result('rollup', 34_356), undefined, ctx)
  assert.equal(one.paymentsPerSecond, 0.1192)
  assert.equal(one.binding, 'prover')
  assert.equal(one.bounds.find((b) => b.name.startsWith('L1'))!.paymentsPerSecond, 496.3)
  // 10,000 provers: 1,192/s, the L1 data bound binds.
  const many = computeCapacity(inputs, result('rollup', 34_356), undefined, { ...ctx, provers: 10_000 })
  assert.equal(many.paymentsPerSecond, 496.3)
  assert.match(many.binding, /^L1 data/)
  assert.equal(many.inputs.P?.value, 10_000)
  assert.equal(many.inputs.P?.source, 'parameter')
})

test('the L1 bound is left out when payments put no gas on the L1', () => {
  assert.equal(l1Bound(0, ctx), undefined)
})

test('the stored fixture run: every capacity recomputes from its own inputs and figures', () => {
  const r = readResults(fixture)
  let checked = 0
  for (const d of r.designs) {
    if (d.capacity === undefined) continue
    const inputs = d.capacity.inputs
    let again: number
    if (d.name === 'l1') again = 30_000_000 / inputs.g!.value / 12
    else if (d.name === 'htlc') again = Math.min(inputs.f_hub!.value * inputs.H!.value, 30_000_000 / inputs.g!.value / 12)
    else again = Math.min(inputs.r_pair!.value * inputs.M!.value, 30_000_000 / inputs.g!.value / 12)
    assert.equal(d.capacity.paymentsPerSecond, Number(again.toPrecision(4)), d.name)
    assert.equal(inputs.g!.value, d.l1.gasPerPayment)
    if (d.boundRatio !== undefined && inputs.r_pair !== undefined) assert.equal(inputs.r_pair.value, d.boundRatio.designPerSecond)
    checked++
  }
  assert.equal(checked, 4)
})

function probe(): BoundRatioJson {
  const stats = { faster: { pairs: 3, designFaster: 0, p: 1 }, median: 0.5, q1: 0.45, q3: 0.55, min: 0.4, max: 0.6, spread: 0.4, ratios: [0.4, 0.5, 0.6] }
  return { bound: 'test', rounds: 3, designPerSecond: 100, boundPerSecond: 200, cpu: stats, wall: stats }
}
