/**
 * The channel protocol as a pure state machine:
 *
 *   step(ctx, machine, event) → { machine, effects }
 *
 * No I/O happens here. The shell (ChannelNode's runtime) executes the effects
 * in order, and the order is the persistence contract: a `persist` effect
 * always comes before any `send` that carries our signature on the persisted
 * state and before any L1 transaction (`fund`, `topUpSigned`), and the shell
 * runs nothing after a failed effect. So a party never reveals a signature on
 * a state its store does not hold.
 *
 * Funding (Perun §3.1 order: both sign version 0 before any money moves):
 *   A  begin: sign v0 → persist → send open
 *   B  begin: check terms, countersign v0 → persist → send openAck → fund (confirm once A's deposit is on L1)
 *   A  openAck: verify → persist (v0 signed by both) → fund (deposit)
 *   both  funded (L1 says open) → persist(open)
 * A deposits only once she holds v0 signed by both, so whatever B does after
 * that, she can register v0 (or refund if B never confirms).
 *
 * One update (plus a confirm):
 *   proposer  sign v+1 → persist(pending) → send propose
 *   responder verify, check → sign → persist(latest = v+1) → send accept
 *   proposer  verify → persist(latest = v+1) → send confirm
 * A countersigned state reaches a party in one of three ways (`propose`,
 * `accept`, or a resync `state`); all three end in `adopt()`, the one place
 * that settles the pending proposal, reports payments, notices a top-up or a
 * final state, and emits the effects that follow from them.
 *
 * A party proposes only when idle (no pending proposal of its own and no
 * countersigned version still waiting for its confirm), so each party holds at
 * worst the version before the newest one the other side holds.
 *
 * Crossed proposals (both propose v): party `v mod 2` wins (A even versions,
 * B odd), so under two-way load each side wins every other crossing. The
 * winner ignores the other proposal; the loser countersigns the winner's state
 * and gets a `retry` for its own update. The loser has signed two states at v
 * (its lost proposal sits with the winner), so it reports money it receives
 * at v only once a later version is countersigned. A rejected proposal is
 * handled the same way. The shell bounds retries per request.
 *
 * Merged proposals (merge.ts): a proposal may carry several updates as
 * entries. The responder replays them from its latest state and checks each
 * step as if it were a proposal of its own, then that they make exactly the
 * signed state; a refusal names the entry (EntryError), and the proposer's
 * `retry` effect says which request it was. One state, one pair of
 * signatures, one persist per side for all of them.
 *
 * Turns: a responder with updates of its own waiting says so in its accept
 * (`more`); the proposer then leaves it the next version (`yieldTo`) rather
 * than chaining a proposal that would cross it, until a state at that version
 * is signed, the peer passes (a sync at our version), a new connection, or
 * the timeout.
 *
 * Liveness: proposals are retransmitted on `tick` and time out after
 * `maxAttempts` (the pending proposal stays: signing another v would fork);
 * a lost confirm is chased with `sync`; on `connected` both sides sync and the
 * side ahead sends its newest fully signed `state`.
 *
 * Errors: an invalid event throws a typed error (ChannelError, SignatureError,
 * AmountError, InvalidInputError) and, being pure, changes nothing.
 */
import { type Amount, InvalidInputError, SignatureError, bytesEqual } from '@l2bench/core'
import { ChannelError } from './errors.ts'
import {
  DEFAULT_ATTEMPTS,
  DEFAULT_TIMEOUT_MS,
  type Effect,
  type Event,
  MAX_DEFERRED,
  MAX_REFUSED,
  type Machine,
  type NextUpdate,
  type PlannedUpdate,
  type Proposal,
  type Received,
  type StepContext,
  type StepResult,
  crossingWinner,
  defaultPolicy,
  digestOf,
  persisted,
  refsOf,
  to,
} from './machine.ts'
import { type Change, type Part, changeFromWire, changeToWire, replay, sameState } from './merge.ts'
import { fundingResync, onBegin, onFundingTick, onOpenAck, onOpenRejected } from './opening.ts'
import { acceptsUpdates, isFullySigned } from './phase.ts'
import { type ChannelState, type PartyIndex, type SignedState, checkState, other, sameLocked, stateTotal } from './state.ts'
import type { WireMessage } from './wire.ts'

export * from './machine.ts'
export { openMessage } from './opening.ts'

