/**
 * ATTACKS 27–31 (issue 11 items 1, 3, 4, 5, 6): attacks that used to lose or
 * freeze an honest party's funds under default settings, replayed through the
 * public API. Each ends with L1 paying what the newest enforceable state says
 * and Σ balances + burnt = minted.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { NodeSigner, secretKeyFromSeed } from '@l2bench/core'
import { type RevertError, Wallet } from '@l2bench/l1-mock'
import {
  type ChannelError,
  ChannelNode,
  MemoryStore,
  type SignedState,
  Watchtower,
  decodeMessage,
  memoryLinkPair,
  stateTotal,
} from '../src/index.ts'
import { ETH, makeWorld, nodePair, settle, sign, until } from './fixtures.ts'

type World = ReturnType<typeof makeWorld>
const conserved = (w: World) => assert.equal(w.l1.totalBalances() + w.l1.totalBurnt(), w.l1.totalMinted(), 'Σ balances + burnt = minted')

/** Cuts the link and brings it back: both ends handshake again and resync. */
async function reconnect(p: Awaited<ReturnType<typeof nodePair>>): Promise<void> {
  p.links[0].disconnect()
  await settle()
  p.links[0].reconnect()
  await p.alice.whenConnected(p.b.address)
  await p.bob.whenConnected(p.a.address)
}

/** Records the message types `i` sends on its authenticated link. */
function sent(p: Awaited<ReturnType<typeof nodePair>>, i: 0 | 1): string[] {
  const types: string[] = []
  const s = p.secure[i]
  const send = s.send.bind(s)
  s.send = (f) => {
    types.push(decodeMessage(f).type)
    send(f)
  }
  return types
}

describe('ATTACKS 27: a countersignature that arrives by resync runs every effect accept would', () => {
  test('item 1: a top-up completed by a `state` resync is deposited; old states cannot be registered; the topped-up split pays', async () => {
    const p = await nodePair({ window: 5 })
    const { world, alice, bob, channelId, links, a, b } = p
    await until(() => bob.status(channelId).phase === 'open')
    const v0 = bob.latest(channelId)
    await alice.pay({ channelId, amount: ETH })
    // Bob's answers are lost: he countersigns the top-up, Alice never hears it.
    const drop = links[1].send
    links[1].send = () => {}
    const topping = alice.topUp({ channelId, amount: 4n * ETH })
    await until(() => bob.status(channelId).version === 2n)
    assert.equal(alice.status(channelId).pendingVersion, 2n)
    links[1].send = drop
    const bobSays = sent(p, 1)
    await reconnect(p)
    assert.equal(await topping, 2n)
    // Bob answered Alice's sync with the state before re-sending his accept: the state path completed it.
    assert.equal(bobSays.find((t) => t === 'state' || t === 'accept'), 'state')
    await until(() => alice.machine(channelId).awaitingDeposit === undefined && bob.machine(channelId).awaitingDeposit === undefined)
    assert.deepEqual((await alice.onChain(channelId))?.deposits, [14n * ETH, 5n * ETH], 'the deposit reached L1')
    // Mallory-Bob tries the states from before the top-up: L1 refuses them (Σ 15 ≠ 19).
    await assert.rejects(b.client.register(v0), (e: RevertError) => e.field === 'state.balances')
    const reg = await alice.forceClose({ channelId })
    assert.equal(reg.events[0]?.data.version, 2n)
    world.l1.advanceTo((reg.events[0]?.data.deadline as number) + 1)
    const [ba, bb] = [world.l1.balanceOf(a.address), world.l1.balanceOf(b.address)]
    const r = await alice.finalize({ channelId })
    assert.equal(world.l1.balanceOf(a.address), ba + 13n * ETH - r.fee)
    assert.equal(world.l1.balanceOf(b.address), bb + 6n * ETH)
    assert.equal(world.l1.balanceOf(world.adj.address), 0n)
    conserved(world)
  })

  test('item 1: closeCooperative completes when the final countersignature arrives by resync', async () => {
    const p = await nodePair()
    const { world, alice, bob, channelId, links, a, b } = p
    await alice.pay({ channelId, amount: 2n * ETH })
    const drop = links[1].send
    links[1].send = () => {}
    const closing = alice.closeCooperative({ channelId })
    await until(() => bob.status(channelId).phase === 'closing')
    links[1].send = drop
    const [ba, bb] = [world.l1.balanceOf(a.address), world.l1.balanceOf(b.address)]
    await reconnect(p)
    const r = await closing
    assert.equal(r.status, 'success')
    assert.equal(world.l1.balanceOf(a.address), ba + 8n * ETH - r.fee)
    assert.equal(world.l1.balanceOf(b.address), bb + 7n * ETH)
    await settle()
    assert.equal(bob.status(channelId).phase, 'closed')
    conserved(world)
  })
})

