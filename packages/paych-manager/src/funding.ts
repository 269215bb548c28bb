/**
 * Funding: create, add funds, reserve and release (seed 004's PaychCreate,
 * PaychAddFunds, PaychReserveFunds, PaychReleaseFunds), and what their chain
 * messages do when they land.
 *
 * At most one funding message per channel is in flight (the create, then one
 * add-funds at a time). Requests made meanwhile are queued — the amount is
 * stored at once — and go out merged into one message when it lands. Every
 * message goes through the outbox (signed, stored with its effect, then sent).
 *
 * What happens to an amount:
 *  - the message landed: it is confirmed;
 *  - it reverted on chain: released (the contract refused it; retrying would
 *    revert again) and reported as CHAIN_MESSAGE_FAILED;
 *  - it was never included (dropped, unknown to the L1): back in the queue,
 *    reported, and sent with the next funding message of the channel or after
 *    a restart — never automatically at once (a censoring L1 would make that
 *    a loop);
 *  - the L1 refused to take the merged message of queued requests: it stays
 *    queued, its callers get FUNDS_STILL_QUEUED;
 *  - the channel's create failed, or it is settling: queued requests are
 *    rejected and their reservations released (nothing can be added).
 */
import { type Address, InvalidInputError, maxAmount, toAddress, toAmount } from '@l2bench/core'
import type { TxHash } from '@l2bench/l1-mock'
import type { ManagerContext } from './context.ts'
import { channelAddressFor } from './contract.ts'
import { PaychError } from './errors.ts'
import type { Outcome } from './outbox.ts'
import type { ChannelRecord, PendingMessage } from './store.ts'
import { type ChannelView, type Waiter, available, isActive, toFailed, toOpen } from './views.ts'

export interface CreateResult {
  /** Address of the new channel (known before the message is mined). */
  channel: Address
  messageId: TxHash
}

export class Funding {
  constructor(private readonly c: ManagerContext) {
    c.outbox.on(['create', 'addFunds'], (msg, outcome, done) => this.landed(msg, outcome, done))
  }

  /** Creates a channel from → to holding `amount`; returns its address and the create message id at once. */
  async create(from: Address, to: Address, amount: bigint): Promise<CreateResult> {
    const { c } = this
    c.ensureOpen()
    const f = toAddress('from', from)
    const t = toAddress('to', to)
    const value = toAmount('amount', amount)
    if (f !== c.address) throw new InvalidInputError('from', `this manager signs for ${c.address}, not ${f}`)
    if (t === f) throw new InvalidInputError('to', 'a channel to oneself is not allowed')
    let channel: Address | undefined
    const messageId = await c.outbox.sendDurable(() => ({
      spec: { kind: 'create', call: { type: 'create', to: t, fromPublicKey: c.wallet.signer.publicKey }, value },
      intent: (hash) => {
        const rec: ChannelRecord = {
          channel: channelAddressFor(c.contract.address, hash),
          direction: 'outbound',
          from: f,
          to: t,
          fromKey: c.wallet.signer.publicKey.slice(),
          phase: 'creating',
          createMessage: hash,
          confirmed: 0n,
          pendingAmount: value,
          pendingMessage: hash,
          queued: 0n,
          nextLane: 0,
          settlingAt: 0,
          seq: c.views.nextSeq(),
        }
        const view = c.views.newView(rec, false)
        channel = rec.channel
        return {
          channel: rec.channel,
          apply: (row) => {
            c.views.commit(view, {}, row, true)
            c.views.add(view)
          },
          undo: (row) => c.views.forget(view, row),
        }
      },
    }))
    return { channel: channel as Address, messageId }
  }

  /** Deposits `amount` more (sent at once, or queued behind the message in flight and merged). */
  addFunds(view: ChannelView, amount: bigint): Promise<TxHash> {
    return this.request(view, amount, 0n)
  }

  /** Reserves `amount`: no message when the free funds cover it, else only the shortfall is requested. */
  async reserveFunds(view: ChannelView, amount: bigint): Promise<TxHash | undefined> {
    if (!isActive(view.rec)) throw inactive(view.rec)
    const free = maxAmount(available(view), 0n)
    if (amount <= free) {
      this.c.views.commit(view, { reserved: view.reserved + amount })
      return undefined
    }
    return this.request(view, amount - free, amount)
  }

  releaseFunds(view: ChannelView, amount: bigint): void {
    if (amount > view.reserved)
      throw new PaychError('RELEASE_EXCEEDS_RESERVED', `only ${view.reserved} is reserved, cannot release ${amount}`, { field: 'amount' })
    this.c.views.commit(view, { reserved: view.reserved - amount })
  }

