/**
 * The payment-channel adjudicator and its HTLC subclass on both backends,
 * driven through the design's own AdjudicatorClient: funding, top-up,
 * cooperative close, register/challenge/finalize, penalty, locked entries,
 * preimage claims, and the signature attacks (ATTACKS 5) with the same
 * revert fields and no state change on either backend.
 */
import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { type Address, type Amount, NodeSigner, type Signer, secretKeyFromSeed, sha256, toHighS } from '@l2bench/core'
import { HtlcAdjudicator } from '@l2bench/htlc-router'
import { type L1, type Receipt, RevertError, Wallet } from '@l2bench/l1-mock'
import {
  Adjudicator,
  AdjudicatorClient,
  type ChannelInfo,
  type ChannelState,
  type Domain,
  type LockedEntry,
  type Penalty,
  type SignedState,
  stateDigest,
} from '@l2bench/payment-channel'
import { type Chain, backends } from '../src/index.ts'

const ETH = 10n ** 18n

interface Party {
  signer: Signer
  wallet: Wallet
  client: AdjudicatorClient
  htlc: AdjudicatorClient
  address: Address
}

interface World {
  chain: Chain
  l1: L1
  adj: Adjudicator
  htlcAdj: HtlcAdjudicator
  a: Party
  b: Party
  m: Party
  tower: Party
}

async function make(chain: Chain): Promise<World> {
  const adj = await chain.deploy(new Adjudicator())
  const htlcAdj = await chain.deploy(new HtlcAdjudicator())
  const party = async (name: string): Promise<Party> => {
    const signer = new NodeSigner(secretKeyFromSeed(`evm-adj/${name}`))
    const wallet = new Wallet(signer, chain.l1)
    await chain.mint(signer.address, 1000n * ETH)
    return { signer, wallet, client: new AdjudicatorClient(wallet, adj), htlc: new AdjudicatorClient(wallet, htlcAdj), address: signer.address }
  }
  return { chain, l1: chain.l1, adj, htlcAdj, a: await party('a'), b: await party('b'), m: await party('m'), tower: await party('tower') }
}

const domainOf = (w: World, adj: Adjudicator): Domain => ({ chainId: w.l1.chainId, adjudicator: adj.address })

function sign(domain: Domain, state: ChannelState, a: Signer, b: Signer): SignedState {
  const digest = stateDigest(domain, state)
  return { state, digest, sigs: [a.sign(digest), b.sign(digest)] }
}

async function openOnChain(
  w: World,
  opts: { depositA?: Amount; depositB?: Amount; window?: number; penalty?: Penalty; nonce?: bigint; fundingTimeout?: number; htlc?: boolean } = {},
) {
  const depositA = opts.depositA ?? 10n * ETH
  const depositB = opts.depositB ?? 5n * ETH
  const ca = opts.htlc === true ? w.a.htlc : w.a.client
  const cb = opts.htlc === true ? w.b.htlc : w.b.client
  const r = await ca.open({
    b: w.b.address,
    pkA: w.a.signer.publicKey,
    pkB: w.b.signer.publicKey,
    nonce: opts.nonce ?? 1n,
    depositA,
    depositB,
    disputeWindow: opts.window ?? 10,
    fundingTimeout: opts.fundingTimeout ?? 5,
    penalty: opts.penalty ?? 'none',
  })
  const channelId = Uint8Array.from(Buffer.from((r.result as string).slice(2), 'hex'))
  await cb.confirm(channelId, depositB)
  const state = (version: bigint, balances: readonly [Amount, Amount], isFinal = false, locked: LockedEntry[] = []): ChannelState => ({
    channelId,
    version,
    balances,
    locked,
    isFinal,
  })
  return { channelId, state }
}

/** Rejects with RevertError naming `field` (code REVERT, as ctx.revert gives on the mock). */
const revertsOn = (field: string) => (e: unknown) => {
  assert.ok(e instanceof RevertError, String(e))
  assert.equal(e.field, field, e.message)
  assert.equal(e.code, 'REVERT', e.message)
  return true
}

function reverted(r: Receipt, field: string): void {
  assert.equal(r.status, 'reverted')
  assert.equal(r.revertField, field, r.revertReason)
  assert.equal(r.revertCode, 'REVERT')
}

