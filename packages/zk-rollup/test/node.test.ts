/**
 * RollupNode's shell logic without proving (stand-in.ts): a stand-in prover
 * returns the batch's public signals with a dummy proof, and the contract gets
 * a verifier that accepts or refuses on demand. Everything else — the
 * contract's checks, the sequencer, the L1 — is the real thing.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type CircuitInput, type CircuitParams, L2Key, type ProofResult, RollupError, RollupNode, depositCall, isAbandoned, signOp } from '../src/index.ts'
import { dummyProof, standInChain, standInProver } from './stand-in.ts'

const params: CircuitParams = { n: 2, d: 1, depth: 4, mode: 'sha' }

function setup(batchTimeoutMs = 40) {
  // Amounts here are in wei for readability; the minimum deposit is tested in deposit-bounds.test.ts.
  const { mock, contract, verifier, wallet } = standInChain(params, { minDeposit: 1n })
  const operator = wallet('node-op')
  const user = wallet('node-user')
  const prover = standInProver()
  const node = new RollupNode({ l1: mock, contract, wallet: operator, prover, batchTimeoutMs })
  return { mock, contract, verifier, prover, node, user }
}

const A = L2Key.fromSeed('node-A')

describe('rollup node (stand-in prover)', () => {
  it('the background loop closes a partly filled batch on timeout and a full one at once', async () => {
    const { contract, mock, node, user } = setup(40)
    await user.callOk(contract, depositCall(A.publicKey), { value: 100n })
    node.start({ pollMs: 5 })
    const until = async (cond: () => boolean) => {
      for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5))
      assert.ok(cond())
    }
    const batches = () => mock.readSync<number>(contract.address, 'batches', [])
    await until(() => batches() === 1) // the deposit alone, after the timeout
    node.submit(signOp(A, node.domain, params.depth, { kind: 'transfer', from: 0, to: 0, amount: 1n, nonce: 0n }))
    node.submit(signOp(A, node.domain, params.depth, { kind: 'transfer', from: 0, to: 0, amount: 1n, nonce: 1n }))
    await until(() => batches() === 2)
    await node.stop()
    assert.equal(node.reports[1]?.ops, 2)
    assert.equal(node.sequencer.pendingOps, 0)
  })

  it('a batch L1 refuses is rolled back and requeued; the next attempt goes through', async () => {
    const { contract, mock, node, user, verifier } = setup()
    await user.callOk(contract, depositCall(A.publicKey), { value: 100n })
    verifier.accept = false
    const root = node.sequencer.tree.root
    await assert.rejects(node.runBatch(), (e: unknown) => e instanceof RollupError && /invalid proof/.test(e.message))
    assert.equal(node.sequencer.tree.root, root)
    assert.equal(node.sequencer.pendingDeposits, 1)
    assert.equal(mock.readSync<number>(contract.address, 'batches', []), 0)
    verifier.accept = true
    const r = await node.runBatch()
    assert.equal(r?.deposits, 1)
    assert.equal(mock.readSync<bigint>(contract.address, 'root', []), node.sequencer.tree.root)
  })

  it('the node does not submit a proof for other public signals; the contract refuses other inputs even if the verifier would accept', async () => {
    const { contract, node, user, prover, verifier } = setup()
    await user.callOk(contract, depositCall(A.publicKey), { value: 100n })
    const honest = prover.prove.bind(prover)
    prover.prove = async (input) => ({ proof: dummyProof, publicSignals: (input.pub as bigint[]).map((v) => String(v + 1n)), witnessMs: 0, proveMs: 0 })
    await assert.rejects(node.runBatch(), (e: unknown) => e instanceof RollupError && e.code === 'PROVER')
    assert.equal(node.sequencer.pendingDeposits, 1)
    prover.prove = honest
    const report = await node.runBatch()
    assert.ok(report)
    // Replays and inputs other than the contract's own computation are refused before the verifier is asked.
    const calls = verifier.calls
    const r = await user.call(contract, report.call, { gasLimit: 2_000_000n })
    assert.equal(r.revertCode, 'DEPOSIT_MISMATCH')
    const wrong = { ...report.call, body: report.call.body.slice(0, 35), publicInputs: report.call.publicInputs }
    wrong.body[32] = 0
    const r2 = await user.call(contract, wrong, { gasLimit: 2_000_000n })
    assert.equal(r2.revertCode, 'PUBLIC_INPUT_MISMATCH')
    assert.equal(verifier.calls, calls, 'refused before the verifier was asked')
  })

  it('batches in flight prove side by side and reach L1 in the order they were closed', async () => {
    const { contract, mock, user, node, prover } = pooled(2)
    await user.callOk(contract, depositCall(A.publicKey), { value: 100n })
    prover.auto = true
    await node.flush()
    prover.auto = false
    for (let i = 0n; i < 6n; i++) node.submit(signOp(A, node.domain, params.depth, { kind: 'transfer', from: 0, to: 0, amount: 1n, nonce: i }))
    const first = node.dispatch()
    const second = node.dispatch()
    assert.ok(first && second)
    assert.equal(node.dispatch(), undefined, 'maxInFlight = 2')
    assert.equal(prover.running, 2, 'both proofs started before either finished')
    prover.release(1) // the second proof finishes first…
    await new Promise((r) => setTimeout(r, 10))
    assert.equal(mock.readSync<number>(contract.address, 'batches', []), 1, '…but waits for the first on L1')
    prover.release(0)
    const [r1, r2] = await Promise.all([first.report, second.report])
    assert.deepEqual([r1.batch, r2.batch], [1n, 2n])
    assert.equal(prover.maxConcurrent, 2)
    prover.auto = true
    const rest = await node.flush()
    assert.equal(rest.length, 1)
    assert.equal(mock.readSync<bigint>(contract.address, 'root', []), node.sequencer.tree.root)
    assert.equal(node.sequencer.tree.get(0).nonce, 6n)
  })

  it('a proof that fails is not submitted: the batches in flight are undone and requeued, the node keeps serving', async () => {
    const { contract, mock, user, node, prover } = pooled(2)
    await user.callOk(contract, depositCall(A.publicKey), { value: 100n })
    prover.auto = true
    await node.flush()
    prover.auto = false
    const root = node.sequencer.tree.root
    for (let i = 0n; i < 4n; i++) node.submit(signOp(A, node.domain, params.depth, { kind: 'transfer', from: 0, to: 0, amount: 1n, nonce: i }))
    const first = node.dispatch()
    const second = node.dispatch()
    assert.ok(first && second)
    prover.release(1)
    prover.fail(0, new RollupError('PROVER', 'proving failed: out of memory', { details: { stage: 'prove' } }))
    await assert.rejects(first.report, (e: unknown) => e instanceof RollupError && e.code === 'PROVER')
    await assert.rejects(second.report, isAbandoned)
    assert.equal(mock.readSync<number>(contract.address, 'batches', []), 1, 'nothing submitted')
    assert.equal(node.sequencer.tree.root, root)
    assert.equal(node.sequencer.pendingOps, 4)
    assert.equal(node.inFlight, 0)
    // Admission goes on, and the next run proves everything.
    node.submit(signOp(A, node.domain, params.depth, { kind: 'transfer', from: 0, to: 0, amount: 1n, nonce: 4n }))
    prover.auto = true
    const reports = await node.flush()
    assert.equal(reports.reduce((n, r) => n + r.ops, 0), 5)
    assert.equal(mock.readSync<bigint>(contract.address, 'root', []), node.sequencer.tree.root)
  })
})

/** A stand-in prover pool whose proofs finish when the test says so (or at once with `auto`). */
function gatedProver(size: number) {
  const calls: { input: CircuitInput; resolve: (r: ProofResult) => void; reject: (e: Error) => void }[] = []
  const p = {
    size,
    running: 0,
    maxConcurrent: 0,
    auto: false,
    prove(input: CircuitInput): Promise<ProofResult> {
      p.running++
      p.maxConcurrent = Math.max(p.maxConcurrent, p.running)
      const done = (f: () => void) => {
        p.running--
        f()
      }
      return new Promise<ProofResult>((resolve, reject) => {
        const result = { proof: dummyProof, publicSignals: (input.pub as bigint[]).map(String), witnessMs: 0, proveMs: 0 }
        if (p.auto) done(() => resolve(result))
        else calls.push({ input, resolve: (r) => done(() => resolve(r)), reject: (e) => done(() => reject(e)) })
      })
    },
    release(i: number) {
      const c = calls[i]!
      c.resolve({ proof: dummyProof, publicSignals: (c.input.pub as bigint[]).map(String), witnessMs: 0, proveMs: 0 })
    },
    fail(i: number, e: Error) {
      calls[i]!.reject(e)
    },
    async close() {},
  }
  return p
}

function pooled(size: number) {
  const { mock, contract, wallet } = standInChain(params, { minDeposit: 1n })
  const prover = gatedProver(size)
  const node = new RollupNode({ l1: mock, contract, wallet: wallet('node-op'), prover })
  return { mock, contract, user: wallet('node-user'), node, prover }
}

