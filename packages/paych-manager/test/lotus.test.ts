/**
 * Cases of Lotus's paychmgr tests (paych_test.go, paychget_test.go,
 * paychvoucherfunds_test.go, settle_test.go, store_test.go) not covered by the
 * rule table (cases.ts) or the other files, ported to this API. Lotus sets
 * lane states in a mock; here they are made real by redeeming vouchers on
 * chain first. The failing TestCheckVoucherValid cases are RULE_CASES.
 * Not ported: TestPaychGetMergeAddFundsCtxCancel* (no request cancellation
 * here), TestAddVoucherProof / TestCheckSpendable proofs (no `Extra`).
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { Address } from '@l2bench/core'
import { PaychManager, type SignedVoucher } from '../src/index.ts'
import { type World, channelInfo, lanes, makeWorld, openChannel, plain, rejectsWith, settleAll, turns } from './helpers.ts'

async function payeeOf(w: World) {
  return PaychManager.open({ l1: w.l1, wallet: w.payee, contract: w.contract })
}

/** A channel payer → payee created through the payer's manager and mined (manual mining). */
async function minedChannel(w: World, amount: bigint) {
  const payer = await PaychManager.open({ l1: w.l1, wallet: w.payer, contract: w.contract })
  const { channel } = await payer.create(w.payer.address, w.payee.address, amount)
  w.l1.mine()
  await payer.idle()
  return { payer, channel }
}

/** Redeems vouchers on chain directly (the lane states Lotus's tests put in their mock). */
async function onChain(w: World, ...vs: SignedVoucher[]) {
  for (const voucher of vs) await w.payee.callOk(w.contract, { type: 'update', voucher, secret: undefined })
}

describe('TestCheckVoucherValid, the passing cases', () => {
  const cases: Array<{ name: string; balance: bigint; prior: (w: World, ch: Address) => SignedVoucher[]; lane: number; nonce: bigint; amount: bigint }> = [
    { name: 'passes when voucher amount < balance', balance: 10n, prior: () => [], lane: 0, nonce: 1n, amount: 5n },
    {
      name: 'passes when nonce higher',
      balance: 10n,
      prior: (w, ch) => [plain(w.payer.signer, w, ch, 1, 2n, 2n)],
      lane: 1,
      nonce: 3n,
      amount: 5n,
    },
    {
      name: 'passes when nonce for different lane',
      balance: 10n,
      prior: (w, ch) => [plain(w.payer.signer, w, ch, 1, 3n, 2n)],
      lane: 2,
      nonce: 2n,
      amount: 5n,
    },
    {
      // toSend 1 (lane 3) + lane 1 superseded 4 → 6: 7 ≤ 10.
      name: 'passes when voucher + total redeemed <= balance',
      balance: 10n,
      prior: (w, ch) => [plain(w.payer.signer, w, ch, 3, 1n, 1n), plain(w.payer.signer, w, ch, 1, 1n, 4n)],
      lane: 1,
      nonce: 2n,
      amount: 6n,
    },
  ]
  for (const c of cases)
    test(c.name, async () => {
      const w = makeWorld()
      const ch = await openChannel(w, c.balance)
      await onChain(w, ...c.prior(w, ch))
      const payee = await payeeOf(w)
      const v = plain(w.payer.signer, w, ch, c.lane, c.nonce, c.amount)
      await payee.voucherCheckValid(ch, v)
      assert.equal(await payee.voucherCheckSpendable(ch, v), true)
      // And the contract agrees.
      await onChain(w, v)
      payee.close()
    })
})

test('TestCheckVoucherValidCountingAllLanes: the sum over every lane counts, with stored vouchers replayed on the chain state', async () => {
  const w = makeWorld()
  const ch = await openChannel(w, 10n)
  // On chain: toSend 1 (lane 0), lane 1 = 3, lane 2 = 4.
  await onChain(w, plain(w.payer.signer, w, ch, 0, 1n, 1n), plain(w.payer.signer, w, ch, 1, 1n, 3n), plain(w.payer.signer, w, ch, 2, 1n, 4n))
  const payee = await payeeOf(w)
  await rejectsWith(payee.voucherCheckValid(ch, plain(w.payer.signer, w, ch, 1, 2n, 6n)), 'INSUFFICIENT_CHANNEL_FUNDS') // 6 + 4 + 1 = 11
  const four = plain(w.payer.signer, w, ch, 1, 2n, 4n) // 4 + 4 + 1 = 9
  await payee.voucherCheckValid(ch, four)
  assert.equal(await payee.voucherAdd(ch, four), 1n)
  await rejectsWith(payee.voucherCheckValid(ch, plain(w.payer.signer, w, ch, 1, 3n, 6n)), 'INSUFFICIENT_CHANNEL_FUNDS') // 11 again
  await payee.voucherCheckValid(ch, plain(w.payer.signer, w, ch, 1, 3n, 5n)) // 10
  payee.close()
})

test('TestAddVoucherNextLane / TestAllocateLaneWithExistingLaneState: a voucher on an unallocated lane moves allocateLane past it', async () => {
  const w = makeWorld()
  const payer = await PaychManager.open({ l1: w.l1, wallet: w.payer, contract: w.contract })
  const { channel, messageId } = await payer.create(w.payer.address, w.payee.address, 100n)
  await payer.waitForMessage(messageId)
  await payer.voucherCreate(channel, 2n, 2)
  assert.equal(await payer.allocateLane(channel), 3)
  await payer.voucherCreate(channel, 2n, 1) // below: nextLane stays
  assert.equal(await payer.allocateLane(channel), 4)
  await payer.voucherCreate(channel, 2n, 7)
  assert.equal(await payer.allocateLane(channel), 8)
  // TestStore: lanes of an untracked channel.
  await rejectsWith(payer.allocateLane(w.mallory.address), 'UNKNOWN_CHANNEL')
})

