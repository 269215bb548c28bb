/**
 * Merged updates (payment-channel, issue 18) with the HTLC rules: an HTLC
 * that has expired by the time its update is built fails alone with its
 * reason while the payments and HTLCs queued with it ride in one state; a
 * peer's merged proposal carrying an expired HTLC is refused with a typed
 * error naming that entry, writes nothing, and the node keeps serving.
 * Both nodes run the HTLC router's own policy (`htlcPolicy`: `checkHtlcUpdate`)
 * and build adds with `buildAdd`, the same code the HtlcNode uses.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { AmountError, type L2Error, NodeSigner, secretKeyFromSeed, sha256 } from '@l2bench/core'
import { MockL1, Wallet } from '@l2bench/l1-mock'
import {
  type ChannelState,
  ChannelNode,
  EntryError,
  type LockedEntry,
  MemoryStore,
  type SecureLink,
  type WireChange,
  type WireMessage,
  decodeMessage,
  encodeMessage,
  memoryLinkPair,
  stateDigest,
  stateTotal,
} from '@l2bench/payment-channel'
import { HtlcAdjudicator, HtlcRejectedError, buildAdd, htlcPolicy, lockIdFor } from '../src/index.ts'

const ETH = 10n ** 18n
const hash = sha256(new Uint8Array(32).fill(9))

async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r))
}

/** Records every message sent on `link` (what the peer is told). */
function sentOn(link: SecureLink): WireMessage[] {
  const out: WireMessage[] = []
  const send = link.send.bind(link)
  link.send = (frame) => {
    out.push(decodeMessage(frame))
    send(frame)
  }
  return out
}

/** Two channel nodes under the HTLC policy, one channel A → B, opened and funded. */
async function htlcPair() {
  const l1 = new MockL1()
  const adjudicator = l1.deploy(new HtlcAdjudicator())
  const height = () => l1.head().height
  const party = (seed: string) => {
    const signer = new NodeSigner(secretKeyFromSeed(seed))
    l1.mint(signer.address, 100n * ETH)
    return { signer, wallet: new Wallet(signer, l1) }
  }
  const [a, b] = [party('merged-htlc-a'), party('merged-htlc-b')]
  const stores = [new MemoryStore(), new MemoryStore()] as const
  const policy = htlcPolicy({ height, preimageFor: () => undefined })
  const common = { adjudicator, timers: false, policy, policyReplacesDefault: true } as const
  const alice = new ChannelNode({ ...a, ...common, store: stores[0] })
  const bob = new ChannelNode({ ...b, ...common, store: stores[1], acceptLimits: { maxDeposit: 10n * ETH } })
  const links = memoryLinkPair()
  const secure: [SecureLink, SecureLink] = [alice.attach(links[0]), bob.attach(links[1])]
  await alice.whenConnected(b.signer.address)
  const channelId = await alice.open({ peer: b.signer.address, peerPublicKey: b.signer.publicKey, deposit: 1000n, peerDeposit: 500n, disputeWindow: 10 })
  for (let i = 0; i < 200 && bob.status(channelId).phase !== 'open'; i++) await settle(1)
  assert.equal(bob.status(channelId).phase, 'open')
  return { l1, adjudicator, height, a, b, alice, bob, stores, secure, channelId }
}

