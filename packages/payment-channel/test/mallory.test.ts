/**
 * Role scripts (ATTACKS 1–3): Mallory registers an old state; the honest side,
 * or its watchtower, refutes inside the window; the window is never extended;
 * an honest side offline past the window loses without a watchtower and not
 * with one.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Wallet } from '@l2bench/l1-mock'
import { NodeSigner, secretKeyFromSeed } from '@l2bench/core'
import { Watchtower } from '../src/index.ts'
import { ETH, nodePair, settle, staleStateScenario, until } from './fixtures.ts'

const scenario = staleStateScenario

describe('Mallory registers an old state (ATTACKS 1)', () => {
  test('penalty none: Bob refutes inside the window and the newest state is paid', async () => {
    const s = await scenario('none')
    const { world, mallory, bob, channelId, b } = s
    const reg = await mallory.client.register(s.old)
    const deadline = reg.events[0]?.data.deadline as number
    await until(() => (world.l1.events({ name: 'Challenged' }).length > 0))
    const ch = world.l1.events({ name: 'Challenged' })[0]!
    assert.equal(ch.data.version, 5n)
    assert.equal(ch.data.by, b.address, 'Bob refuted')
    assert.equal(ch.data.deadline, deadline)
    await assert.rejects(mallory.finalize({ channelId }), /dispute window open/)
    world.l1.advanceTo(deadline)
    const bb = world.l1.balanceOf(b.address)
    const r = await bob.finalize({ channelId })
    assert.equal(world.l1.balanceOf(b.address), bb + 10n * ETH - r.fee, 'Bob is paid per v5 (5 + 5)')
    assert.equal(world.l1.balanceOf(world.adj.address), 0n)
  })

  test('penalty slash: Mallory loses her whole channel balance to Bob', async () => {
    const s = await scenario('slash')
    const { world, mallory, bob, channelId, a, b } = s
    const reg = await mallory.client.register(s.old)
    await until(() => world.l1.events({ name: 'Challenged' }).length > 0)
    world.l1.advanceTo(reg.events[0]?.data.deadline as number)
    const ba = world.l1.balanceOf(a.address)
    const bb = world.l1.balanceOf(b.address)
    const r = await bob.finalize({ channelId })
    assert.equal(world.l1.balanceOf(a.address), ba, 'Mallory gets nothing')
    assert.equal(world.l1.balanceOf(b.address), bb + 15n * ETH - r.fee, 'Bob gets the whole channel')
  })
})

describe('refuting does not extend the window (ATTACKS 2)', () => {
  test('a second refutation with a higher version wins; the deadline stays', async () => {
    const s = await scenario('none', { autoChallenge: false })
    const { world, mallory, bob, channelId, a } = s
    const v5 = bob.latest(channelId)
    await mallory.pay({ channelId, amount: ETH })
    const reg = await mallory.client.register(s.old)
    const deadline = reg.events[0]?.data.deadline as number
    world.l1.mine(3)
    // Bob first refutes with an older state he also holds (v5 from the scenario), then with v6.
    const c1 = await bob.client.challenge(v5)
    assert.equal(c1.events[0]?.data.deadline, deadline)
    world.l1.mine(3)
    const c2 = await bob.challenge({ channelId })
    assert.equal(c2.events[0]?.data.version, 6n)
    assert.equal(c2.events[0]?.data.deadline, deadline)
    await assert.rejects(mallory.client.challenge(v5), /not above registered 6/)
    world.l1.advanceTo(deadline)
    const ba = world.l1.balanceOf(a.address)
    await bob.finalize({ channelId })
    assert.equal(world.l1.balanceOf(a.address), ba + 4n * ETH, 'v6: Mallory keeps 10 - 6')
  })
})

describe('honest side offline past the window (ATTACKS 3)', () => {
  test('without a watchtower Bob loses what v1 → v5 moved to him', async () => {
    const s = await scenario('none')
    const { world, mallory, channelId, b } = s
    world.l1.setOffline(b.address, true)
    const reg = await mallory.client.register(s.old)
    world.l1.advanceTo((reg.events[0]?.data.deadline as number) + 1)
    await settle()
    assert.equal(world.l1.events({ name: 'Challenged' }).length, 0)
    const bb = world.l1.balanceOf(b.address)
    await mallory.finalize({ channelId })
    const got = world.l1.balanceOf(b.address) - bb
    assert.equal(got, 6n * ETH, 'paid per v1')
    assert.equal(10n * ETH - got, 4n * ETH, 'the loss: four payments')
  })

  test('with a watchtower holding Bob’s states Bob loses nothing', async () => {
    // Bob's node hands every countersigned state to the tower (onSignedState), keys stay with Bob.
    const ref: { tower?: Watchtower } = {}
    const p = await nodePair({ penalty: 'none', window: 10, nodes: [{ autoChallenge: false }, { onSignedState: (s) => ref.tower?.handOff(s) }] })
    const { world, alice: mallory, bob, channelId, b } = p
    const towerSigner = new NodeSigner(secretKeyFromSeed('tower'))
    const towerWallet = new Wallet(towerSigner, world.l1)
    world.l1.mint(towerSigner.address, 10n * ETH)
    const tower = new Watchtower({ wallet: towerWallet, adjudicator: world.adj })
    ref.tower = tower
    await until(() => bob.status(channelId).phase === 'open')
    await mallory.pay({ channelId, amount: ETH })
    const old = mallory.latest(channelId)
    for (let i = 0; i < 4; i++) await mallory.pay({ channelId, amount: ETH })
    await until(() => tower.held(bob.machine(channelId).params.channelId)?.state.version === 5n)
    world.l1.setOffline(b.address, true)
    const reg = await mallory.client.register(old)
    await until(() => tower.challenges.length === 1)
    assert.equal(tower.challenges[0]?.events[0]?.data.version, 5n)
    world.l1.advanceTo((reg.events[0]?.data.deadline as number) + 1)
    const bb = world.l1.balanceOf(b.address)
    await mallory.finalize({ channelId })
    assert.equal(world.l1.balanceOf(b.address) - bb, 10n * ETH, 'paid per v5')
    assert.deepEqual(tower.errors, [])
    tower.stop()
  })

  test('a watchtower handed the state after the registration still refutes inside the window', async () => {
    const s = await scenario('none', { autoChallenge: false })
    const { world, mallory, bob, channelId, b } = s
    world.l1.setOffline(b.address, true)
    const reg = await mallory.client.register(s.old)
    const towerSigner = new NodeSigner(secretKeyFromSeed('late-tower'))
    world.l1.mint(towerSigner.address, 10n * ETH)
    const tower = new Watchtower({ wallet: new Wallet(towerSigner, world.l1), adjudicator: world.adj })
    await tower.watch(bob.latest(channelId))
    await until(() => tower.challenges.length === 1)
    world.l1.advanceTo((reg.events[0]?.data.deadline as number) + 1)
    const bb = world.l1.balanceOf(b.address)
    await mallory.finalize({ channelId })
    assert.equal(world.l1.balanceOf(b.address) - bb, 10n * ETH)
    tower.stop()
  })

  test('the watchtower refuses states not signed by both parties', async () => {
    const p = await nodePair()
    const { world, alice, channelId } = p
    const towerWallet = new Wallet(new NodeSigner(secretKeyFromSeed('tower2')), world.l1)
    const tower = new Watchtower({ wallet: towerWallet, adjudicator: world.adj })
    await alice.pay({ channelId, amount: 1n })
    const good = alice.latest(channelId)
    await assert.rejects(tower.watch({ ...good, sigs: [good.sigs[0], good.sigs[0]] }), /sigB/)
    await tower.watch(good)
    assert.equal(tower.size, 1)
    tower.stop()
  })
})
