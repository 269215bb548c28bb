/**
 * PaychManager: the seed 004 PaymentChannelManagerAPI over PaychContract.
 *
 * One manager acts for one L1 wallet. Channels it created are outbound (it
 * signs vouchers on them); channels it receives vouchers on are inbound (it
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
 * Voucher checks run the contract's own rule function (rules.ts) over the
 * manager's view: for outbound channels its own signed lanes, for inbound ones
 * the chain state with every stored voucher replayed on top (cached per chain
 * state version). So the manager refuses exactly what the contract would.
 *
 * The settler: when a channel this manager receives on starts settling (the
 * contract's Settle event, or found at startup), it submits the best stored
 * voucher of every lane at once, well before the settle delay ends.
 *
 * Every state change goes to the store (SQLite or memory) before the method
 * returns; pending create/add-funds messages are awaited again after a restart.
 */
import {
  type Address,
  InvalidInputError,
  type Verifier,
  assertInt,
  maxAmount,
  minAmount,
  nodeVerifier,
  toAddress,
  toAmount,
  toPositiveAmount,
} from '@l2bench/core'
import type { L1, L1Event, Receipt, TxHash, Unsubscribe, Wallet } from '@l2bench/l1-mock'
import { type ChannelInfo, type PaychCall, type PaychContract, channelAddressFor } from './contract.ts'
import { PaychError, isPaychError } from './errors.ts'
import { type ChannelState, type LaneState, type VoucherEffect, applyVoucher } from './rules.ts'
import { type ChannelRecord, MemoryStore, type PaychStore, type PendingMessage, type StoredVoucher } from './store.ts'
import {
  LANE_LIMIT,
  type SignedVoucher,
  type VoucherBody,
  type VoucherDomain,
  decodeVoucher,
  encodeVoucher,
  signVoucher,
  toSignedVoucher,
  verifyVoucherSignature,
} from './voucher.ts'

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

export interface CreateResult {
  /** Address of the new channel (known before the message is mined). */
  channel: Address
  messageId: TxHash
}

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

interface Waiter {
  resolve: (hash: TxHash) => void
  reject: (err: Error) => void
  amount: bigint
  reserve: bigint
}

/** Chain state of an inbound channel with the stored vouchers replayed on top. */
interface Overlay {
  info: ChannelInfo
  chainLanes: Map<number, LaneState | undefined>
  state: ChannelState
  lanes: Map<number, LaneState>
}

interface ChannelView {
  rec: ChannelRecord
  persisted: boolean
  lanes: Map<number, LaneState>
  toSend: bigint
  reserved: bigint
  vouchers: StoredVoucher[]
  decoded: SignedVoucher[]
  inflight: boolean
  waiters: Waiter[]
  overlay: Overlay | undefined
}

const ACTIVE = new Set(['creating', 'open'])

export class PaychManager {
  readonly l1: L1
  readonly wallet: Wallet
  readonly contract: PaychContract
  readonly store: PaychStore
  readonly verifier: Verifier
  readonly address: Address
  readonly domain: VoucherDomain
  /** Errors the settler and receipt handlers met (they have no caller to throw to). */
  readonly backgroundErrors: Error[] = []

  private readonly views = new Map<Address, ChannelView>()
  private readonly pendingMsgs = new Map<TxHash, PendingMessage>()
  private readonly processing = new Map<TxHash, Promise<Receipt | undefined>>()
  /** Background work (settler runs, queued funding) that `idle` waits for. */
  private readonly tasks = new Set<Promise<unknown>>()
  private readonly unsubscribe: Unsubscribe[] = []
  private readonly settler: boolean
  private closed = false
  private seq = 0

  private constructor(options: PaychManagerOptions) {
    this.l1 = options.l1
    this.wallet = options.wallet
    this.contract = options.contract
    this.store = options.store ?? new MemoryStore()
    this.verifier = options.verifier ?? nodeVerifier
    this.settler = options.settler ?? true
    this.address = this.wallet.address
    this.domain = { chainId: this.l1.chainId, contract: this.contract.address }
  }

  /** Opens a manager over `store`: loads channels, re-awaits pending messages, starts the settler. */
  static async open(options: PaychManagerOptions): Promise<PaychManager> {
    const m = new PaychManager(options)
    await m.start()
    return m
  }

