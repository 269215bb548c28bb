/**
 * Property tests (fast-check) of merged updates and group commit through the
 * real runtime (runtime.ts: queue, merge planning, retries, group commit) and
 * the real state machine, two channels between the same two nodes, with
 * random interleavings chosen by fast-check: payments queued on both sides of
 * both channels (merged up to a random bound), frames delivered, lost or
 * reordered, group commits at random moments, a peer policy that refuses one
 * amount (its entry is named and that payment alone fails), and a crash of
 * one node at a random commit (before or after the write), then a restart
 * from its store and a resync.
 *
 * At every step: Σ balances = deposits on both sides of both channels, no
 * version has two states, and every signature a node sends is on a state its
 * store already holds (checked at the moment of sending). At the end both
 * sides of each channel hold one state; without a crash its balances are the
 * deposits moved by exactly the payments that resolved and every payment is
 * reported once (or still deferred); with a crash, by the resolved payments
 * plus at most those whose outcome the crash left unknown (STOPPED).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type Amount, type L2Error, NodeSigner, bytesEqual, nodeVerifier, secretKeyFromSeed } from '@l2bench/core'
import fc from 'fast-check'
import {
  ChannelError,
  type ChannelParams,
  type ChannelStore,
  CrashError,
  EntryError,
  type Machine,
  MemoryStore,
  type PartyIndex,
  type StepContext,
  type WireMessage,
  applyPayment,
  channelIdHex,
  countersignV0,
  createMachine,
  decodeRecord,
  deriveChannelId,
  digestOf,
  stateTotal,
} from '../src/index.ts'
import { Runtime } from '../src/runtime.ts'

const signers = [new NodeSigner(secretKeyFromSeed('mprop-a')), new NodeSigner(secretKeyFromSeed('mprop-b'))] as const
const domain = { chainId: 31337n, adjudicator: '0x00000000000000000000000000000000000000bb' as const }
/** The amount each node's policy refuses to receive (a stand-in for any per-update refusal: an expired HTLC, a limit). */
const REFUSED = 13n

function ctx(i: PartyIndex): StepContext {
  return {
    signer: signers[i],
    verifier: nodeVerifier,
    policy: (prev, next, me) => {
      if (next.balances[me] - prev.balances[me] === REFUSED) throw new ChannelError('POLICY', 'state.balances', `this node refuses payments of ${REFUSED}`)
    },
  }
}

/** A store that dies at its `crashAt`-th commit, before or after the write. */
class SimStore implements ChannelStore {
  commits = 0
  largest = 0
  crashAt = 0
  mode: 'before' | 'after' = 'before'
  crashed = false
  constructor(readonly inner: MemoryStore) {}
  save(m: Machine): void {
    this.commit(1, () => this.inner.save(m))
  }
  saveMany(ms: readonly Machine[]): void {
    this.commit(ms.length, () => this.inner.saveMany(ms))
  }
  private commit(n: number, write: () => void): void {
    if (this.crashed) throw new CrashError('dead')
    this.commits++
    if (this.commits === this.crashAt && this.mode === 'before') {
      this.crashed = true
      throw new CrashError(`commit ${this.commits} before`)
    }
    write()
    this.largest = Math.max(this.largest, n)
    if (this.commits === this.crashAt && this.mode === 'after') {
      this.crashed = true
      throw new CrashError(`commit ${this.commits} after`)
    }
  }
  load(id: Uint8Array) {
    return this.inner.load(id)
  }
  loadAll() {
    return this.inner.loadAll()
  }
  close() {}
}

function params(nonce: bigint, deposits: readonly [bigint, bigint]): ChannelParams {
  const parties = [signers[0].address, signers[1].address] as const
  return {
    channelId: deriveChannelId(domain, parties[0], parties[1], nonce),
    domain,
    nonce,
    parties,
    publicKeys: [signers[0].publicKey, signers[1].publicKey],
    deposits,
    disputeWindow: 10,
    fundingTimeout: 10,
    penalty: 'none',
  }
}

