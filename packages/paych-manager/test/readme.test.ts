/** The README usage example, run as written (SQLite file in a temp dir). */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { NodeSigner, secretKeyFromSeed } from '@l2bench/core'
import { MockL1, Wallet } from '@l2bench/l1-mock'
import { PaychContract, PaychManager, SqliteStore, decodeVoucher, encodeVoucher } from '../src/index.ts'

test('README example', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'paych-readme-'))
  try {
    const l1 = new MockL1()
    const contract = l1.deploy(new PaychContract())
    const clientWallet = new Wallet(new NodeSigner(secretKeyFromSeed('client')), l1)
    const providerWallet = new Wallet(new NodeSigner(secretKeyFromSeed('provider')), l1)
    l1.mint(clientWallet.address, 10n ** 18n)
    l1.mint(providerWallet.address, 10n ** 18n)

    const client = await PaychManager.open({ l1, wallet: clientWallet, contract, store: new SqliteStore(join(dir, 'client.sqlite')) })
    const provider = await PaychManager.open({ l1, wallet: providerWallet, contract })

    const { channel, messageId } = await client.create(clientWallet.address, providerWallet.address, 1_000_000n)
    await client.waitForMessage(messageId)

    const lane = await client.allocateLane(channel)
    assert.equal(await client.reserveFunds(channel, 5_000n), undefined)
    const { voucher, shortfall } = await client.voucherCreate(channel, 3_000n, lane, { fromReserved: true })
    if (voucher === undefined) throw new Error(`channel is short by ${shortfall}`)
    const wire = encodeVoucher(voucher)

    assert.equal(await provider.voucherAdd(channel, decodeVoucher(wire), 3_000n), 3_000n)
    await client.releaseFunds(channel, 2_000n)

    await client.settle(channel)
    await provider.idle()
    assert.equal(l1.readSync<{ toSend: bigint }>(contract.address, 'channel', [channel]).toSend, 3_000n, 'the settler redeemed the voucher')
    l1.advanceTo((await provider.status(channel)).settlingAt)
    await provider.waitForMessage(await provider.collect(channel))
    assert.equal(l1.balanceOf(contract.address), 0n)
    assert.equal((await provider.status(channel)).phase, 'closed')
    client.close()
    provider.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