export function step(ctx: StepContext, m: Machine, ev: Event): StepResult {
  switch (ev.type) {
    case 'begin':
      return onBegin(ctx, m, ev.peerSig, ev.now)
    case 'update':
      return onUpdate(ctx, m, ev)
    case 'message':
      return onMessage(ctx, m, ev.msg, ev.now, ev.next, ev.queued === true)
    case 'pass':
      // Nothing of ours to propose after all: the sync tells the peer (at our version) to go on.
      if (m.promised === undefined || m.promised !== m.latest.state.version + 1n || m.pending !== undefined) return { machine: m, effects: [] }
      return { machine: { ...m, promised: undefined }, effects: [{ type: 'send', msg: { type: 'sync', channelId: m.params.channelId, version: m.latest.state.version } }] }
    case 'tick':
      return m.phase === 'funding' ? onFundingTick(ctx, m, ev.now) : onTick(ctx, m, ev.now)
    case 'connected':
      if (m.phase === 'funding') return fundingResync(m, ev.now)
      // A new connection: turns start over.
      return { machine: { ...m, yieldTo: undefined, yieldAt: undefined, promised: undefined }, effects: m.phase === 'closed' ? [] : syncEffects(m) }
    case 'funded':
      if (m.phase !== 'funding' || !isFullySigned(m.latest)) return { machine: m, effects: [] }
      return persisted(to(m, 'open', { fundingSentAt: undefined, fundingAttempts: undefined }), [{ type: 'opened' }])
    case 'deposited':
      if (m.awaitingDeposit !== undefined && ev.total >= m.awaitingDeposit)
        return persisted({ ...m, awaitingDeposit: undefined, topUpFallback: undefined, topUpParty: undefined }, [])
      return { machine: m, effects: [] }
    case 'disputed':
      // A state is registered on L1: no more off-chain updates.
      if (m.phase !== 'open') return { machine: m, effects: [] }
      return persisted(to(m, 'closing'), [])
    case 'closed':
      if (m.phase === 'closed') return { machine: m, effects: [] }
      return persisted(to(m, 'closed'), m.phase === 'funding' ? [{ type: 'openFailed', code: 'CLOSED' }] : [])
  }
}

// ------------------------------------------------------------------ updates

function syncEffects(m: Machine): Effect[] {
  const effects: Effect[] = [{ type: 'send', msg: { type: 'sync', channelId: m.params.channelId, version: m.latest.state.version } }]
  if (m.pending !== undefined) effects.push({ type: 'send', msg: proposeMsg(m.pending) })
  return effects
}

function proposeMsg(p: Proposal): WireMessage {
  return { type: 'propose', state: p.state, sig: p.sig, topUp: p.topUp, entries: p.parts.map((x) => changeToWire(x.change)) }
}

function requireOpen(m: Machine, field: string): void {
  if (!acceptsUpdates(m.phase)) throw new ChannelError('CHANNEL_CLOSED', field, `channel is ${m.phase}`)
}

function onUpdate(ctx: StepContext, m: Machine, ev: Extract<Event, { type: 'update' }>): StepResult {
  requireOpen(m, 'channelId')
  if (m.pending !== undefined) throw new ChannelError('BUSY', 'channelId', `proposal v${m.pending.state.version} in flight`)
  if (m.unconfirmed !== undefined) throw new ChannelError('BUSY', 'channelId', `waiting for the confirm of v${m.unconfirmed}`)
  if (m.awaitingDeposit !== undefined) throw new ChannelError('BUSY', 'channelId', 'waiting for a top-up to land on L1')
  if (yielding(m)) throw new ChannelError('BUSY', 'channelId', `version ${m.yieldTo} is the peer's turn`)
  const next = ev.next
  const prev = m.latest.state
  // Every proposal refused at this version stays signable by the peer: past the bound we sign no further one
  // (but a no-op, which changes nothing if signed and ends the refused ones once countersigned).
  if ((m.refused?.length ?? 0) >= MAX_REFUSED && !isNoop(prev, next))
    throw new ChannelError('REJECTED', 'channelId', `the peer refused ${MAX_REFUSED} proposals at version ${prev.version + 1n}: close the channel or wait for its next state`)
  if (!bytesEqual(next.channelId, m.params.channelId)) throw new ChannelError('UNKNOWN_CHANNEL', 'state.channelId', 'state is for another channel')
  if (next.version !== prev.version + 1n) throw new ChannelError('VERSION_GAP', 'state.version', `expected ${prev.version + 1n}, got ${next.version}`)
  const topUp = ev.topUp ?? 0n
  checkState('state', next, stateTotal(prev) + topUp)
  if (topUp > 0n && next.balances[other(m.me)] !== prev.balances[other(m.me)])
    throw new ChannelError('POLICY', 'topUp', 'a top-up may only add to our own balance')
  const parts = ev.parts ?? []
  if (parts.length > 0) checkParts(prev, next, parts, ev.kind, topUp)
  const digest = digestOf(m.params, next)
  const sig = ctx.signer.sign(digest)
  const pending: Proposal = { state: next, digest, sig, kind: ev.kind, topUp, ref: ev.ref, parts, sentAt: ev.now, attempts: 1, timedOut: false }
  // (A promised turn lasts until a state at that version is signed: if this proposal is refused and nothing else
  // of ours is left, we still pass.)
  return persisted({ ...m, pending }, [{ type: 'send', msg: proposeMsg(pending) }])
}

