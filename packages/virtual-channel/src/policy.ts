/**
 * What a VirtualNode countersigns: one UpdatePolicy for every channel of its
 * ChannelNode (replacing payment-channel's default, which it reuses).
 *
 * Virtual channel (Alice–Bob): payment-channel's default — the proposal may
 * not lower our balance, a final state moves no money — plus: no locked
 * entries, no top-ups, and nothing once the channel is not `active` (it was
 * registered on L1, or is settling).
 *
 * Ledger channel: updates that leave locked entries alone follow the
 * default. A locked entry may change only as one virtual lock per update,
 * proposed by Ingrid (Ingrid herself refuses every lock change her peer
 * proposes), and only when it is exactly what this node agreed to:
 *   lock    a virtual channel we agreed to and not yet activated (Alice after
 *           Bob's acceptance, Bob after signing version 0): the lock of our
 *           side (id, amount, direction, expiry) and the two shares taken from
 *           exactly the right balances;
 *   unlock  by the virtual channel's final outcome on L1 if there is one
 *           (what L1 would pay the lock by anyway), else by the final virtual
 *           state we hold (signed by both), else — never activated — by the
 *           deposits (an abort): the lock removed, the balances credited
 *           exactly.
 */
import { type Address, bytesEqual } from '@l2bench/core'
import {
  type Balances,
  type ChannelState,
  type LockedEntry,
  type PartyIndex,
  type SignedState,
  type UpdatePolicy,
  ChannelError,
  defaultPolicy,
  sameLocked,
} from '@l2bench/payment-channel'
import { VirtualError } from './errors.ts'
import { type Side, lockFor, sideOfLedger, withLock, withoutLock } from './params.ts'
import type { VirtualRecord } from './store.ts'