  private async start(): Promise<void> {
    for (const rec of this.store.listChannels()) {
      this.seq = Math.max(this.seq, rec.seq + 1)
      this.views.set(rec.channel, this.loadView(rec))
    }
    const byAddress = { address: this.contract.address }
    this.unsubscribe.push(this.l1.subscribe({ ...byAddress, name: 'Settle' }, (e) => this.onSettleEvent(e)))
    this.unsubscribe.push(this.l1.subscribe({ ...byAddress, name: 'Collect' }, (e) => this.onCollectEvent(e)))
    for (const m of this.store.pending()) {
      this.pendingMsgs.set(m.hash, m)
      this.watch(m.hash)
    }
    // Funds queued behind a message that is no longer pending (crash between the two).
    for (const view of this.views.values())
      if (view.rec.queued > 0n && view.rec.pendingMessage === undefined && view.rec.phase === 'open')
        this.background(this.sendQueued(view))
    // Settlements that started while we were away.
    if (this.settler)
      for (const view of this.views.values())
        if (view.rec.direction === 'inbound' && view.rec.phase !== 'closed') this.background(this.settlerCheck(view))
  }

  private loadView(rec: ChannelRecord): ChannelView {
    const vouchers = this.store.vouchers(rec.channel)
    const lanes = this.store.lanes(rec.channel)
    let toSend = 0n
    for (const l of lanes.values()) toSend += l.redeemed
    return {
      rec,
      persisted: true,
      lanes,
      toSend,
      reserved: this.store.reserved(rec.channel),
      vouchers,
      decoded: vouchers.map((v) => decodeVoucher(v.bytes)),
      inflight: false,
      waiters: [],
      overlay: undefined,
    }
  }

  /** Stops the settler and receipt processing and closes the store. Pending messages resume on the next open. */
  close(): void {
    if (this.closed) return
    this.closed = true
    for (const u of this.unsubscribe) u()
    for (const view of this.views.values())
      for (const w of view.waiters.splice(0)) w.reject(new PaychError('MANAGER_CLOSED', 'manager closed; the queued funds go out after reopening'))
    this.store.close()
  }

  // ------------------------------------------------------------------ funding

  /** Creates a channel from → to holding `amount`; returns its address and the create message id at once. */
  async create(from: Address, to: Address, amount: bigint): Promise<CreateResult> {
    this.ensureOpen()
    const f = toAddress('from', from)
    const t = toAddress('to', to)
    const value = toAmount('amount', amount)
    if (f !== this.address) throw new InvalidInputError('from', `this manager signs for ${this.address}, not ${f}`)
    if (t === f) throw new InvalidInputError('to', 'a channel to oneself is not allowed')
    const hash = await this.send({ type: 'create', to: t, fromPublicKey: this.wallet.signer.publicKey }, value)
    const channel = channelAddressFor(this.contract.address, hash)
    const rec: ChannelRecord = {
      channel,
      direction: 'outbound',
      from: f,
      to: t,
      fromKey: this.wallet.signer.publicKey.slice(),
      phase: 'creating',
      createMessage: hash,
      confirmed: 0n,
      pendingAmount: value,
      pendingMessage: hash,
      queued: 0n,
      nextLane: 0,
      settlingAt: 0,
      seq: this.seq++,
    }
    const msg: PendingMessage = { hash, channel, kind: 'create', amount: value, lane: 0, nonce: 0n }
    this.store.transaction(() => {
      this.store.putChannel(rec)
      this.store.putPending(msg)
    })
    const view: ChannelView = {
      rec,
      persisted: true,
      lanes: new Map(),
      toSend: 0n,
      reserved: 0n,
      vouchers: [],
      decoded: [],
      inflight: false,
      waiters: [],
      overlay: undefined,
    }
    this.views.set(channel, view)
    this.pendingMsgs.set(hash, msg)
    this.watch(hash)
    return { channel, messageId: hash }
  }

  /**
   * Deposits `amount` more. Returns the id of the message carrying it: sent at
   * once when no funding message is in flight, otherwise queued and merged
   * into the next one (the promise then resolves when that one is sent).
   */
  async addFunds(channel: Address, amount: bigint): Promise<TxHash> {
    const view = this.outbound(channel, 'channel')
    const value = toPositiveAmount('amount', amount)
    return this.requestFunds(view, value, 0n)
  }

  /**
   * Reserves `amount` of the channel for one consumer. When the free funds
   * cover it, no message is sent and the result is undefined; otherwise the
   * shortfall is requested as in addFunds and its message id returned.
   */
  async reserveFunds(channel: Address, amount: bigint): Promise<TxHash | undefined> {
    const view = this.outbound(channel, 'channel')
    const value = toPositiveAmount('amount', amount)
    const free = maxAmount(this.available(view), 0n)
    if (value <= free) {
      this.store.setReserved(view.rec.channel, view.reserved + value)
      view.reserved += value
      return undefined
    }
    return this.requestFunds(view, value - free, value)
  }

