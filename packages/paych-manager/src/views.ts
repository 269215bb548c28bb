/**
 * The manager's in-memory view of each channel, and the only code that writes
 * a channel record: `commit` stores a change (with any other rows that belong
 * to it, in one transaction) and only then applies it in memory, so memory is
 * never ahead of the disk. Phase changes go through one transition table.
 */
import { type Address, toAddress } from '@l2bench/core'
import type { L1, TxHash } from '@l2bench/l1-mock'
import type { ChannelInfo } from './contract.ts'
import { PaychError } from './errors.ts'
import type { ChannelState, LaneState } from './rules.ts'
import type { ChannelPhase, ChannelRecord, PaychStore, StoredVoucher } from './store.ts'
import { type SignedVoucher, decodeVoucher } from './voucher.ts'

/** A funding request queued behind an in-flight message: resolved with the id of the message that carries it. */
export interface Waiter {
  resolve: (hash: TxHash) => void
  reject: (err: Error) => void
  amount: bigint
  reserve: bigint
}

/** Chain state of an inbound channel with the stored vouchers replayed on top. */
export interface Overlay {
  info: ChannelInfo
  chainLanes: Map<number, LaneState | undefined>
  state: ChannelState
  lanes: Map<number, LaneState>
}

export interface ChannelView {
  rec: ChannelRecord
  /** False for an inbound channel only looked at (not tracked until something is stored for it). */
  persisted: boolean
  lanes: Map<number, LaneState>
  toSend: bigint
  reserved: bigint
  vouchers: StoredVoucher[]
  decoded: SignedVoucher[]
  waiters: Waiter[]
  overlay: Overlay | undefined
}

/** A change to a channel record (identity fields are fixed) and/or its reservation. */
export type ViewPatch = Partial<Omit<ChannelRecord, 'channel' | 'direction' | 'from' | 'to' | 'fromKey' | 'seq'>> & { reserved?: bigint }

/**
 * Phase transitions (go-perun's validPhaseTransitions): creating → open →
 * settling → closed; creating → failed when the create message failed.
 * A Settle or Collect seen before our own create receipt is processed moves
 * a creating channel on directly. Moves not listed are ignored, so a late
 * receipt never moves a channel back.
 */
const MOVES: Record<ChannelPhase, readonly ChannelPhase[]> = {
  creating: ['open', 'failed', 'settling', 'closed'],
  open: ['settling', 'closed'],
  settling: ['closed'],
  closed: [],
  failed: [],
}

function move(rec: ChannelRecord, to: ChannelPhase): ViewPatch {
  return MOVES[rec.phase].includes(to) ? { phase: to } : {}
}

export const toOpen = (rec: ChannelRecord): ViewPatch => move(rec, 'open')
export const toFailed = (rec: ChannelRecord): ViewPatch => move(rec, 'failed')
export const toClosed = (rec: ChannelRecord): ViewPatch => move(rec, 'closed')
export function toSettling(rec: ChannelRecord, settlingAt: number): ViewPatch {
  const m = move(rec, 'settling')
  return m.phase !== undefined || rec.phase === 'settling' ? { ...m, settlingAt } : {}
}

/** Channels that can still be paid and funded. */
export function isActive(rec: ChannelRecord): boolean {
  return rec.phase === 'creating' || rec.phase === 'open'
}

/** Free funds: confirmed + pending + queued − vouchers − reservations. */
export function available(view: ChannelView): bigint {
  const r = view.rec
  return r.confirmed + r.pendingAmount + r.queued - view.toSend - view.reserved
}

export interface ViewsDeps {
  store: PaychStore
  l1: L1
  contract: Address
  /** The account the manager acts for. */
  address: Address
  ensureOpen(): void
}

export class Views {
  private readonly map = new Map<Address, ChannelView>()
  private readonly store: PaychStore
  private seq = 0

  constructor(private readonly d: ViewsDeps) {
    this.store = d.store
  }

  /** Loads every stored channel with its lanes, vouchers and reservation. */
  load(): void {
    for (const rec of this.store.listChannels()) {
      this.seq = Math.max(this.seq, rec.seq + 1)
      const vouchers = this.store.vouchers(rec.channel)
      const lanes = this.store.lanes(rec.channel)
      let toSend = 0n
      for (const l of lanes.values()) toSend += l.redeemed
      const view = this.newView(rec, true)
      Object.assign(view, { lanes, toSend, reserved: this.store.reserved(rec.channel), vouchers, decoded: vouchers.map((v) => decodeVoucher(v.bytes)) })
      this.map.set(rec.channel, view)
    }
  }

