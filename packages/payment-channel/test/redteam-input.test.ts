/**
 * Red team: bad local input and concurrent calls. A parameter the store
 * cannot encode used to surface as a store failure, which stops the whole
 * node (every channel); two concurrent closes used to leave one call waiting
 * forever.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { InvalidInputError, NodeSigner, secretKeyFromSeed } from '@l2bench/core'
import { Wallet } from '@l2bench/l1-mock'
import { type ChannelParams, type OpenParameters, type SignedState, Watchtower, createMachine } from '../src/index.ts'
import { ETH, nodePair, settle } from './fixtures.ts'

/** Resolves with 'pending' if `p` has not settled within `ms` (a hang guard). */
function within<T>(p: Promise<T>, ms: number): Promise<PromiseSettledResult<T> | 'pending'> {
  return Promise.race([Promise.allSettled([p]).then((r) => r[0] as PromiseSettledResult<T>), new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms))])
}

describe('red team: bad input changes nothing and wedges nothing', () => {
  test('open with a key that is not the peer’s, a nonce outside u64 or an unknown penalty: a typed error naming the field; nothing stored, the node keeps serving', async () => {
    const p = await nodePair()
    const { alice, bob, b, channelId, stores } = p
    const base: OpenParameters = { peer: b.address, peerPublicKey: b.signer.publicKey, deposit: ETH, disputeWindow: 10 }
    const stranger = new NodeSigner(secretKeyFromSeed('stranger')).publicKey
    const cases: [Partial<OpenParameters>, string][] = [
      [{ peerPublicKey: new Uint8Array(33) }, 'peerPublicKey'],
      [{ peerPublicKey: 'x' as unknown as Uint8Array }, 'peerPublicKey'],
      [{ peerPublicKey: stranger }, 'peerPublicKey'],
      [{ nonce: -1n }, 'nonce'],
      [{ nonce: 1n << 64n }, 'nonce'],
      [{ penalty: 'bogus' as 'none' }, 'penalty'],
    ]
    for (const [bad, field] of cases) {
      await assert.rejects(alice.open({ ...base, ...bad }), (e: InvalidInputError) => e instanceof InvalidInputError && e.field === field, field)
      assert.equal(alice.failure, undefined, `${field}: the node did not stop`)
      assert.deepEqual(alice.channelIds(), [channelId], `${field}: nothing stored`)
      assert.equal(stores[0].loadAll().length, 1)
    }
    // Still serving its channel.
    assert.equal(await alice.pay({ channelId, amount: ETH }), 1n)
    assert.equal(bob.status(channelId).myBalance, 6n * ETH)
  })

  test('openFunded with parameters a record cannot hold: a typed error naming the field; nothing stored, the node keeps serving', async () => {
    const p = await nodePair()
    const { alice, a, b, channelId, world } = p
    const params: ChannelParams = {
      channelId: new Uint8Array(32).fill(7),
      domain: world.domain,
      nonce: 1n << 70n,
      parties: [a.address, b.address],
      publicKeys: [a.signer.publicKey, b.signer.publicKey],
      deposits: [ETH, 0n],
      disputeWindow: 10,
      fundingTimeout: 10,
      penalty: 'none',
    }
    assert.throws(() => alice.openFunded(params, 0, new Uint8Array(64)), (e: InvalidInputError) => e instanceof InvalidInputError && e.field === 'params.nonce')
    const wrongKey = { ...params, nonce: 1n, publicKeys: [a.signer.publicKey, a.signer.publicKey] as const }
    assert.throws(() => alice.openFunded(wrongKey, 0, new Uint8Array(64)), (e: InvalidInputError) => e.field === 'params.publicKeys[1]')
    assert.throws(() => createMachine(alice.ctx, wrongKey, 0), (e: InvalidInputError) => e.field === 'params.publicKeys[1]')
    assert.equal(alice.failure, undefined)
    assert.deepEqual(alice.channelIds(), [channelId])
    assert.equal(await alice.pay({ channelId, amount: ETH }), 1n)
  })

  test('two concurrent cooperative closes: neither call hangs, the channel closes once and pays the final state', async () => {
    const p = await nodePair()
    const { alice, bob, channelId, world, b } = p
    await alice.pay({ channelId, amount: ETH })
    const before = world.l1.balanceOf(b.address)
    const first = within(alice.closeCooperative({ channelId }), 5_000)
    const second = within(alice.closeCooperative({ channelId }), 5_000)
    const [r1, r2] = await Promise.all([first, second])
    assert.notEqual(r1, 'pending', 'the first close settled')
    assert.notEqual(r2, 'pending', 'the second close settled')
    assert.equal(world.l1.events({ name: 'Concluded' }).length, 1)
    assert.equal(world.l1.balanceOf(b.address) - before, 6n * ETH)
    await settle()
    assert.equal(bob.status(channelId).phase, 'closed')
  })

  test('two concurrent finalState calls return the same final state', async () => {
    const p = await nodePair()
    const { alice, channelId } = p
    const [x, y] = await Promise.all([within(alice.finalState({ channelId }), 5_000), within(alice.finalState({ channelId }), 5_000)])
    assert.ok(x !== 'pending' && x.status === 'fulfilled' && y !== 'pending' && y.status === 'fulfilled', 'both resolved')
    assert.equal(x.value.state.version, y.value.state.version)
    assert.equal(x.value.state.isFinal, true)
  })
})

describe('red team: the watchtower’s input', () => {
  test('watch() of something that is not a signed state: a typed error naming the field, nothing held', async () => {
    const p = await nodePair()
    const ts = new NodeSigner(secretKeyFromSeed('red-input-tower'))
    p.world.l1.mint(ts.address, ETH)
    const tower = new Watchtower({ wallet: new Wallet(ts, p.world.l1), adjudicator: p.world.adj })
    const good = p.alice.latest(p.channelId)
    await assert.rejects(tower.watch(null as unknown as SignedState), (e: InvalidInputError) => e instanceof InvalidInputError && e.field === 'signed')
    await assert.rejects(
      tower.watch({ ...good, state: { ...good.state, channelId: 'x' as unknown as Uint8Array } }),
      (e: InvalidInputError) => e instanceof InvalidInputError && e.field === 'state.channelId',
    )
    assert.equal(tower.size, 0)
    await tower.watch(good)
    assert.equal(tower.size, 1)
    tower.stop()
  })
})
