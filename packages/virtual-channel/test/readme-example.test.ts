/** The README's usage example, run as a test so it cannot rot (with SQLite stores, one file per node). */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { MAX_AMOUNT, NodeSigner, secretKeyFromSeed } from '@l2bench/core'
import { MockL1, Wallet } from '@l2bench/l1-mock'
import { SqliteStore, memoryLinkPair } from '@l2bench/payment-channel'
import { SqliteVirtualStore, VirtualAdjudicator, VirtualNode } from '../src/index.ts'

test('README example', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'virtual-readme-'))
  const stores: SqliteStore[] = []
  // --- README example start
  const l1 = new MockL1()
  const adjudicator = l1.deploy(new VirtualAdjudicator())
  const mk = (name: string) => {
    const signer = new NodeSigner(secretKeyFromSeed(name))
    l1.mint(signer.address, 10n ** 20n)
    const store = new SqliteStore(join(dir, `${name}.db`)) // WAL, synchronous=FULL
    stores.push(store)
    return new VirtualNode({
      signer,
      wallet: new Wallet(signer, l1),
      adjudicator,
      store,
      virtualStore: new SqliteVirtualStore(store.db), // same file
      // This demo's parties lend to each other (a node's defaults lock nothing of its own for others).
      acceptLimits: { maxDeposit: MAX_AMOUNT },
      limits: { maxShare: MAX_AMOUNT, maxCollateral: MAX_AMOUNT },
    })
  }
  const [alice, bob, ingrid] = [mk('alice'), mk('bob'), mk('ingrid')]
  const link = (x: VirtualNode, y: VirtualNode) => {
    const [a, b] = memoryLinkPair() // channel protocol (or tcpListen / tcpConnect)
    x.attach(a)
    y.attach(b)
    const [c, d] = memoryLinkPair() // coordination protocol
    x.attachVirtual(c)
    y.attachVirtual(d)
  }
  link(alice, ingrid)
  link(bob, ingrid)
  link(alice, bob)
  await Promise.all([alice.whenConnected(ingrid.address), bob.whenConnected(ingrid.address), alice.whenConnected(bob.address)])

  // Ledger channels with the intermediary, on L1 (Ingrid lends 5 ETH into each).
  const ETH = 10n ** 18n
  const ledgerA = await alice.channel.open({ peer: ingrid.address, peerPublicKey: ingrid.channel.signer.publicKey, deposit: 5n * ETH, peerDeposit: 5n * ETH, disputeWindow: 100 })
  const ledgerB = await bob.channel.open({ peer: ingrid.address, peerPublicKey: ingrid.channel.signer.publicKey, deposit: 5n * ETH, peerDeposit: 5n * ETH, disputeWindow: 100 })

  // A virtual channel Alice–Bob, off chain: both ledgers lock [2 ETH, 1 ETH].
  const vid = await alice.openVirtual({
    peer: bob.address,
    peerPublicKey: bob.channel.signer.publicKey,
    ingrid: ingrid.address,
    ledger: ledgerA,
    peerLedger: ledgerB,
    deposit: 2n * ETH,
    peerDeposit: 1n * ETH,
  })
  bob.on('payment', (e) => console.log(`bob received ${e.amount} at v${e.version}`))
  await alice.pay({ channelId: vid, amount: ETH / 2n }) // Ingrid sees nothing of it
  await alice.closeVirtual({ channelId: vid }) // the final state, settled into both ledgers
  console.log(alice.channel.status(ledgerA).balances) // [ 4.5 ETH, 5.5 ETH ]
  // --- README example end
  for (let i = 0; i < 100 && ingrid.virtualStatus(vid).status !== 'closed'; i++) await new Promise((r) => setImmediate(r))
  assert.deepEqual(alice.channel.status(ledgerA).balances, [4n * ETH + ETH / 2n, 5n * ETH + ETH / 2n])
  assert.deepEqual(bob.channel.status(ledgerB).balances, [5n * ETH + ETH / 2n, 4n * ETH + ETH / 2n])
  assert.equal(ingrid.virtualStatus(vid).status, 'closed')
  // Restart Alice from her file: the virtual channel is there, closed.
  alice.stop()
  const again = new VirtualNode({ signer: new NodeSigner(secretKeyFromSeed('alice')), wallet: new Wallet(new NodeSigner(secretKeyFromSeed('alice')), l1), adjudicator, store: stores[0] as SqliteStore, virtualStore: new SqliteVirtualStore((stores[0] as SqliteStore).db), timers: false })
  assert.equal(again.virtualStatus(vid).status, 'closed')
  assert.equal(again.channel.status(vid).phase, 'closed')
  for (const n of [again, bob, ingrid]) n.stop()
  for (const s of stores) s.close()
  rmSync(dir, { recursive: true, force: true })
})
