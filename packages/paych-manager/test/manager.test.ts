/**
 * PaychManager: the voucher rule table (the manager refuses what the contract
 * refuses, with the same codes, and changes nothing), vouchers and lanes,
 * reserve/release without chain messages, queued funding merged into one
 * message, 100 concurrent voucherCreate calls, settle/submit/collect.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { NodeSigner, secretKeyFromSeed, sha256 } from '@l2bench/core'
import { TxRejectedError, Wallet } from '@l2bench/l1-mock'
import { PaychManager, encodeVoucher } from '../src/index.ts'
import { RULE_CASES, caseContext } from './cases.ts'
import { ETH, type World, channelInfo, makeWorld, openChannel, plain, rejectsWith } from './helpers.ts'

async function managers(w: World) {
  const payer = await PaychManager.open({ l1: w.l1, wallet: w.payer, contract: w.contract })
  const payee = await PaychManager.open({ l1: w.l1, wallet: w.payee, contract: w.contract })
  return { payer, payee }
}

describe('manager rejects every bad voucher with the contract’s code and changes nothing', () => {
  for (const c of RULE_CASES) {
    test(`${c.name} → ${c.code}`, async () => {
      const w = makeWorld()
      const ctx = await caseContext(w, c.funds)
      const { payee } = await managers(w)
      for (const v of c.prior(ctx)) await payee.voucherAdd(ctx.channel, v)
      const before = { list: (await payee.voucherList(ctx.channel)).map(encodeVoucher), status: await payee.status(ctx.channel) }
      const bad = c.bad(ctx)
      await rejectsWith(payee.voucherCheckValid(ctx.channel, bad), c.code)
      await rejectsWith(payee.voucherAdd(ctx.channel, bad), c.code)
      // Spendable asks the chain alone, where the prior vouchers are not (yet).
      if (c.prior(ctx).length === 0) assert.equal(await payee.voucherCheckSpendable(ctx.channel, bad), false)
      assert.deepEqual((await payee.voucherList(ctx.channel)).map(encodeVoucher), before.list)
      assert.deepEqual(await payee.status(ctx.channel), before.status)
      assert.deepEqual(await payee.list(), c.prior(ctx).length === 0 ? [] : [ctx.channel])
      payee.close()
    })
  }
})

describe('voucherSubmit refuses, without sending anything, what the contract would refuse', () => {
  for (const c of RULE_CASES) {
    test(`${c.name} → ${c.code}`, async () => {
      const w = makeWorld()
      const ctx = await caseContext(w, c.funds)
      const { payee } = await managers(w)
      for (const v of c.prior(ctx)) {
        await payee.voucherAdd(ctx.channel, v)
        await payee.waitForMessage(await payee.voucherSubmit(ctx.channel, v))
      }
      const sent = w.l1.nonceOf(w.payee.address)
      await rejectsWith(payee.voucherSubmit(ctx.channel, c.bad(ctx)), c.code)
      assert.equal(w.l1.nonceOf(w.payee.address), sent)
      payee.close()
    })
  }
})

test('cross-channel replay: a valid voucher of channel A offered on channel B → WRONG_CHANNEL', async () => {
  const w = makeWorld()
  const ctx = await caseContext(w, 100n)
  const { payee } = await managers(w)
  const forOther = plain(w.payer.signer, w, ctx.other, 0, 1n, 10n)
  await rejectsWith(payee.voucherAdd(ctx.channel, forOther), 'WRONG_CHANNEL')
  await rejectsWith(payee.voucherCheckValid(ctx.channel, forOther), 'WRONG_CHANNEL')
  assert.equal(await payee.voucherAdd(ctx.other, forOther), 10n)
})

test('the overlay counts vouchers already redeemed on chain (voucher + already sent > balance)', async () => {
  const w = makeWorld()
  const ch = await openChannel(w, 10n)
  const { payee } = await managers(w)
  // Redeemed behind the manager's back: the chain says toSend = 5 on lane 0.
  await w.payee.callOk(w.contract, { type: 'update', voucher: plain(w.payer.signer, w, ch, 0, 1n, 5n), secret: undefined })
  await rejectsWith(payee.voucherAdd(ch, plain(w.payer.signer, w, ch, 1, 1n, 6n)), 'INSUFFICIENT_CHANNEL_FUNDS')
  await rejectsWith(payee.voucherAdd(ch, plain(w.payer.signer, w, ch, 0, 1n, 7n)), 'NONCE_TOO_LOW')
  assert.equal(await payee.voucherAdd(ch, plain(w.payer.signer, w, ch, 1, 1n, 5n)), 5n)
  assert.equal((await payee.status(ch)).voucherRedeemedAmount, 10n)
})

test('voucherAdd: minDelta, delta returned, untracked and foreign channels', async () => {
  const w = makeWorld()
  const ch = await openChannel(w, 100n)
  const { payer, payee } = await managers(w)
  assert.equal(await payee.voucherAdd(ch, plain(w.payer.signer, w, ch, 0, 1n, 10n), 10n), 10n)
  await rejectsWith(payee.voucherAdd(ch, plain(w.payer.signer, w, ch, 0, 2n, 15n), 6n), 'DELTA_TOO_SMALL')
  assert.equal(await payee.voucherAdd(ch, plain(w.payer.signer, w, ch, 0, 2n, 15n), 5n), 5n)
  assert.equal((await payee.voucherList(ch)).length, 2)
  const mallory = await PaychManager.open({ l1: w.l1, wallet: w.mallory, contract: w.contract })
  await rejectsWith(mallory.voucherAdd(ch, plain(w.payer.signer, w, ch, 1, 1n, 1n)), 'NOT_OUR_CHANNEL')
  await rejectsWith(payee.voucherAdd(w.mallory.address, plain(w.payer.signer, w, ch, 1, 1n, 1n)), 'UNKNOWN_CHANNEL')
  await assert.rejects(payee.voucherAdd(ch, { ...plain(w.payer.signer, w, ch, 1, 1n, 1n), amount: -1n }), /amount/)
  await rejectsWith(payer.voucherAdd(ch, plain(w.payer.signer, w, ch, 1, 1n, 1n)), 'NOT_OUR_CHANNEL')
})

test('voucherCreate: lanes, increasing nonces, shortfall instead of failure, payee accepts them', async () => {
  const w = makeWorld()
  const { payer, payee } = await managers(w)
  const { channel, messageId } = await payer.create(w.payer.address, w.payee.address, 100n)
  assert.equal((await payer.waitForMessage(messageId))?.status, 'success')
  assert.equal(await payer.lookup(w.payer.address, w.payee.address), channel)
  const lane0 = await payer.allocateLane(channel)
  const lane1 = await payer.allocateLane(channel)
  assert.deepEqual([lane0, lane1], [0, 1])
  const a = await payer.voucherCreate(channel, 30n, lane0)
  const b = await payer.voucherCreate(channel, 50n, lane0)
  const c = await payer.voucherCreate(channel, 40n, lane1)
  assert.deepEqual([a.voucher?.nonce, b.voucher?.nonce, c.voucher?.nonce], [1n, 2n, 1n])
  // 50 + 40 = 90 spent of 100: 30 more on lane 1 is 20 short.
  const short = await payer.voucherCreate(channel, 70n, lane1)
  assert.deepEqual(short, { voucher: undefined, shortfall: 20n })
  await rejectsWith(payer.voucherCreate(channel, 50n, lane0), 'AMOUNT_NOT_INCREASING')
  const st = await payer.status(channel)
  assert.equal(st.voucherRedeemedAmount, 90n)
  assert.equal(st.spendableAmount, 10n)
  for (const r of [a, b, c]) assert.ok(r.voucher && (await payee.voucherAdd(channel, r.voucher)) > 0n)
  assert.equal((await payee.status(channel)).voucherRedeemedAmount, 90n)
  assert.equal((await payee.status(channel)).direction, 'inbound')
  await rejectsWith(payee.voucherCreate(channel, 1n, 0), 'NOT_OUTBOUND')
})

test('reserve/release: a reservation that fits sends nothing; a short one sends only the shortfall', async () => {
  const w = makeWorld()
  const { payer } = await managers(w)
  const { channel, messageId } = await payer.create(w.payer.address, w.payee.address, 100n)
  await payer.waitForMessage(messageId)
  const txs = () => w.l1.nonceOf(w.payer.address)
  const n0 = txs()
  assert.equal(await payer.reserveFunds(channel, 60n), undefined)
  assert.equal(await payer.reserveFunds(channel, 40n), undefined)
  assert.equal(txs(), n0, 'no chain message for reservations that fit')
  // Reserved funds are not spendable by vouchers outside the reservation...
  assert.deepEqual(await payer.voucherCreate(channel, 1n, 0), { voucher: undefined, shortfall: 1n })
  // ...but are by vouchers drawn from it.
  assert.ok((await payer.voucherCreate(channel, 25n, 0, { fromReserved: true })).voucher)
  assert.equal((await payer.status(channel)).reservedAmount, 75n)
  await payer.releaseFunds(channel, 35n)
  await rejectsWith(payer.releaseFunds(channel, 41n), 'RELEASE_EXCEEDS_RESERVED')
  const st = await payer.status(channel)
  assert.deepEqual([st.reservedAmount, st.availableAmount, st.voucherRedeemedAmount], [40n, 35n, 25n])
  // 50 more than the 35 free: only 15 goes to the chain.
  const hash = await payer.reserveFunds(channel, 50n)
  assert.ok(hash)
  assert.equal(txs(), n0 + 1n)
  await payer.waitForMessage(hash)
  const after = await payer.status(channel)
  assert.deepEqual([after.confirmedAmount, after.reservedAmount, after.availableAmount], [115n, 90n, 0n])
  assert.equal(channelInfo(w, channel).balance, 115n)
  await rejectsWith(payer.reserveFunds(w.mallory.address, 1n), 'UNKNOWN_CHANNEL')
  await assert.rejects(payer.reserveFunds(channel, 0n), /amount/)
})

test('manual mining: methods return at once; add-funds requests queued behind a pending one merge into one message', async () => {
  const w = makeWorld({ autoMine: false })
  const { payer } = await managers(w)
  const { channel, messageId } = await payer.create(w.payer.address, w.payee.address, 10n)
  assert.equal(w.l1.pendingCount(), 1)
  let st = await payer.status(channel)
  assert.deepEqual([st.phase, st.confirmedAmount, st.pendingAmount, st.pendingMessage], ['creating', 0n, 10n, messageId])
  // Reservations can use pending funds without a message.
  assert.equal(await payer.reserveFunds(channel, 10n), undefined)
  const q1 = payer.addFunds(channel, 5n)
  const q2 = payer.reserveFunds(channel, 7n)
  const q3 = payer.addFunds(channel, 3n)
  await new Promise((r) => setImmediate(r))
  st = await payer.status(channel)
  // The reservation of 7 found 5 free (the queued 5), so it queued only 2 more.
  assert.deepEqual([st.queuedAmount, st.reservedAmount, w.l1.pendingCount()], [10n, 17n, 1])
  w.l1.mine()
  const [h1, h2, h3] = await Promise.all([q1, q2, q3])
  assert.ok(h1 !== undefined && h1 === h2 && h2 === h3, 'one merged message')
  st = await payer.status(channel)
  assert.deepEqual([st.phase, st.confirmedAmount, st.pendingAmount, st.queuedAmount, st.pendingMessage], ['open', 10n, 10n, 0n, h1])
  w.l1.mine()
  await payer.idle()
  st = await payer.status(channel)
  assert.deepEqual([st.confirmedAmount, st.pendingAmount, st.pendingMessage], [20n, 0n, undefined])
  assert.equal(channelInfo(w, channel).balance, 20n)
  assert.equal(w.l1.nonceOf(w.payer.address), 2n, 'create + one merged add-funds')
})

test('100 concurrent voucherCreate calls: unique increasing nonces, total never above the funds', async () => {
  const w = makeWorld()
  const { payer, payee } = await managers(w)
  const { channel, messageId } = await payer.create(w.payer.address, w.payee.address, 1000n)
  await payer.waitForMessage(messageId)
  // Issue order fixes each lane's cumulative amounts; 3 lanes, +13 each call.
  const lanesTotal = [0n, 0n, 0n]
  const calls = Array.from({ length: 100 }, (_, i) => {
    const lane = i % 3
    lanesTotal[lane] = (lanesTotal[lane] as bigint) + 13n
    return { lane, amount: lanesTotal[lane] as bigint }
  })
  const results = await Promise.all(calls.map((c) => payer.voucherCreate(channel, c.amount, c.lane)))
  const made = results.flatMap((r) => (r.voucher ? [r.voucher] : []))
  const spent = [0n, 0n, 0n]
  const lastNonce = [0n, 0n, 0n]
  results.forEach((r, i) => {
    const c = calls[i] as { lane: number; amount: bigint }
    if (r.voucher === undefined) {
      assert.ok(r.shortfall > 0n)
      return
    }
    assert.equal(r.voucher.nonce, (lastNonce[c.lane] as bigint) + 1n, 'nonces increase by one per lane in call order')
    lastNonce[c.lane] = r.voucher.nonce
    spent[c.lane] = r.voucher.amount
    assert.ok(spent.reduce((a, b) => a + b, 0n) <= 1000n, 'total never above the funds')
  })
  const keys = new Set(made.map((v) => `${v.lane}:${v.nonce}`))
  assert.equal(keys.size, made.length, 'no two vouchers share a lane and nonce')
  assert.equal(made.length, 76, '76 × 13 = 988 fits in 1000, the 77th would not')
  for (const v of made) await payee.voucherAdd(channel, v)
  assert.equal((await payee.status(channel)).voucherRedeemedAmount, 988n)
})

test('settler: the payer settles, the payee’s manager redeems the best voucher of each lane, then collects', async () => {
  const w = makeWorld({ settleDelay: 50 })
  const { payer, payee } = await managers(w)
  const { channel, messageId } = await payer.create(w.payer.address, w.payee.address, 1n * ETH)
  await payer.waitForMessage(messageId)
  for (let i = 1n; i <= 5n; i++)
    for (const lane of [0, 1, 2]) {
      const r = await payer.voucherCreate(channel, i * 1000n * BigInt(lane + 1), lane)
      await payee.voucherAdd(channel, r.voucher!)
    }
  const payeeStart = w.l1.balanceOf(w.payee.address)
  const payerStart = w.l1.balanceOf(w.payer.address)
  const settleHash = await payer.settle(channel)
  await payee.idle()
  await payer.idle()
  assert.equal(payee.backgroundErrors.length, 0, payee.backgroundErrors.map(String).join('\n'))
  const info = channelInfo(w, channel)
  assert.equal(info.toSend, 5000n + 10000n + 15000n, 'the best voucher of every lane was redeemed')
  assert.equal(info.laneCount, 3)
  assert.equal(w.l1.nonceOf(w.payee.address), 3n, 'one update per lane')
  await rejectsWith(payee.collect(channel), 'SETTLE_NOT_DUE')
  await rejectsWith(payer.settle(channel), 'ALREADY_SETTLING')
  w.l1.advanceTo(info.settlingAt)
  // The payer's manager saw the Settle event; the payee refuses vouchers once settling is over.
  await rejectsWith(payer.voucherCreate(channel, 1n, 3), 'ALREADY_SETTLING')
  const late = plain(w.payer.signer, w, channel, 3, 1n, 1n)
  await rejectsWith(payee.voucherAdd(channel, late), 'SETTLING_FINISHED')
  const collectHash = await payee.collect(channel)
  await payee.waitForMessage(collectHash)
  const fees = async (hashes: `0x${string}`[]) => {
    let s = 0n
    for (const h of hashes) s += (await w.l1.receipt(h)).fee
    return s
  }
  const payeeFees = (await w.l1.events({ address: w.contract.address, name: 'Update' })).length // 3 submissions
  assert.equal(payeeFees, 3)
  const updateFees = await fees(w.l1.events({ address: w.contract.address, name: 'Update' }).map((e) => e.txHash))
  assert.equal(w.l1.balanceOf(w.payee.address), payeeStart + 30000n - updateFees - (await fees([collectHash])))
  assert.equal(w.l1.balanceOf(w.payer.address), payerStart - (await fees([settleHash])) + ETH - 30000n)
  assert.equal((await payee.status(channel)).phase, 'closed')
  await rejectsWith(payee.voucherAdd(channel, late), 'CHANNEL_CLOSED')
  assert.equal(payee.backgroundErrors.length, 0, payee.backgroundErrors.map(String).join('\n'))
})

test('voucherCheckSpendable and voucherSubmit: hash locks, time locks, already submitted', async () => {
  const w = makeWorld()
  const { payer, payee } = await managers(w)
  const { channel, messageId } = await payer.create(w.payer.address, w.payee.address, 100n)
  await payer.waitForMessage(messageId)
  const secret = new TextEncoder().encode('retrieval done')
  const locked = (await payer.voucherCreate(channel, 10n, 0, { secretHash: sha256(secret) })).voucher!
  const later = (await payer.voucherCreate(channel, 5n, 1, { timeLockMin: w.l1.head().height + 5 })).voucher!
  assert.equal(await payee.voucherAdd(channel, locked), 10n)
  assert.equal(await payee.voucherAdd(channel, later), 5n)
  assert.equal(await payee.voucherCheckSpendable(channel, locked), false)
  assert.equal(await payee.voucherCheckSpendable(channel, locked, new Uint8Array([1])), false)
  assert.equal(await payee.voucherCheckSpendable(channel, locked, secret), true)
  assert.equal(await payee.voucherCheckSpendable(channel, later), false)
  await rejectsWith(payee.voucherSubmit(channel, locked), 'SECRET_MISMATCH')
  await rejectsWith(payee.voucherSubmit(channel, later), 'TIME_LOCK_MIN')
  const h = await payee.voucherSubmit(channel, locked, secret)
  assert.equal((await payee.waitForMessage(h))?.status, 'success')
  assert.equal(await payee.voucherCheckSpendable(channel, locked, secret), false, 'already submitted')
  assert.equal(channelInfo(w, channel).toSend, 10n)
  w.l1.mine(5)
  assert.equal(await payee.voucherCheckSpendable(channel, later), true)
})

test('a chain message the L1 refuses leaves the manager unchanged (create, addFunds, reserveFunds)', async () => {
  const w = makeWorld()
  const { payer } = await managers(w)
  const poor = await PaychManager.open({ l1: w.l1, wallet: new Wallet(new NodeSigner(secretKeyFromSeed('poor')), w.l1), contract: w.contract })
  await assert.rejects(poor.create(poor.address, w.payee.address, 5n), (e: unknown) => e instanceof TxRejectedError && e.code === 'INSUFFICIENT_FUNDS')
  assert.deepEqual(await poor.list(), [])
  const { channel, messageId } = await payer.create(w.payer.address, w.payee.address, 100n)
  await payer.waitForMessage(messageId)
  await payer.reserveFunds(channel, 40n)
  const before = await payer.status(channel)
  const tooMuch = w.l1.balanceOf(w.payer.address) * 2n
  await assert.rejects(payer.addFunds(channel, tooMuch), TxRejectedError)
  assert.deepEqual(await payer.status(channel), before)
  await assert.rejects(payer.reserveFunds(channel, tooMuch), TxRejectedError)
  assert.deepEqual(await payer.status(channel), before)
  // The wallet's nonce was not burnt: the next message goes through.
  const h = await payer.addFunds(channel, 10n)
  assert.equal((await payer.waitForMessage(h))?.status, 'success')
  assert.equal((await payer.status(channel)).confirmedAmount, 110n)
})

test('a request queued behind a funding message the L1 refused goes out on its own', async () => {
  const w = makeWorld()
  const { payer } = await managers(w)
  const { channel, messageId } = await payer.create(w.payer.address, w.payee.address, 100n)
  await payer.waitForMessage(messageId)
  const refused = payer.addFunds(channel, w.l1.balanceOf(w.payer.address) * 2n)
  const queued = payer.addFunds(channel, 5n)
  await assert.rejects(refused, TxRejectedError)
  const h = await queued
  await payer.waitForMessage(h)
  await payer.idle()
  const st = await payer.status(channel)
  assert.deepEqual([st.confirmedAmount, st.pendingAmount, st.queuedAmount], [105n, 0n, 0n])
})

test('hash-locked vouchers through a hub (seed 004 V1): the provider’s redemption reveals the secret the hub redeems with', async () => {
  const w = makeWorld()
  // mallory plays the hub: client → hub → provider, both vouchers locked on the same hash.
  const client = await PaychManager.open({ l1: w.l1, wallet: w.payer, contract: w.contract })
  const hub = await PaychManager.open({ l1: w.l1, wallet: w.mallory, contract: w.contract })
  const provider = await PaychManager.open({ l1: w.l1, wallet: w.payee, contract: w.contract })
  const a = await client.create(w.payer.address, w.mallory.address, 1000n)
  const b = await hub.create(w.mallory.address, w.payee.address, 1000n)
  await client.waitForMessage(a.messageId)
  await hub.waitForMessage(b.messageId)
  const secret = new TextEncoder().encode('provider secret')
  const lock = { secretHash: sha256(secret), timeLockMax: w.l1.head().height + 100 }
  const toHub = (await client.voucherCreate(a.channel, 105n, 0, lock)).voucher!
  assert.equal(await hub.voucherAdd(a.channel, toHub), 105n)
  const toProvider = (await hub.voucherCreate(b.channel, 100n, 0, lock)).voucher!
  assert.equal(await provider.voucherAdd(b.channel, toProvider), 100n)
  assert.equal(await hub.voucherCheckSpendable(a.channel, toHub), false, 'the hub cannot redeem before the secret is out')
  await provider.waitForMessage(await provider.voucherSubmit(b.channel, toProvider, secret))
  const revealed = w.l1.events({ address: w.contract.address, name: 'Update' }).find((e) => e.data.channel === b.channel)?.data.secret as Uint8Array
  assert.deepEqual(revealed, secret)
  await hub.waitForMessage(await hub.voucherSubmit(a.channel, toHub, revealed))
  assert.deepEqual([channelInfo(w, a.channel).toSend, channelInfo(w, b.channel).toSend], [105n, 100n])
})
