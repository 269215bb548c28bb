/**
 * The VirtualAdjudicator at contract level: registration (version 0 without
 * signatures, later versions with Alice's, Bob's and Ingrid's activation),
 * refutation inside the window, Ingrid's conclusion with a final state, and
 * both ledger locks paid by the one outcome — reverts change nothing.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { Amount } from '@l2bench/core'
import type { RevertError } from '@l2bench/l1-mock'
import type { ChannelState, SignedState } from '@l2bench/payment-channel'
import { encodeParams, initialState, lockFor, virtualId, withLock } from '../src/index.ts'
import { ETH, type Party, type World, activation, ledgerOnChain, l1Conserved, makeWorld, params, sign } from './fixtures.ts'

/** Ledger A (Alice opens, Ingrid joins) and ledger B (Ingrid opens, Bob joins), both with the virtual lock, both closed cooperatively with it. */
async function setup(deposits: readonly [Amount, Amount] = [3n * ETH, 1n * ETH]) {
  const w = makeWorld()
  const alice = w.party('alice')
  const bob = w.party('bob')
  const ingrid = w.party('ingrid')
  const ledgerA = await ledgerOnChain(alice, ingrid, [10n * ETH, 10n * ETH], 1n)
  const ledgerB = await ledgerOnChain(ingrid, bob, [10n * ETH, 10n * ETH], 2n)
  const p = params(w, alice, bob, ingrid, ledgerA, ledgerB, deposits)
  const vid = virtualId(p)
  const lockA = lockFor(p, 'a', [alice.address, ingrid.address])
  const lockB = lockFor(p, 'b', [ingrid.address, bob.address])
  const base = (id: Uint8Array): ChannelState => ({ channelId: id, version: 0n, balances: [10n * ETH, 10n * ETH], locked: [], isFinal: false })
  const a1 = { ...withLock(base(ledgerA), p, lockA), isFinal: true }
  const b1 = { ...withLock(base(ledgerB), p, lockB), isFinal: true }
  return { w, alice, bob, ingrid, ledgerA, ledgerB, p, vid, lockA, lockB, a1, b1 }
}

type Setup = Awaited<ReturnType<typeof setup>>

function vstate(s: Setup, version: bigint, balances: readonly [Amount, Amount], isFinal = false): SignedState {
  return sign(s.w.domain, { channelId: s.vid, version, balances, locked: [], isFinal }, s.alice.signer, s.bob.signer)
}

async function closeLedgers(s: Setup) {
  await s.alice.client.close(sign(s.w.domain, s.a1, s.alice.signer, s.ingrid.signer))
  await s.ingrid.client.close(sign(s.w.domain, s.b1, s.ingrid.signer, s.bob.signer))
}

const paid = (w: World, who: Party, before: bigint) => w.l1.balanceOf(who.address) - before

