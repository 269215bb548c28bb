/**
 * The sequencer's mempool and batching policy.
 *
 * Admission (`submit`) validates an op against the pending view — the account
 * tree after every closed batch, plus every known deposit and every op already
 * admitted, in order — and throws a typed RollupError (unknown account, bad
 * signature, wrong nonce, overdraft, receiver overflow, unrepresentable
 * amount, unknown payee, full mempool) before anything is queued.
 *
 * Batching (`closeBatch`) takes up to D queued deposits (in L1 queue order)
 * and then admitted ops in FIFO order, builds the witness on the tree and
 * returns the batch. A batch closes when N ops wait (`isFull`) or when the
 * oldest waiting op or deposit is older than the timeout (`isDue`). An op that
 * only becomes valid after a deposit that did not fit in this batch waits for
 * the next one while the ops behind it go ahead (an op that depends on a
 * waiting one fails on the batch's state too — the same sender's next nonce,
 * or a balance the waiting op would have credited — and waits as well); an
 * op that can no longer apply at all is dropped and reported.
 *
 * Several batches can be in flight (closed, not yet confirmed): each builds
 * on the one before, so their witnesses are ready at once and can be proven
 * side by side. `confirm()` makes the oldest final (L1 accepted it);
 * `abandon()` undoes every batch in flight, newest first, and requeues their
 * items in order (L1 refused the oldest, so the others' roots are void).
 *
 * Batches posted on L1 by someone else are applied with `applyExternal` (the
 * tree moves to their root, the deposits they consumed leave the queue, and
 * admitted ops are re-checked against the new state); an op the circuit
 * refused is removed with `drop`.
 */
import { type Clock, InvalidInputError, assertInt, systemClock } from '@l2bench/core'
import { type BatchBuildOptions, type BuiltBatch, applyBody, buildBatch, checkOp, depositTarget } from './batch.ts'
import { type BatchBody, type CircuitParams, type DepositEntry, checkParams } from './calldata.ts'
import { RollupError } from './errors.ts'
import type { Domain, SignedOp } from './ops.ts'
import { publicKeyId } from './keys.ts'
import { type Account, AccountTree, OverlayView } from './tree.ts'

export interface SequencerOptions {
  params: CircuitParams
  domain: Domain
  /** State to start from (default: the empty tree). */
  tree?: AccountTree
  /** Close a partly filled batch when its oldest item waited this long (default 1,000 ms). */
  batchTimeoutMs?: number
  /** Admitted ops kept at most (default 100,000). */
  maxMempool?: number
  clock?: Clock
  /** Whether an L1 payee id is registered (withdrawals to others are refused). */
  payeeExists?: (id: number) => boolean
  /** Key and signature check at admission (see BatchBuildOptions.opVerifier; default: subgroup key + EdDSA). */
  opVerifier?: BatchBuildOptions['opVerifier']
  /** Position in the L1 deposit queue of the first deposit not yet in `tree` (resume: the contract's queue head). */
  depositQueueHead?: number
}

export interface QueuedDeposit {
  /** Position in the contract's deposit queue. */
  queueIndex: number
  entry: DepositEntry
  seenAt: number
}

interface QueuedOp {
  op: SignedOp
  receivedAt: number
}

export interface ClosedBatch {
  batch: BuiltBatch
  deposits: QueuedDeposit[]
  ops: SignedOp[]
}

export interface DroppedOp {
  op: SignedOp
  error: RollupError
}

export class Sequencer {
  readonly params: CircuitParams
  readonly domain: Domain
  /** State after every closed batch. */
  readonly tree: AccountTree
  readonly batchTimeoutMs: number
  readonly maxMempool: number
  private readonly clock: Clock
  private readonly payeeExists: ((id: number) => boolean) | undefined
  private readonly opVerifier: BatchBuildOptions['opVerifier']
  private mempool: QueuedOp[] = []
  private deposits: QueuedDeposit[] = []
  private nextDepositIndex = 0
  /** Pending view: tree + queued deposits + admitted ops. */
  private overlay: OverlayView
  readonly dropped: DroppedOp[] = []
  /** Closed batches awaiting confirm() or abandon(), oldest first; each builds on the one before. */
  private inFlight: ClosedBatch[] = []

  constructor(options: SequencerOptions) {
    this.params = checkParams(options.params)
    this.domain = options.domain
    this.tree = options.tree ?? new AccountTree(this.params.depth)
    if (this.tree.depth !== this.params.depth) throw new InvalidInputError('tree', `depth ${this.tree.depth} ≠ params.depth ${this.params.depth}`)
    this.batchTimeoutMs = options.batchTimeoutMs ?? 1_000
    assertInt('batchTimeoutMs', this.batchTimeoutMs, 0)
    this.maxMempool = options.maxMempool ?? 100_000
    assertInt('maxMempool', this.maxMempool, 1)
    this.clock = options.clock ?? systemClock
    this.payeeExists = options.payeeExists
    this.opVerifier = options.opVerifier
    this.nextDepositIndex = options.depositQueueHead ?? 0
    assertInt('depositQueueHead', this.nextDepositIndex, 0)
    this.overlay = new OverlayView(this.tree)
  }

