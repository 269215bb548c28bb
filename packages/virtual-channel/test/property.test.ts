/**
 * Conservation over random sequences (fast-check, bigint): random shares,
 * random payments both ways (some above the payer's balance, refused), Ingrid
 * dropping off and coming back, and a random ending — cooperative close,
 * both going to L1 while Ingrid is silent, or Alice registering a stale
 * state. Every time: the virtual balances add up to the deposits, each
 * party ends with exactly its ledger share plus its virtual balance, Ingrid
 * with exactly what she put in, and the L1 neither creates nor loses money.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { ETH, activeVirtual, connect, ingridLedgerTotal, l1Conserved, mark, trio, until } from './fixtures.ts'

const amount = (max: bigint) => fc.bigInt({ min: 0n, max })

const op = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('pay' as const), from: fc.constantFrom(0 as const, 1 as const), amount: fc.bigInt({ min: 1n, max: 6n * ETH }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('ingridOff' as const, 'ingridOn' as const) }) },
)

test('random shares, payments and endings conserve money; Ingrid nets zero; each party gets its virtual balance', async () => {
  await fc.assert(
    fc.asyncProperty(amount(5n * ETH), amount(5n * ETH), fc.array(op, { maxLength: 12 }), fc.constantFrom('cooperative' as const, 'l1' as const, 'stale' as const), async (xa0, xb, ops, ending) => {
      const xa = xa0 + xb === 0n ? 1n : xa0
      const t = await trio()
      const hub = ingridLedgerTotal(t)
      const vid = await activeVirtual(t, xa, xb)
      const bal: [bigint, bigint] = [xa, xb]
      const nodes = [t.nodes.alice, t.nodes.bob] as const
      let ingridOn = true
      const setIngrid = (on: boolean) => {
        if (on === ingridOn) return
        ingridOn = on
        for (const l of [t.links.ai, t.links.bi]) for (const raw of [l.ch[0], l.vc[0]]) on ? raw.reconnect() : raw.disconnect()
      }
      const states = [nodes[0].channel.latest(vid)]
      for (const o of ops) {
        if (o.kind === 'ingridOff') setIngrid(false)
        else if (o.kind === 'ingridOn') setIngrid(true)
        else if (o.kind === 'pay') {
          const ok = o.amount <= bal[o.from]
          const r = nodes[o.from].pay({ channelId: vid, amount: o.amount })
          if (ok) {
            await r
            bal[o.from] -= o.amount
            bal[o.from === 0 ? 1 : 0] += o.amount
            states.push(nodes[0].channel.latest(vid))
          } else await assert.rejects(r, (e: Error & { code?: string }) => e.code === 'AMOUNT')
        }
        const v = nodes[1].virtualStatus(vid).balances as readonly [bigint, bigint]
        assert.equal(v[0] + v[1], xa + xb)
      }
      assert.deepEqual(nodes[0].virtualStatus(vid).balances, bal)
      const [ga, gb, gi] = [mark(t.w, t.alice), mark(t.w, t.bob), mark(t.w, t.ingrid)]
      if (ending === 'cooperative') {
        setIngrid(true)
        await Promise.all([t.nodes.alice.whenConnected(t.ingrid.address), t.nodes.bob.whenConnected(t.ingrid.address)])
        await (states.length % 2 === 0 ? nodes[0] : nodes[1]).closeVirtual({ channelId: vid })
        await until(() => t.nodes.ingrid.records.require(vid).status === 'closed' && nodes[0].records.require(vid).status === 'closed' && nodes[1].records.require(vid).status === 'closed')
        assert.equal(t.nodes.alice.channel.status(t.ledgerA).myBalance, 10n * ETH - xa + bal[0])
        assert.equal(t.nodes.bob.channel.status(t.ledgerB).myBalance, 10n * ETH - xb + bal[1])
        assert.equal(ingridLedgerTotal(t), hub)
      } else {
        if (ending === 'l1') {
          t.nodes.ingrid.stop()
          await t.nodes.alice.forceCloseVirtual({ channelId: vid })
          await t.nodes.bob.forceCloseVirtual({ channelId: vid })
        } else {
          // Alice registers the first state on L1 and leaves; Bob refutes; Ingrid takes ledger A to L1.
          setIngrid(true)
          t.nodes.alice.stop()
          const p = t.nodes.bob.records.require(vid).params
          await t.alice.virtual.register(p, states[0]?.state.version === 0n ? undefined : states[0], t.nodes.bob.records.require(vid).activation)
          await t.nodes.bob.forceCloseVirtual({ channelId: vid })
          await t.nodes.ingrid.forceCloseVirtual({ channelId: vid })
        }
        t.w.l1.mine(11)
        for (const n of ending === 'l1' ? [t.nodes.alice, t.nodes.bob] : [t.nodes.bob, t.nodes.ingrid]) await n.finalizeVirtual({ channelId: vid })
        assert.equal(ga(), 10n * ETH - xa + bal[0])
        assert.equal(gb(), 10n * ETH - xb + bal[1])
        assert.equal(gi(), 20n * ETH)
        assert.equal(t.w.l1.balanceOf(t.w.adj.address), 0n)
      }
      assert.ok(l1Conserved(t.w))
      for (const n of Object.values(t.nodes)) n.stop()
      void connect
    }),
    { numRuns: 24 },
  )
})
