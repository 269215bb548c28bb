/**
 * Voucher checks and storage. Every check is the contract's own rule function
 * (rules.ts `applyVoucher`) run through `rule`, in one of four modes:
 *
 *  - sign:   a voucher this manager is about to sign (its own lanes, locks
 *            only for expiry, no signature yet);
 *  - accept: a voucher received (head height, expiry only, signature by `from`);
 *  - redeem: what the contract would say in the next block (time locks and
 *            secret checked; the signature too unless it was checked on arrival);
 *  - replay: stored vouchers replayed over the chain state (no height limits).
 *
 * The view of an outbound channel is its own signed lanes; of an inbound one
 * the chain state with every stored voucher replayed on top (the overlay,
 * cached per chain state version).
 */
import { type Address, maxAmount, minAmount } from '@l2bench/core'
import type { ChannelInfo } from './contract.ts'
import type { ManagerContext } from './context.ts'
import { PaychError, isPaychError } from './errors.ts'
import { type ChannelState, type LaneState, type VoucherEffect, applyVoucher } from './rules.ts'
import type { StoredVoucher } from './store.ts'
import type { ChannelView, Overlay, ViewPatch } from './views.ts'
import { type SignedVoucher, type VoucherBody, encodeVoucher, signVoucher, toSignedVoucher, verifyVoucherSignature } from './voucher.ts'

export interface VoucherCreateOptions {
  timeLockMin?: number
  timeLockMax?: number
  secretHash?: Uint8Array
  minSettleHeight?: number
  /** Draw the voucher's new value from this channel's reservation first (then from free funds). */
  fromReserved?: boolean
}

export interface VoucherCreateResult {
  /** The signed voucher, or undefined when the channel lacks funds. */
  voucher: SignedVoucher | undefined
  /** What the channel would need in addition to cover the voucher (0 when it was created). */
  shortfall: bigint
}

export type RuleMode = 'sign' | 'accept' | 'redeem' | 'replay'

export interface RuleCall {
  state: ChannelState
  lanes: (lane: number) => LaneState | undefined
  mode: RuleMode
  /** `from`'s key: the signature is checked against it (omitted: not checked). */
  key?: Uint8Array | undefined
  secret?: Uint8Array | undefined
}

export class Vouchers {
  constructor(private readonly c: ManagerContext) {}

  /** Runs the rule function on `sv` in the given mode (see the file comment). */
  rule(channel: Address, sv: SignedVoucher, call: RuleCall): VoucherEffect {
    const head = this.c.l1.head().height
    const key = call.key
    return applyVoucher(channel, call.state, sv, {
      height: call.mode === 'redeem' ? head + 1 : call.mode === 'replay' ? 0 : head,
      locks: call.mode === 'redeem' ? 'all' : 'expiry',
      secret: call.secret,
      getLane: call.lanes,
      verifySignature: key === undefined ? () => true : (v) => verifyVoucherSignature(this.c.verifier, this.c.domain, v, key),
    })
  }

  /**
   * Signs a voucher paying `amount` in total on `lane` of an outbound channel
   * and stores it; returns the shortfall instead when the channel cannot
   * cover it.
   */
  sign(view: ChannelView, amount: bigint, lane: number, options: VoucherCreateOptions): VoucherCreateResult {
    const rec = view.rec
    const prev = view.lanes.get(lane)
    const body: VoucherBody = {
      channel: rec.channel,
      timeLockMin: options.timeLockMin ?? 0,
      timeLockMax: options.timeLockMax ?? 0,
      secretHash: options.secretHash,
      lane,
      nonce: (prev?.nonce ?? 0n) + 1n,
      amount,
      minSettleHeight: options.minSettleHeight ?? 0,
      merges: [],
    }
    const unsigned: SignedVoucher = { ...body, signature: new Uint8Array(64) }
    toSignedVoucher(unsigned) // validates every option's range
    const delta = amount - (prev?.redeemed ?? 0n)
    const use = options.fromReserved === true ? minAmount(maxAmount(delta, 0n), view.reserved) : 0n
    const state: ChannelState = { ...localState(view), balance: rec.confirmed - (view.reserved - use) }
    let effect: VoucherEffect
    try {
      effect = this.rule(rec.channel, unsigned, { state, lanes: (l) => view.lanes.get(l), mode: 'sign' })
    } catch (err) {
      if (isPaychError(err, 'INSUFFICIENT_CHANNEL_FUNDS')) return { voucher: undefined, shortfall: state.toSend + delta - state.balance }
      throw err
    }
    const sv = signVoucher(this.c.wallet.signer, this.c.domain, body)
    this.store(view, sv, effect, view.reserved - use, lane >= rec.nextLane ? lane + 1 : rec.nextLane)
    return { voucher: sv, shortfall: 0n }
  }

  /** The state a new voucher is checked against: own lanes (outbound) or the chain overlay (inbound). */
  async stateFor(view: ChannelView, sv: SignedVoucher): Promise<ChannelState> {
    if (view.rec.direction === 'outbound') return localState(view)
    const ov = await this.overlay(view, voucherLanes(sv))
    if (ov.info.closed) throw new PaychError('CHANNEL_CLOSED', 'the channel was collected', { field: 'channel' })
    return ov.state
  }

  /** The full check of a received voucher against a view's state (signature by the channel's `from`). */
  accept(view: ChannelView, sv: SignedVoucher, state: ChannelState): VoucherEffect {
    const lanes = view.rec.direction === 'outbound' ? view.lanes : (view.overlay?.lanes ?? new Map<number, LaneState>())
    return this.rule(view.rec.channel, sv, { state, lanes: (l) => lanes.get(l), mode: 'accept', key: view.rec.fromKey })
  }