export interface PolicyDeps {
  /** The record of a virtual channel id (hex, no 0x). */
  record(vidHex: string): VirtualRecord | undefined
  /** Whether this channel id is one of our virtual channels (not a ledger). */
  isVirtual(channelIdHex: string): boolean
  /** Parties of a ledger channel of ours, in its order. */
  ledgerParties(channelIdHex: string): readonly [Address, Address]
  /** Our newest fully signed state of a virtual channel, if we run it. */
  virtualLatest(vidHex: string): SignedState | undefined
  /** The virtual channel's outcome on L1 once it is final (registered and past its window, or concluded). */
  finalOutcome(vidHex: string): Balances | undefined
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

/** Statuses in which this node agreed to a virtual channel that Ingrid has not activated. */
const PRE_ACTIVE = new Set(['proposed', 'accepted', 'funding', 'aborted'])

/**
 * The policy. Its refusals reach the proposer as payment-channel's
 * ChannelError POLICY (what its responder answers with a `reject`), naming
 * the field; the virtual reason (MISMATCH, STATE, …) leads the message.
 */
export function virtualPolicy(deps: PolicyDeps): UpdatePolicy {
  const check = checks(deps)
  return (prev, next, me, topUp) => {
    try {
      check(prev, next, me, topUp)
    } catch (err) {
      if (err instanceof VirtualError) throw new ChannelError('POLICY', err.field ?? 'state', `${err.code}: ${err.message}`, { cause: err })
      throw err
    }
  }
}

function checks(deps: PolicyDeps): UpdatePolicy {
  return (prev, next, me, topUp) => {
    const idHex = hex(prev.channelId)
    if (deps.isVirtual(idHex)) {
      const rec = deps.record(idHex)
      if (rec === undefined || rec.status !== 'active') throw new VirtualError('STATE', 'state.channelId', `virtual channel is ${rec?.status ?? 'unknown'}`)
      if (topUp !== 0n) throw new ChannelError('POLICY', 'topUp', 'a virtual channel takes no top-ups')
      if (next.locked.length > 0) throw new ChannelError('POLICY', 'state.locked', 'a virtual channel carries no locked entries')
      defaultPolicy(prev, next, me, topUp)
      return
    }
    const { added, removed } = lockDiff(prev.locked, next.locked)
    if (added.length === 0 && removed.length === 0) {
      defaultPolicy(prev, next, me, topUp)
      return
    }
    if (added.length + removed.length > 1) throw new ChannelError('POLICY', 'state.locked', 'one virtual lock per update')
    if (topUp !== 0n || next.isFinal) throw new ChannelError('POLICY', 'state.locked', 'a lock change is neither a top-up nor a closing state')
    const lock = (added[0] ?? removed[0]) as LockedEntry
    const field = `state.locked[${added.length > 0 ? next.locked.indexOf(lock) : prev.locked.indexOf(lock)}]`
    const rec = deps.record(hex(lock.id))
    if (rec === undefined) throw new VirtualError('UNKNOWN_VIRTUAL', `${field}.id`, 'no virtual channel of ours with this id')
    if (rec.role === 'ingrid') throw new ChannelError('POLICY', field, 'only the intermediary proposes virtual lock changes')
    const side: Side = rec.role === 'alice' ? 'a' : 'b'
    if (sideOfLedger(rec.params, prev.channelId) !== side) throw new VirtualError('MISMATCH', `${field}.id`, 'the lock is not for this ledger')
    const expected = lockFor(rec.params, side, deps.ledgerParties(idHex), rec.vid)
    if (!sameLocked([lock], [expected])) throw new VirtualError('MISMATCH', field, 'the lock is not the agreed one (amount, direction, hash or expiry)')
    let want: ChannelState
    if (added.length > 0) {
      if (rec.status !== (rec.role === 'alice' ? 'funding' : 'accepted'))
        throw new VirtualError('STATE', field, `virtual channel is ${rec.status}: no lock expected now`)
      want = withLock(prev, rec.params, expected)
    } else {
      want = withoutLock(prev, expected, unlockOutcome(deps, rec, field))
    }
    checkBalances(next.balances, want.balances, me)
  }
}

/** What a lock is unlocked by: the final state we hold, or the deposits for a channel never activated. */
function unlockOutcome(deps: PolicyDeps, rec: VirtualRecord, field: string): Balances {
  const onL1 = deps.finalOutcome(hex(rec.vid))
  if (onL1 !== undefined) return onL1
  if (rec.status === 'disputed') throw new VirtualError('STATE', field, 'the virtual channel’s dispute on L1 is not over')
  if (PRE_ACTIVE.has(rec.status)) return rec.params.deposits
  const latest = deps.virtualLatest(hex(rec.vid))
  if (latest === undefined || !latest.state.isFinal || latest.sigs[0]?.length !== 64 || latest.sigs[1]?.length !== 64)
    throw new VirtualError('STATE', field, 'we hold no final state of this virtual channel signed by both')
  return latest.state.balances
}

function checkBalances(got: Balances, want: Balances, me: PartyIndex): void {
  for (const i of [me, me === 0 ? 1 : 0] as const)
    if (got[i] !== want[i]) throw new VirtualError('MISMATCH', `state.balances[${i}]`, `expected ${want[i]}, got ${got[i]}`)
}

/** Locked entries added and removed by an update (by id); an entry changed in place is refused. */
export function lockDiff(prev: readonly LockedEntry[], next: readonly LockedEntry[]): { added: LockedEntry[]; removed: LockedEntry[] } {
  const before = new Map(prev.map((e) => [hex(e.id), e]))
  const after = new Map(next.map((e) => [hex(e.id), e]))
  const added: LockedEntry[] = []
  const removed: LockedEntry[] = []
  for (const [k, e] of after) {
    const old = before.get(k)
    if (old === undefined) added.push(e)
    else if (!sameLocked([old], [e])) throw new ChannelError('POLICY', 'state.locked', 'a locked entry changed in place')
  }
  for (const [k, e] of before) if (!after.has(k)) removed.push(e)
  return { added, removed }
}

/** Whether a ledger state holds the lock of `vid`. */
export function holdsLock(state: ChannelState, vid: Uint8Array): boolean {
  return state.locked.some((e) => bytesEqual(e.id, vid))
}