describe('VirtualAdjudicator', () => {
  test('the lock takes x_A from Alice’s side and x_B from Bob’s side in each ledger; a share above the balance is an AmountError naming it', async () => {
    const s = await setup()
    assert.deepEqual(s.a1.balances, [7n * ETH, 9n * ETH])
    assert.deepEqual(s.b1.balances, [7n * ETH, 9n * ETH])
    assert.equal(s.lockA.direction, 0)
    assert.equal(s.lockB.direction, 0)
    const poor: ChannelState = { channelId: s.ledgerA, version: 0n, balances: [1n * ETH, 10n * ETH], locked: [], isFinal: false }
    assert.throws(() => withLock(poor, s.p, s.lockA), (e: Error & { field?: string }) => e.name === 'AmountError' && e.field === 'params.deposits[0]')
    // Ingrid as party B of ledger B: the lock's direction follows her.
    const flipped = lockFor(s.p, 'b', [s.bob.address, s.ingrid.address])
    assert.equal(flipped.direction, 1)
    assert.throws(() => lockFor(s.p, 'a', [s.bob.address, s.ingrid.address]), (e: Error & { field?: string }) => e.field === 'params.ledgerA')
  })

  test('both locks resolve by the newest registered state after the window; Ingrid nets zero; resolution before the window or without registration reverts', async () => {
    const s = await setup()
    const { w, alice, bob, ingrid, p } = s
    await closeLedgers(s)
    const witness = encodeParams(p)
    await assert.rejects(alice.virtual.resolve(s.ledgerA, p), (e: RevertError) => e.field === 'witness' && /never registered/.test(e.message))
    const act = activation(p, ingrid)
    const v5 = vstate(s, 5n, [1n * ETH, 3n * ETH])
    const v9 = vstate(s, 9n, [3n * ETH + 5n, ETH - 5n])
    await alice.virtual.register(p, v5, act)
    await assert.rejects(alice.virtual.resolve(s.ledgerA, p), (e: RevertError) => e.field === 'witness' && /runs until/.test(e.message))
    // Refutation: a higher version within the window; an equal or lower one reverts.
    await assert.rejects(alice.virtual.register(p, v5, act), (e: RevertError) => e.field === 'state.version')
    await bob.virtual.register(p, v9, act)
    const d = await alice.virtual.dispute(s.vid)
    assert.equal(d?.version, 9n)
    w.l1.mine(p.disputeWindow + 1)
    await assert.rejects(bob.virtual.register(p, vstate(s, 10n, [0n, 4n * ETH]), act), (e: RevertError) => e.field === 'state')
    const before = { a: w.l1.balanceOf(alice.address), b: w.l1.balanceOf(bob.address), i: w.l1.balanceOf(ingrid.address) }
    // Anyone can resolve; the money goes to the ledger parties.
    const outsider = w.party('outsider')
    await outsider.virtual.resolve(s.ledgerA, p)
    await outsider.virtual.resolve(s.ledgerB, p)
    assert.equal(paid(w, alice, before.a), 3n * ETH + 5n)
    assert.equal(paid(w, bob, before.b), ETH - 5n)
    // Ingrid: y_B from ledger A + y_A from ledger B = x_A + x_B, what she locked.
    assert.equal(paid(w, ingrid, before.i), 4n * ETH)
    await assert.rejects(outsider.client.resolveLocked(s.ledgerA, s.vid, witness), (e: RevertError) => e.field === 'lockId')
    assert.equal(w.l1.balanceOf(w.adj.address), 0n)
    assert.ok(l1Conserved(w))
  })

  test('states past version 0 need both signatures and Ingrid’s activation; version 0 needs none but must hold the deposits', async () => {
    const s = await setup()
    const { alice, bob, ingrid, p } = s
    const v3 = vstate(s, 3n, [0n, 4n * ETH])
    await assert.rejects(alice.virtual.register(p, v3), (e: RevertError) => e.field === 'activation')
    await assert.rejects(alice.virtual.register(p, v3, alice.signer.sign(new Uint8Array(32))), (e: RevertError) => e.field === 'activation')
    const forged: SignedState = { ...v3, sigs: [v3.sigs[0], alice.signer.sign(v3.digest)] }
    await assert.rejects(alice.virtual.register(p, forged, activation(p, ingrid)), (e: RevertError) => e.field === 'sigB')
    const unbalanced = vstate(s, 3n, [0n, 5n * ETH])
    await assert.rejects(alice.virtual.register(p, unbalanced, activation(p, ingrid)), (e: RevertError) => e.field === 'state.balances')
    const wrongV0 = vstate(s, 0n, [0n, 4n * ETH])
    await assert.rejects(alice.virtual.register(p, wrongV0), (e: RevertError) => e.field === 'state.balances')
    // An outsider, and Ingrid before the validity height, may not register.
    await assert.rejects(s.w.party('mallory').virtual.register(p, undefined), (e: RevertError) => e.field === 'sender')
    await assert.rejects(ingrid.virtual.register(p, undefined), (e: RevertError) => e.field === 'sender')
    // Wrong domain: parameters for another adjudicator.
    await assert.rejects(alice.virtual.register({ ...p, adjudicator: alice.address }, undefined), (e: RevertError) => e.field === 'params.adjudicator')
    assert.equal(await alice.virtual.dispute(s.vid), undefined, 'nothing stored')
    await bob.virtual.register(p, undefined)
    assert.deepEqual((await alice.virtual.dispute(s.vid))?.balances, p.deposits)
  })

  test('without activation a lock resolves to the deposits: a lock in one ledger only costs Ingrid nothing, whatever Alice and Bob sign', async () => {
    const s = await setup()
    const { w, alice, ingrid, p } = s
    // Only ledger A got its lock (Bob never countersigned B's); Alice and Bob sign Alice everything.
    await alice.client.close(sign(w.domain, s.a1, alice.signer, ingrid.signer))
    const all = vstate(s, 7n, [4n * ETH, 0n])
    await assert.rejects(alice.virtual.register(p, all), (e: RevertError) => e.field === 'activation')
    await alice.virtual.register(p, undefined)
    w.l1.mine(p.disputeWindow + 1)
    const before = w.l1.balanceOf(ingrid.address)
    await alice.virtual.resolve(s.ledgerA, p)
    assert.equal(paid(w, ingrid, before), 1n * ETH, 'Ingrid gets her x_B back')
  })

  test('Ingrid concludes with a final state at once, over a colluders’ newer registration; no one may change a final outcome', async () => {
    const s = await setup()
    const { w, alice, bob, ingrid, p } = s
    await closeLedgers(s)
    const act = activation(p, ingrid)
    const final = vstate(s, 6n, [2n * ETH, 2n * ETH], true)
    // Colluders register a newer state giving Bob everything.
    await bob.virtual.register(p, vstate(s, 8n, [0n, 4n * ETH]), act)
    await assert.rejects(alice.virtual.conclude(p, final), (e: RevertError) => e.field === 'sender')
    await assert.rejects(ingrid.virtual.conclude(p, vstate(s, 9n, [2n * ETH, 2n * ETH])), (e: RevertError) => e.field === 'state.isFinal')
    await ingrid.virtual.conclude(p, final)
    // Final at once: resolution needs no wait, and no registration or second conclusion changes it.
    await assert.rejects(bob.virtual.register(p, vstate(s, 20n, [0n, 4n * ETH]), act), (e: RevertError) => e.field === 'state')
    await assert.rejects(ingrid.virtual.conclude(p, vstate(s, 21n, [0n, 4n * ETH], true)), (e: RevertError) => e.field === 'state')
    const before = w.l1.balanceOf(ingrid.address)
    const ra = await alice.virtual.resolve(s.ledgerA, p)
    const rb = await bob.virtual.resolve(s.ledgerB, p)
    assert.equal(w.l1.balanceOf(ingrid.address) - before, 4n * ETH)
    assert.equal(ra.events.filter((e) => e.name === 'LockedResolved').length, 2)
    assert.equal(rb.events.filter((e) => e.name === 'LockedResolved').length, 2)
    assert.ok(l1Conserved(w))
  })

  test('a witness that is not the lock’s parameters, or a lock on the wrong side, is refused', async () => {
    const s = await setup()
    const { w, alice, bob, ingrid, p } = s
    await closeLedgers(s)
    await alice.virtual.register(p, undefined)
    w.l1.mine(p.disputeWindow + 1)
    await assert.rejects(alice.client.resolveLocked(s.ledgerA, s.vid, new Uint8Array([1, 2, 3])), (e: RevertError) => e.field === 'witness')
    const other = { ...p, nonce: 2n }
    await assert.rejects(alice.client.resolveLocked(s.ledgerA, s.vid, encodeParams(other)), (e: RevertError) => e.field === 'witness')
    // A ledger between Alice and Bob with a lock claiming to be this virtual channel's: wrong parties for either side.
    const ab = await ledgerOnChain(alice, bob, [5n * ETH, 5n * ETH], 3n)
    const fake = { ...s.lockA }
    const st: ChannelState = { channelId: ab, version: 1n, balances: [2n * ETH, 4n * ETH], locked: [fake], isFinal: true }
    await alice.client.close(sign(w.domain, st, alice.signer, bob.signer))
    await assert.rejects(alice.client.resolveLocked(ab, s.vid, encodeParams(p)), (e: RevertError) => e.field === 'lockId')
    void ingrid
    void initialState
  })
})