  /** What the contract would say to `sv` in the next block (chain state only, locks and secret checked). */
  onChain(view: ChannelView, ov: Overlay, sv: SignedVoucher, secret: Uint8Array | undefined): VoucherEffect {
    if (ov.info.closed) throw new PaychError('CHANNEL_CLOSED', 'the channel was collected', { field: 'channel' })
    return this.rule(view.rec.channel, sv, { state: stateOfInfo(ov.info), lanes: (l) => ov.chainLanes.get(l), mode: 'redeem', key: ov.info.fromKey, secret })
  }

  /** True when `sv` (or a later voucher of its lane) was redeemed by us, or its redemption is still pending. */
  wasSubmitted(view: ChannelView, sv: SignedVoucher): boolean {
    for (const m of this.c.outbox.inFlight())
      if (m.kind === 'submit' && m.channel === view.rec.channel && m.lane === sv.lane && m.nonce >= sv.nonce) return true
    return view.vouchers.some((v) => v.lane === sv.lane && v.nonce >= sv.nonce && v.submitted)
  }

  /**
   * Brings the inbound overlay up to date: rebuilt (chain lanes read, stored
   * vouchers replayed) when the chain state version moved, else extended with
   * the chain state of lanes not seen before.
   */
  async overlay(view: ChannelView, extraLanes: number[]): Promise<Overlay> {
    const { l1, contract } = this.c
    const info = await this.c.views.chainInfo(view.rec.channel)
    const cached = view.overlay
    if (cached !== undefined && cached.info.version === info.version) {
      const missing = extraLanes.filter((l) => !cached.chainLanes.has(l))
      if (missing.length > 0) {
        const states = await l1.read<Array<LaneState | undefined>>(contract.address, 'lanes', [view.rec.channel, missing])
        const now = view.overlay === cached ? cached : undefined
        if (now !== undefined)
          missing.forEach((l, i) => {
            if (now.chainLanes.has(l)) return
            const s = states[i]
            now.chainLanes.set(l, s)
            if (s !== undefined && !now.lanes.has(l)) now.lanes.set(l, { ...s })
          })
      }
      if (view.overlay !== undefined && view.overlay.info.version === info.version) return view.overlay
    }
    const ids = new Set<number>(extraLanes)
    for (const v of view.decoded) for (const l of voucherLanes(v)) ids.add(l)
    const list = [...ids]
    const states = await l1.read<Array<LaneState | undefined>>(contract.address, 'lanes', [view.rec.channel, list])
    const chainLanes = new Map<number, LaneState | undefined>(list.map((l, i) => [l, states[i]]))
    // Replay every stored voucher (in arrival order) on the chain state; the
    // ones already on chain or no longer applicable are skipped.
    const state = stateOfInfo(info)
    const lanes = new Map<number, LaneState>()
    for (const [l, s] of chainLanes) if (s !== undefined) lanes.set(l, { ...s })
    for (const v of view.decoded) {
      try {
        applyEffect(state, lanes, this.rule(view.rec.channel, v, { state, lanes: (l) => lanes.get(l), mode: 'replay' }))
      } catch {
        // superseded on chain
      }
    }
    const ov: Overlay = { info, chainLanes, state, lanes }
    if (view.overlay === undefined || view.overlay.info.version <= info.version) view.overlay = ov
    return ov
  }

  /** Stores an accepted voucher and its effect in one transaction, then updates memory. */
  store(view: ChannelView, sv: SignedVoucher, effect: VoucherEffect, reserved: bigint, nextLane: number): void {
    const { store } = this.c
    const stored: StoredVoucher = {
      channel: view.rec.channel,
      seq: view.vouchers.length,
      lane: sv.lane,
      nonce: sv.nonce,
      amount: sv.amount,
      bytes: encodeVoucher(sv),
      submitted: false,
    }
    const patch: ViewPatch = {}
    if (nextLane !== view.rec.nextLane) patch.nextLane = nextLane
    if (reserved !== view.reserved) patch.reserved = reserved
    this.c.views.commit(
      view,
      patch,
      () => {
        store.addVoucher(stored)
        for (const [l, s] of effect.laneWrites) store.putLane(view.rec.channel, l, s)
      },
      true,
    )
    view.vouchers.push(stored)
    view.decoded.push(sv)
    for (const [l, s] of effect.laneWrites) view.lanes.set(l, s)
    view.toSend += effect.delta
    if (view.overlay !== undefined && view.rec.direction === 'inbound') applyEffect(view.overlay.state, view.overlay.lanes, effect)
  }
}

/** An outbound channel's state as this manager signed it. */
export function localState(view: ChannelView): ChannelState {
  return { balance: view.rec.confirmed, toSend: view.toSend, settlingAt: view.rec.settlingAt, minSettleHeight: 0, laneCount: view.lanes.size }
}

export function stateOfInfo(info: ChannelInfo): ChannelState {
  return {
    balance: info.balance,
    toSend: info.toSend,
    settlingAt: info.settlingAt,
    minSettleHeight: info.minSettleHeight,
    laneCount: info.laneCount,
  }
}

export function applyEffect(state: ChannelState, lanes: Map<number, LaneState>, effect: VoucherEffect): void {
  for (const [l, s] of effect.laneWrites) lanes.set(l, { ...s })
  state.toSend = effect.toSend
  state.laneCount = effect.laneCount
  state.settlingAt = effect.settlingAt
  state.minSettleHeight = effect.minSettleHeight
}

export function voucherLanes(sv: SignedVoucher): number[] {
  return [sv.lane, ...sv.merges.map((m) => m.lane)]
}