type Op =
  | { kind: 'pay'; from: PartyIndex; ch: 0 | 1; amount: bigint }
  | { kind: 'deliver'; to: PartyIndex; n: number }
  | { kind: 'commit'; at: PartyIndex }
  | { kind: 'drop'; to: PartyIndex }
  | { kind: 'resync' }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('pay' as const), from: fc.constantFrom<PartyIndex>(0, 1), ch: fc.constantFrom<0 | 1>(0, 1), amount: fc.oneof(fc.bigInt({ min: 1n, max: 300n }), fc.constant(REFUSED)) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('deliver' as const), to: fc.constantFrom<PartyIndex>(0, 1), n: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('commit' as const), at: fc.constantFrom<PartyIndex>(0, 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), to: fc.constantFrom<PartyIndex>(0, 1) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'resync' as const }) },
)

interface Crash {
  victim: PartyIndex
  at: number
  mode: 'before' | 'after'
}

/** Figures over all runs: the properties must exercise merging, group commit, refusals of one entry and crashes. */
const seen = { merged: 0, groups: 0, blamed: 0, crashes: 0, unknown: 0 }

interface Payment {
  from: PartyIndex
  ch: 0 | 1
  amount: Amount
  outcome?: 'resolved' | 'failed' | 'unknown'
  version?: bigint
  error?: unknown
}

