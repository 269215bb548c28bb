/**
 * Red team of merged updates and group commit (issue 18), through the public
 * API: a malicious peer, a resync, a third party on the wire, oversized
 * merged proposals. Every scenario ends with conservation checked and with
 * each side's money moved by exactly the payments its pay() calls resolved.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { DecodeError, type L2Error, codec, encode } from '@l2bench/core'
import {
  ChannelError,
  type ChannelState,
  MAX_MERGE,
  MAX_REFUSED,
  type MemoryStore,
  type PaymentEvent,
  type WireChange,
  type WireMessage,
  changeCodec,
  decodeMessage,
  encodeMessage,
  stateDigest,
  stateTotal,
} from '../src/index.ts'
import { ETH, type NodePair, nodePair, settle, until } from './fixtures.ts'

type Propose = Extract<WireMessage, { type: 'propose' }>

/** Outcome of a set of pay() calls: amounts resolved, amounts failed. */
async function outcomes(jobs: [bigint, Promise<bigint>][]): Promise<{ resolved: bigint; failed: bigint[] }> {
  let resolved = 0n
  const failed: bigint[] = []
  for (const [amount, job] of jobs) {
    try {
      await job
      resolved += amount
    } catch {
      failed.push(amount)
    }
  }
  return { resolved, failed }
}

function conserved(p: NodePair): void {
  const a = p.alice.status(p.channelId)
  const b = p.bob.status(p.channelId)
  assert.equal(a.version, b.version, 'both sides hold the same version')
  assert.deepEqual(a.balances, b.balances, 'both sides hold the same balances')
  assert.equal(stateTotal(p.alice.latest(p.channelId).state), 15n * ETH, 'Σ = deposits')
}

const pay = (amount: bigint): WireChange => ({ dA: -amount, dB: amount, removed: [], added: [] })

