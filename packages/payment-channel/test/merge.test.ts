/**
 * Merged updates at the node: payments that queue behind an update in flight
 * ride in the next proposal together (one state, one pair of signatures, one
 * commit per side), each with its own result and its own payment event; one
 * that does not apply fails alone with its reason; the peer's refusal names
 * the entry, and that payment alone fails (after its own retries) while the
 * rest land. A malicious peer's merged proposal that moves money wrongly is
 * refused with a typed error naming the entry, and nothing is written.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { AmountError, InvalidInputError, type L2Error } from '@l2bench/core'
import {
  ChannelError,
  ChannelNode,
  type ChannelState,
  EntryError,
  type LockedEntry,
  MAX_MERGE,
  type MemoryStore,
  type PaymentEvent,
  type WireChange,
  type WireMessage,
  decodeMessage,
  encodeMessage,
  stateDigest,
} from '../src/index.ts'
import { ETH, nodePair, settle, until } from './fixtures.ts'

describe('merged updates', () => {
  test('payments queued behind one in flight ride in one state; each resolves with its version; the payee gets one event each', async () => {
    const stepsSeen: number[] = []
    const p = await nodePair({ nodes: [{}, { onSignedState: (_s, steps) => stepsSeen.push(steps?.length ?? 1) }] })
    const { alice, bob, channelId } = p
    await until(() => bob.status(channelId).phase === 'open')
    const got: PaymentEvent[] = []
    bob.on('payment', (e) => got.push(e))
    const saves = [(p.stores[0] as MemoryStore).saves, (p.stores[1] as MemoryStore).saves]
    const first = alice.pay({ channelId, amount: 1n })
    const queued = [2n, 3n, 4n, 5n, 6n].map((amount) => alice.pay({ channelId, amount }))
    assert.equal(await first, 1n)
    assert.deepEqual(await Promise.all(queued), [2n, 2n, 2n, 2n, 2n], 'the five queued payments share version 2')
    await settle()
    assert.equal(bob.status(channelId).version, 2n)
    assert.deepEqual(bob.status(channelId).balances, [10n * ETH - 21n, 5n * ETH + 21n])
    assert.deepEqual(
      got.map((e) => [e.version, e.amount]),
      [
        [1n, 1n],
        [2n, 2n],
        [2n, 3n],
        [2n, 4n],
        [2n, 5n],
        [2n, 6n],
      ],
    )
    assert.deepEqual(stepsSeen.slice(-2), [1, 5], 'the merged state comes with its five steps')
    // Alice: pending(v1), then latest(v1) + pending(v2) in one write, then latest(v2); Bob: v1, v2.
    assert.equal((p.stores[0] as MemoryStore).saves - (saves[0] as number), 3)
    assert.equal((p.stores[1] as MemoryStore).saves - (saves[1] as number), 2)
  })

  test('a payment that does not apply (over-spend, a failing build) fails alone with its reason; the rest go out', async () => {
    const p = await nodePair({ depositA: 100n, depositB: 0n })
    const { alice, bob, channelId } = p
    await until(() => bob.status(channelId).phase === 'open')
    const first = alice.pay({ channelId, amount: 10n })
    const ok1 = alice.pay({ channelId, amount: 20n })
    const tooMuch = alice.pay({ channelId, amount: 80n }) // 70 left after 10 + 20
    const expired = alice.update(channelId, () => {
      throw new ChannelError('POLICY', 'locked[0].expiry', 'HTLC expired at height 7')
    })
    const ok2 = alice.pay({ channelId, amount: 30n })
    assert.equal(await first, 1n)
    await assert.rejects(tooMuch, (e: L2Error) => e instanceof AmountError && e.field === 'amount')
    await assert.rejects(expired, (e: L2Error) => e instanceof ChannelError && e.field === 'locked[0].expiry')
    assert.deepEqual(await Promise.all([ok1, ok2]), [2n, 2n])
    await settle()
    assert.deepEqual(bob.status(channelId).balances, [40n, 60n])
  })

  test('maxMerge bounds how many payments one state carries', async () => {
    const steps: number[] = []
    const p = await nodePair({ node: { maxMerge: 3 }, nodes: [{ onSignedState: (_s, st) => steps.push(st?.length ?? 1) }, {}] })
    const { alice, bob, channelId } = p
    await until(() => bob.status(channelId).phase === 'open')
    const jobs = Array.from({ length: 11 }, (_, i) => alice.pay({ channelId, amount: BigInt(i + 1) }))
    const versions = await Promise.all(jobs)
    assert.deepEqual(versions, [1n, 2n, 2n, 2n, 3n, 3n, 3n, 4n, 4n, 4n, 5n])
    assert.ok(steps.every((n) => n <= 3))
    assert.deepEqual(bob.status(channelId).balances, [10n * ETH - 66n, 5n * ETH + 66n])
    for (const maxMerge of [0, 1.5, MAX_MERGE + 1])
      assert.throws(() => new ChannelNode({ ...alice.options, maxMerge }), (e: InvalidInputError) => e instanceof InvalidInputError && e.field === 'maxMerge')
  })

  test('the peer refuses one entry: that payment alone fails with the peer’s reason after its own retries, the rest land', async () => {
    // Bob refuses any payment of exactly 13 (a stand-in for any per-update refusal: an expired HTLC, a limit).
    const policy = (prev: ChannelState, next: ChannelState, me: 0 | 1) => {
      if (next.balances[me] - prev.balances[me] === 13n) throw new ChannelError('POLICY', 'state.balances', 'this node refuses payments of 13')
    }
    const p = await nodePair({ nodes: [{}, { policy }] })
    const { alice, bob, channelId } = p
    await until(() => bob.status(channelId).phase === 'open')
    const bobSent: WireMessage[] = []
    const send = p.secure[1].send.bind(p.secure[1])
    p.secure[1].send = (f) => {
      bobSent.push(decodeMessage(f))
      send(f)
    }
    const first = alice.pay({ channelId, amount: 1n })
    const others = [2n, 3n, 13n, 4n, 5n].map((amount) => alice.pay({ channelId, amount }))
    assert.equal(await first, 1n)
    await assert.rejects(others[2] as Promise<bigint>, (e: L2Error) => e instanceof ChannelError && e.code === 'REJECTED' && /POLICY/.test(e.message))
    const landed = await Promise.all([others[0], others[1], others[3], others[4]])
    // In queue order: the two before the refused one merged, the refused one alone (refused again), the two after it merged.
    assert.equal(landed[0], landed[1])
    assert.equal(landed[2], landed[3])
    assert.ok((landed[2] as bigint) > (landed[0] as bigint))
    await settle()
    assert.deepEqual(bob.status(channelId).balances, [10n * ETH - 15n, 5n * ETH + 15n])
    // The merged refusal named entry 2 (the 13); its field says which check refused it.
    const named = bob.errors.find((e) => e instanceof EntryError) as EntryError
    assert.equal(named.entry, 2)
    assert.equal(named.field, 'entries[2].state.balances')
    assert.equal(named.code, 'POLICY')
    const rejects = bobSent.filter((m): m is Extract<WireMessage, { type: 'reject' }> => m.type === 'reject')
    assert.equal(rejects[0]?.entry, 2)
    // Then the 13 went alone: refused twice more (maxRejections 2), no entry to name.
    assert.deepEqual(
      rejects.slice(1).map((r) => r.entry),
      [undefined, undefined],
    )
  })

  describe('a malicious peer’s merged proposal is refused naming the entry; nothing is written; the node keeps serving', () => {
    const pay = (amount: bigint): WireChange => ({ dA: -amount, dB: amount, removed: [], added: [] })
    const lock: LockedEntry = { id: new Uint8Array(32).fill(1), amount: 5n, direction: 0, hash: new Uint8Array(32).fill(2), expiry: 1000n }
    const cases: [string, (latest: ChannelState) => { state: ChannelState; entries: WireChange[]; topUp?: bigint }, (e: L2Error) => boolean][] = [
      [
        'entries that do not add up to the state',
        (l) => ({ state: move(l, 5n), entries: [pay(3n), pay(3n)] }),
        (e) => e instanceof ChannelError && e.code === 'CONSERVATION' && e.field === 'entries',
      ],
      [
        'one entry takes money from the responder (the sum still gives)',
        (l) => ({ state: move(l, 5n), entries: [pay(10n), pay(-5n)] }),
        (e) => e instanceof EntryError && e.entry === 1 && e.code === 'POLICY' && e.field === 'entries[1].state.balances',
      ],
      [
        'one entry over-spends the proposer’s balance (a later one makes up for it)',
        (l) => ({ state: move(l, 1n), entries: [pay(l.balances[0] + 1n), { dA: l.balances[0] + 1n - 1n, dB: -(l.balances[0] + 1n - 1n), removed: [], added: [] }] }),
        (e) => e instanceof EntryError && e.entry === 0 && e.code === 'CONSERVATION' && e.field === 'entries[0].change.delta[0]',
      ],
      [
        'an entry removes a locked entry the state does not hold',
        (l) => ({ state: move(l, 2n), entries: [pay(1n), { dA: -1n, dB: 6n, removed: [lock.id], added: [] }] }),
        (e) => e instanceof EntryError && e.entry === 1 && e.field === 'entries[1].change.removed',
      ],
      [
        'an entry adds a lock (the default policy refuses lock changes)',
        (l) => ({ state: { ...move(l, 1n), balances: [l.balances[0] - 6n, l.balances[1] + 1n], locked: [lock] }, entries: [pay(1n), { dA: -5n, dB: 0n, removed: [], added: [lock] }] }),
        (e) => e instanceof EntryError && e.entry === 1 && e.code === 'POLICY' && e.field === 'entries[1].state.locked',
      ],
      ['a merged proposal with a top-up', (l) => ({ state: move(l, 2n), entries: [pay(1n), pay(1n)], topUp: 1n }), (e) => e instanceof InvalidInputError && e.field === 'topUp'],
      [
        'a merged closing state',
        (l) => ({ state: { ...move(l, 2n), isFinal: true }, entries: [pay(1n), pay(1n)] }),
        (e) => e instanceof InvalidInputError && e.field === 'state.isFinal',
      ],
    ]
    for (const [name, build, check] of cases)
      test(name, async () => {
        const p = await nodePair()
        const { alice, bob, channelId, world, a } = p
        await until(() => bob.status(channelId).phase === 'open')
        await alice.pay({ channelId, amount: ETH })
        await settle()
        const bobStore = p.stores[1] as MemoryStore
        const latest = bob.latest(channelId).state
        const { state, entries, topUp = 0n } = build(latest)
        const sig = a.signer.sign(stateDigest(world.domain, state))
        const bobSent: WireMessage[] = []
        const send = p.secure[1].send.bind(p.secure[1])
        p.secure[1].send = (f) => {
          bobSent.push(decodeMessage(f))
          send(f)
        }
        const saves = bobStore.saves
        const errs = bob.errors.length
        // Sent as Alice on her authenticated link.
        p.secure[0].send(encodeMessage({ type: 'propose', state, sig, topUp, entries }))
        await settle()
        assert.equal(bob.errors.length, errs + 1)
        const err = bob.errors.at(-1) as L2Error
        assert.ok(check(err), `got ${err?.name} ${err?.code} ${err?.field}: ${err?.message}`)
        assert.equal(bobStore.saves, saves, 'nothing written')
        assert.equal(bob.status(channelId).version, latest.version)
        const reject = bobSent.find((m) => m.type === 'reject') as Extract<WireMessage, { type: 'reject' }>
        assert.ok(reject !== undefined, 'the proposer is told')
        assert.equal(reject.entry, err instanceof EntryError ? err.entry : undefined)
        // Still serving, merged payments included.
        const jobs = [alice.pay({ channelId, amount: 1n }), alice.pay({ channelId, amount: 2n }), alice.pay({ channelId, amount: 3n })]
        await Promise.all(jobs)
        assert.deepEqual(bob.status(channelId).balances, [10n * ETH - ETH - 6n, 5n * ETH + ETH + 6n])
      })
  })
})

/** `latest` with `amount` moved from A to B, one version up. */
function move(latest: ChannelState, amount: bigint): ChannelState {
  return { ...latest, version: latest.version + 1n, balances: [latest.balances[0] - amount, latest.balances[1] + amount] }
}
