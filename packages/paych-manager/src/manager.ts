/**
 * PaychManager: the seed 004 PaymentChannelManagerAPI over PaychContract — the
 * facade. One manager acts for one L1 wallet. Channels it created are outbound
 * (it signs vouchers on them); channels it receives vouchers on are inbound (it
 * checks, stores and redeems them).
 *
 * Never blocking on the chain (the seed's V0.5 goal):
 *  - methods that send a chain message return its id (the L1 tx hash) as soon
 *    as the mempool has it; the receipt is processed whenever it arrives
 *    (`waitForMessage` lets a caller wait for that on purpose);
 *  - a channel's address is known before its create message is mined
 *    (contract.ts derives it from the tx hash);
 *  - `reserveFunds` that fits in the channel's free funds (confirmed + pending
 *    + queued − vouchers − reservations) sends nothing; only the shortfall is
 *    requested, and `releaseFunds` hands unused reservations back;
 *  - at most one funding message per channel is in flight: requests made
 *    meanwhile are queued and go out merged into one message when it lands.
 *
 * Parts (internal): views.ts (the channel views, the one writer of channel
 * records, phase transitions), outbox.ts (every chain message is signed,
 * stored with its effect, then broadcast; receipts come back to per-kind
 * handlers), funding.ts, vouchers.ts (every check is the contract's own rule
 * function), settler.ts (settle/collect/redeem, events, the settler).
 */
import {
  type Address,
  type Verifier,
  assertInt,
  nodeVerifier,
  toAddress,
  toAmount,
  toPositiveAmount,
} from '@l2bench/core'
import type { L1, Receipt, TxHash, Unsubscribe, Wallet } from '@l2bench/l1-mock'
import type { ManagerContext } from './context.ts'
import type { PaychContract } from './contract.ts'
import { PaychError } from './errors.ts'
import { type CreateResult, Funding, inactive } from './funding.ts'
import { Outbox } from './outbox.ts'
import { Settler } from './settler.ts'
import { type ChannelRecord, MemoryStore, type PaychStore } from './store.ts'
import { Views, isActive } from './views.ts'
import { LANE_LIMIT, type SignedVoucher, type VoucherDomain, toSignedVoucher } from './voucher.ts'
import { type VoucherCreateOptions, type VoucherCreateResult, Vouchers, voucherLanes } from './vouchers.ts'

export type { CreateResult } from './funding.ts'
export type { VoucherCreateOptions, VoucherCreateResult } from './vouchers.ts'

export interface PaychManagerOptions {
  l1: L1
  /** The account this manager acts for (signs vouchers and chain messages). */
  wallet: Wallet
  /** The deployed paych contract. */
  contract: PaychContract
  /** Durable state; defaults to a MemoryStore. */
  store?: PaychStore
  verifier?: Verifier
  /** Redeem the best vouchers when an inbound channel starts settling (default true). */
  settler?: boolean
}

export type ChannelDirection = 'inbound' | 'outbound'

export interface PaychStatus {
  channel: Address
  direction: ChannelDirection
  /** The wallet this manager uses on the channel. */
  controlAddress: Address
  from: Address
  to: Address
  phase: ChannelRecord['phase']
  /** Funds confirmed on chain (outbound: by our messages; inbound: the channel balance). */
  confirmedAmount: bigint
  /** Funds in the create/add-funds message in flight. */
  pendingAmount: bigint
  pendingMessage: TxHash | undefined
  /** Funds requested behind the pending message (sent merged when it lands). */
  queuedAmount: bigint
  /** Value of the vouchers: chain state plus every stored voucher. */
  voucherRedeemedAmount: bigint
  /** Funds reserved by consumers of the channel. */
  reservedAmount: bigint
  /** confirmed + pending + queued − redeemed − reserved (what a reservation can take without a message). */
  availableAmount: bigint
  /** confirmed − redeemed − reserved (what a voucher can spend now). */
  spendableAmount: bigint
  /** 0 = not settling. */
  settlingAt: number
}

export class PaychManager {
  readonly l1: L1
  readonly wallet: Wallet
  readonly contract: PaychContract
  readonly store: PaychStore
  readonly verifier: Verifier
  readonly address: Address
  readonly domain: VoucherDomain
  /** Errors the settler, queued funding and receipt handlers met (they have no caller to throw to). */
  readonly backgroundErrors: Error[] = []

  private readonly views: Views
  private readonly outbox: Outbox
  private readonly funding: Funding
  private readonly vouchers: Vouchers
  private readonly settler: Settler
  /** Background work (settler runs, queued funding) that `idle` waits for. */
  private readonly tasks = new Set<Promise<unknown>>()
  private readonly unsubscribe: Unsubscribe[] = []
  private closed = false

