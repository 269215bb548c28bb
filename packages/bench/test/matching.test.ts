import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { maximumMatching } from '../src/matching.ts'

/** Largest matching by trying every subset of edges (small graphs only). */
function bruteForce(edges: [number, number][]): number {
  let best = 0
  const m = edges.length
  for (let mask = 0; mask < 1 << m; mask++) {
    const used = new Set<number>()
    let ok = true
    let size = 0
    for (let i = 0; i < m && ok; i++) {
      if ((mask & (1 << i)) === 0) continue
      const [a, b] = edges[i]!
      if (a === b || used.has(a) || used.has(b)) ok = false
      else {
        used.add(a)
        used.add(b)
        size++
      }
    }
    if (ok && size > best) best = size
  }
  return best
}

test('matching: a hub (star) lets one pair update at a time, a path of four vertices two, a triangle one', () => {
  assert.equal(maximumMatching([[0, 1], [0, 2], [0, 3], [0, 4]]).size, 1)
  assert.equal(maximumMatching([[0, 1], [1, 2], [2, 3]]).size, 2)
  assert.equal(maximumMatching([[0, 1], [1, 2], [2, 0]]).size, 1)
  assert.equal(maximumMatching([]).size, 0)
  // Duplicates and both directions of one pair count once; self-loops are ignored.
  const m = maximumMatching([[3, 4], [4, 3], [3, 4], [5, 5]])
  assert.deepEqual({ size: m.size, edges: m.edges, vertices: m.vertices }, { size: 1, edges: 1, vertices: 2 })
})

test('matching: a blossom (odd cycle with a stem) is contracted, where a greedy start gets stuck', () => {
  // 5-cycle 1-2-3-4-5 with stems 0-1 and 3-6: the maximum is 3 (0-1, 2-3 … or 1-2, 3-6, 4-5 + 0 free …).
  const edges: [number, number][] = [
    [1, 2],
    [2, 3],
    [3, 4],
    [4, 5],
    [5, 1],
    [0, 1],
    [3, 6],
  ]
  assert.equal(maximumMatching(edges).size, bruteForce(edges))
  assert.equal(maximumMatching(edges).size, 3)
})

test('matching equals brute force on random small graphs; the greedy fallback is a lower bound ≥ half', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 7 })), { maxLength: 12 }), (edges) => {
      const exact = maximumMatching(edges)
      assert.equal(exact.exact, true)
      assert.equal(exact.size, bruteForce(edges))
      const greedy = maximumMatching(edges, 0)
      assert.equal(greedy.exact, greedy.vertices === 0)
      assert.ok(greedy.size <= exact.size && 2 * greedy.size >= exact.size, `greedy ${greedy.size} vs ${exact.size}`)
    }),
    { numRuns: 300 },
  )
})
