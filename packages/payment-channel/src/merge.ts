/**
 * Merged updates: one proposal (one state, one pair of signatures, one commit
 * per side) that carries several queued updates, each kept apart as an entry.
 *
 * An entry is what one update changes in the state before it: a signed delta
 * per balance, the locked entries it removes (by id) and the ones it appends.
 * Replaying the entries from the latest state gives one intermediate state
 * per update (all at the proposal's version) and, after the last, exactly the
 * proposed state. The responder replays them and checks every step as if it
 * were a proposal of its own (conservation, HTLC slots, its policy), so a
 * merged proposal is refused exactly when one of its updates would be — and
 * the refusal names that entry (`EntryError`). The proposer built each step
 * with the update's own `build`, so one update that does not apply (over-spend,
 * expired HTLC) fails alone and the others still go out.
 *
 * Pure functions only; protocol.ts checks merged proposals with them, runtime.ts
 * builds them from its queue with `planProposal`.
 */
import { type Amount, AmountError, type Codec, DecodeError, InvalidInputError, L2Error, MAX_AMOUNT, bytesEqual, codec } from '@l2bench/core'
import { ChannelError, type ChannelErrorCode } from './errors.ts'
import type { PlannedUpdate, UpdateKind } from './machine.ts'
import { type ChannelState, type LockedEntry, MAX_LOCKED, checkState, lockedEntryCodec, stateTotal } from './state.ts'

/** Most updates one proposal may carry on the wire (a node's own `maxMerge` is at most this). */
export const MAX_MERGE = 256
/** Default of the node option `maxMerge`: queued updates carried by one proposal. */
export const DEFAULT_MAX_MERGE = 64

/** What one update of a merged proposal changes. */
export interface Change {
  /** Added to A's and B's balance (negative: taken). */
  delta: readonly [bigint, bigint]
  /** Ids of locked entries it removes. */
  removed: Uint8Array[]
  /** Locked entries it appends (after the removal). */
  added: LockedEntry[]
}

/** One update inside our merged proposal: the request it serves and what it changes. */
export interface Part {
  ref: number
  kind: 'pay' | 'update'
  change: Change
}

/** A signed amount: one sign byte then the magnitude; minus zero is not canonical. */
export const signedAmount: Codec<bigint> = {
  kind: 'signedAmount',
  write(w, v, field) {
    if (typeof v !== 'bigint') throw new InvalidInputError(field, `expected a bigint, got ${typeof v}`)
    codec.bool.write(w, v < 0n, `${field}.negative`)
    codec.amount.write(w, v < 0n ? -v : v, field)
  },
  read(r, field) {
    const negative = codec.bool.read(r, `${field}.negative`)
    const abs = codec.amount.read(r, field)
    if (negative && abs === 0n) throw new DecodeError(field, 'negative zero is not canonical')
    return negative ? -abs : abs
  },
}

export const changeCodec = codec.struct({
  dA: signedAmount,
  dB: signedAmount,
  removed: codec.list(codec.fixedBytes(32), MAX_LOCKED),
  added: codec.list(lockedEntryCodec, MAX_LOCKED),
})
export type WireChange = codec.Infer<typeof changeCodec>

export function changeToWire(c: Change): WireChange {
  return { dA: c.delta[0], dB: c.delta[1], removed: c.removed, added: c.added }
}

