/**
 * `--l1 evm`: the designs with Solidity ports run unchanged on anvil (one node
 * per design run, started and stopped by the harness), conserve funds there,
 * and their measured gas per payment agrees with the mock's model of the same
 * workload within ±5 %, with the same calldata bytes; results.json says which
 * chain produced the figures; a design without a port does not run and says why.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseScenario, runScenario } from '../src/index.ts'


test('l1, channel and paych on anvil: funds conserved, gas within ±5 % of the mock on the same workload, same bytes; htlc refused by name', async () => {
  const s = parseScenario({
    name: 'evm',
    seed: 11,
    users: 4,
    payments: 24,
    designs: ['l1', 'channel', 'paych', 'htlc'],
    designOptions: { channel: { store: 'memory' }, paych: { store: 'memory' }, htlc: { store: 'memory' } },
  })
  const common = { sweeps: false, calibrationMs: 20, probe: false as const }
  const [mock, evm] = [await runScenario(s, { ...common, l1: 'mock' }), await runScenario(s, { ...common, l1: 'evm' })]
  assert.equal(mock.l1Backend?.name, 'mock')
  assert.equal(evm.l1Backend?.name, 'evm')
  assert.match(evm.l1Backend?.description ?? '', /anvil .*solc/)
  for (const name of ['l1', 'channel', 'paych']) {
    const m = mock.designs.find((d) => d.name === name)
    const e = evm.designs.find((d) => d.name === name)
    assert.ok(m?.ran && e?.ran, `${name}: ${e?.error}`)
    assert.equal(e.conservation.ok, true, `${name} on anvil: ${JSON.stringify(e.conservation)}`)
    assert.equal(e.succeeded, m.succeeded, name)
    assert.equal(e.l1.txs, m.l1.txs, `${name}: the same transactions`)
    assert.equal(e.l1.bytes, m.l1.bytes, `${name}: the same ABI calldata bytes`)
    const error = (m.l1.gasPerPayment - e.l1.gasPerPayment) / e.l1.gasPerPayment
    assert.ok(Math.abs(error) <= 0.05, `${name}: mock ${m.l1.gasPerPayment} vs anvil ${e.l1.gasPerPayment} gas per payment (${(error * 100).toFixed(1)} %)`)
  }
  const htlc = evm.designs.find((d) => d.name === 'htlc')
  assert.equal(htlc?.ran, false)
  assert.match(htlc?.error ?? '', /mock L1 only/)
})