describe('ATTACKS 28: the peer cannot freeze the opener’s deposit', () => {
  async function opener(mallory: { acceptLimits?: { maxDeposit: bigint } } = {}) {
    const world = makeWorld()
    const a = world.party('alice')
    const m = world.party('mallory')
    let now = 0
    const alice = new ChannelNode({ signer: a.signer, wallet: a.wallet, adjudicator: world.adj, store: new MemoryStore(), timers: false, timeoutMs: 100, maxAttempts: 3, now: () => now })
    const mal = new ChannelNode({ signer: m.signer, wallet: m.wallet, adjudicator: world.adj, store: new MemoryStore(), timers: false, ...mallory })
    const links = memoryLinkPair()
    alice.attach(links[0])
    mal.attach(links[1])
    await alice.whenConnected(m.address)
    const tick = (ms: number) => {
      now += ms
      alice.tick(now)
    }
    return { world, a, m, alice, mal, links, tick }
  }

  test('item 3: a peer that never countersigns version 0: open() fails with TIMEOUT and nothing was deposited', async () => {
    const { world, a, m, alice, links, tick } = await opener()
    links[1].send = () => {} // Mallory hears the request and never answers
    const before = world.l1.balanceOf(a.address)
    const opening = alice.open({ peer: m.address, peerPublicKey: m.signer.publicKey, deposit: 5n * ETH, disputeWindow: 5 })
    await settle()
    for (let i = 0; i < 4; i++) tick(150)
    await assert.rejects(opening, (e: ChannelError) => e.code === 'TIMEOUT' && e.field === 'peer')
    assert.equal(world.l1.events({ name: 'Opened' }).length, 0)
    assert.equal(world.l1.balanceOf(a.address), before, 'not a wei moved')
    conserved(world)
  })

  test('item 3: a peer that confirms on L1 and then goes silent: the opener registers version 0 and gets her deposit back', async () => {
    const { world, a, m, alice, mal, links } = await opener()
    const id = await alice.open({ peer: m.address, peerPublicKey: m.signer.publicKey, deposit: 5n * ETH, disputeWindow: 5 })
    assert.equal((await alice.onChain(id))?.phase, 'open')
    // Mallory is gone for good: no messages, no L1.
    links[1].close()
    mal.stop()
    world.l1.setOffline(m.address, true)
    assert.equal(alice.isConnected(m.address), false)
    const reg = await alice.forceClose({ channelId: id })
    assert.equal(reg.events[0]?.data.version, 0n)
    world.l1.advanceTo((reg.events[0]?.data.deadline as number) + 1)
    const before = world.l1.balanceOf(a.address)
    const r = await alice.finalize({ channelId: id })
    assert.equal(world.l1.balanceOf(a.address), before + 5n * ETH - r.fee)
    assert.equal(world.l1.balanceOf(world.adj.address), 0n)
    conserved(world)
  })

  test('item 3: a peer that countersigns but never confirms: the opener refunds by herself after the funding timeout', async () => {
    const { world, a, m, alice, tick } = await opener({ acceptLimits: { maxDeposit: ETH } })
    world.l1.setOffline(m.address, true) // Mallory's confirm never reaches L1
    const before = world.l1.balanceOf(a.address)
    const opening = alice.open({ peer: m.address, peerPublicKey: m.signer.publicKey, deposit: 5n * ETH, peerDeposit: ETH, disputeWindow: 5, fundingTimeout: 3 })
    await until(() => world.l1.events({ name: 'Opened' }).length === 1)
    const [id] = alice.channelIds()
    assert.ok(id)
    assert.equal((await alice.onChain(id))?.phase, 'funding')
    world.l1.mine(4)
    tick(150)
    await assert.rejects(opening, (e: ChannelError) => e.code === 'CHANNEL_CLOSED')
    await until(() => alice.status(id).phase === 'closed')
    const fees = world.l1.totalBurnt()
    assert.equal(world.l1.balanceOf(a.address), before - fees, 'the whole deposit is back; only gas was spent')
    assert.equal(world.l1.balanceOf(world.adj.address), 0n)
    conserved(world)
  })
})

