/**
 * The zk-rollup's contract on both backends (RollupContract on the mock,
 * contracts/Rollup.sol with snarkjs's verifier for the circuit on anvil),
 * driven by the rollup's own node, sequencer and worker prover with real
 * Groth16 proofs of real batches (Batch n=1, d=1, depth 4, sha binding, from
 * the pipeline's cache): deposits with their bounds and key checks, payees,
 * batches, withdrawals, and the contract-level attacks (ATTACKS 23, 24, 26):
 * a public input ≥ the field modulus, altered calldata, a forged proof, a
 * replayed batch, a batch on a wrong old root, stale and double withdrawals —
 * each rejected with the same code and field on both backends, changing
 * nothing. The tests of one backend run in order on one chain.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it, test } from 'node:test'
import { type Address, NodeSigner, bigintToBytes, secretKeyFromSeed } from '@l2bench/core'
import { type L1, type Receipt, Wallet } from '@l2bench/l1-mock'
import {
  BASE_FIELD_MODULUS,
  type BuiltCircuit,
  type CircuitParams,
  FIELD_MODULUS,
  L2Key,
  RollupContract,
  RollupNode,
  SUBGROUP_CHECK_GAS,
  SyncGroth16Verifier,
  WorkerProver,
  buildRollupCircuit,
  decodeBatchCalldata,
  depositCall,
  isValidPublicKey,
  proofToBytes,
  subgroupHint,
  publicInputs,
  registerPayee,
  signOp,
  terminateCurve,
  withdrawalLeaf,
  withdrawalProof,
} from '@l2bench/zk-rollup'
import { decodeFunctionResult, encodeFunctionData } from 'viem'
import { type Chain, EvmL1, backends, packageSources, rpcCall } from '../src/index.ts'

const params: CircuitParams = { n: 1, d: 1, depth: 4, mode: 'sha' }
const A = L2Key.fromSeed('evm-rollup/alice')
const B = L2Key.fromSeed('evm-rollup/bob')
/** A point of order 8 (zk-rollup/test/small-order.ts): on the curve, not in the subgroup. */
const ORDER8: readonly [bigint, bigint] = [
  17545522957889784193459637215142187266023652151580582754000402781682644312291n,
  4826523245007015323400664741523384119579596407052839571721035538011798951543n,
]

let circuit: BuiltCircuit
let verifier: SyncGroth16Verifier

interface World {
  chain: Chain
  l1: L1
  contract: RollupContract
  operator: Wallet
  alice: Wallet
  bob: Wallet
}

async function make(chain: Chain): Promise<World> {
  const contract = await chain.deploy(new RollupContract({ params, vkey: circuit.setup.vkey, verifier, minDeposit: 100n }))
  const wallet = async (seed: string) => {
    const w = new Wallet(new NodeSigner(secretKeyFromSeed(`evm-rollup/${seed}`)), chain.l1)
    await chain.mint(w.address, 10n ** 21n)
    return w
  }
  return { chain, l1: chain.l1, contract, operator: await wallet('operator'), alice: await wallet('alice-l1'), bob: await wallet('bob-l1') }
}

const suites = backends(make)

before(async () => {
  circuit = await buildRollupCircuit(params)
  verifier = new SyncGroth16Verifier()
  await verifier.ready()
})

after(async () => {
  for (const s of suites) await s.close()
  await verifier?.close()
  await terminateCurve()
})

function expectRevert(r: Receipt, code: string, field?: string): void {
  assert.equal(r.status, 'reverted', `expected ${code}, got success`)
  assert.equal(r.revertCode, code, r.revertReason)
  if (field !== undefined) assert.equal(r.revertField, field, r.revertReason)
}

