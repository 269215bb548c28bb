import assert from 'node:assert/strict'
import { test } from 'node:test'
import { InvalidInputError } from '@l2bench/core'
import { generateWorkload, hubAndSpoke } from '../src/index.ts'

const graph = hubAndSpoke({
  seed: 1,
  hubs: 1,
  spokes: 50,
  hubCapacity: { kind: 'fixed', sat: 1_000_000 },
  spokeCapacity: { kind: 'fixed', sat: 1_000_000 },
})

test('Poisson arrivals at the requested rate, log-normal amounts, sender ≠ receiver', () => {
  const w = generateWorkload(graph, { seed: 1, count: 4000, ratePerSecond: 20, amount: { kind: 'logNormal', medianSat: 10_000, sigma: 1 } })
  assert.equal(w.length, 4000)
  let prev = 0
  for (const p of w) {
    assert.ok(p.timeMs > prev)
    prev = p.timeMs
    assert.notEqual(p.sender, p.receiver)
    assert.ok(p.amountMsat >= 1000n && p.amountMsat % 1000n === 0n)
  }
  // Mean gap 1/20 s: 4000 arrivals in about 200 s (±5%).
  const span = (w.at(-1)?.timeMs as number) / 1000
  assert.ok(span > 190 && span < 210, `span ${span}`)
  // Median of a log-normal is its exp(mu): about 10k sat.
  const sats = w.map((p) => Number(p.amountMsat / 1000n)).sort((a, b) => a - b)
  const median = sats[2000] as number
  assert.ok(median > 9000 && median < 11000, `median ${median}`)
  assert.equal(new Set(w.map((p) => p.id)).size, 4000)
})

test('senders weighted by capacity: the hub (capacity 50×) sends about half the payments', () => {
  const w = generateWorkload(graph, { seed: 2, count: 4000, ratePerSecond: 1, amount: { kind: 'fixed', sat: 1000 }, receivers: 'uniform' })
  const hub = graph.node('hub0')
  const share = w.filter((p) => p.sender === hub).length / w.length
  // Hub capacity 50M of 100M total.
  assert.ok(share > 0.45 && share < 0.55, `hub share ${share}`)
  const uniform = generateWorkload(graph, { seed: 2, count: 4000, ratePerSecond: 1, amount: { kind: 'fixed', sat: 1000 }, senders: 'uniform' })
  const uShare = uniform.filter((p) => p.sender === hub).length / uniform.length
  assert.ok(uShare < 0.05, `uniform hub share ${uShare}`)
  const excl = generateWorkload(graph, { seed: 2, count: 500, ratePerSecond: 1, amount: { kind: 'fixed', sat: 1000 }, exclude: [hub] })
  assert.ok(excl.every((p) => p.sender !== hub && p.receiver !== hub))
})

test('workload input errors name the field', () => {
  const ok = { seed: 1, count: 10, ratePerSecond: 1, amount: { kind: 'fixed', sat: 1000 } } as const
  const field = (f: string) => (e: unknown) => e instanceof InvalidInputError && e.field === f
  assert.throws(() => generateWorkload(graph, { ...ok, count: -1 }), field('count'))
  assert.throws(() => generateWorkload(graph, { ...ok, ratePerSecond: 0 }), field('ratePerSecond'))
  assert.throws(() => generateWorkload(graph, { ...ok, amount: { kind: 'fixed', sat: 0 } }), field('amount.sat'))
  assert.throws(() => generateWorkload(graph, { ...ok, exclude: [999] }), (e: unknown) => (e as { field?: string }).field === 'exclude')
})
