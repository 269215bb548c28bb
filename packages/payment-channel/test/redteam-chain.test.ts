/**
 * Red team: the chain at the worst moment. A registration made while the
 * honest node was offline or down, or a challenge dropped for a few blocks,
 * used to be refuted never: the node and the watchtower listened live only
 * and sent one challenge. Each test ends with L1 paying the newest state.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { NodeSigner, secretKeyFromSeed } from '@l2bench/core'
import { Wallet } from '@l2bench/l1-mock'
import { CHANNEL_PROTOCOL, type ChannelError, ChannelNode, type ChannelNodeOptions, MemoryStore, SecureLink, Watchtower, memoryLinkPair } from '../src/index.ts'
import { ETH, makeWorld, settle, staleStateScenario, until } from './fixtures.ts'

const scenario = (bobNode: Partial<ChannelNodeOptions> = {}) => staleStateScenario('none', bobNode)

/** A funded watchtower, and Bob's node options that hand it every countersigned state (Bob's autoChallenge off). */
function withTower(seed: string) {
  const ref: { tower?: Watchtower } = {}
  const bobNode: Partial<ChannelNodeOptions> = { autoChallenge: false, onSignedState: (x) => ref.tower?.handOff(x) }
  const start = (world: S['world']): Watchtower => {
    const ts = new NodeSigner(secretKeyFromSeed(seed))
    world.l1.mint(ts.address, 10n * ETH)
    ref.tower = new Watchtower({ wallet: new Wallet(ts, world.l1), adjudicator: world.adj })
    return ref.tower
  }
  return { bobNode, start }
}

type S = Awaited<ReturnType<typeof scenario>>

/** After the deadline: finalize and check Bob got v5's 10 ETH (5 deposit + 5 paid). */
async function paidPerV5(s: S, deadline: number): Promise<void> {
  const { world, b, channelId } = s
  world.l1.advanceTo(deadline + 1)
  const before = world.l1.balanceOf(b.address)
  await s.mallory.finalize({ channelId })
  assert.equal(world.l1.balanceOf(b.address) - before, 10n * ETH, 'Bob is paid per v5')
  assert.equal(world.l1.totalBalances() + world.l1.totalBurnt(), world.l1.totalMinted())
}

describe('red team: disputes when L1 is not reachable at the registration', () => {
  test('a node offline on L1 when the stale state is registered refutes once it is back inside the window', async () => {
    const s = await scenario()
    const { world, bob, b } = s
    world.l1.setOffline(b.address, true) // Bob hears no event and can send nothing
    const reg = await s.mallory.client.register(s.old)
    world.l1.mine(2)
    await settle()
    world.l1.setOffline(b.address, false)
    world.l1.mine(1) // a new block: Bob catches up with the log
    await until(() => world.l1.events({ name: 'Challenged' }).length === 1)
    assert.equal(world.l1.events({ name: 'Challenged' })[0]?.data.version, 5n)
    await paidPerV5(s, reg.events[0]?.data.deadline as number)
    void bob
  })

  test('a challenge dropped for a few blocks is sent again on the next block and lands inside the window', async () => {
    const s = await scenario()
    const { world, b } = s
    world.l1.dropSender(b.address, 3) // censored: Bob's first challenges are dropped
    const reg = await s.mallory.client.register(s.old)
    await settle(20)
    assert.equal(world.l1.events({ name: 'Challenged' }).length, 0)
    for (let i = 0; i < 4; i++) {
      world.l1.mine(1)
      await settle(10)
    }
    await until(() => world.l1.events({ name: 'Challenged' }).length === 1)
    assert.equal(world.l1.events({ name: 'Challenged' })[0]?.data.by, b.address)
    await paidPerV5(s, reg.events[0]?.data.deadline as number)
  })

  test('a node restarted from its store inside the window refutes a registration made while it was down', async () => {
    const s = await scenario()
    const { world, bob, b, stores, channelId } = s
    bob.stop()
    const reg = await s.mallory.client.register(s.old)
    world.l1.mine(3)
    const bob2 = new ChannelNode({ signer: b.signer, wallet: b.wallet, adjudicator: world.adj, store: stores[1], timers: false })
    await until(() => world.l1.events({ name: 'Challenged' }).length === 1)
    assert.equal(world.l1.events({ name: 'Challenged' })[0]?.data.version, 5n)
    assert.equal(bob2.status(channelId).phase, 'closing')
    await paidPerV5(s, reg.events[0]?.data.deadline as number)
    bob2.stop()
  })

  test('a watchtower whose challenge is dropped for a few blocks sends it again and it lands inside the window', async () => {
    const t = withTower('red-tower')
    const s = await scenario(t.bobNode)
    const { world, bob, channelId } = s
    const tower = t.start(world)
    await tower.watch(bob.latest(channelId))
    world.l1.dropSender(tower.address, 3)
    const reg = await s.mallory.client.register(s.old)
    await settle(20)
    assert.equal(tower.challenges.length, 0)
    for (let i = 0; i < 4; i++) {
      world.l1.mine(1)
      await settle(10)
    }
    await until(() => tower.challenges.length === 1)
    assert.equal(tower.challenges[0]?.events[0]?.data.version, 5n)
    await paidPerV5(s, reg.events[0]?.data.deadline as number)
    tower.stop()
  })

  test('a watchtower offline when the stale state is registered refutes once it is back inside the window', async () => {
    const t = withTower('red-tower-2')
    const s = await scenario(t.bobNode)
    const { world, bob, channelId } = s
    const tower = t.start(world)
    await tower.watch(bob.latest(channelId))
    world.l1.setOffline(tower.address, true)
    const reg = await s.mallory.client.register(s.old)
    world.l1.mine(2)
    await settle(10)
    world.l1.setOffline(tower.address, false)
    world.l1.mine(1)
    await until(() => tower.challenges.length === 1)
    await paidPerV5(s, reg.events[0]?.data.deadline as number)
    tower.stop()
  })
})

