/**
 * Red team (htlc-router): what the fixes of issue 11 left open, through the
 * public API under default settings.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { ChannelError } from '@l2bench/payment-channel'
import { HtlcNetwork, drainEventLoop as settle } from '../src/index.ts'

const M = 1_000_000n

test('an HtlcNode opener whose peer countersigns v0 and never confirms on L1 gets its deposit back by itself after the funding timeout', async () => {
  // The HtlcNode runs its ChannelNode without timers: L1 blocks are all that drive the refund.
  const net = await HtlcNetwork.create({ nodes: ['alice', 'mallory'], channels: [] })
  try {
    const [alice, mallory] = net.nodes as [(typeof net.nodes)[0], (typeof net.nodes)[0]]
    await net.connect(0, 1)
    net.l1.setOffline(mallory.address, true)
    const before = net.l1.balanceOf(alice.address) + net.l1.totalBurnt()
    const opened = alice.openChannel({ peer: mallory.address, peerPublicKey: mallory.channel.signer.publicKey, deposit: M, disputeWindow: 6, fundingTimeout: 5 })
    const failed = assert.rejects(opened, (e: ChannelError) => e.code === 'CHANNEL_CLOSED')
    for (let i = 0; i < 20 && net.l1.events({ name: 'Opened' }).length === 0; i++) await settle()
    assert.equal(net.l1.events({ name: 'Opened' }).length, 1, 'alice deposited')
    for (let i = 0; i < 10 && net.l1.events({ name: 'Refunded' }).length === 0; i++) {
      await net.mine(1)
      await settle()
    }
    assert.equal(net.l1.events({ name: 'Refunded' }).length, 1, 'alice refunded by herself')
    await failed
    assert.equal(net.l1.balanceOf(alice.address) + net.l1.totalBurnt(), before, 'deposit back, only gas spent')
    assert.equal(net.l1.balanceOf(net.adjudicator.address), 0n)
  } finally {
    net.stop()
  }
})
