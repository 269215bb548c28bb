/**
 * Parity script of the zk-rollup's contract (RollupContract / Rollup.sol with
 * snarkjs's verifier for the circuit): deposits, a payee, batches proven for
 * real by the rollup's own node and worker prover (a deposit; a deposit and a
 * transfer; a withdrawal), and the withdrawal's payout. The proofs are made
 * per backend: the public inputs bind the contract's address.
 */
import { NodeSigner, secretKeyFromSeed } from '@l2bench/core'
import { Wallet } from '@l2bench/l1-mock'
import {
  type CircuitParams,
  L2Key,
  RollupContract,
  RollupNode,
  SyncGroth16Verifier,
  WorkerProver,
  buildRollupCircuit,
  depositCall,
  signOp,
} from '@l2bench/zk-rollup'
import type { ParityScenario } from './index.ts'

function shape(p: CircuitParams): string {
  return `${p.mode} n=${p.n} d=${p.d} depth ${p.depth}`
}

/** The rollup's operations on the circuit `params` (built, or loaded from the pipeline's cache). */
export function rollupParity(params: CircuitParams): ParityScenario {
  return {
    design: `ZK rollup (${shape(params)})`,
    contract: 'Rollup',
    async run(chain, record) {
      const circuit = await buildRollupCircuit(params)
      const verifier = new SyncGroth16Verifier()
      const prover = new WorkerProver({ wasm: circuit.compiled.wasm, zkey: circuit.setup.zkey })
      try {
        await verifier.ready()
        const contract = await chain.deploy(new RollupContract({ params, vkey: circuit.setup.vkey, verifier }))
        const wallet = async (name: string) => {
          const w = new Wallet(new NodeSigner(secretKeyFromSeed(`parity/rollup/${name}`)), chain.l1)
          await chain.mint(w.address, 10n ** 21n)
          return w
        }
        const [operator, alice, bob] = [await wallet('operator'), await wallet('alice'), await wallet('bob')]
        const A = L2Key.fromSeed('parity/rollup/alice')
        const B = L2Key.fromSeed('parity/rollup/bob')
        const gwei = 10n ** 9n
        record('deposit (new key)', await alice.callOk(contract, depositCall(A.publicKey), { value: 1000n * gwei }))
        record('deposit (known key)', await alice.callOk(contract, depositCall(A.publicKey), { value: 100n * gwei }))
        record('registerPayee', await bob.callOk(contract, { type: 'registerPayee', payee: bob.address }))
        const node = new RollupNode({ l1: chain.l1, contract, wallet: operator, prover })
        const one = await node.runBatch()
        if (one === undefined) throw new Error('no batch')
        record(`submitBatch (1 deposit)`, one.receipt)
        await bob.callOk(contract, depositCall(B.publicKey), { value: 500n * gwei })
        await node.flush() // the known-key deposit, then B's
        node.submit(signOp(A, node.domain, params.depth, { kind: 'transfer', from: 0, to: 1, amount: 300n * gwei, nonce: 0n }))
        const transfer = await node.runBatch()
        if (transfer === undefined) throw new Error('no batch')
        record('submitBatch (1 transfer)', transfer.receipt)
        node.submit(signOp(B, node.domain, params.depth, { kind: 'withdraw', from: 1, to: 0, amount: 200n * gwei, nonce: 0n }))
        const withdrawal = await node.runBatch()
        if (withdrawal === undefined) throw new Error('no batch')
        record('submitBatch (1 withdrawal)', withdrawal.receipt)
        record('withdraw', await alice.callOk(contract, node.withdrawalClaim(withdrawal, 0)))
      } finally {
        await prover.close()
        await verifier.close()
      }
    },
  }
}

/** The circuits of the rollup rows in `npm test`'s parity gate (cached by the pipeline; small enough to prove in seconds). */
export const ROLLUP_PARITY_CIRCUITS: readonly CircuitParams[] = [
  { n: 1, d: 1, depth: 4, mode: 'sha' },
  { n: 2, d: 1, depth: 4, mode: 'packed' },
]