describe('ATTACKS 29: a deposit outside any signed state cannot make signed states unenforceable', () => {
  test('item 4: a 1-wei top-up (with no state, an old state, or a half-forged one) reverts; both sides still close', async () => {
    const p = await nodePair()
    const { world, alice, bob, channelId, a, b } = p
    await alice.pay({ channelId, amount: ETH })
    await settle()
    const latest = bob.latest(channelId)
    const snapshot = await alice.onChain(channelId)
    const call = (s: SignedState, value: bigint) => b.wallet.call(world.adj, { type: 'topUp', state: s.state, sigA: s.sigs[0], sigB: s.sigs[1] }, { value })
    const r1 = await call(latest, 1n)
    assert.equal(r1.status, 'reverted')
    assert.equal(r1.revertField, 'state.balances', 'Σ state must equal deposits + value')
    const inflated = sign(world.domain, { ...latest.state, version: 9n, balances: [latest.state.balances[0], latest.state.balances[1] + 1n] }, p.b.signer, p.b.signer)
    const r2 = await call(inflated, 1n)
    assert.equal(r2.revertField, 'sigA', 'Mallory cannot sign for Alice')
    const r3 = await a.wallet.call(world.adj, { type: 'topUp', state: latest.state, sigA: latest.sigs[0], sigB: latest.sigs[1] }, { value: 0n })
    assert.equal(r3.revertField, 'value')
    assert.deepEqual((await alice.onChain(channelId))?.deposits, snapshot?.deposits, 'deposits unchanged')
    // Every signed state is still enforceable: a force close by either side would work; they close cooperatively.
    const [ba, bb] = [world.l1.balanceOf(a.address), world.l1.balanceOf(b.address)]
    const r = await bob.closeCooperative({ channelId })
    assert.equal(world.l1.balanceOf(a.address), ba + 9n * ETH)
    assert.equal(world.l1.balanceOf(b.address), bb + 6n * ETH - r.fee)
    assert.equal(world.l1.balanceOf(world.adj.address), 0n)
    conserved(world)
  })
})

