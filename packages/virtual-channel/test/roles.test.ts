/**
 * Role scripts (as ATTACKS.md): what each party does, and what the honest
 * ones end up with on L1 and in their ledgers.
 *
 *   1. Ingrid offline during the payments: unaffected, then she closes it.
 *   2. Ingrid refuses to close: Alice and Bob get their money through L1.
 *   3. Alice registers an old virtual state: Bob's node refutes it.
 *   4. Alice and Bob collude against Ingrid: she loses nothing —
 *      a) Bob withholds ledger B's unlock and registers a newer state;
 *      b) two different final states;
 *      c) a lock in one ledger only (never activated).
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { RevertError } from '@l2bench/l1-mock'
import type { SignedState } from '@l2bench/payment-channel'
import { encodeVirtualMessage } from '../src/index.ts'
import { ETH, type Trio, activeVirtual, connect, ingridLedgerTotal, makeNode, mark, openVirtual, sign, trio, until } from './fixtures.ts'

async function waitFor(cond: () => Promise<boolean>, rounds = 2000): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    if (await cond()) return
    await new Promise((r) => setImmediate(r))
  }
  throw new Error('condition not reached')
}

/** A virtual state signed by Alice's and Bob's keys directly (colluders sign anything). */
function raw(t: Trio, vid: `0x${string}`, version: bigint, balances: readonly [bigint, bigint], isFinal = false): SignedState {
  const id = new Uint8Array(Buffer.from(vid.slice(2), 'hex'))
  return sign(t.w.domain, { channelId: id, version, balances, locked: [], isFinal }, t.alice.signer, t.bob.signer)
}

const paramsOf = (t: Trio, vid: `0x${string}`) => t.nodes.ingrid.records.require(vid).params
const activationOf = (t: Trio, vid: `0x${string}`) => t.nodes.bob.records.require(vid).activation