/** `next` changes nothing of `prev` but the version. */
function isNoop(prev: ChannelState, next: ChannelState): boolean {
  return !next.isFinal && next.balances[0] === prev.balances[0] && next.balances[1] === prev.balances[1] && sameLocked(prev.locked, next.locked)
}

/** Our own merged proposal must be what its parts say: each applies and conserves, and together they make `next`. */
function checkParts(prev: ChannelState, next: ChannelState, parts: readonly Part[], kind: string, topUp: bigint): void {
  if (kind !== 'pay' && kind !== 'update') throw new InvalidInputError('parts', `a ${kind} is never merged`)
  if (topUp !== 0n || next.isFinal) throw new InvalidInputError('parts', 'a merged proposal carries no top-up and is not final')
  const steps = replay(prev, parts.map((x) => x.change), next.version, stateTotal(prev))
  if (!sameState(steps[steps.length - 1] as ChannelState, next)) throw new InvalidInputError('parts', 'the parts do not produce the proposed state')
}

function onTick(ctx: StepContext, m: Machine, now: number): StepResult {
  const timeout = ctx.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const effects: Effect[] = []
  let machine = m
  // The peer said it would propose, and did not: our turn again.
  if (m.yieldTo !== undefined && now - (m.yieldAt ?? now) >= timeout) machine = { ...machine, yieldTo: undefined, yieldAt: undefined }
  if (m.unconfirmed !== undefined && now - (m.unconfirmedAt ?? now) >= timeout) {
    // The confirm may be lost: ask where the peer is (it answers with a confirm or a state).
    machine = { ...machine, unconfirmedAt: now }
    effects.push({ type: 'send', msg: { type: 'sync', channelId: m.params.channelId, version: m.latest.state.version } })
  }
  const p = m.pending
  if (p === undefined || p.timedOut || now - p.sentAt < timeout) return { machine, effects }
  if (p.attempts < (ctx.maxAttempts ?? DEFAULT_ATTEMPTS)) {
    // Resending a signature already durable needs no new persist.
    effects.push({ type: 'send', msg: proposeMsg(p) })
    return { machine: { ...machine, pending: { ...p, sentAt: now, attempts: p.attempts + 1 } }, effects }
  }
  effects.push({ type: 'timeout', refs: refsOf(p), version: p.state.version })
  return { machine: { ...machine, pending: { ...p, timedOut: true } }, effects }
}

function checkChannel(m: Machine, id: Uint8Array, field: string): void {
  if (!bytesEqual(id, m.params.channelId)) throw new ChannelError('UNKNOWN_CHANNEL', field, 'message is for another channel')
}