for (const suite of suites) {
  describe(`rollup contract on ${suite.name}`, () => {
    let w: World
    let node: RollupNode
    let prover: WorkerProver

    /** Contract state a rejected call must leave alone. */
    const state = async () => {
      const read = <T>(m: string, args: unknown[] = []) => w.l1.read<T>(w.contract.address, m, args)
      return {
        root: await read<bigint>('root'),
        batches: await read<number>('batches'),
        queueHead: await read<number>('queueHead'),
        queueLength: await read<number>('queueLength'),
        balance: w.l1.balanceOf(w.contract.address),
      }
    }

    /** Closes the next batch and proves it, without submitting. */
    const closeAndProve = async () => {
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
      return { closed, call }
    }

    before(async () => {
      w = await suite.world()
      prover = new WorkerProver({ wasm: circuit.compiled.wasm, zkey: circuit.setup.zkey })
      node = new RollupNode({ l1: w.l1, contract: w.contract, wallet: w.operator, prover })
    })
    after(() => prover?.close())

    let batch1: Awaited<ReturnType<typeof closeAndProve>>

    it('queues deposits (key in the subgroup, at least the minimum) and registers payees', async () => {
      const first = await w.alice.callOk(w.contract, depositCall(A.publicKey), { value: 1000n })
      assert.equal(first.result, 0)
      assert.deepEqual(
        w.l1.events({ address: w.contract.address, name: 'Deposit' }).map((e) => e.data),
        [{ index: 0, pubX: A.publicKey[0], pubY: A.publicKey[1], amount: 1000n, from: w.alice.address }],
      )
      await w.bob.callOk(w.contract, depositCall(B.publicKey), { value: 500n })
      assert.equal(await registerPayee(w.bob, w.contract, w.bob.address), 0)
      assert.equal(await registerPayee(w.alice, w.contract, w.bob.address), 0, 'registering again returns the id')
      assert.equal(await w.l1.read(w.contract.address, 'payeeId', [w.bob.address]), 0)
      assert.equal(await w.l1.read(w.contract.address, 'payeeId', [w.alice.address]), undefined)
      assert.equal(await w.l1.read(w.contract.address, 'payee', [0]), w.bob.address)
      const before = await state()
      const deposit = (pk: readonly [bigint, bigint], value: bigint) =>
        w.alice.call(w.contract, { type: 'deposit', pubX: bigintToBytes('x', pk[0], 32), pubY: bigintToBytes('y', pk[1], 32) }, { value, gasLimit: 400_000n })
      expectRevert(await deposit([1n, 2n], 500n), 'BAD_DEPOSIT', 'pubX')
      expectRevert(await deposit(ORDER8, 500n), 'BAD_DEPOSIT', 'pubX')
      expectRevert(await deposit([FIELD_MODULUS + A.publicKey[0], A.publicKey[1]], 500n), 'BAD_DEPOSIT', 'pubX')
      expectRevert(await deposit(A.publicKey, 99n), 'DEPOSIT_TOO_SMALL', 'value')
      assert.deepEqual(await state(), before)
    })

    it('ATTACK 23: a public input ≥ the field modulus (x + p) is rejected, nothing changes', async () => {
      batch1 = await closeAndProve()
      const before = await state()
      const pub = batch1.closed.batch.publicInputs[0] as bigint
      const aliased = { ...batch1.call, publicInputs: [bigintToBytes('pub', pub + FIELD_MODULUS, 32)] }
      expectRevert(await w.operator.call(w.contract, aliased, { gasLimit: 2_000_000n }), 'PUBLIC_INPUT_OUT_OF_FIELD', 'publicInputs[0]')
      const two = { ...batch1.call, publicInputs: [...batch1.call.publicInputs, ...batch1.call.publicInputs] }
      expectRevert(await w.operator.call(w.contract, two, { gasLimit: 2_000_000n }), 'PUBLIC_INPUT_COUNT', 'publicInputs')
      assert.deepEqual(await state(), before)
    })

    it('ATTACK 24: altered calldata, a forged proof and malformed bodies are rejected with the same codes', async () => {
      const before = await state()
      const send = (call: typeof batch1.call) => w.operator.call(w.contract, call, { gasLimit: 2_000_000n })
      // Deposit amount changed: not the queue entry.
      const amount = Uint8Array.from(batch1.call.body)
      amount[35 + 1 + 79] = (amount[35 + 1 + 79] as number) ^ 1
      expectRevert(await send({ ...batch1.call, body: amount }), 'DEPOSIT_MISMATCH', 'body.deposits[0]')
      // New root changed: the proof's public input no longer matches.
      const root = Uint8Array.from(batch1.call.body)
      root[31] = (root[31] as number) ^ 1
      expectRevert(await send({ ...batch1.call, body: root }), 'PUBLIC_INPUT_MISMATCH', 'publicInputs[0]')
      // The right public input for the altered body: the proof does not verify.
      const domain = { chainId: w.l1.chainId, contract: w.contract.address }
      const pub = publicInputs(params, domain, before.root, decodeBatchCalldata(params, root))
      expectRevert(await send({ ...batch1.call, body: root, publicInputs: pub.map((v) => bigintToBytes('pub', v, 32)) }), 'INVALID_PROOF', 'proof')
      // A forged proof (A replaced by C: points on the curve, the pairing fails).
      const forged = Uint8Array.from(batch1.call.proof)
      forged.set(batch1.call.proof.subarray(192, 256), 0)
      expectRevert(await send({ ...batch1.call, proof: forged }), 'INVALID_PROOF', 'proof')
      // A coordinate ≥ q.
      const outOfField = Uint8Array.from(batch1.call.proof)
      outOfField.set(bigintToBytes('q', BASE_FIELD_MODULUS, 32), 32)
      expectRevert(await send({ ...batch1.call, proof: outOfField }), 'MALFORMED_PROOF', 'proof')
      // Truncated, more deposits than slots, an op type that does not exist.
      expectRevert(await send({ ...batch1.call, body: batch1.call.body.subarray(0, 40) }), 'MALFORMED_CALLDATA', 'body')
      const many = Uint8Array.from(batch1.call.body)
      many[32] = 2
      expectRevert(await send({ ...batch1.call, body: many }), 'MALFORMED_CALLDATA', 'body.depositCount')
      const rootOutOfField = Uint8Array.from(batch1.call.body)
      rootOutOfField.set(bigintToBytes('p', FIELD_MODULUS, 32), 0)
      expectRevert(await send({ ...batch1.call, body: rootOutOfField }), 'MALFORMED_CALLDATA', 'body.newRoot')
      assert.deepEqual(await state(), before)
    })

    it('accepts the valid batch: stores the root, consumes the deposit', async () => {
      const r = await w.operator.callOk(w.contract, batch1.call)
      node.sequencer.confirm()
      const after = await state()
      assert.equal(after.root, batch1.closed.batch.newRoot)
      assert.equal(after.batches, 1)
      assert.equal(after.queueHead, 1)
      assert.deepEqual(r.result, { batch: 0n, newRoot: batch1.closed.batch.newRoot, deposits: 1, ops: 0, withdrawals: [] })
      const [event] = w.l1.events({ address: w.contract.address, name: 'BatchVerified' })
      assert.equal(event?.data.newRoot, batch1.closed.batch.newRoot)
    })

    it('ATTACK 24: replaying the accepted batch fails (its deposit is consumed)', async () => {
      const before = await state()
      expectRevert(await w.operator.call(w.contract, batch1.call, { gasLimit: 2_000_000n }), 'DEPOSIT_MISMATCH', 'body.deposits[0]')
      assert.deepEqual(await state(), before)
    })

    let withdrawBatch: Awaited<ReturnType<RollupNode['runBatch']>>

    it('runs a transfer and a withdrawal through the node; a batch on a wrong old root is refused', async () => {
      node.submit(signOp(A, node.domain, params.depth, { kind: 'transfer', from: 0, to: 1, amount: 300n, nonce: 0n }))
      const b2 = await node.runBatch() // deposit B + the transfer
      assert.equal(b2?.deposits, 1)
      assert.equal(b2?.transfers, 1)
      node.submit(signOp(B, node.domain, params.depth, { kind: 'withdraw', from: 1, to: 0, amount: 200n, nonce: 0n }))
      withdrawBatch = await node.runBatch()
      assert.equal(withdrawBatch?.withdrawals.length, 1)
      assert.deepEqual(withdrawBatch?.withdrawals, [{ position: 0, payee: w.bob.address, amount: 200n }])
      // The withdrawal batch again: its proof is for the root before it, not the current one.
      const before = await state()
      expectRevert(await w.operator.call(w.contract, withdrawBatch.call, { gasLimit: 2_000_000n }), 'PUBLIC_INPUT_MISMATCH', 'publicInputs[0]')
      assert.deepEqual(await state(), before)
      assert.equal(before.root, node.sequencer.tree.root)
      assert.equal(node.sequencer.tree.get(1).balance, 600n)
    })

    it('ATTACK 26: a withdrawal is paid once, to its payee, and never against a root it is not in', async () => {
      assert.ok(withdrawBatch)
      const claim = node.withdrawalClaim(withdrawBatch, 0)
      const stale = { ...claim, amount: 250n, proof: withdrawalProof([withdrawalLeaf(claim.batch, { position: 0, payee: claim.payee, amount: 250n })], 0) }
      const before = await state()
      const claimWith = (c: typeof claim) => w.alice.call(w.contract, c, { gasLimit: 500_000n })
      expectRevert(await claimWith(stale), 'WITHDRAWAL_PROOF_MISMATCH', 'proof')
      expectRevert(await claimWith({ ...claim, batch: claim.batch - 1n }), 'NO_WITHDRAWALS', 'batch')
      expectRevert(await claimWith({ ...claim, payee: w.alice.address as Address }), 'WITHDRAWAL_PROOF_MISMATCH', 'proof')
      expectRevert(await claimWith({ ...claim, position: 1 }), 'WITHDRAWAL_PROOF_MISMATCH', 'position')
      expectRevert(await claimWith({ ...claim, count: 2 }), 'WITHDRAWAL_PROOF_MISMATCH', 'proof')
      assert.deepEqual(await state(), before)
      const bobBefore = w.l1.balanceOf(w.bob.address)
      await w.alice.callOk(w.contract, claim) // anyone may pay it out; it goes to the payee
      assert.equal(w.l1.balanceOf(w.bob.address), bobBefore + 200n)
      assert.equal(await w.l1.read(w.contract.address, 'claimed', [claim.batch, 0]), true)
      const afterPay = await state()
      expectRevert(await claimWith(claim), 'ALREADY_WITHDRAWN', 'position')
      assert.deepEqual(await state(), afterPay)
      // Conservation: the escrow is what the L2 balances hold.
      assert.equal(w.l1.balanceOf(w.contract.address), node.sequencer.tree.totalBalance())
      assert.equal(node.sequencer.tree.totalBalance(), 1300n)
    })
  })
}

