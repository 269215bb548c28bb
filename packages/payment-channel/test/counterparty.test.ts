/**
 * What the counterparty does with bad input (ATTACKS 5, 6, 9 at the node):
 * forged or misdirected signatures, overspending, versions that skip or go
 * back, unknown channels, replays, malformed frames. Each is a typed error
 * naming the field; nothing is written; the node keeps serving.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { AmountError, DecodeError, L2Error, NodeSigner, SignatureError, secretKeyFromSeed, toHighS } from '@l2bench/core'
import {
  ChannelError,
  type ChannelState,
  LinkError,
  type Domain,
  MAX_FRAME,
  type MemoryStore,
  type WireMessage,
  encodeMessage,
  stateDigest,
} from '../src/index.ts'
import { ETH, nodePair, settle, until } from './fixtures.ts'

async function setup() {
  const p = await nodePair()
  await until(() => p.bob.status(p.channelId).phase === 'open')
  await p.alice.pay({ channelId: p.channelId, amount: ETH })
  await settle()
  return p
}

describe('counterparty rejects bad proposals', () => {
  test('signature cases (ATTACKS 5), overspending, version skip/back, unknown channel', async () => {
    const p = await setup()
    const { alice, bob, channelId, secure, world, a, b } = p
    const bobStore = p.stores[1] as MemoryStore
    const latest = bob.latest(channelId).state
    const id = latest.channelId
    const next: ChannelState = { ...latest, version: latest.version + 1n, balances: [latest.balances[0] - 1n, latest.balances[1] + 1n] }
    const sign = (domain: Domain, st: ChannelState, signer = a.signer) => signer.sign(stateDigest(domain, st))
    const mallory = new NodeSigner(secretKeyFromSeed('mallory'))
    const otherId = new Uint8Array(32).fill(9)
    const cases: [string, WireMessage, (e: unknown) => boolean][] = [
      ['high-s', { type: 'propose', state: next, sig: toHighS(sign(world.domain, next)), topUp: 0n, entries: [] }, (e) => e instanceof SignatureError && (e as L2Error).field === 'sig'],
      ['other chain', { type: 'propose', state: next, sig: sign({ ...world.domain, chainId: 5n }, next), topUp: 0n, entries: [] }, (e) => e instanceof SignatureError],
      ['other contract', { type: 'propose', state: next, sig: sign({ ...world.domain, adjudicator: mallory.address }, next), topUp: 0n, entries: [] }, (e) => e instanceof SignatureError],
      ['other channel', { type: 'propose', state: next, sig: sign(world.domain, { ...next, channelId: otherId }), topUp: 0n, entries: [] }, (e) => e instanceof SignatureError],
      ['other version', { type: 'propose', state: next, sig: sign(world.domain, { ...next, version: next.version + 1n }), topUp: 0n, entries: [] }, (e) => e instanceof SignatureError],
      ['wrong party', { type: 'propose', state: next, sig: sign(world.domain, next, mallory), topUp: 0n, entries: [] }, (e) => e instanceof SignatureError],
      ['signed by Bob himself', { type: 'propose', state: next, sig: sign(world.domain, next, b.signer), topUp: 0n, entries: [] }, (e) => e instanceof SignatureError],
      [
        'overspending (breaks conservation)',
        (() => {
          const st = { ...next, balances: [0n, latest.balances[1] + latest.balances[0] + 1n] as const }
          return { type: 'propose', state: st, sig: sign(world.domain, st), topUp: 0n, entries: [] } as WireMessage
        })(),
        (e) => e instanceof ChannelError && e.code === 'CONSERVATION' && e.field === 'state.balances',
      ],
      [
        'takes money from Bob',
        (() => {
          const st = { ...next, balances: [latest.balances[0] + 1n, latest.balances[1] - 1n] as const }
          return { type: 'propose', state: st, sig: sign(world.domain, st), topUp: 0n, entries: [] } as WireMessage
        })(),
        (e) => e instanceof ChannelError && e.code === 'POLICY' && e.field === 'state.balances',
      ],
      [
        'version skips',
        (() => {
          const st = { ...next, version: next.version + 1n }
          return { type: 'propose', state: st, sig: sign(world.domain, st), topUp: 0n, entries: [] } as WireMessage
        })(),
        (e) => e instanceof ChannelError && e.code === 'VERSION_GAP' && e.field === 'state.version',
      ],
      [
        'version goes back',
        (() => {
          const st = { ...next, version: latest.version - 1n }
          return { type: 'propose', state: st, sig: sign(world.domain, st), topUp: 0n, entries: [] } as WireMessage
        })(),
        (e) => e instanceof ChannelError && e.code === 'STALE_VERSION',
      ],
      [
        'unknown channel',
        (() => {
          const st = { ...next, channelId: otherId }
          return { type: 'propose', state: st, sig: sign(world.domain, st), topUp: 0n, entries: [] } as WireMessage
        })(),
        (e) => e instanceof ChannelError && e.code === 'UNKNOWN_CHANNEL' && e.field === 'state.channelId',
      ],
      ['accept for no proposal', { type: 'accept', channelId: id, version: 7n, sig: new Uint8Array(64), more: false }, (e) => e instanceof ChannelError && e.code === 'STALE_VERSION'],
      [
        'top-up claimed for Bob’s side',
        (() => {
          const st = { ...next, balances: [latest.balances[0], latest.balances[1] + 5n] as const }
          return { type: 'propose', state: st, sig: sign(world.domain, st), topUp: 5n, entries: [] } as WireMessage
        })(),
        (e) => e instanceof ChannelError && e.code === 'POLICY',
      ],
    ]
    for (const [name, msg, check] of cases) {
      const saves = bobStore.saves
      const errs = bob.errors.length
      secure[0].send(encodeMessage(msg))
      await settle()
      assert.equal(bob.errors.length, errs + 1, name)
      const err = bob.errors.at(-1)
      assert.ok(check(err), `${name}: got ${String(err)}`)
      assert.equal(bobStore.saves, saves, `${name}: nothing written`)
      assert.equal(bob.status(channelId).version, latest.version, name)
    }
    // Still serving.
    assert.equal(await alice.pay({ channelId, amount: 5n }), latest.version + 1n)
    assert.equal(await bob.pay({ channelId, amount: 1n }), latest.version + 2n)
  })

  test('replayed messages change nothing; the newest proposal replayed is answered idempotently', async () => {
    const p = await setup()
    const { alice, bob, channelId, secure } = p
    // Recorded and replayed by the peers themselves (on their authenticated links): the protocol refuses them.
    const fromAlice: Uint8Array[] = []
    const send0 = secure[0].send.bind(secure[0])
    secure[0].send = (f) => {
      fromAlice.push(f.slice())
      send0(f)
    }
    const fromBob: Uint8Array[] = []
    const send1 = secure[1].send.bind(secure[1])
    secure[1].send = (f) => {
      fromBob.push(f.slice())
      send1(f)
    }
    for (let i = 0; i < 4; i++) await alice.pay({ channelId, amount: 1n })
    await bob.pay({ channelId, amount: 2n })
    await settle()
    const va = alice.latest(channelId)
    const vb = bob.latest(channelId)
    const savesA = (p.stores[0] as MemoryStore).saves
    const savesB = (p.stores[1] as MemoryStore).saves
    for (const f of fromAlice) send0(f)
    for (const f of fromBob) send1(f)
    await settle(10)
    assert.equal(alice.latest(channelId), va)
    assert.equal(bob.latest(channelId), vb)
    assert.equal((p.stores[0] as MemoryStore).saves, savesA)
    assert.equal((p.stores[1] as MemoryStore).saves, savesB)
    assert.ok(bob.errors.some((e) => e.code === 'STALE_VERSION'))
    assert.ok(bob.errors.every((e) => e instanceof L2Error))
    assert.equal(await alice.pay({ channelId, amount: 1n }), vb.state.version + 1n)
  })

  test('replayed frames on the wire (a third party repeats what it saw) are dropped by the link', async () => {
    const p = await setup()
    const { alice, bob, channelId, links } = p
    const seen: Uint8Array[] = []
    const raw0 = links[0].send.bind(links[0])
    links[0].send = (f) => {
      seen.push(f.slice())
      raw0(f)
    }
    for (let i = 0; i < 3; i++) await alice.pay({ channelId, amount: 1n })
    await settle()
    const vb = bob.latest(channelId)
    const errs = bob.errors.length
    for (const f of seen) raw0(f)
    await settle(10)
    assert.equal(bob.latest(channelId), vb)
    const linkErrors = bob.errors.slice(errs)
    assert.equal(linkErrors.length, seen.length)
    assert.ok(linkErrors.every((e) => e instanceof LinkError && e.code === 'REPLAY'), linkErrors.map(String).join('\n'))
    assert.equal(await alice.pay({ channelId, amount: 1n }), vb.state.version + 1n)
  })

  test('malformed, truncated and oversized frames: DecodeError, node keeps serving', async () => {
    const p = await setup()
    const { alice, bob, channelId, secure } = p
    const good = encodeMessage({ type: 'confirm', channelId: bob.latest(channelId).state.channelId, version: 1n })
    // (An empty payload is the link's keep-alive: it never reaches the node.)
    const frames = [
      new Uint8Array([0xff]),
      good.subarray(0, good.length - 3),
      new Uint8Array([...good, 0]),
      new Uint8Array(MAX_FRAME + 1),
      new Uint8Array([4, 1, 2, 3]),
    ]
    for (const f of frames) secure[0].send(f)
    await settle()
    assert.equal(bob.errors.length, frames.length)
    assert.ok(bob.errors.every((e) => e instanceof DecodeError), bob.errors.map(String).join('\n'))
    assert.equal(await alice.pay({ channelId, amount: 1n }), 2n)
  })

  test('amount checks at the API: negative, zero, non-bigint, above balance', async () => {
    const p = await setup()
    const { alice, channelId } = p
    for (const amount of [-1n, 0n, 1 as unknown as bigint, '1' as unknown as bigint, 100n * ETH]) {
      await assert.rejects(alice.pay({ channelId, amount }), (e: L2Error) => e instanceof AmountError && e.field === 'amount')
    }
    assert.equal(alice.status(channelId).version, 1n)
  })
})