async function simulate(ops: Op[], deposits: readonly [bigint, bigint], maxMerge: number, crash: Crash | null): Promise<void> {
  const chans = [params(1n, deposits), params(2n, deposits)] as const
  const keys = chans.map((p) => channelIdHex(p.channelId))
  const total = deposits[0] + deposits[1]
  const stores: [SimStore, SimStore] = [new SimStore(new MemoryStore()), new SimStore(new MemoryStore())]
  const inbox: [WireMessage[], WireMessage[]] = [[], []]
  const received: [bigint, bigint] = [0n, 0n]
  const reports: [number, number] = [0, 0]
  const digests = new Map<string, string>()
  const payments: Payment[] = []
  const alive: [boolean, boolean] = [true, true]
  let crashed = false

  // Every signature sent must be on a state the sender's store already holds.
  const checkDurable = (i: PartyIndex, msg: WireMessage) => {
    if (msg.type !== 'propose' && msg.type !== 'accept') return
    const id = msg.type === 'propose' ? msg.state.channelId : msg.channelId
    const bytes = stores[i].inner.records.get(channelIdHex(id))
    assert.ok(bytes !== undefined, `${msg.type} with no durable record`)
    const rec = decodeRecord(bytes)
    if (msg.type === 'propose') {
      const d = digestOf(rec.params, msg.state)
      const ok = (rec.pending !== undefined && bytesEqual(rec.pending.digest, d)) || bytesEqual(rec.latest.digest, d) || rec.latest.state.version > msg.state.version
      assert.ok(ok, `propose v${msg.state.version} sent before it was durable`)
    } else {
      const ok = rec.latest.state.version > msg.version || (rec.latest.state.version === msg.version && bytesEqual(rec.latest.sigs[i], msg.sig))
      assert.ok(ok, `accept v${msg.version} sent before it was durable`)
    }
  }
  const makeRuntime = (i: PartyIndex, store: ChannelStore): Runtime => {
    const rt: Runtime = new Runtime(
      ctx(i),
      store,
      {
        send: (_peer, msg) => {
          checkDurable(i, msg)
          if (msg.type === 'propose' && msg.entries.length > 1) seen.merged++
          inbox[i === 0 ? 1 : 0].push(msg)
        },
        chain: () => {},
        opened: () => {},
        openFailed: () => {},
        final: () => {},
        signed: (s) => {
          const k = `${channelIdHex(s.state.channelId)}:${s.state.version}`
          const d = Buffer.from(s.digest).toString('hex')
          assert.ok(digests.get(k) === undefined || digests.get(k) === d, `fork at ${k}`)
          digests.set(k, d)
        },
        payment: (e) => {
          received[i] += e.amount
          reports[i]++
        },
        failed: () => {
          alive[i] = false
          crashed = true
          rt.stopped = true
          rt.rejectAll(new ChannelError('STOPPED', 'node', 'crashed'))
        },
      },
      () => 0,
      { maxConflicts: 16, maxRejections: 2, maxMerge, groupCommit: true },
    )
    rt.load()
    return rt
  }
  const rts: [Runtime, Runtime] = [makeRuntime(0, stores[0]), makeRuntime(1, stores[1])]
  for (const p of chans)
    for (const i of [0, 1] as const) {
      const mine = createMachine(ctx(i), p, i)
      const theirs = createMachine(ctx(i === 0 ? 1 : 0), p, i === 0 ? 1 : 0)
      rts[i].install(countersignV0(ctx(i), mine, theirs.latest.sigs[i === 0 ? 1 : 0]), { type: 'funded', now: 0 })
    }
  // Armed once both channels are open: the `at`-th commit of the updates.
  if (crash !== null) {
    stores[crash.victim].crashAt = stores[crash.victim].commits + crash.at
    stores[crash.victim].mode = crash.mode
  }

  const check = () => {
    for (const i of [0, 1] as const)
      for (const key of keys) {
        const slot = rts[i].channels.get(key)
        if (slot !== undefined) assert.equal(stateTotal(slot.machine.latest.state), total, 'conservation')
      }
  }
  const pay = (op: Extract<Op, { kind: 'pay' }>) => {
    if (!alive[op.from]) return
    const p: Payment = { from: op.from, ch: op.ch, amount: op.amount }
    payments.push(p)
    rts[op.from]
      .enqueue(`0x${keys[op.ch]}`, 'pay', (latest) => applyPayment(latest, op.from, op.amount))
      .then(
        (v) => {
          p.outcome = 'resolved'
          p.version = v
        },
        (err: L2Error) => {
          p.outcome = err.code === 'STOPPED' ? 'unknown' : 'failed'
          p.error = err
        },
      )
  }
  const deliver = (to: PartyIndex) => {
    const msg = inbox[to].shift()
    if (msg === undefined || !alive[to]) return
    const id = msg.type === 'propose' || msg.type === 'state' ? msg.state.channelId : 'channelId' in msg ? msg.channelId : undefined
    if (id === undefined) return
    const key = channelIdHex(id)
    const slot = rts[to].channels.get(key)
    if (slot === undefined) return
    try {
      rts[to].deliver(key, msg)
    } catch (err) {
      // As the node does: a refused proposal is answered with a reject naming the entry.
      if (msg.type === 'propose' && err instanceof ChannelError && msg.state.version === slot.machine.latest.state.version + 1n) {
        if (err instanceof EntryError) seen.blamed++
        inbox[to === 0 ? 1 : 0].push({ type: 'reject', channelId: id, version: msg.state.version, code: err.code.slice(0, 64), digest: digestOf(slot.machine.params, msg.state), entry: err instanceof EntryError ? err.entry : undefined })
      }
    }
  }
  const resync = () => {
    for (const i of [0, 1] as const) if (alive[i]) for (const key of keys) rts[i].tryDispatch(key, { type: 'connected', now: 0 }, () => {})
  }
  const restart = (i: PartyIndex) => {
    // The dead process comes back from what its store holds; the connection is new (frames in flight are gone).
    const store = new SimStore(stores[i].inner)
    stores[i] = store
    rts[i] = makeRuntime(i, store)
    alive[i] = true
    inbox[0].length = 0
    inbox[1].length = 0
    resync()
  }

  for (const op of ops) {
    if (op.kind === 'pay') pay(op)
    else if (op.kind === 'deliver') for (let n = 0; n < op.n; n++) deliver(op.to)
    else if (op.kind === 'commit') {
      if (alive[op.at]) rts[op.at].flush()
    } else if (op.kind === 'drop') inbox[op.to].shift()
    else resync()
    for (const i of [0, 1] as const) if (!alive[i] && inbox[i].length === 0) restart(i)
    check()
  }
  // Drain: commit and deliver until both sides of both channels are idle on one state; reconnect when stuck.
  const apart = () =>
    keys.some((key) => {
      const [a, b] = [rts[0].channels.get(key)?.machine, rts[1].channels.get(key)?.machine]
      return a === undefined || b === undefined || a.latest.state.version !== b.latest.state.version || a.pending !== undefined || b.pending !== undefined || a.unconfirmed !== undefined || b.unconfirmed !== undefined
    })
  const busy = () => inbox[0].length > 0 || inbox[1].length > 0 || rts.some((rt) => [...rt.channels.values()].some((s) => s.queue.length > 0 || s.inFlight.length > 0))
  for (let guard = 0; guard < 20_000 && (busy() || apart()); guard++) {
    for (const i of [0, 1] as const) if (!alive[i]) restart(i)
    for (const i of [0, 1] as const) rts[i].flush()
    if (inbox[0].length === 0 && inbox[1].length === 0 && apart()) resync()
    deliver(0)
    deliver(1)
    check()
  }
  for (const i of [0, 1] as const) rts[i].flush()
  assert.ok(!busy() && !apart(), 'the drain converged')
  // Promise callbacks (payment outcomes) run now.
  await new Promise((r) => setImmediate(r))
  assert.ok(
    payments.every((p) => p.outcome !== undefined),
    'every payment has an outcome',
  )
  if (stores.some((s) => s.largest > 1)) seen.groups++
  if (crashed) seen.crashes++

  for (const c of [0, 1] as const) {
    const [ma, mb] = [rts[0].channels.get(keys[c] as string)!.machine, rts[1].channels.get(keys[c] as string)!.machine]
    assert.ok(bytesEqual(ma.latest.digest, mb.latest.digest), 'one state on both sides')
    const mine = payments.filter((p) => p.ch === c)
    const sum = (from: PartyIndex, outcomes: Payment['outcome'][]) => mine.filter((p) => p.from === from && outcomes.includes(p.outcome)).reduce((t, p) => t + p.amount, 0n)
    for (const p of mine) if (p.outcome === 'resolved') assert.ok((p.version as bigint) <= ma.latest.state.version, 'a resolved payment is in the final history')
    // A payment of the refused amount never lands.
    for (const p of mine) if (p.amount === REFUSED) assert.notEqual(p.outcome, 'resolved')
    const moved = deposits[0] - ma.latest.state.balances[0] // A → B, net
    if (!crashed) {
      assert.equal(moved, sum(0, ['resolved']) - sum(1, ['resolved']), 'exactly the resolved payments moved')
    } else {
      seen.unknown += mine.filter((p) => p.outcome === 'unknown').length
      assert.ok(moved >= sum(0, ['resolved']) - sum(1, ['resolved', 'unknown']), 'at least the resolved payments of A moved')
      assert.ok(moved <= sum(0, ['resolved', 'unknown']) - sum(1, ['resolved']), 'at most A’s resolved and unknown ones')
    }
  }
  if (!crashed)
    for (const i of [0, 1] as const) {
      const peer: PartyIndex = i === 0 ? 1 : 0
      const paid = payments.filter((p) => p.from === peer && p.outcome === 'resolved').reduce((t, p) => t + p.amount, 0n)
      const deferred = keys.reduce((t, key) => t + rts[i].channels.get(key)!.machine.deferred.reduce((u, r) => u + r.amount, 0n), 0n)
      assert.equal(received[i] + deferred, paid, `side ${i}: reported + deferred = paid by the peer`)
    }
}