  /** A closed batch awaits confirm() or abandon(). */
  get busy(): boolean {
    return this.inFlight.length > 0
  }

  /** Batches closed and not yet confirmed or abandoned. */
  get inFlightCount(): number {
    return this.inFlight.length
  }

  /** Queue position of the next deposit this sequencer expects to hear of. */
  get nextDeposit(): number {
    return this.nextDepositIndex
  }

  get pendingOps(): number {
    return this.mempool.length
  }

  get pendingDeposits(): number {
    return this.deposits.length
  }

  /** The admitted ops, in queue order. */
  pendingOpList(): SignedOp[] {
    return this.mempool.map((q) => q.op)
  }

  /** The account as the pending view sees it (undefined when empty). */
  pendingAccount(index: number): Account | undefined {
    return this.overlay.tryGet(index)
  }

  /** Admits a signed op or throws a typed error; nothing changes on error. */
  submit(op: SignedOp): void {
    if (this.mempool.length >= this.maxMempool)
      throw new RollupError('MEMPOOL_FULL', `mempool holds ${this.maxMempool} ops`, { field: 'op' })
    const { senderAfter, receiverAfter } = checkOp(this.overlay, this.domain, op, {
      ...(this.payeeExists !== undefined ? { payeeExists: this.payeeExists } : {}),
      ...(this.opVerifier !== undefined ? { opVerifier: this.opVerifier } : {}),
    })
    this.overlay.set(op.from, senderAfter)
    if (receiverAfter !== undefined) this.overlay.set(op.to, receiverAfter)
    this.mempool.push({ op, receivedAt: this.clock.now() })
  }

  /** Records a deposit seen in the contract's queue (must arrive in queue order). */
  addDeposit(queueIndex: number, entry: DepositEntry): void {
    if (queueIndex < this.nextDepositIndex) return // already known
    if (queueIndex !== this.nextDepositIndex)
      throw new InvalidInputError('queueIndex', `expected deposit ${this.nextDepositIndex}, got ${queueIndex}`)
    this.nextDepositIndex++
    this.deposits.push({ queueIndex, entry, seenAt: this.clock.now() })
    applyDeposit(this.overlay, entry)
  }

  /** N ops are waiting. */
  isFull(): boolean {
    return this.mempool.length >= this.params.n
  }

  /** Something has waited at least the timeout. */
  isDue(now = this.clock.now()): boolean {
    const due = this.dueAt()
    return due !== undefined && now >= due
  }

  /** Milliseconds until isDue() turns true (undefined when nothing waits). */
  msUntilDue(now = this.clock.now()): number | undefined {
    const due = this.dueAt()
    return due === undefined ? undefined : Math.max(0, due - now)
  }

  /** The clock time at which the oldest waiting op or deposit makes a batch due (undefined when nothing waits). */
  dueAt(): number | undefined {
    const oldest = Math.min(this.mempool[0]?.receivedAt ?? Number.POSITIVE_INFINITY, this.deposits[0]?.seenAt ?? Number.POSITIVE_INFINITY)
    return oldest === Number.POSITIVE_INFINITY ? undefined : oldest + this.batchTimeoutMs
  }

  /**
   * Builds the next batch on the tree — on top of any batch still in flight —
   * and puts it in flight (its changes are journalled: `confirm()` once L1
   * accepted it, `abandon()` to undo). Returns undefined when nothing is
   * waiting.
   */
  closeBatch(): ClosedBatch | undefined {
    if (this.mempool.length === 0 && this.deposits.length === 0) return undefined
    const deposits = this.deposits.slice(0, this.params.d)
    const depositsLeft = this.deposits.length > deposits.length
    // Choose the ops: FIFO, each applied on the batch's state so far; one that
    // needs a later deposit waits (with everything that depends on it).
    const probe = new OverlayView(this.tree)
    for (const d of deposits) applyDeposit(probe, d.entry)
    const ops: SignedOp[] = []
    const taken = new Set<number>()
    for (let i = 0; i < this.mempool.length && ops.length < this.params.n; ) {
      const { op } = this.mempool[i] as QueuedOp
      try {
        const r = checkOp(probe, this.domain, op, { verifySignatures: false })
        probe.set(op.from, r.senderAfter)
        if (r.receiverAfter !== undefined) probe.set(op.to, r.receiverAfter)
        ops.push(op)
        taken.add(i)
        i++
      } catch (err) {
        if (!(err instanceof RollupError)) break
        if (depositsLeft) {
          i++ // may apply once later deposits are in: it waits
          continue
        }
        // Cannot apply even with every known deposit in: drop it (and keep going).
        this.dropped.push({ op, error: err })
        this.mempool.splice(i, 1)
      }
    }
    if (ops.length === 0 && deposits.length === 0) {
      this.rebuildOverlay()
      return undefined
    }
    this.tree.begin()
    let batch: BuiltBatch
    try {
      batch = buildBatch(
        this.tree,
        this.params,
        this.domain,
        deposits.map((d) => d.entry),
        ops,
        { verifySignatures: false },
      )
    } catch (err) {
      this.tree.rollback()
      throw err
    }
    // The taken ops leave the mempool; the others keep their order and arrival time.
    this.mempool = this.mempool.filter((_, i) => !taken.has(i))
    this.deposits.splice(0, deposits.length)
    this.rebuildOverlay()
    const closed: ClosedBatch = { batch, deposits, ops }
    this.inFlight.push(closed)
    return closed
  }

