/**
 * HTLCs as locked entries of a payment-channel state — pure functions only.
 *
 * An HTLC is a @l2bench/payment-channel `LockedEntry`: {id, amount,
 * direction = the offering (paying) party, hash = sha256(preimage), expiry =
 * an L1 height}. Three updates move money between a balance and the locked
 * set, one per countersigned state, each keeping Σ balances + Σ locked equal
 * to the deposits:
 *
 *   add     proposed by the offerer:  its balance − amount, entry appended
 *   settle  proposed by the receiver: entry removed, receiver + amount
 *           (the offerer must know a preimage with sha256 = hash, and the
 *           height must be below the expiry — what the adjudicator enforces)
 *   fail    proposed by the receiver at any time, or by the offerer once the
 *           height reaches the expiry: entry removed, offerer + amount
 *
 * `htlcPolicy` is the receiving party's check of the other side's proposal
 * (plugged into payment-channel as a policy that replaces the default one);
 * the `build*` functions are the proposer's side and apply the same rules, so
 * an honest proposal is never refused. Updates that change no locked entry
 * fall back to payment-channel's default policy (plain payments, top-ups,
 * closing states).
 */
import { type Amount, InvalidInputError, bytesEqual, describe, sha256, taggedHash, toPositiveAmount } from '@l2bench/core'
import {
  type ChannelState,
  type LockedEntry,
  MAX_LOCKED,
  type PartyIndex,
  type UpdatePolicy,
  defaultPolicy,
  other,
} from '@l2bench/payment-channel'
import { MAX_TOTAL_CLTV_EXPIRY, MIN_FINAL_CLTV_EXPIRY_DELTA } from '../routing/route.ts'
import { HtlcRejectedError } from './errors.ts'

export const PREIMAGE_LENGTH = 32
export const HASH_LENGTH = 32

export interface HtlcLimits {
  /** An added HTLC must expire more than this many blocks after the current height (time to claim on chain). */
  minExpiryDelta: number
  /** …and at most this many blocks after it (how long the offerer's money may stay locked). */
  maxExpiryDelta: number
  /**
   * HTLCs one side may have pending in a channel at once (BOLT 2's
   * max_accepted_htlcs; both sides together stay within payment-channel's
   * MAX_LOCKED). An add beyond it is refused with HTLC_LIMIT.
   */
  maxAcceptedHtlcs: number
}

/** BOLT 2 allows up to 483 per side; Core Lightning's default is 30. Two sides × 30 stay well within MAX_LOCKED. */
export const DEFAULT_MAX_ACCEPTED_HTLCS = 30

export const DEFAULT_HTLC_LIMITS: HtlcLimits = {
  minExpiryDelta: MIN_FINAL_CLTV_EXPIRY_DELTA,
  maxExpiryDelta: MAX_TOTAL_CLTV_EXPIRY,
  maxAcceptedHtlcs: DEFAULT_MAX_ACCEPTED_HTLCS,
}

/** Checks limits given by a caller (merged over the defaults): each a safe integer in range. */
export function checkLimits(limits: HtlcLimits): HtlcLimits {
  const { minExpiryDelta, maxExpiryDelta, maxAcceptedHtlcs } = limits
  if (!Number.isSafeInteger(minExpiryDelta) || minExpiryDelta < 0) throw new InvalidInputError('limits.minExpiryDelta', `expected an integer ≥ 0, got ${describe(minExpiryDelta)}`)
  if (!Number.isSafeInteger(maxExpiryDelta) || maxExpiryDelta <= minExpiryDelta)
    throw new InvalidInputError('limits.maxExpiryDelta', `expected an integer above minExpiryDelta, got ${describe(maxExpiryDelta)}`)
  if (!Number.isSafeInteger(maxAcceptedHtlcs) || maxAcceptedHtlcs < 1 || 2 * maxAcceptedHtlcs > MAX_LOCKED)
    throw new InvalidInputError('limits.maxAcceptedHtlcs', `expected an integer in 1..${Math.floor(MAX_LOCKED / 2)}, got ${describe(maxAcceptedHtlcs)}`)
  return limits
}

function pendingOf(state: ChannelState, offerer: PartyIndex): number {
  let n = 0
  for (const e of state.locked) if (e.direction === offerer) n++
  return n
}

