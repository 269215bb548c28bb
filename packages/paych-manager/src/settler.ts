/**
 * Settling: the settle / collect / voucher-redeem messages, the contract's
 * Settle and Collect events, and the settler — when a channel this manager
 * receives on starts settling (the event, or found at startup after being
 * offline) it redeems the best stored voucher of every lane at once, well
 * before the settle delay ends.
 */
import type { Address } from '@l2bench/core'
import type { L1Event, TxHash } from '@l2bench/l1-mock'
import type { ManagerContext } from './context.ts'
import type { PaychCall } from './contract.ts'
import type { Outcome } from './outbox.ts'
import type { LaneState, VoucherEffect } from './rules.ts'
import type { PendingMessage, StoredVoucher } from './store.ts'
import { type ChannelView, toClosed, toSettling } from './views.ts'
import type { SignedVoucher } from './voucher.ts'
import { type Vouchers, applyEffect, stateOfInfo } from './vouchers.ts'

export class Settler {
  constructor(
    private readonly c: ManagerContext,
    private readonly vouchers: Vouchers,
    /** Redeem the best vouchers when an inbound channel starts settling. */
    private readonly enabled: boolean,
  ) {
    c.outbox.on(['settle', 'collect', 'submit'], (msg, outcome, done) => this.landed(msg, outcome, done))
  }

  /** Sends a settle, collect or voucher-redeem message about `view` (which is tracked from then on). */
  send(view: ChannelView, kind: 'settle' | 'collect' | 'submit', call: PaychCall): Promise<TxHash> {
    const { c } = this
    const voucher = call.type === 'update' ? call.voucher : undefined
    return c.outbox.sendDurable(() => ({
      spec: { kind, call, value: 0n, lane: voucher?.lane, nonce: voucher?.nonce },
      intent: () => ({
        channel: view.rec.channel,
        apply: (row) => c.views.commit(view, {}, row, true),
        undo: (row) => c.views.commit(view, {}, row),
      }),
    }))
  }

  /** The contract's Settle event (runs inside the L1's block delivery: never throws). */
  onSettleEvent(e: L1Event): void {
    try {
      const view = this.c.views.get(e.data.channel as Address)
      if (view === undefined) return
      this.c.views.commit(view, toSettling(view.rec, e.data.settlingAt as number))
      if (this.enabled && view.rec.direction === 'inbound') this.c.background(this.check(view))
    } catch (err) {
      this.c.errors.push(err as Error)
    }
  }

  onCollectEvent(e: L1Event): void {
    try {
      const view = this.c.views.get(e.data.channel as Address)
      if (view !== undefined) this.c.views.commit(view, toClosed(view.rec))
    } catch (err) {
      this.c.errors.push(err as Error)
    }
  }

  /** Settlements that started while the manager was away (startup). */
  catchUp(): void {
    if (!this.enabled) return
    for (const view of this.c.views.all()) if (view.rec.direction === 'inbound' && view.rec.phase !== 'closed') this.c.background(this.check(view))
  }

  /** If the channel is settling, submits the best unsubmitted voucher of every lane. */
  private async check(view: ChannelView): Promise<void> {
    try {
      const info = await this.c.views.chainInfo(view.rec.channel)
      if (info.settlingAt === 0 || info.closed) return
      this.c.views.commit(view, toSettling(view.rec, info.settlingAt))
      await this.submitBest(view)
    } catch (err) {
      this.c.errors.push(err as Error)
    }
  }

  /**
   * Submits, per lane, the highest-nonce stored voucher that the chain would
   * still accept now, in the order they were received (so merges replay as
   * they were made). A lane whose redemption of that nonce or a later one is
   * already pending is skipped; a lower one pending does not stop the best
   * (Lotus TestBestSpendable). Returns the message ids.
   */
  async submitBest(view: ChannelView): Promise<TxHash[]> {
    const ov = await this.vouchers.overlay(view, [])
    const pending = new Map<number, bigint>()
    for (const m of this.c.outbox.inFlight())
      if (m.kind === 'submit' && m.channel === view.rec.channel && m.nonce > (pending.get(m.lane) ?? 0n)) pending.set(m.lane, m.nonce)
    const best = new Map<number, number>()
    view.vouchers.forEach((v, i) => {
      const b = best.get(v.lane)
      if (b === undefined || (view.vouchers[b] as StoredVoucher).nonce < v.nonce) best.set(v.lane, i)
    })
    const state = stateOfInfo(ov.info)
    const lanes = new Map<number, LaneState>()
    for (const [l, st] of ov.chainLanes) if (st !== undefined) lanes.set(l, { ...st })
    const hashes: TxHash[] = []
    for (const i of [...best.values()].sort((a, b) => a - b)) {
      const stored = view.vouchers[i] as StoredVoucher
      const sv = view.decoded[i] as SignedVoucher
      if (stored.submitted || (pending.get(stored.lane) ?? 0n) >= stored.nonce) continue
      let effect: VoucherEffect
      try {
        effect = this.vouchers.rule(view.rec.channel, sv, { state, lanes: (l) => lanes.get(l), mode: 'redeem' })
      } catch {
        continue // already redeemed, locked, or superseded by a merge
      }
      applyEffect(state, lanes, effect)
      hashes.push(await this.send(view, 'submit', { type: 'update', voucher: sv, secret: undefined }))
    }
    return hashes
  }

  private landed(msg: PendingMessage, outcome: Outcome, done: () => void): void {
    const { c } = this
    const view = c.views.get(msg.channel)
    if (view === undefined || outcome.status !== 'success') return
    switch (msg.kind) {
      case 'settle':
        c.views.commit(view, toSettling(view.rec, outcome.receipt?.result as number), done)
        return
      case 'collect':
        c.views.commit(view, toClosed(view.rec), done)
        return
      case 'submit': {
        // That voucher and every lower one of its lane are redeemed.
        const redeemed = view.vouchers.filter((v) => v.lane === msg.lane && v.nonce <= msg.nonce && !v.submitted)
        c.views.commit(view, {}, () => {
          for (const v of redeemed) c.store.setSubmitted(v.channel, v.seq, true)
          done()
        })
        for (const v of redeemed) v.submitted = true
        return
      }
    }
  }
}
