/**
 * Restarts over the same SQLite file (Lotus TestPaychGetRestart*): a create or
 * add-funds message still pending when the manager closes completes with the
 * right amounts after reopening; vouchers, lanes, reservations and queued funds
 * survive; a settlement that started while the payee was away is caught up.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import type { Wallet } from '@l2bench/l1-mock'
import { PaychManager, SqliteStore, encodeVoucher, isPaychError } from '../src/index.ts'
import { type World, channelInfo, makeWorld } from './helpers.ts'

const dir = mkdtempSync(join(tmpdir(), 'paych-restart-'))
after(() => rmSync(dir, { recursive: true, force: true }))
let n = 0

function opener(w: World, wallet: Wallet) {
  const path = join(dir, `m${n++}.sqlite`)
  return () => PaychManager.open({ l1: w.l1, wallet, contract: w.contract, store: new SqliteStore(path) })
}

test('restart mid-create: the pending create completes with the right amount', async () => {
  const w = makeWorld({ autoMine: false })
  const open = opener(w, w.payer)
  const m1 = await open()
  const { channel, messageId } = await m1.create(w.payer.address, w.payee.address, 100n)
  assert.equal(await m1.reserveFunds(channel, 30n), undefined)
  m1.close()
  w.l1.mine()
  const m2 = await open()
  assert.equal((await m2.waitForMessage(messageId))?.status, 'success')
  const st = await m2.status(channel)
  assert.deepEqual(
    [st.phase, st.confirmedAmount, st.pendingAmount, st.pendingMessage, st.reservedAmount],
    ['open', 100n, 0n, undefined, 30n],
  )
  assert.equal(channelInfo(w, channel).balance, 100n)
  assert.ok((await m2.voucherCreate(channel, 70n, 0)).voucher)
  assert.equal((await m2.voucherCreate(channel, 71n, 0)).shortfall, 1n)
  assert.deepEqual(await m2.list(), [channel])
  m2.close()
})

test('restart with the create still unmined: reopened manager awaits it', async () => {
  const w = makeWorld({ autoMine: false })
  const open = opener(w, w.payer)
  const m1 = await open()
  const { channel, messageId } = await m1.create(w.payer.address, w.payee.address, 40n)
  m1.close()
  const m2 = await open()
  assert.equal((await m2.status(channel)).phase, 'creating')
  w.l1.mine()
  await m2.waitForMessage(messageId)
  assert.deepEqual([(await m2.status(channel)).phase, (await m2.status(channel)).confirmedAmount], ['open', 40n])
  m2.close()
})

test('restart mid-add-funds: pending and queued funds both land, merged as before', async () => {
  const w = makeWorld({ autoMine: false })
  const open = opener(w, w.payer)
  const m1 = await open()
  const { channel } = await m1.create(w.payer.address, w.payee.address, 100n)
  w.l1.mine()
  await m1.idle()
  const pending = await m1.addFunds(channel, 50n)
  const queuedA = m1.addFunds(channel, 20n).catch((e: unknown) => e)
  const queuedB = m1.reserveFunds(channel, 160n).catch((e: unknown) => e) // 170 free (queued counts) → no message
  const queuedC = m1.reserveFunds(channel, 25n).catch((e: unknown) => e) // 10 free → queues 15
  assert.equal(await queuedB, undefined)
  await new Promise((r) => setImmediate(r))
  const st1 = await m1.status(channel)
  assert.deepEqual([st1.confirmedAmount, st1.pendingAmount, st1.queuedAmount, st1.reservedAmount], [100n, 50n, 35n, 185n])
  m1.close()
  for (const q of [queuedA, queuedC]) assert.ok(isPaychError(await q, 'MANAGER_CLOSED'), 'callers of queued requests are told')
  w.l1.mine()
  const m2 = await open()
  await m2.waitForMessage(pending)
  await new Promise((r) => setImmediate(r))
  const st2 = await m2.status(channel)
  assert.deepEqual([st2.confirmedAmount, st2.pendingAmount, st2.queuedAmount], [150n, 35n, 0n], 'queued funds went out in one message')
  assert.ok(st2.pendingMessage)
  w.l1.mine()
  await m2.idle()
  const st3 = await m2.status(channel)
  assert.deepEqual([st3.confirmedAmount, st3.pendingAmount, st3.reservedAmount, st3.availableAmount], [185n, 0n, 185n, 0n])
  assert.equal(channelInfo(w, channel).balance, 185n)
  assert.equal(w.l1.nonceOf(w.payer.address), 3n, 'create, add 50, merged add 35')
  m2.close()
})

test('vouchers, lanes and reservations survive a restart; nonces continue', async () => {
  const w = makeWorld()
  const open = opener(w, w.payer)
  const m1 = await open()
  const { channel, messageId } = await m1.create(w.payer.address, w.payee.address, 1000n)
  await m1.waitForMessage(messageId)
  await m1.allocateLane(channel)
  await m1.allocateLane(channel)
  for (let i = 1n; i <= 5n; i++) await m1.voucherCreate(channel, i * 10n, Number(i % 2n))
  await m1.reserveFunds(channel, 100n)
  const list1 = (await m1.voucherList(channel)).map(encodeVoucher)
  m1.close()
  const m2 = await open()
  assert.deepEqual((await m2.voucherList(channel)).map(encodeVoucher), list1)
  const st = await m2.status(channel)
  assert.deepEqual([st.voucherRedeemedAmount, st.reservedAmount], [50n + 40n, 100n])
  const next = await m2.voucherCreate(channel, 60n, 1)
  assert.equal(next.voucher?.nonce, 4n)
  assert.equal(await m2.allocateLane(channel), 2)
  m2.close()
})

test('payee offline while the payer settles: on reopen the settler redeems the stored vouchers', async () => {
  const w = makeWorld({ settleDelay: 100 })
  const payer = await PaychManager.open({ l1: w.l1, wallet: w.payer, contract: w.contract })
  const open = opener(w, w.payee)
  const p1 = await open()
  const { channel, messageId } = await payer.create(w.payer.address, w.payee.address, 500n)
  await payer.waitForMessage(messageId)
  for (let i = 1n; i <= 4n; i++) await p1.voucherAdd(channel, (await payer.voucherCreate(channel, i * 25n, 0)).voucher!)
  await p1.voucherAdd(channel, (await payer.voucherCreate(channel, 7n, 1)).voucher!)
  p1.close()
  await payer.settle(channel)
  w.l1.mine(3)
  const p2 = await open()
  await p2.idle()
  assert.equal(channelInfo(w, channel).toSend, 107n)
  assert.equal((await p2.status(channel)).phase, 'settling')
  assert.equal(p2.backgroundErrors.length, 0)
  p2.close()
  payer.close()
})
