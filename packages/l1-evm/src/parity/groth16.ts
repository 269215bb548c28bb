/**
 * Parity of the rollup's proof check: the mock charges groth16VerifyGas(n)
 * for a Groth16 verification with n public inputs; the EVM runs the verifier
 * snarkjs exports for the circuit actually built. Each case is a real proof of
 * a real batch (one deposit), proven by the rollup's own prover for that
 * circuit. The EVM figure is the verify call's execution gas: the receipt's
 * gas minus the 21,000 base and the calldata (EIP-2028 prices).
 */
import { NodeSigner, secretKeyFromSeed } from '@l2bench/core'
import { MockL1, Wallet, calldataGas, groth16VerifyGas } from '@l2bench/l1-mock'
import {
  type CircuitParams,
  type Groth16Proof,
  type Groth16Verifier,
  L2Key,
  RollupContract,
  RollupNode,
  type VerificationKey,
  WorkerProver,
  buildRollupCircuit,
  depositCall,
} from '@l2bench/zk-rollup'
import { type Hex, encodeFunctionData } from 'viem'
import type { EvmL1 } from '../evm.ts'
import { groth16VerifierSource, verifyProofArgs } from '../groth16.ts'
import type { ParityRow } from './index.ts'

export interface Groth16Case {
  params: CircuitParams
  vkey: VerificationKey
  zkey: string
  proof: Groth16Proof
  publicSignals: string[]
}

/** The circuits the rollup's tests build (cached by the pipeline), each with a real proof of a one-deposit batch. */
export const GROTH16_CIRCUITS: readonly CircuitParams[] = [
  { n: 1, d: 1, depth: 4, mode: 'sha' },
  { n: 2, d: 1, depth: 4, mode: 'packed' },
]

/** Builds (or loads from the pipeline's cache) each circuit and proves one batch on it. */
export async function provenBatches(circuits: readonly CircuitParams[] = GROTH16_CIRCUITS): Promise<Groth16Case[]> {
  const out: Groth16Case[] = []
  for (const params of circuits) {
    const circuit = await buildRollupCircuit(params)
    const l1 = new MockL1()
    const prover = new WorkerProver({ wasm: circuit.compiled.wasm, zkey: circuit.setup.zkey })
    try {
      // Only deposits and the sequencer run here: nothing is submitted, so nothing is verified.
      const verifier = { verify: () => Promise.reject(new Error('not used')) } as unknown as Groth16Verifier
      const contract = l1.deploy(new RollupContract({ params, vkey: circuit.setup.vkey, verifier }))
      const operator = new Wallet(new NodeSigner(secretKeyFromSeed('parity/rollup/operator')), l1)
      l1.mint(operator.address, 10n ** 21n)
      await operator.callOk(contract, depositCall(L2Key.fromSeed('parity/rollup/alice').publicKey), { value: 10n ** 12n })
      const node = new RollupNode({ l1, contract, wallet: operator, prover })
      node.syncL1()
      const closed = node.sequencer.closeBatch()
      if (closed === undefined) throw new Error('the sequencer closed no batch')
      const { proof, publicSignals } = await prover.prove(closed.batch.input)
      out.push({ params, vkey: circuit.setup.vkey, zkey: circuit.setup.zkey, proof, publicSignals })
    } finally {
      await prover.close()
    }
  }
  return out
}

export interface DeployedVerifier {
  address: `0x${string}`
  /** ABI calldata of verifyProof for a proof and its public signals. */
  calldata(proof: Groth16Proof, publicSignals: readonly (string | bigint)[]): Hex
}

export async function deployVerifier(evm: EvmL1, vkey: VerificationKey): Promise<DeployedVerifier> {
  const { address, abi } = await evm.deploySolidity({ 'Groth16Verifier.sol': groth16VerifierSource(vkey) }, 'Groth16Verifier')
  return {
    address,
    calldata: (proof, signals) => encodeFunctionData({ abi, functionName: 'verifyProof', args: verifyProofArgs(proof, signals) }),
  }
}

/** One row per circuit: groth16VerifyGas(n) against the exported verifier's execution gas on a real proof. */
export async function groth16Rows(evm: EvmL1, cases: readonly Groth16Case[]): Promise<ParityRow[]> {
  const caller = new Wallet(new NodeSigner(secretKeyFromSeed('parity/groth16/caller')), evm)
  await evm.mint(caller.address, 10n ** 21n)
  const rows: ParityRow[] = []
  for (const c of cases) {
    const verifier = await deployVerifier(evm, c.vkey)
    const data = Buffer.from(verifier.calldata(c.proof, c.publicSignals).slice(2), 'hex')
    const r = await evm.receipt(await caller.sendRaw(verifier.address, data, { gasLimit: 1_000_000n }))
    if (r.status !== 'success') throw new Error(`verifyProof reverted: ${r.revertReason}`)
    const n = c.publicSignals.length
    const evmGas = r.gasUsed - 21_000 - calldataGas(data)
    const mockGas = groth16VerifyGas(n)
    rows.push({
      design: 'ZK rollup',
      operation: `Groth16 verify, ${n} public input${n === 1 ? '' : 's'} (${c.params.mode}; execution gas)`,
      mockGas,
      evmGas,
      error: (mockGas - evmGas) / evmGas,
      mockCalldataBytes: 256 + 32 * n,
      evmCalldataBytes: data.length,
    })
  }
  return rows
}
