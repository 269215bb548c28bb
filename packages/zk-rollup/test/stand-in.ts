/**
 * A rollup chain for tests of the node's and the contract's logic without
 * proving: a stand-in prover returns the batch's public signals with a dummy
 * proof, and the contract's verifier accepts or refuses on demand. Everything
 * else — the contract's checks (public inputs recomputed from the stored root
 * and the calldata, the deposit queue, exodus), the sequencer, the L1 — is the
 * real thing. Real proofs: rollup.test.ts, isolation.test.ts.
 */
import { NodeSigner, secretKeyFromSeed } from '@l2bench/core'
import { MockL1, Wallet } from '@l2bench/l1-mock'
import {
  type CircuitInput,
  type CircuitParams,
  type Groth16Verifier,
  type ProofResult,
  type Prover,
  type RollupConfig,
  RollupContract,
  TxArchive,
  type VerificationKey,
  publicInputCount,
} from '../src/index.ts'

export const GWEI = 10n ** 9n

export const dummyProof = { pi_a: ['1', '2', '1'], pi_b: [['1', '2'], ['3', '4'], ['1', '0']], pi_c: ['1', '2', '1'], protocol: 'groth16', curve: 'bn128' }

export type StandInProver = Prover & { proofs: number; prove(input: CircuitInput): Promise<ProofResult> }

export function standInProver(): StandInProver {
  return {
    proofs: 0,
    async prove(input) {
      this.proofs++
      return { proof: dummyProof, publicSignals: (input.pub as bigint[]).map(String), witnessMs: 0, proveMs: 0 }
    },
    async close() {},
  }
}

export function standInChain(params: CircuitParams, config: Partial<Omit<RollupConfig, 'params' | 'vkey' | 'verifier'>> = {}) {
  const mock = new MockL1()
  const archive = new TxArchive(mock)
  const vkey = { nPublic: publicInputCount(params), protocol: 'groth16', curve: 'bn128' } as unknown as VerificationKey
  const verifier: Groth16Verifier & { accept: boolean; calls: number } = {
    accept: true,
    calls: 0,
    verify() {
      this.calls++
      return this.accept
    },
  }
  const contract = mock.deploy(new RollupContract({ params, vkey, verifier, ...config }))
  /** A funded wallet that sends through the archive (so batch calldata stays available). */
  const wallet = (seed: string) => {
    const w = new Wallet(new NodeSigner(secretKeyFromSeed(seed)), archive.l1)
    mock.mint(w.address, 10n ** 24n)
    return w
  }
  const read = <T>(method: string, ...args: unknown[]) => mock.readSync<T>(contract.address, method, args)
  return { mock, archive, contract, verifier, wallet, read }
}

/** An address that only receives (it pays no gas, so its balance is exactly what it was paid). */
export function addressOf(seed: string) {
  return new NodeSigner(secretKeyFromSeed(seed)).address
}
