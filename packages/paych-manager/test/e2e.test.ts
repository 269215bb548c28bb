/**
 * End to end: a client pays a provider 1,000 vouchers over 3 lanes in batches,
 * reserving each batch's funds before it and releasing the rest after; the
 * provider checks every voucher (minDelta = the price), settles, its settler
 * redeems the best voucher of each lane, and it collects. Both sides use
 * SQLite stores. Final L1 balances equal the vouchers' sum net of gas, and
 * only reservations that did not fit sent a chain message.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { Rng } from '@l2bench/core'
import { PaychManager, SqliteStore } from '../src/index.ts'
import { channelInfo, makeWorld } from './helpers.ts'

test('e2e: 1,000 vouchers over 3 lanes with reserve/release, settle and collect', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'paych-e2e-'))
  try {
    const w = makeWorld({ settleDelay: 3600 })
    const client = await PaychManager.open({ l1: w.l1, wallet: w.payer, contract: w.contract, store: new SqliteStore(join(dir, 'client.sqlite')) })
    const provider = await PaychManager.open({ l1: w.l1, wallet: w.payee, contract: w.contract, store: new SqliteStore(join(dir, 'provider.sqlite')) })
    const start = { client: w.l1.balanceOf(w.payer.address), provider: w.l1.balanceOf(w.payee.address) }
    const rng = new Rng('paych-e2e')
    const deposit = 2_500_000n
    const { channel, messageId } = await client.create(w.payer.address, w.payee.address, deposit)
    await client.waitForMessage(messageId)
    const lanes = [await client.allocateLane(channel), await client.allocateLane(channel), await client.allocateLane(channel)]
    const laneTotals = [0n, 0n, 0n]
    let paid = 0n
    let fitting = 0
    let topUps = 0
    const clientTxs = () => w.l1.nonceOf(w.payer.address)
    for (let batch = 0; batch < 100; batch++) {
      const prices = Array.from({ length: 10 }, () => BigInt(rng.range(1_000, 5_000)))
      // Reserve a bit more than the batch costs; release what is left after.
      const reserve = prices.reduce((a, b) => a + b, 0n) + 2_000n
      const before = clientTxs()
      const msg = await client.reserveFunds(channel, reserve)
      if (msg === undefined) {
        fitting++
        assert.equal(clientTxs(), before, 'a reservation that fits sends no chain message')
      } else {
        topUps++
        assert.equal(clientTxs(), before + 1n)
        await client.waitForMessage(msg)
      }
      for (const [i, price] of prices.entries()) {
        const lane = lanes[(batch * 10 + i) % 3] as number
        laneTotals[lane] = (laneTotals[lane] as bigint) + price
        const r = await client.voucherCreate(channel, laneTotals[lane] as bigint, lane, { fromReserved: true })
        assert.ok(r.voucher, `voucher ${batch}/${i} short by ${r.shortfall}`)
        assert.equal(await provider.voucherAdd(channel, r.voucher, price), price)
        paid += price
      }
      const st = await client.status(channel)
      assert.equal(st.reservedAmount, 2_000n)
      await client.releaseFunds(channel, st.reservedAmount)
    }
    assert.ok(fitting > 50 && topUps > 0, `${fitting} reservations fit, ${topUps} needed a top-up`)
    assert.equal(clientTxs(), 1n + BigInt(topUps), 'create + one message per reservation that did not fit')
    const cst = await client.status(channel)
    const pst = await provider.status(channel)
    assert.equal(cst.voucherRedeemedAmount, paid)
    assert.equal(pst.voucherRedeemedAmount, paid)
    assert.equal(cst.reservedAmount, 0n)
    assert.equal((await provider.voucherList(channel)).length, 1000)

    // The provider settles; its settler redeems the best voucher of each lane; it collects after the delay.
    const settleHash = await provider.settle(channel)
    await provider.idle()
    assert.equal(provider.backgroundErrors.length, 0, provider.backgroundErrors.map(String).join('\n'))
    const info = channelInfo(w, channel)
    assert.equal(info.toSend, paid)
    assert.equal(info.laneCount, 3)
    w.l1.advanceTo(info.settlingAt)
    const collectHash = await provider.collect(channel)
    await provider.waitForMessage(collectHash)
    assert.equal((await provider.status(channel)).phase, 'closed')
    assert.equal(w.l1.nonceOf(w.payee.address), 5n, 'settle + 3 lane updates + collect')
    void settleHash

    const feesOf = (from: `0x${string}`) =>
      [...new Set(w.l1.events({ address: w.contract.address }).map((e) => e.txHash))]
        .map((h) => w.l1.receiptSync(h))
        .filter((r) => r !== undefined && r.from === from)
        .reduce((s, r) => s + (r?.fee ?? 0n), 0n)
    const providerFees = feesOf(w.payee.address)
    const clientFees = feesOf(w.payer.address)
    assert.equal(w.l1.balanceOf(w.payee.address), start.provider + paid - providerFees)
    assert.equal(w.l1.balanceOf(w.payer.address), start.client - paid - clientFees)
    assert.equal(w.l1.balanceOf(w.contract.address), 0n)
    assert.equal(w.l1.totalBalances() + w.l1.totalBurnt(), w.l1.totalMinted())
    client.close()
    provider.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
