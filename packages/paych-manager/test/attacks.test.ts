/**
 * Issue 11 items 15, 16, 18 and 19 (ATTACKS 38–39), through the public API:
 *  15. a voucher already submitted and still pending is not submitted again;
 *  16. a channel whose create failed is not listed;
 *  18. after a restart with messages pending, a fresh Wallet's new messages
 *      take the next nonces, and queued funds are never dropped silently;
 *  19. voucherCheckValid accepts time-locked and hash-locked vouchers — a
 *      deliberate divergence from Lotus, listed in the README.
 * The crash-at-every-point tests of item 17 are in crash.test.ts.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { sha256 } from '@l2bench/core'
import { Wallet } from '@l2bench/l1-mock'
import { PaychManager, type SignedVoucher, SqliteStore, isPaychError } from '../src/index.ts'
import { type World, channelInfo, makeWorld, rejectsWith, settleAll, turns } from './helpers.ts'

const dir = mkdtempSync(join(tmpdir(), 'paych-attacks-'))
after(() => rmSync(dir, { recursive: true, force: true }))
let files = 0

async function pair(w: World, payeeStore?: string) {
  const payer = await PaychManager.open({ l1: w.l1, wallet: w.payer, contract: w.contract })
  const payee = await PaychManager.open({
    l1: w.l1,
    wallet: w.payee,
    contract: w.contract,
    ...(payeeStore === undefined ? {} : { store: new SqliteStore(payeeStore) }),
  })
  return { payer, payee }
}

async function openChannelVia(payer: PaychManager, w: World, amount: bigint) {
  const { channel, messageId } = await payer.create(w.payer.address, w.payee.address, amount)
  if (!w.l1.autoMine) w.l1.mine()
  assert.equal((await payer.waitForMessage(messageId))?.status, 'success')
  return channel
}

// ------------------------------------------------------------------ item 15 / ATTACKS 38

test('voucherSubmit refuses a voucher already submitted and still pending (ALREADY_SUBMITTED): no second message, no gas burnt', async () => {
  const w = makeWorld({ autoMine: false })
  const path = join(dir, `s${files++}.sqlite`)
  const { payer, payee } = await pair(w, path)
  const channel = await openChannelVia(payer, w, 1000n)
  const v1 = (await payer.voucherCreate(channel, 10n, 0)).voucher as SignedVoucher
  const v2 = (await payer.voucherCreate(channel, 20n, 0)).voucher as SignedVoucher
  const other = (await payer.voucherCreate(channel, 5n, 1)).voucher as SignedVoucher
  for (const v of [v1, v2, other]) await payee.voucherAdd(channel, v)
  const h = await payee.voucherSubmit(channel, v2)
  assert.equal(w.l1.pendingCount(), 1)
  await rejectsWith(payee.voucherSubmit(channel, v2), 'ALREADY_SUBMITTED')
  await rejectsWith(payee.voucherSubmit(channel, v1), 'ALREADY_SUBMITTED') // a lower nonce of the same lane
  assert.equal(await payee.voucherCheckSpendable(channel, v2), false)
  assert.equal(w.l1.pendingCount(), 1, 'nothing more was sent')
  // After a restart with the redemption still pending, it is still refused.
  payee.close()
  const again = await PaychManager.open({ l1: w.l1, wallet: new Wallet(w.payee.signer, w.l1), contract: w.contract, store: new SqliteStore(path) })
  await rejectsWith(again.voucherSubmit(channel, v2), 'ALREADY_SUBMITTED')
  assert.equal(w.l1.pendingCount(), 1)
  // Another lane is independent.
  const h2 = await again.voucherSubmit(channel, other)
  await settleAll(w.l1, [again, payer])
  assert.equal((await again.waitForMessage(h))?.status, 'success')
  assert.equal((await again.waitForMessage(h2))?.status, 'success')
  // Landed: the chain now says why.
  await rejectsWith(again.voucherSubmit(channel, v2), 'NONCE_TOO_LOW')
  assert.equal(channelInfo(w, channel).toSend, 25n)
  const updates = w.l1.events({ address: w.contract.address, name: 'Update' }).length
  assert.equal(w.l1.nonceOf(w.payee.address), BigInt(updates), 'every payee message succeeded (none reverted, no gas burnt for nothing)')
  assert.deepEqual(again.backgroundErrors, [])
  again.close()
  payer.close()
})

test('a redemption that reverted on chain does not count as submitted: the voucher can be submitted again', async () => {
  const w = makeWorld({ autoMine: false, injectReverts: true })
  const { payer, payee } = await pair(w)
  const channel = await openChannelVia(payer, w, 100n)
  const v = (await payer.voucherCreate(channel, 40n, 0)).voucher as SignedVoucher
  await payee.voucherAdd(channel, v)
  const first = await payee.voucherSubmit(channel, v)
  w.reverts.add('update')
  w.l1.mine()
  assert.equal((await payee.waitForMessage(first))?.status, 'reverted')
  w.reverts.clear()
  assert.ok(payee.backgroundErrors.some((e) => isPaychError(e, 'CHAIN_MESSAGE_FAILED')))
  assert.equal(await payee.voucherCheckSpendable(channel, v), true)
  const second = await payee.voucherSubmit(channel, v)
  w.l1.mine()
  assert.equal((await payee.waitForMessage(second))?.status, 'success')
  assert.equal(channelInfo(w, channel).toSend, 40n)
  await rejectsWith(payee.voucherSubmit(channel, v), 'NONCE_TOO_LOW')
})

// ------------------------------------------------------------------ item 16

test('a create that reverted on chain: not listed, queued requests rejected with a typed error, nothing held; a new create works (Lotus TestPaychGetCreateChannelWithErrorThenCreateAgain)', async () => {
  const w = makeWorld({ autoMine: false, injectReverts: true })
  const payer = await PaychManager.open({ l1: w.l1, wallet: w.payer, contract: w.contract })
  const start = w.l1.balanceOf(w.payer.address)
  const { channel, messageId } = await payer.create(w.payer.address, w.payee.address, 10n)
  const queued = payer.addFunds(channel, 5n).catch((e: unknown) => e)
  const reserved = payer.reserveFunds(channel, 25n).catch((e: unknown) => e) // 15 free (pending + queued) → 10 queued
  await turns()
  assert.deepEqual([(await payer.status(channel)).queuedAmount, (await payer.status(channel)).reservedAmount], [15n, 25n])
  assert.deepEqual(await payer.list(), [], 'not listed while the create is pending (as Lotus)')
  w.reverts.add('create')
  w.l1.mine()
  const receipt = await payer.waitForMessage(messageId)
  assert.equal(receipt?.status, 'reverted')
  for (const q of [queued, reserved]) assert.ok(isPaychError(await q, 'CHAIN_MESSAGE_FAILED'), String(await q))
  assert.deepEqual(await payer.list(), [])
  const st = await payer.status(channel)
  assert.deepEqual([st.phase, st.confirmedAmount, st.pendingAmount, st.queuedAmount, st.reservedAmount], ['failed', 0n, 0n, 0n, 0n])
  await rejectsWith(payer.lookup(w.payer.address, w.payee.address), 'NO_FREE_CHANNEL')
  await rejectsWith(payer.addFunds(channel, 1n), 'CHANNEL_CLOSED')
  assert.equal(w.l1.balanceOf(w.contract.address), 0n)
  assert.equal(w.l1.balanceOf(w.payer.address), start - (receipt?.fee ?? 0n), 'only the gas of the failed create was spent')
  w.reverts.clear()
  const second = await payer.create(w.payer.address, w.payee.address, 7n)
  w.l1.mine()
  await payer.idle()
  assert.deepEqual(await payer.list(), [second.channel])
  assert.equal((await payer.status(second.channel)).confirmedAmount, 7n)
  assert.equal(await payer.lookup(w.payer.address, w.payee.address), second.channel)
})

test('a create the L1 dropped: not listed, its status says failed, no funds moved (Lotus TestPaychGetRecoverAfterError, TestPaychGetWaitErr)', async () => {
  const w = makeWorld()
  const payer = await PaychManager.open({ l1: w.l1, wallet: w.payer, contract: w.contract })
  const start = w.l1.balanceOf(w.payer.address)
  w.l1.dropSender(w.payer.address, 1)
  const { channel, messageId } = await payer.create(w.payer.address, w.payee.address, 10n)
  assert.equal(await payer.waitForMessage(messageId), undefined)
  assert.equal(await payer.waitForMessage(messageId), undefined, 'the same answer when asked again')
  assert.deepEqual(await payer.list(), [])
  assert.equal((await payer.status(channel)).phase, 'failed')
  assert.equal(w.l1.balanceOf(w.payer.address), start)
  assert.ok(payer.backgroundErrors.some((e) => isPaychError(e, 'CHAIN_MESSAGE_FAILED')))
  w.l1.mine()
  const again = await payer.create(w.payer.address, w.payee.address, 7n)
  await payer.waitForMessage(again.messageId)
  assert.deepEqual(await payer.list(), [again.channel])
})

test('a create the L1 refuses at once leaves no trace (not listed, no record, no status)', async () => {
  const w = makeWorld()
  const payer = await PaychManager.open({ l1: w.l1, wallet: w.payer, contract: w.contract })
  w.l1.setOffline(w.payer.address, true)
  await assert.rejects(payer.create(w.payer.address, w.payee.address, 10n), (e: { code?: string }) => e.code === 'OFFLINE')
  assert.deepEqual(await payer.list(), [])
  assert.deepEqual(payer.store.listChannels(), [])
  assert.deepEqual(payer.store.pending(), [])
})

// ------------------------------------------------------------------ item 18

test('after a restart with a create pending, a fresh Wallet object creates again without NONCE_PENDING / NONCE_TOO_LOW', async () => {
  const w = makeWorld({ autoMine: false })
  const path = join(dir, `n${files++}.sqlite`)
  const m1 = await PaychManager.open({ l1: w.l1, wallet: w.payer, contract: w.contract, store: new SqliteStore(path) })
  const a = await m1.create(w.payer.address, w.payee.address, 100n)
  const b = await m1.create(w.payer.address, w.payee.address, 50n)
  m1.close()
  const fresh = new Wallet(w.payer.signer, w.l1) // knows no nonces: would take nonce 0
  const m2 = await PaychManager.open({ l1: w.l1, wallet: fresh, contract: w.contract, store: new SqliteStore(path) })
  const c = await m2.create(w.payer.address, w.payee.address, 25n)
  await settleAll(w.l1, [m2])
  for (const [ch, amount] of [
    [a.channel, 100n],
    [b.channel, 50n],
    [c.channel, 25n],
  ] as const) {
    assert.equal(channelInfo(w, ch).balance, amount)
    assert.equal((await m2.status(ch)).confirmedAmount, amount)
  }
  assert.equal(w.l1.nonceOf(w.payer.address), 3n)
  assert.deepEqual(m2.backgroundErrors, [])
  m2.close()
})

test('queued funds after a restart go out with the next nonce; when the L1 refuses them they stay queued (FUNDS_STILL_QUEUED) and go out later', async () => {
  const w = makeWorld({ autoMine: false })
  const path = join(dir, `q${files++}.sqlite`)
  const m1 = await PaychManager.open({ l1: w.l1, wallet: w.payer, contract: w.contract, store: new SqliteStore(path) })
  const { channel } = await m1.create(w.payer.address, w.payee.address, 100n)
  const queued = m1.addFunds(channel, 20n).catch((e: unknown) => e)
  await turns()
  m1.close()
  assert.ok(isPaychError(await queued, 'MANAGER_CLOSED'))
  const m2 = await PaychManager.open({ l1: w.l1, wallet: new Wallet(w.payer.signer, w.l1), contract: w.contract, store: new SqliteStore(path) })
  // The account goes offline: the merged message for the queued 20 is refused when the create lands.
  w.l1.setOffline(w.payer.address, true)
  w.l1.mine()
  await turns()
  let st = await m2.status(channel)
  assert.deepEqual([st.confirmedAmount, st.pendingAmount, st.queuedAmount], [100n, 0n, 20n], 'still queued, not dropped')
  const refused = m2.backgroundErrors.find((e) => isPaychError(e, 'FUNDS_STILL_QUEUED'))
  assert.ok(refused, m2.backgroundErrors.map(String).join('\n'))
  assert.equal((refused as { field?: string }).field, 'channel')
  w.l1.setOffline(w.payer.address, false)
  // The next request carries them (one message: 20 + 5).
  const h = await m2.addFunds(channel, 5n)
  w.l1.mine()
  assert.equal((await m2.waitForMessage(h))?.status, 'success')
  st = await m2.status(channel)
  assert.deepEqual([st.confirmedAmount, st.pendingAmount, st.queuedAmount], [125n, 0n, 0n])
  assert.equal(channelInfo(w, channel).balance, 125n)
  assert.equal(w.l1.nonceOf(w.payer.address), 2n, 'create, then one merged add-funds')
  m2.close()
})

test('queued funds refused in the background go out on the next restart', async () => {
  const w = makeWorld({ autoMine: false })
  const path = join(dir, `r${files++}.sqlite`)
  const m1 = await PaychManager.open({ l1: w.l1, wallet: w.payer, contract: w.contract, store: new SqliteStore(path) })
  const { channel } = await m1.create(w.payer.address, w.payee.address, 100n)
  void m1.addFunds(channel, 30n).catch(() => undefined)
  await turns()
  w.l1.setOffline(w.payer.address, true)
  w.l1.mine()
  await turns()
  assert.equal((await m1.status(channel)).queuedAmount, 30n)
  m1.close()
  w.l1.setOffline(w.payer.address, false)
  const m2 = await PaychManager.open({ l1: w.l1, wallet: new Wallet(w.payer.signer, w.l1), contract: w.contract, store: new SqliteStore(path) })
  await settleAll(w.l1, [m2])
  assert.deepEqual([(await m2.status(channel)).confirmedAmount, (await m2.status(channel)).queuedAmount], [130n, 0n])
  assert.equal(channelInfo(w, channel).balance, 130n)
  assert.deepEqual(m2.backgroundErrors, [])
  m2.close()
})

// ------------------------------------------------------------------ item 19

test('voucherCheckValid accepts time-locked and hash-locked vouchers (locks are checked at redemption; a divergence from Lotus the README lists)', async () => {
  const w = makeWorld()
  const { payer, payee } = await pair(w)
  const channel = await openChannelVia(payer, w, 100n)
  const secret = new TextEncoder().encode('s')
  const head = w.l1.head().height
  const locked: SignedVoucher[] = [
    (await payer.voucherCreate(channel, 10n, 0, { timeLockMin: head + 10 })).voucher as SignedVoucher,
    (await payer.voucherCreate(channel, 10n, 1, { timeLockMax: head + 10 })).voucher as SignedVoucher,
    (await payer.voucherCreate(channel, 10n, 2, { secretHash: sha256(secret) })).voucher as SignedVoucher,
  ]
  for (const v of locked) await payee.voucherCheckValid(channel, v)
  assert.equal(await payee.voucherCheckSpendable(channel, locked[0] as SignedVoucher), false, 'not before timeLockMin')
  assert.equal(await payee.voucherCheckSpendable(channel, locked[2] as SignedVoucher), false, 'not without the secret')
  assert.equal(await payee.voucherCheckSpendable(channel, locked[2] as SignedVoucher, secret), true)
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  const divergences = readme.slice(readme.indexOf('Where this differs from the Filecoin actor / Lotus'), readme.indexOf('## Settler'))
  assert.match(divergences, /`voucherCheckValid`[\s\S]*time lock[\s\S]*secret hash/)
})
