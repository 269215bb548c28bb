/**
 * The update protocol as a pure state machine:
 *
 *   step(ctx, machine, event) → { machine, effects }
 *
 * No I/O happens here. The shell (ChannelNode) executes the effects in order,
 * and the order is the persistence contract: a `persist` effect always comes
 * before any `send` that carries our signature on the persisted state, and
 * the shell must not run a later effect if an earlier one failed. So a party
 * never reveals a signature on a state its store does not hold.
 *
 * One update (Perun §3.1 plus a confirm):
 *   proposer  sign v+1 → persist(pending) → send propose
 *   responder verify, check → sign → persist(latest = v+1) → send accept
 *   proposer  verify → persist(latest = v+1) → send confirm
 * A party proposes only when idle: no pending proposal of its own and no
 * countersigned version still waiting for its confirm. Each party therefore
 * holds at worst the version before the newest one the other side holds.
 *
 * Crossed proposals (both propose v+1): the proposal of the lower address wins.
 * The winner ignores the other one; the loser countersigns the winner's state
 * and gets a `retry` effect for its own update, which the shell re-proposes on
 * top. The loser has signed two states at v+1 (its lost proposal sits with the
 * winner), so it reports money it receives at v+1 only once v+2 is countersigned:
 * from then on no v+1 state can win on L1. The same rule covers a rejected
 * proposal.
 *
 * Chaining: a countersignature event may carry the shell's next queued update
 * (NextUpdate); the machine then persists "latest = v+1, pending = v+2" in one
 * write and sends confirm + propose — one commit instead of two.
 *
 * Liveness: proposals are retransmitted on `tick` and time out after
 * `maxAttempts` (the pending proposal stays: signing another v+1 would fork);
 * a lost confirm is chased with `sync`; on `connected` both sides sync and the
 * side ahead sends its newest fully signed `state`.
 *
 * Errors: an invalid event throws a typed error (ChannelError, SignatureError,
 * AmountError, InvalidInputError) and, being pure, changes nothing.
 */
import {
  type Address,
  type Amount,
  InvalidInputError,
  SignatureError,
  type Signer,
  type Verifier,
  bytesEqual,
  encode,
} from '@l2bench/core'
import { ChannelError } from './errors.ts'
import {
  type ChannelState,
  type Domain,
  type PartyIndex,
  type Penalty,
  type SignedState,
  checkState,
  encodeDomain,
  other,
  sameLocked,
  stateCodec,
  stateDigestFromBytes,
  stateTotal,
} from './state.ts'
import { type Phase, acceptsUpdates, isFullySigned } from './phase.ts'
import type { WireMessage } from './wire.ts'

export type { Phase } from './phase.ts'

/** Everything fixed at open. */
export interface ChannelParams {
  channelId: Uint8Array
  domain: Domain
  nonce: bigint
  parties: readonly [Address, Address]
  publicKeys: readonly [Uint8Array, Uint8Array]
  /** Deposits at open (version 0's balances). */
  deposits: readonly [Amount, Amount]
  disputeWindow: number
  fundingTimeout: number
  penalty: Penalty
}

/** What an update is for; the shell uses `ref` to find the request it belongs to. */
export type UpdateKind = 'pay' | 'update' | 'close' | 'topUp'

/** Our own proposal, signed by us, not yet countersigned. */
export interface Proposal {
  state: ChannelState
  digest: Uint8Array
  sig: Uint8Array
  kind: UpdateKind
  topUp: Amount
  ref: number
  sentAt: number
  attempts: number
  timedOut: boolean
}


export interface Received {
  version: bigint
  amount: Amount
}