  /** Hands `amount` of this channel's reservations back to the free pool. */
  async releaseFunds(channel: Address, amount: bigint): Promise<void> {
    const view = this.outbound(channel, 'channel')
    const value = toPositiveAmount('amount', amount)
    if (value > view.reserved)
      throw new PaychError('RELEASE_EXCEEDS_RESERVED', `only ${view.reserved} is reserved, cannot release ${value}`, { field: 'amount' })
    this.store.setReserved(view.rec.channel, view.reserved - value)
    view.reserved -= value
  }

  private available(view: ChannelView): bigint {
    const r = view.rec
    return r.confirmed + r.pendingAmount + r.queued - view.toSend - view.reserved
  }

  private requestFunds(view: ChannelView, amount: bigint, reserve: bigint): Promise<TxHash> {
    const rec = view.rec
    if (rec.pendingMessage !== undefined || view.inflight) {
      this.store.transaction(() => {
        this.store.putChannel({ ...rec, queued: rec.queued + amount })
        if (reserve > 0n) this.store.setReserved(rec.channel, view.reserved + reserve)
      })
      rec.queued += amount
      view.reserved += reserve
      return new Promise((resolve, reject) => view.waiters.push({ resolve, reject, amount, reserve }))
    }
    return this.sendFunding(view, amount, reserve)
  }

  /** Sends one add-funds message for `amount` (nothing else may be in flight on the channel). */
  private async sendFunding(view: ChannelView, amount: bigint, reserve: bigint): Promise<TxHash> {
    const rec = view.rec
    view.inflight = true
    rec.pendingAmount = amount
    view.reserved += reserve
    let hash: TxHash
    try {
      hash = await this.send({ type: 'addFunds', channel: rec.channel }, amount)
    } catch (err) {
      rec.pendingAmount = 0n
      view.reserved -= reserve
      view.inflight = false
      // Requests queued behind this one must not wait for a message that never went out.
      if (rec.queued > 0n) this.background(this.sendQueued(view))
      throw err
    }
    view.inflight = false
    rec.pendingMessage = hash
    const msg: PendingMessage = { hash, channel: rec.channel, kind: 'addFunds', amount, lane: 0, nonce: 0n }
    this.store.transaction(() => {
      this.store.putChannel(rec)
      this.store.putPending(msg)
      if (reserve > 0n) this.store.setReserved(rec.channel, view.reserved)
    })
    this.pendingMsgs.set(hash, msg)
    this.watch(hash)
    return hash
  }

  /** Sends everything queued on the channel as one message and tells the waiters its id. */
  private async sendQueued(view: ChannelView): Promise<void> {
    const rec = view.rec
    const amount = rec.queued
    const waiters = view.waiters.splice(0)
    if (amount === 0n) return
    const failed = (err: Error) => {
      // The queued requests did not happen: undo their reservations and the queue.
      const reserve = waiters.reduce((s, w) => s + w.reserve, 0n)
      view.reserved = maxAmount(view.reserved - reserve, 0n)
      rec.queued = 0n
      this.store.transaction(() => {
        this.store.putChannel(rec)
        this.store.setReserved(rec.channel, view.reserved)
      })
      for (const w of waiters) w.reject(err)
      if (waiters.length === 0) this.backgroundErrors.push(err)
    }
    if (!ACTIVE.has(rec.phase)) return failed(new PaychError('CHAIN_MESSAGE_FAILED', `channel is ${rec.phase}; queued funds were not sent`))
    rec.queued = 0n
    try {
      const hash = await this.sendFunding(view, amount, 0n)
      for (const w of waiters) w.resolve(hash)
    } catch (err) {
      rec.queued = amount
      failed(err as Error)
    }
  }

  // ------------------------------------------------------------------ queries

