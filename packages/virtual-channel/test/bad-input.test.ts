/**
 * Bad input: a virtual open or close proposal that does not conserve, locks
 * more than a ledger balance, or comes from a non-party is refused with a
 * typed error naming the field — and nothing is signed or saved.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { type Amount, type L2Error, MAX_AMOUNT } from '@l2bench/core'
import type { ChannelState, LockedEntry, SignedState } from '@l2bench/payment-channel'
import { type VirtualMessage, type VirtualParams, encodeVirtualMessage, initialDigest, lockFor, withLock } from '../src/index.ts'
import { ETH, type Party, type Trio, activeVirtual, connect, countSigns, makeNode, memoryStores, openVirtual, params, sign, trio, until } from './fixtures.ts'

const bytes = (id: `0x${string}`) => new Uint8Array(Buffer.from(id.slice(2), 'hex'))

function paramsFor(t: Trio, deposits: readonly [Amount, Amount], extra: Partial<VirtualParams> = {}): VirtualParams {
  return params(t.w, t.alice, t.bob, t.ingrid, bytes(t.ledgerA), bytes(t.ledgerB), deposits, { validity: BigInt(t.w.l1.head().height + 500), ...extra })
}

/** What a node wrote and signed while `run` ran: nothing, for a refusal. */
async function nothingDone(t: Trio, who: 'alice' | 'bob' | 'ingrid', run: () => Promise<void> | void): Promise<void> {
  const party = t[who] as Party
  const signs = countSigns(party.signer)
  const stores = t.stores[who] as unknown as { channel: { saves: number }; virtual: { saves: number } }
  const saves = [stores.channel.saves, stores.virtual.saves]
  await run()
  assert.equal(signs.count, 0, `${who} signed nothing`)
  assert.deepEqual([stores.channel.saves, stores.virtual.saves], saves, `${who} saved nothing`)
}

/** Sends `msg` as `from` on its authenticated coordination link to `to`, and waits for `to` to record a new error. */
async function refusedBy(t: Trio, from: 'alice' | 'bob', to: 'bob' | 'ingrid', msg: VirtualMessage): Promise<L2Error> {
  const node = t.nodes[to]
  const n = node.errors.length
  t.nodes[from].virtualLinkTo(t[to].address)?.send(encodeVirtualMessage(msg))
  await until(() => node.errors.length > n)
  return node.errors[node.errors.length - 1] as L2Error
}

const v0sigs = (t: Trio, p: VirtualParams) => {
  const d = initialDigest(p)
  return { sigA: t.alice.signer.sign(d), sigB: t.bob.signer.sign(d) }
}