describe('ATTACKS 30: a default node deposits nothing a stranger declares for it and bounds the dispute window', () => {
  async function strangers(bobOptions: ConstructorParameters<typeof ChannelNode>[0]['acceptLimits'] = undefined) {
    const world = makeWorld()
    const m = world.party('mallory')
    const b = world.party('bob')
    const mallory = new ChannelNode({ signer: m.signer, wallet: m.wallet, adjudicator: world.adj, store: new MemoryStore(), timers: false })
    const bobStore = new MemoryStore()
    const bob = new ChannelNode({ signer: b.signer, wallet: b.wallet, adjudicator: world.adj, store: bobStore, timers: false, ...(bobOptions === undefined ? {} : { acceptLimits: bobOptions }) })
    const links = memoryLinkPair()
    mallory.attach(links[0])
    bob.attach(links[1])
    await mallory.whenConnected(b.address)
    return { world, m, b, mallory, bob, bobStore }
  }

  test('item 5: deposit 0 / peerDeposit 900 ETH / window 2^32 − 1 is refused; Bob deposits nothing and stores nothing', async () => {
    const { world, b, mallory, bob, bobStore } = await strangers()
    const before = world.l1.balanceOf(b.address)
    const ask = (deposit: bigint, peerDeposit: bigint, disputeWindow: number) =>
      mallory.open({ peer: b.address, peerPublicKey: b.signer.publicKey, deposit, peerDeposit, disputeWindow })
    await assert.rejects(ask(0n, 900n * ETH, 2 ** 32 - 1), (e: ChannelError) => e.code === 'POLICY' && e.field === 'peer')
    assert.ok(bob.errors.some((e) => e.field === 'params.deposits[1]'))
    await assert.rejects(ask(1n, 0n, 2 ** 32 - 1), (e: ChannelError) => e.code === 'POLICY')
    assert.ok(bob.errors.some((e) => e.field === 'params.disputeWindow'))
    await assert.rejects(ask(1n, 0n, 1), (e: ChannelError) => e.code === 'POLICY', 'a window too short to refute in')
    assert.equal(bobStore.saves, 0, 'nothing stored for refused requests')
    assert.equal(world.l1.balanceOf(b.address), before, 'not a wei of Bob moved')
    assert.equal(world.l1.events({ name: 'Opened' }).length, 0, 'Mallory deposited nothing either: both signed nothing')
    // A channel Mallory funds alone, with a sane window, is fine: Bob pays only the gas of his confirm.
    const id = await ask(ETH, 0n, 100)
    assert.deepEqual((await bob.onChain(id))?.deposits, [ETH, 0n])
    const lost = before - world.l1.balanceOf(b.address)
    assert.ok(lost > 0n && lost < ETH / 1000n, `Bob spent ${lost} (gas only)`)
    conserved(world)
  })

  test('item 5: a configured node deposits up to its limit and no more', async () => {
    const { b, mallory } = await strangers({ maxDeposit: ETH, maxDisputeWindow: 50 })
    const ask = (peerDeposit: bigint, disputeWindow = 10) => mallory.open({ peer: b.address, peerPublicKey: b.signer.publicKey, deposit: ETH, peerDeposit, disputeWindow })
    await assert.rejects(ask(ETH + 1n), (e: ChannelError) => e.code === 'POLICY')
    await assert.rejects(ask(ETH, 51), (e: ChannelError) => e.code === 'POLICY')
    const id = await ask(ETH)
    assert.deepEqual((await mallory.onChain(id))?.deposits, [ETH, ETH])
  })

  test('item 5: a peer cannot pile up unfunded channels at the acceptor (cap per peer, then expiry)', async () => {
    const world = makeWorld()
    const m = world.party('mallory')
    const b = world.party('bob')
    let now = 0
    const bob = new ChannelNode({ signer: b.signer, wallet: b.wallet, adjudicator: world.adj, store: new MemoryStore(), timers: false, now: () => now, timeoutMs: 100 })
    // Mallory's node never deposits (her wallet is offline): every accepted channel stays unfunded.
    const mallory = new ChannelNode({ signer: m.signer, wallet: m.wallet, adjudicator: world.adj, store: new MemoryStore(), timers: false })
    world.l1.setOffline(m.address, true)
    const links = memoryLinkPair()
    mallory.attach(links[0])
    bob.attach(links[1])
    await mallory.whenConnected(b.address)
    const ask = (nonce: bigint) => mallory.open({ peer: b.address, peerPublicKey: b.signer.publicKey, deposit: ETH, disputeWindow: 10, nonce }).catch((e: ChannelError) => e)
    for (let i = 1n; i <= 8n; i++) void ask(i)
    await until(() => bob.channelIds().length === 8)
    const ninth = await ask(9n)
    assert.equal((ninth as ChannelError).code, 'POLICY')
    assert.ok(bob.errors.some((e) => e.field === 'peer' && /wait for its deposit/.test(e.message)))
    assert.equal(bob.channelIds().length, 8)
    // Ten minutes later Bob forgets them (nothing reached L1) and accepts again.
    now += 10 * 60_000 + 1
    bob.tick(now)
    now += 200
    bob.tick(now)
    await until(() => bob.channelIds().every((id) => bob.status(id).phase === 'closed'))
    void ask(10n)
    await until(() => bob.channelIds().length === 9)
  })
})

