/** The honest path: open (three-party agreement), direct payments, cooperative close into both ledgers. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ETH, ingridLedgerTotal, openVirtual, trio, until } from './fixtures.ts'

test('open locks both shares in both ledgers; payments are Alice–Bob updates only; close settles both ledgers and Ingrid nets zero', async () => {
  const t = await trio()
  const { alice, bob, ingrid } = t.nodes
  const before = ingridLedgerTotal(t)
  const txs = t.w.l1.nonceOf(t.ingrid.address) + t.w.l1.nonceOf(t.alice.address) + t.w.l1.nonceOf(t.bob.address)
  const vid = await openVirtual(t, 3n * ETH, 1n * ETH)
  await until(() => bob.virtualStatus(vid).status === 'active')
  // Locked: Alice x_A and Ingrid x_B in ledger A; Ingrid x_A and Bob x_B in ledger B.
  assert.deepEqual(alice.channel.status(t.ledgerA).balances, [7n * ETH, 9n * ETH])
  assert.deepEqual(bob.channel.status(t.ledgerB).balances, [9n * ETH, 7n * ETH])
  assert.equal(alice.channel.status(t.ledgerA).locked.length, 1)
  const ingridVersions = [ingrid.channel.status(t.ledgerA).version, ingrid.channel.status(t.ledgerB).version]
  for (let i = 0; i < 10; i++) await alice.pay({ channelId: vid, amount: ETH / 10n })
  await bob.pay({ channelId: vid, amount: 5n })
  assert.deepEqual(bob.virtualStatus(vid).balances, [2n * ETH + 5n, 2n * ETH - 5n])
  // Ingrid saw none of it.
  assert.deepEqual([ingrid.channel.status(t.ledgerA).version, ingrid.channel.status(t.ledgerB).version], ingridVersions)
  await alice.closeVirtual({ channelId: vid })
  await until(() => bob.virtualStatus(vid).status === 'closed' && ingrid.virtualStatus(vid).status === 'closed')
  assert.deepEqual(alice.channel.status(t.ledgerA).balances, [9n * ETH + 5n, 11n * ETH - 5n])
  assert.deepEqual(bob.channel.status(t.ledgerB).balances, [11n * ETH - 5n, 9n * ETH + 5n])
  assert.equal(ingridLedgerTotal(t), before)
  assert.equal(alice.channel.status(vid).phase, 'closed')
  assert.equal(alice.channel.status(t.ledgerA).locked.length, 0)
  assert.equal(t.w.l1.nonceOf(t.ingrid.address) + t.w.l1.nonceOf(t.alice.address) + t.w.l1.nonceOf(t.bob.address), txs, 'no L1 transaction from open to close')
})