describe('bad open proposals', () => {
  test('Alice’s own open: a share above her ledger balance, an unknown ledger, Bob = Ingrid — typed errors, nothing signed or saved', async () => {
    const t = await trio()
    await nothingDone(t, 'alice', async () => {
      await assert.rejects(openVirtual(t, 11n * ETH), (e: L2Error) => e.code === 'INSUFFICIENT_BALANCE' && e.field === 'deposit')
      await assert.rejects(
        t.nodes.alice.openVirtual({ peer: t.bob.address, peerPublicKey: t.bob.signer.publicKey, ingrid: t.ingrid.address, ledger: t.ledgerB, peerLedger: t.ledgerA, deposit: 1n }),
        (e: L2Error) => e.code === 'UNKNOWN_LEDGER' && e.field === 'ledger',
      )
      await assert.rejects(
        t.nodes.alice.openVirtual({ peer: t.ingrid.address, peerPublicKey: t.ingrid.signer.publicKey, ingrid: t.ingrid.address, ledger: t.ledgerA, peerLedger: t.ledgerB, deposit: 1n }),
        (e: L2Error) => e.field === 'params.bob',
      )
      await assert.rejects(openVirtual(t, 0n, 0n), (e: L2Error) => e.code === 'CONSERVATION' && e.field === 'params.deposits')
    })
  })

  test('Bob refuses a proposal that locks more than his ledger balance, or does not come from its Alice; Alice hears the field', async () => {
    const t = await trio()
    // A third node (Mallory) connected to Bob (the link handshakes are signed: before counting).
    const mallory = t.w.party('mallory')
    const mnode = makeNode(t.w, mallory, memoryStores())
    connect(mnode, t.nodes.bob)
    await mnode.whenConnected(t.bob.address)
    await nothingDone(t, 'bob', async () => {
      await assert.rejects(openVirtual(t, ETH, 11n * ETH), (e: L2Error) => e.code === 'REFUSED' && e.field === 'params.deposits[1]')
      assert.equal(t.nodes.bob.errors.at(-1)?.code, 'INSUFFICIENT_BALANCE')
      // Mallory proposes a channel whose Alice is Alice.
      const p = paramsFor(t, [ETH, 0n])
      const n = t.nodes.bob.errors.length
      mnode.virtualLinkTo(t.bob.address)?.send(encodeVirtualMessage({ type: 'propose', params: p, sig: mallory.signer.sign(initialDigest(p)) }))
      await until(() => t.nodes.bob.errors.length > n)
      const e = t.nodes.bob.errors.at(-1) as L2Error
      assert.equal(e.code, 'NOT_PARTY')
      assert.equal(e.field, 'params.alice')
      // From Alice, but signed by someone else.
      const bad = await refusedBy(t, 'alice', 'bob', { type: 'propose', params: p, sig: mallory.signer.sign(initialDigest(p)) })
      assert.equal(bad.name, 'SignatureError')
      assert.equal(bad.field, 'sig')
    })
    mnode.stop()
    assert.equal(t.nodes.bob.virtualIds().length, 0)
  })

  test('Ingrid refuses a fund request that does not conserve, locks more than a ledger balance, or comes from a non-party', async () => {
    const t = await trio()
    const mallory = t.w.party('mallory')
    const mnode = makeNode(t.w, mallory, memoryStores())
    connect(mnode, t.nodes.ingrid)
    await mnode.whenConnected(t.ingrid.address)
    await nothingDone(t, 'ingrid', async () => {
      // Shares above Ingrid's balances (10 ETH in each ledger): x_B from her ledger A, x_A from her ledger B.
      for (const [deposits, field] of [
        [[ETH, 11n * ETH], 'params.deposits[1]'],
        [[11n * ETH, 0n], 'params.deposits[0]'],
      ] as const) {
        const p = paramsFor(t, deposits)
        const e = await refusedBy(t, 'alice', 'ingrid', { type: 'fund', params: p, ...v0sigs(t, p) })
        assert.equal(e.code, 'INSUFFICIENT_BALANCE')
        assert.equal(e.field, field)
      }
      // Nothing to conserve, or more than an amount can hold.
      const zero = paramsFor(t, [0n, 0n])
      assert.deepEqual(pick(await refusedBy(t, 'alice', 'ingrid', { type: 'fund', params: zero, ...v0sigs(t, zero) })), ['CONSERVATION', 'params.deposits'])
      const huge = paramsFor(t, [MAX_AMOUNT, 1n])
      assert.deepEqual(pick(await refusedBy(t, 'alice', 'ingrid', { type: 'fund', params: huge, ...v0sigs(t, huge) })), ['AMOUNT', 'params.deposits'])
      // A non-party (Mallory) asks Ingrid to fund Alice and Bob's channel.
      const p = paramsFor(t, [ETH, 0n])
      const n = t.nodes.ingrid.errors.length
      mnode.virtualLinkTo(t.ingrid.address)?.send(encodeVirtualMessage({ type: 'fund', params: p, ...v0sigs(t, p) }))
      await until(() => t.nodes.ingrid.errors.length > n)
      assert.deepEqual(pick(t.nodes.ingrid.errors.at(-1) as L2Error), ['NOT_PARTY', 'sender'])
      // Bob never agreed: his signature is missing (someone else's in its place).
      const e = await refusedBy(t, 'alice', 'ingrid', { type: 'fund', params: p, sigA: v0sigs(t, p).sigA, sigB: mallory.signer.sign(initialDigest(p)) })
      assert.deepEqual([e.name, e.field], ['SignatureError', 'sigB'])
    })
    mnode.stop()
    assert.equal(t.nodes.ingrid.virtualIds().length, 0)
    assert.equal(t.nodes.ingrid.channel.status(t.ledgerA).version, 0n)
  })

  test('a malicious Ingrid’s lock proposals that are not the agreed lock are refused by Alice’s policy, naming the field, unsigned', async () => {
    // Ingrid lends nothing, so she refuses the fund; then she proposes locks on ledger A herself.
    const t = await trio({ node: { limits: { maxShare: MAX_AMOUNT, maxCollateral: 0n } } })
    await assert.rejects(openVirtual(t, 3n * ETH, ETH), (e: L2Error) => e.code === 'REFUSED' && e.field === 'params.deposits')
    const vid = t.nodes.alice.virtualIds()[0] as `0x${string}`
    const r = t.nodes.alice.records.require(vid)
    assert.equal(r.status, 'funding')
    const good = lockFor(r.params, 'a', [t.alice.address, t.ingrid.address])
    const cases: [string, (s: ChannelState) => ChannelState, 'POLICY', string][] = [
      ['a lock that expires (at expiry the whole lock would go to its direction)', (s) => lock(s, r.params, { ...good, expiry: 100n }), 'POLICY', 'state.locked[0]'],
      ['the other direction', (s) => lock(s, r.params, { ...good, direction: 1 }), 'POLICY', 'state.locked[0]'],
      ['a lock smaller than the virtual deposits', (s) => lock(s, r.params, { ...good, amount: good.amount - 1n }, [3n * ETH, ETH - 1n]), 'POLICY', 'state.locked[0]'],
      ['more taken from Alice than her share', (s) => ({ ...withLock(s, r.params, good), balances: [s.balances[0] - 3n * ETH - 1n, s.balances[1] - ETH + 1n] }), 'POLICY', 'state.balances[0]'],
      ['an unknown virtual channel', (s) => lock(s, r.params, { ...good, id: new Uint8Array(32).fill(7) }), 'POLICY', 'state.locked[0].id'],
    ]
    await nothingDone(t, 'alice', async () => {
      for (const [what, build, code, field] of cases) {
        const n = t.nodes.alice.channel.errors.length
        await assert.rejects(t.nodes.ingrid.channel.update(t.ledgerA, build), (e: L2Error) => e.code === 'REJECTED', what)
        const e = t.nodes.alice.channel.errors.slice(n).find((x) => x.code === code) as L2Error
        assert.equal(e?.field, field, what)
      }
      // A ledger state that does not conserve never leaves the proposer (its own check).
      await assert.rejects(t.nodes.ingrid.channel.update(t.ledgerA, (s) => lock(s, r.params, good, [3n * ETH, ETH - 1n])), (e: L2Error) => e.code === 'CONSERVATION' && e.field === 'state.balances')
    })
    assert.equal(t.nodes.alice.channel.status(t.ledgerA).locked.length, 0)
  })
})

