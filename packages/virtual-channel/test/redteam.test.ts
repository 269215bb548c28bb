/**
 * Red-team cases: attacks on the virtual channel by a malicious Alice, Bob or
 * Ingrid, a party that was offline or restarted, and a stranger on the wire,
 * each found to break a guarantee before its fix (Ingrid nets zero across her
 * two ledgers; Alice and Bob get their newest virtual balance).
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { type L2Error, nodeVerifier, toHex } from '@l2bench/core'
import { type ChannelState, PeerTable, type SignedState, memoryLinkPair } from '@l2bench/payment-channel'
import {
  VIRTUAL_MESSAGE_MAX,
  VIRTUAL_PROTOCOL,
  type VirtualDispute,
  type VirtualParams,
  activationDigest,
  encodeParams,
  encodeVirtualMessage,
  initialDigest,
  lockFor,
  virtualId,
  withLock,
} from '../src/index.ts'
import {
  ETH,
  type Trio,
  activation,
  activeVirtual,
  connect,
  countSigns,
  ingridLedgerTotal,
  l1Conserved,
  ledgerOnChain,
  makeNode,
  makeWorld,
  mark,
  memoryStores,
  openVirtual,
  params,
  sign,
  trio,
  until,
} from './fixtures.ts'

const bytes = (id: `0x${string}`) => new Uint8Array(Buffer.from(id.slice(2), 'hex'))

async function waitFor(cond: () => Promise<boolean>, rounds = 2000, each: () => void = () => {}): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    if (await cond()) return
    each()
    await new Promise((r) => setImmediate(r))
  }
  throw new Error('condition not reached')
}

/** Polls `cond` on a timer (messages on the links may take a few ms: signatures, frames). */
async function soon(cond: () => boolean, each: () => void = () => {}, ms = 8000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached')
    each()
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** A virtual state signed by Alice's and Bob's keys directly (colluders sign anything). */
function raw(t: Trio, vid: `0x${string}`, version: bigint, balances: readonly [bigint, bigint], isFinal = false): SignedState {
  return sign(t.w.domain, { channelId: bytes(vid), version, balances, locked: [], isFinal }, t.alice.signer, t.bob.signer)
}

const paramsOf = (t: Trio, vid: `0x${string}`): VirtualParams => t.nodes.ingrid.records.require(vid).params
const activationOf = (t: Trio, vid: `0x${string}`) => t.nodes.ingrid.records.require(vid).activation
const outcome = (t: Trio, vid: `0x${string}`): Promise<VirtualDispute | undefined> => t.bob.virtual.dispute(bytes(vid))

/** Alice pays 3 × 0.1 ETH (the old state), then 7 more: Bob holds version 10. */
async function oldAndNewest(t: Trio, vid: `0x${string}`) {
  for (let i = 0; i < 3; i++) await t.nodes.alice.pay({ channelId: vid, amount: ETH / 10n })
  const old = t.nodes.alice.channel.latest(vid)
  for (let i = 0; i < 7; i++) await t.nodes.alice.pay({ channelId: vid, amount: ETH / 10n })
  const newest = t.nodes.bob.channel.latest(vid)
  assert.equal(newest.state.version, 10n)
  return { old, newest }
}

describe('redteam: a party that missed the registration on L1', () => {
  test('redteam: Bob offline on L1 when Alice registers an old virtual state, back inside the window: his node catches up and refutes', async () => {
    const t = await trio()
    const vid = await activeVirtual(t, 3n * ETH, 1n * ETH)
    const { old, newest } = await oldAndNewest(t, vid)
    t.nodes.alice.stop() // Mallory acts with her keys and wallet
    t.w.l1.setOffline(t.bob.address, true)
    await t.alice.virtual.register(paramsOf(t, vid), old, activationOf(t, vid))
    t.w.l1.setOffline(t.bob.address, false)
    // Back with blocks still left in the window: a tick (or the next block) must bring the registration to Bob.
    await waitFor(async () => (await outcome(t, vid))?.version === 10n, 500, () => t.nodes.bob.tick())
    assert.deepEqual((await outcome(t, vid))?.balances, newest.state.balances)
    for (const n of Object.values(t.nodes)) n.stop()
  })

  test('redteam: Bob restarts while an old virtual state is registered: the restarted node reads the registration and refutes it', async () => {
    const t = await trio()
    const vid = await activeVirtual(t, 3n * ETH, 1n * ETH)
    const { old, newest } = await oldAndNewest(t, vid)
    t.nodes.alice.stop()
    t.nodes.bob.stop()
    await t.alice.virtual.register(paramsOf(t, vid), old, activationOf(t, vid))
    const bob = makeNode(t.w, t.bob, t.stores.bob)
    t.nodes.bob = bob
    await waitFor(async () => (await outcome(t, vid))?.version === 10n, 500, () => bob.tick())
    assert.deepEqual((await outcome(t, vid))?.balances, newest.state.balances)
    assert.equal(bob.records.require(vid).status, 'disputed')
    for (const n of Object.values(t.nodes)) n.stop()
  })

  test('redteam: Ingrid settled ledger A by the final state, then is offline on L1 while Bob registers a newer state; back inside the window she concludes and nets zero', async () => {
    const t = await trio()
    const vid = await activeVirtual(t, 3n * ETH, 1n * ETH)
    await t.nodes.alice.pay({ channelId: vid, amount: ETH })
    t.links.bi.ch[0].disconnect() // Bob never answers the unlock of ledger B
    await t.nodes.alice.closeVirtual({ channelId: vid })
    const final = t.nodes.bob.channel.latest(vid)
    assert.equal(final.state.isFinal, true)
    const inA = t.nodes.ingrid.channel.status(t.ledgerA).myBalance
    assert.equal(inA, 9n * ETH + final.state.balances[1])
    const gi = mark(t.w, t.ingrid)
    t.w.l1.setOffline(t.ingrid.address, true)
    await t.bob.client.register(t.nodes.bob.channel.latest(t.ledgerB))
    await t.bob.virtual.register(paramsOf(t, vid), raw(t, vid, final.state.version + 1n, [0n, 4n * ETH]), activationOf(t, vid))
    t.w.l1.setOffline(t.ingrid.address, false)
    await waitFor(async () => (await outcome(t, vid))?.concluded === true, 500, () => t.nodes.ingrid.tick())
    assert.deepEqual((await outcome(t, vid))?.balances, final.state.balances)
    t.w.l1.mine(11)
    await t.bob.client.finalize(bytes(t.ledgerB))
    await t.bob.virtual.resolve(bytes(t.ledgerB), paramsOf(t, vid))
    assert.equal(inA + gi(), 20n * ETH, 'Ingrid nets zero: 20 ETH across her two ledgers, as she put in')
    assert.equal(t.w.l1.balanceOf(t.w.adj.address), 20n * ETH, 'only ledger A’s deposits are left on the adjudicator')
    for (const n of Object.values(t.nodes)) n.stop()
  })
})

describe('redteam: Ingrid between a registration and a settle', () => {
  test('redteam: the settle lands while Ingrid’s node is still reading a colluders’ registration: she concludes with the final state she paid ledger A by, and nets zero', async () => {
    const t = await trio()
    const vid = await activeVirtual(t, 3n * ETH, 1n * ETH)
    await t.nodes.alice.pay({ channelId: vid, amount: ETH })
    const ingrid = t.nodes.ingrid
    const hub = ingrid.channel.status(t.ledgerA).myBalance + ingrid.channel.status(t.ledgerB).myBalance
    // The settle is held back (Alice's and Bob's coordination links to Ingrid are down), and Bob never answers ledger B's unlock.
    t.links.ai.vc[0].disconnect()
    t.links.bi.vc[0].disconnect()
    t.links.bi.ch[0].disconnect()
    t.nodes.alice.closeVirtual({ channelId: vid }).catch(() => {})
    await soon(() => t.nodes.alice.records.require(vid).status === 'settling' && t.nodes.bob.records.require(vid).status === 'settling')
    const final = t.nodes.alice.channel.latest(vid)
    assert.equal(final.state.isFinal, true)
    // Ingrid's L1 reads are slow (a remote node): they wait until the settle is in.
    let release = () => {}
    const gate = new Promise<void>((r) => {
      release = r
    })
    const read = ingrid.client.dispute.bind(ingrid.client)
    ingrid.client.dispute = async (id) => {
      await gate
      return read(id)
    }
    // Bob registers a newer state giving him everything (Alice, a colluder, does not look at L1 meanwhile).
    t.w.l1.setOffline(t.alice.address, true)
    await t.bob.virtual.register(paramsOf(t, vid), raw(t, vid, final.state.version + 1n, [0n, 4n * ETH]), activationOf(t, vid))
    await new Promise((r) => setTimeout(r, 5))
    // Alice's link to Ingrid comes back, and the colluders send her the final state.
    const [x, y] = memoryLinkPair()
    t.nodes.alice.attachVirtual(x)
    ingrid.attachVirtual(y)
    await ingrid.whenConnected(t.alice.address)
    t.nodes.alice.virtualLinkTo(t.ingrid.address)?.send(encodeVirtualMessage({ type: 'settle', state: final.state, sigA: final.sigs[0], sigB: final.sigs[1] }))
    await soon(() => ingrid.records.require(vid).status === 'settling')
    release()
    t.w.l1.setOffline(t.alice.address, false)
    for (let i = 0; i < 200 && (await outcome(t, vid))?.concluded !== true; i++) {
      ingrid.tick()
      await new Promise((r) => setTimeout(r, 2))
    }
    t.w.l1.mine(11)
    await soon(
      () => ingrid.channel.status(t.ledgerA).locked.length === 0,
      () => ingrid.tick(),
    )
    // Ledger B on L1 (Bob withholds its unlock): registered, finalized, its lock resolved by the virtual outcome.
    const gi = mark(t.w, t.ingrid)
    await t.bob.client.register(t.nodes.bob.channel.latest(t.ledgerB))
    t.w.l1.mine(11)
    await t.bob.client.finalize(bytes(t.ledgerB))
    await t.bob.virtual.resolve(bytes(t.ledgerB), paramsOf(t, vid))
    assert.equal(ingrid.channel.status(t.ledgerA).myBalance + gi(), hub + 4n * ETH, 'Ingrid nets zero: her balances and 4 ETH of collateral back')
    assert.equal(t.w.l1.balanceOf(t.w.adj.address), 10n * ETH + 10n * ETH, 'only ledger A’s deposits are left on the adjudicator')
    for (const n of Object.values(t.nodes)) n.stop()
  })
})

describe('redteam: a stranger on the coordination link', () => {
  test('redteam: a stranger floods Bob with proposals (nothing locked of his): past maxPendingPerPeer each is refused with LIMIT, nothing signed or saved', async () => {
    const t = await trio()
    const mallory = t.w.party('mallory')
    const mnode = makeNode(t.w, mallory, memoryStores())
    connect(mnode, t.nodes.bob)
    await mnode.whenConnected(t.bob.address)
    const base = params(t.w, mallory, t.bob, t.ingrid, bytes(t.ledgerA), bytes(t.ledgerB), [1n, 0n], { validity: BigInt(t.w.l1.head().height + 500) })
    const send = (nonce: bigint) => {
      const p = { ...base, nonce }
      mnode.virtualLinkTo(t.bob.address)?.send(encodeVirtualMessage({ type: 'propose', params: p, sig: mallory.signer.sign(initialDigest(p)) }))
    }
    for (let i = 1n; i <= 8n; i++) send(i)
    await until(() => t.nodes.bob.virtualIds().length === 8)
    const signs = countSigns(t.bob.signer)
    const saves = [t.stores.bob.channel, t.stores.bob.virtual].map((x) => (x as unknown as { saves: number }).saves)
    for (let i = 9n; i <= 40n; i++) send(i)
    await until(() => t.nodes.bob.errors.length >= 32)
    assert.equal(t.nodes.bob.virtualIds().length, 8, 'Bob keeps at most maxPendingPerPeer (8) unfunded proposals of one peer')
    assert.equal(signs.count, 0, 'nothing signed past the limit')
    assert.deepEqual([t.stores.bob.channel, t.stores.bob.virtual].map((x) => (x as unknown as { saves: number }).saves), saves, 'nothing saved past the limit')
    const e = t.nodes.bob.errors.at(-1) as L2Error
    assert.equal(e.code, 'LIMIT')
    assert.equal(e.field, 'sender')
    for (const n of [...Object.values(t.nodes), mnode]) n.stop()
  })
})

describe('redteam: a registration made before the virtual channel existed', () => {
  for (const colluding of [false, true])
    test(`redteam: Alice registers version 0 on L1 before she proposes; after its window she opens, pays Bob and leaves: Bob never ends below the balance his node showed him (${colluding ? 'Ingrid colludes and activates anyway' : 'honest Ingrid'})`, async () => {
      const t = await trio()
      if (colluding) t.nodes.ingrid.client.dispute = async () => undefined // she claims L1 holds nothing
      // Mallory-Alice predicts her own parameters (nonce, window and validity are hers to choose).
      const validity = BigInt(t.w.l1.head().height + 1000)
      const p = params(t.w, t.alice, t.bob, t.ingrid, bytes(t.ledgerA), bytes(t.ledgerB), [3n * ETH, 1n * ETH], { nonce: 7n, disputeWindow: 8, validity })
      await t.alice.virtual.register(p, undefined)
      t.w.l1.mine(9) // the outcome (the deposits) is final before anyone else knows the channel
      const opening = openVirtual(t, 3n * ETH, 1n * ETH, { nonce: 7n, validity: Number(validity) - t.w.l1.head().height })
      opening.catch(() => {})
      const vid = toHex(virtualId(p))
      await soon(() => {
        const i = t.nodes.ingrid.records.get(vid)?.status
        const b = t.nodes.bob.records.get(vid)?.status
        return i === 'disputed' || i === 'closed' || (i === 'active' && (b === 'active' || b === 'disputed'))
      })
      // Alice pays Bob 2 ETH (for goods she takes with her), if Bob's node lets the channel run.
      await t.nodes.alice.pay({ channelId: vid, amount: 2n * ETH }).catch(() => {})
      const shown = t.nodes.bob.virtualStatus(vid).balances?.[1] ?? 1n * ETH
      t.nodes.alice.stop()
      // Bob gets out: off chain if Ingrid unlocks his ledger by the L1 outcome, else through L1.
      const gb = mark(t.w, t.bob)
      for (let i = 0; i < 100 && t.nodes.bob.channel.status(t.ledgerB).locked.length > 0; i++) {
        t.nodes.ingrid.tick(Date.now() + 60_000)
        await new Promise((r) => setTimeout(r, 5))
      }
      if (t.nodes.bob.channel.status(t.ledgerB).locked.length > 0) {
        await t.nodes.bob.forceCloseVirtual({ channelId: vid })
        t.w.l1.mine(11)
        await t.nodes.bob.finalizeVirtual({ channelId: vid })
      }
      const onL1 = await t.nodes.bob.channel.onChain(t.ledgerB)
      const wealth = (onL1?.phase === 'closed' ? 0n : t.nodes.bob.channel.status(t.ledgerB).myBalance) + gb()
      assert.equal(wealth, 9n * ETH + shown, 'Bob holds his ledger balance and the virtual balance his node showed him')
      assert.equal(shown, 1n * ETH, 'the channel never ran: Bob sold nothing against it')
      for (const n of Object.values(t.nodes)) n.stop()
    })
})

describe('redteam: a ledger channel closed while its virtual lock is live', () => {
  test('redteam: Alice and Ingrid close ledger A cooperatively while the virtual channel runs: the lock is kept on L1, payments go on, and at the close Ingrid’s node concludes and resolves ledger A’s lock by the final state (before: it retried the off-chain unlock of a closed ledger for ever)', async () => {
    const t = await trio()
    const vid = await activeVirtual(t, 3n * ETH, 1n * ETH)
    await t.nodes.alice.pay({ channelId: vid, amount: ETH })
    const [ga, gi] = [mark(t.w, t.alice), mark(t.w, t.ingrid)]
    await t.nodes.alice.channel.closeCooperative({ channelId: t.ledgerA })
    assert.equal(ga(), 7n * ETH, 'Alice’s ledger balance, the lock kept apart')
    await t.nodes.alice.pay({ channelId: vid, amount: ETH / 2n })
    await t.nodes.bob.pay({ channelId: vid, amount: ETH / 4n })
    const closing = t.nodes.alice.closeVirtual({ channelId: vid })
    // Ledger B is unlocked off chain by the final state; ledger A's lock is paid on L1 by the same state.
    await soon(() => t.nodes.bob.records.require(vid).status === 'closed')
    const final = t.nodes.bob.channel.latest(vid)
    assert.equal(final.state.isFinal, true)
    assert.deepEqual(final.state.balances, [ETH + ETH / 2n + ETH / 4n, 2n * ETH + ETH / 2n - ETH / 4n])
    assert.equal(t.nodes.bob.channel.status(t.ledgerB).myBalance, 9n * ETH + final.state.balances[1])
    await soon(
      () => t.nodes.ingrid.records.require(vid).status === 'closed',
      () => t.nodes.ingrid.tick(),
    )
    const d = await outcome(t, vid)
    assert.equal(d?.concluded, true)
    assert.deepEqual(d?.balances, final.state.balances)
    assert.equal(await t.w.l1.read(t.w.adj.address, 'locked', [bytes(t.ledgerA), bytes(vid)]), undefined, 'ledger A’s lock resolved')
    assert.equal(ga(), 7n * ETH + final.state.balances[0], 'Alice: her ledger balance and her final virtual balance, with no step of hers')
    const inB = t.nodes.ingrid.channel.status(t.ledgerB).myBalance
    assert.equal(gi() + inB, 20n * ETH, 'Ingrid nets zero')
    assert.equal(t.w.l1.balanceOf(t.w.adj.address), 20n * ETH, 'only ledger B’s deposits are left on the adjudicator')
    // Alice's own node waited for her ledger to drop the lock off chain: its call times out; finalizeVirtual closes the record.
    t.nodes.alice.tick(Date.now() + 60_000)
    await assert.rejects(closing, (e: L2Error) => e.code === 'TIMEOUT')
    await t.nodes.alice.finalizeVirtual({ channelId: vid })
    assert.equal(t.nodes.alice.records.require(vid).status, 'closed')
    assert.equal(ga(), 7n * ETH + final.state.balances[0])
    for (const n of Object.values(t.nodes)) n.stop()
  })
})

describe('redteam: two virtual channels on one pair of ledgers', () => {
  test('redteam: two opens at once, each within Alice’s ledger balance but not both: one runs, the other is refused and unlocked; every ledger still holds its deposits and Ingrid nets zero', async () => {
    const t = await trio()
    const hub = t.nodes.ingrid.channel.status(t.ledgerA).myBalance + t.nodes.ingrid.channel.status(t.ledgerB).myBalance
    const opens = [openVirtual(t, 6n * ETH, 0n, { nonce: 11n }), openVirtual(t, 6n * ETH, 0n, { nonce: 12n })]
    const results = await Promise.allSettled(opens)
    for (let i = 0; i < 100; i++) {
      for (const n of Object.values(t.nodes)) n.tick(Date.now() + 60_000 * (i + 1))
      await new Promise((r) => setTimeout(r, 5))
      if (t.nodes.ingrid.records.all().every((r) => r.status === 'active' || r.status === 'closed')) break
    }
    const ok = results.filter((r) => r.status === 'fulfilled')
    assert.equal(ok.length, 1, 'exactly one of the two runs')
    const statuses = t.nodes.ingrid.records.all().map((r) => r.status).sort()
    assert.deepEqual(statuses, ['aborted', 'active'], 'the other was aborted and its locks removed')
    for (const [m, id] of [
      [t.nodes.alice, t.ledgerA],
      [t.nodes.bob, t.ledgerB],
    ] as const) {
      const s = m.channel.status(id)
      assert.equal(s.total, 20n * ETH, 'balances + locked = deposits')
      assert.equal(s.locked.length, 1, 'one lock: the running channel’s')
    }
    assert.equal(t.nodes.alice.channel.status(t.ledgerA).myBalance, 4n * ETH)
    assert.equal(ingridLedgerTotal(t), hub - 6n * ETH, 'Ingrid’s collateral for one channel only')
    for (const n of Object.values(t.nodes)) n.stop()
  })

  test('redteam: signatures replayed from one virtual channel to another (Bob’s accept, Ingrid’s activation, a final state) are refused with typed errors; nothing is saved or signed', async () => {
    const t = await trio()
    const v1 = await activeVirtual(t, ETH, 0n, { nonce: 21n })
    const r1 = t.nodes.alice.records.require(v1)
    // Bob's side of the coordination link as a bare authenticated endpoint (it answers nothing by itself).
    const heard: Uint8Array[] = []
    const rawBob = new PeerTable({
      signer: t.bob.signer,
      verifier: nodeVerifier,
      chainId: t.w.l1.chainId,
      protocol: VIRTUAL_PROTOCOL,
      maxPayload: VIRTUAL_MESSAGE_MAX,
      onFrame: (_peer, payload) => heard.push(payload),
      onPeer: () => {},
      onError: () => {},
    })
    t.links.ab.vc[0].disconnect() // Bob's node is off the coordination link
    const [x, y] = memoryLinkPair()
    t.nodes.alice.attachVirtual(x)
    rawBob.attach(y)
    await rawBob.whenConnected(t.alice.address)
    const opening = openVirtual(t, ETH, 0n, { nonce: 22n })
    opening.catch(() => {})
    const v2 = t.nodes.alice.virtualIds().find((id) => id !== v1) as `0x${string}`
    await soon(() => heard.length > 0)
    const before = t.nodes.alice.records.require(v2)
    const saves = (t.stores.alice.virtual as unknown as { saves: number }).saves
    const signs = countSigns(t.alice.signer)
    const n = t.nodes.alice.errors.length
    // Bob's signature on channel 1's version 0, as his answer to channel 2; Ingrid's activation of channel 1, as channel 2's.
    rawBob.send(t.alice.address, encodeVirtualMessage({ type: 'accept', channelId: bytes(v2), sig: r1.sigs[1] }))
    rawBob.send(t.alice.address, encodeVirtualMessage({ type: 'active', channelId: bytes(v2), sig: r1.activation }))
    await soon(() => t.nodes.alice.errors.length >= n + 2)
    const [e1, e2] = t.nodes.alice.errors.slice(n) as [L2Error, L2Error]
    assert.deepEqual([e1.name, e1.field], ['SignatureError', 'sig'])
    assert.deepEqual([e2.code, e2.field], ['NOT_PARTY', 'sender'])
    assert.deepEqual(t.nodes.alice.records.require(v2), before, 'channel 2 unchanged')
    assert.equal((t.stores.alice.virtual as unknown as { saves: number }).saves, saves)
    assert.equal(signs.count, 0)
    // A final state of channel 1 relabelled as channel 2's, settled with Ingrid (who never funded channel 2).
    const f1 = raw(t, v1, 5n, [ETH, 0n], true)
    const m = t.nodes.ingrid.errors.length
    t.nodes.alice.virtualLinkTo(t.ingrid.address)?.send(encodeVirtualMessage({ type: 'settle', state: { ...f1.state, channelId: bytes(v2) }, sigA: f1.sigs[0], sigB: f1.sigs[1] }))
    await soon(() => t.nodes.ingrid.errors.length > m)
    assert.equal((t.nodes.ingrid.errors.at(-1) as L2Error).code, 'UNKNOWN_VIRTUAL')
    assert.equal(t.nodes.ingrid.records.require(v1).status, 'active')
    rawBob.suspend()
    for (const n of Object.values(t.nodes)) n.stop()
  })
})

describe('redteam: Ingrid gone in the middle of the open', () => {
  test('redteam: Ingrid locks ledger A, then vanishes before ledger B’s lock and her activation: Alice’s share is not stuck — L1 pays it back by version 0', async () => {
    const t = await trio()
    t.links.bi.ch[0].disconnect() // ledger B's lock never completes
    const opening = openVirtual(t, 3n * ETH, 1n * ETH)
    opening.catch(() => {})
    await soon(() => t.nodes.alice.channel.status(t.ledgerA).locked.length === 1)
    const vid = t.nodes.alice.virtualIds()[0] as `0x${string}`
    t.nodes.ingrid.stop() // for good
    t.nodes.alice.tick(Date.now() + 60_000)
    await assert.rejects(opening, (e: L2Error) => e.code === 'TIMEOUT')
    assert.equal(t.nodes.alice.records.require(vid).status, 'funding')
    const ga = mark(t.w, t.alice)
    await t.nodes.alice.forceCloseVirtual({ channelId: vid })
    t.w.l1.mine(11)
    await t.nodes.alice.finalizeVirtual({ channelId: vid })
    assert.equal(ga(), 10n * ETH, 'her 7 ETH of ledger balance and her 3 ETH share back')
    assert.equal(t.nodes.alice.records.require(vid).status, 'closed')
    for (const n of Object.values(t.nodes)) n.stop()
  })
})

describe('redteam: an outcome read before it was final', () => {
  test('redteam: Alice’s and Ingrid’s nodes last read the stale registration, not Alice’s refutation; past the deadline nobody unlocks ledger A by the stale one — Alice gets her newest balance', async () => {
    const t = await trio()
    const vid = await activeVirtual(t, 3n * ETH, 1n * ETH)
    for (let i = 0; i < 10; i++) await t.nodes.bob.pay({ channelId: vid, amount: ETH / 10n })
    const newest = t.nodes.alice.channel.latest(vid)
    assert.deepEqual(newest.state.balances, [4n * ETH, 0n])
    // Bob (with Ingrid) registers version 0; Alice refutes with her wallet; her node and Ingrid's read L1 slowly.
    t.nodes.alice.options.autoDefend = false
    t.nodes.bob.options.autoDefend = false
    let slow = false
    let release = () => {}
    const gate = new Promise<void>((r) => {
      release = r
    })
    for (const node of [t.nodes.alice, t.nodes.ingrid]) {
      const read = node.client.dispute.bind(node.client)
      node.client.dispute = async (id) => {
        if (slow) await gate
        return read(id)
      }
    }
    await t.bob.virtual.register(paramsOf(t, vid), undefined)
    await soon(() => t.nodes.alice.records.require(vid).status === 'disputed' && t.nodes.ingrid.records.require(vid).status === 'disputed')
    await new Promise((r) => setTimeout(r, 20))
    slow = true
    await t.alice.virtual.register(paramsOf(t, vid), newest, activationOf(t, vid))
    assert.equal((await outcome(t, vid))?.version, newest.state.version)
    t.w.l1.mine(9) // past the deadline: the outcome on L1 is Alice's newest
    for (let i = 0; i < 30 && t.nodes.alice.channel.status(t.ledgerA).locked.length > 0; i++) {
      t.nodes.ingrid.tick(Date.now() + 60_000)
      await new Promise((r) => setTimeout(r, 50))
    }
    release()
    await soon(
      () => t.nodes.alice.channel.status(t.ledgerA).locked.length === 0,
      () => {
        t.nodes.alice.tick()
        t.nodes.ingrid.tick()
      },
    )
    assert.equal(t.nodes.alice.channel.status(t.ledgerA).myBalance, 7n * ETH + newest.state.balances[0], 'ledger A unlocked by the L1 outcome (Alice’s newest)')
    for (const n of Object.values(t.nodes)) n.stop()
  })
})

describe('redteam: an activation with one lock only', () => {
  test('redteam: Ingrid activates while only ledger A holds its lock: Bob refuses the activation (his ledger holds none) and never runs the channel; Alice’s share comes back by version 0', async () => {
    const t = await trio()
    t.links.bi.ch[0].disconnect() // ledger B's lock never completes
    const opening = openVirtual(t, 3n * ETH, 1n * ETH)
    opening.catch(() => {})
    await soon(() => t.nodes.alice.channel.status(t.ledgerA).locked.length === 1)
    const vid = t.nodes.alice.virtualIds()[0] as `0x${string}`
    // Ingrid signs the activation anyway and sends it to both.
    const sig = t.ingrid.signer.sign(activationDigest(bytes(vid)))
    const n = t.nodes.bob.errors.length
    for (const to of [t.alice.address, t.bob.address]) t.nodes.ingrid.virtualLinkTo(to)?.send(encodeVirtualMessage({ type: 'active', channelId: bytes(vid), sig }))
    await soon(() => t.nodes.bob.errors.length > n)
    const e = t.nodes.bob.errors.at(-1) as L2Error
    assert.deepEqual([e.code, e.field], ['STATE', 'channelId'])
    assert.equal(t.nodes.bob.records.require(vid).status, 'accepted')
    assert.equal(t.nodes.bob.channel.status(t.ledgerB).locked.length, 0)
    // Only version 0 carries Bob's signature, so only it can be registered: Alice is paid her share back through L1.
    await soon(() => t.nodes.alice.records.require(vid).status === 'active')
    t.nodes.ingrid.stop()
    const ga = mark(t.w, t.alice)
    await t.nodes.alice.forceCloseVirtual({ channelId: vid })
    t.w.l1.mine(11)
    await t.nodes.alice.finalizeVirtual({ channelId: vid })
    assert.equal(ga(), 10n * ETH)
    for (const n of Object.values(t.nodes)) n.stop()
  })
})

describe('redteam: the ledger window against the virtual window', () => {
  test('redteam: Alice registers an old virtual state and finalizes ledger A before the (longer) virtual window ends: the kept lock cannot be resolved until the outcome is final, and Bob’s refutation decides it', async () => {
    const t = await trio() // ledger windows: 10 blocks
    const vid = await activeVirtual(t, 3n * ETH, 1n * ETH, { disputeWindow: 30 })
    const { old, newest } = await oldAndNewest(t, vid)
    t.nodes.alice.stop() // Mallory acts with her keys and wallet
    const p = paramsOf(t, vid)
    const ga = mark(t.w, t.alice)
    await t.alice.client.register(t.nodes.ingrid.channel.latest(t.ledgerA))
    await t.alice.virtual.register(p, old, activationOf(t, vid))
    t.w.l1.mine(11)
    await t.alice.client.finalize(bytes(t.ledgerA))
    await assert.rejects(t.alice.virtual.resolve(bytes(t.ledgerA), p), (e: Error & { field?: string }) => e.field === 'witness')
    await waitFor(async () => (await outcome(t, vid))?.version === newest.state.version, 500, () => t.nodes.bob.tick())
    t.w.l1.mine(31)
    await t.alice.virtual.resolve(bytes(t.ledgerA), p)
    assert.equal(ga(), 7n * ETH + newest.state.balances[0], 'Alice is paid by the newest state, not her old one')
    for (const n of Object.values(t.nodes)) n.stop()
  })
})

describe('redteam: two parties finalizing one ledger at once', () => {
  test('redteam: Alice’s and Ingrid’s nodes finalize ledger A and resolve its lock at the same moment: neither call fails on the other’s transaction, and each is paid once', async () => {
    const t = await trio()
    const vid = await activeVirtual(t, 3n * ETH, 1n * ETH)
    await t.nodes.alice.pay({ channelId: vid, amount: ETH })
    const newest = t.nodes.alice.channel.latest(vid)
    t.nodes.ingrid.options.autoDefend = false // her node leaves L1 to the calls below
    const [ga, gi] = [mark(t.w, t.alice), mark(t.w, t.ingrid)]
    await t.nodes.alice.forceCloseVirtual({ channelId: vid })
    t.w.l1.mine(11)
    const results = await Promise.allSettled([t.nodes.alice.finalizeVirtual({ channelId: vid }), t.nodes.ingrid.finalizeVirtual({ channelId: vid })])
    assert.equal(results[0].status, 'fulfilled', String((results[0] as PromiseRejectedResult).reason))
    // Ingrid's call may only report ledger B's lock, still held off chain (STATE), never a revert.
    if (results[1].status === 'rejected') assert.equal((results[1].reason as L2Error).code, 'STATE')
    assert.equal(ga(), 7n * ETH + newest.state.balances[0])
    assert.equal(gi(), 9n * ETH + newest.state.balances[1], 'ledger A: Ingrid’s balance and her side of the lock, once')
    for (const n of Object.values(t.nodes)) n.stop()
  })
})

describe('redteam: property — a stale registration while the honest party is away', () => {
  test('redteam: property — Alice registers a random earlier state while Bob is online, offline on L1 for a few blocks, or restarting; Bob always ends with his newest balance and Ingrid nets zero', async () => {
    const pay = fc.record({ from: fc.constantFrom(0 as const, 1 as const), amount: fc.bigInt({ min: 1n, max: 2n * ETH }) })
    await fc.assert(
      fc.asyncProperty(
        fc.array(pay, { minLength: 1, maxLength: 6 }),
        fc.nat(),
        fc.constantFrom('online' as const, 'offline' as const, 'restart' as const),
        fc.integer({ min: 0, max: 5 }),
        async (pays, pick, mode, away) => {
          const t = await trio()
          const vid = await activeVirtual(t, 3n * ETH, 1n * ETH)
          const nodes = [t.nodes.alice, t.nodes.bob] as const
          const bal: [bigint, bigint] = [3n * ETH, 1n * ETH]
          const states = [t.nodes.alice.channel.latest(vid)]
          for (const p of pays) {
            if (p.amount > bal[p.from]) continue
            await nodes[p.from].pay({ channelId: vid, amount: p.amount })
            bal[p.from] -= p.amount
            bal[p.from === 0 ? 1 : 0] += p.amount
            states.push(t.nodes.alice.channel.latest(vid))
          }
          const newest = states[states.length - 1] as SignedState
          const stale = states[pick % states.length] as SignedState
          const p = paramsOf(t, vid)
          const [gb, gi] = [mark(t.w, t.bob), mark(t.w, t.ingrid)]
          t.nodes.alice.stop() // Mallory
          if (mode === 'offline') t.w.l1.setOffline(t.bob.address, true)
          if (mode === 'restart') t.nodes.bob.stop()
          await t.alice.virtual.register(p, stale.state.version === 0n ? undefined : stale, activationOf(t, vid))
          t.w.l1.mine(away)
          if (mode === 'offline') t.w.l1.setOffline(t.bob.address, false)
          if (mode === 'restart') {
            t.nodes.bob = makeNode(t.w, t.bob, t.stores.bob)
            connect(t.nodes.bob, t.nodes.ingrid)
            await t.nodes.bob.whenConnected(t.ingrid.address)
          }
          const bob = t.nodes.bob
          await waitFor(async () => (await outcome(t, vid))?.version === newest.state.version, 1000, () => bob.tick())
          await bob.forceCloseVirtual({ channelId: vid })
          await t.nodes.ingrid.forceCloseVirtual({ channelId: vid })
          t.w.l1.mine(11)
          for (const n of [bob, t.nodes.ingrid]) await n.finalizeVirtual({ channelId: vid }).catch((e: L2Error) => assert.equal(e.code, 'STATE'))
          await waitFor(async () => t.w.l1.balanceOf(t.w.adj.address) === 0n, 1000, () => t.nodes.ingrid.tick())
          assert.deepEqual(newest.state.balances, bal)
          assert.equal(gb(), 9n * ETH + bal[1], 'Bob: his ledger balance and his newest virtual balance')
          assert.equal(gi(), 20n * ETH, 'Ingrid nets zero')
          assert.ok(l1Conserved(t.w))
          for (const n of Object.values(t.nodes)) n.stop()
        },
      ),
      { numRuns: 12 },
    )
  })
})

describe('redteam: one set of parameters twice', () => {
  test('redteam: nonce reuse — Alice’s node refuses a second open with the same parameters, and after the close a fresh Alice node (records lost) re-proposing them gets nothing locked again', async () => {
    const t = await trio()
    const vid = await activeVirtual(t, ETH, 0n, { nonce: 5n, validity: 1000 })
    const p = paramsOf(t, vid)
    await t.nodes.alice.closeVirtual({ channelId: vid })
    await soon(() => t.nodes.ingrid.records.require(vid).status === 'closed')
    await assert.rejects(
      t.nodes.alice.openVirtual({
        peer: t.bob.address,
        peerPublicKey: t.bob.signer.publicKey,
        ingrid: t.ingrid.address,
        ledger: t.ledgerA,
        peerLedger: t.ledgerB,
        deposit: ETH,
        disputeWindow: p.disputeWindow,
        validity: Number(p.validity) - t.w.l1.head().height,
        nonce: 5n,
      }),
      (e: L2Error) => e.field === 'nonce',
    )
    const locked = () => [t.nodes.alice.channel.status(t.ledgerA).locked.length, t.nodes.bob.channel.status(t.ledgerB).locked.length]
    // The same fund again, straight to Ingrid (as Alice would send it after losing her records).
    const r = t.nodes.ingrid.records.require(vid)
    t.nodes.alice.virtualLinkTo(t.ingrid.address)?.send(encodeVirtualMessage({ type: 'fund', params: p, sigA: r.sigs[0], sigB: r.sigs[1] }))
    await new Promise((res) => setTimeout(res, 50))
    for (let i = 0; i < 5; i++) {
      t.nodes.ingrid.tick(Date.now() + 60_000 * (i + 1))
      await new Promise((res) => setTimeout(res, 5))
    }
    assert.deepEqual(locked(), [0, 0], 'no lock again')
    assert.equal(t.nodes.ingrid.records.require(vid).status, 'closed')
    assert.equal(t.nodes.alice.channel.status(t.ledgerA).myBalance + t.nodes.ingrid.channel.status(t.ledgerA).myBalance, 20n * ETH)
    for (const n of Object.values(t.nodes)) n.stop()
  })
})

describe('redteam: witnesses and states of another virtual channel (contract)', () => {
  test('redteam: two virtual channels on the same two ledgers — a conclusion with the other channel’s state, and each lock resolved with the other channel’s parameters, revert; each lock pays by its own outcome', async () => {
    const w = makeWorld()
    const [alice, bob, ingrid] = [w.party('alice'), w.party('bob'), w.party('ingrid')]
    const ledgerA = await ledgerOnChain(alice, ingrid, [10n * ETH, 10n * ETH], 1n)
    const ledgerB = await ledgerOnChain(ingrid, bob, [10n * ETH, 10n * ETH], 2n)
    const p1 = params(w, alice, bob, ingrid, ledgerA, ledgerB, [3n * ETH, 1n * ETH], { nonce: 1n })
    const p2 = params(w, alice, bob, ingrid, ledgerA, ledgerB, [2n * ETH, 2n * ETH], { nonce: 2n })
    const [v1, v2] = [virtualId(p1), virtualId(p2)]
    const base = (id: Uint8Array): ChannelState => ({ channelId: id, version: 0n, balances: [10n * ETH, 10n * ETH], locked: [], isFinal: false })
    const both = (id: Uint8Array, side: 'a' | 'b', parties: readonly [string, string]) => {
      const s1 = withLock(base(id), p1, lockFor(p1, side, parties as readonly [`0x${string}`, `0x${string}`]))
      return { ...withLock(s1, p2, lockFor(p2, side, parties as readonly [`0x${string}`, `0x${string}`])), isFinal: true }
    }
    await alice.client.close(sign(w.domain, both(ledgerA, 'a', [alice.address, ingrid.address]), alice.signer, ingrid.signer))
    await ingrid.client.close(sign(w.domain, both(ledgerB, 'b', [ingrid.address, bob.address]), ingrid.signer, bob.signer))
    const st = (vid: Uint8Array, version: bigint, balances: readonly [bigint, bigint], isFinal = false) =>
      sign(w.domain, { channelId: vid, version, balances, locked: [], isFinal }, alice.signer, bob.signer)
    // Channel 2's final state offered as channel 1's conclusion, and channel 1's parameters with channel 2's state.
    const f2 = st(v2, 4n, [0n, 4n * ETH], true)
    await assert.rejects(ingrid.virtual.conclude(p1, f2), (e: Error & { field?: string }) => e.field === 'state.channelId')
    await ingrid.virtual.conclude(p2, f2)
    await bob.virtual.register(p1, st(v1, 3n, [ETH, 3n * ETH]), activation(p1, ingrid))
    w.l1.mine(p1.disputeWindow + 1)
    // Channel 2's outcome (Bob everything) cannot pay channel 1's lock, nor back.
    await assert.rejects(alice.client.resolveLocked(ledgerA, v1, encodeParams(p2)), (e: Error & { field?: string }) => e.field === 'witness')
    await assert.rejects(alice.client.resolveLocked(ledgerA, v2, encodeParams(p1)), (e: Error & { field?: string }) => e.field === 'witness')
    const before = { a: w.l1.balanceOf(alice.address), i: w.l1.balanceOf(ingrid.address), b: w.l1.balanceOf(bob.address) }
    const outsider = w.party('outsider')
    for (const [ledger, p] of [
      [ledgerA, p1],
      [ledgerA, p2],
      [ledgerB, p1],
      [ledgerB, p2],
    ] as const)
      await outsider.virtual.resolve(ledger, p)
    assert.equal(w.l1.balanceOf(alice.address) - before.a, ETH + 0n, 'Alice: y_A of channel 1 (1) and of channel 2 (0)')
    assert.equal(w.l1.balanceOf(bob.address) - before.b, 3n * ETH + 4n * ETH, 'Bob: y_B of both')
    assert.equal(w.l1.balanceOf(ingrid.address) - before.i, 8n * ETH, 'Ingrid nets zero: the 8 ETH she locked across both channels')
    assert.equal(w.l1.balanceOf(w.adj.address), 0n)
    assert.ok(l1Conserved(w))
  })
})