  async status(channel: Address): Promise<PaychStatus> {
    const view = await this.viewFor(channel, 'channel')
    const rec = view.rec
    let confirmed = rec.confirmed
    let redeemed = view.toSend
    if (rec.direction === 'inbound') {
      const ov = await this.overlay(view, [])
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
    for (const { rec } of this.views.values())
      if (rec.direction === 'outbound' && rec.from === f && rec.to === t && ACTIVE.has(rec.phase) && rec.nextLane < LANE_LIMIT)
        if (best === undefined || rec.seq > best.seq) best = rec
    if (best === undefined) throw new PaychError('NO_FREE_CHANNEL', `no active channel from ${f} to ${t}`, { field: 'to' })
    return best.channel
  }

  /** Channels this manager tracks (created, or received a voucher / message on). */
  async list(): Promise<Address[]> {
    return [...this.views.values()]
      .filter((v) => v.persisted)
      .sort((a, b) => a.rec.seq - b.rec.seq)
      .map((v) => v.rec.channel)
  }

  // ------------------------------------------------------------------ settle / collect

  /** Starts the settle delay on chain (either party may). */
  async settle(channel: Address): Promise<TxHash> {
    const view = await this.viewFor(channel, 'channel')
    const info = await this.chainInfo(view.rec.channel)
    if (info.settlingAt !== 0) throw new PaychError('ALREADY_SETTLING', `channel settles at height ${info.settlingAt}`, { field: 'channel' })
    this.ensurePersisted(view)
    return this.sendTracked(view, { type: 'settle', channel: view.rec.channel }, 'settle')
  }

  /** Pays out a channel whose settle delay is over. */
  async collect(channel: Address): Promise<TxHash> {
    const view = await this.viewFor(channel, 'channel')
    const info = await this.chainInfo(view.rec.channel)
    if (info.settlingAt === 0) throw new PaychError('NOT_SETTLING', 'settle the channel first', { field: 'channel' })
    const next = this.l1.head().height + 1
    if (next < info.settlingAt) throw new PaychError('SETTLE_NOT_DUE', `collect from height ${info.settlingAt}; next block is ${next}`, { field: 'channel' })
    this.ensurePersisted(view)
    return this.sendTracked(view, { type: 'collect', channel: view.rec.channel }, 'collect')
  }

  // ------------------------------------------------------------------ lanes and vouchers

  async allocateLane(channel: Address): Promise<number> {
    const view = this.outbound(channel, 'channel')
    const lane = view.rec.nextLane
    if (lane >= LANE_LIMIT) throw new PaychError('TOO_MANY_LANES', `channel already uses ${LANE_LIMIT} lanes`, { field: 'channel' })
    this.store.putChannel({ ...view.rec, nextLane: lane + 1 })
    view.rec.nextLane = lane + 1
    return lane
  }

  /**
   * Signs a voucher paying `amount` in total on `lane` (the new value is the
   * difference from the lane's last voucher). When the channel cannot cover
   * it, returns no voucher and the shortfall instead of failing.
   */
  async voucherCreate(channel: Address, amount: bigint, lane: number, options: VoucherCreateOptions = {}): Promise<VoucherCreateResult> {
    const view = this.outbound(channel, 'channel')
    const value = toAmount('amount', amount)
    assertInt('lane', lane, 0, 0xffff_ffff)
    const rec = view.rec
    if (!ACTIVE.has(rec.phase)) throw this.inactive(rec)
    const prev = view.lanes.get(lane)
    const body: VoucherBody = {
      channel: rec.channel,
      timeLockMin: options.timeLockMin ?? 0,
      timeLockMax: options.timeLockMax ?? 0,
      secretHash: options.secretHash,
      lane,
      nonce: (prev?.nonce ?? 0n) + 1n,
      amount: value,
      minSettleHeight: options.minSettleHeight ?? 0,
      merges: [],
    }
    const unsigned: SignedVoucher = { ...body, signature: new Uint8Array(64) }
    toSignedVoucher(unsigned) // validates every option's range
    const delta = value - (prev?.redeemed ?? 0n)
    const use = options.fromReserved === true ? minAmount(maxAmount(delta, 0n), view.reserved) : 0n
    const state: ChannelState = {
      balance: rec.confirmed - (view.reserved - use),
      toSend: view.toSend,
      settlingAt: rec.settlingAt,
      minSettleHeight: 0,
      laneCount: view.lanes.size,
    }
    let effect: VoucherEffect
    try {
      effect = applyVoucher(rec.channel, state, unsigned, {
        height: this.l1.head().height,
        locks: 'expiry',
        getLane: (l) => view.lanes.get(l),
        verifySignature: () => true,
      })
    } catch (err) {
      if (isPaychError(err, 'INSUFFICIENT_CHANNEL_FUNDS')) return { voucher: undefined, shortfall: state.toSend + delta - state.balance }
      throw err
    }
    const sv = signVoucher(this.wallet.signer, this.domain, body)
    this.commitVoucher(view, sv, effect, view.reserved - use, lane >= rec.nextLane ? lane + 1 : rec.nextLane)
    return { voucher: sv, shortfall: 0n }
  }

  /** Checks that a voucher could be redeemed on top of the chain and every stored voucher (locks aside). */
  async voucherCheckValid(channel: Address, voucher: SignedVoucher): Promise<void> {
    const sv = toSignedVoucher(voucher)
    const view = await this.viewFor(channel, 'channel')
    this.checkAgainstView(view, sv, await this.stateFor(view, sv))
  }

  /**
   * True when submitting the voucher now (with `secret`) would succeed on chain;
   * false when it was already submitted or the contract would refuse it.
   */
  async voucherCheckSpendable(channel: Address, voucher: SignedVoucher, secret?: Uint8Array): Promise<boolean> {
    const sv = toSignedVoucher(voucher)
    const view = await this.viewFor(channel, 'channel')
    if (this.wasSubmitted(view, sv)) return false
    const ov = await this.overlay(view, voucherLanes(sv))
    try {
      this.checkOnChain(view, ov, sv, secret)
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
    const view = await this.viewFor(channel, 'channel')
    if (view.rec.direction !== 'inbound') throw new PaychError('NOT_INBOUND', 'vouchers are added on channels this manager receives on', { field: 'channel' })
    const state = await this.stateFor(view, sv)
    const effect = this.checkAgainstView(view, sv, state)
    if (effect.delta < min) throw new PaychError('DELTA_TOO_SMALL', `voucher adds ${effect.delta}, at least ${min} required`, { field: 'minDelta' })
    this.commitVoucher(view, sv, effect, view.reserved, view.rec.nextLane)
    return effect.delta
  }

  async voucherList(channel: Address): Promise<SignedVoucher[]> {
    const view = await this.viewFor(channel, 'channel')
    return view.decoded.map((v) => toSignedVoucher(v))
  }

  /** Redeems a voucher on chain (checked first, so a doomed message is not sent). */
  async voucherSubmit(channel: Address, voucher: SignedVoucher, secret?: Uint8Array): Promise<TxHash> {
    const sv = toSignedVoucher(voucher)
    const view = await this.viewFor(channel, 'channel')
    const ov = await this.overlay(view, voucherLanes(sv))
    this.checkOnChain(view, ov, sv, secret)
    this.ensurePersisted(view)
    if (view.rec.direction === 'inbound' && !view.vouchers.some((v) => v.lane === sv.lane && v.nonce === sv.nonce)) {
      // Keep a copy of a voucher we redeem without having added it, when it fits our view.
      try {
        this.commitVoucher(view, sv, this.checkAgainstView(view, sv, ov.state), view.reserved, view.rec.nextLane)
      } catch (err) {
        if (!(err instanceof PaychError)) throw err
      }
    }
    return this.sendTracked(view, { type: 'update', voucher: sv, secret }, 'submit', sv.lane, sv.nonce)
  }

  // ------------------------------------------------------------------ chain messages

  /** Resolves with the receipt once the manager has processed the message (undefined if it never landed). */
  async waitForMessage(hash: TxHash): Promise<Receipt | undefined> {
    return this.processing.get(hash) ?? this.l1.receipt(hash)
  }

  /**
   * Waits until every message the manager tracks has been processed, including
   * queued funds sent when an earlier message landed. In manual-mine mode, mine
   * first: an unmined message keeps this waiting.
   */
  async idle(): Promise<void> {
    while (this.processing.size > 0 || this.tasks.size > 0) {
      await Promise.all([...this.processing.values(), ...this.tasks])
      await new Promise((r) => setImmediate(r))
    }
  }

  private async send(call: PaychCall, value: bigint): Promise<TxHash> {
    this.ensureOpen()
    return this.wallet.sendRaw(this.contract.address, this.contract.encodeCall(call), { value })
  }

  private async sendTracked(view: ChannelView, call: PaychCall, kind: PendingMessage['kind'], lane = 0, nonce = 0n): Promise<TxHash> {
    const hash = await this.send(call, 0n)
    const msg: PendingMessage = { hash, channel: view.rec.channel, kind, amount: 0n, lane, nonce }
    this.store.putPending(msg)
    this.pendingMsgs.set(hash, msg)
    this.watch(hash)
    return hash
  }

  private watch(hash: TxHash): void {
    const p = this.l1.receipt(hash).then(
      (r) => {
        this.onReceipt(hash, r)
        return r
      },
      (err) => {
        this.onReceipt(hash, undefined, err as Error)
        return undefined
      },
    )
    this.processing.set(hash, p)
    void p.finally(() => {
      if (this.processing.get(hash) === p) this.processing.delete(hash)
    })
  }

  private onReceipt(hash: TxHash, r: Receipt | undefined, dropped?: Error): void {
    if (this.closed) return
    const msg = this.pendingMsgs.get(hash)
    if (msg === undefined) return
    const view = this.views.get(msg.channel)
    this.pendingMsgs.delete(hash)
    const ok = r?.status === 'success'
    if (!ok) {
      const err = PaychError.fromRevert(r?.revertReason, r?.revertField, { txHash: hash }) ?? dropped
      this.backgroundErrors.push(new PaychError('CHAIN_MESSAGE_FAILED', `${msg.kind} message ${hash} failed: ${err?.message ?? r?.revertReason}`, { cause: err }))
    }
    if (view === undefined) {
      this.store.deletePending(hash)
      return
    }
    const rec = view.rec
    switch (msg.kind) {
      case 'create':
      case 'addFunds': {
        if (ok) rec.confirmed += msg.amount
        if (msg.kind === 'create') rec.phase = ok ? (rec.settlingAt === 0 ? 'open' : rec.phase) : 'failed'
        if (rec.pendingMessage === hash) {
          rec.pendingMessage = undefined
          rec.pendingAmount = 0n
        }
        this.store.transaction(() => {
          this.store.putChannel(rec)
          this.store.deletePending(hash)
        })
        if (rec.queued > 0n) this.background(this.sendQueued(view))
        break
      }
      case 'settle':
        if (ok && rec.phase !== 'closed') {
          rec.settlingAt = r?.result as number
          rec.phase = 'settling'
        }
        this.store.transaction(() => {
          this.store.putChannel(rec)
          this.store.deletePending(hash)
        })
        break
      case 'collect':
        if (ok) rec.phase = 'closed'
        this.store.transaction(() => {
          this.store.putChannel(rec)
          this.store.deletePending(hash)
        })
        break
      case 'submit':
        this.store.transaction(() => {
          if (ok)
            for (const v of view.vouchers)
              if (v.lane === msg.lane && v.nonce <= msg.nonce && !v.submitted) {
                v.submitted = true
                this.store.setSubmitted(v.channel, v.seq, true)
              }
          this.store.deletePending(hash)
        })
        break
    }
  }

  // ------------------------------------------------------------------ settler

  private onSettleEvent(e: L1Event): void {
    if (this.closed) return
    const view = this.views.get(e.data.channel as Address)
    if (view === undefined) return
    if (view.rec.phase !== 'closed') {
      view.rec.settlingAt = e.data.settlingAt as number
      view.rec.phase = 'settling'
      if (view.persisted) this.store.putChannel(view.rec)
    }
    if (this.settler && view.rec.direction === 'inbound') this.background(this.settlerCheck(view))
  }

  private onCollectEvent(e: L1Event): void {
    if (this.closed) return
    const view = this.views.get(e.data.channel as Address)
    if (view === undefined) return
    view.rec.phase = 'closed'
    if (view.persisted) this.store.putChannel(view.rec)
  }

  /** If the channel is settling, submits the best unsubmitted voucher of every lane. */
  private async settlerCheck(view: ChannelView): Promise<void> {
    try {
      const info = await this.chainInfo(view.rec.channel)
      if (info.settlingAt === 0 || info.closed) return
      if (view.rec.phase !== 'settling') {
        view.rec.settlingAt = info.settlingAt
        view.rec.phase = 'settling'
        this.store.putChannel(view.rec)
      }
      await this.submitBestOf(view)
    } catch (err) {
      this.backgroundErrors.push(err as Error)
    }
  }

  /**
   * Submits, per lane, the highest-nonce stored voucher that the chain would
   * still accept now, in the order they were received (so merges replay as
   * they were made). Returns the message ids.
   */
  async submitBest(channel: Address): Promise<TxHash[]> {
    return this.submitBestOf(await this.viewFor(channel, 'channel'))
  }

  private async submitBestOf(view: ChannelView): Promise<TxHash[]> {
    const ov = await this.overlay(view, [])
    const inFlight = new Set([...this.pendingMsgs.values()].filter((m) => m.kind === 'submit' && m.channel === view.rec.channel).map((m) => m.lane))
    const best = new Map<number, number>()
    view.vouchers.forEach((v, i) => {
      const b = best.get(v.lane)
      if (b === undefined || (view.vouchers[b] as StoredVoucher).nonce < v.nonce) best.set(v.lane, i)
    })
    const sim = { state: stateOfInfo(ov.info), lanes: new Map<number, LaneState>() }
    for (const [l, st] of ov.chainLanes) if (st !== undefined) sim.lanes.set(l, { ...st })
    const height = this.l1.head().height + 1
    const hashes: TxHash[] = []
    for (const i of [...best.values()].sort((a, b) => a - b)) {
      const stored = view.vouchers[i] as StoredVoucher
      const sv = view.decoded[i] as SignedVoucher
      if (stored.submitted || inFlight.has(stored.lane)) continue
      let effect: VoucherEffect
      try {
        effect = applyVoucher(view.rec.channel, sim.state, sv, {
          height,
          locks: 'all',
          getLane: (l) => sim.lanes.get(l),
          verifySignature: () => true,
        })
      } catch {
        continue // already redeemed, locked, or superseded by a merge
      }
      applyEffect(sim.state, sim.lanes, effect)
      hashes.push(await this.sendTracked(view, { type: 'update', voucher: sv, secret: undefined }, 'submit', sv.lane, sv.nonce))
    }
    return hashes
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

  private inactive(rec: ChannelRecord): PaychError {
    if (rec.phase === 'settling') return new PaychError('ALREADY_SETTLING', 'the channel is settling', { field: 'channel' })
    return new PaychError('CHANNEL_CLOSED', `the channel is ${rec.phase}`, { field: 'channel' })
  }

  private outbound(channel: Address, field: string): ChannelView {
    this.ensureOpen()
    const ch = toAddress(field, channel)
    const view = this.views.get(ch)
    if (view === undefined) throw new PaychError('UNKNOWN_CHANNEL', `channel ${ch} is not tracked`, { field })
    if (view.rec.direction !== 'outbound') throw new PaychError('NOT_OUTBOUND', 'only the paying side can do this', { field })
    return view
  }

  /** A tracked channel, or a transient inbound view built from the chain (persisted on first write). */
  private async viewFor(channel: Address, field: string): Promise<ChannelView> {
    this.ensureOpen()
    const ch = toAddress(field, channel)
    const known = this.views.get(ch)
    if (known !== undefined) return known
    const info = await this.l1.read<ChannelInfo | undefined>(this.contract.address, 'channel', [ch])
    if (info === undefined) throw new PaychError('UNKNOWN_CHANNEL', `no channel ${ch} on chain`, { field })
    if (info.to !== this.address) throw new PaychError('NOT_OUR_CHANNEL', `channel ${ch} pays ${info.to}, not ${this.address}`, { field })
    const again = this.views.get(ch)
    if (again !== undefined) return again
    const view: ChannelView = {
      rec: {
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
        seq: this.seq++,
      },
      persisted: false,
      lanes: new Map(),
      toSend: 0n,
      reserved: 0n,
      vouchers: [],
      decoded: [],
      inflight: false,
      waiters: [],
      overlay: undefined,
    }
    this.views.set(ch, view)
    return view
  }

  private ensurePersisted(view: ChannelView): void {
    if (view.persisted) return
    this.store.putChannel(view.rec)
    view.persisted = true
  }

  private async chainInfo(channel: Address): Promise<ChannelInfo> {
    const info = await this.l1.read<ChannelInfo | undefined>(this.contract.address, 'channel', [channel])
    if (info === undefined) throw new PaychError('UNKNOWN_CHANNEL', `channel ${channel} is not on chain yet`, { field: 'channel' })
    return info
  }

  /** The state a new voucher is checked against: local lanes (outbound) or the chain overlay (inbound). */
  private async stateFor(view: ChannelView, sv: SignedVoucher): Promise<ChannelState> {
    if (view.rec.direction === 'outbound') return this.localState(view)
    const ov = await this.overlay(view, voucherLanes(sv))
    if (ov.info.closed) throw new PaychError('CHANNEL_CLOSED', 'the channel was collected', { field: 'channel' })
    return ov.state
  }

  private localState(view: ChannelView): ChannelState {
    return { balance: view.rec.confirmed, toSend: view.toSend, settlingAt: view.rec.settlingAt, minSettleHeight: 0, laneCount: view.lanes.size }
  }

  /**
   * Brings the inbound overlay up to date: rebuilt (chain lanes read, stored
   * vouchers replayed) when the chain state version moved, else extended with
   * the chain state of lanes not seen before.
   */
  private async overlay(view: ChannelView, extraLanes: number[]): Promise<Overlay> {
    const info = await this.chainInfo(view.rec.channel)
    const cached = view.overlay
    if (cached !== undefined && cached.info.version === info.version) {
      const missing = extraLanes.filter((l) => !cached.chainLanes.has(l))
      if (missing.length > 0) {
        const states = await this.l1.read<Array<LaneState | undefined>>(this.contract.address, 'lanes', [view.rec.channel, missing])
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
    const states = await this.l1.read<Array<LaneState | undefined>>(this.contract.address, 'lanes', [view.rec.channel, list])
    const chainLanes = new Map<number, LaneState | undefined>(list.map((l, i) => [l, states[i]]))
    // Replay every stored voucher (in arrival order) on the chain state; the
    // ones already on chain or no longer applicable are skipped.
    const state = stateOfInfo(info)
    const lanes = new Map<number, LaneState>()
    for (const [l, s] of chainLanes) if (s !== undefined) lanes.set(l, { ...s })
    for (const v of view.decoded) {
      try {
        const effect = applyVoucher(view.rec.channel, state, v, { height: 0, locks: 'expiry', getLane: (l) => lanes.get(l), verifySignature: () => true })
        applyEffect(state, lanes, effect)
      } catch {
        // superseded on chain
      }
    }
    const ov: Overlay = { info, chainLanes, state, lanes }
    if (view.overlay === undefined || view.overlay.info.version <= info.version) view.overlay = ov
    return ov
  }

  /** The full rule check of a voucher against a view's state (signature by the channel's `from`). */
  private checkAgainstView(view: ChannelView, sv: SignedVoucher, state: ChannelState): VoucherEffect {
    const lanes = view.rec.direction === 'outbound' ? view.lanes : (view.overlay?.lanes ?? new Map<number, LaneState>())
    return applyVoucher(view.rec.channel, state, sv, {
      height: this.l1.head().height,
      locks: 'expiry',
      getLane: (l) => lanes.get(l),
      verifySignature: (v) => verifyVoucherSignature(this.verifier, this.domain, v, view.rec.fromKey),
    })
  }

  /** What the contract would say to `sv` in the next block (chain state only, locks and secret checked). */
  private checkOnChain(view: ChannelView, ov: Overlay, sv: SignedVoucher, secret: Uint8Array | undefined): VoucherEffect {
    if (ov.info.closed) throw new PaychError('CHANNEL_CLOSED', 'the channel was collected', { field: 'channel' })
    return applyVoucher(view.rec.channel, stateOfInfo(ov.info), sv, {
      height: this.l1.head().height + 1,
      locks: 'all',
      secret,
      getLane: (l) => ov.chainLanes.get(l),
      verifySignature: (v) => verifyVoucherSignature(this.verifier, this.domain, v, ov.info.fromKey),
    })
  }

  private wasSubmitted(view: ChannelView, sv: SignedVoucher): boolean {
    for (const m of this.pendingMsgs.values())
      if (m.kind === 'submit' && m.channel === view.rec.channel && m.lane === sv.lane && m.nonce >= sv.nonce) return true
    return view.vouchers.some((v) => v.lane === sv.lane && v.nonce >= sv.nonce && v.submitted)
  }

  /** Stores an accepted voucher and its effect in one transaction, then updates memory. */
  private commitVoucher(view: ChannelView, sv: SignedVoucher, effect: VoucherEffect, reserved: bigint, nextLane: number): void {
    const stored: StoredVoucher = {
      channel: view.rec.channel,
      seq: view.vouchers.length,
      lane: sv.lane,
      nonce: sv.nonce,
      amount: sv.amount,
      bytes: encodeVoucher(sv),
      submitted: false,
    }
    const rec = { ...view.rec, nextLane }
    this.store.transaction(() => {
      if (!view.persisted || nextLane !== view.rec.nextLane) this.store.putChannel(rec)
      this.store.addVoucher(stored)
      for (const [l, s] of effect.laneWrites) this.store.putLane(rec.channel, l, s)
      if (reserved !== view.reserved) this.store.setReserved(rec.channel, reserved)
    })
    view.persisted = true
    view.rec.nextLane = nextLane
    view.reserved = reserved
    view.vouchers.push(stored)
    view.decoded.push(sv)
    for (const [l, s] of effect.laneWrites) view.lanes.set(l, s)
    view.toSend += effect.delta
    if (view.overlay !== undefined && view.rec.direction === 'inbound') applyEffect(view.overlay.state, view.overlay.lanes, effect)
  }
}

function stateOfInfo(info: ChannelInfo): ChannelState {
  return {
    balance: info.balance,
    toSend: info.toSend,
    settlingAt: info.settlingAt,
    minSettleHeight: info.minSettleHeight,
    laneCount: info.laneCount,
  }
}

function applyEffect(state: ChannelState, lanes: Map<number, LaneState>, effect: VoucherEffect): void {
  for (const [l, s] of effect.laneWrites) lanes.set(l, { ...s })
  state.toSend = effect.toSend
  state.laneCount = effect.laneCount
  state.settlingAt = effect.settlingAt
  state.minSettleHeight = effect.minSettleHeight
}

function voucherLanes(sv: SignedVoucher): number[] {
  return [sv.lane, ...sv.merges.map((m) => m.lane)]
}