export function changeFromWire(w: WireChange): Change {
  return { delta: [w.dA, w.dB], removed: w.removed, added: w.added }
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

/** The change from `prev` to `next` (locked entries compared by id). */
export function changeBetween(prev: ChannelState, next: ChannelState): Change {
  const before = new Set(prev.locked.map((e) => hex(e.id)))
  const after = new Set(next.locked.map((e) => hex(e.id)))
  return {
    delta: [next.balances[0] - prev.balances[0], next.balances[1] - prev.balances[1]],
    removed: prev.locked.filter((e) => !after.has(hex(e.id))).map((e) => e.id),
    added: next.locked.filter((e) => !before.has(hex(e.id))),
  }
}

/**
 * The state after `change` on `prev`, at `version`: balances moved, removed
 * ids dropped (each must exist), added entries appended. Throws a typed error
 * naming `field` when the change does not apply; the result is not yet
 * checked for conservation (checkState does that).
 */
export function applyChange(field: string, prev: ChannelState, change: Change, version: bigint): ChannelState {
  const balances: [Amount, Amount] = [prev.balances[0] + change.delta[0], prev.balances[1] + change.delta[1]]
  for (const i of [0, 1] as const)
    if (balances[i] < 0n) throw new ChannelError('CONSERVATION', `${field}.delta[${i}]`, `takes ${-change.delta[i]} from a balance of ${prev.balances[i]}`)
  let locked: LockedEntry[] = prev.locked as LockedEntry[]
  if (change.removed.length > 0) {
    const gone = new Set<string>()
    for (let i = 0; i < change.removed.length; i++) {
      const id = hex(change.removed[i] as Uint8Array)
      if (gone.has(id)) throw new InvalidInputError(`${field}.removed[${i}]`, 'lock id removed twice')
      gone.add(id)
    }
    locked = locked.filter((e) => !gone.has(hex(e.id)))
    if (prev.locked.length - locked.length !== gone.size) throw new InvalidInputError(`${field}.removed`, 'removes a locked entry the state does not hold')
  }
  if (change.added.length > 0) locked = [...locked, ...change.added]
  return { channelId: prev.channelId, version, balances, locked, isFinal: false }
}

/** Same states: version, balances, finality and locked entries in order. */
export function sameState(a: ChannelState, b: ChannelState): boolean {
  if (a.version !== b.version || a.isFinal !== b.isFinal || a.balances[0] !== b.balances[0] || a.balances[1] !== b.balances[1]) return false
  if (!bytesEqual(a.channelId, b.channelId) || a.locked.length !== b.locked.length) return false
  for (let i = 0; i < a.locked.length; i++) {
    const x = a.locked[i] as LockedEntry
    const y = b.locked[i] as LockedEntry
    if (x.amount !== y.amount || x.direction !== y.direction || x.expiry !== y.expiry || !bytesEqual(x.id, y.id) || !bytesEqual(x.hash, y.hash)) return false
  }
  return true
}

/**
 * A merged proposal refused because of one of its entries: `entry` is its
 * index, `code` and `field` those of the underlying refusal (field prefixed
 * with `entries[i]`). The whole proposal is refused (it is signed as one
 * state); the proposer fails or retries that update alone.
 */
export class EntryError extends ChannelError {
  override name = 'EntryError'
  constructor(
    readonly entry: number,
    inner: L2Error,
  ) {
    super(inner.code as ChannelErrorCode, `entries[${entry}]${inner.field === undefined ? '' : `.${inner.field}`}`, `entry ${entry}: ${inner.message}`, {
      cause: inner,
      details: { entry, ...inner.details },
    })
  }
}

/** Runs `check` for entry `i`; a typed refusal comes back as an EntryError naming it. */
export function forEntry<T>(i: number, check: () => T): T {
  try {
    return check()
  } catch (err) {
    if (err instanceof EntryError || !(err instanceof L2Error)) throw err
    throw new EntryError(i, err)
  }
}

/**
 * Replays `changes` from `prev` at `version` and checks each step: it applies,
 * conserves `total` (and holds at most MAX_LOCKED entries), and passes `check`
 * (the responder's policy, given the step before and after). Returns the
 * intermediate states, the last one being the merged state. A failing step
 * throws an EntryError naming it.
 */
export function replay(
  prev: ChannelState,
  changes: readonly Change[],
  version: bigint,
  total: Amount,
  check?: (before: ChannelState, after: ChannelState, i: number) => void,
): ChannelState[] {
  const steps: ChannelState[] = []
  let s = prev
  let locked: { of: readonly LockedEntry[] | undefined; sum: Amount } = { of: undefined, sum: 0n }
  for (let i = 0; i < changes.length; i++) {
    // Each update is judged as if proposed alone on the state before it (at the latest version).
    const before = i === 0 ? prev : { ...s, version: prev.version }
    const change = changes[i] as Change
    s = forEntry(i, () => {
      const t = applyChange('change', before, change, version)
      // A step that moves only balances keeps the locked list (the same array, already checked): the entries of a
      // merged proposal then cost O(1) each instead of O(locked) — policies see the same array and can skip it too.
      if (change.removed.length === 0 && change.added.length === 0 && t.locked === before.locked) {
        if (locked.of !== t.locked) locked = { of: t.locked, sum: t.locked.reduce((a, e) => a + e.amount, 0n) }
        checkBalances('state', t, locked.sum, total)
      } else checkState('state', t, total)
      check?.(before, t, i)
      return t
    })
    steps.push(s)
  }
  return steps
}

/** checkState for a state whose locked entries (holding `lockedSum`) are already checked: balances and Σ only. */
function checkBalances(field: string, t: ChannelState, lockedSum: Amount, total: Amount): void {
  for (const i of [0, 1] as const) {
    const b = t.balances[i]
    if (b < 0n || b > MAX_AMOUNT) throw new AmountError(`${field}.balances[${i}]`, `balance out of range: ${String(b)}`)
  }
  const sum = t.balances[0] + t.balances[1] + lockedSum
  if (sum !== total) throw new ChannelError('CONSERVATION', `${field}.balances`, `balances + locked = ${sum}, deposits = ${total}`)
}

/** What the planner needs of a queued request. */
export interface Mergeable {
  ref: number
  kind: UpdateKind
  build: (latest: ChannelState) => ChannelState
  topUp: Amount
  /** The peer refused a merged proposal because of it: it goes alone. */
  solo?: boolean
}

/** The next proposal built from a queue: the update, the requests it serves, and those that failed on their own. */
export interface ProposalPlan<R extends Mergeable> extends PlannedUpdate {
  taken: R[]
  failed: [R, unknown][]
}

/**
 * The next proposal from `queue`, on `latest`: the first request alone if it
 * cannot be merged (a top-up, a close, one the peer refused in a merged
 * proposal, or `maxMerge` 1), else up to `maxMerge` requests in queue order,
 * each built on the state the ones before it leave (at the latest version).
 * A request whose build throws or whose state is invalid (over-spend, too
 * many locked entries, a bad version) fails alone — it is in `failed` with
 * its error; a request that is not mergeable ends the merge (it goes next).
 * A single request carries no parts (the wire is the same as without merging).
 */
export function planProposal<R extends Mergeable>(queue: readonly R[], latest: ChannelState, maxMerge: number): ProposalPlan<R> {
  const failed: [R, unknown][] = []
  const taken: R[] = []
  const parts: Part[] = []
  const version = latest.version + 1n
  const total = stateTotal(latest)
  let s = latest
  for (const r of queue) {
    if (taken.length >= maxMerge) break
    const mergeable = maxMerge > 1 && r.solo !== true && (r.kind === 'pay' || r.kind === 'update')
    if (!mergeable && taken.length > 0) break
    let next: ChannelState
    try {
      next = r.build(taken.length === 0 ? latest : { ...s, version: latest.version })
    } catch (err) {
      failed.push([r, err])
      continue
    }
    // Alone (as before merging existed): step's own checks judge the state.
    if (!mergeable) return { next, kind: r.kind, ref: r.ref, topUp: r.topUp, taken: [r], failed }
    try {
      if (next.version !== version) throw new ChannelError('VERSION_GAP', 'state.version', `expected ${version}, got ${next.version}`)
      checkState('state', next, total)
    } catch (err) {
      failed.push([r, err])
      continue
    }
    const change = changeBetween(s, next)
    // A closing state, or a build that reorders locked entries, cannot be an entry: it goes alone (next time, if not first).
    if (next.isFinal || !sameState(applyChange('change', s, change, version), next)) {
      if (taken.length > 0) break
      return { next, kind: r.kind, ref: r.ref, topUp: r.topUp, taken: [r], failed }
    }
    taken.push(r)
    parts.push({ ref: r.ref, kind: r.kind as Part['kind'], change })
    s = next
  }
  const first = taken[0]
  if (first === undefined) return { next: latest, kind: 'pay', ref: 0, taken, failed }
  if (taken.length === 1) return { next: s, kind: first.kind, ref: first.ref, topUp: 0n, taken, failed }
  const kind: UpdateKind = taken.every((r) => r.kind === 'pay') ? 'pay' : 'update'
  return { next: s, kind, ref: first.ref, topUp: 0n, parts, taken, failed }
}