function onMessage(ctx: StepContext, m: Machine, msg: WireMessage, now: number, next: NextUpdate | undefined, queued: boolean): StepResult {
  switch (msg.type) {
    case 'openAck':
      checkChannel(m, msg.channelId, 'channelId')
      return onOpenAck(ctx, m, msg.sig, now)
    case 'propose':
      checkChannel(m, msg.state.channelId, 'state.channelId')
      return onPropose(ctx, m, msg.state, msg.sig, msg.topUp, msg.entries.map(changeFromWire), now, queued)
    case 'accept':
      checkChannel(m, msg.channelId, 'channelId')
      return onAccept(ctx, m, msg.version, msg.sig, msg.more, now, next)
    case 'confirm':
      checkChannel(m, msg.channelId, 'channelId')
      if (m.unconfirmed !== undefined && msg.version >= m.unconfirmed && msg.version <= m.latest.state.version)
        return { machine: { ...m, unconfirmed: undefined }, effects: [] }
      return { machine: m, effects: [] }
    case 'reject':
      checkChannel(m, msg.channelId, 'channelId')
      if (m.phase === 'funding' && msg.version === 0n) return onOpenRejected(m, msg.code)
      return onReject(m, msg.version, msg.code, msg.digest, msg.entry)
    case 'sync':
      checkChannel(m, msg.channelId, 'channelId')
      return onSync(m, msg.version)
    case 'state':
      checkChannel(m, msg.state.channelId, 'state.channelId')
      return onState(ctx, m, msg.state, [msg.sigA, msg.sigB], now)
    default:
      throw new InvalidInputError('type', `message ${msg.type} is not a channel update`)
  }
}

function onPropose(ctx: StepContext, m: Machine, next: ChannelState, sig: Uint8Array, topUp: Amount, entries: Change[], now: number, queued: boolean): StepResult {
  const prev = m.latest.state
  const peer = other(m.me)
  if (next.version <= prev.version) {
    // A replay of the proposal we countersigned last: answer it again (idempotent), else refuse.
    if (next.version === prev.version && m.latest.sigs[m.me]!.length === 64 && bytesEqual(digestOf(m.params, next), m.latest.digest))
      return { machine: m, effects: [{ type: 'send', msg: { type: 'accept', channelId: m.params.channelId, version: prev.version, sig: m.latest.sigs[m.me]!, more: m.promised === prev.version + 1n } }] }
    throw new ChannelError('STALE_VERSION', 'state.version', `version ${next.version} is not above ${prev.version}`)
  }
  if (next.version !== prev.version + 1n) throw new ChannelError('VERSION_GAP', 'state.version', `expected ${prev.version + 1n}, got ${next.version}`)
  requireOpen(m, 'state.channelId')
  if (m.awaitingDeposit !== undefined) throw new ChannelError('POLICY', 'topUp', 'waiting for the previous top-up to land on L1')
  // Crossed proposals for the same version: the winner ignores the other one, unread (checking it would change nothing).
  if (m.pending !== undefined && crossingWinner(next.version) === m.me) return { machine: m, effects: [] }
  const digest = digestOf(m.params, next)
  if (!ctx.verifier.verify(sig, digest, m.params.publicKeys[peer] as Uint8Array))
    throw new SignatureError('sig', 'proposer signature invalid for this chain, contract, channel, version and state')
  const policy = (before: ChannelState, after: ChannelState, up: Amount) => {
    if (ctx.policy === undefined || ctx.policyReplacesDefault !== true) defaultPolicy(before, after, m.me, up)
    ctx.policy?.(before, after, m.me, up)
  }
  let steps: ChannelState[] | undefined
  if (entries.length === 0) {
    checkState('state', next, stateTotal(prev) + topUp)
    policy(prev, next, topUp)
  } else {
    // A merged proposal: every update it carries is checked as if proposed alone, on the state before it.
    if (topUp !== 0n) throw new InvalidInputError('topUp', 'a merged proposal carries no top-up')
    if (next.isFinal) throw new InvalidInputError('state.isFinal', 'a merged proposal is not a closing state')
    steps = replay(prev, entries, next.version, stateTotal(prev), (before, after) => policy(before, after, 0n))
    if (!sameState(steps[steps.length - 1] as ChannelState, next))
      throw new ChannelError('CONSERVATION', 'entries', 'the entries do not add up to the proposed state')
  }
  const mySig = ctx.signer.sign(digest)
  const sigs: [Uint8Array, Uint8Array] = [new Uint8Array(), new Uint8Array()]
  sigs[m.me] = mySig
  sigs[peer] = sig
  // Updates of ours wait (or our crossed proposal will be retried): we ask for the next version, so the peer does not cross us.
  const more = queued || m.pending !== undefined
  const reply: Effect = { type: 'send', msg: { type: 'accept', channelId: m.params.channelId, version: next.version, sig: mySig, more } }
  const r = adopt(ctx, m, { state: next, digest, sigs }, { reply, unconfirmed: true, now, ...(steps === undefined ? {} : { steps }) })
  return more ? promise(r, next.version + 1n) : r
}

