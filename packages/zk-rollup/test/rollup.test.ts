/**
 * End to end with real Groth16 proofs (ATTACKS 23–26), at a small size:
 * Batch(N=1, D=1, depth=4) with the SHA-256 binding (the production choice).
 * Deposits, transfers and withdrawals over several batches through the
 * sequencer, the worker prover and the rollup contract on the L1 mock; the
 * contract's rejections (public input ≥ p, replayed proof, altered calldata,
 * stale-root and double withdrawals) leave nothing changed; a separate node
 * rebuilds the tree from L1 calldata alone.
 *
 * The circuit, ptau and setup come from the pipeline's cache (the first run
 * builds them). The tests in this file run in order and share one chain.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { NodeSigner, bigintToBytes, secretKeyFromSeed } from '@l2bench/core'
import { MockL1, type Receipt, Wallet, groth16VerifyGas } from '@l2bench/l1-mock'
import {
  type BuiltCircuit,
  type CircuitParams,
  FIELD_MODULUS,
  L2Key,
  RollupContract,
  RollupNode,
  SyncGroth16Verifier,
  TxArchive,
  WorkerProver,
  depositCall,
  exitCall,
  proofToBytes,
  rebuildFromL1,
  refundDepositCall,
  registerPayee,
  signOp,
  terminateCurve,
  withdrawalLeaf,
  withdrawalProof,
  buildRollupCircuit,
} from '../src/index.ts'

const params: CircuitParams = { n: 1, d: 1, depth: 4, mode: 'sha' }
const A = L2Key.fromSeed('e2e-alice')
const B = L2Key.fromSeed('e2e-bob')

let circuit: BuiltCircuit
let mock: MockL1
let archive: TxArchive
let verifier: SyncGroth16Verifier
let prover: WorkerProver
let contract: RollupContract
let node: RollupNode
let operator: Wallet
let aliceL1: Wallet
let bobL1: Wallet

const wallet = (seed: string) => new Wallet(new NodeSigner(secretKeyFromSeed(seed)), archive.l1)

/** Contract state that a rejected call must leave alone. */
async function snapshot() {
  const read = <T>(m: string, args: unknown[] = []) => mock.read<T>(contract.address, m, args)
  return {
    root: await read<bigint>('root'),
    batches: await read<number>('batches'),
    queueHead: await read<number>('queueHead'),
    balance: mock.balanceOf(contract.address),
  }
}

function expectRevert(r: Receipt, code: string): void {
  assert.equal(r.status, 'reverted', `expected ${code}, got success`)
  assert.equal(r.revertCode, code, r.revertReason)
}

/** Closes the next batch and proves it, without submitting. */
async function closeAndProve() {
  node.syncL1()
  const closed = node.sequencer.closeBatch()
  assert.ok(closed, 'nothing to batch')
  const proof = await prover.prove(closed.batch.input)
  const call = {
    type: 'submitBatch' as const,
    body: closed.batch.calldata,
    proof: proofToBytes(proof.proof),
    publicInputs: closed.batch.publicInputs.map((v) => bigintToBytes('pub', v, 32)),
  }
  return { closed, proof, call }
}

before(async () => {
  circuit = await buildRollupCircuit(params)
  mock = new MockL1()
  archive = new TxArchive(mock)
  verifier = new SyncGroth16Verifier()
  await verifier.ready()
  // Amounts in wei for readable balances; the default minimum deposit (1 gwei) is tested in deposit-bounds.test.ts.
  contract = mock.deploy(new RollupContract({ params, vkey: circuit.setup.vkey, verifier, minDeposit: 1n }))
  operator = wallet('e2e-operator')
  aliceL1 = wallet('e2e-alice-l1')
  bobL1 = wallet('e2e-bob-l1')
  for (const w of [operator, aliceL1, bobL1]) mock.mint(w.address, 10n ** 21n)
  prover = new WorkerProver({ wasm: circuit.compiled.wasm, zkey: circuit.setup.zkey })
  node = new RollupNode({ l1: archive.l1, contract, wallet: operator, prover })
})

after(async () => {
  await prover?.close()
  await verifier?.close()
  await terminateCurve()
})

