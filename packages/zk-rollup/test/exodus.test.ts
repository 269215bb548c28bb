/**
 * ATTACK 42: an operator that stops or censors cannot keep users' funds, and
 * deposits never consumed are refundable (exodus.ts, escape.ts).
 *
 * The chain is real (contract, sequencer, node, L1) with stand-in proofs
 * (stand-in.ts): exodus mode needs no proof at all, and the batches here only
 * move the state the exits are proven against. rollup.test.ts runs an exodus
 * after real proven batches too.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import type { Receipt, Wallet } from '@l2bench/l1-mock'
import {
  type CircuitParams,
  L2Key,
  type OpenForcedRequest,
  RollupError,
  RollupNode,
  type RollupNodeOptions,
  depositCall,
  exitCall,
  forceWithdrawCall,
  rebuildFromL1,
  refundDepositCall,
  refuteForcedCall,
  registerPayee,
  signOp,
} from '../src/index.ts'
import { GWEI, addressOf, standInChain, standInProver } from './stand-in.ts'

const params: CircuitParams = { n: 2, d: 1, depth: 4, mode: 'sha' }
const DELAY = 3600
const GAS = { gasLimit: 5_000_000n }

function expectRevert(r: Receipt, code: string): void {
  assert.equal(r.status, 'reverted', `expected ${code}, got success`)
  assert.equal(r.revertCode, code, r.revertReason)
}

function chain() {
  const c = standInChain(params, { forcedDelaySeconds: DELAY })
  const operator = c.wallet('exodus-operator')
  const nodeOptions = (): RollupNodeOptions => ({ l1: c.archive.l1, contract: c.contract, wallet: operator, prover: standInProver(), data: c.archive })
  const snapshot = () => ({
    root: c.read<bigint>('root'),
    batches: c.read<number>('batches'),
    queueHead: c.read<number>('queueHead'),
    exodus: c.read<boolean>('exodus'),
    escrow: c.mock.balanceOf(c.contract.address),
  })
  return { ...c, operator, nodeOptions, snapshot }
}

/** `name` holds 10 gwei at leaf 0 (deposited and batched) and a payee id for `${name}-out`; the node is honest. */
async function funded(c: ReturnType<typeof chain>, name: string) {
  const wallet = c.wallet(name)
  const key = L2Key.fromSeed(name)
  const out = addressOf(`${name}-out`)
  await wallet.callOk(c.contract, depositCall(key.publicKey), { value: 10n * GWEI })
  const payee = await registerPayee(wallet, c.contract, out)
  const node = new RollupNode(c.nodeOptions())
  await node.flush()
  return { wallet, key, out, payee, node }
}

/** An operator that never includes one account's forced withdrawal (and, in the tests, never gets its ops). */
class CensoringNode extends RollupNode {
  constructor(
    options: RollupNodeOptions,
    readonly victim: number,
  ) {
    super(options)
  }
  protected override handleForcedRequest(req: OpenForcedRequest): void {
    if (req.from !== this.victim) super.handleForcedRequest(req)
  }
}

const code = (c: string) => (e: unknown) => e instanceof RollupError && e.code === c