function onAccept(ctx: StepContext, m: Machine, version: bigint, sig: Uint8Array, more: boolean, now: number, next?: NextUpdate): StepResult {
  const p = m.pending
  if (p === undefined || version !== p.state.version) {
    if (version === m.latest.state.version && m.latest.sigs[other(m.me)]!.length === 64 && bytesEqual(sig, m.latest.sigs[other(m.me)]!))
      return { machine: m, effects: [{ type: 'send', msg: { type: 'confirm', channelId: m.params.channelId, version } }] }
    throw new ChannelError('STALE_VERSION', 'version', `no proposal of ours at version ${version}`)
  }
  const peer = other(m.me)
  if (!ctx.verifier.verify(sig, p.digest, m.params.publicKeys[peer] as Uint8Array)) throw new SignatureError('sig', 'countersignature invalid')
  const sigs: [Uint8Array, Uint8Array] = [new Uint8Array(), new Uint8Array()]
  sigs[m.me] = p.sig
  sigs[peer] = sig
  const reply: Effect = { type: 'send', msg: { type: 'confirm', channelId: m.params.channelId, version } }
  // The peer has updates waiting: the next version is its turn (no chained proposal of ours to cross it).
  if (more) {
    const r = adopt(ctx, m, { state: p.state, digest: p.digest, sigs }, { reply, unconfirmed: false, now })
    if (!acceptsUpdates(r.machine.phase)) return r
    return withMachine(r, { ...r.machine, yieldTo: version + 1n, yieldAt: now })
  }
  return adopt(ctx, m, { state: p.state, digest: p.digest, sigs }, { reply, unconfirmed: false, now, ...(next === undefined ? {} : { next }) })
}

/** While the peer has the next version: we do not propose it. */
export function yielding(m: Machine): boolean {
  return m.yieldTo !== undefined && m.yieldTo === m.latest.state.version + 1n
}

/** The same step result with `machine`, which differs only in fields that are not persisted. */
function withMachine(r: StepResult, machine: Machine): StepResult {
  return { machine, effects: r.effects }
}

function promise(r: StepResult, version: bigint): StepResult {
  return withMachine(r, { ...r.machine, promised: version })
}

/** A state signed by both, newer than ours, sent by a peer that is ahead (resync). */
function onState(ctx: StepContext, m: Machine, state: ChannelState, sigs: readonly [Uint8Array, Uint8Array], now: number): StepResult {
  if (state.version <= m.latest.state.version) return { machine: m, effects: [] }
  if (m.phase === 'funding' || m.phase === 'closed') throw new ChannelError('CHANNEL_CLOSED', 'state.channelId', `channel is ${m.phase}`)
  const digest = digestOf(m.params, state)
  for (const i of [0, 1] as const)
    if (!ctx.verifier.verify(sigs[i], digest, m.params.publicKeys[i] as Uint8Array))
      throw new SignatureError(i === 0 ? 'sigA' : 'sigB', 'signature on resynced state invalid')
  // Deposits never shrink on L1: a state worth less than ours can never be enforced.
  const total = stateTotal(m.latest.state)
  if (stateTotal(state) < total) throw new ChannelError('CONSERVATION', 'state.balances', `resynced state holds ${stateTotal(state)}, ours ${total}`)
  checkState('state', state, stateTotal(state))
  // Tell the peer we now hold it, so it may propose again.
  const reply: Effect = { type: 'send', msg: { type: 'confirm', channelId: m.params.channelId, version: state.version } }
  return adopt(ctx, m, { state, digest, sigs: [sigs[0], sigs[1]] }, { reply, unconfirmed: false, now })
}

interface AdoptOptions {
  /** The answer that tells the peer we hold it (accept after a propose, confirm otherwise). */
  reply: Effect
  /** We countersigned the peer's proposal and wait for its confirm. */
  unconfirmed: boolean
  now: number
  /** A queued request to chain onto the countersignature of our own proposal. */
  next?: NextUpdate
  /** The peer's merged proposal: its intermediate states (one payment report per step). */
  steps?: ChannelState[]
}