export interface NewHtlc {
  id: Uint8Array
  amount: Amount
  hash: Uint8Array
  expiry: bigint
}

/** A lock id unique per offerer: taggedHash(offerer address ‖ counter). */
export function lockIdFor(offerer: string, counter: number): Uint8Array {
  return taggedHash('l2bench/htlc/lock-id/v1', new TextEncoder().encode(`${offerer}:${counter}`))
}

export function checkHash(field: string, hash: unknown): asserts hash is Uint8Array {
  if (!(hash instanceof Uint8Array) || hash.length !== HASH_LENGTH)
    throw new HtlcRejectedError('HTLC_UNKNOWN', field, `expected a ${HASH_LENGTH}-byte hash, got ${describe(hash)}`)
}

export function checkPreimage(field: string, preimage: unknown, hash?: Uint8Array): asserts preimage is Uint8Array {
  if (!(preimage instanceof Uint8Array) || preimage.length !== PREIMAGE_LENGTH)
    throw new HtlcRejectedError('HTLC_BAD_PREIMAGE', field, `expected a ${PREIMAGE_LENGTH}-byte preimage, got ${describe(preimage)}`)
  if (hash !== undefined && !bytesEqual(sha256(preimage), hash))
    throw new HtlcRejectedError('HTLC_BAD_PREIMAGE', field, 'preimage does not hash to the payment hash')
}

/** Checks an expiry against the height: strictly more than minExpiryDelta ahead, at most maxExpiryDelta. */
export function checkExpiry(field: string, expiry: unknown, height: number, limits: HtlcLimits = DEFAULT_HTLC_LIMITS): asserts expiry is bigint {
  if (typeof expiry !== 'bigint' || expiry < 0n) throw new HtlcRejectedError('HTLC_EXPIRY', field, `expected a bigint block height, got ${describe(expiry)}`)
  const h = BigInt(height)
  if (expiry <= h) throw new HtlcRejectedError('HTLC_EXPIRY', field, `expiry ${expiry} is not after the current height ${height}`)
  if (expiry <= h + BigInt(limits.minExpiryDelta))
    throw new HtlcRejectedError('HTLC_EXPIRY', field, `expiry ${expiry} is within ${limits.minExpiryDelta} blocks of height ${height}: too soon to claim on chain`)
  if (expiry > h + BigInt(limits.maxExpiryDelta))
    throw new HtlcRejectedError('HTLC_EXPIRY', field, `expiry ${expiry} is more than ${limits.maxExpiryDelta} blocks after height ${height}`)
}

/** The offerer may have at most `maxAcceptedHtlcs` HTLCs pending before this add. */
function checkPendingCount(field: string, state: ChannelState, offerer: PartyIndex, limits: HtlcLimits): void {
  const n = pendingOf(state, offerer)
  if (n >= limits.maxAcceptedHtlcs)
    throw new HtlcRejectedError('HTLC_LIMIT', field, `${n} HTLCs already pending from this side: at most ${limits.maxAcceptedHtlcs} (max_accepted_htlcs)`)
}

export function findEntry(state: ChannelState, id: Uint8Array, field = 'lockId'): LockedEntry {
  if (!(id instanceof Uint8Array) || id.length !== 32) throw new HtlcRejectedError('HTLC_UNKNOWN', field, `expected a 32-byte lock id, got ${describe(id)}`)
  for (const e of state.locked) if (bytesEqual(e.id, id)) return e
  throw new HtlcRejectedError('HTLC_UNKNOWN', field, 'no such HTLC in the channel state')
}

function next(state: ChannelState, balances: readonly [Amount, Amount], locked: LockedEntry[]): ChannelState {
  return { channelId: state.channelId, version: state.version + 1n, balances, locked, isFinal: false }
}

