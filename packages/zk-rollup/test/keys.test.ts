/**
 * ATTACK 41 (keys): public keys outside Baby Jubjub's prime-order subgroup
 * are refused wherever a key enters — the contract's deposit, the calldata
 * decoder, the deposit-entry check, the sequencer's admission and the op
 * signature check — all through isValidPublicKey (keys.ts).
 *
 * The hole it closes: for a key A of order 8, 8h·A is the identity, so the
 * off-chain check S·B8 = R8 + 8h·A accepted R8 = S·B8 for any S (a signature
 * anyone can make), while the circuit refuses it (8A has x = 0). A key with a
 * small-order component is refused too (8h·A erases the component, so whoever
 * holds the secret of its prime-order part signs for it as well: a second key
 * for one secret). The node's fallback when a proof fails
 * anyway is in isolation.test.ts.
 */
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { describe, it } from 'node:test'
import { Base8, inCurve, mulPointEscalar, subOrder } from '@zk-kit/baby-jubjub'
import {
  AccountTree,
  type BatchBody,
  type CircuitParams,
  L2Key,
  RollupError,
  Sequencer,
  SUBGROUP_CHECK_GAS,
  checkDepositEntry,
  decodeBatchCalldata,
  depositCall,
  encodeBatchCalldata,
  isValidPublicKey,
  opMessage,
  verifyOpSignature,
} from '../src/index.ts'
import { ORDER8, forgedSignature, mixedKey } from './small-order.ts'
import { GWEI, standInChain } from './stand-in.ts'

const { verifySignature } = createRequire(import.meta.url)('@zk-kit/eddsa-poseidon') as typeof import('@zk-kit/eddsa-poseidon')

const params: CircuitParams = { n: 2, d: 1, depth: 4, mode: 'sha' }
const domain = { chainId: 31337n, contract: '0x2222222222222222222222222222222222222222' as const }

const isIdentity = (p: readonly bigint[]) => p[0] === 0n && p[1] === 1n
const alice = L2Key.fromSeed('keys-alice')
const MIXED = mixedKey(alice.publicKey)

describe('ATTACK 41: keys outside the prime-order subgroup', () => {
  it('the points: ORDER8 has order 8, MIXED is on the curve; only subgroup points are valid keys', () => {
    assert.ok(inCurve([ORDER8[0], ORDER8[1]]))
    assert.ok(isIdentity(mulPointEscalar([ORDER8[0], ORDER8[1]], 8n)))
    assert.ok(!isIdentity(mulPointEscalar([ORDER8[0], ORDER8[1]], 4n)))
    assert.ok(inCurve([MIXED[0], MIXED[1]]))
    assert.ok(!isIdentity(mulPointEscalar([MIXED[0], MIXED[1]], subOrder)))
    assert.equal(isValidPublicKey(ORDER8), false)
    assert.equal(isValidPublicKey(MIXED), false)
    assert.equal(isValidPublicKey([0n, 1n]), false, 'identity')
    assert.equal(isValidPublicKey([0n, 21888242871839275222246405745257275088548364400416034343698204186575808495616n]), false, 'order 2')
    assert.equal(isValidPublicKey([Base8[0], Base8[1]]), true)
    for (let i = 0; i < 5; i++) assert.equal(isValidPublicKey(L2Key.fromSeed(`keys-${i}`).publicKey), true)
  })

  it('op signature check: the forged signature that the curve-only check accepted is refused', () => {
    const message = opMessage(domain, params.depth, { kind: 'transfer', from: 0, to: 1, amount: GWEI, nonce: 0n })
    const sig = forgedSignature()
    assert.equal(verifySignature(message, sig, [ORDER8[0], ORDER8[1]]), true, 'the old (curve-only) check accepts it')
    assert.equal(verifyOpSignature(message, sig, ORDER8), false)
    // Any S: the forgery needs no secret at all.
    assert.equal(verifySignature(message, forgedSignature(777n), [ORDER8[0], ORDER8[1]]), true)
    assert.equal(verifyOpSignature(message, forgedSignature(777n), ORDER8), false)
    assert.equal(verifyOpSignature(message, alice.sign(message), alice.publicKey), true)
  })

  it('contract: a deposit to an order-8 or mixed key is refused (BAD_DEPOSIT, pubX), nothing queued; the subgroup check is charged', async () => {
    const c = standInChain(params)
    const user = c.wallet('keys-user')
    for (const pk of [ORDER8, MIXED]) {
      const r = await user.call(c.contract, depositCall(pk), { value: GWEI, gasLimit: 1_000_000n })
      assert.equal(r.revertCode, 'BAD_DEPOSIT')
      assert.equal(r.revertField, 'pubX')
    }
    assert.equal(c.read<number>('queueLength'), 0)
    assert.equal(c.mock.balanceOf(c.contract.address), 0n)
    const ok = await user.callOk(c.contract, depositCall(alice.publicKey), { value: GWEI })
    assert.ok(ok.breakdown.some((g) => g.label === 'deposit.subgroupCheck' && g.gas === SUBGROUP_CHECK_GAS))
  })

  it('calldata decoder and deposit-entry check refuse such keys with typed errors naming the field', () => {
    const body: BatchBody = { newRoot: 1n, deposits: [{ index: 0, publicKey: alice.publicKey, amount: GWEI }], ops: [] }
    const bytes = encodeBatchCalldata(params, body)
    assert.deepEqual(decodeBatchCalldata(params, bytes).deposits[0]?.publicKey, alice.publicKey)
    for (const pk of [ORDER8, MIXED]) {
      const bad = Uint8Array.from(bytes)
      const at = 35 + 1 // newRoot, counts, then the deposit's index byte
      for (let i = 0; i < 32; i++) {
        bad[at + i] = Number((pk[0] >> BigInt(8 * (31 - i))) & 0xffn)
        bad[at + 32 + i] = Number((pk[1] >> BigInt(8 * (31 - i))) & 0xffn)
      }
      assert.throws(
        () => decodeBatchCalldata(params, bad),
        (e: unknown) => e instanceof RollupError && e.code === 'MALFORMED_CALLDATA' && e.field === 'body.deposits[0].publicKey',
      )
      assert.throws(() => encodeBatchCalldata(params, { ...body, deposits: [{ index: 0, publicKey: pk, amount: GWEI }] }), /prime-order subgroup/)
      assert.throws(
        () => checkDepositEntry({ publicKey: pk, amount: GWEI }, 'entry'),
        (e: unknown) => e instanceof RollupError && e.code === 'BAD_PUBLIC_KEY' && e.field === 'entry.publicKey',
      )
    }
  })

  it('sequencer: an op from an account whose key is not in the subgroup (a state from before this fix) is refused at admission, nothing queued', () => {
    const tree = new AccountTree(params.depth)
    tree.set(0, { publicKey: ORDER8, balance: 10n * GWEI, nonce: 0n })
    tree.set(1, { publicKey: alice.publicKey, balance: 0n, nonce: 0n })
    const seq = new Sequencer({ params, domain, tree })
    const op = { kind: 'transfer' as const, from: 0, to: 1, amount: 10n * GWEI, nonce: 0n, signature: forgedSignature() }
    assert.throws(
      () => seq.submit(op),
      (e: unknown) => e instanceof RollupError && e.code === 'BAD_PUBLIC_KEY' && e.field === 'op.from',
    )
    assert.equal(seq.pendingOps, 0)
    assert.equal(seq.pendingAccount(1)?.balance, 0n)
  })
})
