/**
 * Attacks on the write-ahead outbox beyond a kill (crash.test.ts): a receipt
 * that never arrives, messages that revert on chain (no reorg), messages the
 * L1 drops, a nonce gap left by a dropped message, another user of the same
 * account holding a nonce, and a restart with messages of every kind pending.
 * Each ends with the funds where they should be, to the unit.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { Wallet } from '@l2bench/l1-mock'
import { PaychManager, type SignedVoucher, SqliteStore, isPaychError } from '../src/index.ts'
import { ETH, type World, channelInfo, makeWorld, rejectsWith, settleAll, turns } from './helpers.ts'

const dir = mkdtempSync(join(tmpdir(), 'paych-outbox-'))
after(() => rmSync(dir, { recursive: true, force: true }))
let files = 0

function sqlite(w: World, wallet: Wallet, path: string) {
  return PaychManager.open({ l1: w.l1, wallet: new Wallet(wallet.signer, w.l1), contract: w.contract, store: new SqliteStore(path) })
}

test('a receipt that never arrives wedges nothing: other channels work, the manager closes and reopens, and it lands with the right amounts when the L1 lets it', async () => {
  const w = makeWorld({ autoMine: false })
  const path = join(dir, `never${files++}.sqlite`)
  const m1 = await sqlite(w, w.payer, path)
  const b = await m1.create(w.payer.address, w.payee.address, 500n)
  w.l1.mine()
  await m1.idle()
  w.l1.delaySender(w.payer.address, 40) // what the payer sends now is held for 40 blocks
  const a = await m1.create(w.payer.address, w.payee.address, 100n)
  const ahead = await m1.reserveFunds(a.channel, 60n) // fits in the pending 100: no message
  assert.equal(ahead, undefined)
  const queued = m1.addFunds(a.channel, 7n).catch((e: unknown) => e)
  w.l1.mine(5)
  await turns()
  // Channel B still pays and reserves; its own add-funds waits behind the stuck nonce.
  assert.ok((await m1.voucherCreate(b.channel, 50n, 0)).voucher)
  await m1.reserveFunds(b.channel, 100n)
  await m1.releaseFunds(b.channel, 100n)
  const addB = await m1.addFunds(b.channel, 11n)
  assert.deepEqual([(await m1.status(a.channel)).phase, (await m1.status(a.channel)).queuedAmount], ['creating', 7n])
  assert.deepEqual(await m1.list(), [b.channel])
  m1.close()
  assert.ok(isPaychError(await queued, 'MANAGER_CLOSED'))
  w.l1.delaySender(w.payer.address, 0)
  const m2 = await sqlite(w, w.payer, path)
  assert.equal((await m2.status(a.channel)).phase, 'creating')
  w.l1.mine(40)
  await settleAll(w.l1, [m2])
  assert.equal((await m2.waitForMessage(addB))?.status, 'success')
  const [sa, sb] = [await m2.status(a.channel), await m2.status(b.channel)]
  assert.deepEqual([sa.phase, sa.confirmedAmount, sa.pendingAmount, sa.queuedAmount, sa.reservedAmount], ['open', 107n, 0n, 0n, 60n])
  assert.deepEqual([sb.confirmedAmount, sb.voucherRedeemedAmount], [511n, 50n])
  assert.deepEqual([channelInfo(w, a.channel).balance, channelInfo(w, b.channel).balance], [107n, 511n])
  assert.deepEqual(m2.backgroundErrors, [])
  m2.close()
})

test('reverted on chain (no reorg): an add-funds releases its amount, a queued one goes out alone; settle and collect can be sent again (Lotus TestPaychGetRecoverAfterAddFundsError)', async () => {
  const w = makeWorld({ autoMine: false, injectReverts: true, settleDelay: 5 })
  const payer = await PaychManager.open({ l1: w.l1, wallet: w.payer, contract: w.contract })
  const start = w.l1.balanceOf(w.payer.address)
  const { channel } = await payer.create(w.payer.address, w.payee.address, 10n)
  w.l1.mine()
  await payer.idle()
  const add = await payer.addFunds(channel, 5n)
  const behind = payer.addFunds(channel, 2n)
  await turns()
  w.reverts.add('addFunds')
  w.l1.mine()
  w.reverts.clear()
  assert.equal((await payer.waitForMessage(add))?.status, 'reverted')
  const sent = await behind // the queued 2 went out on its own
  let st = await payer.status(channel)
  assert.deepEqual([st.confirmedAmount, st.pendingAmount, st.pendingMessage, st.queuedAmount], [10n, 2n, sent, 0n])
  w.l1.mine()
  await payer.idle()
  st = await payer.status(channel)
  assert.deepEqual([st.confirmedAmount, st.pendingAmount], [12n, 0n])
  assert.ok(payer.backgroundErrors.some((e) => isPaychError(e, 'CHAIN_MESSAGE_FAILED') && e.message.includes(add)))
  // settle reverted: still open, and it can be settled again.
  const s1 = await payer.settle(channel)
  w.reverts.add('settle')
  w.l1.mine()
  w.reverts.clear()
  assert.equal((await payer.waitForMessage(s1))?.status, 'reverted')
  assert.equal((await payer.status(channel)).phase, 'open')
  const s2 = await payer.settle(channel)
  w.l1.mine()
  await payer.waitForMessage(s2)
  assert.equal((await payer.status(channel)).phase, 'settling')
  w.l1.advanceTo(channelInfo(w, channel).settlingAt)
  const c1 = await payer.collect(channel)
  w.reverts.add('collect')
  w.l1.mine()
  w.reverts.clear()
  assert.equal((await payer.waitForMessage(c1))?.status, 'reverted')
  assert.equal((await payer.status(channel)).phase, 'settling')
  const c2 = await payer.collect(channel)
  w.l1.mine()
  await payer.waitForMessage(c2)
  assert.equal((await payer.status(channel)).phase, 'closed')
  // Nothing was paid out (no vouchers): the payer lost exactly its gas.
  assert.equal(w.l1.balanceOf(w.payer.address), start - w.l1.totalBurnt())
  assert.equal(w.l1.balanceOf(w.contract.address), 0n)
})

test('a funding message the L1 dropped: its amount is queued again (not lost, not resent in a loop) and goes out with the next request', async () => {
  const w = makeWorld()
  const payer = await PaychManager.open({ l1: w.l1, wallet: w.payer, contract: w.contract })
  const { channel, messageId } = await payer.create(w.payer.address, w.payee.address, 100n)
  await payer.waitForMessage(messageId)
  const nonce = w.l1.nonceOf(w.payer.address)
  w.l1.dropSender(w.payer.address, 3)
  const dropped = await payer.addFunds(channel, 30n)
  assert.equal(await payer.waitForMessage(dropped), undefined)
  await turns(10)
  let st = await payer.status(channel)
  assert.deepEqual([st.confirmedAmount, st.pendingAmount, st.queuedAmount], [100n, 0n, 30n])
  assert.equal(w.l1.nonceOf(w.payer.address), nonce, 'nothing was resent while the L1 drops')
  assert.ok(payer.backgroundErrors.some((e) => isPaychError(e, 'CHAIN_MESSAGE_FAILED')))
  w.l1.mine(3)
  const h = await payer.addFunds(channel, 5n)
  await payer.waitForMessage(h)
  st = await payer.status(channel)
  assert.deepEqual([st.confirmedAmount, st.pendingAmount, st.queuedAmount], [135n, 0n, 0n])
  assert.equal(channelInfo(w, channel).balance, 135n)
})

test('a nonce gap left by a message dropped when mined is filled by the next message, so the ones behind it land', async () => {
  const w = makeWorld({ autoMine: false })
  const payer = await PaychManager.open({ l1: w.l1, wallet: w.payer, contract: w.contract })
  const a = await payer.create(w.payer.address, w.payee.address, 1n)
  const b = await payer.create(w.payer.address, w.payee.address, 1n)
  w.l1.mine()
  await payer.idle()
  // Each passes admission on its own; mined in order, the second finds the funds gone.
  const big = 600n * ETH
  await payer.addFunds(a.channel, big) // nonce n
  const starved = await payer.addFunds(b.channel, big) // nonce n + 1: dropped when mined
  const c = await payer.create(w.payer.address, w.payee.address, 3n) // nonce n + 2: waits on the gap
  w.l1.mine()
  await turns()
  assert.equal(await payer.waitForMessage(starved), undefined)
  assert.equal(w.l1.pendingCount(), 1, 'the create waits behind the gap')
  assert.equal((await payer.status(b.channel)).queuedAmount, big)
  // The next message takes the free nonce n + 1; the create behind it lands.
  const fill = await payer.addFunds(a.channel, 2n)
  await settleAll(w.l1, [payer])
  assert.equal((await payer.waitForMessage(fill))?.status, 'success')
  assert.equal((await payer.status(c.channel)).phase, 'open')
  assert.deepEqual([channelInfo(w, a.channel).balance, channelInfo(w, b.channel).balance, channelInfo(w, c.channel).balance], [1n + big + 2n, 1n, 3n])
})

test('another user of the same account holding a nonce is stepped over, and the shared Wallet keeps counting past ours', async () => {
  const w = makeWorld({ autoMine: false })
  const payer = await PaychManager.open({ l1: w.l1, wallet: w.payer, contract: w.contract })
  const foreign1 = await w.payer.sendRaw(w.mallory.address, new Uint8Array(), { value: 1n, gasLimit: 21_000n }) // nonce 0
  const fresh = new Wallet(w.payer.signer, w.l1) // a second object for the same key, counting from the chain
  const foreign2 = await fresh.sendRaw(w.mallory.address, new Uint8Array(), { value: 2n, gasLimit: 21_000n }) // nonce 0 taken → refused
    .catch((e: { code?: string }) => e.code)
  assert.equal(foreign2, 'NONCE_PENDING')
  const { channel } = await payer.create(w.payer.address, w.payee.address, 9n) // skips nonce 0
  const foreign3 = await w.payer.sendRaw(w.mallory.address, new Uint8Array(), { value: 3n, gasLimit: 21_000n }) // the shared wallet: nonce 2
  await settleAll(w.l1, [payer])
  assert.equal((await w.l1.receipt(foreign1)).status, 'success')
  assert.equal((await w.l1.receipt(foreign3)).status, 'success')
  assert.equal(channelInfo(w, channel).balance, 9n)
  assert.equal(w.l1.nonceOf(w.payer.address), 3n)
  assert.deepEqual(payer.backgroundErrors, [])
})

test('restart with messages of every kind pending (create, add-funds, settle, redeem) and a fresh Wallet: all land once, and new messages follow them', async () => {
  const w = makeWorld({ autoMine: false, settleDelay: 50 })
  const path = join(dir, `all${files++}.sqlite`)
  // The payer's manager also receives on a channel from mallory.
  const mallory = await PaychManager.open({ l1: w.l1, wallet: w.mallory, contract: w.contract })
  const m1 = await sqlite(w, w.payer, path)
  const toPayer = await mallory.create(w.mallory.address, w.payer.address, 300n)
  const a = await m1.create(w.payer.address, w.payee.address, 100n)
  const s = await m1.create(w.payer.address, w.payee.address, 40n)
  w.l1.mine()
  await settleAll(w.l1, [m1, mallory])
  const v = (await mallory.voucherCreate(toPayer.channel, 120n, 0)).voucher as SignedVoucher
  await m1.voucherAdd(toPayer.channel, v)
  const start = w.l1.balanceOf(w.payer.address)
  const burntBefore = w.l1.totalBurnt()
  // Four messages in flight, none mined.
  const b = await m1.create(w.payer.address, w.payee.address, 70n)
  await m1.addFunds(a.channel, 30n)
  await m1.settle(s.channel)
  await m1.voucherSubmit(toPayer.channel, v)
  assert.equal(w.l1.pendingCount(), 4)
  m1.close()
  const m2 = await sqlite(w, w.payer, path)
  await rejectsWith(m2.voucherSubmit(toPayer.channel, v), 'ALREADY_SUBMITTED')
  const d = await m2.create(w.payer.address, w.payee.address, 5n)
  assert.equal(w.l1.pendingCount(), 5)
  await settleAll(w.l1, [m2, mallory])
  assert.deepEqual(m2.backgroundErrors, [])
  const balances = await Promise.all([a, b, s, d].map(async (x) => [(await m2.status(x.channel)).confirmedAmount, channelInfo(w, x.channel).balance]))
  assert.deepEqual(balances, [
    [130n, 130n],
    [70n, 70n],
    [40n, 40n],
    [5n, 5n],
  ])
  assert.equal((await m2.status(s.channel)).phase, 'settling')
  assert.equal(channelInfo(w, toPayer.channel).toSend, 120n)
  assert.equal(await m2.voucherCheckSpendable(toPayer.channel, v), false)
  const updates = w.l1.events({ address: w.contract.address, name: 'Update' }).length
  assert.equal(updates, 1, 'the redemption landed once')
  // Conservation: the payer paid 70 + 30 + 5 into channels, and gas.
  assert.equal(start - w.l1.balanceOf(w.payer.address), 105n + (w.l1.totalBurnt() - burntBefore))
  assert.equal(w.l1.totalBalances() + w.l1.totalBurnt(), w.l1.totalMinted())
  m2.close()
})