export interface Machine {
  params: ChannelParams
  me: PartyIndex
  phase: Phase
  /** Newest state signed by both (in `funding`, version 0 may still lack the peer's signature). */
  latest: SignedState
  pending: Proposal | undefined
  /** Version we countersigned whose confirm has not arrived yet. */
  unconfirmed: bigint | undefined
  /** When we countersigned it (ms; not persisted): a lost confirm is chased with a sync after the timeout. */
  unconfirmedAt?: number | undefined
  /** Highest version at which we signed a state that did not become `latest` (lost collision, rejection). */
  forkVersion: bigint | undefined
  /** Payments received at or below forkVersion, reported once a later version is countersigned. */
  deferred: Received[]
  /** Σ of on-chain deposits the latest state must match once a top-up lands (undefined: no top-up in flight). */
  awaitingDeposit: Amount | undefined
  /** While a top-up is in flight: the newest state valid on L1 without it (what a force close registers). */
  topUpFallback?: SignedState | undefined
  /** While a top-up is in flight: the party that must deposit. */
  topUpParty?: PartyIndex | undefined
}

/** Extra checks on the counterparty's proposals (the HTLC router plugs its rules in here). */
export type UpdatePolicy = (prev: ChannelState, next: ChannelState, me: PartyIndex, topUp: Amount) => void

export interface StepContext {
  signer: Signer
  verifier: Verifier
  /** Proposal retransmission timeout (ms) and attempts before a `timeout` effect. */
  timeoutMs?: number
  maxAttempts?: number
  policy?: UpdatePolicy
  /**
   * When true, `policy` replaces defaultPolicy instead of running after it, and
   * must check balances itself. The HTLC router sets it: its policy lets locked
   * entries change (add, settle with a preimage, fail) under its own rules.
   */
  policyReplacesDefault?: boolean
}

export type Event =
  | { type: 'update'; next: ChannelState; kind: UpdateKind; ref: number; topUp?: Amount; now: number }
  | { type: 'message'; msg: WireMessage; now: number; next?: NextUpdate }
  | { type: 'tick'; now: number }
  | { type: 'connected'; now: number }
  | { type: 'deposited'; total: Amount; now: number }
  | { type: 'disputed'; now: number }
  | { type: 'closed'; now: number }

/**
 * The shell's next queued update, offered with an incoming message. When the
 * message is the countersignature of our proposal, the machine builds the next
 * proposal on the new state at once and persists both in one write (one
 * commit instead of two on the proposer's side); otherwise it is ignored.
 */
export interface NextUpdate {
  build: (latest: ChannelState) => ChannelState
  kind: UpdateKind
  ref: number
  topUp?: Amount
}

export type Effect =
  | { type: 'persist'; machine: Machine }
  | { type: 'send'; msg: WireMessage }
  | { type: 'completed'; ref: number; version: bigint; kind: UpdateKind }
  | { type: 'received'; version: bigint; amount: Amount }
  | { type: 'retry'; ref: number; kind: UpdateKind; reason: 'conflict' | 'rejected' }
  | { type: 'timeout'; ref: number; version: bigint }
  | { type: 'final'; signed: SignedState }
  | { type: 'topUpSigned'; ref: number; amount: Amount; version: bigint }

export interface StepResult {
  machine: Machine
  effects: Effect[]
}

const DEFAULT_TIMEOUT_MS = 2_000
const DEFAULT_ATTEMPTS = 5

/** Digest with the per-channel domain bytes cached (one digest per state). */
const domainCache = new WeakMap<Domain, Uint8Array>()
export function digestOf(params: ChannelParams, state: ChannelState): Uint8Array {
  let d = domainCache.get(params.domain)
  if (d === undefined) {
    d = encodeDomain(params.domain)
    domainCache.set(params.domain, d)
  }
  return stateDigestFromBytes(d, encode(stateCodec, state))
}

/** The default policy: we accept updates that do not lower our balance nor touch locked entries. */
export const defaultPolicy: UpdatePolicy = (prev, next, me, topUp) => {
  const them = other(me)
  if (next.balances[me] < prev.balances[me])
    throw new ChannelError('POLICY', 'state.balances', `proposal lowers our balance from ${prev.balances[me]} to ${next.balances[me]}`)
  if (!sameLocked(prev.locked, next.locked)) throw new ChannelError('POLICY', 'state.locked', 'proposal changes locked entries')
  if (topUp > 0n) {
    if (next.balances[me] !== prev.balances[me] || next.balances[them] !== prev.balances[them] + topUp)
      throw new ChannelError('POLICY', 'topUp', 'a top-up may only add its amount to the proposer’s balance')
  }
  if (next.isFinal && (next.balances[me] !== prev.balances[me] || next.balances[them] !== prev.balances[them]))
    throw new ChannelError('POLICY', 'state.isFinal', 'a closing state must not move money')
}