/**
 * The one completion path: `latest` (newer than ours, signed by both) becomes
 * our latest state, whichever message brought it. It settles our pending
 * proposal (completed if it is this very state, retried otherwise), reports
 * money the peer's state gave us (deferred while our signature on another
 * state of that version is out), notices a top-up (Σ grew: the party who
 * proposed it deposits; until then the previous state stays the enforceable
 * fallback) and a final state, and emits `signed`.
 */
function adopt(ctx: StepContext, m: Machine, latest: SignedState, o: AdoptOptions): StepResult {
  const v = latest.state.version
  const effects: Effect[] = []
  let forkVersion = m.forkVersion
  let pending = m.pending
  let mine: Proposal | undefined
  if (pending !== undefined && pending.state.version <= v) {
    if (bytesEqual(pending.digest, latest.digest)) {
      mine = pending
      effects.push({ type: 'completed', refs: refsOf(pending), version: v, kind: pending.kind })
    } else {
      effects.push({ type: 'retry', refs: refsOf(pending), kind: pending.kind, reason: 'conflict' })
      forkVersion = forkVersion === undefined || pending.state.version > forkVersion ? pending.state.version : forkVersion
    }
    pending = undefined
  }
  // A proposal of ours the peer refused, countersigned after all (it kept our signature): what it carried is done
  // (after the retry above, so a request it carries that was proposed again is not paid twice).
  const late = mine === undefined ? m.refused?.find((p) => bytesEqual(p.digest, latest.digest)) : undefined
  if (late !== undefined) {
    mine = late
    effects.push({ type: 'completed', refs: refsOf(late), version: v, kind: late.kind, late: true })
  }
  // Money the peer's state gives us (our own proposals never report a payment to us).
  let deferred = m.deferred
  const received: Received[] = []
  const gained = latest.state.balances[m.me] - m.latest.state.balances[m.me]
  if (mine === undefined && gained > 0n) {
    // One report per payment: a merged state's steps each, unless a step took from us (then the sum, once).
    const parts = o.steps === undefined ? [gained] : gainsOf(m.latest.state, o.steps, m.me, gained)
    for (const amount of parts) {
      if (forkVersion !== undefined && v <= forkVersion) deferred = deferMore(deferred, { version: v, amount })
      else received.push({ version: v, amount })
    }
  }
  if (forkVersion !== undefined && v > forkVersion && deferred.length > 0) {
    received.unshift(...deferred)
    deferred = []
  }
  // A top-up: Σ grew. The previous state stays what L1 enforces until the deposit lands.
  const added = stateTotal(latest.state) - stateTotal(m.latest.state)
  const topUpParty: PartyIndex | undefined = added > 0n ? (mine !== undefined ? m.me : other(m.me)) : m.topUpParty
  const machine: Machine = {
    ...(latest.state.isFinal ? to(m, 'closing') : m),
    latest,
    pending,
    unconfirmed: o.unconfirmed ? v : undefined,
    unconfirmedAt: o.unconfirmed ? o.now : undefined,
    // A turn left to the peer (or promised to it) ends once a state at that version is signed.
    yieldTo: m.yieldTo !== undefined && v < m.yieldTo ? m.yieldTo : undefined,
    yieldAt: m.yieldTo !== undefined && v < m.yieldTo ? m.yieldAt : undefined,
    promised: m.promised !== undefined && v < m.promised ? m.promised : undefined,
    forkVersion,
    deferred,
    awaitingDeposit: added > 0n ? stateTotal(latest.state) : m.awaitingDeposit,
    topUpFallback: added > 0n ? (m.awaitingDeposit === undefined ? m.latest : m.topUpFallback) : m.topUpFallback,
    topUpParty,
    // Every refused proposal of ours is at a version this state reaches: none can be countersigned any more.
    refused: undefined,
  }
  let persistedMachine = machine
  const chained: Effect[] = []
  if (o.next !== undefined && mine !== undefined && late === undefined && acceptsUpdates(machine.phase) && machine.awaitingDeposit === undefined) {
    const c = tryChain(ctx, machine, o.next, o.now)
    if (c !== undefined) {
      persistedMachine = c
      chained.push({ type: 'send', msg: proposeMsg(c.pending as Proposal) })
    }
  }
  const out: Effect[] = [{ type: 'persist', machine: persistedMachine }, o.reply, ...chained, ...effects]
  for (const r of received) out.push({ type: 'received', version: r.version, amount: r.amount })
  // A merged state's intermediate states, for observers that follow every update (the HTLC router's book).
  const steps = o.steps ?? (mine !== undefined && mine.parts.length > 0 ? replay(m.latest.state, mine.parts.map((x) => x.change), v, stateTotal(m.latest.state)) : undefined)
  out.push(steps === undefined ? { type: 'signed', signed: latest } : { type: 'signed', signed: latest, steps })
  if (added > 0n && topUpParty === m.me) out.push({ type: 'topUpSigned', ref: mine?.ref ?? 0, amount: added, version: v })
  if (latest.state.isFinal) out.push({ type: 'final', signed: latest })
  return { machine: persistedMachine, effects: out }
}

