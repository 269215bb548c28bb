/** The README's usage example, run as a test so it cannot rot. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { NodeSigner, secretKeyFromSeed } from '@l2bench/core'
import { MockL1, Wallet } from '@l2bench/l1-mock'
import { Adjudicator, ChannelNode, MemoryStore, memoryLinkPair } from '../src/index.ts'

test('README example', async () => {
  // --- README example start
  const l1 = new MockL1()
  const adjudicator = l1.deploy(new Adjudicator())
  const mk = (seed: string) => {
    const signer = new NodeSigner(secretKeyFromSeed(seed))
    l1.mint(signer.address, 10n ** 20n)
    return new ChannelNode({ signer, wallet: new Wallet(signer, l1), adjudicator, store: new MemoryStore() })
  }
  const alice = mk('alice')
  const bob = mk('bob')
  const [la, lb] = memoryLinkPair() // or tcpListen / tcpConnect
  alice.attach(la)
  bob.attach(lb)
  await alice.whenConnected(bob.address) // hellos cross

  bob.on('payment', (e) => console.log(`bob received ${e.amount} at v${e.version}`))
  const channelId = await alice.open({
    peer: bob.address,
    peerPublicKey: bob.signer.publicKey,
    deposit: 10n ** 18n,
    peerDeposit: 0n,
    disputeWindow: 100, // blocks
    penalty: 'slash',
  })
  await alice.pay({ channelId, amount: 25n * 10n ** 15n })
  console.log(alice.status(channelId)) // { version: 1n, balances: [...], phase: 'open', ... }
  const receipt = await alice.closeCooperative({ channelId }) // one L1 tx, pays out at once
  // --- README example end
  assert.equal(receipt.status, 'success')
  alice.stop()
  bob.stop()
})
