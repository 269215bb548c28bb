/** Adjudicator contract: funding, top-up, cooperative close, register/challenge/finalize, penalty, reverts. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { toHighS } from '@l2bench/core'
import type { RevertError } from '@l2bench/l1-mock'
import type { ChannelInfo } from '../src/index.ts'
import { ETH, makeWorld, openOnChain, sign } from './fixtures.ts'

function conserved(w: ReturnType<typeof makeWorld>) {
  assert.equal(w.l1.totalBalances() + w.l1.totalBurnt(), w.l1.totalMinted())
}

describe('adjudicator: funding', () => {
  test('open + confirm funds the channel; B must pay exactly the declared deposit', async () => {
    const w = makeWorld()
    const a = w.party('a')
    const b = w.party('b')
    const r = await a.client.open({
      b: b.address,
      pkA: a.signer.publicKey,
      pkB: b.signer.publicKey,
      nonce: 7n,
      depositA: 3n * ETH,
      depositB: 2n * ETH,
      disputeWindow: 10,
      fundingTimeout: 5,
      penalty: 'none',
    })
    const id = new Uint8Array(Buffer.from((r.result as string).slice(2), 'hex'))
    assert.equal((await a.client.info(id))?.phase, 'funding')
    await assert.rejects(b.client.confirm(id, 1n * ETH), (e: RevertError) => e.field === 'value')
    await assert.rejects(a.client.confirm(id, 2n * ETH), (e: RevertError) => e.field === 'sender')
    await b.client.confirm(id, 2n * ETH)
    const info = (await a.client.info(id)) as ChannelInfo
    assert.equal(info.phase, 'open')
    assert.deepEqual(info.deposits, [3n * ETH, 2n * ETH])
    assert.equal(w.l1.balanceOf(w.adj.address), 5n * ETH)
    conserved(w)
  })

  test('open rejects a public key that is not the party’s, and a duplicate channel', async () => {
    const w = makeWorld()
    const a = w.party('a')
    const b = w.party('b')
    const c = w.party('c')
    const base = { b: b.address, nonce: 1n, depositA: ETH, depositB: 0n, disputeWindow: 5, fundingTimeout: 5, penalty: 'none' as const }
    await assert.rejects(a.client.open({ ...base, pkA: c.signer.publicKey, pkB: b.signer.publicKey }), (e: RevertError) => e.field === 'pkA')
    await assert.rejects(a.client.open({ ...base, pkA: a.signer.publicKey, pkB: c.signer.publicKey }), (e: RevertError) => e.field === 'pkB')
    await a.client.open({ ...base, pkA: a.signer.publicKey, pkB: b.signer.publicKey })
    await assert.rejects(a.client.open({ ...base, pkA: a.signer.publicKey, pkB: b.signer.publicKey }), (e: RevertError) => e.field === 'nonce')
    conserved(w)
  })

  test('A refunds only after the funding timeout when B never confirms', async () => {
    const w = makeWorld()
    const a = w.party('a')
    const b = w.party('b')
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
    const id = new Uint8Array(Buffer.from((r.result as string).slice(2), 'hex'))
    await assert.rejects(a.client.refund(id), /funding timeout runs until/)
    w.l1.mine(3)
    await assert.rejects(b.client.confirm(id, ETH), /funding timeout passed/)
    const before = w.l1.balanceOf(a.address)
    const rr = await a.client.refund(id)
    assert.equal(w.l1.balanceOf(a.address), before + 4n * ETH - rr.fee)
    assert.equal((await a.client.info(id))?.phase, 'closed')
    assert.equal(w.l1.balanceOf(w.adj.address), 0n)
    conserved(w)
  })

  test('top-up adds to the party’s deposit with a state signed by both that holds the new total; only parties may top up', async () => {
    const w = makeWorld()
    const a = w.party('a')
    const b = w.party('b')
    const c = w.party('c')
    const ch = await openOnChain(w, a, b)
    const topped = sign(w.domain, ch.state(1n, [10n * ETH, 7n * ETH]), a.signer, b.signer)
    await assert.rejects(b.client.topUp(topped, ETH), (e: RevertError) => e.field === 'state.balances', 'value must make Σ state = deposits')
    await assert.rejects(b.client.topUp({ ...topped, sigs: [topped.sigs[0], topped.sigs[0]] }, 2n * ETH), (e: RevertError) => e.field === 'sigB')
    await b.client.topUp(topped, 2n * ETH)
    assert.deepEqual((await a.client.info(ch.channelId))?.deposits, [10n * ETH, 7n * ETH])
    await assert.rejects(c.client.topUp(sign(w.domain, ch.state(2n, [11n * ETH, 7n * ETH]), a.signer, b.signer), ETH), (e: RevertError) => e.field === 'sender')
    // The old split (sum 15) no longer matches the deposits (17): conservation holds on L1.
    const old = sign(w.domain, ch.state(1n, [10n * ETH, 5n * ETH]), a.signer, b.signer)
    await assert.rejects(a.client.register(old), (e: RevertError) => e.field === 'state.balances')
    await a.client.register(topped)
    conserved(w)
  })
})

describe('adjudicator: closing', () => {
  test('cooperative close pays out at once and needs isFinal', async () => {
    const w = makeWorld()
    const a = w.party('a')
    const b = w.party('b')
    const ch = await openOnChain(w, a, b)
    const notFinal = sign(w.domain, ch.state(3n, [8n * ETH, 7n * ETH]), a.signer, b.signer)
    await assert.rejects(a.client.close(notFinal), (e: RevertError) => e.field === 'state.isFinal')
    const fin = sign(w.domain, ch.state(3n, [8n * ETH, 7n * ETH], true), a.signer, b.signer)
    const ba = w.l1.balanceOf(a.address)
    const bb = w.l1.balanceOf(b.address)
    const r = await a.client.close(fin)
    assert.equal(w.l1.balanceOf(a.address), ba + 8n * ETH - r.fee)
    assert.equal(w.l1.balanceOf(b.address), bb + 7n * ETH)
    assert.equal((await a.client.info(ch.channelId))?.phase, 'closed')
    await assert.rejects(b.client.close(fin), /closed/)
    conserved(w)
  })

  test('register → challenge (newer) → finalize after the window; deadline not extended', async () => {
    const w = makeWorld()
    const a = w.party('a')
    const b = w.party('b')
    const ch = await openOnChain(w, a, b, { window: 10 })
    const s2 = sign(w.domain, ch.state(2n, [12n * ETH, 3n * ETH]), a.signer, b.signer)
    const s5 = sign(w.domain, ch.state(5n, [9n * ETH, 6n * ETH]), a.signer, b.signer)
    const s6 = sign(w.domain, ch.state(6n, [7n * ETH, 8n * ETH]), a.signer, b.signer)
    const reg = await a.client.register(s2)
    const deadline = reg.height + 10
    assert.equal(reg.events[0]?.data.deadline, deadline)
    w.l1.mine(4)
    const c1 = await b.client.challenge(s5)
    assert.equal(c1.events[0]?.data.deadline, deadline, 'refuting does not extend the window')
    await assert.rejects(a.client.challenge(s5), (e: RevertError) => e.field === 'state.version')
    await assert.rejects(a.client.challenge(s2), (e: RevertError) => e.field === 'state.version')
    const c2 = await b.client.challenge(s6)
    assert.equal(c2.events[0]?.data.deadline, deadline)
    await assert.rejects(a.client.finalize(ch.channelId), /dispute window open/)
    // A transaction runs in the next block: at head deadline-1 it executes at height = deadline (window still open).
    w.l1.advanceTo(deadline - 1)
    await assert.rejects(a.client.finalize(ch.channelId), /dispute window open/)
    w.l1.advanceTo(deadline)
    const s7 = sign(w.domain, ch.state(7n, [1n * ETH, 14n * ETH]), a.signer, b.signer)
    await assert.rejects(b.client.challenge(s7), /dispute window closed/)
    const ba = w.l1.balanceOf(a.address)
    const bb = w.l1.balanceOf(b.address)
    const fr = await b.client.finalize(ch.channelId)
    assert.equal(w.l1.balanceOf(a.address), ba + 7n * ETH)
    assert.equal(w.l1.balanceOf(b.address), bb + 8n * ETH - fr.fee)
    assert.equal(w.l1.balanceOf(w.adj.address), 0n)
    conserved(w)
  })

  test('slash: the party whose registered state is superseded by ≥ 2 versions loses its balance', async () => {
    const w = makeWorld()
    const a = w.party('a')
    const b = w.party('b')
    const ch = await openOnChain(w, a, b, { penalty: 'slash', window: 5 })
    const s1 = sign(w.domain, ch.state(1n, [12n * ETH, 3n * ETH]), a.signer, b.signer)
    const s3 = sign(w.domain, ch.state(3n, [9n * ETH, 6n * ETH]), a.signer, b.signer)
    await a.client.register(s1)
    await b.client.challenge(s3)
    w.l1.mine(6)
    const ba = w.l1.balanceOf(a.address)
    const bb = w.l1.balanceOf(b.address)
    const fr = await b.client.finalize(ch.channelId)
    assert.equal(w.l1.balanceOf(a.address), ba)
    assert.equal(w.l1.balanceOf(b.address), bb + 15n * ETH - fr.fee)
    assert.equal(fr.events.find((e) => e.name === 'Concluded')?.data.slashed, 0)
    conserved(w)
  })

  test('slash: a gap of one version (silent counterparty mid-update) is not punished', async () => {
    const w = makeWorld()
    const a = w.party('a')
    const b = w.party('b')
    const ch = await openOnChain(w, a, b, { penalty: 'slash', window: 5 })
    const s4 = sign(w.domain, ch.state(4n, [12n * ETH, 3n * ETH]), a.signer, b.signer)
    const s5 = sign(w.domain, ch.state(5n, [11n * ETH, 4n * ETH]), a.signer, b.signer)
    await a.client.register(s4)
    await b.client.challenge(s5)
    w.l1.mine(6)
    const ba = w.l1.balanceOf(a.address)
    await b.client.finalize(ch.channelId)
    assert.equal(w.l1.balanceOf(a.address), ba + 11n * ETH)
    conserved(w)
  })

  test('none: the newest version simply wins', async () => {
    const w = makeWorld()
    const a = w.party('a')
    const b = w.party('b')
    const ch = await openOnChain(w, a, b, { penalty: 'none', window: 5 })
    await a.client.register(sign(w.domain, ch.state(1n, [12n * ETH, 3n * ETH]), a.signer, b.signer))
    await b.client.challenge(sign(w.domain, ch.state(9n, [9n * ETH, 6n * ETH]), a.signer, b.signer))
    w.l1.mine(6)
    const ba = w.l1.balanceOf(a.address)
    await b.client.finalize(ch.channelId)
    assert.equal(w.l1.balanceOf(a.address), ba + 9n * ETH)
    conserved(w)
  })

  test('locked amounts are kept apart on close and refunded to the payer at expiry', async () => {
    const w = makeWorld()
    const a = w.party('a')
    const b = w.party('b')
    const ch = await openOnChain(w, a, b, { window: 3 })
    const lockId = new Uint8Array(32).fill(7)
    const state = {
      ...ch.state(2n, [8n * ETH, 5n * ETH]),
      locked: [{ id: lockId, amount: 2n * ETH, direction: 0 as const, hash: new Uint8Array(32).fill(1), expiry: 100n }],
    }
    await a.client.register(sign(w.domain, state, a.signer, b.signer))
    w.l1.mine(4)
    await a.client.finalize(ch.channelId)
    assert.equal(w.l1.balanceOf(w.adj.address), 2n * ETH, 'locked stays in the contract')
    await assert.rejects(b.client.resolveLocked(ch.channelId, lockId), (e: RevertError) => e.field === 'witness')
    await assert.rejects(b.client.resolveLocked(ch.channelId, lockId, new Uint8Array([1])), /witness does not release/)
    w.l1.advanceTo(100)
    const ba = w.l1.balanceOf(a.address)
    await b.client.resolveLocked(ch.channelId, lockId)
    assert.equal(w.l1.balanceOf(a.address), ba + 2n * ETH)
    assert.equal(w.l1.balanceOf(w.adj.address), 0n)
    await assert.rejects(b.client.resolveLocked(ch.channelId, lockId), /no such locked entry/)
    conserved(w)
  })
})

describe('adjudicator: signature checks (ATTACKS 5) and reverts', () => {
  test('high-s, other chain, other contract, other channel, other version, swapped or wrong signers are rejected', async () => {
    const w = makeWorld()
    const a = w.party('a')
    const b = w.party('b')
    const m = w.party('m')
    const ch = await openOnChain(w, a, b)
    const other = await openOnChain(w, a, b, { nonce: 2n })
    const st = ch.state(1n, [9n * ETH, 6n * ETH])
    const good = sign(w.domain, st, a.signer, b.signer)
    const cases: [string, Parameters<typeof a.client.register>[0], string][] = [
      ['high-s A', { ...good, sigs: [toHighS(good.sigs[0]), good.sigs[1]] }, 'sigA'],
      ['high-s B', { ...good, sigs: [good.sigs[0], toHighS(good.sigs[1])] }, 'sigB'],
      ['other chain', sign({ ...w.domain, chainId: 1n }, st, a.signer, b.signer), 'sigA'],
      ['other contract', sign({ ...w.domain, adjudicator: m.address }, st, a.signer, b.signer), 'sigA'],
      ['other channel', { ...sign(w.domain, { ...st, channelId: other.channelId }, a.signer, b.signer), state: st }, 'sigA'],
      ['other version', { ...sign(w.domain, { ...st, version: 2n }, a.signer, b.signer), state: st }, 'sigA'],
      ['swapped signers', { ...good, sigs: [good.sigs[1], good.sigs[0]] }, 'sigA'],
      ['wrong party', sign(w.domain, st, a.signer, m.signer), 'sigB'],
    ]
    for (const [name, signed, field] of cases) {
      const before = { a: w.l1.balanceOf(a.address), adj: w.l1.balanceOf(w.adj.address), events: w.l1.events().length }
      const r = await a.client.wallet.call(w.adj, { type: 'register', state: signed.state, sigA: signed.sigs[0], sigB: signed.sigs[1] })
      assert.equal(r.status, 'reverted', name)
      assert.equal(r.revertField, field, name)
      // A reverted call changes nothing but the fee.
      assert.equal(w.l1.balanceOf(a.address), before.a - r.fee, name)
      assert.equal(w.l1.balanceOf(w.adj.address), before.adj, name)
      assert.equal(w.l1.events().length, before.events, name)
      assert.equal(r.events.length, 0, name)
      assert.equal((await a.client.info(ch.channelId))?.phase, 'open', name)
    }
    await a.client.register(good)
    conserved(w)
  })

  test('a third party may challenge with a state signed by both, but not register', async () => {
    const w = makeWorld()
    const a = w.party('a')
    const b = w.party('b')
    const t = w.party('tower')
    const ch = await openOnChain(w, a, b)
    const s1 = sign(w.domain, ch.state(1n, [9n * ETH, 6n * ETH]), a.signer, b.signer)
    const s2 = sign(w.domain, ch.state(2n, [8n * ETH, 7n * ETH]), a.signer, b.signer)
    await assert.rejects(t.client.register(s1), (e: RevertError) => e.field === 'sender')
    await a.client.register(s1)
    await t.client.challenge(s2)
    assert.equal((await a.client.info(ch.channelId))?.dispute?.version, 2n)
  })

  test('reverted calls leave storage untouched (conservation, bad state, unknown channel)', async () => {
    const w = makeWorld()
    const a = w.party('a')
    const b = w.party('b')
    const ch = await openOnChain(w, a, b)
    const snapshot = JSON.stringify(await a.client.info(ch.channelId), (_k, v) => (typeof v === 'bigint' ? `${v}` : v))
    const overspend = sign(w.domain, ch.state(1n, [16n * ETH, 0n]), a.signer, b.signer)
    const r1 = await a.client.wallet.call(w.adj, { type: 'register', state: overspend.state, sigA: overspend.sigs[0], sigB: overspend.sigs[1] })
    assert.equal(r1.status, 'reverted')
    assert.equal(r1.revertField, 'state.balances')
    const r2 = await a.client.wallet.call(w.adj, { type: 'finalize', channelId: new Uint8Array(32) })
    assert.equal(r2.revertField, 'channelId')
    const st = sign(w.domain, ch.state(1n, [10n * ETH, 5n * ETH]), a.signer, b.signer)
    const r3 = await a.client.wallet.call(w.adj, { type: 'topUp', state: st.state, sigA: st.sigs[0], sigB: st.sigs[1] }, { value: 0n })
    assert.equal(r3.revertField, 'value')
    const after = JSON.stringify(await a.client.info(ch.channelId), (_k, v) => (typeof v === 'bigint' ? `${v}` : v))
    assert.equal(after, snapshot)
    conserved(w)
  })

  test('malformed calldata (truncated, unknown method, trailing bytes) reverts and changes nothing', async () => {
    const w = makeWorld()
    const a = w.party('a')
    const b = w.party('b')
    const ch = await openOnChain(w, a, b)
    const good = w.adj.encodeCall({ type: 'finalize', channelId: ch.channelId })
    const bad = [good.subarray(0, good.length - 1), new Uint8Array([99, ...good.subarray(1)]), new Uint8Array([...good, 0])]
    for (const data of bad) {
      const events = w.l1.events().length
      const hash = await a.wallet.sendRaw(w.adj.address, data, { gasLimit: 200_000n })
      const r = await w.l1.receipt(hash)
      assert.equal(r.status, 'reverted')
      assert.match(r.revertReason ?? '', /malformed calldata/)
      assert.equal(w.l1.events().length, events)
    }
    assert.equal((await a.client.info(ch.channelId))?.phase, 'open')
    assert.equal(w.l1.balanceOf(w.adj.address), 15n * ETH)
    conserved(w)
  })
})
