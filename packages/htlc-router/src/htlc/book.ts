/**
 * The HTLC book of one node: every HTLC record, the channels it tracks, the
 * preimages it learnt, its invoices, route instructions received ahead of
 * their HTLC, the failure reasons peers reported, and the lock-id counter.
 *
 * The only writer of the HtlcStore: a record changes status only through
 * `transition`, which persists before it returns, and every other kind is
 * written through the setter that also updates memory. A stopped node writes
 * nothing (as a dead process would not), even from continuations still running.
 *
 * Bounded per channel: instructions received before their HTLC are kept for
 * at most `maxAcceptedHtlcs` lock ids per channel (the oldest is dropped
 * first: only the peer that flooded loses its own instructions), and a
 * failure reason is kept only for an unresolved HTLC we offered.
 *
 * Indexed: the unresolved records of each channel and the records of each
 * payment hash, so the per-block checks and a preimage learnt cost what is
 * open, not everything the node ever forwarded. Lock ids are taken from a
 * block reserved durably ahead (`LOCK_ID_RESERVE`), one write per block.
 */
import { type Address, type Amount, decode, encode, toHex } from '@l2bench/core'
import { type LockedEntry, type PartyIndex, channelIdHex } from '@l2bench/payment-channel'
import type { FailureCode } from '../sim/hop.ts'
import { lockIdFor } from './state.ts'
import {
  type HtlcRecordData,
  type HtlcStore,
  type HtlcStoreKind,
  counterCodec,
  failureCodec,
  htlcRecordCodec,
  instructionsCodec,
  invoiceCodec,
} from './store.ts'
import type { WireHop } from './wire.ts'

/** What a node asks for forwarding over one of its channels (BOLT 7 channel_update fields). */
export interface ForwardingPolicy {
  baseFee: bigint
  feeRatePpm: bigint
  cltvDelta: number
}

export interface PaymentFailure {
  code: FailureCode | string
  /** Node that failed the payment (the one that could not forward, or the receiver). */
  reporter: Address
}

export type PaymentOutcome =
  | { status: 'settled'; preimage: Uint8Array; onChain: boolean }
  | { status: 'failed'; failure: PaymentFailure; onChain: boolean }

export type HtlcStatus = 'offering' | 'pending' | 'settled' | 'failed'

export interface HtlcRecord {
  /** `${chanKey}:${lock id hex}` */
  key: string
  chanKey: string
  channelId: Uint8Array
  entry: LockedEntry
  /** Offered to us. */
  incoming: boolean
  status: HtlcStatus
  onChain: boolean
  /** Incoming: route instructions once received. */
  onward?: WireHop[]
  finalAmount?: Amount
  processed: boolean
  /** Outgoing: the incoming HTLC it serves (its key). */
  from?: string
  /** Outgoing: the sender's payment waiting for it (not persisted). */
  payment?: (o: PaymentOutcome) => void
  failure?: PaymentFailure
  /** A settle/fail proposal of ours is in flight (not persisted). */
  proposing: boolean
  /** Outgoing, 'offering': our add update is queued or in flight (not persisted). */
  adding: boolean
  /** Outgoing: its incoming HTLC was already failed back at expiry. */
  releasedUpstream: boolean
}

export interface TrackedChannel {
  channelId: Uint8Array
  key: string
  peer: Address
  me: PartyIndex
  /** The last fully signed state reconciled (undefined: none since the start, e.g. after a restart). */
  seen: { locked: readonly LockedEntry[]; balances: readonly [Amount, Amount] } | undefined
  forwarding: ForwardingPolicy
  /** An on-chain step (register or close) is under way. */
  closing: boolean
  finalizing: boolean
}

export interface Instructions {
  onward: WireHop[]
  finalAmount: Amount
}

type Optional<T> = { [K in keyof T]?: T[K] | undefined }
type NewRecord = Pick<HtlcRecord, 'channelId' | 'entry' | 'incoming' | 'status'> &
  Optional<Pick<HtlcRecord, 'onChain' | 'processed' | 'onward' | 'finalAmount' | 'from' | 'payment' | 'failure' | 'releasedUpstream'>>

/** Lock ids reserved per durable write of the counter: a restart continues after the reserved block (unused ids are skipped, never reused). */
export const LOCK_ID_RESERVE = 64

export function htlcKey(chanKey: string, lockId: Uint8Array): string {
  return `${chanKey}:${channelIdHex(lockId)}`
}

export function isResolved(rec: HtlcRecord): boolean {
  return rec.status === 'settled' || rec.status === 'failed'
}

