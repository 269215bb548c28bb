/** Pure rule function and voucher codec: lane limit, settle heights, wire form, typed error round trip. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DecodeError, InvalidInputError, NodeSigner, secretKeyFromSeed } from '@l2bench/core'
import fc from 'fast-check'
import {
  type ChannelState,
  LANE_LIMIT,
  type LaneState,
  PaychError,
  applyVoucher,
  decodeVoucher,
  encodeVoucher,
  plainVoucher,
  signVoucher,
  toSignedVoucher,
  verifyVoucherSignature,
} from '../src/index.ts'
import { nodeVerifier } from '@l2bench/core'

const signer = new NodeSigner(secretKeyFromSeed('rules'))
const domain = { chainId: 5n, contract: '0x00000000000000000000000000000000000000cc' as const }
const ch = '0x00000000000000000000000000000000000000aa' as const

function env(lanes: Map<number, LaneState>, height = 10) {
  return { height, locks: 'all' as const, getLane: (l: number) => lanes.get(l), verifySignature: () => true }
}

test('a new lane past LANE_LIMIT is refused; existing lanes still update', () => {
  const lanes = new Map<number, LaneState>([[3, { nonce: 1n, redeemed: 1n }]])
  const state: ChannelState = { balance: 100n, toSend: 1n, settlingAt: 0, minSettleHeight: 0, laneCount: LANE_LIMIT }
  const sv = { ...plainVoucher(ch, 9, 1n, 1n), signature: new Uint8Array(64) }
  assert.throws(() => applyVoucher(ch, state, sv, env(lanes)), (e: unknown) => e instanceof PaychError && e.code === 'TOO_MANY_LANES')
  const ok = applyVoucher(ch, state, { ...sv, lane: 3, nonce: 2n, amount: 5n }, env(lanes))
  assert.equal(ok.delta, 4n)
  assert.equal(ok.laneCount, LANE_LIMIT)
})

test('minSettleHeight raises the channel minimum and a running settlingAt', () => {
  const state: ChannelState = { balance: 100n, toSend: 0n, settlingAt: 50, minSettleHeight: 0, laneCount: 0 }
  const sv = { ...plainVoucher(ch, 0, 1n, 1n), minSettleHeight: 80, signature: new Uint8Array(64) }
  const e = applyVoucher(ch, state, sv, env(new Map()))
  assert.deepEqual([e.settlingAt, e.minSettleHeight], [80, 80])
  const e2 = applyVoucher(ch, { ...state, settlingAt: 0 }, sv, env(new Map()))
  assert.deepEqual([e2.settlingAt, e2.minSettleHeight], [0, 80])
})

test('voucher wire form round-trips and signatures bind every field', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 0xffff_ffff }),
      fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }),
      fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
      fc.integer({ min: 0, max: 0xffff_ffff }),
      (lane, nonce, amount, minSettleHeight) => {
        const sv = signVoucher(signer, domain, { ...plainVoucher(ch, lane, nonce, amount), minSettleHeight })
        const bytes = encodeVoucher(sv)
        assert.deepEqual(decodeVoucher(bytes), sv)
        assert.ok(verifyVoucherSignature(nodeVerifier, domain, sv, signer.publicKey))
        assert.ok(!verifyVoucherSignature(nodeVerifier, { ...domain, chainId: 6n }, sv, signer.publicKey))
        assert.ok(!verifyVoucherSignature(nodeVerifier, domain, { ...sv, minSettleHeight: minSettleHeight === 0 ? 1 : minSettleHeight - 1 }, signer.publicKey))
      },
    ),
    { numRuns: 50 },
  )
})

test('malformed vouchers are refused with a typed error naming the field', () => {
  const sv = signVoucher(signer, domain, plainVoucher(ch, 0, 1n, 1n))
  assert.throws(() => decodeVoucher(Uint8Array.of(...encodeVoucher(sv), 0)), DecodeError)
  assert.throws(() => toSignedVoucher({ ...sv, amount: -1n }), (e: unknown) => e instanceof InvalidInputError && e.field === 'amount')
  assert.throws(() => toSignedVoucher({ ...sv, lane: 1.5 }), (e: unknown) => e instanceof InvalidInputError && e.field === 'lane')
  assert.throws(() => toSignedVoucher({ ...sv, merges: Array(17).fill({ lane: 1, nonce: 1n }) }), InvalidInputError)
  assert.throws(() => toSignedVoucher({ ...sv, signature: new Uint8Array(63) }), InvalidInputError)
})

test('PaychError survives a revert reason round trip', () => {
  const e = new PaychError('MERGE_SAME_LANE', 'cannot merge lane 1 into itself', { field: 'voucher.merges[0]' })
  const back = PaychError.fromRevert(e.message, e.field)
  assert.equal(back?.code, 'MERGE_SAME_LANE')
  assert.equal(back?.field, 'voucher.merges[0]')
  assert.equal(PaychError.fromRevert('out of gas'), undefined)
  assert.equal(PaychError.fromRevert('[NOT_A_CODE] x'), undefined)
})