const crashArb: fc.Arbitrary<Crash | null> = fc.option(
  fc.record({ victim: fc.constantFrom<PartyIndex>(0, 1), at: fc.integer({ min: 1, max: 12 }), mode: fc.constantFrom<'before' | 'after'>('before', 'after') }),
  { freq: 2 },
)

test('merged updates and group commit, both directions, two channels, crashes at every commit: conservation, no fork, durable before sent, exact outcomes', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(opArb, { minLength: 1, maxLength: 90 }),
      fc.tuple(fc.bigInt({ min: 0n, max: 1500n }), fc.bigInt({ min: 0n, max: 1500n })),
      fc.integer({ min: 1, max: 8 }),
      crashArb,
      async (ops, deposits, maxMerge, crash) => {
        if (deposits[0] + deposits[1] > 0n) await simulate(ops, deposits, maxMerge, crash)
      },
    ),
    { numRuns: 250, seed: 20261218 },
  )
  // The runs above must have exercised what they claim to.
  assert.ok(seen.merged > 50, `${seen.merged} merged proposals`)
  assert.ok(seen.groups > 20, `${seen.groups} runs with a group commit of both channels`)
  assert.ok(seen.blamed > 10, `${seen.blamed} merged proposals refused naming one entry`)
  assert.ok(seen.crashes > 20, `${seen.crashes} runs with a crash`)
})
