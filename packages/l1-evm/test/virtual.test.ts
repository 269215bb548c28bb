/**
 * The virtual channel's adjudicator (virtual-channel's VirtualAdjudicator /
 * contracts/VirtualAdjudicator.sol) on both backends, through the design's
 * own clients: registration (version 0 without signatures, later versions
 * with Alice's, Bob's and Ingrid's activation), refutation in the window,
 * Ingrid's conclusion, both ledger locks split by the one outcome — and every
 * refusal of virtual-channel's contract test with the same revert field on
 * either chain, changing nothing.
 */
import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { type Address, type Amount, NodeSigner, type Signer, secretKeyFromSeed, toHighS } from '@l2bench/core'
import { type L1, RevertError, Wallet } from '@l2bench/l1-mock'
import { AdjudicatorClient, type ChannelState, type Domain, type SignedState, stateDigest } from '@l2bench/payment-channel'
import {
  VirtualAdjudicator,
  VirtualClient,
  activationDigest,
  encodeParams,
  lockFor,
  virtualId,
  withLock,
} from '@l2bench/virtual-channel'
import { type Chain, backends } from '../src/index.ts'
import { openLedger, virtualParams } from '../src/parity/virtual.ts'

const ETH = 10n ** 18n

interface Party {
  signer: Signer
  wallet: Wallet
  client: AdjudicatorClient
  virtual: VirtualClient
  address: Address
}

interface World {
  chain: Chain
  l1: L1
  adj: VirtualAdjudicator
  domain: Domain
  alice: Party
  bob: Party
  ingrid: Party
  mallory: Party
}

async function make(chain: Chain): Promise<World> {
  const adj = await chain.deploy(new VirtualAdjudicator())
  const party = async (name: string): Promise<Party> => {
    const signer = new NodeSigner(secretKeyFromSeed(`evm-virtual/${name}`))
    const wallet = new Wallet(signer, chain.l1)
    await chain.mint(signer.address, 1000n * ETH)
    return { signer, wallet, client: new AdjudicatorClient(wallet, adj), virtual: new VirtualClient(wallet, adj), address: signer.address }
  }
  return {
    chain,
    l1: chain.l1,
    adj,
    domain: { chainId: chain.l1.chainId, adjudicator: adj.address },
    alice: await party('alice'),
    bob: await party('bob'),
    ingrid: await party('ingrid'),
    mallory: await party('mallory'),
  }
}

function sign(domain: Domain, state: ChannelState, a: Signer, b: Signer): SignedState {
  const digest = stateDigest(domain, state)
  return { state, digest, sigs: [a.sign(digest), b.sign(digest)] }
}

/** Ledger A (Alice–Ingrid) and B (Ingrid–Bob), both closed cooperatively with the virtual lock. */
async function setup(w: World) {
  const { alice, bob, ingrid } = w
  const ledgerA = await openLedger(alice, ingrid, 1n)
  const ledgerB = await openLedger(ingrid, bob, 2n)
  const p = virtualParams(w.l1, w.adj, [alice, bob, ingrid], [ledgerA, ledgerB], 1n)
  const vid = virtualId(p)
  const base = (id: Uint8Array): ChannelState => ({ channelId: id, version: 0n, balances: [10n * ETH, 10n * ETH], locked: [], isFinal: false })
  const a1 = { ...withLock(base(ledgerA), p, lockFor(p, 'a', [alice.address, ingrid.address])), isFinal: true }
  const b1 = { ...withLock(base(ledgerB), p, lockFor(p, 'b', [ingrid.address, bob.address])), isFinal: true }
  const closeLedgers = async () => {
    await alice.client.close(sign(w.domain, a1, alice.signer, ingrid.signer))
    await ingrid.client.close(sign(w.domain, b1, ingrid.signer, bob.signer))
  }
  const vstate = (version: bigint, balances: readonly [Amount, Amount], isFinal = false) =>
    sign(w.domain, { channelId: vid, version, balances, locked: [], isFinal }, alice.signer, bob.signer)
  const act = ingrid.signer.sign(activationDigest(vid))
  return { p, vid, ledgerA, ledgerB, a1, closeLedgers, vstate, act }
}

