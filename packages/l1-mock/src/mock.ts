/**
 * MockL1: an in-process L1 with accounts, a mempool, blocks, a simulated clock,
 * a contract host with metered gas, receipts, events and fault injection.
 * Executing one call (gas, the journal a revert discards) is frame.ts.
 *
 * Determinism: nothing here reads the wall clock or an unseeded RNG, so the
 * same sequence of calls gives the same heights, hashes, receipts and events.
 *
 * Atomicity: a transaction runs against a journal (balances, storage, events).
 * Only a successful run is applied; a revert applies nothing but the sender's
 * nonce and the fee for the gas used. A transaction that cannot be included
 * (nonce gap closed by another, funds gone) is dropped with a typed error and
 * changes nothing at all.
 */
import {
  type Address,
  InvalidInputError,
  type L2Error,
  type Verifier,
  addressFromBytes,
  assertInt,
  keccakTagged,
  nodeVerifier,
  toAddress,
  toAmount,
  utf8ToBytes,
} from '@l2bench/core'
import { type AdmissionView, admitTx } from './admission.ts'
import type { Contract, ReadContext } from './contract.ts'
import { TxRejectedError } from './errors.ts'
import { EventBus } from './events.ts'
import { Faults } from './faults.ts'
import { execute } from './frame.ts'
import { GAS_SCHEDULE } from './gas.ts'
import { ReceiptBook } from './receipts.ts'
import type { SignedTx, TxHash } from './tx.ts'
import type { EventFilter, GasCharge, Head, L1, L1Event, Receipt, SubscribeOptions, Unsubscribe } from './types.ts'

/** The chain parameters every L1 backend takes (MockL1, the EVM backend). */
export interface ChainOptions {
  chainId?: bigint
  /** Seconds per block (default 12). */
  blockTime?: number
  /** Gas per block (default 30,000,000). */
  blockGasLimit?: number
  /** Mine a block as soon as a transaction arrives (default true). */
  autoMine?: boolean
  genesisTimestamp?: number
  /** Lowest accepted gas price (default 1). */
  minGasPrice?: bigint
  /** Signature verifier for transactions and contracts (default node:crypto). */
  verifier?: Verifier
}

export type MockL1Options = ChainOptions

interface Account {
  balance: bigint
  nonce: bigint
}

interface Pending {
  tx: SignedTx
  hash: TxHash
  from: Address
  eligibleHeight: number
  seq: number
}

export interface SimulateRequest {
  from: Address
  to: Address
  value?: bigint
  data?: Uint8Array
  gasLimit?: bigint
}

export interface SimulateResult {
  status: 'success' | 'reverted'
  /** After refunds and the calldata floor: what the sender pays. */
  gasUsed: number
  /** The most gas the execution held at once (before refunds): what the gas limit must cover. */
  gasNeeded: number
  breakdown: GasCharge[]
  result?: unknown
  revertReason?: string
  revertCode?: string
  revertField?: string
}

export class MockL1 implements L1, AdmissionView {
  readonly chainId: bigint
  readonly blockTime: number
  readonly blockGasLimit: number
  readonly genesisTimestamp: number
  readonly minGasPrice: bigint
  readonly verifier: Verifier
  autoMine: boolean

  private height = 0
  private secondsCarry = 0
  private readonly accounts = new Map<Address, Account>()
  /** contract address → key → value */
  private readonly storage = new Map<Address, Map<string, unknown>>()
  private readonly contracts = new Map<Address, Contract>()
  private mempool: Pending[] = []
  /** sender → nonce → hash of the pending transaction (O(1) duplicate checks). */
  private readonly pendingBySender = new Map<Address, Map<bigint, TxHash>>()
  private readonly pendingHashes = new Set<TxHash>()
  private seq = 0
  private readonly book = new ReceiptBook()
  private readonly faults = new Faults()
  private readonly bus = new EventBus((a) => this.faults.isOffline(a))
  private minted = 0n
  private burnt = 0n
  private mining = false