  /** The one view constructor (loaded, created, or an inbound channel first seen on chain). */
  newView(rec: ChannelRecord, persisted: boolean): ChannelView {
    return { rec, persisted, lanes: new Map(), toSend: 0n, reserved: 0n, vouchers: [], decoded: [], waiters: [], overlay: undefined }
  }

  nextSeq(): number {
    return this.seq++
  }

  get(channel: Address): ChannelView | undefined {
    return this.map.get(channel)
  }

  add(view: ChannelView): void {
    this.map.set(view.rec.channel, view)
  }

  all(): IterableIterator<ChannelView> {
    return this.map.values()
  }

  /**
   * Stores `patch` (and whatever `extra` writes) in one transaction, then
   * applies it in memory. A view that is not tracked yet is written only when
   * `track` is set (it then becomes tracked).
   */
  commit(view: ChannelView, patch: ViewPatch, extra?: () => void, track = false): void {
    const { reserved, ...fields } = patch
    const persist = view.persisted || track
    const writeRecord = persist && (!view.persisted || Object.keys(fields).length > 0)
    const reservedChanged = reserved !== undefined && reserved !== view.reserved
    if (writeRecord || reservedChanged || extra !== undefined)
      this.store.transaction(() => {
        if (writeRecord) this.store.putChannel({ ...view.rec, ...fields })
        if (reservedChanged) this.store.setReserved(view.rec.channel, reserved)
        extra?.()
      })
    Object.assign(view.rec, fields)
    if (reserved !== undefined) view.reserved = reserved
    if (persist) view.persisted = true
  }

  /** Deletes a channel that never existed on chain (its create was refused before it reached the L1). */
  forget(view: ChannelView, extra?: () => void): void {
    this.store.transaction(() => {
      this.store.deleteChannel(view.rec.channel)
      extra?.()
    })
    if (this.map.get(view.rec.channel) === view) this.map.delete(view.rec.channel)
  }

  /** A tracked channel this manager pays on (`field` names the argument in errors). */
  outbound(channel: Address, field: string): ChannelView {
    this.d.ensureOpen()
    const ch = toAddress(field, channel)
    const view = this.map.get(ch)
    if (view === undefined) throw new PaychError('UNKNOWN_CHANNEL', `channel ${ch} is not tracked`, { field })
    if (view.rec.direction !== 'outbound') throw new PaychError('NOT_OUTBOUND', 'only the paying side can do this', { field })
    return view
  }

  /** A tracked channel, or a view of an inbound channel built from the chain (tracked on its first write). */
  async viewFor(channel: Address, field: string): Promise<ChannelView> {
    this.d.ensureOpen()
    const ch = toAddress(field, channel)
    const known = this.map.get(ch)
    if (known !== undefined) return known
    const info = await this.d.l1.read<ChannelInfo | undefined>(this.d.contract, 'channel', [ch])
    if (info === undefined) throw new PaychError('UNKNOWN_CHANNEL', `no channel ${ch} on chain`, { field })
    if (info.to !== this.d.address) throw new PaychError('NOT_OUR_CHANNEL', `channel ${ch} pays ${info.to}, not ${this.d.address}`, { field })
    const again = this.map.get(ch)
    if (again !== undefined) return again
    const view = this.newView(
      {
        channel: ch,
        direction: 'inbound',
        from: info.from,
        to: info.to,
        fromKey: info.fromKey.slice(),
        phase: info.closed ? 'closed' : info.settlingAt !== 0 ? 'settling' : 'open',
        createMessage: undefined,
        confirmed: 0n,
        pendingAmount: 0n,
        pendingMessage: undefined,
        queued: 0n,
        nextLane: 0,
        settlingAt: info.settlingAt,
        seq: this.nextSeq(),
      },
      false,
    )
    this.map.set(ch, view)
    return view
  }

  /** The chain's record of a channel (throws UNKNOWN_CHANNEL before its create is mined). */
  async chainInfo(channel: Address): Promise<ChannelInfo> {
    const info = await this.d.l1.read<ChannelInfo | undefined>(this.d.contract, 'channel', [channel])
    if (info === undefined) throw new PaychError('UNKNOWN_CHANNEL', `channel ${channel} is not on chain yet`, { field: 'channel' })
    return info
  }

  /** Makes a looked-at inbound channel tracked. */
  ensurePersisted(view: ChannelView): void {
    if (!view.persisted) this.commit(view, {}, undefined, true)
  }
}
