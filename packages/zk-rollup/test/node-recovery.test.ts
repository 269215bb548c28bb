/**
 * ATTACK 43: the node resumes from L1 after a restart and follows batches
 * posted by others (node.ts: RollupNode.resume, syncL1).
 *
 * Stand-in proofs (stand-in.ts); everything else is real. A "kill" drops the
 * node object at the points a crash can hit: while proving (nothing sent), and
 * after its batch went to L1 but before it read the receipt. The replacement
 * starts from L1 alone (calldata through the archive), as would a second
 * operator.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type Receipt, Wallet } from '@l2bench/l1-mock'
import {
  type CircuitParams,
  type TxDataSource,
  L2Key,
  RollupError,
  RollupNode,
  type RollupNodeOptions,
  depositCall,
  rebuildFromL1,
  signOp,
} from '../src/index.ts'
import { GWEI, standInChain, standInProver } from './stand-in.ts'

const params: CircuitParams = { n: 2, d: 1, depth: 4, mode: 'sha' }
const A = L2Key.fromSeed('recovery-A')
const B = L2Key.fromSeed('recovery-B')
const C = L2Key.fromSeed('recovery-C')

/** A wallet whose process dies right after a batch transaction went out (the receipt is never read). */
class DyingWallet extends Wallet {
  dieAfterBatch = false
  override async call<M extends { type: string }>(...args: Parameters<Wallet['call']>): Promise<Receipt> {
    const r = await super.call(...(args as [never, M]))
    if (this.dieAfterBatch && (args[1] as { type: string }).type === 'submitBatch') throw new Error('killed after sending the batch')
    return r
  }
}

function chain() {
  const c = standInChain(params)
  const user = c.wallet('recovery-user')
  const options = (wallet: Wallet, extra: Partial<RollupNodeOptions> = {}): RollupNodeOptions & { data: TxDataSource } => ({
    l1: c.archive.l1,
    contract: c.contract,
    wallet,
    prover: standInProver(),
    data: c.archive,
    ...extra,
  })
  /** The node's tree is the contract's state, and a rebuild from calldata agrees. */
  const inSync = async (node: RollupNode) => {
    assert.equal(node.sequencer.tree.root, c.read<bigint>('root'))
    const rebuilt = await rebuildFromL1({ l1: c.mock, contract: c.contract.address, params, data: c.archive })
    assert.equal(rebuilt.tree.root, node.sequencer.tree.root)
    assert.equal(node.l1Batch, c.read<number>('batches'))
  }
  return { ...c, user, options, inSync }
}

const transfer = (key: L2Key, node: RollupNode, from: number, to: number, gwei: bigint, nonce: bigint) =>
  signOp(key, node.domain, params.depth, { kind: 'transfer', from, to, amount: gwei * GWEI, nonce })

