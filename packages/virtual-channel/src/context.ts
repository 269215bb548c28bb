/**
 * What the parts of a VirtualNode share: the ChannelNode (ledger and virtual
 * channels alike), the records (the only writer of the VirtualStore: store
 * first, then memory), sending on the coordination links, limits, clocks,
 * and lookups of ledger channels.
 */
import type { Address, Amount, Signer, Verifier } from '@l2bench/core'
import type { L1 } from '@l2bench/l1-mock'
import { type ChannelNode, type Machine, type SignedState, other } from '@l2bench/payment-channel'
import { type VirtualDispute, isFinalOutcome } from './adjudicator.ts'
import type { VirtualClient } from './client.ts'
import { VirtualError } from './errors.ts'
import type { Side, VirtualParams } from './params.ts'
import type { Role, VirtualRecord, VirtualStore } from './store.ts'
import type { VirtualMessage } from './wire.ts'

/** What a node agrees to when others open virtual channels through it or with it. */
export interface VirtualLimits {
  /** As Bob: most of our own money locked into a virtual channel someone else opens (default 0). */
  maxShare: Amount
  /** As Ingrid: most collateral (x_A + x_B) locked for one virtual channel (default 0: a hub says what it lends). */
  maxCollateral: Amount
  /** Shortest virtual dispute window accepted, blocks (default 3). */
  minDisputeWindow: number
  /** Longest virtual dispute window accepted, blocks (default 10,000). */
  maxDisputeWindow: number
  /** As Ingrid: latest validity accepted, blocks from now — how long silent Alice and Bob can keep her collateral locked (default 100,000). */
  maxValidity: number
  /** As Bob and as Ingrid: virtual channels of one peer waiting for their locks at once (default 8; each is a stored record). */
  maxPendingPerPeer: number
}

export const DEFAULT_VIRTUAL_LIMITS: Readonly<VirtualLimits> = {
  maxShare: 0n,
  maxCollateral: 0n,
  minDisputeWindow: 3,
  maxDisputeWindow: 10_000,
  maxValidity: 100_000,
  maxPendingPerPeer: 8,
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

export class Records {
  readonly byId = new Map<string, VirtualRecord>()

  constructor(
    private readonly store: VirtualStore,
    private readonly stopped: () => boolean,
  ) {
    for (const r of store.loadAll()) this.byId.set(hex(r.vid), r)
  }

  get(vid: Uint8Array | string): VirtualRecord | undefined {
    return this.byId.get(typeof vid === 'string' ? vid.replace(/^0x/, '').toLowerCase() : hex(vid))
  }

  /** The record or UNKNOWN_VIRTUAL naming `field`. */
  require(vid: Uint8Array | string, field = 'channelId'): VirtualRecord {
    const r = this.get(vid)
    if (r === undefined) throw new VirtualError('UNKNOWN_VIRTUAL', field, 'no virtual channel with this id here')
    return r
  }

  /** Durable first, then in memory. */
  save(r: VirtualRecord): VirtualRecord {
    if (this.stopped()) throw new VirtualError('STOPPED', 'node', 'node stopped')
    this.store.save(r)
    this.byId.set(hex(r.vid), r)
    return r
  }

  update(r: VirtualRecord, change: Partial<VirtualRecord>): VirtualRecord {
    return this.save({ ...r, ...change })
  }

  all(): VirtualRecord[] {
    return [...this.byId.values()]
  }
}

export interface VirtualContext {
  readonly address: Address
  readonly signer: Signer
  readonly verifier: Verifier
  readonly channel: ChannelNode
  readonly client: VirtualClient
  readonly l1: L1
  readonly records: Records
  readonly limits: VirtualLimits
  /** The L1 outcome of each virtual channel registered there (from events and reads; not persisted: re-read after a restart). */
  readonly outcomes: Map<string, KnownOutcome>
  send(peer: Address, msg: VirtualMessage): void
  record(err: unknown): void
  now(): number
  stopped(): boolean
}

/** A registration as read from L1, with the height it was read at (the head before the read). */
export interface KnownOutcome extends VirtualDispute {
  readAt: number
}

/**
 * Reads a virtual channel's registration on L1 (undefined: never
 * registered) into `ctx.outcomes`.
 */
export async function readOutcome(ctx: VirtualContext, vid: Uint8Array): Promise<KnownOutcome | undefined> {
  const readAt = ctx.l1.head().height
  const d = await ctx.client.dispute(vid)
  if (d === undefined) return undefined
  const known = { ...d, readAt }
  ctx.outcomes.set(hex(vid), known)
  return known
}

/**
 * Whether a cached registration was already final when it was read — only
 * then is it the outcome: one read inside its window may have been refuted
 * since, even if the deadline has passed by now (its balances would pay a
 * ledger by a stale state).
 */
export function finalWhenRead(d: KnownOutcome | undefined): boolean {
  return d !== undefined && isFinalOutcome(d, d.readAt)
}

/** The side of the virtual channel this role's own ledger is (Ingrid has both). */
export function sidesOfRole(role: Role): readonly Side[] {
  return role === 'alice' ? ['a'] : role === 'bob' ? ['b'] : ['a', 'b']
}

/** Who is at the other end of a side's ledger for this role. */
export function counterpartOf(p: VirtualParams, role: Role, side: Side): Address {
  if (role !== 'ingrid') return p.ingrid
  return side === 'a' ? p.alice : p.bob
}

/**
 * One of our ledger channels, checked: known, open, between us and
 * `counterpart`. Throws UNKNOWN_LEDGER naming `field`.
 */
export function ledgerWith(ctx: VirtualContext, ledgerId: Uint8Array, counterpart: Address, field: string): Machine {
  let m: Machine
  try {
    m = ctx.channel.machine(ledgerId)
  } catch {
    throw new VirtualError('UNKNOWN_LEDGER', field, 'no ledger channel of ours with this id')
  }
  if (m.phase !== 'open') throw new VirtualError('UNKNOWN_LEDGER', field, `the ledger channel is ${m.phase}`)
  if (m.params.parties[m.me] !== ctx.address || m.params.parties[other(m.me)] !== counterpart)
    throw new VirtualError('UNKNOWN_LEDGER', field, `the ledger channel is not ours with ${counterpart}`)
  return m
}

/** The counterpart's public key as registered in a ledger channel. */
export function peerKeyIn(m: Machine): Uint8Array {
  return m.params.publicKeys[other(m.me)] as Uint8Array
}

/** Our balance and the counterpart's in a ledger's newest signed state. */
export function ledgerBalances(m: Machine): { mine: Amount; theirs: Amount } {
  return { mine: m.latest.state.balances[m.me], theirs: m.latest.state.balances[other(m.me)] }
}

/** Our newest fully signed state of a channel the ChannelNode runs, or undefined. */
export function latestOf(channel: ChannelNode, id: Uint8Array | string): SignedState | undefined {
  try {
    const s = channel.latest(typeof id === 'string' ? (`0x${id.replace(/^0x/, '')}` as `0x${string}`) : id)
    return s.sigs[0]?.length === 64 && s.sigs[1]?.length === 64 ? s : undefined
  } catch {
    return undefined
  }
}

export function hasChannel(channel: ChannelNode, id: Uint8Array): boolean {
  try {
    channel.machine(id)
    return true
  } catch {
    return false
  }
}