describe('zk rollup end to end (sha binding, N=1, D=1, depth 4)', () => {
  let batch1: Awaited<ReturnType<typeof closeAndProve>>

  it('queues deposits on L1 and registers a payee', async () => {
    await aliceL1.callOk(contract, depositCall(A.publicKey), { value: 1000n })
    await bobL1.callOk(contract, depositCall(B.publicKey), { value: 500n })
    assert.equal(await registerPayee(bobL1, contract, bobL1.address), 0)
    assert.equal(mock.balanceOf(contract.address), 1500n)
    const bad = await aliceL1.call(contract, { type: 'deposit', pubX: bigintToBytes('x', 1n, 32), pubY: bigintToBytes('y', 2n, 32) }, { value: 5n, gasLimit: 200_000n })
    expectRevert(bad, 'BAD_DEPOSIT')
  })

  it('ATTACK 23: a public input ≥ the field modulus (x + p) is rejected, nothing changes', async () => {
    batch1 = await closeAndProve()
    const before = await snapshot()
    const pub = batch1.closed.batch.publicInputs[0] as bigint
    assert.ok(pub + FIELD_MODULUS < 1n << 256n)
    const aliased = { ...batch1.call, publicInputs: [bigintToBytes('pub', pub + FIELD_MODULUS, 32)] }
    expectRevert(await operator.call(contract, aliased, { gasLimit: 2_000_000n }), 'PUBLIC_INPUT_OUT_OF_FIELD')
    assert.deepEqual(await snapshot(), before)
  })

  it('ATTACK 24: altered calldata is rejected (the commitment binds every byte)', async () => {
    const before = await snapshot()
    // Deposit amount changed: not the queue entry.
    const amount = Uint8Array.from(batch1.call.body)
    amount[35 + 1 + 79] = (amount[35 + 1 + 79] as number) ^ 1
    expectRevert(await operator.call(contract, { ...batch1.call, body: amount }, { gasLimit: 2_000_000n }), 'DEPOSIT_MISMATCH')
    // New root changed: the proof's public input no longer matches.
    const root = Uint8Array.from(batch1.call.body)
    root[31] = (root[31] as number) ^ 1
    expectRevert(await operator.call(contract, { ...batch1.call, body: root }, { gasLimit: 2_000_000n }), 'PUBLIC_INPUT_MISMATCH')
    // The right public input for the altered body: the proof does not verify.
    const { publicInputs } = await import('../src/index.ts')
    const { decodeBatchCalldata } = await import('../src/index.ts')
    const altered = decodeBatchCalldata(params, root)
    const pub = publicInputs(params, node.domain, before.root, altered)
    expectRevert(
      await operator.call(contract, { ...batch1.call, body: root, publicInputs: pub.map((v) => bigintToBytes('pub', v, 32)) }, { gasLimit: 2_000_000n }),
      'INVALID_PROOF',
    )
    // Truncated body.
    expectRevert(await operator.call(contract, { ...batch1.call, body: batch1.call.body.subarray(0, 40) }, { gasLimit: 2_000_000n }), 'MALFORMED_CALLDATA')
    assert.deepEqual(await snapshot(), before)
  })

  it('accepts the valid batch: verifies the proof, stores the root, consumes the deposit; gas is labelled', async () => {
    const r = await operator.callOk(contract, batch1.call)
    node.sequencer.confirm()
    const after = await snapshot()
    assert.equal(after.root, batch1.closed.batch.newRoot)
    assert.equal(after.batches, 1)
    assert.equal(after.queueHead, 1)
    const verify = r.breakdown.find((c) => c.label === 'submitBatch.groth16Verify')
    assert.equal(verify?.gas, groth16VerifyGas(1))
    assert.ok(r.breakdown.some((c) => c.label === 'submitBatch.commitment'))
    assert.ok(r.gasUsed > groth16VerifyGas(1) + 21_000)
  })

  it('ATTACK 24: replaying the accepted batch fails (its deposit is consumed)', async () => {
    const before = await snapshot()
    expectRevert(await operator.call(contract, batch1.call, { gasLimit: 2_000_000n }), 'DEPOSIT_MISMATCH')
    assert.deepEqual(await snapshot(), before)
  })

  let withdrawReport: Awaited<ReturnType<RollupNode['runBatch']>>

  it('runs deposits, a transfer and a withdrawal through the node, one batch each', async () => {
    node.submit(signOp(A, node.domain, params.depth, { kind: 'transfer', from: 0, to: 1, amount: 300n, nonce: 0n }))
    const b2 = await node.runBatch() // deposit B + the transfer
    assert.equal(b2?.deposits, 1)
    assert.equal(b2?.transfers, 1)
    node.submit(signOp(B, node.domain, params.depth, { kind: 'withdraw', from: 1, to: 0, amount: 200n, nonce: 0n }))
    withdrawReport = await node.runBatch()
    assert.equal(withdrawReport?.withdrawals.length, 1)
    node.submit(signOp(A, node.domain, params.depth, { kind: 'transfer', from: 0, to: 1, amount: 100n, nonce: 1n }))
    const rest = await node.flush()
    assert.equal(rest.length, 1)
    // ATTACK 24: a transfer-only batch replayed verbatim fails against the root it moved.
    const before = await snapshot()
    expectRevert(await operator.call(contract, rest[0]!.call, { gasLimit: 2_000_000n }), 'PUBLIC_INPUT_MISMATCH')
    assert.deepEqual(await snapshot(), before)
    assert.equal(await mock.read<number>(contract.address, 'batches', []), 4)
    assert.equal(node.sequencer.tree.get(0).balance, 600n)
    assert.equal(node.sequencer.tree.get(1).balance, 700n)
    assert.equal(await mock.read<bigint>(contract.address, 'root', []), node.sequencer.tree.root)
  })

  it('ATTACK 26: a withdrawal is paid once, and never against a root it is not in', async () => {
    assert.ok(withdrawReport)
    const claim = node.withdrawalClaim(withdrawReport, 0)
    const stale = { ...claim, amount: 250n, proof: withdrawalProof([withdrawalLeaf(claim.batch, { position: 0, payee: claim.payee, amount: 250n })], 0) }
    const before = await snapshot()
    expectRevert(await aliceL1.call(contract, stale, { gasLimit: 500_000n }), 'WITHDRAWAL_PROOF_MISMATCH')
    expectRevert(await aliceL1.call(contract, { ...claim, batch: claim.batch - 1n }, { gasLimit: 500_000n }), 'NO_WITHDRAWALS')
    expectRevert(await aliceL1.call(contract, { ...claim, payee: aliceL1.address }, { gasLimit: 500_000n }), 'WITHDRAWAL_PROOF_MISMATCH')
    assert.deepEqual(await snapshot(), before)
    const bobBefore = mock.balanceOf(bobL1.address)
    await aliceL1.callOk(contract, claim) // anyone may pay it out; it goes to the payee
    assert.equal(mock.balanceOf(bobL1.address), bobBefore + 200n)
    const afterPay = await snapshot()
    expectRevert(await aliceL1.call(contract, claim, { gasLimit: 500_000n }), 'ALREADY_WITHDRAWN')
    assert.deepEqual(await snapshot(), afterPay)
  })

  it('conserves value: L1 escrow = Σ L2 balances + unpaid withdrawals', () => {
    assert.equal(mock.balanceOf(contract.address), node.sequencer.tree.totalBalance())
    assert.equal(node.sequencer.tree.totalBalance(), 1300n)
  })

  it('ATTACK 25: a separate node rebuilds the tree from L1 calldata alone and reaches the contract root', async () => {
    const rebuilt = await rebuildFromL1({ l1: mock, contract: contract.address, params, data: archive })
    assert.equal(rebuilt.batches, 4)
    assert.equal(rebuilt.tree.root, await mock.read<bigint>(contract.address, 'root', []))
    for (const [i, acc] of node.sequencer.tree.entries()) assert.deepEqual(rebuilt.tree.get(i), acc)
    // Without the calldata there is no rebuild: it says so rather than guess.
    await assert.rejects(rebuildFromL1({ l1: mock, contract: contract.address, params, data: { calldataOf: () => undefined } }), /not available/)
  })

  it('the sequencer refuses bad ops before proving (typed errors)', () => {
    const op = signOp(A, node.domain, params.depth, { kind: 'transfer', from: 0, to: 1, amount: 10n, nonce: 2n })
    assert.throws(() => node.submit({ ...op, amount: 11n }), /signature/)
    assert.throws(() => node.submit({ ...op, nonce: 1n }), /nonce/)
    assert.throws(() => node.submit(signOp(A, node.domain, params.depth, { kind: 'transfer', from: 0, to: 1, amount: 601n, nonce: 2n })), /has 600/)
    assert.throws(() => node.submit(signOp(A, node.domain, params.depth, { kind: 'transfer', from: 0, to: 9, amount: 1n, nonce: 2n })), /no account/)
    assert.equal(node.sequencer.pendingOps, 0)
  })

  it('ATTACK 42: the operator stops with a deposit waiting; after the delay anyone starts exodus and every user exits with a leaf proof against the last verified root', async () => {
    const C = L2Key.fromSeed('e2e-carol')
    const queued = (await aliceL1.callOk(contract, depositCall(C.publicKey), { value: 250n })).result as number
    const delay = await mock.read<number>(contract.address, 'forcedDelaySeconds', [])
    expectRevert(await bobL1.call(contract, { type: 'activateExodus', reason: 'deposit', index: queued }, { gasLimit: 500_000n }), 'TOO_EARLY')
    mock.advance(delay)
    await bobL1.callOk(contract, { type: 'activateExodus', reason: 'deposit', index: queued })
    await assert.rejects(node.runBatch(), /exodus/)
    const { tree } = await rebuildFromL1({ l1: mock, contract: contract.address, params, data: archive })
    const out = (seed: string) => new NodeSigner(secretKeyFromSeed(seed)).address
    await bobL1.callOk(contract, exitCall(A, node.domain, tree, 0, out('e2e-alice-out')))
    await bobL1.callOk(contract, exitCall(B, node.domain, tree, 1, out('e2e-bob-out')))
    await bobL1.callOk(contract, refundDepositCall(C, node.domain, queued, 250n, out('e2e-carol-out')))
    assert.equal(mock.balanceOf(out('e2e-alice-out')), 600n)
    assert.equal(mock.balanceOf(out('e2e-bob-out')), 700n)
    assert.equal(mock.balanceOf(out('e2e-carol-out')), 250n)
    assert.equal(mock.balanceOf(contract.address), 0n)
  })
})