  constructor(options: MockL1Options = {}) {
    this.chainId = options.chainId ?? 31337n
    if (typeof this.chainId !== 'bigint' || this.chainId <= 0n) throw new InvalidInputError('chainId', 'expected a positive bigint')
    this.blockTime = options.blockTime ?? 12
    assertInt('blockTime', this.blockTime, 1)
    this.blockGasLimit = options.blockGasLimit ?? 30_000_000
    assertInt('blockGasLimit', this.blockGasLimit, GAS_SCHEDULE.txBase)
    this.genesisTimestamp = options.genesisTimestamp ?? 1_700_000_000
    assertInt('genesisTimestamp', this.genesisTimestamp, 0)
    this.minGasPrice = options.minGasPrice ?? 1n
    this.autoMine = options.autoMine ?? true
    this.verifier = options.verifier ?? nodeVerifier
  }

  // ---------------------------------------------------------------- reads

  head(): Head {
    return { height: this.height, timestamp: this.genesisTimestamp + this.height * this.blockTime }
  }

  balanceOf(address: Address): bigint {
    return this.accounts.get(toAddress('address', address))?.balance ?? 0n
  }

  nonceOf(address: Address): bigint {
    return this.accounts.get(toAddress('address', address))?.nonce ?? 0n
  }

  /** Everything ever minted: Σ balances + burnt fees always equals it. */
  totalMinted(): bigint {
    return this.minted
  }

  totalBurnt(): bigint {
    return this.burnt
  }

  totalBalances(): bigint {
    let sum = 0n
    for (const a of this.accounts.values()) sum += a.balance
    return sum
  }

  pendingCount(): number {
    return this.mempool.length
  }

  contractAt(address: Address): Contract | undefined {
    return this.contracts.get(address)
  }

  async read<T>(contract: Address, method: string, args: unknown[]): Promise<T> {
    return this.readSync<T>(contract, method, args)
  }

  /** Synchronous view call (the mock can answer at once). */
  readSync<T>(contract: Address, method: string, args: unknown[]): T {
    const c = this.contracts.get(toAddress('contract', contract))
    if (c === undefined) throw new InvalidInputError('contract', `no contract at ${contract}`)
    const ctx: ReadContext = {
      self: c.address,
      chainId: this.chainId,
      ...this.head(),
      sload: <V>(key: string) => this.storage.get(c.address)?.get(key) as V | undefined,
      balanceOf: (a: Address) => this.balanceOf(a),
    }
    return c.view(ctx, method, args) as T
  }

  events(filter: EventFilter = {}, fromHeight = 0): L1Event[] {
    return this.bus.events(filter, fromHeight)
  }

  subscribe(filter: EventFilter, onEvent: (e: L1Event) => void, options: SubscribeOptions = {}): Unsubscribe {
    return this.bus.subscribe(filter, onEvent, options)
  }

  /** Called after every mined block (after its events were delivered). */
  onBlock(listener: (head: Head) => void): Unsubscribe {
    return this.bus.onBlock(listener)
  }

  // ---------------------------------------------------------------- admin

  /** Genesis allocation: creates `amount` out of nothing (counted in totalMinted). */
  mint(address: Address, amount: bigint): void {
    const to = toAddress('address', address)
    const v = toAmount('amount', amount)
    this.account(to).balance += v
    this.minted += v
  }

  /** Hosts a contract; its address is derived from its name and a deploy counter. */
  deploy<C extends Contract>(contract: C): C {
    const digest = keccakTagged('l2bench/l1-contract', utf8ToBytes(`${contract.name}:${this.contracts.size}`))
    const address = addressFromBytes(digest.subarray(12))
    contract.address = address
    this.contracts.set(address, contract)
    this.storage.set(address, new Map())
    this.account(address)
    return contract
  }

  // ---------------------------------------------------------------- faults

  /** Holds `sender`'s transactions for `blocks` extra blocks (0 clears). */
  delaySender(sender: Address, blocks: number): void {
    this.faults.delaySender(sender, blocks)
  }

  /** Drops every transaction `sender` sends during the next `blocks` blocks (censorship). */
  dropSender(sender: Address, blocks: number): void {
    this.faults.dropSender(sender, blocks, this.height)
  }

  /** An offline account can send nothing, and its subscriptions receive no events. */
  setOffline(account: Address, offline: boolean): void {
    this.faults.setOffline(account, offline)
  }

  isOffline(account: Address): boolean {
    return this.faults.isOffline(account)
  }