/** Version 0: the deposits, nothing locked. */
export function initialState(params: ChannelParams): ChannelState {
  return { channelId: params.channelId, version: 0n, balances: params.deposits, locked: [], isFinal: false }
}

/** A fresh machine in `funding` with our signature on version 0. */
export function createMachine(ctx: StepContext, params: ChannelParams, me: PartyIndex): Machine {
  if (ctx.signer.address !== params.parties[me]) throw new InvalidInputError('signer', 'signer is not this party')
  const state = initialState(params)
  const digest = digestOf(params, state)
  const sigs: [Uint8Array, Uint8Array] = [new Uint8Array(), new Uint8Array()]
  sigs[me] = ctx.signer.sign(digest)
  return {
    params,
    me,
    phase: 'funding',
    latest: { state, digest, sigs },
    pending: undefined,
    unconfirmed: undefined,
    forkVersion: undefined,
    deferred: [],
    awaitingDeposit: undefined,
  }
}

/** Adds the peer's signature on version 0 (open handshake). */
export function completeOpen(ctx: StepContext, m: Machine, peerSig: Uint8Array): Machine {
  const peer = other(m.me)
  if (m.latest.state.version !== 0n) throw new ChannelError('STALE_VERSION', 'version', 'channel already past version 0')
  if (!ctx.verifier.verify(peerSig, m.latest.digest, m.params.publicKeys[peer] as Uint8Array))
    throw new SignatureError('sig', 'peer signature on version 0 invalid')
  const sigs: [Uint8Array, Uint8Array] = [m.latest.sigs[0], m.latest.sigs[1]]
  sigs[peer] = peerSig
  return { ...m, phase: 'open', latest: { ...m.latest, sigs } }
}

export function step(ctx: StepContext, m: Machine, ev: Event): StepResult {
  switch (ev.type) {
    case 'update':
      return onUpdate(ctx, m, ev)
    case 'message':
      return onMessage(ctx, m, ev.msg, ev.now, ev.next)
    case 'tick':
      return onTick(ctx, m, ev.now)
    case 'connected':
      return { machine: m, effects: syncEffects(m) }
    case 'deposited':
      if (m.awaitingDeposit !== undefined && ev.total >= m.awaitingDeposit)
        return persisted({ ...m, awaitingDeposit: undefined, topUpFallback: undefined, topUpParty: undefined }, [])
      return { machine: m, effects: [] }
    case 'disputed':
      // A state is registered on L1: no more off-chain updates.
      if (m.phase === 'closed' || m.phase === 'closing') return { machine: m, effects: [] }
      return persisted({ ...m, phase: 'closing' }, [])
    case 'closed':
      if (m.phase === 'closed') return { machine: m, effects: [] }
      return persisted({ ...m, phase: 'closed' }, [])
  }
}

function persisted(machine: Machine, after: Effect[]): StepResult {
  return { machine, effects: [{ type: 'persist', machine }, ...after] }
}

function syncEffects(m: Machine): Effect[] {
  const effects: Effect[] = [{ type: 'send', msg: { type: 'sync', channelId: m.params.channelId, version: m.latest.state.version } }]
  if (m.pending !== undefined) effects.push({ type: 'send', msg: proposeMsg(m.pending) })
  return effects
}

function proposeMsg(p: Proposal): WireMessage {
  return { type: 'propose', state: p.state, sig: p.sig, topUp: p.topUp }
}

function requireOpen(m: Machine, field: string): void {
  if (!acceptsUpdates(m.phase)) throw new ChannelError('CHANNEL_CLOSED', field, `channel is ${m.phase}`)
}

