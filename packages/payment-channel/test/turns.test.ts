/**
 * Turn-taking under two-way load. A responder with updates of its own waiting
 * says so in its accept (`more`); the proposer then leaves it the next
 * version instead of chaining a proposal that would cross it (a crossed
 * proposal wastes the loser's signature). The turn ends when a state at that
 * version is signed, when the peer passes (a sync at our version: it had
 * nothing to propose after all), on a new connection, or after the timeout
 * (a peer that claims a turn and stays silent only delays us, as a peer that
 * does not answer does). Crossings that still happen fall back on the
 * version's winner.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { type L2Error, NodeSigner, type Signer, nodeVerifier, secretKeyFromSeed } from '@l2bench/core'
import {
  ChannelError,
  type ChannelParams,
  type Effect,
  type Machine,
  type StepContext,
  type WireMessage,
  applyPayment,
  completeOpen,
  createMachine,
  deriveChannelId,
  step,
  yielding,
} from '../src/index.ts'
import { nodePair, until } from './fixtures.ts'

const signers = [new NodeSigner(secretKeyFromSeed('turn-a')), new NodeSigner(secretKeyFromSeed('turn-b'))] as const
const ctxs: [StepContext, StepContext] = [
  { signer: signers[0], verifier: nodeVerifier, timeoutMs: 100 },
  { signer: signers[1], verifier: nodeVerifier, timeoutMs: 100 },
]

function openPair(): [Machine, Machine] {
  const domain = { chainId: 31337n, adjudicator: '0x00000000000000000000000000000000000000dd' as const }
  const parties = [signers[0].address, signers[1].address] as const
  const params: ChannelParams = {
    channelId: deriveChannelId(domain, parties[0], parties[1], 1n),
    domain,
    nonce: 1n,
    parties,
    publicKeys: [signers[0].publicKey, signers[1].publicKey],
    deposits: [100n, 100n],
    disputeWindow: 10,
    fundingTimeout: 10,
    penalty: 'none',
  }
  const a = createMachine(ctxs[0], params, 0)
  const b = createMachine(ctxs[1], params, 1)
  return [completeOpen(ctxs[0], a, b.latest.sigs[1]), completeOpen(ctxs[1], b, a.latest.sigs[0])]
}

const sent = (effects: Effect[]): WireMessage[] => effects.flatMap((e) => (e.type === 'send' ? [e.msg] : []))

/** A proposes v1; B answers with `queued`; A takes the accept. */
function oneRound(queued: boolean): { a: Machine; b: Machine; accept: Extract<WireMessage, { type: 'accept' }> } {
  let [a, b] = openPair()
  const r1 = step(ctxs[0], a, { type: 'update', next: applyPayment(a.latest.state, 0, 5n), kind: 'pay', ref: 1, now: 0 })
  a = r1.machine
  const propose = sent(r1.effects)[0] as WireMessage
  const r2 = step(ctxs[1], b, { type: 'message', msg: propose, now: 0, queued })
  b = r2.machine
  const accept = sent(r2.effects).find((m) => m.type === 'accept') as Extract<WireMessage, { type: 'accept' }>
  const r3 = step(ctxs[0], a, { type: 'message', msg: accept, now: 0 })
  return { a: r3.machine, b, accept }
}

