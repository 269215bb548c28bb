/**
 * Property tests (fast-check) on the pure protocol: random update sequences
 * in both directions, with random interleaving of deliveries (so proposals
 * cross), keep Σ balances + Σ locked = deposits at every step on both sides,
 * never fork, and end with both sides on the same state whose balances are
 * the deposits moved by exactly the completed payments.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { NodeSigner, bytesEqual, nodeVerifier, secretKeyFromSeed } from '@l2bench/core'
import fc from 'fast-check'
import {
  type ChannelParams,
  type ChannelState,
  type Effect,
  type Machine,
  type PartyIndex,
  type StepContext,
  type WireMessage,
  applyPayment,
  completeOpen,
  createMachine,
  deriveChannelId,
  step,
  stateTotal,
  yielding,
} from '../src/index.ts'

const signers = [new NodeSigner(secretKeyFromSeed('prop-a')), new NodeSigner(secretKeyFromSeed('prop-b'))] as const
const ctxs: [StepContext, StepContext] = [
  { signer: signers[0], verifier: nodeVerifier },
  { signer: signers[1], verifier: nodeVerifier },
]
const domain = { chainId: 31337n, adjudicator: '0x00000000000000000000000000000000000000aa' as const }

function openPair(deposits: readonly [bigint, bigint]): [Machine, Machine] {
  const parties = [signers[0].address, signers[1].address] as const
  const params: ChannelParams = {
    channelId: deriveChannelId(domain, parties[0], parties[1], 1n),
    domain,
    nonce: 1n,
    parties,
    publicKeys: [signers[0].publicKey, signers[1].publicKey],
    deposits,
    disputeWindow: 10,
    fundingTimeout: 10,
    penalty: 'none',
  }
  const a = createMachine(ctxs[0], params, 0)
  const b = createMachine(ctxs[1], params, 1)
  return [completeOpen(ctxs[0], a, b.latest.sigs[1]), completeOpen(ctxs[1], b, a.latest.sigs[0])]
}

type Op = { kind: 'pay'; from: PartyIndex; amount: bigint } | { kind: 'deliver'; to: PartyIndex } | { kind: 'drop'; to: PartyIndex } | { kind: 'resync' }

const payOrDeliver: fc.Arbitrary<Op>[] = [
  fc.record({ kind: fc.constant('pay' as const), from: fc.constantFrom(0 as const, 1 as const), amount: fc.bigInt({ min: 1n, max: 400n }) }),
  fc.record({ kind: fc.constant('deliver' as const), to: fc.constantFrom(0 as const, 1 as const) }),
]
const opArb: fc.Arbitrary<Op> = fc.oneof(...payOrDeliver)
/** Also lost frames and reconnections: countersignatures then arrive by resync (`state`) and end in the same adopt(). */
const lossyOpArb: fc.Arbitrary<Op> = fc.oneof(
  ...payOrDeliver,
  fc.record({ kind: fc.constant('drop' as const), to: fc.constantFrom(0 as const, 1 as const) }),
  fc.constant({ kind: 'resync' as const }),
)

/** Resynced states delivered over all runs (the lossy property must exercise that path). */
let statesDelivered = 0