export class Book {
  readonly htlcs = new Map<string, HtlcRecord>()
  readonly channels = new Map<string, TrackedChannel>()
  private readonly preimages = new Map<string, Uint8Array>()
  private readonly invoices = new Map<string, { preimage: Uint8Array; amount: Amount }>()
  /** chanKey → (htlc key → instructions), oldest first. */
  private readonly instructions = new Map<string, Map<string, Instructions>>()
  private readonly failures = new Map<string, PaymentFailure>()
  /** chanKey → keys of its unresolved records. */
  private readonly open = new Map<string, Set<string>>()
  /** payment hash (hex) → keys of its records. */
  private readonly byHash = new Map<string, Set<string>>()
  private counter = 0
  /** Lock ids below this are covered by the counter on disk. */
  private reserved = 0

  constructor(
    readonly store: HtlcStore,
    private readonly stopped: () => boolean,
    /** Instructions kept per channel before their HTLC arrives. */
    private readonly maxInstructions: number,
  ) {}

  /** Loads everything from the store (a restart). */
  load(): void {
    const st = this.store
    for (const [k, v] of st.all('preimage')) this.preimages.set(k, v)
    for (const [k, v] of st.all('invoice')) this.invoices.set(k, decode(invoiceCodec, v))
    for (const [k, v] of st.all('instructions')) this.instructionsOf(k.split(':')[0] as string).set(k, decode(instructionsCodec, v))
    for (const [k, v] of st.all('failure')) this.failures.set(k, decode(failureCodec, v))
    for (const [k, v] of st.all('meta')) if (k === 'counter') this.counter = Number(decode(counterCodec, v))
    this.reserved = this.counter
    for (const [key, v] of st.all('htlc')) {
      const d = decode(htlcRecordCodec, v)
      this.index(this.build(key, d))
    }
  }

  private index(rec: HtlcRecord): void {
    this.htlcs.set(rec.key, rec)
    const h = toHex(rec.entry.hash)
    let byHash = this.byHash.get(h)
    if (byHash === undefined) {
      byHash = new Set()
      this.byHash.set(h, byHash)
    }
    byHash.add(rec.key)
    this.reindex(rec)
  }

  /** Keeps the open index in step with the record's status. */
  private reindex(rec: HtlcRecord): void {
    let open = this.open.get(rec.chanKey)
    if (isResolved(rec)) {
      open?.delete(rec.key)
      return
    }
    if (open === undefined) {
      open = new Set()
      this.open.set(rec.chanKey, open)
    }
    open.add(rec.key)
  }

  private unindex(rec: HtlcRecord): void {
    this.htlcs.delete(rec.key)
    this.open.get(rec.chanKey)?.delete(rec.key)
    const h = toHex(rec.entry.hash)
    const byHash = this.byHash.get(h)
    byHash?.delete(rec.key)
    if (byHash?.size === 0) this.byHash.delete(h)
  }

  private put(kind: HtlcStoreKind, key: string, value: Uint8Array | undefined): void {
    if (!this.stopped()) this.store.put(kind, key, value)
  }

  /** Makes every write so far durable (a store that defers puts commits them; others have nothing to do). */
  flush(): void {
    if (!this.stopped()) this.store.flush?.()
  }

  private build(key: string, d: NewRecord): HtlcRecord {
    return {
      key,
      chanKey: key.split(':')[0] as string,
      channelId: d.channelId,
      entry: d.entry,
      incoming: d.incoming,
      status: d.status,
      onChain: d.onChain ?? false,
      processed: d.processed ?? false,
      proposing: false,
      adding: false,
      releasedUpstream: d.releasedUpstream ?? false,
      ...(d.onward === undefined ? {} : { onward: d.onward }),
      ...(d.finalAmount === undefined ? {} : { finalAmount: d.finalAmount }),
      ...(d.from === undefined ? {} : { from: d.from }),
      ...(d.payment === undefined ? {} : { payment: d.payment }),
      ...(d.failure === undefined ? {} : { failure: d.failure }),
    }
  }

  /** The one record constructor: adds it to the book and persists it. */
  create(chanKey: string, d: NewRecord): HtlcRecord {
    const rec = this.build(htlcKey(chanKey, d.entry.id), d)
    this.index(rec)
    this.save(rec)
    return rec
  }

  /** Forgets a record whose add never made it into a signed state. */
  drop(rec: HtlcRecord): void {
    this.unindex(rec)
    this.put('htlc', rec.key, undefined)
  }

  save(rec: HtlcRecord): void {
    const data: HtlcRecordData = {
      channelId: rec.channelId,
      entry: rec.entry,
      incoming: rec.incoming,
      status: rec.status,
      onChain: rec.onChain,
      processed: rec.processed,
      onward: rec.onward,
      finalAmount: rec.finalAmount,
      from: rec.from,
      releasedUpstream: rec.releasedUpstream,
      failure: rec.failure === undefined ? undefined : { code: String(rec.failure.code).slice(0, 64), reporter: rec.failure.reporter },
    }
    this.put('htlc', rec.key, encode(htlcRecordCodec, data))
  }

