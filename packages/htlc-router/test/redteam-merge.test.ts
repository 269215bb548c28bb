/**
 * Red team of merged updates (issue 18) as the HTLC router uses them: a
 * downstream peer that refuses a hop's proposal keeps the hop's signature on
 * it and can countersign it later. Every scenario ends with each party's
 * money (channel balances + L1 funds + gas burnt) where the honest outcome
 * puts it.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, test } from 'node:test'
import { type Amount, type L2Error, sha256 } from '@l2bench/core'
import {
  type ChannelState,
  EntryError,
  type LockedEntry,
  type SecureLink,
  type WireChange,
  type WireMessage,
  decodeMessage,
  digestOf,
  encodeMessage,
} from '@l2bench/payment-channel'
import { DEFAULT_HTLC_LIMITS, HtlcNetwork, type HtlcNode, type NetworkChannelSpec, lockIdFor, drainEventLoop as settle } from '../src/index.ts'

const M = 1_000_000n

function totals(net: HtlcNetwork): Amount[] {
  return net.accounts().map((a) => a.total)
}

/**
 * Carol refuses Bob's HTLC add until his add request gives up. `honest`: she refuses only proposals that add an
 * HTLC (a policy refusal) — Bob's no-op then takes the version and he fails the HTLC upstream at once, without
 * waiting for its expiry or going on chain. Otherwise (colluding with the payer) she refuses everything, then
 * countersigns the refused state (she holds Bob's signature on it), resyncs both ends with it and settles the HTLC
 * it carries; `restartHop`: Bob restarts from his store in between.
 */
async function lateCountersign(mode: 'honest' | 'malicious' | 'malicious, hop restarted'): Promise<void> {
  const policy = { baseFee: 100n, feeRatePpm: 1000n, cltvDelta: 18 }
  const channels: NetworkChannelSpec[] = [
    { a: 0, b: 1, depositA: M, depositB: M, policyAB: policy },
    { a: 1, b: 2, depositA: M, depositB: M, policyAB: policy },
  ]
  const net = await HtlcNetwork.create({ nodes: ['alice', 'bob', 'carol'], channels, disputeWindow: 6 })
  try {
    const [, bob0, carol] = net.nodes as [HtlcNode, HtlcNode, HtlcNode]
    let bob = bob0
    const bc = net.channelIds[1] as Uint8Array
    // Carol holds the preimage back (her node does not settle by itself); she settles by hand once it pays her.
    carol.withholding = true
    const before = totals(net)
    const sum = before.reduce((s, x) => s + x, 0n)
    const bobToCarol = bob.channel.linkTo(carol.address) as SecureLink
    const carolToBob = carol.channel.linkTo(bob.address) as SecureLink
    const params = bob.channel.machine(bc).params
    const send = bobToCarol.send.bind(bobToCarol)
    let held: Extract<WireMessage, { type: 'propose' }> | undefined
    let refused = 0
    let refusing = true
    bobToCarol.send = (f) => {
      const m = decodeMessage(f)
      if (refusing && m.type === 'propose' && (mode !== 'honest' || m.state.locked.length > 0)) {
        if (m.state.locked.length > 0) held ??= m
        refused++
        const digest = digestOf(params, m.state)
        carolToBob.send(encodeMessage({ type: 'reject', channelId: bc, version: m.state.version, code: 'POLICY', digest, entry: undefined }))
        return
      }
      send(f)
    }
    const preimage = new Uint8Array(randomBytes(32))
    const route = net.findRoute(0, 2, 30_000n)
    const paid = net.payAlong(route, { preimage })
    let outcome: string | undefined
    void paid.then((o) => {
      outcome = o.status
    })
    for (let i = 0; i < 20; i++) await settle()
    assert.ok(held !== undefined && refused >= 3, `bob's add was refused (${refused} times)`)
    const proposal = held as Extract<WireMessage, { type: 'propose' }>
    const sigC = carol.channel.signer.sign(digestOf(params, proposal.state))
    const [sigA, sigB] = params.parties[0] === bob.address ? [proposal.sig, sigC] : [sigC, proposal.sig]
    const st = encodeMessage({ type: 'state', state: proposal.state, sigA, sigB })
    refusing = false
    if (mode === 'honest') {
      // No block mined: the payment failed at once, the no-op took the version, nothing went on chain.
      assert.equal(outcome, 'failed')
      assert.equal(bob.channel.status(bc).version, proposal.state.version, 'the no-op holds the version of the refused add')
      assert.equal(bob.channel.machine(bc).refused, undefined)
      assert.equal(bob.receipts.length, 0)
      // A late countersignature of the refused add is stale now.
      carolToBob.send(st)
      for (let i = 0; i < 10; i++) await settle()
      assert.deepEqual(bob.channel.status(bc).locked, [])
      assert.deepEqual(
        totals(net).map((x, i) => x - (before[i] as Amount)),
        [0n, 0n, 0n],
      )
      return
    }
    if (mode === 'malicious, hop restarted') {
      bob = await net.restart(1)
      for (let i = 0; i < 10; i++) await settle()
      ;(bob.channel.linkTo(carol.address) as SecureLink).send(st) // to Carol's node, as Bob
      ;(carol.channel.linkTo(bob.address) as SecureLink).send(st) // to Bob, as Carol
    } else {
      send(st)
      carolToBob.send(st)
    }
    for (let i = 0; i < 10; i++) await settle()
    await carol.settleHtlc(bc, (proposal.state.locked[0] as { id: Uint8Array }).id, preimage)
    // The hop learns the preimage with the settle; mine until nothing is pending.
    const busy = () => outcome === undefined || net.nodes.some((n) => n.pendingHtlcs().length > 0)
    for (let i = 0; i < 60 && busy(); i++) {
      await settle()
      await net.mine(1)
    }
    assert.equal(outcome, 'settled', 'the payment the downstream HTLC paid is settled upstream too')
    for (let i = 0; i < 20; i++) await settle()
    const after = totals(net)
    assert.equal(
      after.reduce((s, x) => s + x, 0n),
      sum,
      'conservation',
    )
    const fee = route.totalFeesMsat
    assert.deepEqual(
      after.map((x, i) => x - (before[i] as Amount)),
      [-(30_000n + fee), fee, 30_000n],
    )
  } finally {
    net.stop()
  }
}