function onUpdate(ctx: StepContext, m: Machine, ev: Extract<Event, { type: 'update' }>): StepResult {
  requireOpen(m, 'channelId')
  if (m.pending !== undefined) throw new ChannelError('BUSY', 'channelId', `proposal v${m.pending.state.version} in flight`)
  if (m.unconfirmed !== undefined) throw new ChannelError('BUSY', 'channelId', `waiting for the confirm of v${m.unconfirmed}`)
  if (m.awaitingDeposit !== undefined) throw new ChannelError('BUSY', 'channelId', 'waiting for a top-up to land on L1')
  const next = ev.next
  const prev = m.latest.state
  if (!bytesEqual(next.channelId, m.params.channelId)) throw new ChannelError('UNKNOWN_CHANNEL', 'state.channelId', 'state is for another channel')
  if (next.version !== prev.version + 1n) throw new ChannelError('VERSION_GAP', 'state.version', `expected ${prev.version + 1n}, got ${next.version}`)
  const topUp = ev.topUp ?? 0n
  checkState('state', next, stateTotal(prev) + topUp)
  if (topUp > 0n && next.balances[other(m.me)] !== prev.balances[other(m.me)])
    throw new ChannelError('POLICY', 'topUp', 'a top-up may only add to our own balance')
  const digest = digestOf(m.params, next)
  const sig = ctx.signer.sign(digest)
  const pending: Proposal = { state: next, digest, sig, kind: ev.kind, topUp, ref: ev.ref, sentAt: ev.now, attempts: 1, timedOut: false }
  return persisted({ ...m, pending }, [{ type: 'send', msg: proposeMsg(pending) }])
}

function onTick(ctx: StepContext, m: Machine, now: number): StepResult {
  const timeout = ctx.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const effects: Effect[] = []
  let machine = m
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
  effects.push({ type: 'timeout', ref: p.ref, version: p.state.version })
  return { machine: { ...machine, pending: { ...p, timedOut: true } }, effects }
}

function checkChannel(m: Machine, id: Uint8Array, field: string): void {
  if (!bytesEqual(id, m.params.channelId)) throw new ChannelError('UNKNOWN_CHANNEL', field, 'message is for another channel')
}

function onMessage(ctx: StepContext, m: Machine, msg: WireMessage, now: number, next?: NextUpdate): StepResult {
  switch (msg.type) {
    case 'propose':
      checkChannel(m, msg.state.channelId, 'state.channelId')
      return onPropose(ctx, m, msg.state, msg.sig, msg.topUp, now)
    case 'accept':
      checkChannel(m, msg.channelId, 'channelId')
      return onAccept(ctx, m, msg.version, msg.sig, now, next)
    case 'confirm':
      checkChannel(m, msg.channelId, 'channelId')
      if (m.unconfirmed !== undefined && msg.version >= m.unconfirmed && msg.version <= m.latest.state.version)
        return { machine: { ...m, unconfirmed: undefined }, effects: [] }
      return { machine: m, effects: [] }
    case 'reject':
      checkChannel(m, msg.channelId, 'channelId')
      return onReject(m, msg.version, msg.code, now)
    case 'sync':
      checkChannel(m, msg.channelId, 'channelId')
      return onSync(m, msg.version)
    case 'state':
      checkChannel(m, msg.state.channelId, 'state.channelId')
      return onState(ctx, m, msg.state, [msg.sigA, msg.sigB])
    default:
      throw new InvalidInputError('type', `message ${msg.type} is not a channel update`)
  }
}