/** A rejection with `field`, leaving the stored outcome as it was. */
async function refused(w: World, vid: Uint8Array, run: Promise<unknown>, field: string): Promise<void> {
  const before = await w.alice.virtual.dispute(vid)
  await assert.rejects(run, (e: Error) => {
    assert.ok(e instanceof RevertError, `${field}: ${e.name}: ${e.message}`)
    assert.equal(e.field, field, e.message)
    return true
  })
  assert.deepEqual(await w.alice.virtual.dispute(vid), before, `${field}: nothing stored`)
}

for (const backend of backends(make)) {
  describe(`virtual adjudicator on ${backend.name}`, () => {
    after(() => backend.close())

    test('registration, refutation in the window, both locks split by the outcome after it; Ingrid nets zero', async () => {
      const w = await backend.world()
      const s = await setup(w)
      const { alice, bob, ingrid, mallory } = w
      await s.closeLedgers()
      await refused(w, s.vid, alice.virtual.resolve(s.ledgerA, s.p), 'witness') // never registered
      await alice.virtual.register(s.p, s.vstate(5n, [1n * ETH, 3n * ETH]), s.act)
      await refused(w, s.vid, alice.virtual.resolve(s.ledgerA, s.p), 'witness') // the window runs
      await refused(w, s.vid, alice.virtual.register(s.p, s.vstate(5n, [1n * ETH, 3n * ETH]), s.act), 'state.version')
      await bob.virtual.register(s.p, s.vstate(9n, [3n * ETH + 5n, ETH - 5n]), s.act)
      const d = await alice.virtual.dispute(s.vid)
      assert.equal(d?.version, 9n)
      assert.equal(d?.by, 1)
      assert.deepEqual(d?.balances, [3n * ETH + 5n, ETH - 5n])
      await w.chain.mine(s.p.disputeWindow + 1)
      await refused(w, s.vid, bob.virtual.register(s.p, s.vstate(10n, [0n, 4n * ETH]), s.act), 'state')
      const bal = (x: Party) => w.l1.balanceOf(x.address)
      const before = { a: bal(alice), b: bal(bob), i: bal(ingrid) }
      // Anyone may resolve (an outsider pays the gas); the money goes to the ledgers' parties.
      const ra = await mallory.virtual.resolve(s.ledgerA, s.p)
      await mallory.virtual.resolve(s.ledgerB, s.p)
      assert.equal(ra.events.filter((e) => e.name === 'LockedResolved').length, 2)
      assert.equal(bal(alice) - before.a, 3n * ETH + 5n)
      assert.equal(bal(bob) - before.b, ETH - 5n)
      assert.equal(bal(ingrid) - before.i, 4n * ETH, 'y_B from ledger A + y_A from ledger B = x_A + x_B')
      await assert.rejects(mallory.client.resolveLocked(s.ledgerA, s.vid, encodeParams(s.p)), (e: RevertError) => e.field === 'lockId')
      assert.equal(w.l1.balanceOf(w.adj.address), 0n)
    })

    test('refusals: activation, signatures (wrong signer, high-s), balances, version 0, outsiders, Ingrid before validity, other chain or adjudicator; nothing stored', async () => {
      const w = await backend.world()
      const s = await setup(w)
      const { alice, ingrid, mallory } = w
      const v3 = s.vstate(3n, [0n, 4n * ETH])
      await refused(w, s.vid, alice.virtual.register(s.p, v3), 'activation')
      await refused(w, s.vid, alice.virtual.register(s.p, v3, alice.signer.sign(new Uint8Array(32))), 'activation')
      await refused(w, s.vid, alice.virtual.register(s.p, { ...v3, sigs: [v3.sigs[0], alice.signer.sign(v3.digest)] }, s.act), 'sigB')
      await refused(w, s.vid, alice.virtual.register(s.p, { ...v3, sigs: [toHighS(v3.sigs[0]), v3.sigs[1]] }, s.act), 'sigA')
      await refused(w, s.vid, alice.virtual.register(s.p, s.vstate(3n, [0n, 5n * ETH]), s.act), 'state.balances')
      await refused(w, s.vid, alice.virtual.register(s.p, s.vstate(0n, [0n, 4n * ETH])), 'state.balances')
      await refused(w, s.vid, mallory.virtual.register(s.p, undefined), 'sender')
      await refused(w, s.vid, ingrid.virtual.register(s.p, undefined), 'sender')
      await refused(w, s.vid, alice.virtual.register({ ...s.p, adjudicator: alice.address }, undefined), 'params.adjudicator')
      await refused(w, s.vid, alice.virtual.register({ ...s.p, chainId: s.p.chainId + 1n }, undefined), 'params.chainId')
      // A state of another channel (the ledger's) under these parameters.
      await refused(w, s.vid, alice.virtual.register(s.p, sign(w.domain, { ...v3.state, channelId: s.ledgerA }, alice.signer, w.bob.signer), s.act), 'state.channelId')
      assert.equal(await alice.virtual.dispute(s.vid), undefined)
      await w.bob.virtual.register(s.p, undefined)
      assert.deepEqual((await alice.virtual.dispute(s.vid))?.balances, s.p.deposits)
    })

    test('Ingrid concludes a final state at once over a colluders’ newer registration; no one changes a final outcome', async () => {
      const w = await backend.world()
      const s = await setup(w)
      const { alice, bob, ingrid } = w
      await s.closeLedgers()
      const final = s.vstate(6n, [2n * ETH, 2n * ETH], true)
      await bob.virtual.register(s.p, s.vstate(8n, [0n, 4n * ETH]), s.act)
      await refused(w, s.vid, alice.virtual.conclude(s.p, final), 'sender')
      await refused(w, s.vid, ingrid.virtual.conclude(s.p, s.vstate(9n, [2n * ETH, 2n * ETH])), 'state.isFinal')
      await ingrid.virtual.conclude(s.p, final)
      assert.equal((await alice.virtual.dispute(s.vid))?.concluded, true)
      await refused(w, s.vid, bob.virtual.register(s.p, s.vstate(20n, [0n, 4n * ETH]), s.act), 'state')
      await refused(w, s.vid, ingrid.virtual.conclude(s.p, s.vstate(21n, [0n, 4n * ETH], true)), 'state')
      const before = w.l1.balanceOf(ingrid.address)
      await alice.virtual.resolve(s.ledgerA, s.p)
      await bob.virtual.resolve(s.ledgerB, s.p)
      assert.equal(w.l1.balanceOf(ingrid.address) - before, 4n * ETH)
    })

    test('a witness that is not the lock’s parameters, or a lock on the wrong side, is refused; the lock stays', async () => {
      const w = await backend.world()
      const s = await setup(w)
      const { alice, bob } = w
      await s.closeLedgers()
      await alice.virtual.register(s.p, undefined)
      await w.chain.mine(s.p.disputeWindow + 1)
      const stays = async () => assert.ok((await w.l1.read(w.adj.address, 'locked', [s.ledgerA, s.vid])) !== undefined)
      await assert.rejects(alice.client.resolveLocked(s.ledgerA, s.vid, new Uint8Array([1, 2, 3])), (e: RevertError) => e.field === 'witness')
      await assert.rejects(alice.client.resolveLocked(s.ledgerA, s.vid, encodeParams({ ...s.p, nonce: 2n })), (e: RevertError) => e.field === 'witness')
      const trailing = Uint8Array.of(...encodeParams(s.p), 0)
      await assert.rejects(alice.client.resolveLocked(s.ledgerA, s.vid, trailing), (e: RevertError) => e.field === 'witness')
      await stays()
      // A ledger between Alice and Bob with a lock claiming to be this virtual channel's: wrong parties for either side.
      const ab = await openLedger(alice, bob, 3n)
      const st: ChannelState = { channelId: ab, version: 1n, balances: [8n * ETH, 8n * ETH], locked: [{ ...s.a1.locked[0]! }], isFinal: true }
      await alice.client.close(sign(w.domain, st, alice.signer, bob.signer))
      await assert.rejects(alice.client.resolveLocked(ab, s.vid, encodeParams(s.p)), (e: RevertError) => e.field === 'lockId')
      await alice.virtual.resolve(s.ledgerA, s.p)
    })
  })
}
