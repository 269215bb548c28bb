/**
 * Red team: bad local input and concurrent calls. A parameter the store
 * cannot encode used to surface as a store failure, which stops the whole
 * node (every channel).
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { InvalidInputError, NodeSigner, secretKeyFromSeed } from '@l2bench/core'
import { type ChannelParams, type OpenParameters, createMachine } from '../src/index.ts'
import { ETH, nodePair } from './fixtures.ts'

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

})