/** The state after `from` offers an HTLC (validated: amount within its balance, hash, expiry bounds at `height`). */
export function buildAdd(state: ChannelState, from: PartyIndex, htlc: NewHtlc, height: number, limits: HtlcLimits = DEFAULT_HTLC_LIMITS): ChannelState {
  if (typeof htlc.amount !== 'bigint' || htlc.amount <= 0n)
    throw new HtlcRejectedError('HTLC_AMOUNT', 'amount', `expected a positive bigint amount, got ${describe(htlc.amount)}`)
  toPositiveAmount('amount', htlc.amount)
  const total = state.balances[0] + state.balances[1] + state.locked.reduce((s, e) => s + e.amount, 0n)
  if (htlc.amount > total) throw new HtlcRejectedError('HTLC_AMOUNT', 'amount', `amount ${htlc.amount} exceeds the channel capacity ${total}`)
  if (htlc.amount > state.balances[from])
    throw new HtlcRejectedError('HTLC_AMOUNT', 'amount', `amount ${htlc.amount} exceeds the offerer's balance ${state.balances[from]}`, {
      details: { have: state.balances[from], need: htlc.amount },
    })
  checkHash('hash', htlc.hash)
  checkExpiry('expiry', htlc.expiry, height, limits)
  checkPendingCount('state.locked', state, from, limits)
  if (!(htlc.id instanceof Uint8Array) || htlc.id.length !== 32) throw new InvalidInputError('id', 'expected a 32-byte lock id')
  for (const e of state.locked) if (bytesEqual(e.id, htlc.id)) throw new HtlcRejectedError('HTLC_POLICY', 'id', 'lock id already in use')
  const b: [Amount, Amount] = [state.balances[0], state.balances[1]]
  b[from] -= htlc.amount
  const entry: LockedEntry = { id: htlc.id, amount: htlc.amount, direction: from, hash: htlc.hash, expiry: htlc.expiry }
  return next(state, b, [...state.locked, entry])
}

/** The state after the receiver `me` settles HTLC `id` with `preimage` (before expiry). */
export function buildSettle(state: ChannelState, me: PartyIndex, id: Uint8Array, preimage: Uint8Array, height: number): ChannelState {
  const e = findEntry(state, id)
  if (e.direction === me) throw new HtlcRejectedError('HTLC_POLICY', 'lockId', 'only the receiver of an HTLC settles it')
  checkPreimage('preimage', preimage, e.hash)
  if (BigInt(height) >= e.expiry) throw new HtlcRejectedError('HTLC_EXPIRY', 'lockId', `HTLC expired at height ${e.expiry}`)
  return remove(state, e, me)
}

/**
 * The state after `me` fails HTLC `id`: the receiver may fail at any time,
 * the offerer only once `height` reaches the expiry. The amount returns to the offerer.
 */
export function buildFail(state: ChannelState, me: PartyIndex, id: Uint8Array, height: number): ChannelState {
  const e = findEntry(state, id)
  if (e.direction === me && BigInt(height) < e.expiry)
    throw new HtlcRejectedError('HTLC_EXPIRY', 'lockId', `the offerer may fail its HTLC only from height ${e.expiry}`)
  return remove(state, e, e.direction)
}

function remove(state: ChannelState, e: LockedEntry, to: PartyIndex): ChannelState {
  const b: [Amount, Amount] = [state.balances[0], state.balances[1]]
  b[to] += e.amount
  return next(
    state,
    b,
    state.locked.filter((x) => x !== e),
  )
}

export interface HtlcPolicyContext {
  /** Current L1 height. */
  height(): number
  /** A preimage the peer revealed for `hash` (through a fulfil message or on L1). */
  preimageFor(hash: Uint8Array): Uint8Array | undefined
  limits?: HtlcLimits
}

/** What a validated proposal did. */
export type HtlcOp =
  | { type: 'none' }
  | { type: 'add'; entry: LockedEntry }
  | { type: 'settle'; entry: LockedEntry }
  | { type: 'fail'; entry: LockedEntry }

/**
 * Classifies and validates the peer's proposal `prev → nextState` from the
 * side of `me`. Exactly one locked entry may change per update. Throws
 * HtlcRejectedError (or payment-channel's ChannelError for plain updates).
 */