describe('turns under two-way load', () => {
  test('a responder with updates waiting asks for the next version; the proposer leaves it and proposes nothing of its own', () => {
    const { a, b, accept } = oneRound(true)
    assert.equal(accept.more, true)
    assert.equal(b.promised, 2n)
    assert.equal(a.yieldTo, 2n)
    assert.ok(yielding(a))
    assert.throws(
      () => step(ctxs[0], a, { type: 'update', next: applyPayment(a.latest.state, 0, 1n), kind: 'pay', ref: 2, now: 0 }),
      (e: L2Error) => e instanceof ChannelError && e.code === 'BUSY',
    )
    // B proposes v2: A countersigns it, and the turn is over.
    const rb = step(ctxs[1], { ...b, unconfirmed: undefined }, { type: 'update', next: applyPayment(b.latest.state, 1, 2n), kind: 'pay', ref: 7, now: 0 })
    const ra = step(ctxs[0], a, { type: 'message', msg: sent(rb.effects)[0] as WireMessage, now: 0 })
    assert.equal(ra.machine.latest.state.version, 2n)
    assert.equal(ra.machine.yieldTo, undefined)
    assert.equal(sent(ra.effects).find((m) => m.type === 'accept')?.type, 'accept')
  })

  test('without updates waiting the responder asks for nothing and the proposer may go on (chained proposals as before)', () => {
    const { a, b, accept } = oneRound(false)
    assert.equal(accept.more, false)
    assert.equal(b.promised, undefined)
    assert.equal(a.yieldTo, undefined)
    assert.equal(step(ctxs[0], a, { type: 'update', next: applyPayment(a.latest.state, 0, 1n), kind: 'pay', ref: 2, now: 0 }).machine.pending?.state.version, 2n)
  })

  test('a peer with nothing to propose after all passes (a sync at our version) and the turn ends at once', () => {
    const { a, b } = oneRound(true)
    const confirmed = { ...b, unconfirmed: undefined }
    const pass = step(ctxs[1], confirmed, { type: 'pass', now: 0 })
    assert.equal(pass.machine.promised, undefined)
    const sync = sent(pass.effects)[0] as WireMessage
    assert.deepEqual([sync.type, 'version' in sync ? sync.version : undefined], ['sync', 1n])
    const ra = step(ctxs[0], a, { type: 'message', msg: sync, now: 0 })
    assert.equal(ra.machine.yieldTo, undefined)
    assert.equal(step(ctxs[0], ra.machine, { type: 'update', next: applyPayment(a.latest.state, 0, 1n), kind: 'pay', ref: 2, now: 0 }).machine.pending?.state.version, 2n)
    // Passing without a promise, or with a proposal of ours out, does nothing.
    assert.deepEqual(step(ctxs[1], pass.machine, { type: 'pass', now: 0 }).effects, [])
  })

  test('a peer that claims the turn and stays silent only delays us: the turn ends after the timeout, or on a new connection', () => {
    const { a } = oneRound(true)
    assert.equal(step(ctxs[0], a, { type: 'tick', now: 99 }).machine.yieldTo, 2n)
    assert.equal(step(ctxs[0], a, { type: 'tick', now: 100 }).machine.yieldTo, undefined)
    assert.equal(step(ctxs[0], a, { type: 'connected', now: 1 }).machine.yieldTo, undefined)
  })

  test('at the node: both sides paying at once take turns; no proposal crosses after the first, so every signature is on a state kept', async () => {
    const counted = (s: Signer, n: { signs: number }): Signer =>
      Object.assign(Object.create(Object.getPrototypeOf(s)), s, {
        sign: (d: Uint8Array) => {
          n.signs++
          return s.sign(d)
        },
      })
    const n = { signs: 0 }
    const p = await nodePair({ node: { maxMerge: 1 } })
    const { alice, bob, channelId } = p
    await until(() => bob.status(channelId).phase === 'open')
    // Count from here on (both nodes' channel signers).
    ;(alice.ctx as { signer: Signer }).signer = counted(alice.ctx.signer, n)
    ;(bob.ctx as { signer: Signer }).signer = counted(bob.ctx.signer, n)
    const v0 = alice.status(channelId).version
    const jobs = []
    for (let i = 0; i < 15; i++) jobs.push(alice.pay({ channelId, amount: 2n }), bob.pay({ channelId, amount: 1n }))
    await Promise.all(jobs)
    await until(() => alice.machine(channelId).unconfirmed === undefined && bob.machine(channelId).unconfirmed === undefined)
    const versions = Number(alice.status(channelId).version - v0)
    assert.equal(versions, 30)
    // Two signatures per state; the first proposals (both idle at once) may cross once.
    assert.ok(n.signs <= 2 * versions + 1, `${n.signs} signatures for ${versions} states`)
  })
})
