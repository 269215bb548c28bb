/**
 * The rollup's Groth16 verifier on the EVM: the Solidity snarkjs exports for
 * the circuit the rollup actually builds (the SHA-binding test circuit, from
 * the pipeline's cache), checked against a real proof of a real batch.
 * - our source is snarkjs's own `zkey export solidityverifier` output;
 * - it accepts the proof and rejects an altered input, an input ≥ the field
 *   modulus (x + r, ATTACKS 23) and a tampered proof;
 * - its execution gas is within ±5 % of the mock's groth16VerifyGas(n).
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { groth16VerifyGas } from '@l2bench/l1-mock'
import { FIELD_MODULUS, loadSnarkjs, terminateCurve } from '@l2bench/zk-rollup'
import { BINDINGS, EvmL1, GROTH16_CIRCUITS, type Groth16Case, groth16Rows, groth16Template, groth16VerifierSource, deployVerifier, provenBatches, rpcCall } from '../src/index.ts'

let evm: EvmL1
let sha: Groth16Case

before(async () => {
  const [cases] = await Promise.all([provenBatches(GROTH16_CIRCUITS.slice(0, 1)), EvmL1.start({ bindings: BINDINGS }).then((l1) => (evm = l1))])
  sha = cases[0] as Groth16Case
})

after(async () => {
  await evm?.stop()
  await terminateCurve()
})

test('the verifier source is exactly what snarkjs exports from the zkey', async () => {
  const snarkjs = (await loadSnarkjs()) as unknown as { zKey: { exportSolidityVerifier(zkey: string, templates: object): Promise<string> } }
  const exported = await snarkjs.zKey.exportSolidityVerifier(sha.zkey, { groth16: groth16Template() })
  assert.equal(groth16VerifierSource(sha.vkey), exported)
})

test('on anvil the exported verifier accepts the real proof and rejects altered inputs, x + r, and a tampered proof', async () => {
  const v = await deployVerifier(evm, sha.vkey)
  const call = async (signals: readonly (string | bigint)[], proof = sha.proof) =>
    BigInt((await rpcCall(evm.node, 'eth_call', [{ to: v.address, data: v.calldata(proof, signals) }, 'latest'])) as string)
  assert.equal(await call(sha.publicSignals), 1n)
  const x = BigInt(sha.publicSignals[0] as string)
  assert.equal(await call([x ^ 1n]), 0n, 'altered public input')
  assert.equal(await call([x + FIELD_MODULUS]), 0n, 'x + r aliases x in the pairing; the verifier must refuse it')
  const tampered = { ...sha.proof, pi_a: [sha.proof.pi_c[0] as string, sha.proof.pi_c[1] as string, '1'] }
  assert.equal(await call(sha.publicSignals, tampered), 0n, 'tampered proof')
})

test('verification gas: the mock’s groth16VerifyGas(n) is within ±5 % of the EVM’s', async () => {
  const [row] = await groth16Rows(evm, [sha])
  assert.ok(row)
  assert.equal(row.mockGas, groth16VerifyGas(sha.publicSignals.length))
  assert.ok(row.evmGas > 150_000, `${row.evmGas}: a BN254 pairing of 4 pairs costs at least 45,000 + 4 × 34,000`)
  assert.ok(Math.abs(row.error) <= 0.05, `error ${(row.error * 100).toFixed(1)} % (mock ${row.mockGas}, EVM ${row.evmGas})`)
})