test('TestBestSpendable: after a lane is redeemed the best of the others is still chosen, and a lower redemption pending does not hide the best', async () => {
  const w = makeWorld({ autoMine: false })
  const { payer, channel } = await minedChannel(w, 20n)
  const payee = await payeeOf(w)
  const l1v = [1n, 2n, 3n].map((a) => plain(w.payer.signer, w, channel, 1, a, a))
  const l2v1 = plain(w.payer.signer, w, channel, 2, 1n, 2n)
  for (const v of [...l1v, l2v1]) await payee.voucherAdd(channel, v)
  await payee.voucherSubmit(channel, l2v1)
  await payee.voucherSubmit(channel, l1v[0] as SignedVoucher) // lane 1's first voucher
  const best = await payee.submitBest(channel)
  assert.equal(best.length, 1, 'lane 1 only: lane 2 is redeemed, lane 1 still has a better voucher than the pending one')
  await settleAll(w.l1, [payee, payer])
  assert.equal(channelInfo(w, channel).toSend, 3n + 2n)
  assert.deepEqual(lanes(w, channel, [1, 2]), [
    { nonce: 3n, redeemed: 3n },
    { nonce: 1n, redeemed: 2n },
  ])
  assert.equal(w.l1.nonceOf(w.payee.address), 3n, 'three redemptions, none reverted')
  assert.deepEqual(await payee.submitBest(channel), [])
})

test('TestSubmitVoucher: a voucher submitted without being added is stored, and cannot be submitted again', async () => {
  const w = makeWorld({ autoMine: false })
  const { channel } = await minedChannel(w, 50n)
  const payee = await payeeOf(w)
  const v = plain(w.payer.signer, w, channel, 1, 1n, 3n)
  await payee.voucherSubmit(channel, v)
  assert.deepEqual((await payee.voucherList(channel)).map((x) => x.amount), [3n])
  await rejectsWith(payee.voucherSubmit(channel, v), 'ALREADY_SUBMITTED')
  w.l1.mine()
  await payee.idle()
  assert.equal(await payee.voucherCheckSpendable(channel, v), false)
  assert.equal(channelInfo(w, channel).toSend, 3n)
})

test('TestPaychAddVoucherAfterAddFunds: a voucher short of funds goes through once the funds are added', async () => {
  const w = makeWorld()
  const payer = await PaychManager.open({ l1: w.l1, wallet: w.payer, contract: w.contract })
  const { channel, messageId } = await payer.create(w.payer.address, w.payee.address, 10n)
  await payer.waitForMessage(messageId)
  assert.ok((await payer.voucherCreate(channel, 10n, 1)).voucher)
  assert.deepEqual(await payer.voucherCreate(channel, 5n, 2), { voucher: undefined, shortfall: 5n })
  await payer.waitForMessage(await payer.addFunds(channel, 5n))
  assert.ok((await payer.voucherCreate(channel, 5n, 2)).voucher)
})

test('TestPaychSettle: a settling channel is no longer looked up; a new create makes a second channel; both are listed', async () => {
  const w = makeWorld()
  const payer = await PaychManager.open({ l1: w.l1, wallet: w.payer, contract: w.contract })
  const first = await payer.create(w.payer.address, w.payee.address, 10n)
  await payer.waitForMessage(first.messageId)
  await payer.waitForMessage(await payer.settle(first.channel))
  await rejectsWith(payer.lookup(w.payer.address, w.payee.address), 'NO_FREE_CHANNEL')
  // No funds go into a settling channel (they would only be refunded at collect).
  await rejectsWith(payer.addFunds(first.channel, 1n), 'ALREADY_SETTLING')
  await rejectsWith(payer.reserveFunds(first.channel, 1n), 'ALREADY_SETTLING')
  const second = await payer.create(w.payer.address, w.payee.address, 5n)
  await payer.waitForMessage(second.messageId)
  assert.notEqual(second.channel, first.channel)
  assert.equal(await payer.lookup(w.payer.address, w.payee.address), second.channel)
  assert.deepEqual(await payer.list(), [first.channel, second.channel])
})

test('TestPaychAvailableFunds: confirmed, pending, queued and voucher amounts through a create, a queued add and vouchers', async () => {
  const w = makeWorld({ autoMine: false })
  const payer = await PaychManager.open({ l1: w.l1, wallet: w.payer, contract: w.contract })
  await rejectsWith(payer.lookup(w.payer.address, w.payee.address), 'NO_FREE_CHANNEL')
  const { channel, messageId } = await payer.create(w.payer.address, w.payee.address, 10n)
  const amounts = async () => {
    const s = await payer.status(channel)
    return [s.confirmedAmount, s.pendingAmount, s.queuedAmount, s.voucherRedeemedAmount, s.pendingMessage !== undefined]
  }
  assert.deepEqual(await amounts(), [0n, 10n, 0n, 0n, true])
  const add = payer.addFunds(channel, 5n)
  await turns()
  assert.deepEqual(await amounts(), [0n, 10n, 5n, 0n, true])
  w.l1.mine()
  assert.equal((await payer.waitForMessage(messageId))?.status, 'success')
  const addHash = await add
  assert.notEqual(addHash, messageId)
  assert.deepEqual(await amounts(), [10n, 5n, 0n, 0n, true])
  w.l1.mine()
  await payer.waitForMessage(addHash)
  assert.deepEqual(await amounts(), [15n, 0n, 0n, 0n, false])
  await payer.voucherCreate(channel, 3n, 1)
  await payer.voucherCreate(channel, 2n, 2)
  assert.deepEqual(await amounts(), [15n, 0n, 0n, 5n, false])
})
