/**
 * The channel machine's data: parameters fixed at open, the machine record,
 * the events `step` takes and the effects it returns, and the few pure
 * helpers every transition shares (digest, phase change, persist-then-effects).
 */
import {
  type Address,
  type Amount,
  InvalidInputError,
  SignatureError,
  type Signer,
  type Verifier,
  codec,
  encode,
  publicKeyToAddress,
} from '@l2bench/core'
import { ChannelError } from './errors.ts'
import { type Phase, canTransition } from './phase.ts'
import {
  type ChannelState,
  type Domain,
  type PartyIndex,
  type Penalty,
  type SignedState,
  encodeDomain,
  other,
  sameLocked,
  stateCodec,
  stateDigestFromBytes,
} from './state.ts'
import type { Part } from './merge.ts'
import { type WireMessage, channelParamsCodec, paramsToWire } from './wire.ts'

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
  /** The updates a merged proposal carries, in order (empty: a single update, `ref`). */
  parts: Part[]
  sentAt: number
  attempts: number
  timedOut: boolean
}

/** The requests a proposal serves: its parts', or its own. */
export function refsOf(p: Proposal): number[] {
  return p.parts.length === 0 ? [p.ref] : p.parts.map((x) => x.ref)
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
  /** Payments received at or below forkVersion, reported once a later version is countersigned (at most MAX_DEFERRED entries). */
  deferred: Received[]
  /** Σ of on-chain deposits the latest state must match once a top-up lands (undefined: no top-up in flight). */
  awaitingDeposit: Amount | undefined
  /** While a top-up is in flight: the newest state valid on L1 without it (what a force close registers). */
  topUpFallback?: SignedState | undefined
  /** While a top-up is in flight: the party that must deposit. */
  topUpParty?: PartyIndex | undefined
  /**
   * Turn-taking under two-way load (not persisted): the version we leave to the peer, which said it has updates
   * waiting (`accept.more`), and since when; we propose it only if the peer passes or stays silent for a timeout.
   */
  yieldTo?: bigint | undefined
  yieldAt?: number | undefined
  /** The version we told the peer we would propose (our `accept.more`); if we end up with nothing, we pass. */
  promised?: bigint | undefined
  /**
   * Our proposals the peer refused at version `forkVersion`, newest last, at most MAX_REFUSED (+ 1 no-op): the peer still
   * holds our signature on each and may countersign one later (and send it as a resync), so adopting one
   * completes what it carried instead of retrying it, and the HTLC router does not give up an HTLC one of them
   * adds. Persisted (a restart must not forget a signature that is out); dropped once a state at that version is
   * signed. Full, it stops us proposing at that version (REJECTED) but for a no-op (the same balances and locked
   * entries: the HTLC router's way to make a refusal final) until the peer signs a state there.
   */
  refused?: Proposal[] | undefined
  /** Funding (not persisted): when our open request or L1 check last went out, and how often. */
  fundingSentAt?: number | undefined
  fundingAttempts?: number | undefined
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

/** An update to propose: the next state and what it is for (merged: the parts it carries). */
export interface PlannedUpdate {
  next: ChannelState
  kind: UpdateKind
  ref: number
  topUp?: Amount
  /** Two or more queued updates carried by this one state (see merge.ts). */
  parts?: Part[]
}

export type Event =
  /** A new machine: A sends her open request; B countersigns A's version 0 (`peerSig`). Repeating it on B resends the ack. */
  | { type: 'begin'; peerSig?: Uint8Array; now: number }
  | ({ type: 'update'; now: number } & PlannedUpdate)
  /** `queued`: the shell has updates of ours waiting (told to the peer with our accept). */
  | { type: 'message'; msg: WireMessage; now: number; next?: NextUpdate; queued?: boolean }
  /** We promised the peer the next version but have nothing to propose after all: let it go on. */
  | { type: 'pass'; now: number }
  | { type: 'tick'; now: number }
  | { type: 'connected'; now: number }
  /** L1: both deposits are in (phase open on the adjudicator). */
  | { type: 'funded'; now: number }
  | { type: 'deposited'; total: Amount; now: number }
  | { type: 'disputed'; now: number }
  | { type: 'closed'; now: number }

/**
 * The shell's next queued update(s), offered with an incoming message. When
 * the message is the countersignature of our proposal, the machine asks
 * `plan` for the next proposal on the new state at once and persists both in
 * one write (one commit instead of two on the proposer's side); otherwise it
 * is ignored.
 */
export interface NextUpdate {
  plan: (latest: ChannelState) => PlannedUpdate | undefined
}

export type Effect =
  | { type: 'persist'; machine: Machine }
  | { type: 'send'; msg: WireMessage }
  /**
   * Our proposal is countersigned: every request it serves (`refs`, in order) is done at `version`. `late`: a
   * proposal the peer had refused and countersigned after all; its requests are done wherever they wait.
   */
  | { type: 'completed'; refs: number[]; version: bigint; kind: UpdateKind; late?: boolean }
  | { type: 'received'; version: bigint; amount: Amount }
  /** Our proposal lost a crossing or was refused; `entry` is the part the peer blamed (index into `refs`). */
  | { type: 'retry'; refs: number[]; kind: UpdateKind; reason: 'conflict' | 'rejected'; code?: string; entry?: number }
  | { type: 'timeout'; refs: number[]; version: bigint }
  | { type: 'final'; signed: SignedState }
  /** We signed a top-up that we must deposit: make the L1 deposits match `awaitingDeposit`. */
  | { type: 'topUpSigned'; ref: number; amount: Amount; version: bigint }
  /** A newly countersigned state (for watchtowers and other observers); `steps`: a merged state's intermediate states, in order. */
  | { type: 'signed'; signed: SignedState; steps?: ChannelState[] }
  /** Funding: do our part on L1 now (A deposits, B confirms once A's deposit is there, either notices it is done). */
  | { type: 'fund' }
  /** Funding is complete: the channel is open. */
  | { type: 'opened' }
  /** Funding ended before any deposit: the peer refused or never answered. */
  | { type: 'openFailed'; code: string }

export interface StepResult {
  machine: Machine
  effects: Effect[]
}

export const DEFAULT_TIMEOUT_MS = 2_000
export const DEFAULT_ATTEMPTS = 5
/** Deferred payment reports kept apart; beyond this the oldest two are merged into one report. */
export const MAX_DEFERRED = 64
/** Refused proposals of ours kept at one version (Machine.refused); then we propose nothing more at that version. */
export const MAX_REFUSED = 64

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

/** The party whose proposal wins when both propose `version` (alternates, so neither side starves). */
export function crossingWinner(version: bigint): PartyIndex {
  return version % 2n === 0n ? 0 : 1
}

/** Version 0: the deposits, nothing locked. */
export function initialState(params: ChannelParams): ChannelState {
  return { channelId: params.channelId, version: 0n, balances: params.deposits, locked: [], isFinal: false }
}

/** A fresh machine in `funding` with our signature on version 0 (nothing persisted or sent: `begin` does that). */
export function createMachine(ctx: StepContext, params: ChannelParams, me: PartyIndex): Machine {
  if (ctx.signer.address !== params.parties[me]) throw new InvalidInputError('signer', 'signer is not this party')
  checkParams(params)
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

const paramsRecord = codec.struct({ params: channelParamsCodec })

/**
 * Parameters a record can hold and the adjudicator accepts: every field in its
 * wire range, each public key that of its party. Checked before anything is
 * signed or stored — a value the store cannot encode used to surface as a
 * store failure and stop the whole node.
 */
export function checkParams(params: ChannelParams): void {
  encode(paramsRecord, { params: paramsToWire(params) })
  for (const i of [0, 1] as const) {
    let address: Address | undefined
    try {
      address = publicKeyToAddress(params.publicKeys[i] as Uint8Array)
    } catch {
      address = undefined
    }
    if (address !== params.parties[i]) throw new InvalidInputError(`params.publicKeys[${i}]`, `not the public key of ${params.parties[i]}`)
  }
}

/** Adds the peer's signature on version 0; the phase is unchanged. */
export function countersignV0(ctx: StepContext, m: Machine, peerSig: Uint8Array): Machine {
  const peer = other(m.me)
  if (m.latest.state.version !== 0n) throw new ChannelError('STALE_VERSION', 'version', 'channel already past version 0')
  if (!ctx.verifier.verify(peerSig, m.latest.digest, m.params.publicKeys[peer] as Uint8Array))
    throw new SignatureError('sig', 'peer signature on version 0 invalid')
  const sigs: [Uint8Array, Uint8Array] = [m.latest.sigs[0], m.latest.sigs[1]]
  sigs[peer] = peerSig
  return { ...m, latest: { ...m.latest, sigs } }
}

/** Adds the peer's signature on version 0 and marks the channel open (pure use without an L1, e.g. property tests). */
export function completeOpen(ctx: StepContext, m: Machine, peerSig: Uint8Array): Machine {
  return { ...countersignV0(ctx, m, peerSig), phase: 'open' }
}

/** The one way a machine changes phase (checked against PHASE_TRANSITIONS). */
export function to(m: Machine, phase: Phase, extra: Partial<Machine> = {}): Machine {
  if (!canTransition(m.phase, phase)) throw new ChannelError('CHANNEL_CLOSED', 'phase', `no transition from ${m.phase} to ${phase}`)
  return { ...m, ...extra, phase }
}

export function persisted(machine: Machine, after: Effect[]): StepResult {
  return { machine, effects: [{ type: 'persist', machine }, ...after] }
}