/** What each step of a merged state gave `me` (only the positive ones; the whole gain once if any step took from us). */
function gainsOf(prev: ChannelState, steps: readonly ChannelState[], me: PartyIndex, total: Amount): Amount[] {
  const out: Amount[] = []
  let before = prev.balances[me]
  for (const s of steps) {
    const d = s.balances[me] - before
    if (d < 0n) return [total]
    if (d > 0n) out.push(d)
    before = s.balances[me]
  }
  return out
}

/** Appends a deferred report; past MAX_DEFERRED the two oldest become one (same total, the later version). */
function deferMore(list: readonly Received[], r: Received): Received[] {
  const out = [...list, r]
  while (out.length > MAX_DEFERRED) {
    const [a, b] = out as [Received, Received]
    out.splice(0, 2, { version: b.version, amount: a.amount + b.amount })
  }
  return out
}

/** Builds and signs the next proposal on top of `m` (already idle), or undefined if it does not apply. */
function tryChain(ctx: StepContext, m: Machine, next: NextUpdate, now: number): Machine | undefined {
  try {
    const plan: PlannedUpdate | undefined = next.plan(m.latest.state)
    if (plan === undefined) return undefined
    const r = onUpdate(ctx, m, { type: 'update', ...plan, now })
    return r.machine
  } catch {
    // The shell will run the request on its own and report the error.
    return undefined
  }
}

function onReject(m: Machine, version: bigint, code: string, digest: Uint8Array | undefined, entry: number | undefined): StepResult {
  const p = m.pending
  if (p === undefined || p.state.version !== version) return { machine: m, effects: [] }
  // A refusal of another proposal at this version (a late duplicate, after ours was rebuilt) is not about this one.
  if (digest !== undefined && !bytesEqual(digest, p.digest)) return { machine: m, effects: [] }
  // Our signature on the rejected state is out: treat its version as forked.
  const refs = refsOf(p)
  const blamed = entry !== undefined && p.parts.length > 0 && entry < refs.length ? { entry } : {}
  // The peer keeps our signature on it: remember it until a state at this version is signed (see adopt).
  const refused = [...(m.refused ?? []).filter((x) => x.state.version === version && !bytesEqual(x.digest, p.digest)), p]
  return persisted({ ...m, pending: undefined, forkVersion: version, refused }, [{ type: 'retry', refs, kind: p.kind, reason: 'rejected', code, ...blamed }])
}

function onSync(m0: Machine, peerVersion: bigint): StepResult {
  const effects: Effect[] = []
  // The peer holds peerVersion fully signed: a countersignature of ours at or below it is confirmed.
  let m = m0.unconfirmed !== undefined && peerVersion >= m0.unconfirmed ? { ...m0, unconfirmed: undefined } : m0
  // A peer whose turn it is syncs at our version: it passes (nothing to propose after all).
  if (m.yieldTo !== undefined && m.yieldTo === peerVersion + 1n) m = { ...m, yieldTo: undefined, yieldAt: undefined }
  const latest = m.latest
  if (latest.state.version > peerVersion && isFullySigned(latest))
    effects.push({ type: 'send', msg: { type: 'state', state: latest.state, sigA: latest.sigs[0]!, sigB: latest.sigs[1]! } })
  if (m.pending !== undefined && m.pending.state.version === peerVersion + 1n) effects.push({ type: 'send', msg: proposeMsg(m.pending) })
  // Same fully signed version on both sides: the peer may be waiting for our confirm of it.
  if (latest.state.version === peerVersion && m.pending === undefined && isFullySigned(latest))
    effects.push({ type: 'send', msg: { type: 'confirm', channelId: m.params.channelId, version: peerVersion } })
  return { machine: m, effects }
}