  private constructor(options: PaychManagerOptions) {
    this.l1 = options.l1
    this.wallet = options.wallet
    this.contract = options.contract
    this.store = options.store ?? new MemoryStore()
    this.verifier = options.verifier ?? nodeVerifier
    this.address = this.wallet.address
    this.domain = { chainId: this.l1.chainId, contract: this.contract.address }
    const ensureOpen = () => this.ensureOpen()
    this.views = new Views({ store: this.store, l1: this.l1, contract: this.contract.address, address: this.address, ensureOpen })
    this.outbox = new Outbox({
      l1: this.l1,
      wallet: this.wallet,
      contract: this.contract,
      store: this.store,
      errors: this.backgroundErrors,
      ensureOpen,
      isClosed: () => this.closed,
    })
    const ctx: ManagerContext = {
      l1: this.l1,
      wallet: this.wallet,
      contract: this.contract,
      store: this.store,
      verifier: this.verifier,
      address: this.address,
      domain: this.domain,
      errors: this.backgroundErrors,
      views: this.views,
      outbox: this.outbox,
      background: (p) => this.background(p),
      ensureOpen,
      isClosed: () => this.closed,
    }
    this.funding = new Funding(ctx)
    this.vouchers = new Vouchers(ctx)
    this.settler = new Settler(ctx, this.vouchers, options.settler ?? true)
  }

  /** Opens a manager over `store`: loads channels, sends stored messages again, resumes queued funding and the settler. */
  static async open(options: PaychManagerOptions): Promise<PaychManager> {
    const m = new PaychManager(options)
    await m.start()
    return m
  }

  private async start(): Promise<void> {
    this.views.load()
    const byAddress = { address: this.contract.address }
    this.unsubscribe.push(this.l1.subscribe({ ...byAddress, name: 'Settle' }, (e) => this.settler.onSettleEvent(e)))
    this.unsubscribe.push(this.l1.subscribe({ ...byAddress, name: 'Collect' }, (e) => this.settler.onCollectEvent(e)))
    // Stored messages first: their nonces are taken before anything new is signed.
    await this.outbox.resume()
    for (const view of this.views.all()) if (view.rec.queued > 0n) this.background(this.funding.sendQueued(view))
    this.settler.catchUp()
  }

  /** Stops the settler and receipt processing and closes the store. Stored messages and queued funds resume on the next open. */
  close(): void {
    if (this.closed) return
    this.closed = true
    for (const u of this.unsubscribe) u()
    for (const view of this.views.all())
      for (const w of view.waiters.splice(0)) w.reject(new PaychError('MANAGER_CLOSED', 'manager closed; the queued funds go out after reopening'))
    this.store.close()
  }

  // ------------------------------------------------------------------ funding

  /** Creates a channel from → to holding `amount`; returns its address and the create message id at once. */
  async create(from: Address, to: Address, amount: bigint): Promise<CreateResult> {
    return this.funding.create(from, to, amount)
  }

  /**
   * Deposits `amount` more. Returns the id of the message carrying it: sent at
   * once when no funding message is in flight, otherwise queued and merged
   * into the next one (the promise then resolves when that one is sent).
   */
  async addFunds(channel: Address, amount: bigint): Promise<TxHash> {
    const view = this.views.outbound(channel, 'channel')
    return this.funding.addFunds(view, toPositiveAmount('amount', amount))
  }

  /**
   * Reserves `amount` of the channel for one consumer. When the free funds
   * cover it, no message is sent and the result is undefined; otherwise the
   * shortfall is requested as in addFunds and its message id returned.
   */
  async reserveFunds(channel: Address, amount: bigint): Promise<TxHash | undefined> {
    const view = this.views.outbound(channel, 'channel')
    return this.funding.reserveFunds(view, toPositiveAmount('amount', amount))
  }

  /** Hands `amount` of this channel's reservations back to the free pool. */
  async releaseFunds(channel: Address, amount: bigint): Promise<void> {
    const view = this.views.outbound(channel, 'channel')
    this.funding.releaseFunds(view, toPositiveAmount('amount', amount))
  }

  // ------------------------------------------------------------------ queries

