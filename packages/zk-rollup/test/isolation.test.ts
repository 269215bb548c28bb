/**
 * ATTACK 41 (node): a batch that fails to prove does not block the ops behind
 * it. Real circuit, real Groth16 proofs, real contract: Batch(N=2, D=1,
 * depth 4) with packed public inputs (the cheaper one to prove).
 *
 * Before the subgroup check, an op signed "for" an order-8 key passed the
 * node's check while the circuit refused it, so flush() failed on every try
 * and requeued that op first: every transfer behind it was stuck. Here the
 * chain holds such an account (a state written before the fix: the leaf and
 * the root the contract stored) and the node is given the curve-only check of
 * then (`opVerifier`), so the forged op reaches the prover. The node bisects
 * the refused batch with witness-only runs, drops the op with
 * CIRCUIT_REJECTED, and proves the honest transfers behind it; the contract
 * verifies them. With the default check the op is refused at admission.
 */
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { after, before, describe, it } from 'node:test'
import { NodeSigner, secretKeyFromSeed } from '@l2bench/core'
import { MockL1, Wallet } from '@l2bench/l1-mock'
import {
  AccountTree,
  type BuiltCircuit,
  type CircuitParams,
  type EdDSASignature,
  L2Key,
  type PublicKey,
  RollupContract,
  RollupError,
  RollupNode,
  SyncGroth16Verifier,
  WorkerProver,
  buildRollupCircuit,
  signOp,
  terminateCurve,
} from '../src/index.ts'
import { ORDER8, forgedSignature } from './small-order.ts'
import { GWEI } from './stand-in.ts'

const { verifySignature } = createRequire(import.meta.url)('@zk-kit/eddsa-poseidon') as typeof import('@zk-kit/eddsa-poseidon')
/** The off-chain check before this fix: on the curve, S below the order, S·B8 = R8 + 8h·A. */
const curveOnlyCheck = (m: bigint, s: EdDSASignature, pk: PublicKey) => verifySignature(m, { R8: [s.R8[0], s.R8[1]], S: s.S }, [pk[0], pk[1]])

const params: CircuitParams = { n: 2, d: 1, depth: 4, mode: 'packed' }
const alice = L2Key.fromSeed('isolation-alice')
const bob = L2Key.fromSeed('isolation-bob')

let circuit: BuiltCircuit
let verifier: SyncGroth16Verifier
let prover: WorkerProver

before(async () => {
  circuit = await buildRollupCircuit(params)
  verifier = new SyncGroth16Verifier()
  await verifier.ready()
  prover = new WorkerProver({ wasm: circuit.compiled.wasm, zkey: circuit.setup.zkey })
})

after(async () => {
  await prover?.close()
  await verifier?.close()
  await terminateCurve()
})

/** A chain whose state (written before the fix) holds an order-8 account at leaf 0, alice at 1, bob at 2. */
function preFixChain() {
  const mock = new MockL1()
  const contract = mock.deploy(new RollupContract({ params, vkey: circuit.setup.vkey, verifier }))
  const tree = new AccountTree(params.depth)
  tree.set(0, { publicKey: ORDER8, balance: 5n * GWEI, nonce: 0n })
  tree.set(1, { publicKey: alice.publicKey, balance: 10n * GWEI, nonce: 0n })
  tree.set(2, { publicKey: bob.publicKey, balance: 0n, nonce: 0n })
  mock.storageOf(contract.address).set('root', tree.root)
  mock.mint(contract.address, tree.totalBalance())
  const operator = new Wallet(new NodeSigner(secretKeyFromSeed('isolation-operator')), mock)
  mock.mint(operator.address, 10n ** 21n)
  return { mock, contract, tree, operator }
}

describe('ATTACK 41: an op the circuit refuses does not block the ops behind it', () => {
  it('the node bisects the refused batch, drops the forged op (CIRCUIT_REJECTED) and proves the honest transfers; L1 verifies them', async () => {
    const { mock, contract, tree, operator } = preFixChain()
    const node = new RollupNode({ l1: mock, contract, wallet: operator, prover, tree: tree.clone(), opVerifier: curveOnlyCheck })
    const forged = { kind: 'transfer' as const, from: 0, to: 2, amount: 5n * GWEI, nonce: 0n, signature: forgedSignature() }
    node.submit(forged) // the curve-only check admits it
    node.submit(signOp(alice, node.domain, params.depth, { kind: 'transfer', from: 1, to: 2, amount: 1n * GWEI, nonce: 0n }))
    node.submit(signOp(alice, node.domain, params.depth, { kind: 'transfer', from: 1, to: 2, amount: 2n * GWEI, nonce: 1n }))

    const reports = await node.flush()
    assert.equal(reports.length, 1)
    assert.equal(reports[0]?.ops, 2, 'both honest transfers in one proven batch')
    const dropped = node.sequencer.dropped.find((d) => d.op === forged)
    assert.ok(dropped, 'the forged op was dropped')
    assert.equal(dropped.error.code, 'CIRCUIT_REJECTED')
    assert.match(dropped.error.message, /refuses op transfer from 0 nonce 0/)
    assert.equal(node.sequencer.pendingOps, 0)
    assert.equal(await mock.read<bigint>(contract.address, 'root', []), node.sequencer.tree.root)
    assert.equal(node.sequencer.tree.get(2).balance, 3n * GWEI)
    assert.equal(node.sequencer.tree.get(0).balance, 5n * GWEI, 'the order-8 account kept its balance')
    assert.equal(node.sequencer.tree.totalBalance(), mock.balanceOf(contract.address))
  })

  it('with the default check the forged op is refused at admission (BAD_PUBLIC_KEY), nothing queued', () => {
    const { mock, contract, tree, operator } = preFixChain()
    const node = new RollupNode({ l1: mock, contract, wallet: operator, prover, tree: tree.clone() })
    assert.throws(
      () => node.submit({ kind: 'transfer', from: 0, to: 2, amount: 5n * GWEI, nonce: 0n, signature: forgedSignature() }),
      (e: unknown) => e instanceof RollupError && e.code === 'BAD_PUBLIC_KEY' && e.field === 'op.from',
    )
    assert.equal(node.sequencer.pendingOps, 0)
  })
})
