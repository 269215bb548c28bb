/**
 * A rollup contract on a fresh L1 mock with the real Groth16 verifier (in a
 * worker) for a built circuit, and funded wallets: what the benchmarks that
 * submit real proofs start from. Close `verifier` when done.
 */
import { NodeSigner, secretKeyFromSeed } from '@l2bench/core'
import { MockL1, Wallet } from '@l2bench/l1-mock'
import { type BuiltCircuit, type CircuitParams, RollupContract, SyncGroth16Verifier } from '../src/index.ts'

export async function realChain(params: CircuitParams, built: BuiltCircuit) {
  const mock = new MockL1()
  const verifier = new SyncGroth16Verifier()
  await verifier.ready()
  const contract = mock.deploy(new RollupContract({ params, vkey: built.setup.vkey, verifier }))
  const wallet = (seed: string) => {
    const w = new Wallet(new NodeSigner(secretKeyFromSeed(seed)), mock)
    mock.mint(w.address, 10n ** 24n)
    return w
  }
  return { mock, verifier, contract, wallet }
}