describe('virtual channel role scripts', () => {
  test('1. Ingrid offline during the payments: Alice and Bob pay on; back online she settles both ledgers and nets zero', async () => {
    const t = await trio()
    const hubTotal = ingridLedgerTotal(t)
    const vid = await activeVirtual(t, 3n * ETH, 1n * ETH)
    t.nodes.ingrid.stop()
    for (let i = 0; i < 20; i++) {
      await t.nodes.alice.pay({ channelId: vid, amount: ETH / 20n })
      if (i % 4 === 0) await t.nodes.bob.pay({ channelId: vid, amount: 7n })
    }
    assert.deepEqual(t.nodes.bob.virtualStatus(vid).balances, [2n * ETH + 35n, 2n * ETH - 35n])
    // Ingrid comes back from her stores and reconnects.
    const ingrid = makeNode(t.w, t.ingrid, t.stores.ingrid)
    connect(t.nodes.alice, ingrid)
    connect(t.nodes.bob, ingrid)
    await Promise.all([t.nodes.alice.whenConnected(t.ingrid.address), t.nodes.bob.whenConnected(t.ingrid.address)])
    t.nodes.ingrid = ingrid
    await t.nodes.alice.closeVirtual({ channelId: vid })
    await until(() => ingrid.records.require(vid).status === 'closed' && t.nodes.bob.records.require(vid).status === 'closed')
    assert.equal(ingridLedgerTotal(t), hubTotal)
    assert.equal(t.nodes.alice.channel.status(t.ledgerA).myBalance, 7n * ETH + 2n * ETH + 35n)
    assert.equal(t.nodes.bob.channel.status(t.ledgerB).myBalance, 9n * ETH + 2n * ETH - 35n)
  })

  test('2. Ingrid refuses to close: the cooperative close times out, and Alice and Bob get ledger balance + virtual balance through L1', async () => {
    const t = await trio()
    const vid = await activeVirtual(t, 3n * ETH, 1n * ETH)
    for (let i = 0; i < 5; i++) await t.nodes.alice.pay({ channelId: vid, amount: ETH / 5n })
    t.nodes.ingrid.stop() // silent from now on
    const [ga, gb, gi] = [mark(t.w, t.alice), mark(t.w, t.bob), mark(t.w, t.ingrid)]
    const closing = t.nodes.alice.closeVirtual({ channelId: vid })
    await until(() => t.nodes.bob.records.require(vid).status === 'settling')
    t.nodes.alice.tick(Date.now() + 60_000)
    await assert.rejects(closing, (e: Error & { code?: string }) => e.code === 'TIMEOUT')
    const final = t.nodes.alice.channel.latest(vid)
    assert.equal(final.state.isFinal, true)
    await t.nodes.alice.forceCloseVirtual({ channelId: vid })
    await t.nodes.bob.forceCloseVirtual({ channelId: vid })
    await assert.rejects(t.nodes.alice.finalizeVirtual({ channelId: vid }), (e: Error & { code?: string }) => e.code === 'STATE')
    t.w.l1.mine(11)
    await t.nodes.alice.finalizeVirtual({ channelId: vid })
    await t.nodes.bob.finalizeVirtual({ channelId: vid })
    // Ledger balance after the lock + the final virtual balance.
    assert.equal(ga(), 7n * ETH + final.state.balances[0])
    assert.equal(gb(), 9n * ETH + final.state.balances[1])
    // Ingrid, offline, was paid what she put in (her ledger balances + her sides of both locks).
    assert.equal(gi(), 20n * ETH)
    assert.equal(t.w.l1.balanceOf(t.w.adj.address), 0n)
    assert.equal(t.nodes.alice.records.require(vid).status, 'closed')
  })

  test('2b. Ingrid online but refusing to close (her node drops every settle, and keeps watching L1): Alice and Bob still get their money through L1, Ingrid nets zero', async () => {
    const t = await trio()
    const vid = await activeVirtual(t, 3n * ETH, 1n * ETH)
    for (let i = 0; i < 4; i++) await t.nodes.alice.pay({ channelId: vid, amount: ETH / 4n })
    await t.nodes.bob.pay({ channelId: vid, amount: 3n })
    // Ingrid stays connected and answers everything else; a settle she ignores.
    const hub = (t.nodes.ingrid as unknown as { hub: { onSettle: (...a: unknown[]) => void } }).hub
    let refused = 0
    hub.onSettle = () => {
      refused++
    }
    const [ga, gb, gi] = [mark(t.w, t.alice), mark(t.w, t.bob), mark(t.w, t.ingrid)]
    const closing = t.nodes.alice.closeVirtual({ channelId: vid })
    await until(() => refused > 0)
    t.nodes.alice.tick(Date.now() + 60_000)
    await assert.rejects(closing, (e: Error & { code?: string }) => e.code === 'TIMEOUT')
    assert.equal(t.nodes.alice.channel.status(t.ledgerA).locked.length, 1, 'the lock is still in ledger A')
    const final = t.nodes.alice.channel.latest(vid)
    assert.equal(final.state.isFinal, true)
    await t.nodes.alice.forceCloseVirtual({ channelId: vid })
    await t.nodes.bob.forceCloseVirtual({ channelId: vid })
    t.w.l1.mine(11)
    // Ingrid's node, online, takes part on L1 as it sees fit; every party's payout is its due.
    for (let i = 0; i < 20; i++) {
      t.nodes.ingrid.tick(Date.now() + 120_000 + i * 10_000)
      await new Promise((r) => setImmediate(r))
    }
    await t.nodes.alice.finalizeVirtual({ channelId: vid })
    await t.nodes.bob.finalizeVirtual({ channelId: vid })
    await waitFor(async () => t.w.l1.balanceOf(t.w.adj.address) === 0n)
    assert.deepEqual(final.state.balances, [2n * ETH + 3n, 2n * ETH - 3n])
    assert.equal(ga(), 7n * ETH + final.state.balances[0])
    assert.equal(gb(), 9n * ETH + final.state.balances[1])
    assert.equal(gi(), 20n * ETH, 'Ingrid gets back what she put in, no more, no less')
    for (const n of Object.values(t.nodes)) n.stop()
  })

  test('3. Alice registers an old virtual state: Bob’s node refutes it with the newest inside the window (the deadline stays); Bob and Ingrid are paid by the newest', async () => {
    const t = await trio()
    const vid = await activeVirtual(t, 3n * ETH, 1n * ETH)
    for (let i = 0; i < 3; i++) await t.nodes.alice.pay({ channelId: vid, amount: ETH / 10n })
    const old = t.nodes.alice.channel.latest(vid)
    for (let i = 0; i < 7; i++) await t.nodes.alice.pay({ channelId: vid, amount: ETH / 10n })
    const newest = t.nodes.bob.channel.latest(vid)
    assert.equal(newest.state.version, 10n)
    // Alice turns Mallory: her node is gone, she acts with her keys and wallet.
    t.nodes.alice.stop()
    const p = paramsOf(t, vid)
    const first = await t.alice.virtual.register(p, old, activationOf(t, vid))
    const deadline = first.events.find((e) => e.name === 'VirtualRegistered')?.data.deadline
    await waitFor(async () => (await t.bob.virtual.dispute(new Uint8Array(Buffer.from(vid.slice(2), 'hex'))))?.version === 10n)
    const d = await t.bob.virtual.dispute(new Uint8Array(Buffer.from(vid.slice(2), 'hex')))
    assert.equal(d?.deadline, deadline, 'refuting does not extend the window')
    assert.equal(t.nodes.bob.records.require(vid).status, 'disputed')
    await assert.rejects(t.bob.virtual.register(p, old, activationOf(t, vid)), (e: RevertError) => e.field === 'state.version')
    await assert.rejects(t.nodes.bob.pay({ channelId: vid, amount: 1n }), (e: Error & { code?: string }) => e.code === 'STATE')
    const [gb, gi] = [mark(t.w, t.bob), mark(t.w, t.ingrid)]
    await t.nodes.bob.forceCloseVirtual({ channelId: vid })
    await t.nodes.ingrid.forceCloseVirtual({ channelId: vid })
    t.w.l1.mine(11)
    await t.nodes.bob.finalizeVirtual({ channelId: vid })
    await t.nodes.ingrid.finalizeVirtual({ channelId: vid })
    assert.equal(gb(), 9n * ETH + newest.state.balances[1])
    assert.equal(gi(), 20n * ETH, 'Ingrid nets zero')
  })
})