const HARNESS = `// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;
import {BabyJubjub} from "./Rollup.sol";
contract SubgroupHarness {
    function check(uint256 x, uint256 y, uint256 hx, uint256 hy) external view returns (uint256 gas, bool ok) {
        uint256 start = gasleft();
        ok = BabyJubjub.isSubgroupKey(x, y, hx, hy);
        gas = start - gasleft();
    }
}`

test("the port's Baby Jubjub subgroup check (8·hint = key) agrees with keys.ts, and costs the mock's SUBGROUP_CHECK_GAS (±5 %)", async () => {
  const evm = await EvmL1.start()
  try {
    const { address, abi } = await evm.deploySolidity({ ...packageSources(), 'SubgroupHarness.sol': HARNESS }, 'SubgroupHarness')
    const check = async (pk: readonly [bigint, bigint], hint = subgroupHint(pk)) => {
      const data = encodeFunctionData({ abi, functionName: 'check', args: [pk[0], pk[1], hint[0], hint[1]] })
      const out = (await rpcCall(evm.node, 'eth_call', [{ to: address, data }, 'latest'])) as `0x${string}`
      const [gas, ok] = decodeFunctionResult({ abi, functionName: 'check', data: out }) as readonly [bigint, boolean]
      return { gas: Number(gas), ok }
    }
    const keys: Array<readonly [bigint, bigint]> = [
      A.publicKey,
      B.publicKey,
      ORDER8,
      [1n, 2n],
      [0n, 1n],
      [A.publicKey[0] + FIELD_MODULUS, A.publicKey[1]],
      [A.publicKey[0], FIELD_MODULUS - A.publicKey[1]],
    ]
    for (const pk of keys) assert.equal((await check(pk)).ok, isValidPublicKey(pk), `key ${pk[0]}, ${pk[1]}`)
    // A wrong hint never passes: another point, the key itself, B plus a point of order 2.
    const hint = subgroupHint(A.publicKey)
    assert.equal((await check(A.publicKey, subgroupHint(B.publicKey))).ok, false)
    assert.equal((await check(A.publicKey, A.publicKey)).ok, false)
    assert.equal((await check(A.publicKey, [FIELD_MODULUS - hint[0], FIELD_MODULUS - hint[1]])).ok, true, '8·(B + T2) = 8·B: any 8th root works')
    assert.equal((await check(A.publicKey, [hint[0] + FIELD_MODULUS, hint[1]])).ok, false, 'a hint coordinate ≥ p')
    assert.equal(isValidPublicKey([A.publicKey[0], FIELD_MODULUS - A.publicKey[1]]), false, 'one case is on the curve and not valid')
    const { gas } = await check(A.publicKey)
    assert.ok(Math.abs(SUBGROUP_CHECK_GAS - gas) / gas <= 0.05, `mock ${SUBGROUP_CHECK_GAS}, EVM ${gas}`)
  } finally {
    await evm.stop()
  }
})