  /** L1 accepted the oldest batch in flight: its changes are final. */
  confirm(): ClosedBatch {
    const oldest = this.inFlight.shift()
    if (oldest === undefined) throw new InvalidInputError('confirm', 'no batch in flight')
    this.tree.keepOldest()
    return oldest
  }

  /**
   * The newest batch in flight stays applied but is never submitted (a batch
   * built for measurement only): its changes join the batch before it — and
   * are undone with it — or are final when it was the only one in flight.
   */
  keepLocal(closed: ClosedBatch): void {
    if (this.inFlight[this.inFlight.length - 1] !== closed) throw new InvalidInputError('keepLocal', 'only the newest batch in flight can be kept locally')
    this.inFlight.pop()
    this.tree.commit()
  }

  /**
   * L1 refused the oldest batch in flight (or its proof failed): undo every
   * batch in flight, newest first, and put their deposits and ops back at the
   * front in their order. Returns the batches undone, oldest first.
   */
  abandon(): ClosedBatch[] {
    if (this.inFlight.length === 0) throw new InvalidInputError('abandon', 'no batch in flight')
    const undone = this.inFlight.splice(0)
    for (let i = undone.length - 1; i >= 0; i--) this.tree.rollback()
    const now = this.clock.now()
    this.deposits.unshift(...undone.flatMap((c) => c.deposits))
    this.mempool.unshift(...undone.flatMap((c) => c.ops).map((op) => ({ op, receivedAt: now })))
    this.rebuildOverlay()
    return undone
  }

  /**
   * Applies a batch someone else posted and L1 verified: `queueStart` is the
   * queue position of its first deposit. Its deposits leave the queue (or are
   * skipped when they arrive later), the admitted ops stay queued and are
   * re-checked when the next batch closes (those it already carried fail on
   * their nonce and are dropped). Throws STATE_MISMATCH, changing nothing,
   * when the body does not apply to this tree.
   */
  applyExternal(body: BatchBody, queueStart: number): void {
    if (this.busy) throw new InvalidInputError('applyExternal', 'a batch of ours is in flight: confirm or abandon it first')
    assertInt('queueStart', queueStart, 0)
    const known = this.deposits[0]?.queueIndex ?? this.nextDepositIndex
    if (queueStart !== known)
      throw new RollupError('STATE_MISMATCH', `the batch consumes deposits from queue position ${queueStart}, this node is at ${known}`, { field: 'queueStart' })
    body.deposits.forEach((d, i) => {
      const mine = this.deposits[i]
      if (mine !== undefined && (publicKeyId(mine.entry.publicKey) !== publicKeyId(d.publicKey) || mine.entry.amount !== d.amount))
        throw new RollupError('STATE_MISMATCH', `deposit ${queueStart + i} differs from the queue entry this node saw`, { field: `deposits[${i}]` })
    })
    applyBody(this.tree, body)
    const seen = Math.min(body.deposits.length, this.deposits.length)
    this.deposits.splice(0, seen)
    this.nextDepositIndex = Math.max(this.nextDepositIndex, queueStart + body.deposits.length)
    this.rebuildOverlay()
  }

  /** Removes an admitted op (the circuit refused it) and records why. */
  drop(op: SignedOp, error: RollupError): boolean {
    const i = this.mempool.findIndex((q) => q.op === op)
    if (i < 0) return false
    this.mempool.splice(i, 1)
    this.dropped.push({ op, error })
    this.rebuildOverlay()
    return true
  }

  private rebuildOverlay(): void {
    this.overlay = new OverlayView(this.tree)
    for (const d of this.deposits) applyDeposit(this.overlay, d.entry)
    for (const { op } of this.mempool) {
      try {
        const r = checkOp(this.overlay, this.domain, op, { verifySignatures: false })
        this.overlay.set(op.from, r.senderAfter)
        if (r.receiverAfter !== undefined) this.overlay.set(op.to, r.receiverAfter)
      } catch {
        // Stays queued; closeBatch decides whether it waits or is dropped.
      }
    }
  }
}

/** Credits a deposit on a view, at the leaf buildBatch will choose. */
function applyDeposit(view: OverlayView, entry: DepositEntry): void {
  const index = depositTarget(view, entry)
  const old = view.tryGet(index)
  view.set(index, { publicKey: entry.publicKey, balance: (old?.balance ?? 0n) + entry.amount, nonce: old?.nonce ?? 0n })
}
