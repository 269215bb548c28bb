/**
 * The alternative binding, end to end: Batch(N=2, D=1, depth=4) with the
 * body as packed public inputs (oldRoot, newRoot, 31-byte chunks) instead of
 * a SHA-256 commitment. Same contract, same rules; every public input is
 * range-checked and compared.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { NodeSigner, bigintToBytes, secretKeyFromSeed } from '@l2bench/core'
import { MockL1, Wallet, groth16VerifyGas } from '@l2bench/l1-mock'
import {
  type CircuitParams,
  FIELD_MODULUS,
  L2Key,
  RollupContract,
  RollupNode,
  SyncGroth16Verifier,
  TxArchive,
  WorkerProver,
  buildRollupCircuit,
  depositCall,
  proofToBytes,
  publicInputCount,
  rebuildFromL1,
  registerPayee,
  signOp,
  terminateCurve,
} from '../src/index.ts'

const params: CircuitParams = { n: 2, d: 1, depth: 4, mode: 'packed' }
const A = L2Key.fromSeed('packed-alice')
let mock: MockL1
let archive: TxArchive
let verifier: SyncGroth16Verifier
let prover: WorkerProver
let contract: RollupContract
let node: RollupNode
let user: Wallet

before(async () => {
  const circuit = await buildRollupCircuit(params)
  mock = new MockL1()
  archive = new TxArchive(mock)
  verifier = new SyncGroth16Verifier()
  await verifier.ready()
  // Amounts in wei for readable balances; the default minimum deposit (1 gwei) is tested in deposit-bounds.test.ts.
  contract = mock.deploy(new RollupContract({ params, vkey: circuit.setup.vkey, verifier, minDeposit: 1n }))
  const operator = new Wallet(new NodeSigner(secretKeyFromSeed('packed-op')), archive.l1)
  user = new Wallet(new NodeSigner(secretKeyFromSeed('packed-user')), archive.l1)
  mock.mint(operator.address, 10n ** 21n)
  mock.mint(user.address, 10n ** 21n)
  prover = new WorkerProver({ wasm: circuit.compiled.wasm, zkey: circuit.setup.zkey })
  node = new RollupNode({ l1: archive.l1, contract, wallet: operator, prover })
})

after(async () => {
  await prover?.close()
  await verifier?.close()
  await terminateCurve()
})

describe('zk rollup end to end (packed public inputs, N=2, D=1, depth 4)', () => {
  it('deposit, transfer and withdrawal in one batch; every public input must be canonical', async () => {
    await user.callOk(contract, depositCall(A.publicKey), { value: 700n })
    const payee = await registerPayee(user, contract, user.address)
    node.syncL1()
    node.submit(signOp(A, node.domain, params.depth, { kind: 'transfer', from: 0, to: 0, amount: 100n, nonce: 0n }))
    node.submit(signOp(A, node.domain, params.depth, { kind: 'withdraw', from: 0, to: payee, amount: 300n, nonce: 1n }))
    const closed = node.sequencer.closeBatch()
    assert.ok(closed)
    assert.equal(closed.batch.publicInputs.length, publicInputCount(params))
    const proof = await prover.prove(closed.batch.input)
    const call = {
      type: 'submitBatch' as const,
      body: closed.batch.calldata,
      proof: proofToBytes(proof.proof),
      publicInputs: closed.batch.publicInputs.map((v) => bigintToBytes('pub', v, 32)),
    }
    // Alias the last chunk: x + p.
    const last = call.publicInputs.length - 1
    const aliased = [...call.publicInputs]
    aliased[last] = bigintToBytes('pub', (closed.batch.publicInputs[last] as bigint) + FIELD_MODULUS, 32)
    const bad = await user.call(contract, { ...call, publicInputs: aliased }, { gasLimit: 2_000_000n })
    assert.equal(bad.revertCode, 'PUBLIC_INPUT_OUT_OF_FIELD')
    assert.equal(bad.revertField, `publicInputs[${last}]`)
    // A wrong count is refused too.
    const short = await user.call(contract, { ...call, publicInputs: call.publicInputs.slice(1) }, { gasLimit: 2_000_000n })
    assert.equal(short.revertCode, 'PUBLIC_INPUT_COUNT')
    const ok = await user.callOk(contract, call)
    node.sequencer.confirm()
    assert.equal(ok.breakdown.find((c) => c.label === 'submitBatch.groth16Verify')?.gas, groth16VerifyGas(publicInputCount(params)))
    assert.equal(node.sequencer.tree.get(0).balance, 400n)
    const claim = node.withdrawalClaim({ batch: 0n, withdrawals: (ok.result as { withdrawals: never[] }).withdrawals }, 0)
    await user.callOk(contract, claim)
    assert.equal(mock.balanceOf(contract.address), 400n)
    const rebuilt = await rebuildFromL1({ l1: mock, contract: contract.address, params, data: archive })
    assert.equal(rebuilt.tree.root, node.sequencer.tree.root)
  })
})