test('merged with payments and HTLCs, an HTLC expired when its update is built fails alone (HTLC_EXPIRY); an over-spend fails alone; the rest ride in one state', async () => {
  const p = await htlcPair()
  const { alice, bob, channelId, height } = p
  const h = height()
  const add = (i: number, amount: bigint, expiry: bigint) => alice.update(channelId, (latest) => buildAdd(latest, 0, { id: lockIdFor('merged', i), amount, hash, expiry }, height()))
  const first = alice.pay({ channelId, amount: 1n })
  // Queued behind the first: built one after the other on the state the ones before leave.
  const ok1 = add(1, 100n, BigInt(h + 40))
  const expired = add(2, 50n, BigInt(h)) // its expiry is the current height: expired
  const tooSoon = add(3, 50n, BigInt(h + 5)) // within minExpiryDelta: no time to claim on chain
  const overSpend = alice.pay({ channelId, amount: 1000n }) // 899 left after 1 + 100
  const ok2 = alice.pay({ channelId, amount: 20n })
  const ok3 = add(4, 30n, BigInt(h + 60))
  assert.equal(await first, 1n)
  await assert.rejects(expired, (e: L2Error) => e instanceof HtlcRejectedError && e.code === 'HTLC_EXPIRY' && e.field === 'expiry')
  await assert.rejects(tooSoon, (e: L2Error) => e instanceof HtlcRejectedError && e.code === 'HTLC_EXPIRY' && e.field === 'expiry')
  await assert.rejects(overSpend, (e: L2Error) => e instanceof AmountError && e.field === 'amount')
  assert.deepEqual(await Promise.all([ok1, ok2, ok3]), [2n, 2n, 2n], 'the three that apply share version 2')
  await settle()
  const s = bob.latest(channelId).state
  assert.equal(s.version, 2n)
  assert.deepEqual(s.balances, [1000n - 1n - 100n - 20n - 30n, 500n + 1n + 20n])
  assert.deepEqual(
    s.locked.map((e) => e.amount),
    [100n, 30n],
  )
  assert.equal(stateTotal(s), 1500n, 'conservation')
  assert.deepEqual(alice.latest(channelId).digest, bob.latest(channelId).digest)
})

test('a peer’s merged proposal with an expired HTLC in entry 1 is refused naming entries[1]; nothing is written; the node keeps serving', async () => {
  const p = await htlcPair()
  const { alice, bob, channelId, height, a, l1 } = p
  await alice.pay({ channelId, amount: 10n })
  await settle()
  const latest = bob.latest(channelId).state
  const bobStore = p.stores[1]
  const expiredLock: LockedEntry = { id: lockIdFor('evil', 1), amount: 5n, direction: 0, hash, expiry: BigInt(height()) }
  const pay = (amount: bigint): WireChange => ({ dA: -amount, dB: amount, removed: [], added: [] })
  const state: ChannelState = { ...latest, version: latest.version + 1n, balances: [latest.balances[0] - 3n - 5n, latest.balances[1] + 3n], locked: [expiredLock] }
  const entries: WireChange[] = [pay(3n), { dA: -5n, dB: 0n, removed: [], added: [expiredLock] }]
  const sig = a.signer.sign(stateDigest({ chainId: l1.chainId, adjudicator: p.adjudicator.address }, state))
  const bobSent = sentOn(p.secure[1])
  const saves = bobStore.saves
  const errs = bob.errors.length
  // Sent as Alice on her authenticated link.
  p.secure[0].send(encodeMessage({ type: 'propose', state, sig, topUp: 0n, entries }))
  await settle()
  assert.equal(bob.errors.length, errs + 1)
  const err = bob.errors.at(-1) as EntryError
  assert.ok(err instanceof EntryError, `got ${err?.name}: ${err?.message}`)
  assert.equal(err.entry, 1)
  assert.equal(err.code, 'HTLC_EXPIRY')
  assert.equal(err.field, 'entries[1].state.locked.expiry')
  assert.ok(err.cause instanceof HtlcRejectedError)
  assert.equal(bobStore.saves, saves, 'nothing written')
  assert.equal(bob.status(channelId).version, latest.version)
  const reject = bobSent.find((m) => m.type === 'reject') as Extract<WireMessage, { type: 'reject' }>
  assert.equal(reject?.entry, 1, 'the proposer is told which entry')
  // Still serving: a merged update with a valid HTLC lands.
  const h = height()
  const jobs = [
    alice.pay({ channelId, amount: 1n }),
    alice.update(channelId, (l) => buildAdd(l, 0, { id: lockIdFor('ok', 1), amount: 7n, hash, expiry: BigInt(h + 40) }, height())),
    alice.pay({ channelId, amount: 2n }),
  ]
  const versions = await Promise.all(jobs)
  assert.equal(versions[1], versions[2], 'the add and the payment queued behind the first share a state')
  await settle()
  const s = bob.latest(channelId).state
  assert.deepEqual(s.balances, [1000n - 10n - 1n - 7n - 2n, 500n + 10n + 1n + 2n])
  assert.equal(s.locked.length, 1)
  assert.equal(stateTotal(s), 1500n)
})