function onPropose(ctx: StepContext, m: Machine, next: ChannelState, sig: Uint8Array, topUp: Amount, now: number): StepResult {
  const prev = m.latest.state
  const peer = other(m.me)
  if (next.version <= prev.version) {
    // A replay of the proposal we countersigned last: answer it again (idempotent), else refuse.
    if (next.version === prev.version && m.latest.sigs[m.me]!.length === 64 && bytesEqual(digestOf(m.params, next), m.latest.digest))
      return { machine: m, effects: [{ type: 'send', msg: { type: 'accept', channelId: m.params.channelId, version: prev.version, sig: m.latest.sigs[m.me]! } }] }
    throw new ChannelError('STALE_VERSION', 'state.version', `version ${next.version} is not above ${prev.version}`)
  }
  if (next.version !== prev.version + 1n) throw new ChannelError('VERSION_GAP', 'state.version', `expected ${prev.version + 1n}, got ${next.version}`)
  requireOpen(m, 'state.channelId')
  if (m.awaitingDeposit !== undefined) throw new ChannelError('POLICY', 'topUp', 'waiting for the previous top-up to land on L1')
  const digest = digestOf(m.params, next)
  if (!ctx.verifier.verify(sig, digest, m.params.publicKeys[peer] as Uint8Array))
    throw new SignatureError('sig', 'proposer signature invalid for this chain, contract, channel, version and state')
  checkState('state', next, stateTotal(prev) + topUp)
  if (ctx.policy === undefined || ctx.policyReplacesDefault !== true) defaultPolicy(prev, next, m.me, topUp)
  ctx.policy?.(prev, next, m.me, topUp)

  const effects: Effect[] = []
  let forkVersion = m.forkVersion
  let pending = m.pending
  if (pending !== undefined) {
    // Crossed proposals for the same version: the lower address wins.
    const iWin = m.params.parties[m.me] < m.params.parties[peer]
    if (iWin) return { machine: m, effects: [] }
    effects.push({ type: 'retry', ref: pending.ref, kind: pending.kind, reason: 'conflict' })
    forkVersion = pending.state.version
    pending = undefined
  }
  const mySig = ctx.signer.sign(digest)
  const sigs: [Uint8Array, Uint8Array] = [new Uint8Array(), new Uint8Array()]
  sigs[m.me] = mySig
  sigs[peer] = sig
  const latest: SignedState = { state: next, digest, sigs }
  const gained = next.balances[m.me] - prev.balances[m.me]
  let deferred = m.deferred
  const received: Received[] = []
  if (gained > 0n) {
    if (forkVersion !== undefined && next.version <= forkVersion) deferred = [...deferred, { version: next.version, amount: gained }]
    else received.push({ version: next.version, amount: gained })
  }
  if (forkVersion !== undefined && next.version > forkVersion && deferred.length > 0) {
    received.unshift(...deferred)
    deferred = []
  }
  const machine: Machine = {
    ...m,
    latest,
    pending,
    unconfirmed: next.version,
    unconfirmedAt: now,
    forkVersion,
    deferred,
    phase: next.isFinal ? 'closing' : m.phase,
    awaitingDeposit: topUp > 0n ? stateTotal(next) : m.awaitingDeposit,
    ...(topUp > 0n ? { topUpFallback: m.latest, topUpParty: peer } : {}),
  }
  effects.unshift({ type: 'persist', machine })
  effects.push({ type: 'send', msg: { type: 'accept', channelId: m.params.channelId, version: next.version, sig: mySig } })
  for (const r of received) effects.push({ type: 'received', version: r.version, amount: r.amount })
  if (next.isFinal) effects.push({ type: 'final', signed: latest })
  return { machine, effects }
}

function onAccept(ctx: StepContext, m: Machine, version: bigint, sig: Uint8Array, now = 0, next?: NextUpdate): StepResult {
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
  const latest: SignedState = { state: p.state, digest: p.digest, sigs }
  let deferred = m.deferred
  const effects: Effect[] = []
  if (m.forkVersion !== undefined && version > m.forkVersion && deferred.length > 0) {
    for (const r of deferred) effects.push({ type: 'received', version: r.version, amount: r.amount })
    deferred = []
  }
  const machine: Machine = {
    ...m,
    latest,
    pending: undefined,
    deferred,
    phase: p.state.isFinal ? 'closing' : m.phase,
    awaitingDeposit: p.topUp > 0n ? stateTotal(p.state) : m.awaitingDeposit,
    ...(p.topUp > 0n ? { topUpFallback: m.latest, topUpParty: m.me } : {}),
  }
  let persistedMachine = machine
  const after: Effect[] = []
  if (next !== undefined && machine.phase === 'open' && machine.awaitingDeposit === undefined) {
    const chained = tryChain(ctx, machine, next, now)
    if (chained !== undefined) {
      persistedMachine = chained
      after.push({ type: 'send', msg: proposeMsg(chained.pending as Proposal) })
    }
  }
  effects.unshift({ type: 'persist', machine: persistedMachine }, { type: 'send', msg: { type: 'confirm', channelId: m.params.channelId, version } })
  effects.push(...after)
  effects.push({ type: 'completed', ref: p.ref, version, kind: p.kind })
  if (p.topUp > 0n) effects.push({ type: 'topUpSigned', ref: p.ref, amount: p.topUp, version })
  if (p.state.isFinal) effects.push({ type: 'final', signed: latest })
  return { machine: persistedMachine, effects }
}

