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
 * account. Nothing queued can stall the queue. Stand-in proofs (stand-in.ts).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DEFAULT_MIN_DEPOSIT, L2Key, MAX_BALANCE, RollupNode, depositCall, registerPayee } from '../src/index.ts'
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
    // What a fill costs at this minimum (recorded for the README): 2^depth × (minDeposit + one deposit's gas).
    assert.ok(depositGas > 100_000, `a new-key deposit costs ${depositGas} gas`)
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

  it('payee ids are bounded by 2^depth (documented); filling the table does not touch deposits', async () => {
    const depth = 2
    const c = standInChain({ n: 1, d: 1, depth, mode: 'sha' })
    const attacker = c.wallet('payee-attacker')
    for (let i = 0; i < 2 ** depth; i++) await registerPayee(attacker, c.contract, addressOf(`payee-${i}`))
    const r = await attacker.call(c.contract, { type: 'registerPayee', payee: addressOf('payee-late') }, GAS)
    assert.equal(r.revertCode, 'PAYEES_EXHAUSTED')
    await attacker.callOk(c.contract, depositCall(L2Key.fromSeed('payee-key').publicKey), { value: GWEI })
    assert.equal(c.read<number>('queueLength'), 1)
  })
})