test('redteam: a downstream peer that refuses the hop’s HTLC add (a policy refusal): the hop fails it upstream at once, nothing on chain, a late countersignature is stale', () =>
  lateCountersign('honest'))

test('redteam: a downstream peer that refuses everything until the hop gives up, then countersigns the refused add and settles it, cannot make the hop pay downstream what it failed upstream', () =>
  lateCountersign('malicious'))

test('redteam: the same late countersignature after the hop restarted between the refusals and it', () => lateCountersign('malicious, hop restarted'))

describe('redteam: a malicious peer’s merged HTLC proposal cannot make a hop believe what the signed state does not carry', () => {
  /** Alice (party A) signs `state` with `entries` and sends it on her authenticated channel link to Bob. */
  async function setup() {
    const net = await HtlcNetwork.create({ nodes: ['alice', 'bob'], channels: [{ a: 0, b: 1, depositA: M, depositB: M }], disputeWindow: 6 })
    const [alice, bob] = net.nodes as [HtlcNode, HtlcNode]
    const id = net.channelIds[0] as Uint8Array
    const m = alice.channel.machine(id)
    assert.equal(m.me, 0)
    const link = alice.channel.linkTo(bob.address) as SecureLink
    const send = (state: ChannelState, entries: WireChange[]) =>
      link.send(encodeMessage({ type: 'propose', state, sig: alice.channel.signer.sign(digestOf(m.params, state)), topUp: 0n, entries }))
    const htlc = (i: number, amount: bigint): LockedEntry => ({
      id: lockIdFor(`mallory-${i}`, i),
      amount,
      direction: 0,
      hash: sha256(new Uint8Array(32).fill(i + 1)),
      expiry: BigInt(net.l1.head().height + 100),
    })
    const latest = () => bob.channel.latest(id).state
    return { net, alice, bob, id, send, htlc, latest }
  }

  async function refused(s: Awaited<ReturnType<typeof setup>>, check: (e: L2Error) => boolean): Promise<void> {
    const { net, bob, id } = s
    await settle()
    const err = bob.channel.errors.at(-1) as L2Error
    assert.ok(err !== undefined && check(err), `got ${err?.name} ${err?.code} ${err?.field}`)
    assert.equal(bob.channel.status(id).version, 0n, 'nothing signed')
    assert.deepEqual(bob.pendingHtlcs(), [], 'no HTLC recorded by the hop')
    net.stop()
  }

  test('redteam: entries that each add one HTLC but together exceed maxAcceptedHtlcs are refused naming the first one over', async () => {
    const s = await setup()
    const n = DEFAULT_HTLC_LIMITS.maxAcceptedHtlcs + 1
    const prev = s.latest()
    const locks = Array.from({ length: n }, (_, i) => s.htlc(i, 10n))
    const state: ChannelState = { ...prev, version: 1n, balances: [prev.balances[0] - 10n * BigInt(n), prev.balances[1]], locked: locks }
    s.send(
      state,
      locks.map((e) => ({ dA: -10n, dB: 0n, removed: [], added: [e] })),
    )
    await refused(s, (e) => e instanceof EntryError && e.entry === n - 1 && e.code === 'HTLC_LIMIT')
  })

  test('redteam: an HTLC added by one entry and taken back by the offerer in the next is refused (the hop never forwards it)', async () => {
    const s = await setup()
    const prev = s.latest()
    const e = s.htlc(0, 1_000n)
    const state: ChannelState = { ...prev, version: 1n }
    s.send(state, [
      { dA: -1_000n, dB: 0n, removed: [], added: [e] },
      { dA: 1_000n, dB: 0n, removed: [e.id], added: [] },
    ])
    await refused(s, (x) => x instanceof EntryError && x.entry === 1 && x.code === 'HTLC_EXPIRY')
  })

  test('redteam: entries that add two HTLCs in one order while the signed state holds them in the other are refused', async () => {
    const s = await setup()
    const prev = s.latest()
    const [e1, e2] = [s.htlc(0, 100n), s.htlc(1, 200n)]
    const state: ChannelState = { ...prev, version: 1n, balances: [prev.balances[0] - 300n, prev.balances[1]], locked: [e2, e1] }
    s.send(state, [
      { dA: -100n, dB: 0n, removed: [], added: [e1] },
      { dA: -200n, dB: 0n, removed: [], added: [e2] },
    ])
    await refused(s, (x) => x.code === 'CONSERVATION' && x.field === 'entries')
  })

  test('redteam: entries that add an HTLC the signed state does not carry are refused', async () => {
    const s = await setup()
    const prev = s.latest()
    const e = s.htlc(0, 1_000n)
    // The state moves the money as a payment; the entries claim it was locked in an HTLC.
    const state: ChannelState = { ...prev, version: 1n, balances: [prev.balances[0] - 1_000n, prev.balances[1] + 1_000n] }
    s.send(state, [{ dA: -1_000n, dB: 0n, removed: [], added: [e] }])
    await refused(s, (x) => x.code === 'CONSERVATION' && x.field === 'entries')
  })
})
