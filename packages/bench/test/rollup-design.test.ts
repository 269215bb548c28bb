import assert from 'node:assert/strict'
import { test } from 'node:test'
import { RollupDesign } from '../src/designs/rollup.ts'
import { KeyRing, generateWorkload, parseScenario, runDesign } from '../src/index.ts'

// The smallest batch circuit (one op slot, one deposit slot, depth 4, packed
// binding): the zk-rollup package builds and caches it for its own tests.
const circuit = { n: 1, d: 1, depth: 4, mode: 'packed' }
const keys = new KeyRing()

test('rollup, every batch proven and verified on L1, withdrawals included: funds conserved', async () => {
  const s = parseScenario({
    name: 'rollup-all',
    seed: 11,
    users: 2,
    payments: 1,
    designOptions: { rollup: { ...circuit, proveAll: true } },
  })
  const lines: string[] = []
  const r = await runDesign(new RollupDesign(), generateWorkload(s), { keys, progress: (l) => lines.push(l) })
  assert.equal(r.succeeded, 1, JSON.stringify(r.failureReasons))
  // Progress: the circuit pipeline's stages, each proof as it lands, the payments with a count.
  assert.ok(lines.some((l) => /^\[rollup\] circuit (compile|ptau|setup): /.test(l)), lines.join('\n'))
  assert.ok(lines.some((l) => /^\[rollup\] proved batch 3 in [\d.]+ s and verified it on L1$/.test(l)), lines.join('\n'))
  assert.ok(lines.some((l) => /^\[rollup\] payments 1\/1 \(100 %\) done in/.test(l)), lines.join('\n'))
  assert.equal(r.extrapolated, false)
  assert.equal(r.conservation.ok, true, JSON.stringify(r.conservation))
  // 2 deposit batches + 1 transfer batch + withdrawal batches, all verified on L1, and the claims paid out.
  assert.ok((r.l1.byOperation['zk-rollup.submitBatch']?.txs ?? 0) >= 3)
  assert.ok((r.l1.byOperation['zk-rollup.withdraw']?.txs ?? 0) >= 1)
  assert.ok(r.latencyMs.final.p50 > r.latencyMs.soft.p50, 'final waits for the proof and a block')
})

test('rollup beyond the proven batches: extrapolated, marked, and still conserving (L2 balances held)', async () => {
  const s = parseScenario({
    name: 'rollup-x',
    seed: 12,
    users: 3,
    payments: 12,
    designOptions: { rollup: { ...circuit, provedBatches: 1, batchSize: 4 } },
  })
  const r = await runDesign(new RollupDesign(), generateWorkload(s), { keys })
  assert.equal(r.succeeded, 12, JSON.stringify(r.failureReasons))
  assert.equal(r.extrapolated, true)
  assert.ok(r.extrapolations.some((e) => /batches of up to 4 items/.test(e.what)))
  assert.ok((r.l1.byOperation['zk-rollup.submitBatch †']?.txs ?? 0) >= 3)
  assert.equal(r.conservation.ok, true, JSON.stringify(r.conservation))
  assert.equal(r.latencyMs.final.count, 12)
})