describe('redteam: merged updates against a malicious peer', () => {
  test('redteam: a merged proposal refused naming one entry, then countersigned by the peer and resynced, moves each payment once and every pay() it carried resolves', async () => {
    // Bob's stated policy refuses payments of 13; the malicious Bob refuses Alice's merged [2, 13, 4] naming the 13,
    // ignores her rebuilt proposal and instead countersigns the refused one (he holds her signature on it) and resyncs.
    const policy = (prev: ChannelState, next: ChannelState, me: 0 | 1) => {
      if (next.balances[me] - prev.balances[me] === 13n) throw new ChannelError('POLICY', 'state.balances', 'this node refuses payments of 13')
    }
    const p = await nodePair({ nodes: [{}, { policy }] })
    const { alice, bob, channelId, world, b } = p
    await until(() => bob.status(channelId).phase === 'open')
    const sendA = p.secure[0].send.bind(p.secure[0])
    let refused: Propose | undefined
    let injected = false
    p.secure[0].send = (f) => {
      const m = decodeMessage(f)
      if (m.type === 'propose' && m.entries.length === 3) refused = m
      else if (m.type === 'propose' && refused !== undefined && !injected && m.state.version === refused.state.version) {
        injected = true
        const sigB = b.signer.sign(stateDigest(world.domain, refused.state))
        const st = encodeMessage({ type: 'state', state: refused.state, sigA: refused.sig, sigB })
        sendA(st) // to Bob's node, as Alice: Bob's node adopts the state it "refused"
        p.secure[1].send(st) // to Alice, as Bob: the resync
        return
      }
      sendA(f)
    }
    const before = alice.status(channelId).balances[0]
    const jobs: [bigint, Promise<bigint>][] = [1n, 2n, 13n, 4n].map((amount) => [amount, alice.pay({ channelId, amount })])
    const { resolved, failed } = await outcomes(jobs)
    await settle(20)
    assert.ok(injected, 'the refused merged proposal was countersigned and resynced')
    conserved(p)
    const paid = before - alice.status(channelId).balances[0]
    assert.equal(paid, resolved, `Alice paid ${paid}, her resolved pay() calls total ${resolved} (failed: ${failed.join(', ')})`)
    assert.equal(paid, 20n, 'each payment moved once')
  })

  test('redteam: merged proposals with 10,000 entries (over the frame size) and 1,000 entries (within it) are refused by size and by the decoder before any signature check or replay; nothing written; the node keeps serving', async () => {
    const p = await nodePair()
    const { alice, bob, channelId, world, a } = p
    await until(() => bob.status(channelId).phase === 'open')
    const latest = bob.latest(channelId).state
    /** A one-entry proposal, its entry count raised to `n` and the entry repeated: what no honest encoder writes. */
    const flood = (n: number) => {
      const state = { ...latest, version: latest.version + 1n, balances: [latest.balances[0] - BigInt(n), latest.balances[1] + BigInt(n)] as const }
      const sig = a.signer.sign(stateDigest(world.domain, state))
      const one = encodeMessage({ type: 'propose', state, sig, topUp: 0n, entries: [pay(1n)] })
      const entry = encode(changeCodec, pay(1n))
      const head = one.slice(0, one.length - 4 - entry.length)
      const raw = new Uint8Array(head.length + 4 + n * entry.length)
      raw.set(head)
      raw.set(encode(codec.u32, n), head.length)
      for (let i = 0; i < n; i++) raw.set(entry, head.length + 4 + i * entry.length)
      return raw
    }
    const saves = (p.stores[1] as MemoryStore).saves
    const big = flood(10_000)
    assert.ok(big.length > 128 * 1024)
    const errs = bob.errors.length
    // Over the frame limit: an authenticated link will not carry it, and the decoder refuses it by size before reading a field.
    assert.throws(() => p.secure[0].send(big), (e: L2Error) => e.code === 'FRAME' && e.field === 'payload')
    assert.throws(() => decodeMessage(big), (e: L2Error) => e instanceof DecodeError && e.field === 'input')
    const within = flood(1_000)
    assert.ok(within.length < 128 * 1024, 'fits in one frame')
    p.secure[0].send(within)
    await settle()
    const err = bob.errors.at(-1) as L2Error
    assert.equal(bob.errors.length, errs + 1)
    assert.ok(err instanceof DecodeError && /entries/.test(err.field ?? ''), `got ${err?.name} ${err?.field}`)
    assert.equal((p.stores[1] as MemoryStore).saves, saves, 'nothing written')
    assert.equal(bob.status(channelId).version, latest.version)
    await Promise.all([alice.pay({ channelId, amount: 1n }), alice.pay({ channelId, amount: 2n })])
    conserved(p)
  })

  test('redteam: a merged proposal of exactly MAX_MERGE entries is accepted (one event per entry); MAX_MERGE + 1 cannot be encoded', async () => {
    const p = await nodePair()
    const { bob, channelId, world, a } = p
    await until(() => bob.status(channelId).phase === 'open')
    const got: PaymentEvent[] = []
    bob.on('payment', (e) => got.push(e))
    const latest = bob.latest(channelId).state
    const n = BigInt(MAX_MERGE)
    const state = { ...latest, version: latest.version + 1n, balances: [latest.balances[0] - n, latest.balances[1] + n] as const }
    const sig = a.signer.sign(stateDigest(world.domain, state))
    const entries = Array.from({ length: MAX_MERGE }, () => pay(1n))
    p.secure[0].send(encodeMessage({ type: 'propose', state, sig, topUp: 0n, entries }))
    await settle()
    assert.equal(bob.status(channelId).version, latest.version + 1n)
    assert.equal(got.length, MAX_MERGE)
    assert.ok(got.every((e) => e.amount === 1n))
    assert.throws(() => encodeMessage({ type: 'propose', state, sig, topUp: 0n, entries: [...entries, pay(1n)] }), (e: L2Error) => /entries/.test(e.field ?? ''))
  })

  test('redteam: a merged proposal replayed later, or re-addressed to another channel, changes nothing', async () => {
    const p = await nodePair()
    const { alice, bob, channelId } = p
    await until(() => bob.status(channelId).phase === 'open')
    const sendA = p.secure[0].send.bind(p.secure[0])
    let merged: Propose | undefined
    p.secure[0].send = (f) => {
      const m = decodeMessage(f)
      if (m.type === 'propose' && m.entries.length > 1) merged = m
      sendA(f)
    }
    await Promise.all([1n, 2n, 3n, 4n].map((amount) => alice.pay({ channelId, amount })))
    await alice.pay({ channelId, amount: 5n })
    await settle()
    assert.ok(merged !== undefined)
    const m = merged as Propose
    const version = bob.status(channelId).version
    const balances = bob.status(channelId).balances
    const saves = (p.stores[1] as MemoryStore).saves
    // The same frame again (a replay on the wire, or by the peer).
    sendA(encodeMessage(m))
    // The same entries and signature on a state re-addressed to another channel id.
    const other = new Uint8Array(m.state.channelId)
    other[0] = (other[0] as number) ^ 1
    sendA(encodeMessage({ ...m, state: { ...m.state, channelId: other } }))
    await settle()
    assert.equal(bob.status(channelId).version, version)
    assert.deepEqual(bob.status(channelId).balances, balances)
    assert.equal((p.stores[1] as MemoryStore).saves, saves, 'nothing written')
    assert.ok(bob.errors.some((e) => e instanceof ChannelError && e.code === 'STALE_VERSION'))
    assert.ok(bob.errors.some((e) => e instanceof ChannelError && e.code === 'UNKNOWN_CHANNEL'))
    conserved(p)
  })

  test('redteam: entries that create money (a hidden top-up) or hide a closing state inside a merged proposal are refused', async () => {
    const p = await nodePair()
    const { bob, channelId, world, a } = p
    await until(() => bob.status(channelId).phase === 'open')
    const latest = bob.latest(channelId).state
    const saves = (p.stores[1] as MemoryStore).saves
    const send = (state: ChannelState, entries: WireChange[]) => p.secure[0].send(encodeMessage({ type: 'propose', state, sig: a.signer.sign(stateDigest(world.domain, state)), topUp: 0n, entries }))
    const up = { ...latest, version: latest.version + 1n, balances: [latest.balances[0], latest.balances[1] + 6n] as const }
    // Σ grows by 5: each step is checked against the deposits.
    send(up, [pay(1n), { dA: 0n, dB: 5n, removed: [], added: [] }])
    await settle()
    const e1 = bob.errors.at(-1) as L2Error
    assert.ok(e1 instanceof ChannelError && e1.code === 'CONSERVATION' && e1.field === 'entries[1].state.balances', `got ${e1?.code} ${e1?.field}`)
    send({ ...latest, version: latest.version + 1n, balances: [latest.balances[0] - 2n, latest.balances[1] + 2n], isFinal: true }, [pay(1n), pay(1n)])
    await settle()
    const e2 = bob.errors.at(-1) as L2Error
    assert.equal(e2.field, 'state.isFinal')
    assert.equal((p.stores[1] as MemoryStore).saves, saves, 'nothing written')
    assert.equal(bob.status(channelId).version, latest.version)
  })

  test('redteam: a merged state whose countersignature arrives by resync (`state`) resolves each pay() once; the payee counts each payment once', async () => {
    const steps: number[] = []
    const p = await nodePair({ nodes: [{ onSignedState: (_s, st) => steps.push(st?.length ?? 1) }, {}] })
    const { alice, bob, channelId } = p
    await until(() => bob.status(channelId).phase === 'open')
    const got: PaymentEvent[] = []
    bob.on('payment', (e) => got.push(e))
    // Bob's accept of the merged proposal is lost.
    const sendB = p.secure[1].send.bind(p.secure[1])
    let dropped: number | undefined
    p.secure[1].send = (f) => {
      const m = decodeMessage(f)
      if (m.type === 'accept' && m.version === 2n && dropped === undefined) {
        dropped = 1
        return
      }
      sendB(f)
    }
    const amounts = [1n, 2n, 3n, 4n]
    const jobs = amounts.map((amount) => alice.pay({ channelId, amount }))
    await settle(20)
    assert.equal(dropped, 1)
    assert.equal(alice.status(channelId).version, 1n, 'Alice still waits for v2')
    // Alice asks where Bob is (what she does on a reconnection): he answers with the merged state, signed by both.
    p.secure[0].send(encodeMessage({ type: 'sync', channelId: alice.latest(channelId).state.channelId, version: 1n }))
    assert.deepEqual(await Promise.all(jobs), [1n, 2n, 2n, 2n])
    await settle()
    assert.deepEqual(
      got.map((e) => e.amount),
      amounts,
    )
    assert.equal(steps.at(-1), 3, 'the adopted merged state comes with its steps')
    assert.deepEqual(alice.status(channelId).balances, [10n * ETH - 10n, 5n * ETH + 10n])
    conserved(p)
  })

  test('redteam: a peer that refuses proposal after proposal at one version holds at most MAX_REFUSED of our signatures there; then pay() fails at once; once it signs a state there, payments flow again', async () => {
    let refuseAll = true
    const policy = () => {
      if (refuseAll) throw new ChannelError('POLICY', 'state.balances', 'refused')
    }
    const p = await nodePair({ nodes: [{}, { policy }] })
    const { alice, bob, channelId } = p
    await until(() => bob.status(channelId).phase === 'open')
    const digests = new Set<string>()
    const sendA = p.secure[0].send.bind(p.secure[0])
    p.secure[0].send = (f) => {
      const m = decodeMessage(f)
      if (m.type === 'propose') digests.add(Buffer.from(stateDigest(p.world.domain, m.state)).toString('hex'))
      sendA(f)
    }
    const jobs: [bigint, Promise<bigint>][] = Array.from({ length: 200 }, (_, i) => [BigInt(i + 1), alice.pay({ channelId, amount: BigInt(i + 1) })])
    const { resolved, failed } = await outcomes(jobs)
    assert.equal(resolved, 0n)
    assert.equal(failed.length, 200)
    assert.ok(digests.size <= MAX_REFUSED, `${digests.size} different states signed at version 1`)
    assert.equal(alice.machine(channelId).refused?.length, MAX_REFUSED)
    assert.equal(alice.status(channelId).version, 0n)
    // The refused proposals survive a restart from the store (the peer still holds those signatures).
    const again = (p.stores[0] as MemoryStore).load(alice.latest(channelId).state.channelId)
    assert.equal(again?.refused?.length, MAX_REFUSED)
    await assert.rejects(alice.pay({ channelId, amount: 1n }), (e: L2Error) => e instanceof ChannelError && e.code === 'REJECTED')
    // Bob signs a state at version 1 (his own payment): none of the refused ones can be signed any more.
    refuseAll = false
    await bob.pay({ channelId, amount: 5n })
    await settle()
    assert.equal(alice.machine(channelId).refused, undefined)
    await alice.pay({ channelId, amount: 2n })
    await settle()
    conserved(p)
    assert.deepEqual(alice.status(channelId).balances, [10n * ETH + 3n, 5n * ETH - 3n])
  })
})