  // ---------------------------------------------------------------- admission (AdmissionView)

  accountState(account: Address): { balance: bigint; nonce: bigint } {
    return this.accounts.get(account) ?? { balance: 0n, nonce: 0n }
  }

  hasPendingNonce(sender: Address, nonce: bigint): boolean {
    return this.pendingBySender.get(sender)?.has(nonce) ?? false
  }

  knows(hash: TxHash): boolean {
    return this.book.receipts.has(hash) || this.pendingHashes.has(hash)
  }

  // ---------------------------------------------------------------- transactions

  async send(tx: SignedTx): Promise<TxHash> {
    return this.sendSync(tx)
  }

  /** Synchronous send: validates, queues, and (with auto-mine) mines. */
  sendSync(tx: SignedTx): TxHash {
    const { hash, from } = admitTx(tx, this)
    const { body } = tx
    const dropUntil = this.faults.droppedUntil(from, this.height)
    if (dropUntil !== undefined) {
      this.drop(hash, new TxRejectedError('DROPPED', `${from} is censored until height ${dropUntil}`, { field: 'from' }))
      return hash
    }
    // A dropped transaction sent again is live again: its receipt is whatever happens to it now.
    this.book.dropped.delete(hash)
    const eligibleHeight = this.height + 1 + this.faults.delayOf(from)
    this.mempool.push({ tx, hash, from, eligibleHeight, seq: this.seq++ })
    this.pendingHashes.add(hash)
    let bySender = this.pendingBySender.get(from)
    if (bySender === undefined) {
      bySender = new Map()
      this.pendingBySender.set(from, bySender)
    }
    bySender.set(body.nonce, hash)
    if (this.autoMine && !this.mining) this.mineWhileEligible()
    return hash
  }

  receipt(hash: TxHash): Promise<Receipt> {
    return this.book.wait(hash, this.pendingHashes.has(hash))
  }

  /** The receipt if the transaction is already mined. */
  receiptSync(hash: TxHash): Receipt | undefined {
    return this.book.receipts.get(hash)
  }

  /** Runs a call against the current state without applying anything (gas estimation, previews). */
  simulate(req: SimulateRequest): SimulateResult {
    const from = toAddress('from', req.from)
    const to = toAddress('to', req.to)
    const data = req.data ?? new Uint8Array()
    const value = req.value ?? 0n
    const gasLimit = req.gasLimit ?? BigInt(this.blockGasLimit)
    const { frame: _frame, ...result } = execute(this, from, to, value, data, gasLimit, `0x${'00'.repeat(32)}`, this.height + 1)
    return result
  }

  // ---------------------------------------------------------------- mining

  /** Mines `n` blocks (manual mode, or to let time pass in auto mode). */
  mine(n = 1): void {
    assertInt('n', n, 0)
    for (let i = 0; i < n; i++) this.mineBlock()
  }

  /** Lets `seconds` of simulated time pass, mining a block every blockTime seconds. */
  advance(seconds: number): void {
    if (typeof seconds !== 'number' || !(seconds >= 0) || !Number.isFinite(seconds))
      throw new InvalidInputError('seconds', `expected a non-negative number, got ${seconds}`)
    const total = this.secondsCarry + seconds
    let blocks = Math.floor(total / this.blockTime)
    this.secondsCarry = total - blocks * this.blockTime
    while (blocks > 0) {
      // Fast path: nothing can happen in the coming blocks, so jump over them.
      if (!this.bus.hasBlockListeners) {
        const next = this.nextEligibleHeight()
        const skip = next === undefined ? blocks : Math.min(blocks, next - this.height - 1)
        if (skip > 0) {
          this.height += skip
          blocks -= skip
          continue
        }
      }
      this.mineBlock()
      blocks--
    }
  }

  /** Advances until `height` is reached (mines the blocks in between). */
  advanceTo(height: number): void {
    assertInt('height', height, 0)
    if (height > this.height) this.advance((height - this.height) * this.blockTime - this.secondsCarry)
  }

  private nextEligibleHeight(): number | undefined {
    let min: number | undefined
    for (const p of this.mempool) if (min === undefined || p.eligibleHeight < min) min = p.eligibleHeight
    return min
  }