/** Runs `ops` on two machines (as the shell would), checking conservation and forks at every step. */
function simulate(ops: Op[], da: bigint, db: bigint): void {
  const total = da + db
  const m: [Machine, Machine] = openPair([da, db])
  const inbox: [WireMessage[], WireMessage[]] = [[], []]
  // Requests waiting at each side (amounts), the one in flight, and what completed.
  const queued: [bigint[], bigint[]] = [[], []]
  const inFlight: [bigint | undefined, bigint | undefined] = [undefined, undefined]
  const completed: [bigint, bigint] = [0n, 0n]
  const received: [bigint, bigint] = [0n, 0n]
  const digests = new Map<bigint, string>()
  let ref = 1
  const refs = new Map<number, bigint>()

  // What each side's store holds: every signature sent must be on a state persisted before it.
  const durable: [Machine, Machine] = [m[0], m[1]]
  const checkDurable = (i: PartyIndex, msg: WireMessage) => {
    const d = durable[i]
    if (msg.type === 'propose') {
      const ok = (d.pending !== undefined && d.pending.state.version === msg.state.version && bytesEqual(d.pending.sig, msg.sig)) || d.latest.state.version >= msg.state.version
      assert.ok(ok, `propose v${msg.state.version} sent before it was persisted`)
    } else if (msg.type === 'accept') {
      assert.ok(d.latest.state.version >= msg.version, `accept v${msg.version} sent before it was persisted`)
    }
  }
  const run = (i: PartyIndex, effects: Effect[]) => {
    for (const e of effects) {
      if (e.type === 'persist') durable[i] = e.machine
      else if (e.type === 'send') {
        checkDurable(i, e.msg)
        inbox[i === 0 ? 1 : 0].push(e.msg)
      } else if (e.type === 'completed') {
        completed[i] += refs.get(e.refs[0] as number) as bigint
        inFlight[i] = undefined
      } else if (e.type === 'retry') {
        queued[i].unshift(refs.get(e.refs[0] as number) as bigint)
        inFlight[i] = undefined
      } else if (e.type === 'received') received[i] += e.amount
    }
  }
  const check = () => {
    for (const i of [0, 1] as const) {
      assert.equal(stateTotal(m[i].latest.state), total, 'conservation')
      const d = Buffer.from(m[i].latest.digest).toString('hex')
      const prev = digests.get(m[i].latest.state.version)
      assert.ok(prev === undefined || prev === d, 'fork')
      digests.set(m[i].latest.state.version, d)
    }
  }
  const pump = (i: PartyIndex) => {
    const mm = m[i]
    if (inFlight[i] !== undefined || mm.pending !== undefined || mm.unconfirmed !== undefined) return
    if (queued[i].length === 0) {
      // As the shell: a turn we promised but have nothing for is passed.
      const res = step(ctxs[i], mm, { type: 'pass', now: 0 })
      m[i] = res.machine
      run(i, res.effects)
      return
    }
    if (yielding(mm)) return
    const amount = queued[i].shift() as bigint
    if (mm.latest.state.balances[i] < amount) return // would overspend: the shell rejects it locally
    const r = ref++
    refs.set(r, amount)
    const res = step(ctxs[i], mm, { type: 'update', next: applyPayment(mm.latest.state, i, amount), kind: 'pay', ref: r, now: 0 })
    m[i] = res.machine
    inFlight[i] = amount
    run(i, res.effects)
  }
  const deliver = (i: PartyIndex) => {
    const msg = inbox[i].shift()
    if (msg === undefined) return
    if (msg.type === 'state') statesDelivered++
    // Like the shell: offer the next queued payment with a countersignature (proposed in the same write).
    let offered: { amount: bigint; ref: number } | undefined
    const head = queued[i][0]
    if (msg.type === 'accept' && inFlight[i] !== undefined && head !== undefined && m[i].latest.state.balances[i] >= head) {
      offered = { amount: head, ref: ref++ }
      refs.set(offered.ref, head)
    }
    const next =
      offered === undefined
        ? undefined
        : { plan: (latest: ChannelState) => ({ next: applyPayment(latest, i, (offered as { amount: bigint }).amount), kind: 'pay' as const, ref: (offered as { ref: number }).ref }) }
    const queuedFlag = msg.type === 'propose' && queued[i].length > 0
    const res = step(ctxs[i], m[i], next === undefined ? { type: 'message', msg, now: 0, queued: queuedFlag } : { type: 'message', msg, now: 0, next })
    m[i] = res.machine
    run(i, res.effects)
    if (offered !== undefined && res.machine.pending?.ref === offered.ref) {
      queued[i].shift()
      inFlight[i] = offered.amount
    }
  }
  const resync = () => {
    for (const i of [0, 1] as const) {
      const res = step(ctxs[i], m[i], { type: 'connected', now: 0 })
      m[i] = res.machine
      run(i, res.effects)
    }
  }
  for (const op of ops) {
    if (op.kind === 'pay') queued[op.from].push(op.amount)
    else if (op.kind === 'deliver') deliver(op.to)
    else if (op.kind === 'drop') inbox[op.to].shift()
    else resync()
    pump(0)
    pump(1)
    check()
  }
  // Drain: deliver everything; when nothing is in flight but the sides differ, reconnect (resync).
  const busy = () => inbox[0].length || inbox[1].length || queued[0].length || queued[1].length || inFlight[0] || inFlight[1]
  const apart = () => m[0].latest.state.version !== m[1].latest.state.version || m[0].pending || m[1].pending || m[0].unconfirmed !== undefined || m[1].unconfirmed !== undefined
  for (let guard = 0; guard < 10_000 && (busy() || apart()); guard++) {
    if (inbox[0].length === 0 && inbox[1].length === 0 && apart()) resync()
    deliver(0)
    deliver(1)
    pump(0)
    pump(1)
    check()
  }
  assert.deepEqual(m[0].latest.digest, m[1].latest.digest)
  assert.equal(m[0].latest.state.balances[0], da - completed[0] + completed[1])
  assert.equal(m[0].latest.state.balances[1], db + completed[0] - completed[1])
  // Every payment the peer made is reported once, or still deferred (our own signature at its version is out).
  for (const i of [0, 1] as const) {
    const deferred = m[i].deferred.reduce((t, r) => t + r.amount, 0n)
    assert.equal(received[i] + deferred, completed[i === 0 ? 1 : 0], `side ${i}: reported + deferred = paid by the peer`)
  }
}

test('conservation, no fork and exact balances over random interleaved updates', () => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 40 }), fc.bigInt({ min: 0n, max: 1000n }), fc.bigInt({ min: 0n, max: 1000n }), (ops, da, db) => {
      if (da + db > 0n) simulate(ops, da, db)
    }),
    { numRuns: 150, seed: 20261121 },
  )
})

test('the same with lost frames and reconnections (resync): conservation, no fork, every payment reported once (ATTACKS 27)', () => {
  fc.assert(
    fc.property(fc.array(lossyOpArb, { minLength: 1, maxLength: 60 }), fc.bigInt({ min: 0n, max: 1000n }), fc.bigInt({ min: 0n, max: 1000n }), (ops, da, db) => {
      if (da + db > 0n) simulate(ops, da, db)
    }),
    { numRuns: 200, seed: 20261202 },
  )
  assert.ok(statesDelivered > 50, `${statesDelivered} resynced states delivered`)
})