describe('red team: funding is driven by L1 blocks, not by a wall-clock timer', () => {
  test('the opener takes its deposit back by itself once the funding timeout passed, with no tick (a peer that signs v0 and never confirms)', async () => {
    const world = makeWorld()
    const a = world.party('alice')
    const m = world.party('mallory')
    // timers: false, as an embedding node (the HTLC router) runs them: only L1 blocks drive the node.
    const mk = (p: typeof a) => new ChannelNode({ signer: p.signer, wallet: p.wallet, adjudicator: world.adj, store: new MemoryStore(), timers: false })
    const alice = mk(a)
    const mallory = mk(m)
    const [la, lm] = memoryLinkPair()
    alice.attach(la)
    mallory.attach(lm)
    await alice.whenConnected(m.address)
    world.l1.setOffline(m.address, true) // Mallory countersigns v0 off chain but never confirms on L1
    const before = world.l1.balanceOf(a.address)
    const opened = alice.open({ peer: m.address, peerPublicKey: m.signer.publicKey, deposit: 5n * ETH, disputeWindow: 10, fundingTimeout: 5 })
    const failed = assert.rejects(opened, (e: ChannelError) => e.code === 'CHANNEL_CLOSED')
    await until(() => world.l1.events({ name: 'Opened' }).length === 1)
    for (let i = 0; i < 8 && world.l1.events({ name: 'Refunded' }).length === 0; i++) {
      world.l1.mine(1)
      await settle(10)
    }
    await until(() => world.l1.events({ name: 'Refunded' }).length === 1)
    await failed
    assert.equal(world.l1.balanceOf(world.adj.address), 0n)
    assert.equal(world.l1.balanceOf(a.address) + world.l1.totalBurnt() - before, 0n, 'Alice has her deposit back; only gas was spent')
    alice.stop()
    mallory.stop()
  })
})

describe('red team: an open request to a silent peer', () => {
  test('without a timer, the open request is repeated and given up as L1 blocks come (TIMEOUT, nothing deposited, nothing left waiting)', async () => {
    const world = makeWorld()
    const a = world.party('alice')
    const s = world.party('silent')
    const alice = new ChannelNode({ signer: a.signer, wallet: a.wallet, adjudicator: world.adj, store: new MemoryStore(), timers: false, timeoutMs: 20, maxAttempts: 2 })
    // The peer authenticates and then ignores every frame.
    const [la, ls] = memoryLinkPair()
    alice.attach(la)
    new SecureLink(ls, { signer: s.signer, chainId: world.l1.chainId, protocol: CHANNEL_PROTOCOL })
    await alice.whenConnected(s.address)
    const opened = alice.open({ peer: s.address, peerPublicKey: s.signer.publicKey, deposit: ETH, disputeWindow: 10 })
    const failed = assert.rejects(opened, (e: ChannelError) => e.code === 'TIMEOUT')
    for (let i = 0; i < 20 && alice.status(alice.channelIds()[0] as `0x${string}`).phase === 'funding'; i++) {
      await new Promise((r) => setTimeout(r, 25))
      world.l1.mine(1)
      await settle()
    }
    await failed
    assert.equal(world.l1.events({ name: 'Opened' }).length, 0, 'nothing deposited')
    alice.stop()
  })
})