describe('ATTACKS 31: a watchtower holds the newest state that matches the deposits on L1', () => {
  test('item 6: the peer never deposits its top-up and registers an old state; the tower refutes with the newest state valid on L1', async () => {
    const ref: { tower?: Watchtower } = {}
    const p = await nodePair({ window: 10, nodes: [{ onSignedState: (s) => ref.tower?.handOff(s) }, { autoChallenge: false }] })
    const { world, alice, bob: mallory, channelId, a, m } = { ...p, m: p.b }
    const tw = new NodeSigner(secretKeyFromSeed('tower-31'))
    world.l1.mint(tw.address, 10n * ETH)
    const tower = new Watchtower({ wallet: new Wallet(tw, world.l1), adjudicator: world.adj })
    ref.tower = tower
    await alice.pay({ channelId, amount: ETH }) // v1 [9, 6]
    const v1 = alice.latest(channelId)
    await mallory.pay({ channelId, amount: 3n * ETH }) // v2 [12, 3]
    // Mallory proposes a top-up, gets it countersigned, and stops before depositing.
    await mallory.topUp({ channelId, amount: 4n * ETH }) // v3 [12, 7], Σ 19
    mallory.stop()
    await until(() => tower.held(alice.machine(channelId).params.channelId)?.state.version === 3n)
    const id = alice.machine(channelId).params.channelId
    assert.equal(stateTotal(tower.heldFor(id, 15n * ETH)!.state), 15n * ETH)
    assert.equal(tower.heldFor(id, 15n * ETH)?.state.version, 2n)
    // Alice goes offline; Mallory registers v1 (where she had 6).
    alice.stop()
    world.l1.setOffline(a.address, true)
    const reg = await m.client.register(v1)
    await until(() => tower.challenges.length === 1 || tower.errors.length > 0)
    assert.deepEqual(tower.errors, [])
    assert.equal(tower.challenges[0]?.events[0]?.data.version, 2n, 'the newest state whose Σ matches the deposits')
    world.l1.advanceTo((reg.events[0]?.data.deadline as number) + 1)
    const before = world.l1.balanceOf(a.address)
    await m.client.finalize(id)
    assert.equal(world.l1.balanceOf(a.address), before + 12n * ETH, 'Alice is paid per v2')
    tower.stop()
    conserved(world)
  })

  test('item 6: once the top-up deposit lands, the tower refutes with the newest topped-up state and drops the older level', async () => {
    const ref: { tower?: Watchtower } = {}
    const p = await nodePair({ window: 10, nodes: [{ onSignedState: (s) => ref.tower?.handOff(s) }, { autoChallenge: false }] })
    const { world, alice, bob: mallory, channelId, a, b } = p
    const tw = new NodeSigner(secretKeyFromSeed('tower-31b'))
    world.l1.mint(tw.address, 10n * ETH)
    const tower = new Watchtower({ wallet: new Wallet(tw, world.l1), adjudicator: world.adj })
    ref.tower = tower
    const v0 = alice.latest(channelId)
    await mallory.pay({ channelId, amount: 3n * ETH }) // v1 [13, 2]
    await mallory.topUp({ channelId, amount: 4n * ETH }) // v2 [13, 6], Σ 19
    await until(() => alice.machine(channelId).awaitingDeposit === undefined)
    await alice.pay({ channelId, amount: ETH }) // v3 [12, 7]
    const v3 = alice.latest(channelId)
    await mallory.pay({ channelId, amount: 5n * ETH }) // v4 [17, 2]
    const id = alice.machine(channelId).params.channelId
    await until(() => tower.held(id)?.state.version === 4n)
    alice.stop()
    world.l1.setOffline(a.address, true)
    await assert.rejects(b.client.register(v0), (e: RevertError) => e.field === 'state.balances', 'the level before the top-up is void on L1')
    const reg = await b.client.register(v3)
    await until(() => tower.challenges.length === 1 || tower.errors.length > 0)
    assert.deepEqual(tower.errors, [])
    assert.equal(tower.challenges[0]?.events[0]?.data.version, 4n)
    assert.equal(tower.heldFor(id, 15n * ETH), undefined, 'states below the deposits are dropped')
    world.l1.advanceTo((reg.events[0]?.data.deadline as number) + 1)
    const before = world.l1.balanceOf(a.address)
    await b.client.finalize(id)
    assert.equal(world.l1.balanceOf(a.address), before + 17n * ETH)
    tower.stop()
    conserved(world)
  })

})