  /**
   * Moves `rec` to `status` and persists it. A resolved record stays
   * resolved: returns false (and changes nothing) for a record already
   * settled or failed.
   */
  transition(rec: HtlcRecord, status: HtlcStatus, how: { onChain?: boolean; failure?: PaymentFailure } = {}): boolean {
    if (isResolved(rec)) return false
    rec.status = status
    if (how.onChain !== undefined) rec.onChain = how.onChain
    if (how.failure !== undefined) rec.failure = how.failure
    if (isResolved(rec)) {
      rec.proposing = false
      rec.adding = false
    }
    this.reindex(rec)
    this.save(rec)
    // The reason is in the record now.
    if (isResolved(rec)) this.clearFailure(rec.key)
    return true
  }

  /** Unresolved records, of one channel or all. */
  unresolved(chanKey?: string): HtlcRecord[] {
    const out: HtlcRecord[] = []
    const add = (keys: Set<string> | undefined) => {
      for (const k of keys ?? []) out.push(this.htlcs.get(k) as HtlcRecord)
    }
    if (chanKey !== undefined) add(this.open.get(chanKey))
    else for (const keys of this.open.values()) add(keys)
    return out
  }

  /** Whether any record is unresolved (the per-block checks have nothing to do otherwise). */
  hasUnresolved(): boolean {
    for (const keys of this.open.values()) if (keys.size > 0) return true
    return false
  }

  /** Every record (resolved or not) of the payment hash `hash`. */
  withHash(hash: Uint8Array): HtlcRecord[] {
    return [...(this.byHash.get(toHex(hash)) ?? [])].map((k) => this.htlcs.get(k) as HtlcRecord)
  }

  // ---------------------------------------------------------------- preimages and invoices

  preimage(hash: Uint8Array): Uint8Array | undefined {
    return this.preimages.get(toHex(hash))
  }

  /** Durable before anything (our policy accepting a settle) relies on it. */
  setPreimage(hash: Uint8Array, preimage: Uint8Array): void {
    const k = toHex(hash)
    if (this.preimages.has(k)) return
    // A plain copy: a preimage decoded from a frame may be a view into a Buffer.
    const copy = Uint8Array.from(preimage)
    this.put('preimage', k, copy)
    this.preimages.set(k, copy)
  }

  invoice(hash: Uint8Array): { preimage: Uint8Array; amount: Amount } | undefined {
    return this.invoices.get(toHex(hash))
  }

  addInvoice(hash: Uint8Array, preimage: Uint8Array, amount: Amount): void {
    this.put('invoice', toHex(hash), encode(invoiceCodec, { preimage, amount }))
    this.invoices.set(toHex(hash), { preimage: preimage.slice(), amount })
  }

  // ---------------------------------------------------------------- instructions and failures

  private instructionsOf(chanKey: string): Map<string, Instructions> {
    let m = this.instructions.get(chanKey)
    if (m === undefined) {
      m = new Map()
      this.instructions.set(chanKey, m)
    }
    return m
  }

  /**
   * Keeps the route instructions for HTLC `key` until it arrives. Returns the
   * key of the instructions dropped to stay within the per-channel bound.
   */
  putInstructions(chanKey: string, key: string, instr: Instructions): string | undefined {
    const m = this.instructionsOf(chanKey)
    let dropped: string | undefined
    if (!m.has(key) && m.size >= this.maxInstructions) {
      dropped = m.keys().next().value as string
      m.delete(dropped)
      this.put('instructions', dropped, undefined)
    }
    m.delete(key)
    m.set(key, instr)
    this.put('instructions', key, encode(instructionsCodec, instr))
    return dropped
  }

  takeInstructions(rec: HtlcRecord): Instructions | undefined {
    const m = this.instructions.get(rec.chanKey)
    const instr = m?.get(rec.key)
    if (instr === undefined) return undefined
    m?.delete(rec.key)
    this.put('instructions', rec.key, undefined)
    return instr
  }

  instructionCount(chanKey: string): number {
    return this.instructions.get(chanKey)?.size ?? 0
  }

  failure(key: string): PaymentFailure | undefined {
    return this.failures.get(key)
  }

  setFailure(key: string, f: PaymentFailure): void {
    this.put('failure', key, encode(failureCodec, { code: String(f.code).slice(0, 64), reporter: f.reporter }))
    this.failures.set(key, f)
  }

  private clearFailure(key: string): void {
    if (!this.failures.delete(key)) return
    this.put('failure', key, undefined)
  }

  // ---------------------------------------------------------------- lock ids

  /** A fresh lock id for an HTLC we offer; the counter covering it is durable before the id is used. */
  nextLockId(offerer: Address): Uint8Array {
    if (this.counter >= this.reserved) {
      this.reserved = this.counter + LOCK_ID_RESERVE
      this.put('meta', 'counter', encode(counterCodec, BigInt(this.reserved)))
    }
    return lockIdFor(offerer, this.counter++)
  }
}
