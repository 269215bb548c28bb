import assert from 'node:assert/strict'
import { test } from 'node:test'
import { RollupDesign } from '../src/designs/rollup.ts'
import type { CapacityInputs } from '../src/design.ts'
import { KeyRing, generateWorkload, parseScenario, runDesign } from '../src/index.ts'
import { fasterThanBound, probeDesign } from '../src/probe.ts'

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

test('rollup capacity inputs: prover constraints/s from the proven batch, L1 gas per transfer in a full batch; its probe stays under its EdDSA bound', async () => {
  const s = parseScenario({
    name: 'rollup-cap',
    seed: 13,
    users: 3,
    payments: 6,
    designOptions: { rollup: { ...circuit, provedBatches: 1, batchSize: 8 } },
  })
  let inputs: CapacityInputs | undefined
  await runDesign(new RollupDesign(), generateWorkload(s), { keys, capacityInputs: (i) => (inputs = i) })
  assert.ok(inputs !== undefined && inputs.model === 'rollup')
  assert.equal(inputs.proverConstraintsPerSecond.source, 'measured')
  assert.ok(inputs.proverConstraintsPerSecond.value > 0)
  // One op slot + one deposit slot: constraints per payment = the circuit's constraints ÷ 2.
  assert.match(inputs.constraintsPerPayment.how, /÷ 2 slots/)
  // Fixed gas of a proven submitBatch (≥ the 181,150 of a Groth16 verification) ÷ 8 + a few hundred gas of calldata.
  assert.ok(inputs.gasPerTransfer.value > 181_150 / 8 && inputs.gasPerTransfer.value < 100_000, String(inputs.gasPerTransfer.value))
  // A rollup payment is its bound (EdDSA sign and verify) plus admission and batching: it must not beat the
  // bound run beside it in significantly more than half the pairs.
  const p = await probeDesign(new RollupDesign(), s, { keys, rounds: 5, roundMs: 10 })
  assert.ok(p !== undefined)
  assert.match(p.bound, /EdDSA-Poseidon/)
  assert.equal(fasterThanBound(p), false, JSON.stringify(p))
  assert.ok(p.cpu.median > 0 && p.cpu.faster.pairs >= 5, JSON.stringify(p.cpu))
})
