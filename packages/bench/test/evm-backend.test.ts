/**
 * `--l1 evm`: every design with a Solidity port runs unchanged on anvil (one
 * node per design run, started and stopped by the harness), conserves funds
 * there, and its measured gas per payment agrees with the mock's model of the
 * same workload within ±5 %, with the same calldata bytes; the fault scripts
 * run there too (disputes, challenges, on-chain HTLC refunds and virtual
 * refutations as real anvil transactions) and stay safe; results.json says
 * which chain produced the figures.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseScenario, runScenario } from '../src/index.ts'

test('l1, channel, paych, htlc and virtual on anvil, faults included: funds conserved, faults safe, gas per payment within ±5 % of the mock on the same workload, same bytes', async () => {
  const s = parseScenario({
    name: 'evm',
    seed: 11,
    users: 4,
    payments: 24,
    designs: ['l1', 'channel', 'paych', 'htlc', 'virtual'],
    faults: { staleState: 1, offlineHop: 1, withheldPreimage: 1 },
    designOptions: { channel: { store: 'memory' }, paych: { store: 'memory' }, htlc: { store: 'memory' }, virtual: { store: 'memory' } },
  })
  const common = { sweeps: false, calibrationMs: 20, probe: false as const }
  const [mock, evm] = [await runScenario(s, { ...common, l1: 'mock' }), await runScenario(s, { ...common, l1: 'evm' })]
  assert.equal(mock.l1Backend?.name, 'mock')
  assert.equal(evm.l1Backend?.name, 'evm')
  assert.match(evm.l1Backend?.description ?? '', /anvil .*solc/)
  for (const name of ['l1', 'channel', 'paych', 'htlc', 'virtual']) {
    const m = mock.designs.find((d) => d.name === name)
    const e = evm.designs.find((d) => d.name === name)
    assert.ok(m?.ran && e?.ran, `${name}: ${e?.error}`)
    assert.equal(e.conservation.ok, true, `${name} on anvil: ${JSON.stringify(e.conservation)}`)
    assert.equal(e.succeeded, m.succeeded, name)
    assert.deepEqual(
      (e.faults ?? []).map((f) => [f.kind, f.safe]),
      (m.faults ?? []).map((f) => [f.kind, f.safe]),
      `${name}: the same faults, as safe, on both chains`,
    )
    for (const f of e.faults ?? []) assert.equal(f.safe, true, `${name} on anvil: ${f.kind}: ${f.outcome}`)
    // On anvil the withholding payee's node and the hub may both finalize the hub's registration (the
    // mock mines each transaction as it is sent, so the second never tries): one finalize more, reverted.
    if (name !== 'htlc') {
      assert.equal(e.l1.txs, m.l1.txs, `${name}: the same transactions`)
      assert.equal(e.l1.bytes, m.l1.bytes, `${name}: the same ABI calldata bytes`)
    } else assert.ok(e.l1.txs - m.l1.txs >= 0 && e.l1.txs - m.l1.txs <= 1, `htlc: ${e.l1.txs} transactions on anvil, ${m.l1.txs} on the mock`)
    const error = (m.l1.gasPerPayment - e.l1.gasPerPayment) / e.l1.gasPerPayment
    assert.ok(Math.abs(error) <= 0.05, `${name}: mock ${m.l1.gasPerPayment} vs anvil ${e.l1.gasPerPayment} gas per payment (${(error * 100).toFixed(1)} %)`)
  }
  // The HTLC's on-chain refund and the virtual refutation ran as anvil transactions.
  const htlc = evm.designs.find((d) => d.name === 'htlc')
  assert.match(htlc?.faults?.find((f) => f.kind === 'withheld-preimage')?.outcome ?? '', /resolveLocked [\d,]+ gas/)
  const virtual = evm.designs.find((d) => d.name === 'virtual')
  assert.match(virtual?.faults?.find((f) => f.kind === 'stale-state')?.outcome ?? '', /refuted with v\d+ \(its newest: v\d+\)/)
})

test('rollup on anvil (the Solidity port, snarkjs’s verifier for the built circuit): every batch proven and verified, withdrawals paid, funds conserved, gas per payment within ±5 % of the mock', async () => {
  // The smallest batch circuit (one op slot, one deposit slot, depth 4, packed), cached by the zk-rollup tests.
  const s = parseScenario({
    name: 'evm-rollup',
    seed: 12,
    users: 3,
    payments: 3,
    designs: ['rollup'],
    designOptions: { rollup: { n: 1, d: 1, depth: 4, mode: 'packed', proveAll: true } },
  })
  const common = { sweeps: false, calibrationMs: 20, probe: false as const }
  const [mock, evm] = [await runScenario(s, { ...common, l1: 'mock' }), await runScenario(s, { ...common, l1: 'evm' })]
  const m = mock.designs.find((d) => d.name === 'rollup')
  const e = evm.designs.find((d) => d.name === 'rollup')
  assert.ok(m?.ran && e?.ran, `rollup: ${e?.error ?? m?.error}`)
  assert.equal(evm.l1Backend?.name, 'evm')
  assert.equal(e.conservation.ok, true, `rollup on anvil: ${JSON.stringify(e.conservation)}`)
  assert.equal(e.succeeded, m.succeeded)
  assert.equal(e.succeeded, e.payments, JSON.stringify(e.failureReasons))
  assert.equal(e.extrapolated, false, 'every batch proven on anvil')
  assert.equal(e.l1.byOperation['zk-rollup.submitBatch']?.txs, m.l1.byOperation['zk-rollup.submitBatch']?.txs, 'the same batches on both chains')
  assert.ok((e.l1.byOperation['zk-rollup.withdraw']?.txs ?? 0) > 0, 'withdrawals paid on anvil')
  assert.equal(e.l1.txs, m.l1.txs, 'the same transactions')
  assert.equal(e.l1.bytes, m.l1.bytes, 'the same ABI calldata bytes')
  const error = (m.l1.gasPerPayment - e.l1.gasPerPayment) / e.l1.gasPerPayment
  assert.ok(Math.abs(error) <= 0.05, `rollup: mock ${m.l1.gasPerPayment} vs anvil ${e.l1.gasPerPayment} gas per payment (${(error * 100).toFixed(1)} %)`)
})

test('rollup on anvil with † batches: each executed on anvil with the verifier stubbed, so the payment phase pays what the prove-all run pays (only the proof bytes differ); the measurement adds no transaction (the same ones and bytes as the mock’s same run, funds conserved)', async () => {
  const circuit = { n: 1, d: 1, depth: 4, mode: 'packed' }
  const scenario = (name: string, rollup: object) =>
    parseScenario({ name, seed: 14, users: 3, payments: 6, designs: ['rollup'], designOptions: { rollup: { ...circuit, ...rollup } } })
  const common = { sweeps: false, calibrationMs: 20, probe: false as const }
  const rollupOf = async (name: string, rollup: object, l1: 'evm' | 'mock') => {
    const r = (await runScenario(scenario(name, rollup), { ...common, l1 })).designs.find((d) => d.name === 'rollup')
    assert.ok(r?.ran, `rollup ${name} on ${l1}: ${r?.error}`)
    assert.equal(r.succeeded, 6, JSON.stringify(r.failureReasons))
    assert.equal(r.conservation.ok, true, `${name} on ${l1}: ${JSON.stringify(r.conservation)}`)
    return r
  }
  const some = await rollupOf('evm-rollup-dagger', { provedBatches: 2 }, 'evm')
  const all = await rollupOf('evm-rollup-all', { proveAll: true }, 'evm')
  const mock = await rollupOf('evm-rollup-dagger', { provedBatches: 2 }, 'mock')
  // The same scenario again on anvil: nothing proven (the first run's measurements reused), every batch executed.
  const again = await rollupOf('evm-rollup-dagger', { provedBatches: 2 }, 'evm')

  const built = some.l1.byOperation['zk-rollup.submitBatch †']?.txs ?? 0
  assert.equal(some.l1.byOperation['zk-rollup.submitBatch']?.txs, 2)
  assert.ok(built >= 4, String(built))
  const how = some.extrapolations.find((e) => /batches \(built for real/.test(e.what))?.fit ?? ''
  assert.match(how, /executed on anvil with the verifier stubbed; verifier gas from the proven batches' traces/)
  // Groth16 verification gas is fixed per circuit: the two proven batches' verifier frames agree.
  assert.match(how, /the real verifier's frame \([\d,]+ gas: the same in each of the 2 proven batches/)
  assert.match(how, /the stub's frame \(18 gas\)/)

  // Against the run that proved every batch: the same batches; the † ones differ only by the proof's bytes
  // (a † proof counts 256 non-zero bytes, a real one has a few zero bytes: ≤ 8 × 12 gas per batch).
  const payments = (r: typeof some) => r.l1.byPhase.payments?.gas ?? 0
  assert.equal(some.l1.byPhase.payments?.txs, all.l1.byPhase.payments?.txs)
  assert.equal(some.l1.byPhase.setup?.gas, all.l1.byPhase.setup?.gas)
  const diff = Math.abs(payments(some) - payments(all))
  assert.ok(diff <= 96 * built, `† ${payments(some)} vs proven ${payments(all)}: ${diff} gas apart over ${built} batches`)
  const perPayment = (r: typeof some) => ((r.l1.byPhase.setup?.gas ?? 0) + payments(r)) / r.payments
  const error = (perPayment(some) - perPayment(all)) / perPayment(all)
  assert.ok(Math.abs(error) <= 0.01, `setup + payments gas per payment: † ${perPayment(some)} vs proven ${perPayment(all)} (${(error * 100).toFixed(2)} %)`)
  // Nothing proven in the second run: every batch, the chain's first included, executed; still the same gas.
  assert.equal(again.prover?.provenBatches, 0)
  assert.equal(again.l1.byOperation['zk-rollup.submitBatch'], undefined)
  const againBuilt = again.l1.byOperation['zk-rollup.submitBatch †']?.txs ?? 0
  assert.ok(Math.abs(payments(again) - payments(all)) <= 96 * againBuilt, `reused: † ${payments(again)} vs proven ${payments(all)}`)

  // The trial was reverted: the run's transactions and bytes are the mock's same run's, operation by operation.
  assert.equal(some.l1.txs, mock.l1.txs)
  assert.equal(some.l1.bytes, mock.l1.bytes)
  assert.deepEqual(
    Object.entries(some.l1.byOperation).map(([op, x]) => [op, x.txs, x.bytes]),
    Object.entries(mock.l1.byOperation).map(([op, x]) => [op, x.txs, x.bytes]),
  )
  // And its gas per payment now agrees with the mock's model as the other designs do (it was +7.9 % in the quick run).
  const vsMock = (mock.l1.gasPerPayment - some.l1.gasPerPayment) / some.l1.gasPerPayment
  assert.ok(Math.abs(vsMock) <= 0.05, `mock ${mock.l1.gasPerPayment} vs anvil ${some.l1.gasPerPayment} (${(vsMock * 100).toFixed(1)} %)`)
})
