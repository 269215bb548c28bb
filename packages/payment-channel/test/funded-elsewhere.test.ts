/**
 * The seams a virtual channel stands on: a channel funded elsewhere
 * (`openFunded`, `finalState`, `settled`) and a locked entry split between
 * both parties by an adjudicator subclass (`splitWithWitness`).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type Amount, InvalidInputError, SignatureError, keccakTagged } from '@l2bench/core'
import type { CallContext, RevertError } from '@l2bench/l1-mock'
import {
  Adjudicator,
  AdjudicatorClient,
  type ChannelParams,
  ChannelError,
  ChannelNode,
  type LockedEntry,
  MemoryStore,
  type StoredLock,
  memoryLinkPair,
  stateDigest,
} from '../src/index.ts'
import { ETH, makeWorld, openOnChain, settle, sign, until } from './fixtures.ts'

/** Splits a lock by the witness's first byte: that many tenths to A, the rest to B; 0xff claims more than the lock. */
class SplittingAdjudicator extends Adjudicator {
  protected override splitWithWitness(_ctx: CallContext, lock: StoredLock, witness: Uint8Array): readonly [Amount, Amount] | undefined {
    const k = witness[0] as number
    if (k === 0xff) return [lock.amount, 1n]
    if (k > 10) return undefined
    const a = (lock.amount * BigInt(k)) / 10n
    return [a, lock.amount - a]
  }
}

test('splitWithWitness: a subclass pays a locked entry to both parties; a split that does not add up reverts and pays nothing', async () => {
  const w = makeWorld()
  const adj = w.l1.deploy(new SplittingAdjudicator())
  const domain = { chainId: w.l1.chainId, adjudicator: adj.address }
  const a = w.party('a')
  const b = w.party('b')
  const ca = new AdjudicatorClient(a.wallet, adj)
  const cb = new AdjudicatorClient(b.wallet, adj)
  const c = await openOnChain({ ...w, adj } as typeof w, { ...a, client: ca }, { ...b, client: cb }, { depositA: 10n * ETH, depositB: 0n })
  const lock: LockedEntry = { id: keccakTagged('t', new Uint8Array([1])), amount: 4n * ETH, direction: 0, hash: new Uint8Array(32), expiry: 2n ** 64n - 1n }
  const closed = sign(domain, { channelId: c.channelId, version: 1n, balances: [6n * ETH, 0n], locked: [lock], isFinal: true }, a.signer, b.signer)
  await ca.close(closed)
  // No expiry refund for this entry, and a split that claims more than the lock is refused.
  await assert.rejects(ca.resolveLocked(c.channelId, lock.id), (e: RevertError) => e.field === 'witness')
  await assert.rejects(ca.resolveLocked(c.channelId, lock.id, new Uint8Array([0xff])), (e: RevertError) => e.field === 'witness' && /is not the locked/.test(e.message))
  await assert.rejects(ca.resolveLocked(c.channelId, lock.id, new Uint8Array([11])), (e: RevertError) => e.field === 'witness')
  const balA = w.l1.balanceOf(a.address)
  const balB = w.l1.balanceOf(b.address)
  const r = await cb.resolveLocked(c.channelId, lock.id, new Uint8Array([3]))
  const paid = r.events.filter((e) => e.name === 'LockedResolved').map((e) => [e.data.to, e.data.amount])
  assert.deepEqual(paid, [
    [a.address, (4n * ETH * 3n) / 10n],
    [b.address, 4n * ETH - (4n * ETH * 3n) / 10n],
  ])
  assert.equal(w.l1.balanceOf(a.address) - balA, (4n * ETH * 3n) / 10n)
  assert.equal(w.l1.balanceOf(b.address) - balB + r.fee, 4n * ETH - (4n * ETH * 3n) / 10n)
  assert.equal(w.l1.balanceOf(adj.address), 0n)
  await assert.rejects(ca.resolveLocked(c.channelId, lock.id, new Uint8Array([3])), (e: RevertError) => e.field === 'lockId')
  assert.equal(w.l1.totalBalances() + w.l1.totalBurnt(), w.l1.totalMinted())
})

test('openFunded: two nodes adopt a channel funded elsewhere, pay, restart from their stores, sign a final state without L1, and mark it settled', async () => {
  const w = makeWorld()
  const a = w.party('a')
  const b = w.party('b')
  const stores = [new MemoryStore(), new MemoryStore()] as const
  const mk = (p: typeof a, store: MemoryStore) => new ChannelNode({ signer: p.signer, wallet: p.wallet, adjudicator: w.adj, store, timers: false })
  let alice = mk(a, stores[0])
  let bob = mk(b, stores[1])
  const links = memoryLinkPair()
  alice.attach(links[0])
  bob.attach(links[1])
  await alice.whenConnected(b.address)
  const params: ChannelParams = {
    channelId: keccakTagged('elsewhere', new Uint8Array([7])),
    domain: w.domain,
    nonce: 7n,
    parties: [a.address, b.address],
    publicKeys: [a.signer.publicKey, b.signer.publicKey],
    deposits: [3n * ETH, 1n * ETH],
    disputeWindow: 10,
    fundingTimeout: 1,
    penalty: 'none',
  }
  const v0 = stateDigest(w.domain, { channelId: params.channelId, version: 0n, balances: params.deposits, locked: [], isFinal: false })
  const sigA = a.signer.sign(v0)
  const sigB = b.signer.sign(v0)
  // Bad inputs: nothing is stored.
  assert.throws(() => alice.openFunded(params, 0, sigA), SignatureError)
  assert.throws(() => alice.openFunded(params, 1, sigA), InvalidInputError)
  assert.equal(stores[0].records.size, 0)
  const id = alice.openFunded(params, 0, sigB)
  bob.openFunded(params, 1, sigA)
  assert.throws(() => alice.openFunded(params, 0, sigB), ChannelError)
  assert.equal(alice.status(id).phase, 'open')
  assert.equal(w.l1.nonceOf(a.address) + w.l1.nonceOf(b.address), 0n, 'no L1 transaction')
  await alice.pay({ channelId: id, amount: ETH })
  await bob.pay({ channelId: id, amount: 2n })
  // Restart both from their stores.
  alice.stop()
  bob.stop()
  alice = mk(a, stores[0])
  bob = mk(b, stores[1])
  const l2 = memoryLinkPair()
  alice.attach(l2[0])
  bob.attach(l2[1])
  await alice.whenConnected(b.address)
  await settle()
  assert.deepEqual(alice.status(id).balances, [2n * ETH + 2n, 2n * ETH - 2n])
  const final = await alice.finalState({ channelId: id })
  assert.equal(final.state.isFinal, true)
  assert.deepEqual(final.state.balances, [2n * ETH + 2n, 2n * ETH - 2n])
  await until(() => bob.status(id).phase === 'closing')
  assert.equal(alice.status(id).phase, 'closing')
  // Asking again returns the same state (e.g. after a restart).
  assert.equal((await alice.finalState({ channelId: id })).state.version, final.state.version)
  await assert.rejects(alice.pay({ channelId: id, amount: 1n }), ChannelError)
  alice.settled({ channelId: id })
  assert.equal(alice.status(id).phase, 'closed')
  assert.equal(w.l1.nonceOf(a.address) + w.l1.nonceOf(b.address), 0n, 'no L1 transaction')
  alice.stop()
  bob.stop()
})