  async status(channel: Address): Promise<PaychStatus> {
    const view = await this.views.viewFor(channel, 'channel')
    const rec = view.rec
    let confirmed = rec.confirmed
    let redeemed = view.toSend
    if (rec.direction === 'inbound') {
      const ov = await this.vouchers.overlay(view, [])
      confirmed = ov.info.balance
      redeemed = ov.state.toSend
    }
    return {
      channel: rec.channel,
      direction: rec.direction,
      controlAddress: this.address,
      from: rec.from,
      to: rec.to,
      phase: rec.phase,
      confirmedAmount: confirmed,
      pendingAmount: rec.pendingAmount,
      pendingMessage: rec.pendingMessage,
      queuedAmount: rec.queued,
      voucherRedeemedAmount: redeemed,
      reservedAmount: view.reserved,
      availableAmount: confirmed + rec.pendingAmount + rec.queued - redeemed - view.reserved,
      spendableAmount: confirmed - redeemed - view.reserved,
      settlingAt: rec.settlingAt,
    }
  }

  /** The newest active outbound channel from → to that still has free lanes. */
  async lookup(from: Address, to: Address): Promise<Address> {
    const f = toAddress('from', from)
    const t = toAddress('to', to)
    let best: ChannelRecord | undefined
    for (const { rec } of this.views.all())
      if (rec.direction === 'outbound' && rec.from === f && rec.to === t && isActive(rec) && rec.nextLane < LANE_LIMIT)
        if (best === undefined || rec.seq > best.seq) best = rec
    if (best === undefined) throw new PaychError('NO_FREE_CHANNEL', `no active channel from ${f} to ${t}`, { field: 'to' })
    return best.channel
  }

  /**
   * Channels this manager tracks that exist on chain (as Lotus lists only
   * channels actually created: not one whose create is pending or failed).
   */
  async list(): Promise<Address[]> {
    return [...this.views.all()]
      .filter((v) => v.persisted && v.rec.phase !== 'creating' && v.rec.phase !== 'failed')
      .sort((a, b) => a.rec.seq - b.rec.seq)
      .map((v) => v.rec.channel)
  }

  // ------------------------------------------------------------------ settle / collect

  /** Starts the settle delay on chain (either party may). */
  async settle(channel: Address): Promise<TxHash> {
    const view = await this.views.viewFor(channel, 'channel')
    const info = await this.views.chainInfo(view.rec.channel)
    if (info.settlingAt !== 0) throw new PaychError('ALREADY_SETTLING', `channel settles at height ${info.settlingAt}`, { field: 'channel' })
    return this.settler.send(view, 'settle', { type: 'settle', channel: view.rec.channel })
  }

  /** Pays out a channel whose settle delay is over. */
  async collect(channel: Address): Promise<TxHash> {
    const view = await this.views.viewFor(channel, 'channel')
    const info = await this.views.chainInfo(view.rec.channel)
    if (info.settlingAt === 0) throw new PaychError('NOT_SETTLING', 'settle the channel first', { field: 'channel' })
    const next = this.l1.head().height + 1
    if (next < info.settlingAt) throw new PaychError('SETTLE_NOT_DUE', `collect from height ${info.settlingAt}; next block is ${next}`, { field: 'channel' })
    return this.settler.send(view, 'collect', { type: 'collect', channel: view.rec.channel })
  }

  // ------------------------------------------------------------------ lanes and vouchers

  async allocateLane(channel: Address): Promise<number> {
    const view = this.views.outbound(channel, 'channel')
    const lane = view.rec.nextLane
    if (lane >= LANE_LIMIT) throw new PaychError('TOO_MANY_LANES', `channel already uses ${LANE_LIMIT} lanes`, { field: 'channel' })
    this.views.commit(view, { nextLane: lane + 1 })
    return lane
  }

  /**
   * Signs a voucher paying `amount` in total on `lane` (the new value is the
   * difference from the lane's last voucher). When the channel cannot cover
   * it, returns no voucher and the shortfall instead of failing.
   */
  async voucherCreate(channel: Address, amount: bigint, lane: number, options: VoucherCreateOptions = {}): Promise<VoucherCreateResult> {
    const view = this.views.outbound(channel, 'channel')
    const value = toAmount('amount', amount)
    assertInt('lane', lane, 0, 0xffff_ffff)
    if (!isActive(view.rec)) throw inactive(view.rec)
    return this.vouchers.sign(view, value, lane, options)
  }

  /**
   * Checks that a voucher could be redeemed on top of the chain and every
   * stored voucher. Time locks and a secret hash are accepted (checked only
   * when redeeming): unlike Lotus, see the README.
   */
  async voucherCheckValid(channel: Address, voucher: SignedVoucher): Promise<void> {
    const sv = toSignedVoucher(voucher)
    const view = await this.views.viewFor(channel, 'channel')
    this.vouchers.accept(view, sv, await this.vouchers.stateFor(view, sv))
  }

