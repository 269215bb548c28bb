/**
 * PaychContract on the mock L1: every voucher rule reverts with its code and
 * leaves nothing behind; create / addFunds / settle / collect follow the actor.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { sha256 } from '@l2bench/core'
import { PaychError, channelAddressFor, encodeVoucher } from '../src/index.ts'
import { RULE_CASES, caseContext } from './cases.ts'
import { ETH, assertReverted, channelInfo, lanes, makeWorld, openChannel, plain, revertCode } from './helpers.ts'

describe('contract rejects every bad voucher and changes nothing', () => {
  for (const c of RULE_CASES) {
    test(`${c.name} → ${c.code}`, async () => {
      const w = makeWorld()
      const ctx = await caseContext(w, c.funds)
      for (const v of c.prior(ctx)) await w.payee.callOk(w.contract, { type: 'update', voucher: v, secret: undefined })
      const bad = c.bad(ctx)
      const laneIds = [0, 1, 2, 7]
      const before = { info: channelInfo(w, ctx.channel), lanes: lanes(w, ctx.channel, laneIds), payer: w.l1.balanceOf(w.payer.address) }
      const contractBalance = w.l1.balanceOf(w.contract.address)
      const r = await w.payee.call(w.contract, { type: 'update', voucher: bad, secret: undefined }, { gasLimit: 500_000n })
      assertReverted(r, c.code)
      assert.deepEqual(channelInfo(w, ctx.channel), before.info)
      assert.deepEqual(lanes(w, ctx.channel, laneIds), before.lanes)
      assert.equal(w.l1.balanceOf(w.contract.address), contractBalance)
      assert.equal(w.l1.balanceOf(w.payer.address), before.payer)
      assert.ok(r.fee > 0n, 'the submitter still pays for the gas it used')
    })
  }
})

test('create: address known from the tx hash, key must be the sender’s, value becomes the balance', async () => {
  const w = makeWorld()
  const r = await w.payer.callOk(w.contract, { type: 'create', to: w.payee.address, fromPublicKey: w.payer.signer.publicKey }, { value: 7n * ETH })
  assert.equal(r.result, channelAddressFor(w.contract.address, r.txHash))
  const info = channelInfo(w, r.result as `0x${string}`)
  assert.equal(info.balance, 7n * ETH)
  assert.equal(info.from, w.payer.address)
  assert.equal(info.to, w.payee.address)
  assert.equal(w.l1.balanceOf(w.contract.address), 7n * ETH)
  assert.ok(r.breakdown.some((g) => g.label === 'create.channel' && g.op === 'storageNew'))
  const bad = await w.mallory.call(w.contract, { type: 'create', to: w.payee.address, fromPublicKey: w.payer.signer.publicKey }, { value: 1n, gasLimit: 300_000n })
  assertReverted(bad, 'BAD_PUBLIC_KEY')
})

test('update: lanes, cumulative amounts, merges and gas breakdown', async () => {
  const w = makeWorld()
  const ch = await openChannel(w, 100n)
  const r1 = await w.payee.callOk(w.contract, { type: 'update', voucher: plain(w.payer.signer, w, ch, 0, 1n, 5n), secret: undefined })
  assert.deepEqual(r1.result, { delta: 5n, toSend: 5n })
  const labels = new Set(r1.breakdown.map((g) => `${g.op}:${g.label}`))
  for (const l of ['ecrecover:update.signature', 'keccakBase:update.digest', 'storageNew:update.lane', 'logBase:log.Update']) assert.ok(labels.has(l), l)
  await w.payee.callOk(w.contract, { type: 'update', voucher: plain(w.payer.signer, w, ch, 1, 1n, 3n), secret: undefined })
  // Lane 1 absorbs lane 0: 10 − (5 + 3) = +2.
  const r3 = await w.payee.callOk(w.contract, {
    type: 'update',
    voucher: plain(w.payer.signer, w, ch, 1, 2n, 10n, { merges: [{ lane: 0, nonce: 2n }] }),
    secret: undefined,
  })
  assert.deepEqual(r3.result, { delta: 2n, toSend: 10n })
  assert.deepEqual(lanes(w, ch, [0, 1]), [
    { nonce: 2n, redeemed: 5n },
    { nonce: 2n, redeemed: 10n },
  ])
  // The payer may submit its own vouchers too; a stranger may not.
  await w.payer.callOk(w.contract, { type: 'update', voucher: plain(w.payer.signer, w, ch, 2, 1n, 1n), secret: undefined })
  const r5 = await w.mallory.call(w.contract, { type: 'update', voucher: plain(w.payer.signer, w, ch, 3, 1n, 1n), secret: undefined }, { gasLimit: 300_000n })
  assertReverted(r5, 'NOT_PARTY')
  assert.equal(channelInfo(w, ch).toSend, 11n)
})

test('time locks and hash locks are enforced at redemption', async () => {
  const w = makeWorld()
  const ch = await openChannel(w, 100n)
  const h = w.l1.head().height
  const early = plain(w.payer.signer, w, ch, 0, 1n, 5n, { timeLockMin: h + 10 })
  assertReverted(await w.payee.call(w.contract, { type: 'update', voucher: early, secret: undefined }, { gasLimit: 300_000n }), 'TIME_LOCK_MIN')
  w.l1.mine(10)
  await w.payee.callOk(w.contract, { type: 'update', voucher: early, secret: undefined })

  const secret = new TextEncoder().encode('preimage')
  const locked = plain(w.payer.signer, w, ch, 1, 1n, 5n, { secretHash: sha256(secret) })
  assertReverted(await w.payee.call(w.contract, { type: 'update', voucher: locked, secret: undefined }, { gasLimit: 300_000n }), 'SECRET_MISMATCH')
  assertReverted(
    await w.payee.call(w.contract, { type: 'update', voucher: locked, secret: new Uint8Array([1]) }, { gasLimit: 300_000n }),
    'SECRET_MISMATCH',
  )
  const ok = await w.payee.callOk(w.contract, { type: 'update', voucher: locked, secret })
  assert.ok(ok.breakdown.some((g) => g.label === 'update.secret'))
  assert.equal(channelInfo(w, ch).toSend, 10n)
})

test('settle → (updates until settlingAt) → collect pays toSend to `to`, the rest to `from`', async () => {
  const w = makeWorld({ settleDelay: 20 })
  const ch = await openChannel(w, 100n)
  await w.payer.callOk(w.contract, { type: 'addFunds', channel: ch }, { value: 50n })
  assert.equal(channelInfo(w, ch).balance, 150n)
  assertReverted(await w.payee.call(w.contract, { type: 'collect', channel: ch }, { gasLimit: 200_000n }), 'NOT_SETTLING')
  const s = await w.payer.callOk(w.contract, { type: 'settle', channel: ch })
  assert.equal(s.result, s.height + 20)
  assert.equal(s.events[0]?.name, 'Settle')
  assertReverted(await w.payee.call(w.contract, { type: 'settle', channel: ch }, { gasLimit: 200_000n }), 'ALREADY_SETTLING')
  // The payee can still redeem, and a voucher's minSettleHeight pushes settlement back.
  const late = s.height + 40
  await w.payee.callOk(w.contract, { type: 'update', voucher: plain(w.payer.signer, w, ch, 0, 1n, 60n, { minSettleHeight: late }), secret: undefined })
  assert.equal(channelInfo(w, ch).settlingAt, late)
  w.l1.mine(25)
  assertReverted(await w.payee.call(w.contract, { type: 'collect', channel: ch }, { gasLimit: 200_000n }), 'SETTLE_NOT_DUE')
  w.l1.advanceTo(late)
  const lateVoucher = plain(w.payer.signer, w, ch, 1, 1n, 1n)
  assertReverted(await w.payee.call(w.contract, { type: 'update', voucher: lateVoucher, secret: undefined }, { gasLimit: 300_000n }), 'SETTLING_FINISHED')
  assertReverted(await w.payer.call(w.contract, { type: 'addFunds', channel: ch }, { value: 1n, gasLimit: 200_000n }), 'SETTLING_FINISHED')
  const payee0 = w.l1.balanceOf(w.payee.address)
  const payer0 = w.l1.balanceOf(w.payer.address)
  const c = await w.payee.callOk(w.contract, { type: 'collect', channel: ch })
  assert.deepEqual(c.result, { toTo: 60n, toFrom: 90n })
  assert.equal(w.l1.balanceOf(w.payee.address), payee0 + 60n - c.fee)
  assert.equal(w.l1.balanceOf(w.payer.address), payer0 + 90n)
  assert.equal(w.l1.balanceOf(w.contract.address), 0n)
  assertReverted(await w.payee.call(w.contract, { type: 'collect', channel: ch }, { gasLimit: 200_000n }), 'CHANNEL_CLOSED')
  assert.equal(w.l1.totalBalances() + w.l1.totalBurnt(), w.l1.totalMinted())
})

test('unknown channel, zero top-up and malformed calldata revert with typed reasons', async () => {
  const w = makeWorld()
  const ch = await openChannel(w, 10n)
  assertReverted(await w.payer.call(w.contract, { type: 'addFunds', channel: w.mallory.address }, { value: 1n, gasLimit: 200_000n }), 'UNKNOWN_CHANNEL')
  assertReverted(await w.payer.call(w.contract, { type: 'addFunds', channel: ch }, { value: 0n, gasLimit: 200_000n }), 'ZERO_AMOUNT')
  const bytes = encodeVoucher(plain(w.payer.signer, w, ch, 0, 1n, 1n))
  const r = await w.l1.receipt(await w.payee.sendRaw(w.contract.address, Uint8Array.of(3, ...bytes.subarray(0, 10)), { gasLimit: 100_000n }))
  assert.equal(r.status, 'reverted')
  assert.equal(PaychError.fromRevert(r.revertReason), undefined)
  assert.equal(revertCode(r), undefined)
})