  /** Sends everything queued on the channel as one message, when nothing is in flight (background). */
  async sendQueued(view: ChannelView): Promise<void> {
    const rec = view.rec
    if (this.c.isClosed() || rec.queued === 0n || rec.pendingMessage !== undefined) return
    if (!isActive(rec)) {
      this.dropQueued(view, new PaychError('CHANNEL_CLOSED', `channel ${rec.channel} is ${rec.phase}; its queued funds were not sent`, { field: 'channel' }))
      return
    }
    try {
      await this.send(view, 0n, 0n)
    } catch (err) {
      if (view.rec.pendingMessage !== undefined) throw err // outcome unknown: the message was kept
      const e = new PaychError(
        'FUNDS_STILL_QUEUED',
        `the L1 refused the message for the ${view.rec.queued} queued on ${rec.channel} (${(err as Error).message}); they stay queued and go out with the next funding message or after a restart`,
        { field: 'channel', cause: err, details: { channel: rec.channel, queued: view.rec.queued } },
      )
      for (const w of view.waiters.splice(0)) w.reject(e)
      this.c.errors.push(e)
    }
  }

  private async request(view: ChannelView, amount: bigint, reserve: bigint): Promise<TxHash> {
    if (!isActive(view.rec)) throw inactive(view.rec)
    if (view.rec.pendingMessage !== undefined) {
      this.c.views.commit(view, { queued: view.rec.queued + amount, reserved: view.reserved + reserve })
      return new Promise((resolve, reject) => view.waiters.push({ resolve, reject, amount, reserve }))
    }
    try {
      return await this.send(view, amount, reserve)
    } catch (err) {
      // Requests queued behind the refused one must not wait for a message that never went out.
      if (view.rec.pendingMessage === undefined && view.waiters.length > 0) this.c.background(this.sendQueued(view))
      throw err
    }
  }

  /**
   * One add-funds message for `extra` plus everything queued (whose waiters
   * it then answers). Written ahead with its effect: pending amount set,
   * queue taken, `reserve` added; all undone if the L1 refuses it.
   */
  private async send(view: ChannelView, extra: bigint, reserve: bigint): Promise<TxHash> {
    const { c } = this
    let taken: Waiter[] = []
    let hash: TxHash
    try {
      hash = await c.outbox.sendDurable(() => {
        const amount = view.rec.queued + extra
        return {
          spec: { kind: 'addFunds', call: { type: 'addFunds', channel: view.rec.channel }, value: amount },
          intent: (h) => ({
            channel: view.rec.channel,
            apply: (row) => {
              c.views.commit(view, { pendingMessage: h, pendingAmount: amount, queued: 0n, reserved: view.reserved + reserve }, row)
              taken = view.waiters.splice(0)
            },
            undo: (row) => {
              c.views.commit(
                view,
                { pendingMessage: undefined, pendingAmount: 0n, queued: view.rec.queued + amount - extra, reserved: view.reserved - reserve },
                row,
              )
              view.waiters.unshift(...taken)
              taken = []
            },
          }),
        }
      })
    } catch (err) {
      for (const w of taken) w.reject(err as Error) // only when the outcome is unknown (the undo gave them back)
      throw err
    }
    for (const w of taken) w.resolve(hash)
    return hash
  }

  private dropQueued(view: ChannelView, err: PaychError): void {
    const waiters = view.waiters.splice(0)
    const reserve = waiters.reduce((s, w) => s + w.reserve, 0n)
    this.c.views.commit(view, { queued: 0n, reserved: maxAmount(view.reserved - reserve, 0n) })
    for (const w of waiters) w.reject(err)
    this.c.errors.push(err)
  }

  /** A create or add-funds message landed (or never will). */
  private landed(msg: PendingMessage, outcome: Outcome, done: () => void): void {
    const { c } = this
    const view = c.views.get(msg.channel)
    if (view === undefined) return
    const rec = view.rec
    const clear = rec.pendingMessage === msg.hash ? { pendingMessage: undefined, pendingAmount: 0n } : {}
    if (outcome.status === 'success') {
      c.views.commit(view, { ...clear, confirmed: rec.confirmed + msg.amount, ...(msg.kind === 'create' ? toOpen(rec) : {}) }, done)
      if (view.rec.queued > 0n) c.background(this.sendQueued(view))
      return
    }
    const failure = outcome.error as PaychError
    if (msg.kind === 'create') {
      // The channel does not exist: nothing queued on it can be added, no reservation holds.
      const waiters = view.waiters.splice(0)
      c.views.commit(view, { ...clear, ...toFailed(rec), queued: 0n, reserved: 0n }, done)
      for (const w of waiters) w.reject(failure)
      return
    }
    if (outcome.status === 'reverted') {
      c.views.commit(view, clear, done)
      if (view.rec.queued > 0n) c.background(this.sendQueued(view))
      return
    }
    c.views.commit(view, { ...clear, queued: rec.queued + msg.amount }, done)
    const still = new PaychError('FUNDS_STILL_QUEUED', `${failure.message}; its ${msg.amount} is queued again`, {
      field: 'channel',
      cause: failure,
      details: { channel: rec.channel, queued: view.rec.queued },
    })
    for (const w of view.waiters.splice(0)) w.reject(still)
  }
}

export function inactive(rec: ChannelRecord): PaychError {
  if (rec.phase === 'settling') return new PaychError('ALREADY_SETTLING', 'the channel is settling', { field: 'channel' })
  return new PaychError('CHANNEL_CLOSED', `the channel is ${rec.phase}`, { field: 'channel' })
}