  /**
   * True when submitting the voucher now (with `secret`) would succeed on chain;
   * false when it was already submitted or the contract would refuse it.
   */
  async voucherCheckSpendable(channel: Address, voucher: SignedVoucher, secret?: Uint8Array): Promise<boolean> {
    const sv = toSignedVoucher(voucher)
    const view = await this.views.viewFor(channel, 'channel')
    if (this.vouchers.wasSubmitted(view, sv)) return false
    const ov = await this.vouchers.overlay(view, voucherLanes(sv))
    try {
      this.vouchers.onChain(view, ov, sv, secret)
      return true
    } catch (err) {
      if (err instanceof PaychError) return false
      throw err
    }
  }

  /**
   * Stores an inbound voucher after checking it; it must raise what the channel
   * owes us by at least `minDelta`. Returns that increase.
   */
  async voucherAdd(channel: Address, voucher: SignedVoucher, minDelta = 0n): Promise<bigint> {
    const sv = toSignedVoucher(voucher)
    const min = toAmount('minDelta', minDelta)
    const view = await this.views.viewFor(channel, 'channel')
    if (view.rec.direction !== 'inbound') throw new PaychError('NOT_INBOUND', 'vouchers are added on channels this manager receives on', { field: 'channel' })
    const effect = this.vouchers.accept(view, sv, await this.vouchers.stateFor(view, sv))
    if (effect.delta < min) throw new PaychError('DELTA_TOO_SMALL', `voucher adds ${effect.delta}, at least ${min} required`, { field: 'minDelta' })
    this.vouchers.store(view, sv, effect, view.reserved, view.rec.nextLane)
    return effect.delta
  }

  async voucherList(channel: Address): Promise<SignedVoucher[]> {
    const view = await this.views.viewFor(channel, 'channel')
    return view.decoded.map((v) => toSignedVoucher(v))
  }

  /**
   * Redeems a voucher on chain. Checked first, so a doomed message is not
   * sent: what the contract would refuse, and a voucher whose redemption (or
   * that of a later voucher of its lane) is still pending (ALREADY_SUBMITTED).
   */
  async voucherSubmit(channel: Address, voucher: SignedVoucher, secret?: Uint8Array): Promise<TxHash> {
    const sv = toSignedVoucher(voucher)
    const view = await this.views.viewFor(channel, 'channel')
    const ov = await this.vouchers.overlay(view, voucherLanes(sv))
    this.vouchers.onChain(view, ov, sv, secret)
    if (this.vouchers.wasSubmitted(view, sv))
      throw new PaychError('ALREADY_SUBMITTED', `a voucher of lane ${sv.lane} with nonce ≥ ${sv.nonce} is already submitted`, { field: 'voucher.nonce' })
    if (view.rec.direction === 'inbound' && !view.vouchers.some((v) => v.lane === sv.lane && v.nonce === sv.nonce)) {
      // Keep a copy of a voucher we redeem without having added it, when it fits our view.
      try {
        this.vouchers.store(view, sv, this.vouchers.accept(view, sv, ov.state), view.reserved, view.rec.nextLane)
      } catch (err) {
        if (!(err instanceof PaychError)) throw err
      }
    }
    return this.settler.send(view, 'submit', { type: 'update', voucher: sv, secret })
  }

  /**
   * Submits, per lane, the highest-nonce stored voucher that the chain would
   * still accept now (what the settler does). Returns the message ids.
   */
  async submitBest(channel: Address): Promise<TxHash[]> {
    return this.settler.submitBest(await this.views.viewFor(channel, 'channel'))
  }

  // ------------------------------------------------------------------ chain messages

  /** Resolves with the receipt once the manager has processed the message (undefined if it never landed). */
  async waitForMessage(hash: TxHash): Promise<Receipt | undefined> {
    return this.outbox.waitFor(hash)
  }

  /**
   * Waits until every message the manager tracks has been processed, including
   * queued funds sent when an earlier message landed. In manual-mine mode, mine
   * first: an unmined message keeps this waiting.
   */
  async idle(): Promise<void> {
    for (;;) {
      const busy = [...this.outbox.busy(), ...this.tasks]
      if (busy.length === 0) return
      await Promise.all(busy)
      await new Promise((r) => setImmediate(r))
    }
  }

  // ------------------------------------------------------------------ internals

  private background(p: Promise<unknown>): void {
    const t = p.catch((err) => this.backgroundErrors.push(err as Error))
    this.tasks.add(t)
    void t.finally(() => this.tasks.delete(t))
  }

  private ensureOpen(): void {
    if (this.closed) throw new PaychError('MANAGER_CLOSED', 'the manager was closed')
  }
}
