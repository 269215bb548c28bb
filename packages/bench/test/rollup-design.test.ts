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
  // The two deposits ride along with the payment (one deposit slot per batch): batches 1 and 2, each reported as it lands.
  assert.ok(lines.some((l) => /^\[rollup\] proved batch 2 in [\d.]+ s and verified it on L1$/.test(l)), lines.join('\n'))
  assert.ok(lines.some((l) => /^\[rollup\] payments 1\/1 \(100 %\) done in/.test(l)), lines.join('\n'))
  assert.equal(r.extrapolated, false)
  assert.equal(r.conservation.ok, true, JSON.stringify(r.conservation))
  // 2 batches (the deposits, the transfer) + withdrawal batches, all verified on L1, and the claims paid out.
  assert.ok((r.l1.byOperation['zk-rollup.submitBatch']?.txs ?? 0) >= 3)
  assert.equal(r.prover?.provenBatches, r.prover?.batches)
  assert.equal(r.prover?.cpuSecondsPerPayment?.source, 'measured')
  assert.ok((r.l1.byOperation['zk-rollup.withdraw']?.txs ?? 0) >= 1)
  assert.ok(r.latencyMs.final.p50 > r.latencyMs.soft.p50, 'final waits for the proof and a block')
})

test('rollup beyond the proven batches: every payment through the rollup, the first batches proven, the rest built and marked †; final latency in parts', async () => {
  const s = parseScenario({
    name: 'rollup-x',
    seed: 12,
    users: 3,
    payments: 12,
    designOptions: { rollup: { ...circuit, provedBatches: 2 } },
  })
  const r = await runDesign(new RollupDesign(), generateWorkload(s), { keys })
  assert.equal(r.succeeded, 12, JSON.stringify(r.failureReasons))
  assert.equal(r.extrapolated, true)
  // Two batches proven and verified on L1, every other one built (3 deposits and 12 transfers, one op slot each).
  assert.equal(r.l1.byOperation['zk-rollup.submitBatch']?.txs, 2)
  assert.ok((r.l1.byOperation['zk-rollup.submitBatch †']?.txs ?? 0) >= 10)
  assert.ok(r.extrapolations.some((e) => /batches \(built for real/.test(e.what) && /proven and verified on L1 in this run/.test(e.measuredAt)))
  assert.equal(r.conservation.ok, true, JSON.stringify(r.conservation))
  assert.equal(r.latencyMs.final.count, 12)
  assert.equal(r.latencyMs.notFinal, 0)
  // The parts of the final latency, each over every payment, add up to it.
  const parts = r.latencyMs.finalParts
  assert.ok(parts !== undefined)
  assert.deepEqual(Object.keys(parts).sort(), ['batchClose', 'l1Inclusion', 'proverQueue', 'proving', 'signAdmit'])
  for (const p of Object.values(parts)) assert.equal(p.count, 12)
  const sumOfMeans = Object.values(parts).reduce((a, p) => a + p.mean, 0)
  assert.ok(Math.abs(sumOfMeans - r.latencyMs.final.mean) < 1e-6 * r.latencyMs.final.mean + 1e-3, `${sumOfMeans} vs ${r.latencyMs.final.mean}`)
  assert.ok(parts.proving!.p50 > 0 && parts.l1Inclusion!.p50 <= s.l1.blockTime * 1000)
  // Prover work per payment: every batch proves the whole circuit.
  const p = r.prover
  assert.ok(p !== undefined)
  assert.equal(p.provenBatches, 2)
  assert.equal(p.constraintsPerPayment.value, Math.round((p.constraintsPerBatch * p.batches) / 12))
  assert.ok((p.cpuSecondsPerProof ?? 0) > 0 && (p.cpuSecondsPerPayment?.value ?? 0) > 0, JSON.stringify(p))
  assert.equal(p.cpuSecondsPerPayment?.source, 'computed')
})

test('rollup: a batch built but not proven (†) is charged the gas it would have paid — the same run with every batch proven pays the same in the payment phase', async () => {
  const scenario = (rollup: object) =>
    parseScenario({ name: 'rollup-gas', seed: 14, users: 3, payments: 6, designOptions: { rollup: { ...circuit, ...rollup } } })
  const some = await runDesign(new RollupDesign(), generateWorkload(scenario({ provedBatches: 2 })), { keys })
  const all = await runDesign(new RollupDesign(), generateWorkload(scenario({ proveAll: true })), { keys })
  assert.equal(some.succeeded, 6)
  assert.equal(all.succeeded, 6)
  const built = some.l1.byOperation['zk-rollup.submitBatch †']?.txs ?? 0
  // The first proven batch writes the contract's slots for the first time and carries a deposit, as the
  // second does; later batches carry one deposit or none: the † gas must follow each batch, not the mean.
  assert.ok(built >= 4, String(built))
  assert.equal(some.l1.byPhase.payments?.txs, all.l1.byPhase.payments?.txs)
  // Only the proof's bytes differ (a † batch's proof is counted as 256 non-zero bytes): ≤ 8 zero bytes × 12 gas per batch.
  const diff = Math.abs((some.l1.byPhase.payments?.gas ?? 0) - (all.l1.byPhase.payments?.gas ?? 0))
  assert.ok(diff <= 96 * built, `† ${some.l1.byPhase.payments?.gas} vs proven ${all.l1.byPhase.payments?.gas}: ${diff} gas apart over ${built} batches`)
})

test('rollup capacity inputs: prover constraints/s from the proven batch, L1 gas per transfer in a full batch; its probe stays under its EdDSA bound', async () => {
  const s = parseScenario({
    name: 'rollup-cap',
    seed: 13,
    users: 3,
    payments: 6,
    designOptions: { rollup: { ...circuit, provedBatches: 1 } },
  })
  let inputs: CapacityInputs | undefined
  await runDesign(new RollupDesign(), generateWorkload(s), { keys, capacityInputs: (i) => (inputs = i) })
  assert.ok(inputs !== undefined && inputs.model === 'rollup')
  assert.equal(inputs.proverConstraintsPerSecond.source, 'measured')
  assert.ok(inputs.proverConstraintsPerSecond.value > 0)
  // One op slot: constraints per payment in a full batch = the circuit's constraints ÷ 1.
  assert.match(inputs.constraintsPerPayment.how, /÷ 1 transfers in a full batch/)
  // Fixed gas of a proven submitBatch (≥ the 181,150 of a Groth16 verification) ÷ 1 + a few hundred gas of calldata.
  assert.ok(inputs.gasPerTransfer.value > 181_150 && inputs.gasPerTransfer.value < 400_000, String(inputs.gasPerTransfer.value))
  // A rollup payment is its bound (EdDSA sign and verify) plus admission and batching: it must not beat the
  // bound run beside it in significantly more than half the pairs.
  const p = await probeDesign(new RollupDesign(), s, { keys, rounds: 5, roundMs: 10 })
  assert.ok(p !== undefined)
  assert.match(p.bound, /EdDSA-Poseidon/)
  assert.equal(fasterThanBound(p), false, JSON.stringify(p))
  assert.ok(p.cpu.median > 0 && p.cpu.faster.pairs >= 5, JSON.stringify(p.cpu))
})