describe('ATTACK 43: resume from L1, follow batches posted by others', () => {
  it('killed after its batch went out and before it read the receipt: a node resumed from L1 applies that batch and carries on', async () => {
    const c = chain()
    const wallet = new DyingWallet(c.wallet('recovery-op').signer, c.archive.l1)
    await c.user.callOk(c.contract, depositCall(A.publicKey), { value: 10n * GWEI })
    await c.user.callOk(c.contract, depositCall(B.publicKey), { value: 10n * GWEI })
    const first = new RollupNode(c.options(wallet))
    await first.flush() // two deposit batches
    first.submit(transfer(A, first, 0, 1, 3n, 0n))
    wallet.dieAfterBatch = true
    await assert.rejects(first.runBatch(), /killed/)
    assert.equal(c.read<number>('batches'), 3, 'the batch landed')
    assert.notEqual(first.sequencer.tree.root, c.read<bigint>('root'), 'the dead node never learned it')
    await c.user.callOk(c.contract, depositCall(C.publicKey), { value: 10n * GWEI })

    const second = await RollupNode.resume(c.options(c.wallet('recovery-op-2')))
    await c.inSync(second)
    assert.equal(second.sequencer.pendingDeposits, 1, "C's deposit, from the contract's queue head")
    // A replay of the transfer the dead node already posted is refused on its nonce; the next one goes through.
    assert.throws(() => second.submit(transfer(A, second, 0, 1, 3n, 0n)), (e: unknown) => e instanceof RollupError && e.code === 'BAD_NONCE')
    second.submit(transfer(A, second, 0, 1, 2n, 1n))
    const reports = await second.flush()
    assert.equal(reports.length, 1)
    await c.inSync(second)
    assert.equal(second.sequencer.tree.get(0).balance, 5n * GWEI)
    assert.equal(second.sequencer.tree.get(1).balance, 15n * GWEI)
    assert.equal(second.sequencer.tree.get(2).balance, 10n * GWEI)
    assert.equal(second.sequencer.tree.totalBalance(), c.mock.balanceOf(c.contract.address))
  })

  it('killed while proving (background loop, nothing sent): a node resumed from L1 requeues the unconsumed deposits from the queue head, and its ops are resubmitted', async () => {
    const c = chain()
    await c.user.callOk(c.contract, depositCall(A.publicKey), { value: 10n * GWEI })
    const first = new RollupNode(c.options(c.wallet('recovery-op'), { batchTimeoutMs: 10 }))
    await first.flush()
    // The prover hangs forever: the process is killed mid-proof.
    const stuck = standInProver()
    stuck.prove = () => new Promise(() => {})
    const dying = new RollupNode({ ...c.options(c.wallet('recovery-op')), prover: stuck, batchTimeoutMs: 10 })
    await c.user.callOk(c.contract, depositCall(B.publicKey), { value: 10n * GWEI })
    dying.submit(transfer(A, dying, 0, 0, 1n, 0n))
    dying.start({ pollMs: 5 })
    for (let i = 0; i < 100 && !dying.sequencer.busy; i++) await new Promise((r) => setTimeout(r, 5))
    assert.ok(dying.sequencer.busy, 'a batch is being proven when the node dies')
    // (the dying node is abandoned here, its loop stuck on the proof)

    const resumed = await RollupNode.resume(c.options(c.wallet('recovery-op')))
    await c.inSync(resumed)
    assert.equal(resumed.sequencer.pendingDeposits, 1)
    resumed.submit(transfer(A, resumed, 0, 0, 1n, 0n)) // the wallet resubmits
    await resumed.flush()
    await c.inSync(resumed)
    assert.equal(c.read<number>('queueHead'), 2)
    assert.equal(resumed.sequencer.tree.get(0).nonce, 1n)
    assert.equal(resumed.sequencer.tree.totalBalance(), c.mock.balanceOf(c.contract.address))
  })

  it('a second operator takes over; the first, back online, follows its batches and builds on them (an op sent to both goes in once)', async () => {
    const c = chain()
    await c.user.callOk(c.contract, depositCall(A.publicKey), { value: 10n * GWEI })
    await c.user.callOk(c.contract, depositCall(B.publicKey), { value: 10n * GWEI })
    const one = new RollupNode(c.options(c.wallet('operator-one')))
    await one.flush()
    const shared = transfer(A, one, 0, 1, 1n, 0n)
    one.submit(shared)
    // Operator one goes quiet; operator two starts from L1 and takes the same op, and more.
    const two = await RollupNode.resume(c.options(c.wallet('operator-two')))
    two.submit(shared)
    two.submit(transfer(B, two, 1, 0, 2n, 0n))
    await c.user.callOk(c.contract, depositCall(C.publicKey), { value: 10n * GWEI })
    assert.equal((await two.flush()).length, 1) // C's deposit and both ops
    two.submit(transfer(B, two, 1, 2, 1n, 1n))
    assert.equal((await two.flush()).length, 1)
    await c.inSync(two)

    // Operator one is back: it applies two's batches, drops its stale copy of the shared op, and posts on top.
    one.submit(transfer(A, one, 0, 2, 1n, 1n))
    const mine = await one.flush()
    assert.equal(mine.length, 1)
    assert.deepEqual(one.followed, [2n, 3n])
    assert.equal(mine[0]?.batch, 4n)
    assert.ok(one.sequencer.dropped.some((d) => d.op === shared && d.error.code === 'BAD_NONCE'))
    await c.inSync(one)
    assert.equal(one.sequencer.tree.get(0).balance, 10n * GWEI - 1n * GWEI + 2n * GWEI - 1n * GWEI)
    assert.equal(one.sequencer.tree.get(2).balance, 10n * GWEI + 1n * GWEI + 1n * GWEI)
    // And two follows one.
    two.syncL1()
    await c.inSync(two)
  })

  it("a batch of someone else lands while ours is being proven: L1 refuses ours, the node applies theirs and retries; no op or deposit is lost", async () => {
    const c = chain()
    await c.user.callOk(c.contract, depositCall(A.publicKey), { value: 10n * GWEI })
    const one = new RollupNode(c.options(c.wallet('race-one')))
    await one.flush()
    const two = await RollupNode.resume(c.options(c.wallet('race-two')))
    // one's proof is held until two has posted.
    let release: () => void = () => {}
    const held = new Promise<void>((r) => {
      release = r
    })
    const honest = standInProver()
    const slow = standInProver()
    slow.prove = async (input) => {
      await held
      return honest.prove(input)
    }
    const racing = new RollupNode({ ...c.options(c.wallet('race-one')), prover: slow, tree: one.sequencer.tree.clone(), l1Batches: 1, depositQueueHead: 1 })
    racing.submit(transfer(A, racing, 0, 0, 1n, 0n))
    const attempt = racing.runBatch()
    two.submit(transfer(A, two, 0, 0, 2n, 0n))
    await two.flush()
    release()
    await assert.rejects(attempt, (e: unknown) => e instanceof RollupError && e.code === 'STATE_MISMATCH')
    assert.equal(racing.sequencer.busy, false)
    // Its op used nonce 0, which two's batch took: dropped with the reason; the node is in sync and keeps serving.
    assert.equal(await racing.runBatch(), undefined)
    assert.ok(racing.sequencer.dropped.some((d) => d.error.code === 'BAD_NONCE'))
    await c.inSync(racing)
    racing.submit(transfer(A, racing, 0, 0, 1n, 1n))
    assert.ok(await racing.runBatch())
    await c.inSync(racing)
  })

  it('without a calldata source a batch of someone else stops batching with a typed error, and admission keeps working', async () => {
    const c = chain()
    await c.user.callOk(c.contract, depositCall(A.publicKey), { value: 10n * GWEI })
    const { data: _none, ...noData } = c.options(c.wallet('blind'))
    const blind = new RollupNode(noData)
    const other = await RollupNode.resume(c.options(c.wallet('other')))
    await other.flush()
    await assert.rejects(blind.runBatch(), (e: unknown) => e instanceof RollupError && e.code === 'STATE_MISMATCH' && e.field === 'data')
    // It keeps admitting ops (against its pending view) and keeps saying why it cannot batch; nothing crashed or changed.
    blind.submit(transfer(A, blind, 0, 0, 1n, 0n))
    assert.equal(blind.sequencer.pendingOps, 1)
    await assert.rejects(blind.runBatch(), (e: unknown) => e instanceof RollupError && e.code === 'STATE_MISMATCH' && e.field === 'data')
    assert.equal(c.read<number>('batches'), 1)
    assert.equal(blind.l1Batch, 0)
  })
})