export function checkHtlcUpdate(
  ctx: HtlcPolicyContext,
  prev: ChannelState,
  nextState: ChannelState,
  me: PartyIndex,
  topUp: Amount,
): HtlcOp {
  const them = other(me)
  // The same locked list (a step of a merged proposal that moves only balances): no HTLC changes, nothing to index.
  if (prev.locked === nextState.locked) return noHtlcChange(prev, nextState, me, topUp)
  const prevIds = new Map(prev.locked.map((e) => [Buffer.from(e.id).toString('hex'), e]))
  const nextIds = new Map(nextState.locked.map((e) => [Buffer.from(e.id).toString('hex'), e]))
  const added: LockedEntry[] = []
  const removed: LockedEntry[] = []
  for (const [k, e] of nextIds) {
    const p = prevIds.get(k)
    if (p === undefined) added.push(e)
    else if (p.amount !== e.amount || p.direction !== e.direction || p.expiry !== e.expiry || !bytesEqual(p.hash, e.hash))
      throw new HtlcRejectedError('HTLC_POLICY', 'state.locked', 'proposal modifies an existing HTLC')
  }
  for (const [k, e] of prevIds) if (!nextIds.has(k)) removed.push(e)
  if (added.length === 0 && removed.length === 0) return noHtlcChange(prev, nextState, me, topUp)
  if (added.length + removed.length !== 1) throw new HtlcRejectedError('HTLC_POLICY', 'state.locked', 'one HTLC change per update')
  if (topUp !== 0n) throw new HtlcRejectedError('HTLC_POLICY', 'topUp', 'an HTLC update carries no top-up')
  if (nextState.isFinal) throw new HtlcRejectedError('HTLC_POLICY', 'state.isFinal', 'an HTLC update is not a closing state')
  const height = ctx.height()
  const d = [nextState.balances[0] - prev.balances[0], nextState.balances[1] - prev.balances[1]] as const
  const e = (added[0] ?? removed[0]) as LockedEntry
  if (added.length === 1) {
    if (e.direction !== them) throw new HtlcRejectedError('HTLC_POLICY', 'state.locked', 'the peer may only lock its own funds')
    if (d[them] !== -e.amount || d[me] !== 0n)
      throw new HtlcRejectedError('HTLC_AMOUNT', 'state.balances', 'an add must debit exactly its amount from the offerer')
    const limits = ctx.limits ?? DEFAULT_HTLC_LIMITS
    checkExpiry('state.locked.expiry', e.expiry, height, limits)
    checkPendingCount('state.locked', prev, them, limits)
    return { type: 'add', entry: e }
  }
  if (e.direction === me) {
    // An HTLC we offered: the peer settles it (with a preimage we know) or fails it back to us.
    if (d[them] === e.amount && d[me] === 0n) {
      const preimage = ctx.preimageFor(e.hash)
      if (preimage === undefined || !bytesEqual(sha256(preimage), e.hash))
        throw new HtlcRejectedError('HTLC_BAD_PREIMAGE', 'state.locked', 'settle without a matching preimage revealed to us')
      if (BigInt(height) >= e.expiry) throw new HtlcRejectedError('HTLC_EXPIRY', 'state.locked', `HTLC expired at height ${e.expiry}`)
      return { type: 'settle', entry: e }
    }
    if (d[me] === e.amount && d[them] === 0n) return { type: 'fail', entry: e }
    throw new HtlcRejectedError('HTLC_AMOUNT', 'state.balances', 'removing an HTLC must pay its amount to one side')
  }
  // An HTLC the peer offered us: it may take it back only after expiry.
  if (d[them] === e.amount && d[me] === 0n) {
    if (BigInt(height) < e.expiry)
      throw new HtlcRejectedError('HTLC_EXPIRY', 'state.locked', `the offerer may fail its HTLC only from height ${e.expiry}`)
    return { type: 'fail', entry: e }
  }
  throw new HtlcRejectedError('HTLC_POLICY', 'state.locked', 'the offerer cannot settle its own HTLC')
}

/** An update that changes no HTLC: payment-channel's default policy, and no closing state while HTLCs are pending. */
function noHtlcChange(prev: ChannelState, nextState: ChannelState, me: PartyIndex, topUp: Amount): HtlcOp {
  // BOLT 2: no closing state while HTLCs are pending. A final state fixes the HTLCs in it for ever:
  // we could settle none off chain any more, and the peer could submit it after an expiry.
  if (nextState.isFinal && nextState.locked.length > 0)
    throw new HtlcRejectedError('HTLC_POLICY', 'state.isFinal', `a closing state with ${nextState.locked.length} HTLCs pending: settle or fail them first`)
  defaultPolicy(prev, nextState, me, topUp)
  return { type: 'none' }
}

/** payment-channel policy (use with `policyReplacesDefault: true`). */
export function htlcPolicy(ctx: HtlcPolicyContext): UpdatePolicy {
  return (prev, nextState, me, topUp) => {
    checkHtlcUpdate(ctx, prev, nextState, me, topUp)
  }
}
