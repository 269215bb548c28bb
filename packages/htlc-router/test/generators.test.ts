import assert from 'node:assert/strict'
import { test } from 'node:test'
import { InvalidInputError, toHex } from '@l2bench/core'
import { Pathfinder, barabasiAlbert, hubAndSpoke, lnLikeGraph } from '../src/index.ts'
import { reachable } from './helpers.ts'

test('hub and spoke: sizes, every spoke reaches every other through a hub', () => {
  const g = hubAndSpoke({ seed: 1, hubs: 3, spokes: 20, hubsPerSpoke: 2 })
  assert.equal(g.nodeCount, 23)
  assert.equal(g.channelCount, 3 + 20 * 2)
  for (let s = 3; s < 23; s++) {
    assert.equal(g.degree(s), 2)
    for (const e of g.outgoing(s)) assert.ok((g.edgeTo[e] as number) < 3, 'spokes only connect to hubs')
  }
  assert.equal(reachable(g, 5).size, 23)
  const pf = new Pathfinder(g)
  const r = pf.findRoute({ source: g.node('spoke0'), target: g.node('spoke19'), amountMsat: 10_000_000n })
  assert.ok(r.hops.length === 2 || r.hops.length === 3)
  assert.ok(r.hops.slice(0, -1).every((h) => h.to < 3))
  assert.throws(() => hubAndSpoke({ seed: 1, hubs: 2, spokes: 3, hubsPerSpoke: 3 }), InvalidInputError)
})

test('Barabási–Albert: m(m+1)/2 + (n − m − 1)·m channels, connected, heavy-tailed degrees', () => {
  const g = barabasiAlbert({ seed: 7, nodes: 500, m: 2 })
  assert.equal(g.nodeCount, 500)
  assert.equal(g.channelCount, 3 + 497 * 2)
  assert.equal(reachable(g, 0).size, 500)
  const degrees = Array.from({ length: 500 }, (_, v) => g.degree(v)).sort((a, b) => a - b)
  assert.equal(degrees[0], 2)
  assert.ok((degrees.at(-1) as number) >= 10 * (degrees[250] as number), `max ${degrees.at(-1)} vs median ${degrees[250]}`)
  // No parallel channels: each new node picks m distinct targets.
  const pairs = new Set<string>()
  for (let c = 0; c < g.channelCount; c++) pairs.add([g.chanA[c], g.chanB[c]].sort().join('-'))
  assert.equal(pairs.size, g.channelCount)
})

test('generators are deterministic per seed and differ across seeds', () => {
  const digest = (g: { digest(): Uint8Array }) => toHex(g.digest())
  assert.equal(digest(hubAndSpoke({ seed: 3, hubs: 2, spokes: 30 })), digest(hubAndSpoke({ seed: 3, hubs: 2, spokes: 30 })))
  assert.notEqual(digest(hubAndSpoke({ seed: 3, hubs: 2, spokes: 30 })), digest(hubAndSpoke({ seed: 4, hubs: 2, spokes: 30 })))
  assert.equal(digest(barabasiAlbert({ seed: 'x', nodes: 200, m: 3 })), digest(barabasiAlbert({ seed: 'x', nodes: 200, m: 3 })))
  assert.notEqual(digest(barabasiAlbert({ seed: 'x', nodes: 200, m: 3 })), digest(barabasiAlbert({ seed: 'y', nodes: 200, m: 3 })))
  const small = { nodes: 1500, channels: 5600 }
  assert.equal(digest(lnLikeGraph({ seed: 9, ...small })), digest(lnLikeGraph({ seed: 9, ...small })))
  assert.notEqual(digest(lnLikeGraph({ seed: 9, ...small })), digest(lnLikeGraph({ seed: 10, ...small })))
})

test('LN-like graph at full size: 16,000 nodes, 60,000 channels, connected, heavy tails, realistic policies', () => {
  const g = lnLikeGraph({ seed: 1 })
  assert.equal(g.nodeCount, 16_000)
  assert.equal(g.channelCount, 60_000)
  assert.equal(reachable(g, 0).size, 16_000)
  const degrees = Array.from({ length: g.nodeCount }, (_, v) => g.degree(v)).sort((a, b) => a - b)
  const median = degrees[8000] as number
  assert.ok((degrees.at(-1) as number) > 100 * median, `hub degree ${degrees.at(-1)} vs median ${median}`)
  assert.ok(degrees.filter((d) => d <= 2).length > 0.2 * g.nodeCount, 'many small nodes')
  // Heavy-tailed capacities: the mean well above the median, 20k sat .. 10 BTC.
  const caps = Array.from(g.capacity).sort((a, b) => a - b)
  const mean = caps.reduce((s, c) => s + c, 0) / caps.length
  assert.ok(mean > 2 * (caps[caps.length >> 1] as number))
  assert.ok((caps[0] as number) >= 20_000_000 && (caps.at(-1) as number) <= 1_000_000_000_000)
  // Policies: several CLTV deltas, the common 1000 msat base fee, some disabled directions.
  assert.ok(new Set(g.cltvDelta).size >= 5)
  const base1000 = g.baseFee.filter((b) => b === 1000).length / g.edgeCount
  assert.ok(base1000 > 0.3 && base1000 < 0.7, `base 1000 share ${base1000}`)
  const disabled = g.disabled.reduce((s, d) => s + d, 0) / g.edgeCount
  assert.ok(disabled > 0.01 && disabled < 0.06, `disabled ${disabled}`)
  const r = new Pathfinder(g).findRoute({ source: 1, target: 15_999, amountMsat: 10_000_000n, cost: 'probability' })
  assert.ok(r.hops.length >= 1)
})