  /** Auto-mine: mine while some pending transaction can go into the next block (a nonce gap waits). */
  private mineWhileEligible(): void {
    while (this.mempool.some((p) => p.eligibleHeight <= this.height + 1 && p.tx.body.nonce <= (this.accounts.get(p.from)?.nonce ?? 0n))) this.mineBlock()
  }

  private mineBlock(): void {
    this.mining = true
    const height = this.height + 1
    const timestamp = this.genesisTimestamp + height * this.blockTime
    let gasLeft = this.blockGasLimit
    const blockEvents: L1Event[] = []
    const mined: Receipt[] = []
    try {
      const taken = new Set<Pending>()
      let candidates = this.mempool.filter((p) => p.eligibleHeight <= height) // mempool is in arrival order
      let progress = true
      while (progress && candidates.length > 0) {
        progress = false
        const waiting: Pending[] = []
        for (const p of candidates) {
          const account = this.account(p.from)
          const body = p.tx.body
          if (body.nonce > account.nonce || BigInt(gasLeft) < body.gasLimit) {
            waiting.push(p) // a nonce gap may close later in this block; a big tx waits for the next
            continue
          }
          taken.add(p)
          this.pendingHashes.delete(p.hash)
          this.pendingBySender.get(p.from)?.delete(body.nonce)
          if (body.nonce < account.nonce) {
            this.drop(p.hash, new TxRejectedError('NONCE_TOO_LOW', 'nonce already used when mined', { field: 'nonce' }))
            continue
          }
          if (account.balance < body.value + body.gasLimit * body.gasPrice) {
            this.drop(p.hash, new TxRejectedError('INSUFFICIENT_FUNDS', 'funds gone when mined', { field: 'value' }))
            continue
          }
          const receipt = this.include(p, height, timestamp, blockEvents.length)
          gasLeft -= receipt.gasUsed
          blockEvents.push(...receipt.events)
          mined.push(receipt)
          progress = true
        }
        candidates = waiting
      }
      if (taken.size > 0) this.mempool = this.mempool.filter((p) => !taken.has(p))
      this.height = height
    } finally {
      this.mining = false
    }
    for (const r of mined) this.book.notify(r.txHash)
    this.bus.deliver(blockEvents)
    this.bus.blockMined(this.head())
  }

  private include(p: Pending, height: number, timestamp: number, logOffset: number): Receipt {
    const { body } = p.tx
    const outcome = execute(this, p.from, body.to, body.value, body.data, body.gasLimit, p.hash, height)
    const account = this.account(p.from)
    const fee = BigInt(outcome.gasUsed) * body.gasPrice
    let events: L1Event[] = []
    if (outcome.status === 'success') {
      events = outcome.frame.apply(logOffset)
    }
    account.balance -= fee
    account.nonce += 1n
    this.burnt += fee
    const receipt: Receipt = {
      txHash: p.hash,
      from: p.from,
      to: body.to,
      status: outcome.status,
      height,
      timestamp,
      gasUsed: outcome.gasUsed,
      gasPrice: body.gasPrice,
      fee,
      calldataBytes: outcome.frame.calldataBytes,
      breakdown: outcome.breakdown,
      events,
      ...(outcome.result === undefined ? {} : { result: outcome.result }),
      ...(outcome.revertReason === undefined ? {} : { revertReason: outcome.revertReason }),
      ...(outcome.revertCode === undefined ? {} : { revertCode: outcome.revertCode }),
      ...(outcome.revertField === undefined ? {} : { revertField: outcome.revertField }),
    }
    this.book.mined(receipt)
    return receipt
  }

  private drop(hash: TxHash, error: L2Error): void {
    this.book.drop(hash, error)
  }

  // ---------------------------------------------------------------- internals used by Frame

  /** @internal */
  account(address: Address): Account {
    let a = this.accounts.get(address)
    if (a === undefined) {
      a = { balance: 0n, nonce: 0n }
      this.accounts.set(address, a)
    }
    return a
  }

  /** @internal */
  storageOf(contract: Address): Map<string, unknown> {
    let s = this.storage.get(contract)
    if (s === undefined) {
      s = new Map()
      this.storage.set(contract, s)
    }
    return s
  }
}