describe('a virtual dispute that leaves the ledgers open', () => {
  test('3b. Alice registers an old state and keeps her node: Bob refutes; after the window Ingrid unlocks both ledgers off chain by the L1 outcome — two L1 transactions in all', async () => {
    const t = await trio({ node: { autoDefend: true } })
    const vid = await activeVirtual(t, 3n * ETH, 1n * ETH)
    const old = t.nodes.alice.channel.latest(vid)
    for (let i = 0; i < 4; i++) await t.nodes.alice.pay({ channelId: vid, amount: ETH / 4n })
    const newest = t.nodes.bob.channel.latest(vid)
    const hub = ingridLedgerTotal(t)
    const txs = () => t.w.l1.nonceOf(t.alice.address) + t.w.l1.nonceOf(t.bob.address) + t.w.l1.nonceOf(t.ingrid.address)
    const before = txs()
    t.nodes.alice.options.autoDefend = false // Mallory does not refute her own fraud
    const p = paramsOf(t, vid)
    await t.alice.virtual.register(p, old.state.version === 0n ? undefined : old, activationOf(t, vid))
    await until(() => t.nodes.bob.records.require(vid).status === 'disputed' && t.nodes.ingrid.records.require(vid).status === 'disputed')
    await waitFor(async () => (await t.bob.virtual.dispute(new Uint8Array(Buffer.from(vid.slice(2), 'hex'))))?.version === newest.state.version)
    // Before the window ends nobody unlocks: the outcome can still change.
    t.nodes.ingrid.tick(Date.now() + 10_000)
    await new Promise((r) => setTimeout(r, 20))
    assert.equal(t.nodes.alice.channel.status(t.ledgerA).locked.length, 1)
    t.w.l1.mine(p.disputeWindow + 1)
    t.nodes.ingrid.tick(Date.now() + 20_000)
    await until(() => t.nodes.alice.records.require(vid).status === 'closed' && t.nodes.bob.records.require(vid).status === 'closed' && t.nodes.ingrid.records.require(vid).status === 'closed')
    assert.equal(txs() - before, 2n, 'Mallory’s registration and Bob’s refutation')
    assert.equal(t.nodes.alice.channel.status(t.ledgerA).myBalance, 7n * ETH + newest.state.balances[0])
    assert.equal(t.nodes.bob.channel.status(t.ledgerB).myBalance, 9n * ETH + newest.state.balances[1])
    assert.equal(ingridLedgerTotal(t), hub + 4n * ETH, 'Ingrid nets zero (her 4 ETH of collateral back)')
    assert.equal(t.nodes.alice.channel.status(t.ledgerA).phase, 'open')
    for (const n of Object.values(t.nodes)) n.stop()
  })
})