describe('ATTACK 42: forced exit and exodus mode', () => {
  it('an operator that goes silent: after the delay anyone starts exodus; every leaf exits against the last verified root, the unconsumed deposit is refunded, the pending withdrawal is paid; nothing is lost', async () => {
    const c = chain()
    const [alice, bob, carol] = ['alice', 'bob', 'carol'].map((n) => c.wallet(`silent-${n}`)) as [Wallet, Wallet, Wallet]
    const [A, B, C] = ['alice', 'bob', 'carol'].map((n) => L2Key.fromSeed(`silent-${n}`)) as [L2Key, L2Key, L2Key]
    const out = { alice: addressOf('silent-alice-out'), bob: addressOf('silent-bob-out'), carol: addressOf('silent-carol-out') }
    await alice.callOk(c.contract, depositCall(A.publicKey), { value: 10n * GWEI })
    await bob.callOk(c.contract, depositCall(B.publicKey), { value: 5n * GWEI })
    const bobPayee = await registerPayee(bob, c.contract, out.bob)
    const node = new RollupNode(c.nodeOptions())
    await node.flush()
    node.submit(signOp(A, node.domain, params.depth, { kind: 'transfer', from: 0, to: 1, amount: 3n * GWEI, nonce: 0n }))
    node.submit(signOp(B, node.domain, params.depth, { kind: 'withdraw', from: 1, to: bobPayee, amount: 2n * GWEI, nonce: 0n }))
    const [withdrawBatch] = await node.flush()
    assert.ok(withdrawBatch)
    // The operator goes silent: carol's deposit is never consumed.
    const carolQueued = (await carol.callOk(c.contract, depositCall(C.publicKey), { value: 7n * GWEI })).result as number
    assert.equal(carolQueued, 2)
    assert.equal(c.read<number>('queueHead'), 2)

    expectRevert(await carol.call(c.contract, { type: 'activateExodus', reason: 'deposit', index: 2 }, GAS), 'TOO_EARLY')
    expectRevert(await carol.call(c.contract, { type: 'activateExodus', reason: 'deposit', index: 1 }, GAS), 'NO_PENDING_DEPOSIT')
    c.mock.advance(DELAY)
    await carol.callOk(c.contract, { type: 'activateExodus', reason: 'deposit', index: 2 })
    assert.equal(c.read<boolean>('exodus'), true)
    // Nothing moves the state any more.
    await assert.rejects(node.runBatch(), code('EXODUS'))
    expectRevert(await alice.call(c.contract, depositCall(A.publicKey), { ...GAS, value: GWEI }), 'EXODUS')
    expectRevert(await alice.call(c.contract, { ...withdrawBatch.call, body: withdrawBatch.call.body }, GAS), 'EXODUS')
    expectRevert(await carol.call(c.contract, { type: 'activateExodus', reason: 'deposit', index: 2 }, GAS), 'EXODUS')

    // Each user rebuilds the tree from L1 calldata alone and exits.
    const { tree } = await rebuildFromL1({ l1: c.mock, contract: c.contract.address, params, data: c.archive })
    assert.equal(tree.root, c.read<bigint>('root'))
    assert.equal(tree.get(0).balance, 7n * GWEI)
    assert.equal(tree.get(1).balance, 6n * GWEI)
    const before = c.snapshot()
    const good = exitCall(A, node.domain, tree, 0, out.alice)
    expectRevert(await alice.call(c.contract, exitCall(B, node.domain, tree, 0, out.alice), GAS), 'BAD_SIGNATURE') // another key
    expectRevert(await alice.call(c.contract, { ...good, payee: addressOf('thief') }, GAS), 'BAD_SIGNATURE') // signed for another payee
    expectRevert(await alice.call(c.contract, { ...good, account: { ...good.account, balance: 70n * GWEI } }, GAS), 'LEAF_PROOF_MISMATCH')
    expectRevert(await alice.call(c.contract, { ...good, index: 1 }, GAS), 'LEAF_PROOF_MISMATCH')
    expectRevert(await alice.call(c.contract, { ...good, siblings: good.siblings.slice(1) }, GAS), 'LEAF_PROOF_MISMATCH')
    // Three siblings per level of the quaternary tree, in order: swapping two of a level proves nothing.
    const swapped = [...good.siblings]
    ;[swapped[0], swapped[1]] = [swapped[1]!, swapped[0]!]
    assert.notDeepEqual(swapped, good.siblings)
    expectRevert(await alice.call(c.contract, { ...good, siblings: swapped }, GAS), 'LEAF_PROOF_MISMATCH')
    // Bob's leaf (index 1) with Alice's siblings: the position among the four children comes from the index.
    expectRevert(await alice.call(c.contract, { ...exitCall(B, node.domain, tree, 1, out.alice), siblings: good.siblings }, GAS), 'LEAF_PROOF_MISMATCH')
    assert.deepEqual(c.snapshot(), before)
    await alice.callOk(c.contract, good)
    expectRevert(await alice.call(c.contract, good, GAS), 'ALREADY_EXITED')
    await bob.callOk(c.contract, exitCall(B, node.domain, tree, 1, out.bob))

    const refund = refundDepositCall(C, node.domain, 2, 7n * GWEI, out.carol)
    expectRevert(await carol.call(c.contract, { ...refund, amount: 8n * GWEI }, GAS), 'DEPOSIT_MISMATCH')
    expectRevert(await carol.call(c.contract, refundDepositCall(A, node.domain, 0, 10n * GWEI, out.carol), GAS), 'NOT_REFUNDABLE') // consumed
    expectRevert(await carol.call(c.contract, refundDepositCall(B, node.domain, 2, 7n * GWEI, out.carol), GAS), 'DEPOSIT_MISMATCH') // not B's deposit
    await carol.callOk(c.contract, refund)
    expectRevert(await carol.call(c.contract, refund, GAS), 'ALREADY_REFUNDED')
    // A withdrawal of a verified batch stays claimable.
    await bob.callOk(c.contract, node.withdrawalClaim(withdrawBatch, 0))

    assert.equal(c.mock.balanceOf(out.alice), 7n * GWEI)
    assert.equal(c.mock.balanceOf(out.bob), 6n * GWEI + 2n * GWEI)
    assert.equal(c.mock.balanceOf(out.carol), 7n * GWEI)
    assert.equal(c.mock.balanceOf(c.contract.address), 0n, 'everything deposited left the contract, to its owners')
  })

  it('an operator that censors one user: the forced withdrawal is not included by its deadline while batches go on, the user starts exodus and everyone exits', async () => {
    const c = chain()
    const [alice, bob] = ['alice', 'bob'].map((n) => c.wallet(`censor-${n}`)) as [Wallet, Wallet]
    const [A, B] = ['alice', 'bob'].map((n) => L2Key.fromSeed(`censor-${n}`)) as [L2Key, L2Key]
    const out = { alice: addressOf('censor-alice-out'), bob: addressOf('censor-bob-out') }
    await alice.callOk(c.contract, depositCall(A.publicKey), { value: 10n * GWEI })
    await bob.callOk(c.contract, depositCall(B.publicKey), { value: 10n * GWEI })
    const alicePayee = await registerPayee(alice, c.contract, out.alice)
    const node = new CensoringNode(c.nodeOptions(), 0)
    await node.flush()

    // Alice's ops never make it in; she asks L1 for her whole balance.
    await alice.callOk(c.contract, forceWithdrawCall(A, node.domain, params.depth, { from: 0, to: alicePayee, amount: 10n * GWEI, nonce: 0n }))
    const req = c.read<{ deadline: number }>('forced', 0)
    assert.ok(req !== undefined)
    expectRevert(await alice.call(c.contract, { type: 'activateExodus', reason: 'forced', index: 0 }, GAS), 'TOO_EARLY')
    // The operator keeps working for everyone else, around her request.
    let nonce = 0n
    for (let i = 0; i < 3; i++) {
      node.submit(signOp(B, node.domain, params.depth, { kind: 'transfer', from: 1, to: 0, amount: GWEI, nonce: nonce++ }))
      assert.equal((await node.flush()).length, 1)
      assert.equal(node.openForcedRequests().length, 1, 'seen, not served')
      c.mock.advance(DELAY / 3)
    }
    assert.equal(c.read<number>('batches'), 5)
    await alice.callOk(c.contract, { type: 'activateExodus', reason: 'forced', index: 0 })

    const { tree } = await rebuildFromL1({ l1: c.mock, contract: c.contract.address, params, data: c.archive })
    await alice.callOk(c.contract, exitCall(A, node.domain, tree, 0, out.alice))
    await bob.callOk(c.contract, exitCall(B, node.domain, tree, 1, out.bob))
    assert.equal(c.mock.balanceOf(out.alice), 13n * GWEI)
    assert.equal(c.mock.balanceOf(out.bob), 7n * GWEI)
    assert.equal(c.mock.balanceOf(c.contract.address), 0n)
  })

  it('an honest operator includes a forced withdrawal: the contract closes it, exodus cannot be started, the payee is paid', async () => {
    const c = chain()
    const { wallet: alice, key: A, out, payee, node } = await funded(c, 'honest-alice')
    await alice.callOk(c.contract, forceWithdrawCall(A, node.domain, params.depth, { from: 0, to: payee, amount: 4n * GWEI, nonce: 0n }))
    const [report] = await node.flush()
    assert.ok(report)
    assert.ok(report.receipt.events.some((e) => e.name === 'ForcedServed'))
    assert.equal(c.read('forced', 0), undefined)
    c.mock.advance(2 * DELAY)
    expectRevert(await alice.call(c.contract, { type: 'activateExodus', reason: 'forced', index: 0 }, GAS), 'NO_FORCED_REQUEST')
    await alice.callOk(c.contract, node.withdrawalClaim(report, 0))
    assert.equal(c.mock.balanceOf(out), 4n * GWEI)
    assert.equal(c.read<boolean>('exodus'), false)
  })

  it('forced requests: malformed ones are refused on L1, ones that cannot be served are refuted with a leaf proof, a valid one cannot be refuted', async () => {
    const c = chain()
    const { wallet: alice, key: A, payee, node } = await funded(c, 'refute-alice')
    const mallory = c.wallet('refute-mallory')
    const M = L2Key.fromSeed('refute-mallory')
    const d = node.domain
    const valid = forceWithdrawCall(A, d, params.depth, { from: 0, to: payee, amount: 4n * GWEI, nonce: 0n })

    const before = c.snapshot()
    expectRevert(await mallory.call(c.contract, { ...valid, amount: 5n * GWEI }, GAS), 'BAD_SIGNATURE')
    expectRevert(await mallory.call(c.contract, forceWithdrawCall(A, d, params.depth, { from: 0, to: 9, amount: GWEI, nonce: 0n }), GAS), 'UNKNOWN_PAYEE')
    expectRevert(await mallory.call(c.contract, { ...valid, amount: 10n ** 12n + 1n }, GAS), 'AMOUNT_NOT_REPRESENTABLE')
    expectRevert(await mallory.call(c.contract, { ...valid, from: 16 }, GAS), 'MALFORMED_CALLDATA')
    expectRevert(await mallory.call(c.contract, { ...valid, pubX: 0n, pubY: 1n }, GAS), 'BAD_SIGNATURE') // the identity as key
    assert.deepEqual(c.snapshot(), before)
    assert.equal(c.read('forced', 0), undefined)

    // Griefing: mallory's key, alice's account. L1 cannot tell; the operator refutes it (another key).
    await mallory.callOk(c.contract, forceWithdrawCall(M, d, params.depth, { from: 0, to: payee, amount: GWEI, nonce: 0n }))
    expectRevert(await alice.call(c.contract, valid, GAS), 'FORCED_PENDING')
    await node.serveForced()
    assert.deepEqual(node.refuted.at(-1), { from: 0, reason: 'OTHER_KEY' })
    // More than the balance; an empty leaf.
    await alice.callOk(c.contract, forceWithdrawCall(A, d, params.depth, { from: 0, to: payee, amount: 20n * GWEI, nonce: 0n }))
    await mallory.callOk(c.contract, forceWithdrawCall(M, d, params.depth, { from: 5, to: payee, amount: GWEI, nonce: 0n }))
    await node.serveForced()
    assert.deepEqual(node.refuted.slice(-2).map((r) => r.reason).sort(), ['BALANCE', 'NO_ACCOUNT'])
    assert.equal(c.read('forced', 0), undefined)
    assert.equal(c.read('forced', 5), undefined)
    // A valid request cannot be refuted (the leaf proof shows the op applies).
    await alice.callOk(c.contract, valid)
    expectRevert(await mallory.call(c.contract, refuteForcedCall(node.sequencer.tree, 0), GAS), 'FORCED_VALID')
    // A refutation against a leaf that is not in the root fails.
    const fake = refuteForcedCall(node.sequencer.tree, 0)
    expectRevert(await mallory.call(c.contract, { ...fake, account: { ...fake.account!, nonce: 1n } }, GAS), 'LEAF_PROOF_MISMATCH')
    assert.ok(c.read('forced', 0) !== undefined)
  })

  it("a forced withdrawal whose nonce another of the key's ops used is refuted once that op is verified (NONCE_USED)", async () => {
    const c = chain()
    const { wallet: alice, key: A, payee, node } = await funded(c, 'nonce-alice')
    // Alice has a transfer with nonce 0 admitted; then asks L1 to force a withdrawal with nonce 0 as well.
    node.submit(signOp(A, node.domain, params.depth, { kind: 'transfer', from: 0, to: 0, amount: GWEI, nonce: 0n }))
    await alice.callOk(c.contract, forceWithdrawCall(A, node.domain, params.depth, { from: 0, to: payee, amount: GWEI, nonce: 0n }))
    await node.flush()
    assert.deepEqual(node.refuted, [{ from: 0, reason: 'NONCE_USED' }])
    assert.equal(c.read('forced', 0), undefined)
  })

  it('property: whatever batches ran, after exodus every leaf exit, deposit refund and withdrawal claim together pay out exactly what was deposited', async () => {
    const keys = [0, 1, 2].map((i) => L2Key.fromSeed(`prop-exodus-${i}`))
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ k: fc.integer({ min: 0, max: 2 }), gwei: fc.integer({ min: 1, max: 50 }) }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.record({ from: fc.integer({ min: 0, max: 2 }), to: fc.integer({ min: 0, max: 2 }), gwei: fc.integer({ min: 1, max: 30 }), withdraw: fc.boolean() }), {
          maxLength: 4,
        }),
        fc.integer({ min: 0, max: 3 }),
        async (deposits, ops, unconsumed) => {
          const c = chain()
          const user = c.wallet('prop-user')
          const payee = await registerPayee(user, c.contract, addressOf('prop-payee'))
          const node = new RollupNode(c.nodeOptions())
          let total = 0n
          for (const d of deposits) {
            await user.callOk(c.contract, depositCall(keys[d.k]!.publicKey), { value: BigInt(d.gwei) * GWEI })
            total += BigInt(d.gwei) * GWEI
          }
          await node.flush()
          const leaf = (k: number) => node.sequencer.tree.indexOfKey(keys[k]!.publicKey)
          for (const o of ops) {
            const from = leaf(o.from)
            const to = o.withdraw ? payee : leaf(o.to)
            if (from === undefined || to === undefined) continue
            const account = node.sequencer.pendingAccount(from)!
            try {
              node.submit(signOp(keys[o.from]!, node.domain, params.depth, { kind: o.withdraw ? 'withdraw' : 'transfer', from, to, amount: BigInt(o.gwei) * GWEI, nonce: account.nonce }))
            } catch {
              // overdraft: refused, nothing queued
            }
          }
          const reports = await node.flush()
          for (let i = 0; i < unconsumed; i++) {
            await user.callOk(c.contract, depositCall(keys[i % 3]!.publicKey), { value: GWEI })
            total += GWEI
          }
          assert.equal(c.mock.balanceOf(c.contract.address), total)
          c.mock.advance(DELAY)
          const head = c.read<number>('queueHead')
          if (head < c.read<number>('queueLength')) await user.callOk(c.contract, { type: 'activateExodus', reason: 'deposit', index: head })
          else {
            // No deposit waits: a forced request the operator ignores starts exodus.
            const [k, idx] = [0, 1, 2].map((k) => [k, leaf(k)] as const).find(([, i]) => i !== undefined)!
            const acct = node.sequencer.tree.get(idx!)
            await user.callOk(c.contract, forceWithdrawCall(keys[k]!, node.domain, params.depth, { from: idx!, to: payee, amount: GWEI, nonce: acct.nonce }))
            c.mock.advance(DELAY)
            await user.callOk(c.contract, { type: 'activateExodus', reason: 'forced', index: idx! })
          }
          const { tree } = await rebuildFromL1({ l1: c.mock, contract: c.contract.address, params, data: c.archive })
          for (const [i, a] of tree.entries()) {
            const k = keys.findIndex((key) => key.publicKey[0] === a.publicKey[0])
            await user.callOk(c.contract, exitCall(keys[k]!, node.domain, tree, i, addressOf('prop-payee')))
          }
          for (let q = c.read<number>('queueHead'); q < c.read<number>('queueLength'); q++) {
            const e = c.mock.events({ address: c.contract.address, name: 'Deposit' }).find((ev) => ev.data.index === q)!
            const k = keys.findIndex((key) => key.publicKey[0] === e.data.pubX)
            await user.callOk(c.contract, refundDepositCall(keys[k]!, node.domain, q, e.data.amount as bigint, addressOf('prop-payee')))
          }
          for (const r of reports) for (let p = 0; p < r.withdrawals.length; p++) await user.callOk(c.contract, node.withdrawalClaim(r, p))
          assert.equal(c.mock.balanceOf(c.contract.address), 0n)
          assert.equal(c.mock.balanceOf(addressOf('prop-payee')), total)
        },
      ),
      { numRuns: 6 },
    )
  })
})
