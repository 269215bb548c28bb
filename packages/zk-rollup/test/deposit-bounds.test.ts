/**
 * ATTACK 44: filling the tree or the payee table with dust cannot stop
 * deposits (contract.ts: minimum deposit, leaf reservation, escrow bound).
 *
 * Before: ≈ 2^depth deposits of 1 wei to distinct keys filled the tree, the
 * next new key's deposit could never be placed (TREE_FULL in the sequencer)
 * and, the queue being in order, every deposit behind it was stuck for good.
 * Now a deposit below `minDeposit` is refused, every queued deposit has a leaf
 * reserved for it on L1 (a new key reserves one; when all 2^depth are taken a
 * deposit to a new key is refused up front and keeps its value), and the
 * escrow stays below 2^128 so a deposit to a known key always lands on its
 * account. Nothing queued can stall the queue. The payee table (2^depth − 1
 * ids, anyone can register) can be filled too, which stops new payee ids
 * only: the reserved id 2^depth − 1 is claimed on L1 with the account's key.
 * Stand-in proofs (stand-in.ts).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  DEFAULT_MIN_DEPOSIT,
  L2Key,
  MAX_BALANCE,
  RollupNode,
  claimByKeyCall,
  depositCall,
  forceWithdrawCall,
  keyPayeeId,
  registerPayee,
  signOp,
  withdrawalClaimFields,
  withdrawalsFromL1,
} from '../src/index.ts'
import { GWEI, addressOf, standInChain, standInProver } from './stand-in.ts'

const GAS = { gasLimit: 1_000_000n }

describe('ATTACK 44: dust cannot stop deposits', () => {
  it('a deposit below the minimum (default 1 gwei, or as configured) is refused and changes nothing', async () => {
    assert.equal(DEFAULT_MIN_DEPOSIT, GWEI)
    const c = standInChain({ n: 1, d: 1, depth: 4, mode: 'sha' })
    const user = c.wallet('dust-user')
    const key = L2Key.fromSeed('dust-key').publicKey
    const r = await user.call(c.contract, depositCall(key), { ...GAS, value: GWEI - 1n })
    assert.equal(r.revertCode, 'DEPOSIT_TOO_SMALL')
    assert.equal(r.revertField, 'value')
    assert.equal(c.read<number>('queueLength'), 0)
    assert.equal(c.read<number>('leavesReserved'), 0)
    assert.equal(c.mock.balanceOf(c.contract.address), 0n)
    await user.callOk(c.contract, depositCall(key), { value: GWEI })
    const strict = standInChain({ n: 1, d: 1, depth: 4, mode: 'sha' }, { minDeposit: 10n ** 16n })
    const r2 = await strict.wallet('dust-user').call(strict.contract, depositCall(key), { ...GAS, value: 10n ** 16n - 1n })
    assert.equal(r2.revertCode, 'DEPOSIT_TOO_SMALL')
  })

  it('dust to 2^depth distinct keys: a deposit to a new key is then refused up front (TREE_FULL, value kept), known keys still deposit, and every queued deposit is placed', async () => {
    const depth = 2
    const c = standInChain({ n: 1, d: 2, depth, mode: 'sha' })
    const attacker = c.wallet('fill-attacker')
    const victim = c.wallet('fill-victim')
    const dust = Array.from({ length: 2 ** depth }, (_, i) => L2Key.fromSeed(`fill-dust-${i}`).publicKey)
    let depositGas = 0
    for (const pk of dust) depositGas = (await attacker.callOk(c.contract, depositCall(pk), { value: GWEI })).gasUsed
    assert.equal(c.read<number>('leavesReserved'), 2 ** depth)
    const fresh = L2Key.fromSeed('fill-new').publicKey
    const before = victim.balance()
    const refused = await victim.call(c.contract, depositCall(fresh), { ...GAS, value: 5n * GWEI })
    assert.equal(refused.revertCode, 'TREE_FULL')
    assert.equal(refused.revertField, 'pubX')
    assert.equal(victim.balance(), before - refused.fee, 'the value stays with the sender (only gas is spent)')
    assert.equal(c.read<number>('queueLength'), 2 ** depth)
    // Known keys keep depositing, any number of times, and reserve nothing more.
    await victim.callOk(c.contract, depositCall(dust[0]!), { value: 5n * GWEI })
    await victim.callOk(c.contract, depositCall(dust[0]!), { value: 5n * GWEI })
    assert.equal(c.read<number>('leavesReserved'), 2 ** depth)
    // The operator places every queued deposit: the queue drains.
    const node = new RollupNode({ l1: c.archive.l1, contract: c.contract, wallet: c.wallet('fill-op'), prover: standInProver() })
    await node.flush()
    assert.equal(c.read<number>('queueHead'), c.read<number>('queueLength'))
    assert.equal(node.sequencer.pendingDeposits, 0)
    assert.equal(node.sequencer.tree.get(node.sequencer.tree.indexOfKey(dust[0]!)!).balance, 11n * GWEI)
    assert.equal(node.sequencer.tree.totalBalance(), c.mock.balanceOf(c.contract.address))
    // What a fill costs at this minimum: 2^depth × (minDeposit + one deposit's gas), a new-key deposit writing
    // at least three new slots (the key's leaf, the reserved count, the queue entry) besides the 21,000 base.
    assert.ok(depositGas > 21_000 + 3 * 20_000, `a new-key deposit costs ${depositGas} gas`)
  })

  it('the escrow stays below 2^128: a deposit that would pass it is refused (ESCROW_FULL), so no credit can overflow a balance', async () => {
    const c = standInChain({ n: 1, d: 1, depth: 4, mode: 'sha' })
    const half = MAX_BALANCE >> 1n // two of them: 2^128 − 2
    const [w1, w2] = [c.wallet('escrow-whale-1'), c.wallet('escrow-whale-2')]
    c.mock.mint(w1.address, half)
    c.mock.mint(w2.address, half)
    const key = L2Key.fromSeed('escrow-key').publicKey
    await w1.callOk(c.contract, depositCall(key), { value: half })
    await w2.callOk(c.contract, depositCall(key), { value: half - GWEI })
    const r = await w2.call(c.contract, depositCall(key), { ...GAS, value: 2n * GWEI })
    assert.equal(r.revertCode, 'ESCROW_FULL')
    assert.equal(r.revertField, 'value')
    assert.equal(c.mock.balanceOf(c.contract.address), MAX_BALANCE - 1n - GWEI)
    await w2.callOk(c.contract, depositCall(key), { value: GWEI })
    assert.equal(c.mock.balanceOf(c.contract.address), MAX_BALANCE - 1n)
  })

  it('a filled payee table stops neither deposits nor withdrawals: the reserved id 2^depth − 1 is claimed with the account key', async () => {
    const depth = 2
    const params = { n: 2, d: 1, depth, mode: 'sha' } as const
    const c = standInChain(params)
    const attacker = c.wallet('payee-attacker')
    for (let i = 0; i < 2 ** depth - 1; i++) await registerPayee(attacker, c.contract, addressOf(`payee-${i}`))
    const r = await attacker.call(c.contract, { type: 'registerPayee', payee: addressOf('payee-late') }, GAS)
    assert.equal(r.revertCode, 'PAYEES_EXHAUSTED')
    assert.equal(c.read<number>('payees'), keyPayeeId(depth), 'the last id is never registered')

    // Deposits go on; alice, with no payee id, withdraws to the reserved id (here by a forced withdrawal, served).
    const alice = c.wallet('payee-alice')
    const A = L2Key.fromSeed('payee-alice')
    await alice.callOk(c.contract, depositCall(A.publicKey), { value: 10n * GWEI })
    const node = new RollupNode({ l1: c.archive.l1, contract: c.contract, wallet: c.wallet('payee-op'), prover: standInProver(), data: c.archive })
    await node.flush()
    await alice.callOk(c.contract, forceWithdrawCall(A, node.domain, depth, { from: 0, to: keyPayeeId(depth), amount: 4n * GWEI, nonce: 0n }))
    node.submit(signOp(A, node.domain, depth, { kind: 'withdraw', from: 0, to: keyPayeeId(depth), amount: 1n * GWEI, nonce: 1n }))
    const [report] = await node.flush()
    assert.ok(report)
    assert.equal(c.read('forced', 0), undefined, 'served')
    assert.deepEqual(report.withdrawals.map((w) => w.account), [0, 0])
    assert.throws(() => node.withdrawalClaim(report, 0), /claimed with account 0's key/)

    // Alice claims from L1 data alone, naming her L1 address with her key.
    const fromL1 = await withdrawalsFromL1({ l1: c.mock, contract: c.contract.address, params, data: c.archive }, report.batch)
    assert.deepEqual(fromL1.withdrawals, report.withdrawals)
    const out = addressOf('payee-alice-out')
    const claim = claimByKeyCall(A, node.domain, node.sequencer.tree, fromL1, 0, out)
    const mallory = L2Key.fromSeed('payee-mallory')
    const before = c.mock.balanceOf(c.contract.address)
    for (const [what, call, code] of [
      ['signed by another key', claimByKeyCall(mallory, node.domain, node.sequencer.tree, fromL1, 0, out), 'BAD_SIGNATURE'],
      ['redirected payee', { ...claim, payee: addressOf('thief') }, 'BAD_SIGNATURE'],
      ['another amount', { ...claim, amount: 5n * GWEI }, 'WITHDRAWAL_PROOF_MISMATCH'],
      ['a leaf not in the root', { ...claim, account: { ...claim.account, balance: 1n } }, 'LEAF_PROOF_MISMATCH'],
    ] as const) {
      const rr = await attacker.call(c.contract, call, GAS)
      assert.equal(rr.revertCode, code, what)
    }
    // The same entry as an ordinary withdrawal to any address: not in the commitment.
    const plain = await attacker.call(c.contract, { type: 'withdraw', ...withdrawalClaimFields(report, 0), payee: out }, GAS)
    assert.equal(plain.revertCode, 'WITHDRAWAL_PROOF_MISMATCH')
    assert.equal(c.mock.balanceOf(c.contract.address), before)
    await attacker.callOk(c.contract, claim) // anyone may send it; the key chose the payee
    assert.equal(c.mock.balanceOf(out), 4n * GWEI)
    assert.equal((await attacker.call(c.contract, claim, GAS)).revertCode, 'ALREADY_WITHDRAWN')
    await attacker.callOk(c.contract, claimByKeyCall(A, node.domain, node.sequencer.tree, fromL1, 1, out))
    assert.equal(c.mock.balanceOf(out), 5n * GWEI)
    assert.equal(c.mock.balanceOf(c.contract.address), node.sequencer.tree.totalBalance())
  })
})
