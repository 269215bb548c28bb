import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Rng } from '@l2bench/core'
import fc from 'fast-check'
import { cumulativeSampler, generateWorkload, parseScenario, scaleFreeGraph } from '../src/index.ts'

const scenario = (extra: Record<string, unknown> = {}) => parseScenario({ name: 't', users: 20, payments: 500, ...extra })

test('the same seed gives the same payments; another seed does not', () => {
  const a = generateWorkload(scenario({ seed: 7, pairs: { count: 15, distribution: { kind: 'zipf', s: 1.2 } } }))
  const b = generateWorkload(scenario({ seed: 7, pairs: { count: 15, distribution: { kind: 'zipf', s: 1.2 } } }))
  const c = generateWorkload(scenario({ seed: 8, pairs: { count: 15, distribution: { kind: 'zipf', s: 1.2 } } }))
  assert.deepEqual(a.payments, b.payments)
  assert.deepEqual(a.pairs, b.pairs)
  assert.notDeepEqual(a.payments, c.payments)
})

test('payments stay within their pairs, amounts are positive, arrivals increase', () => {
  const w = generateWorkload(scenario({ pairs: { count: 10 } }))
  assert.equal(w.pairs.length, 10)
  let last = 0
  for (const p of w.payments) {
    const [lo, hi] = w.pairs[p.pair]!
    assert.ok((p.from === lo && p.to === hi) || (p.from === hi && p.to === lo))
    assert.ok(p.amount > 0n)
    assert.ok(p.atMs >= last)
    last = p.atMs
  }
  // Poisson at 10/s: mean gap near 100 ms (seeded, so this is deterministic).
  const meanGap = w.durationMs / w.payments.length
  assert.ok(meanGap > 80 && meanGap < 120, `mean gap ${meanGap}`)
})

test('zipf concentrates traffic on the first-ranked pairs; uniform does not', () => {
  const count = (w: ReturnType<typeof generateWorkload>) => {
    const n = new Array(w.pairs.length).fill(0)
    for (const p of w.payments) n[p.pair]++
    return n as number[]
  }
  const z = count(generateWorkload(scenario({ payments: 4000, pairs: { count: 50, distribution: { kind: 'zipf', s: 1.2 } } })))
  const u = count(generateWorkload(scenario({ payments: 4000, pairs: { count: 50 } })))
  assert.ok(z[0]! > 4 * z[49]!, `zipf head ${z[0]} tail ${z[49]}`)
  assert.ok(Math.max(...u) < 3 * Math.min(...u), `uniform spread ${Math.min(...u)}..${Math.max(...u)}`)
})

test('forward direction: the lower-numbered user always pays', () => {
  const w = generateWorkload(scenario({ pairs: { count: 5, direction: 'forward' } }))
  for (const p of w.payments) assert.ok(p.from < p.to)
})

test('per-pair needs are exactly enough: a channel funded with them never goes negative', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 2, max: 8 }), fc.integer({ min: 1, max: 200 }), (seed, users, payments) => {
      const w = generateWorkload(parseScenario({ name: 'p', seed, users, payments }))
      const bal = w.pairNeeds.map((n) => ({ a: n.a, b: n.b }))
      let tight = 0
      for (const p of w.payments) {
        const side = bal[p.pair]!
        const lowPays = p.from < p.to
        if (lowPays) {
          side.a -= p.amount
          side.b += p.amount
        } else {
          side.b -= p.amount
          side.a += p.amount
        }
        assert.ok(side.a >= 0n && side.b >= 0n)
        if (side.a === 0n || side.b === 0n) tight++
      }
      // "exactly": each side with a positive need hits zero at its peak.
      const positive = w.pairNeeds.filter((n) => n.a > 0n).length + w.pairNeeds.filter((n) => n.b > 0n).length
      assert.ok(positive === 0 || tight > 0)
    }),
    { numRuns: 60 },
  )
})

test('faults are attached to distinct payments in the requested numbers', () => {
  const w = generateWorkload(scenario({ faults: { staleState: 3, offlineHop: 2, withheldPreimage: 1 } }))
  const kinds = w.payments.filter((p) => p.fault !== undefined).map((p) => p.fault)
  assert.equal(kinds.filter((k) => k === 'stale-state').length, 3)
  assert.equal(kinds.filter((k) => k === 'offline-hop').length, 2)
  assert.equal(kinds.filter((k) => k === 'withheld-preimage').length, 1)
})

test('scale-free graph: connected, m edges per new node, no self-loops or duplicates', () => {
  const edges = scaleFreeGraph(300, 2, new Rng(3))
  assert.equal(edges.length, 3 + (300 - 3) * 2)
  const seen = new Set<string>()
  const adj = new Map<number, number[]>()
  for (const [a, b] of edges) {
    assert.notEqual(a, b)
    const k = `${Math.min(a, b)}-${Math.max(a, b)}`
    assert.ok(!seen.has(k))
    seen.add(k)
    adj.set(a, [...(adj.get(a) ?? []), b])
    adj.set(b, [...(adj.get(b) ?? []), a])
  }
  const reached = new Set([0])
  const queue = [0]
  while (queue.length > 0) for (const n of adj.get(queue.pop()!) ?? []) if (!reached.has(n)) reached.add(n) && queue.push(n)
  assert.equal(reached.size, 300)
  const degrees = [...adj.values()].map((x) => x.length).sort((a, b) => b - a)
  assert.ok(degrees[0]! > 5 * degrees[degrees.length - 1]!, 'heavy-tailed degrees')
})

test('cumulative sampler picks in proportion to weight', () => {
  const pick = cumulativeSampler([1, 0, 3])
  assert.equal(pick(0), 0)
  assert.equal(pick(0.24), 0)
  assert.equal(pick(0.26), 2)
  assert.equal(pick(0.999), 2)
})