/** Builds and signs the next proposal on top of `m` (already idle), or undefined if it does not apply. */
function tryChain(ctx: StepContext, m: Machine, next: NextUpdate, now: number): Machine | undefined {
  try {
    const r = onUpdate(ctx, m, { type: 'update', next: next.build(m.latest.state), kind: next.kind, ref: next.ref, topUp: next.topUp ?? 0n, now })
    return r.machine
  } catch {
    // The shell will run the request on its own and report the error.
    return undefined
  }
}

function onReject(m: Machine, version: bigint, _code: string, _now: number): StepResult {
  const p = m.pending
  if (p === undefined || p.state.version !== version) return { machine: m, effects: [] }
  // Our signature on the rejected state is out: treat its version as forked.
  return persisted({ ...m, pending: undefined, forkVersion: version }, [{ type: 'retry', ref: p.ref, kind: p.kind, reason: 'rejected' }])
}

function onSync(m0: Machine, peerVersion: bigint): StepResult {
  const effects: Effect[] = []
  // The peer holds peerVersion fully signed: a countersignature of ours at or below it is confirmed.
  const m = m0.unconfirmed !== undefined && peerVersion >= m0.unconfirmed ? { ...m0, unconfirmed: undefined } : m0
  const latest = m.latest
  if (latest.state.version > peerVersion && isFullySigned(latest))
    effects.push({ type: 'send', msg: { type: 'state', state: latest.state, sigA: latest.sigs[0]!, sigB: latest.sigs[1]! } })
  if (m.pending !== undefined && m.pending.state.version === peerVersion + 1n) effects.push({ type: 'send', msg: proposeMsg(m.pending) })
  // Same fully signed version on both sides: the peer may be waiting for our confirm of it.
  if (latest.state.version === peerVersion && m.pending === undefined && isFullySigned(latest))
    effects.push({ type: 'send', msg: { type: 'confirm', channelId: m.params.channelId, version: peerVersion } })
  return { machine: m, effects }
}

function onState(ctx: StepContext, m: Machine, state: ChannelState, sigs: readonly [Uint8Array, Uint8Array]): StepResult {
  if (state.version <= m.latest.state.version) return { machine: m, effects: [] }
  const digest = digestOf(m.params, state)
  for (const i of [0, 1] as const)
    if (!ctx.verifier.verify(sigs[i], digest, m.params.publicKeys[i] as Uint8Array))
      throw new SignatureError(i === 0 ? 'sigA' : 'sigB', 'signature on resynced state invalid')
  checkState('state', state, stateTotal(state))
  const effects: Effect[] = []
  let pending = m.pending
  let forkVersion = m.forkVersion
  if (pending !== undefined && pending.state.version <= state.version) {
    if (bytesEqual(pending.digest, digest)) effects.push({ type: 'completed', ref: pending.ref, version: state.version, kind: pending.kind })
    else {
      effects.push({ type: 'retry', ref: pending.ref, kind: pending.kind, reason: 'conflict' })
      forkVersion = pending.state.version
    }
    pending = undefined
  }
  const machine: Machine = {
    ...m,
    latest: { state, digest, sigs },
    pending,
    unconfirmed: undefined,
    forkVersion,
    phase: state.isFinal ? 'closing' : m.phase,
  }
  // Tell the peer we now hold it, so it may propose again.
  effects.push({ type: 'send', msg: { type: 'confirm', channelId: m.params.channelId, version: state.version } })
  return persisted(machine, effects)
}