describe('bad close proposals', () => {
  test('Ingrid refuses a settle that does not conserve, is not final, is badly signed, or comes from a non-party: nothing signed, saved or unlocked', async () => {
    const t = await trio()
    const vid = await activeVirtual(t, 3n * ETH, ETH)
    await t.nodes.alice.pay({ channelId: vid, amount: ETH })
    const id = bytes(vid)
    const mk = (version: bigint, balances: readonly [bigint, bigint], isFinal = true): SignedState =>
      sign(t.w.domain, { channelId: id, version, balances, locked: [], isFinal }, t.alice.signer, t.bob.signer)
    const settle = (s: SignedState): VirtualMessage => ({ type: 'settle', state: s.state, sigA: s.sigs[0], sigB: s.sigs[1] })
    const versions = () => [t.nodes.ingrid.channel.status(t.ledgerA).version, t.nodes.ingrid.channel.status(t.ledgerB).version]
    const before = versions()
    const mallory = t.w.party('mallory')
    const mnode = makeNode(t.w, mallory, memoryStores())
    connect(mnode, t.nodes.ingrid)
    await mnode.whenConnected(t.ingrid.address)
    await nothingDone(t, 'ingrid', async () => {
      assert.deepEqual(pick(await refusedBy(t, 'alice', 'ingrid', settle(mk(5n, [3n * ETH, 2n * ETH])))), ['CONSERVATION', 'state.balances'])
      assert.deepEqual(pick(await refusedBy(t, 'alice', 'ingrid', settle(mk(5n, [2n * ETH, 2n * ETH], false)))), ['MISMATCH', 'state.isFinal'])
      const forged = mk(5n, [2n * ETH, 2n * ETH])
      const e = await refusedBy(t, 'bob', 'ingrid', { ...settle(forged), sigB: t.alice.signer.sign(forged.digest) } as VirtualMessage)
      assert.deepEqual([e.name, e.field], ['SignatureError', 'sigB'])
      assert.deepEqual(pick(await refusedBy(t, 'alice', 'ingrid', settle(sign(t.w.domain, { channelId: new Uint8Array(32).fill(3), version: 5n, balances: [2n * ETH, 2n * ETH], locked: [], isFinal: true }, t.alice.signer, t.bob.signer)))), [
        'UNKNOWN_VIRTUAL',
        'state.channelId',
      ])
      const n = t.nodes.ingrid.errors.length
      mnode.virtualLinkTo(t.ingrid.address)?.send(encodeVirtualMessage(settle(mk(5n, [2n * ETH, 2n * ETH]))))
      await until(() => t.nodes.ingrid.errors.length > n)
      assert.deepEqual(pick(t.nodes.ingrid.errors.at(-1) as L2Error), ['NOT_PARTY', 'sender'])
    })
    mnode.stop()
    assert.deepEqual(versions(), before)
    assert.equal(t.nodes.ingrid.records.require(vid).status, 'active')
    // And the honest close still works afterwards.
    await t.nodes.alice.closeVirtual({ channelId: vid })
    await until(() => t.nodes.ingrid.records.require(vid).status === 'closed')
  })
})

function pick(e: L2Error): [string, string | undefined] {
  return [e.code, e.field]
}

/** A ledger state with `entry` locked, taking `taken` (default the deposits) from [Alice's side, Bob's side]. */
function lock(s: ChannelState, p: VirtualParams, entry: LockedEntry, taken: readonly [Amount, Amount] = p.deposits): ChannelState {
  const b: [Amount, Amount] = [s.balances[0], s.balances[1]]
  b[0] -= taken[0]
  b[1] -= taken[1]
  return { channelId: s.channelId, version: s.version + 1n, balances: b, locked: [...s.locked, entry], isFinal: false }
}