for (const backend of backends(make)) {
  describe(`payment-channel adjudicator on ${backend.name}`, () => {
    after(() => backend.close())

    test('open + confirm funds the channel; B must pay exactly the declared deposit; bad keys and duplicates refused', async () => {
      const w = await backend.world()
      const { a, b, m } = w
      const base = { b: b.address, nonce: 7n, depositA: 3n * ETH, depositB: 2n * ETH, disputeWindow: 10, fundingTimeout: 5, penalty: 'none' as const }
      await assert.rejects(a.client.open({ ...base, pkA: m.signer.publicKey, pkB: b.signer.publicKey }), revertsOn('pkA'))
      await assert.rejects(a.client.open({ ...base, pkA: a.signer.publicKey, pkB: m.signer.publicKey }), revertsOn('pkB'))
      await assert.rejects(a.client.open({ ...base, b: a.address, pkA: a.signer.publicKey, pkB: a.signer.publicKey }), revertsOn('b'))
      const r = await a.client.open({ ...base, pkA: a.signer.publicKey, pkB: b.signer.publicKey })
      assert.deepEqual(r.events.map((e) => e.name), ['Opened'])
      await assert.rejects(a.client.open({ ...base, pkA: a.signer.publicKey, pkB: b.signer.publicKey }), revertsOn('nonce'))
      const id = Uint8Array.from(Buffer.from((r.result as string).slice(2), 'hex'))
      const info0 = (await a.client.info(id)) as ChannelInfo
      assert.equal(info0.phase, 'funding')
      assert.deepEqual(info0.publicKeys, [a.signer.publicKey, b.signer.publicKey])
      assert.equal(info0.fundingDeadline, r.height + 5)
      await assert.rejects(b.client.confirm(id, 1n * ETH), revertsOn('value'))
      await assert.rejects(a.client.confirm(id, 2n * ETH), revertsOn('sender'))
      const c = await b.client.confirm(id, 2n * ETH)
      assert.deepEqual(c.events[0]?.data, { channelId: id, depositA: 3n * ETH, depositB: 2n * ETH })
      const info = (await a.client.info(id)) as ChannelInfo
      assert.equal(info.phase, 'open')
      assert.deepEqual(info.deposits, [3n * ETH, 2n * ETH])
      assert.equal(info.declaredDepositB, 2n * ETH)
      assert.equal(w.l1.balanceOf(w.adj.address), 5n * ETH)
    })

    test('A refunds only after the funding timeout when B never confirms', async () => {
      const w = await backend.world()
      const { a, b } = w
      const r = await a.client.open({
        b: b.address,
        pkA: a.signer.publicKey,
        pkB: b.signer.publicKey,
        nonce: 1n,
        depositA: 4n * ETH,
        depositB: ETH,
        disputeWindow: 10,
        fundingTimeout: 3,
        penalty: 'none',
      })
      const id = Uint8Array.from(Buffer.from((r.result as string).slice(2), 'hex'))
      await assert.rejects(a.client.refund(id), revertsOn('channelId'))
      await w.chain.mine(3)
      await assert.rejects(b.client.confirm(id, ETH), revertsOn('channelId'))
      await assert.rejects(b.client.refund(id), revertsOn('sender'))
      const before = w.l1.balanceOf(a.address)
      const rr = await a.client.refund(id)
      assert.equal(w.l1.balanceOf(a.address), before + 4n * ETH - rr.fee)
      assert.equal((await a.client.info(id))?.phase, 'closed')
      assert.equal(w.l1.balanceOf(w.adj.address), 0n)
    })

    test('top-up needs a state signed by both holding the new total; only parties top up; the old split no longer conserves', async () => {
      const w = await backend.world()
      const { a, b, m } = w
      const ch = await openOnChain(w)
      const d = domainOf(w, w.adj)
      const s2 = sign(d, ch.state(2n, [10n * ETH, 7n * ETH]), a.signer, b.signer)
      // The deposit must come with a signed state holding the new total (no "ransom" top-up outside the states).
      await assert.rejects(b.client.topUp(sign(d, ch.state(2n, [10n * ETH, 5n * ETH]), a.signer, b.signer), 2n * ETH), revertsOn('state.balances'))
      await assert.rejects(b.client.topUp({ ...s2, sigs: [s2.sigs[0], s2.sigs[0]] }, 2n * ETH), revertsOn('sigB'))
      await assert.rejects(m.client.topUp(s2, 2n * ETH), revertsOn('sender'))
      await assert.rejects(a.client.topUp(s2, 0n), revertsOn('value'))
      const t = await b.client.topUp(s2, 2n * ETH)
      assert.deepEqual(t.events[0]?.data, { channelId: ch.channelId, party: 1, amount: 2n * ETH, deposits: [10n * ETH, 7n * ETH], version: 2n })
      assert.deepEqual((await a.client.info(ch.channelId))?.deposits, [10n * ETH, 7n * ETH])
      await assert.rejects(a.client.register(sign(d, ch.state(3n, [10n * ETH, 5n * ETH]), a.signer, b.signer)), revertsOn('state.balances'))
      await a.client.register(sign(d, ch.state(3n, [10n * ETH, 7n * ETH]), a.signer, b.signer))
    })

    test('cooperative close pays out at once and needs isFinal', async () => {
      const w = await backend.world()
      const { a, b } = w
      const ch = await openOnChain(w)
      const d = domainOf(w, w.adj)
      await assert.rejects(a.client.close(sign(d, ch.state(3n, [8n * ETH, 7n * ETH]), a.signer, b.signer)), revertsOn('state.isFinal'))
      const fin = sign(d, ch.state(3n, [8n * ETH, 7n * ETH], true), a.signer, b.signer)
      const ba = w.l1.balanceOf(a.address)
      const bb = w.l1.balanceOf(b.address)
      const r = await a.client.close(fin)
      assert.equal(w.l1.balanceOf(a.address), ba + 8n * ETH - r.fee)
      assert.equal(w.l1.balanceOf(b.address), bb + 7n * ETH)
      assert.deepEqual(r.events[0]?.data, { channelId: ch.channelId, version: 3n, balances: [8n * ETH, 7n * ETH], locked: 0n, slashed: -1 })
      assert.equal((await a.client.info(ch.channelId))?.phase, 'closed')
      await assert.rejects(b.client.close(fin), revertsOn('state.channelId'))
    })

    test('register → challenge (newer) → finalize after the window; the deadline is not extended', async () => {
      const w = await backend.world()
      const { a, b } = w
      const ch = await openOnChain(w, { window: 10 })
      const d = domainOf(w, w.adj)
      const s2 = sign(d, ch.state(2n, [12n * ETH, 3n * ETH]), a.signer, b.signer)
      const s5 = sign(d, ch.state(5n, [9n * ETH, 6n * ETH]), a.signer, b.signer)
      const s6 = sign(d, ch.state(6n, [7n * ETH, 8n * ETH]), a.signer, b.signer)
      const reg = await a.client.register(s2)
      const deadline = reg.height + 10
      assert.deepEqual(reg.events[0]?.data, { channelId: ch.channelId, version: 2n, deadline, by: a.address })
      await w.chain.mine(4)
      const c1 = await b.client.challenge(s5)
      assert.equal(c1.events[0]?.data.deadline, deadline, 'refuting does not extend the window')
      await assert.rejects(a.client.challenge(s5), revertsOn('state.version'))
      await assert.rejects(a.client.challenge(s2), revertsOn('state.version'))
      await b.client.challenge(s6)
      const info = (await a.client.info(ch.channelId)) as ChannelInfo
      assert.deepEqual(info.dispute, { version: 6n, deadline, balances: [7n * ETH, 8n * ETH], locked: [], by: 1, cheaters: 0 })
      await assert.rejects(a.client.finalize(ch.channelId), revertsOn('channelId'))
      await w.chain.advanceTo(deadline - 1)
      await assert.rejects(a.client.finalize(ch.channelId), revertsOn('channelId'))
      await w.chain.advanceTo(deadline)
      await assert.rejects(b.client.challenge(sign(d, ch.state(7n, [1n * ETH, 14n * ETH]), a.signer, b.signer)), revertsOn('state'))
      const ba = w.l1.balanceOf(a.address)
      const bb = w.l1.balanceOf(b.address)
      const fr = await b.client.finalize(ch.channelId)
      assert.equal(w.l1.balanceOf(a.address), ba + 7n * ETH)
      assert.equal(w.l1.balanceOf(b.address), bb + 8n * ETH - fr.fee)
      assert.equal(w.l1.balanceOf(w.adj.address), 0n)
      assert.equal((await a.client.info(ch.channelId))?.dispute, undefined)
    })

    test('penalty: slash a registrant superseded by ≥ 2 versions; a gap of one is not punished; none lets the newest win', async () => {
      const w = await backend.world()
      const { a, b } = w
      const d = domainOf(w, w.adj)
      const slash = await openOnChain(w, { penalty: 'slash', window: 5, nonce: 1n })
      await a.client.register(sign(d, slash.state(1n, [12n * ETH, 3n * ETH]), a.signer, b.signer))
      await b.client.challenge(sign(d, slash.state(3n, [9n * ETH, 6n * ETH]), a.signer, b.signer))
      const gap1 = await openOnChain(w, { penalty: 'slash', window: 5, nonce: 2n })
      await a.client.register(sign(d, gap1.state(4n, [12n * ETH, 3n * ETH]), a.signer, b.signer))
      await b.client.challenge(sign(d, gap1.state(5n, [11n * ETH, 4n * ETH]), a.signer, b.signer))
      const none = await openOnChain(w, { penalty: 'none', window: 5, nonce: 3n })
      await a.client.register(sign(d, none.state(1n, [12n * ETH, 3n * ETH]), a.signer, b.signer))
      await b.client.challenge(sign(d, none.state(9n, [9n * ETH, 6n * ETH]), a.signer, b.signer))
      await w.chain.mine(6)
      const ba = w.l1.balanceOf(a.address)
      const bb = w.l1.balanceOf(b.address)
      const f1 = await b.client.finalize(slash.channelId)
      assert.equal(w.l1.balanceOf(a.address), ba)
      assert.equal(w.l1.balanceOf(b.address), bb + 15n * ETH - f1.fee)
      assert.equal(f1.events.find((e) => e.name === 'Concluded')?.data.slashed, 0)
      const f2 = await b.client.finalize(gap1.channelId)
      assert.equal(f2.events[0]?.data.slashed, -1)
      assert.equal(w.l1.balanceOf(a.address), ba + 11n * ETH)
      await b.client.finalize(none.channelId)
      assert.equal(w.l1.balanceOf(a.address), ba + 20n * ETH)
    })

    test('locked amounts are kept apart on close and refunded to the payer at expiry', async () => {
      const w = await backend.world()
      const { a, b } = w
      const ch = await openOnChain(w, { window: 3 })
      const lockId = new Uint8Array(32).fill(7)
      const lock: LockedEntry = { id: lockId, amount: 2n * ETH, direction: 0, hash: new Uint8Array(32).fill(1), expiry: 100n }
      const d = domainOf(w, w.adj)
      const dup = ch.state(2n, [6n * ETH, 5n * ETH], false, [lock, lock])
      await assert.rejects(a.client.register(sign(d, dup, a.signer, b.signer)), revertsOn('state.locked'))
      const zero = ch.state(2n, [8n * ETH, 5n * ETH], false, [{ ...lock, amount: 0n }])
      await assert.rejects(a.client.register(sign(d, { ...zero, balances: [10n * ETH, 5n * ETH] }, a.signer, b.signer)), revertsOn('state.locked'))
      await a.client.register(sign(d, ch.state(2n, [8n * ETH, 5n * ETH], false, [lock]), a.signer, b.signer))
      assert.deepEqual((await a.client.info(ch.channelId))?.dispute?.locked, [lock])
      await w.chain.mine(4)
      const fin = await a.client.finalize(ch.channelId)
      assert.equal(fin.events[0]?.data.locked, 2n * ETH)
      assert.equal(w.l1.balanceOf(w.adj.address), 2n * ETH, 'locked stays in the contract')
      const stored = await w.l1.read(w.adj.address, 'locked', [ch.channelId, lockId])
      assert.deepEqual(stored, { ...lock, channelId: ch.channelId, parties: [a.address, b.address] })
      await assert.rejects(b.client.resolveLocked(ch.channelId, lockId), revertsOn('witness'))
      await assert.rejects(b.client.resolveLocked(ch.channelId, lockId, new Uint8Array([1])), revertsOn('witness'))
      await w.chain.advanceTo(100)
      const ba = w.l1.balanceOf(a.address)
      const r = await b.client.resolveLocked(ch.channelId, lockId)
      assert.deepEqual(r.events[0]?.data, { channelId: ch.channelId, lockId, to: a.address, amount: 2n * ETH })
      assert.equal(w.l1.balanceOf(a.address), ba + 2n * ETH)
      assert.equal(w.l1.balanceOf(w.adj.address), 0n)
      await assert.rejects(b.client.resolveLocked(ch.channelId, lockId), revertsOn('lockId'))
    })

    test('HTLC: the receiver claims with the preimage before expiry (recorded on L1); after expiry only the refund', async () => {
      const w = await backend.world()
      const { a, b } = w
      const ch = await openOnChain(w, { window: 3, htlc: true })
      const preimage = new Uint8Array(32).fill(9)
      const mk = (n: number, expiry: bigint): LockedEntry => ({ id: new Uint8Array(32).fill(n), amount: ETH, direction: 0, hash: sha256(preimage), expiry })
      const head = w.l1.head().height
      const early = mk(1, BigInt(head + 50))
      const late = mk(2, BigInt(head + 8))
      const d = domainOf(w, w.htlcAdj)
      await a.htlc.close(sign(d, ch.state(3n, [8n * ETH, 5n * ETH], true, [early, late]), a.signer, b.signer))
      await assert.rejects(b.htlc.resolveLocked(ch.channelId, early.id, new Uint8Array(32).fill(8)), revertsOn('witness'))
      const bb = w.l1.balanceOf(b.address)
      const claim = await b.htlc.resolveLocked(ch.channelId, early.id, preimage)
      assert.equal(w.l1.balanceOf(b.address), bb + ETH - claim.fee)
      const revealed = claim.events.find((e) => e.name === 'PreimageRevealed')
      assert.deepEqual(revealed?.data, { hash: sha256(preimage), preimage, channelId: ch.channelId })
      assert.deepEqual(await w.l1.read(w.htlcAdj.address, 'preimage', [sha256(preimage)]), { preimage, height: claim.height })
      await w.chain.advanceTo(head + 8)
      await assert.rejects(b.htlc.resolveLocked(ch.channelId, late.id, preimage), revertsOn('witness'))
      const ba = w.l1.balanceOf(a.address)
      await b.htlc.resolveLocked(ch.channelId, late.id)
      assert.equal(w.l1.balanceOf(a.address), ba + ETH)
      assert.equal(w.l1.balanceOf(w.htlcAdj.address), 0n)
    })

    test('signature attacks (ATTACKS 5): high-s, other chain/contract/channel/version, swapped or wrong signers; nothing changes', async () => {
      const w = await backend.world()
      const { a, b, m } = w
      const ch = await openOnChain(w)
      const other = await openOnChain(w, { nonce: 2n })
      const d = domainOf(w, w.adj)
      const st = ch.state(1n, [9n * ETH, 6n * ETH])
      const good = sign(d, st, a.signer, b.signer)
      const cases: [string, SignedState, string][] = [
        ['high-s A', { ...good, sigs: [toHighS(good.sigs[0]), good.sigs[1]] }, 'sigA'],
        ['high-s B', { ...good, sigs: [good.sigs[0], toHighS(good.sigs[1])] }, 'sigB'],
        ['other chain', sign({ ...d, chainId: 1n }, st, a.signer, b.signer), 'sigA'],
        ['other contract', sign({ ...d, adjudicator: m.address }, st, a.signer, b.signer), 'sigA'],
        ['other channel', { ...sign(d, { ...st, channelId: other.channelId }, a.signer, b.signer), state: st }, 'sigA'],
        ['other version', { ...sign(d, { ...st, version: 2n }, a.signer, b.signer), state: st }, 'sigA'],
        ['swapped signers', { ...good, sigs: [good.sigs[1], good.sigs[0]] }, 'sigA'],
        ['wrong party', sign(d, st, a.signer, m.signer), 'sigB'],
      ]
      for (const [name, signed, field] of cases) {
        const before = { a: w.l1.balanceOf(a.address), adj: w.l1.balanceOf(w.adj.address), events: w.l1.events({}).length }
        const r = await a.wallet.call(w.adj, { type: 'register', state: signed.state, sigA: signed.sigs[0], sigB: signed.sigs[1] }, { gasLimit: 400_000n })
        reverted(r, field)
        assert.equal(w.l1.balanceOf(a.address), before.a - r.fee, name)
        assert.equal(w.l1.balanceOf(w.adj.address), before.adj, name)
        assert.equal(w.l1.events({}).length, before.events, name)
        assert.equal((await a.client.info(ch.channelId))?.phase, 'open', name)
      }
      await a.client.register(good)
    })

    test('a third party may challenge with a state signed by both, but not register; unknown channels are refused', async () => {
      const w = await backend.world()
      const { a, b, tower } = w
      const ch = await openOnChain(w)
      const d = domainOf(w, w.adj)
      const s1 = sign(d, ch.state(1n, [9n * ETH, 6n * ETH]), a.signer, b.signer)
      await assert.rejects(tower.client.register(s1), revertsOn('sender'))
      await a.client.register(s1)
      await tower.client.challenge(sign(d, ch.state(2n, [8n * ETH, 7n * ETH]), a.signer, b.signer))
      const info = (await a.client.info(ch.channelId)) as ChannelInfo
      assert.equal(info.dispute?.version, 2n)
      assert.equal(info.dispute?.by, -1)
      await assert.rejects(a.client.finalize(new Uint8Array(32)), revertsOn('channelId'))
      assert.equal(await a.client.info(new Uint8Array(32)), undefined)
    })
  })
}
