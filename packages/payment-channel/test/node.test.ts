/** ChannelNode end to end over in-memory links: open, payments both ways, top-up, cooperative close, bad input. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { AmountError, type InvalidInputError } from '@l2bench/core'
import type { ChannelError, PaymentEvent } from '../src/index.ts'
import { ETH, nodePair, settle, until } from './fixtures.ts'

describe('ChannelNode', () => {
  test('open, pay both ways, payment events, cooperative close pays the final split', async () => {
    const p = await nodePair()
    const { alice, bob, channelId, world } = p
    assert.equal(alice.status(channelId).phase, 'open')
    await until(() => bob.status(channelId).phase === 'open')
    const got: PaymentEvent[] = []
    bob.on('payment', (e) => got.push(e))
    assert.equal(await alice.pay({ channelId, amount: 2n * ETH }), 1n)
    assert.equal(await bob.pay({ channelId, amount: ETH / 2n }), 2n)
    assert.equal(await alice.pay({ channelId, amount: 1n }), 3n)
    await settle()
    assert.deepEqual(
      got.map((e) => e.amount),
      [2n * ETH, 1n],
    )
    assert.deepEqual(alice.status(channelId).balances, bob.status(channelId).balances)
    assert.deepEqual(alice.status(channelId).balances, [10n * ETH - 2n * ETH + ETH / 2n - 1n, 5n * ETH + 2n * ETH - ETH / 2n + 1n])
    const ba = world.l1.balanceOf(p.a.address)
    const bb = world.l1.balanceOf(p.b.address)
    const r = await alice.closeCooperative({ channelId })
    assert.equal(r.status, 'success')
    assert.equal(world.l1.balanceOf(p.a.address), ba + 8n * ETH + ETH / 2n - 1n - r.fee)
    assert.equal(world.l1.balanceOf(p.b.address), bb + 6n * ETH + ETH / 2n + 1n)
    await settle()
    assert.equal(alice.status(channelId).phase, 'closed')
    assert.equal(bob.status(channelId).phase, 'closed')
    await assert.rejects(alice.pay({ channelId, amount: 1n }), (e: ChannelError) => e.code === 'CHANNEL_CLOSED')
  })

  for (const maxMerge of [1, 64])
    test(`many queued payments from both sides at once: one history, no fork, sums match (maxMerge ${maxMerge})`, async () => {
      const p = await nodePair({ node: { maxMerge } })
      const { alice, bob, channelId } = p
      await until(() => bob.status(channelId).phase === 'open')
      const got: [PaymentEvent[], PaymentEvent[]] = [[], []]
      alice.on('payment', (e) => got[0].push(e))
      bob.on('payment', (e) => got[1].push(e))
      const jobs: Promise<bigint>[] = []
      for (let i = 0; i < 30; i++) {
        jobs.push(alice.pay({ channelId, amount: 3n }))
        jobs.push(bob.pay({ channelId, amount: 2n }))
      }
      const versions = await Promise.all(jobs)
      await settle()
      const final = alice.status(channelId).version
      if (maxMerge === 1) {
        assert.equal(new Set(versions).size, 60, 'every update got its own version')
        assert.equal(final, 60n)
      } else {
        // Merged: a handful of states carry the 60 payments; each payment resolves with its state's version.
        assert.ok(final < 20n, `${final} versions for 60 payments`)
        for (const v of versions) assert.ok(v >= 1n && v <= final)
      }
      assert.deepEqual(alice.latest(channelId).digest, bob.latest(channelId).digest)
      assert.deepEqual(alice.status(channelId).balances, [10n * ETH - 30n, 5n * ETH + 30n])
      // Each payment is reported on its own (or still deferred while our own signature at its version is out).
      for (const [i, amount] of [[0, 2n], [1, 3n]] as const) {
        const reports = [...got[i], ...[alice, bob][i]!.machine(channelId).deferred]
        assert.equal(reports.length, 30)
        assert.ok(reports.every((r) => r.amount === amount))
      }
    })

  test('top-up: both sign the new split first, then the deposit lands and payments continue', async () => {
    const p = await nodePair()
    const { alice, bob, channelId } = p
    await until(() => bob.status(channelId).phase === 'open')
    await bob.topUp({ channelId, amount: 3n * ETH })
    await until(() => bob.machine(channelId).awaitingDeposit === undefined && alice.machine(channelId).awaitingDeposit === undefined)
    const info = await alice.onChain(channelId)
    assert.deepEqual(info?.deposits, [10n * ETH, 8n * ETH])
    await alice.pay({ channelId, amount: ETH })
    assert.deepEqual(bob.status(channelId).balances, [9n * ETH, 9n * ETH])
    const r = await bob.forceClose({ channelId })
    assert.equal(r.status, 'success')
  })

  test('top-up whose deposit never lands: force close registers the last state valid on L1', async () => {
    const p = await nodePair()
    const { alice, bob, channelId, world, b } = p
    await alice.pay({ channelId, amount: ETH })
    // Bob's L1 transactions are censored: his deposit will not land.
    world.l1.dropSender(b.address, 100)
    await bob.topUp({ channelId, amount: 3n * ETH })
    await settle()
    assert.equal(alice.machine(channelId).awaitingDeposit, 15n * ETH + 3n * ETH)
    // A payment waits for the deposit; the force close ends the channel and the payment with it.
    const queued = alice.pay({ channelId, amount: 1n })
    const r = await alice.forceClose({ channelId })
    assert.equal(r.events[0]?.data.version, 1n, 'the pre-top-up state')
    await assert.rejects(queued, (e: ChannelError) => e.code === 'CHANNEL_CLOSED')
  })

  test('top-up interrupted by a restart: the depositor sends the deposit when it comes back', async () => {
    const p = await nodePair()
    const { bob, alice, channelId, world, b, stores } = p
    const { ChannelNode } = await import('../src/index.ts')
    const pending = bob.topUp({ channelId, amount: 2n * ETH })
    await pending
    bob.stop() // before the L1 deposit goes out
    await settle()
    assert.deepEqual((await alice.onChain(channelId))?.deposits, [10n * ETH, 5n * ETH])
    const bob2 = new ChannelNode({ signer: b.signer, wallet: b.wallet, adjudicator: world.adj, store: stores[1], timers: false })
    await until(() => bob2.machine(channelId).awaitingDeposit === undefined)
    assert.deepEqual((await alice.onChain(channelId))?.deposits, [10n * ETH, 7n * ETH])
    await until(() => alice.machine(channelId).awaitingDeposit === undefined)
    bob2.stop()
  })

  test('a cooperative close interrupted after signing is submitted by calling it again', async () => {
    const p = await nodePair()
    const { alice, bob, channelId, world, a } = p
    await alice.pay({ channelId, amount: ETH })
    // Alice's L1 transactions are dropped: the final state gets signed, the close transaction does not land.
    world.l1.dropSender(a.address, 1)
    await assert.rejects(alice.closeCooperative({ channelId }))
    assert.equal(alice.latest(channelId).state.isFinal, true)
    assert.equal(bob.status(channelId).phase, 'closing')
    world.l1.mine(2)
    const r = await bob.closeCooperative({ channelId })
    assert.equal(r.status, 'success')
    await settle()
    assert.equal(alice.status(channelId).phase, 'closed')
    assert.equal(world.l1.balanceOf(world.adj.address), 0n)
  })

  test('bad local input: typed errors naming the field, nothing changes', async () => {
    const p = await nodePair()
    const { alice, channelId } = p
    const before = alice.latest(channelId)
    await assert.rejects(alice.pay({ channelId, amount: -1n }), (e: AmountError) => e instanceof AmountError && e.field === 'amount')
    await assert.rejects(alice.pay({ channelId, amount: 0n }), (e: AmountError) => e.field === 'amount')
    await assert.rejects(alice.pay({ channelId, amount: 1 as unknown as bigint }), (e: AmountError) => e.field === 'amount')
    await assert.rejects(alice.pay({ channelId, amount: 11n * ETH }), (e: AmountError) => e instanceof AmountError && e.field === 'amount')
    await assert.rejects(alice.pay({ channelId: `0x${'00'.repeat(32)}`, amount: 1n }), (e: ChannelError) => e.code === 'UNKNOWN_CHANNEL')
    await assert.rejects(
      alice.open({ peer: p.b.address, peerPublicKey: p.b.signer.publicKey, deposit: 0n, disputeWindow: 5 }),
      (e: InvalidInputError) => e.field === 'deposit',
    )
    assert.equal(alice.latest(channelId), before)
    assert.equal(await alice.pay({ channelId, amount: 1n }), 1n)
  })

  test('bad options: typed errors naming the option', async () => {
    const { makeWorld } = await import('./fixtures.ts')
    const { ChannelNode, MemoryStore } = await import('../src/index.ts')
    const world = makeWorld()
    const a = world.party('alice')
    const mk = (extra: object) => () => new ChannelNode({ signer: a.signer, wallet: a.wallet, adjudicator: world.adj, store: new MemoryStore(), timers: false, ...extra })
    assert.throws(mk({ acceptLimits: { maxDeposit: -1n } }), (e: AmountError) => e instanceof AmountError && e.field === 'acceptLimits.maxDeposit')
    assert.throws(mk({ acceptLimits: { minDisputeWindow: 10, maxDisputeWindow: 5 } }), (e: InvalidInputError) => e.field === 'acceptLimits.minDisputeWindow')
    assert.throws(mk({ acceptLimits: { maxUnfundedPerPeer: 1.5 } }), (e: InvalidInputError) => e.field === 'acceptLimits.maxUnfundedPerPeer')
    assert.throws(mk({ retryLimits: { maxConflicts: -1 } }), (e: InvalidInputError) => e.field === 'retryLimits.maxConflicts')
    assert.throws(mk({ links: { helloTimeoutMs: -5 } }), (e: InvalidInputError) => e.field === 'helloTimeoutMs')
  })
})

describe('open handshake', () => {
  test('a peer that refuses the channel answers at once; nothing was deposited, nothing to refund', async () => {
    const { makeWorld } = await import('./fixtures.ts')
    const { ChannelNode, MemoryStore, memoryLinkPair } = await import('../src/index.ts')
    const world = makeWorld()
    const a = world.party('alice')
    const b = world.party('bob')
    const alice = new ChannelNode({ signer: a.signer, wallet: a.wallet, adjudicator: world.adj, store: new MemoryStore(), timers: false })
    const bob = new ChannelNode({ signer: b.signer, wallet: b.wallet, adjudicator: world.adj, store: new MemoryStore(), timers: false, acceptChannel: () => false })
    const [la, lb] = memoryLinkPair()
    alice.attach(la)
    bob.attach(lb)
    await alice.whenConnected(b.address)
    const before = world.l1.balanceOf(a.address)
    await assert.rejects(
      alice.open({ peer: b.address, peerPublicKey: b.signer.publicKey, deposit: 2n * ETH, disputeWindow: 5, fundingTimeout: 3 }),
      (e: ChannelError) => e.code === 'POLICY' && e.field === 'peer',
    )
    const [id] = alice.channelIds()
    assert.ok(id)
    assert.equal(alice.status(id).phase, 'closed')
    assert.equal(await alice.onChain(id), undefined, 'A deposits only once B countersigned version 0')
    assert.equal(world.l1.balanceOf(a.address), before, 'not even a fee')
    assert.equal(bob.channelIds().length, 0)
  })

  test('an open whose messages were lost, or whose opener restarted, resumes on reconnect', async () => {
    const { makeWorld } = await import('./fixtures.ts')
    const { ChannelNode, MemoryStore, memoryLinkPair } = await import('../src/index.ts')
    const world = makeWorld()
    const a = world.party('alice')
    const b = world.party('bob')
    const storeA = new MemoryStore()
    const mkA = () => new ChannelNode({ signer: a.signer, wallet: a.wallet, adjudicator: world.adj, store: storeA, timers: false })
    let alice = mkA()
    const bob = new ChannelNode({ signer: b.signer, wallet: b.wallet, adjudicator: world.adj, store: new MemoryStore(), timers: false, acceptLimits: { maxDeposit: ETH } })
    let [la, lb] = memoryLinkPair()
    alice.attach(la)
    bob.attach(lb)
    await alice.whenConnected(b.address)
    // Everything Alice sends is lost: the open request never arrives.
    la.send = () => {}
    const opening = alice.open({ peer: b.address, peerPublicKey: b.signer.publicKey, deposit: 3n * ETH, peerDeposit: ETH, disputeWindow: 5 })
    await settle()
    const [id] = alice.channelIds()
    assert.ok(id)
    assert.equal(alice.status(id).phase, 'funding')
    assert.equal(bob.channelIds().length, 0)
    // Alice's process dies and restarts from its store; a new connection resyncs and the open completes.
    alice.stop()
    await assert.rejects(opening, (e: ChannelError) => e.code === 'STOPPED')
    la.close()
    alice = mkA()
    ;[la, lb] = memoryLinkPair()
    alice.attach(la)
    bob.attach(lb)
    await until(() => alice.status(id).phase === 'open' && bob.channelIds().length === 1)
    assert.equal((await alice.onChain(id))?.phase, 'open')
    assert.equal(await alice.pay({ channelId: id, amount: 7n }), 1n)
    assert.deepEqual(bob.status(id).balances, [3n * ETH - 7n, ETH + 7n])
  })
})