describe('Alice and Bob colluding against Ingrid', () => {
  test('4a. Ingrid settled ledger A by the final state; Bob withholds B’s unlock and registers a newer state on L1: she concludes with the final one and both locks are paid by it', async () => {
    const t = await trio()
    const vid = await activeVirtual(t, 3n * ETH, 1n * ETH)
    await t.nodes.alice.pay({ channelId: vid, amount: ETH })
    t.links.bi.ch[0].disconnect() // Bob never answers the unlock of ledger B
    await t.nodes.alice.closeVirtual({ channelId: vid })
    const final = t.nodes.bob.channel.latest(vid)
    assert.equal(t.nodes.ingrid.records.require(vid).status, 'settling')
    const inA = t.nodes.ingrid.channel.status(t.ledgerA).myBalance
    assert.equal(inA, 9n * ETH + final.state.balances[1])
    const gi = mark(t.w, t.ingrid)
    // Colluders: Bob registers ledger B (with the lock) and a later state giving him everything.
    await t.bob.client.register(t.nodes.bob.channel.latest(t.ledgerB))
    const p = paramsOf(t, vid)
    await t.bob.virtual.register(p, raw(t, vid, final.state.version + 1n, [0n, 4n * ETH]), activationOf(t, vid))
    const id = new Uint8Array(Buffer.from(vid.slice(2), 'hex'))
    await waitFor(async () => (await t.bob.virtual.dispute(id))?.concluded === true)
    assert.deepEqual((await t.bob.virtual.dispute(id))?.balances, final.state.balances)
    t.w.l1.mine(11)
    await t.bob.client.finalize(new Uint8Array(Buffer.from(t.ledgerB.slice(2), 'hex')))
    await t.bob.virtual.resolve(new Uint8Array(Buffer.from(t.ledgerB.slice(2), 'hex')), p)
    // Ingrid: A off chain by the final state, B on chain by the same: 20 ETH in total, as she put in.
    assert.equal(inA + gi(), 20n * ETH)
  })

  test('4b. two different final states: Ingrid settles by the first, refuses the second (CONFLICT), and concludes with the first when the colluders go to L1', async () => {
    const t = await trio()
    const vid = await activeVirtual(t, 3n * ETH, 1n * ETH)
    await t.nodes.alice.pay({ channelId: vid, amount: ETH })
    const v = t.nodes.alice.channel.latest(vid).state.version
    const f2 = raw(t, vid, v + 1n, [0n, 4n * ETH], true)
    const f1 = raw(t, vid, v + 1n, [4n * ETH, 0n], true)
    const settle = (s: SignedState) => encodeVirtualMessage({ type: 'settle', state: s.state, sigA: s.sigs[0], sigB: s.sigs[1] })
    t.nodes.bob.virtualLinkTo(t.ingrid.address)?.send(settle(f2))
    await until(() => t.nodes.ingrid.records.require(vid).status === 'settling')
    t.nodes.alice.virtualLinkTo(t.ingrid.address)?.send(settle(f1))
    await until(() => t.nodes.ingrid.errors.some((e) => e.code === 'CONFLICT'))
    assert.equal(t.nodes.ingrid.errors.find((e) => e.code === 'CONFLICT')?.field, 'state')
    // Alice's and Bob's nodes hold no final state: their policies refuse the unlocks, so both locks stay.
    await until(() => t.nodes.ingrid.errors.filter((e) => e.code === 'REJECTED').length >= 2)
    assert.equal(t.nodes.alice.channel.status(t.ledgerA).locked.length, 1)
    const gi = mark(t.w, t.ingrid)
    await t.alice.client.register(t.nodes.alice.channel.latest(t.ledgerA))
    await t.bob.client.register(t.nodes.bob.channel.latest(t.ledgerB))
    const p = paramsOf(t, vid)
    await t.alice.virtual.register(p, raw(t, vid, v + 9n, [4n * ETH, 0n]), activationOf(t, vid))
    const id = new Uint8Array(Buffer.from(vid.slice(2), 'hex'))
    await waitFor(async () => (await t.alice.virtual.dispute(id))?.concluded === true)
    t.w.l1.mine(11)
    await t.nodes.ingrid.finalizeVirtual({ channelId: vid })
    assert.equal(gi(), 20n * ETH, 'Ingrid nets zero')
    assert.equal(t.w.l1.balanceOf(t.w.adj.address), 0n)
  })

  test('4c. a lock in ledger A only (Bob never countersigns B’s): no activation, so no state past version 0 counts and Ingrid gets her share back', async () => {
    const t = await trio()
    t.links.bi.ch[0].disconnect()
    const opening = openVirtual(t, 3n * ETH, 1n * ETH)
    opening.catch(() => {})
    await until(() => t.nodes.ingrid.channel.status(t.ledgerA).locked.length === 1)
    const vid = t.nodes.ingrid.virtualIds()[0] as `0x${string}`
    assert.equal(t.nodes.ingrid.records.require(vid).status, 'funding')
    const p = paramsOf(t, vid)
    const all = raw(t, vid, 5n, [4n * ETH, 0n])
    await assert.rejects(t.alice.virtual.register(p, all), (e: RevertError) => e.field === 'activation')
    await assert.rejects(t.alice.virtual.register(p, all, t.alice.signer.sign(new Uint8Array(32))), (e: RevertError) => e.field === 'activation')
    const gi = mark(t.w, t.ingrid)
    await t.nodes.alice.forceCloseVirtual({ channelId: vid })
    t.w.l1.mine(11)
    await t.nodes.alice.finalizeVirtual({ channelId: vid })
    // Ledger A paid out: Ingrid's 9 + her x_B back.
    assert.equal(gi(), 10n * ETH)
    assert.equal(t.nodes.ingrid.channel.status(t.ledgerB).myBalance, 10n * ETH)
    for (const n of Object.values(t.nodes)) n.stop()
  })
})
