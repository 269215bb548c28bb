/**
 * RollupNode: the operator's shell around the pure parts — it follows the
 * contract on L1 (deposit queue, payee registry, batches, forced
 * withdrawals), admits ops into the sequencer, closes batches on size or
 * timeout, proves them off the main thread and submits them with its L1
 * wallet. One batch is in flight at a time: if L1 refuses it, the sequencer
 * undoes it and requeues its items.
 *
 * Following L1 (ATTACKS 43): submitBatch is open to anyone, so every
 * BatchVerified event is a state transition the node must take, whoever
 * posted it. Batches of others are applied from their calldata (a
 * TxDataSource: an archive node); the node's own are recognised by batch
 * number. `RollupNode.resume` starts a node from L1 alone — tree rebuilt from
 * calldata, deposit queue from the contract's queue head — after a crash, or
 * for a second operator taking over. The mempool is not persisted: ops
 * admitted by a node that died are resubmitted by their wallets.
 *
 * A batch the circuit refuses (ATTACKS 41): when witness generation fails, the
 * node bisects the batch's ops with witness-only runs, drops the first op the
 * circuit refuses (CIRCUIT_REJECTED, in `sequencer.dropped`) and proves the
 * rest, so one bad op cannot hold back the ops behind it.
 *
 * Forced withdrawals (ATTACKS 42): a request seen on L1 is admitted like any
 * op; a request the verified state shows cannot be served (no account, other
 * key, nonce moved, balance short) is refuted on L1 with a leaf proof.
 * `handleForcedRequest` is the hook (a censoring operator is a subclass that
 * ignores it — see the tests).
 *
 * Also the user-side helpers for the contract's L1 methods (deposit,
 * registerPayee, withdraw).
 */
import { type Address, type Clock, assertInt, bigintToBytes, systemClock } from '@l2bench/core'
import type { L1, L1Event, Receipt, Wallet } from '@l2bench/l1-mock'
import type { TxDataSource } from './archive.ts'
import type { BatchBuildOptions, BuiltBatch } from './batch.ts'
import type { BatchResult, RollupContract } from './contract.ts'
import { RollupError } from './errors.ts'
import { refuteForcedCall } from './escape.ts'
import { type ForcedRequest, forcedKeyHash, refuteReason } from './exodus.ts'
import { proofToBytes } from './groth16.ts'
import type { PublicKey } from './keys.ts'
import type { Domain, SignedOp } from './ops.ts'
import { dropRejectedOp } from './bisect.ts'
import { type ProofResult, type Prover, isCircuitRejection } from './prover.ts'
import { batchBodyOf, rebuildFromL1 } from './rebuild.ts'
import { type ClosedBatch, Sequencer } from './sequencer.ts'
import type { AccountTree } from './tree.ts'
import { type Withdrawal, keyPayeeId, withdrawalClaimFields } from './withdrawals.ts'

export interface BatchReport {
  batch: bigint
  deposits: number
  ops: number
  transfers: number
  withdrawals: Withdrawal[]
  witnessMs: number
  proveMs: number
  /** CPU time of the proving thread (witness + proof), ms, when the prover measures it (single-threaded pool workers on Linux). */
  proverCpuMs?: number
  gasUsed: number
  calldataBytes: number
  /** Bytes of the batch body (the part that scales with ops). */
  bodyBytes: number
  receipt: Receipt
  built: BuiltBatch
  /** The submitBatch call as sent (body, proof, public inputs). */
  call: SubmitBatchCall
}

export interface SubmitBatchCall {
  type: 'submitBatch'
  body: Uint8Array
  proof: Uint8Array
  publicInputs: Uint8Array[]
}

export interface RollupNodeOptions {
  l1: L1
  contract: RollupContract
  /** The operator's L1 wallet (pays for submitBatch). */
  wallet: Wallet
  prover: Prover
  /** State to start from (default: the empty tree); with `l1Batches` and `depositQueueHead` when resuming. */
  tree?: AccountTree
  /** L1 batches already applied to `tree` (default 0). */
  l1Batches?: number
  /** Queue position of the first deposit not in `tree` (default 0). */
  depositQueueHead?: number
  /** Calldata of batches posted by others (an archive node). Without it such a batch stops the node (STATE_MISMATCH). */
  data?: TxDataSource
  batchTimeoutMs?: number
  clock?: Clock
  /** Key and signature check at admission (BatchBuildOptions.opVerifier). */
  opVerifier?: BatchBuildOptions['opVerifier']
  /** Batches proving at once (dispatch, flush, the background loop); default: the prover's `size` (a ProverPool's workers), else 1. */
  maxInFlight?: number
}

/** What dispatch() returns: the batch as closed (its ops and deposits) and its report once on L1. */
export interface DispatchedBatch {
  closed: ClosedBatch
  report: Promise<BatchReport>
}

/** A batch dispatched: closed on the tree, its proof under way. */
interface InFlight {
  closed: ClosedBatch
  proof: Promise<ProofResult>
  /** An earlier batch failed: this one was undone and requeued. */
  abandoned: boolean
}

/** Whether a dispatched batch failed only because one before it did (its items are requeued). */
export function isAbandoned(err: unknown): boolean {
  return err instanceof RollupError && err.code === 'BATCH_ABANDONED'
}

/** A forced withdrawal seen on L1 and still open. */
export interface OpenForcedRequest extends ForcedRequest {
  from: number
  op: SignedOp
}

export class RollupNode {
  readonly sequencer: Sequencer
  readonly domain: Domain
  readonly reports: BatchReport[] = []
  /** Batches posted by others that this node applied (L1 batch numbers). */
  readonly followed: bigint[] = []
  /** Forced withdrawals this node refuted on L1, with the reason. */
  readonly refuted: { from: number; reason: string }[] = []
  protected readonly l1: L1
  protected readonly contract: RollupContract
  protected readonly wallet: Wallet
  private readonly prover: Prover
  private readonly data: TxDataSource | undefined
  private readonly payees = new Set<number>()
  /** Open forced withdrawals by account. */
  protected readonly forced = new Map<number, OpenForcedRequest>()
  private eventsFrom = 0
  /** The L1 batch number the tree is at (the next batch to apply or post). */
  private nextBatch: number
  /** Deposits consumed by the batches in the tree (the contract's queue head when in sync). */
  private queueHead: number
  private readonly l1Batches: L1Event[] = []
  private exodus = false
  private running: Promise<BatchReport | undefined> | undefined
  readonly maxInFlight: number
  private pipeline: InFlight[] = []
  /** Submissions, chained so batches reach L1 in the order they were closed. */
  private submitting: Promise<unknown> = Promise.resolve()
  /** Failures after which the op the circuit refused was dropped: running again makes progress. */
  private readonly retryable = new WeakSet<object>()
  private loop: { timer: ReturnType<typeof setTimeout> | undefined; stopped: boolean; tick: Promise<void> } | undefined

  constructor(options: RollupNodeOptions) {
    this.l1 = options.l1
    this.contract = options.contract
    this.wallet = options.wallet
    this.prover = options.prover
    this.data = options.data
    this.maxInFlight = options.maxInFlight ?? (options.prover as { size?: number }).size ?? 1
    assertInt('maxInFlight', this.maxInFlight, 1)
    this.nextBatch = options.l1Batches ?? 0
    this.queueHead = options.depositQueueHead ?? 0
    this.domain = { chainId: options.l1.chainId, contract: options.contract.address }
    this.sequencer = new Sequencer({
      params: options.contract.params,
      domain: this.domain,
      ...(options.tree !== undefined ? { tree: options.tree } : {}),
      ...(options.batchTimeoutMs !== undefined ? { batchTimeoutMs: options.batchTimeoutMs } : {}),
      ...(options.opVerifier !== undefined ? { opVerifier: options.opVerifier } : {}),
      depositQueueHead: this.queueHead,
      clock: options.clock ?? systemClock,
      payeeExists: (id) => id === keyPayeeId(options.contract.params.depth) || this.payees.has(id),
    })
  }

  /**
   * A node started from L1 alone: the tree rebuilt from the calldata of every
   * verified batch, the deposit queue from the contract's queue head, payees
   * and open forced withdrawals from the events. After a crash, or for another
   * operator taking over.
   */
  static async resume(options: Omit<RollupNodeOptions, 'tree' | 'l1Batches' | 'depositQueueHead' | 'data'> & { data: TxDataSource }): Promise<RollupNode> {
    const { contract, l1, data } = options
    const rebuilt = await rebuildFromL1({ l1, contract: contract.address, params: contract.params, data })
    const node = new RollupNode({ ...options, tree: rebuilt.tree, l1Batches: rebuilt.batches, depositQueueHead: rebuilt.depositsConsumed })
    node.syncL1()
    return node
  }

  /** The L1 batch number this node's tree is at. */
  get l1Batch(): number {
    return this.nextBatch
  }

  /** Open forced withdrawals this node knows of. */
  openForcedRequests(): OpenForcedRequest[] {
    return [...this.forced.values()]
  }

  /**
   * Reads new events from L1: deposits, payees, forced withdrawals, and
   * batches (applied at once unless a batch of ours is in flight; then when it
   * is settled). Throws STATE_MISMATCH when a batch of someone else cannot be
   * applied (its calldata is not available, or it does not fit this tree).
   */
  syncL1(): void {
    this.readEvents()
    if (!this.sequencer.busy) this.applyL1Batches()
  }

  private readEvents(): void {
    const from = this.eventsFrom
    for (const e of this.l1.events({ address: this.contract.address }, from)) {
      if (e.height < from) continue
      const d = e.data as Record<string, unknown>
      switch (e.name) {
        case 'Deposit':
          this.sequencer.addDeposit(d.index as number, { publicKey: [d.pubX as bigint, d.pubY as bigint], amount: d.amount as bigint })
          break
        case 'PayeeRegistered':
          this.payees.add(d.id as number)
          break
        case 'BatchVerified':
          if (Number(d.batch as bigint) >= this.nextBatch) this.l1Batches.push(e)
          break
        case 'ForcedWithdrawal':
          this.onForcedRequest(d)
          break
        case 'ForcedServed':
        case 'ForcedRefuted':
          this.forced.delete(d.from as number)
          break
        case 'ExodusActivated':
          this.exodus = true
          break
      }
    }
    this.eventsFrom = this.l1.head().height + 1
  }

  private applyL1Batches(): void {
    while (this.l1Batches.length > 0) {
      const e = this.l1Batches[0] as L1Event
      const batch = Number(e.data.batch as bigint)
      if (batch < this.nextBatch) {
        this.l1Batches.shift() // ours, already in the tree
        continue
      }
      if (batch !== this.nextBatch) throw new RollupError('STATE_MISMATCH', `L1 batch ${batch} follows batch ${this.nextBatch - 1} of this node`, { field: 'batch' })
      if (e.data.newRoot === this.sequencer.tree.root) {
        // Already in the tree (a batch of ours confirmed outside runBatch): only the counters move.
        this.nextBatch++
        this.queueHead += e.data.deposits as number
        this.l1Batches.shift()
        continue
      }
      if (this.data === undefined)
        throw new RollupError('STATE_MISMATCH', `batch ${batch} was posted by someone else and this node has no calldata source to apply it`, { field: 'data' })
      const body = batchBodyOf(e, this.contract.params, this.data)
      this.sequencer.applyExternal(body, this.queueHead)
      if (this.sequencer.tree.root !== e.data.newRoot) throw new RollupError('STATE_MISMATCH', `batch ${batch}: root differs from the event's`, { field: 'newRoot' })
      this.nextBatch++
      this.queueHead += body.deposits.length
      this.followed.push(BigInt(batch))
      this.l1Batches.shift()
    }
  }

  private onForcedRequest(d: Record<string, unknown>): void {
    const from = d.from as number
    const req: OpenForcedRequest = {
      from,
      to: d.to as number,
      amount: d.amount as bigint,
      nonce: d.nonce as bigint,
      keyHash: forcedKeyHash([d.pubX as bigint, d.pubY as bigint]),
      deadline: d.deadline as number,
      op: {
        kind: 'withdraw',
        from,
        to: d.to as number,
        amount: d.amount as bigint,
        nonce: d.nonce as bigint,
        signature: { R8: [d.r8x as bigint, d.r8y as bigint], S: d.s as bigint },
      },
    }
    this.forced.set(from, req)
    this.handleForcedRequest(req)
  }

  /**
   * A forced withdrawal appeared on L1: the honest response is to include it
   * (admitted here like any op; if the pending state refuses it, `serveForced`
   * refutes it once the verified state shows why). Override to change.
   */
  protected handleForcedRequest(req: OpenForcedRequest): void {
    try {
      this.sequencer.submit(req.op)
    } catch {
      // Not admissible against the pending view now: serveForced decides.
    }
  }

  /**
   * For each open forced withdrawal: refute it on L1 if the verified state
   * (this tree, when no batch is in flight and L1 is followed) shows it
   * cannot be served; otherwise make sure it is admitted.
   */
  async serveForced(): Promise<void> {
    this.syncL1()
    for (const req of [...this.forced.values()]) {
      // Only against the verified state: nothing of ours in flight, and this tree at the contract's root.
      if (this.sequencer.busy || this.exodus) return
      const reason = refuteReason(req, this.sequencer.tree.tryGet(req.from))
      if (reason === undefined) {
        if (!this.isPending(req.op)) this.handleForcedRequest(req)
        continue
      }
      if ((await this.l1.read<bigint>(this.contract.address, 'root', [])) !== this.sequencer.tree.root) return
      const receipt = await this.wallet.call(this.contract, refuteForcedCall(this.sequencer.tree, req.from))
      if (receipt.status === 'success') {
        this.forced.delete(req.from)
        this.refuted.push({ from: req.from, reason: receipt.result as string })
      }
    }
  }

  private isPending(op: SignedOp): boolean {
    return this.sequencer.pendingOpList().some((o) => o.from === op.from && o.nonce === op.nonce && o.to === op.to && o.amount === op.amount && o.kind === op.kind)
  }

  /** Admits a signed op (throws a typed RollupError when it is invalid). */
  submit(op: SignedOp): void {
    this.readEvents()
    if (!this.sequencer.busy) {
      try {
        this.applyL1Batches()
      } catch {
        // Left pending: the next batch run reports it.
      }
    }
    if (this.exodus) throw new RollupError('EXODUS', 'the contract is in exodus mode: funds leave on L1', { field: 'op' })
    this.sequencer.submit(op)
  }

  /**
   * Closes a batch now and starts proving it at once — beside the batches
   * already proving, when the prover is a pool — and submits it to L1 after
   * every batch dispatched before it. Resolves with its report. Undefined
   * when nothing waits, or `maxInFlight` batches are already in flight.
   *
   * When a batch fails (its proof, or L1 refuses it), every batch in flight
   * is undone and requeued; the failed one rejects with the cause, the later
   * ones with BATCH_ABANDONED. When the circuit refused the batch, the op it
   * refuses is found and dropped first (CIRCUIT_REJECTED), so the requeued
   * rest goes through on the next dispatch.
   */
  dispatch(): DispatchedBatch | undefined {
    this.syncL1()
    if (this.exodus) throw new RollupError('EXODUS', 'the contract is in exodus mode: no more batches', { field: 'batch' })
    if (this.pipeline.length >= this.maxInFlight) return undefined
    const closed = this.sequencer.closeBatch()
    if (closed === undefined) return undefined
    const entry: InFlight = { closed, proof: this.prover.prove(closed.batch.input), abandoned: false }
    entry.proof.catch(() => undefined) // awaited in order by submitInOrder
    this.pipeline.push(entry)
    const report = this.submitting.then(() => this.submitInOrder(entry))
    this.submitting = report.catch(() => undefined)
    return { closed, report }
  }

  /** Batches dispatched and not yet submitted (or failed). */
  get inFlight(): number {
    return this.pipeline.length
  }

  /** Resolves when every dispatched batch is submitted or failed. */
  async idle(): Promise<void> {
    await this.submitting
  }

  /** Closes, proves and submits one batch if anything waits (after the batches in flight). */
  runBatch(): Promise<BatchReport | undefined> {
    const run = (this.running ?? Promise.resolve(undefined)).then(() => this.runOne())
    this.running = run.catch(() => undefined)
    return run
  }

  private async runOne(): Promise<BatchReport | undefined> {
    for (;;) {
      await this.idle()
      const done = this.dispatch()
      if (done === undefined) return undefined
      try {
        return await done.report
      } catch (err) {
        if (this.retryable.has(err as object)) continue // the op the circuit refused is dropped: the rest goes again
        throw err
      }
    }
  }

  /** Runs batches until nothing waits, up to `maxInFlight` proving at once. */
  async flush(): Promise<BatchReport[]> {
    const out: BatchReport[] = []
    for (;;) {
      await this.idle()
      const wave: Promise<BatchReport>[] = []
      for (let d = this.dispatch(); d !== undefined; d = this.dispatch()) wave.push(d.report)
      if (wave.length === 0) return out
      let failure: unknown
      for (const r of await Promise.allSettled(wave)) {
        if (r.status === 'fulfilled') out.push(r.value)
        else if (!this.retryable.has(r.reason as object) && !isAbandoned(r.reason)) failure ??= r.reason
      }
      if (failure !== undefined) throw failure
    }
  }

  /** Runs a batch when one is full or due; call it from a timer or after submits. */
  async poll(): Promise<BatchReport | undefined> {
    this.syncL1()
    if (this.forced.size > 0) await this.serveForced()
    if (this.sequencer.isFull() || this.sequencer.isDue()) return this.runBatch()
    return undefined
  }

  /**
   * Background batching: checks every `pollMs` (default 50) and dispatches a
   * batch whenever one is full or due, up to `maxInFlight` proving at once.
   * Errors (a refused batch, a prover failure) go to `onError`; the batches'
   * items are already requeued by then.
   */
  start(options: { pollMs?: number; onError?: (err: unknown) => void } = {}): void {
    if (this.loop !== undefined) return
    const pollMs = options.pollMs ?? 50
    const loop: NonNullable<RollupNode['loop']> = { timer: undefined, stopped: false, tick: Promise.resolve() }
    this.loop = loop
    const report = (err: unknown) => {
      if (!this.retryable.has(err as object) && !isAbandoned(err)) options.onError?.(err)
    }
    const tick = async () => {
      this.syncL1()
      if (this.forced.size > 0) await this.serveForced()
      while (this.sequencer.isFull() || this.sequencer.isDue()) {
        const d = this.dispatch()
        if (d === undefined) break
        d.report.catch(report)
      }
    }
    const schedule = () => {
      if (loop.stopped) return
      loop.timer = setTimeout(() => {
        loop.tick = tick().catch(report).finally(schedule)
      }, pollMs)
    }
    schedule()
  }

  /** Stops the background loop and waits for the batches in flight. */
  async stop(): Promise<void> {
    const loop = this.loop
    if (loop === undefined) return
    loop.stopped = true
    clearTimeout(loop.timer)
    await loop.tick
    await this.running
    await this.idle()
    this.loop = undefined
  }

  private async submitInOrder(entry: InFlight): Promise<BatchReport> {
    if (entry.abandoned)
      throw new RollupError('BATCH_ABANDONED', 'a batch dispatched before this one failed: this one was undone and its items requeued', { field: 'batch' })
    const { batch: built } = entry.closed
    let proof: ProofResult
    let receipt: Receipt
    let call: SubmitBatchCall
    try {
      proof = await entry.proof
      if (proof.publicSignals.some((s, i) => BigInt(s) !== built.publicInputs[i]))
        throw new RollupError('PROVER', 'proof public signals differ from the batch', { field: 'publicSignals' })
      call = {
        type: 'submitBatch',
        body: built.calldata,
        proof: proofToBytes(proof.proof),
        publicInputs: built.publicInputs.map((v) => bigintToBytes('publicInput', v, 32)),
      }
      receipt = await this.wallet.call(this.contract, call)
    } catch (err) {
      await this.failPipeline(err)
      throw err
    }
    if (receipt.status !== 'success') {
      const err = new RollupError('STATE_MISMATCH', `L1 refused the batch: ${receipt.revertReason ?? 'reverted'}`, {
        field: receipt.revertField,
        details: { txHash: receipt.txHash, revertCode: receipt.revertCode },
      })
      await this.failPipeline(err)
      throw err
    }
    this.sequencer.confirm()
    this.pipeline.shift()
    const result = receipt.result as BatchResult
    this.nextBatch = Number(result.batch) + 1
    this.queueHead += built.body.deposits.length
    const report: BatchReport = {
      batch: result.batch,
      deposits: built.body.deposits.length,
      ops: built.body.ops.length,
      transfers: built.body.ops.filter((o) => o.type === 1).length,
      withdrawals: result.withdrawals,
      witnessMs: proof.witnessMs,
      proveMs: proof.proveMs,
      ...(proof.cpuMs !== undefined ? { proverCpuMs: proof.cpuMs } : {}),
      gasUsed: receipt.gasUsed,
      calldataBytes: receipt.calldataBytes,
      bodyBytes: built.calldata.length,
      receipt,
      built,
      call,
    }
    this.reports.push(report)
    if (this.forced.size > 0 && this.pipeline.length === 0) await this.serveForced()
    return report
  }

  /** The oldest batch in flight failed: undo every batch in flight; if the circuit refused it, drop the op it refuses. */
  private async failPipeline(err: unknown): Promise<void> {
    const failed = this.pipeline[0]
    for (const e of this.pipeline) e.abandoned = true
    this.pipeline = []
    this.sequencer.abandon()
    if (failed !== undefined && isCircuitRejection(err) && (await dropRejectedOp(this.sequencer, this.prover, this.contract.params, failed.closed, err as RollupError)))
      this.retryable.add(err as object)
  }

  /** Everything needed to claim one withdrawal of a verified batch (to a registered payee; see claimByKeyCall otherwise). */
  withdrawalClaim(report: Pick<BatchReport, 'batch' | 'withdrawals'>, position: number) {
    const w = report.withdrawals[position]
    if (w === undefined) throw new RollupError('INVALID_OP', `batch ${report.batch} has no withdrawal ${position}`, { field: 'position' })
    if (w.account !== undefined)
      throw new RollupError('INVALID_OP', `withdrawal ${position} of batch ${report.batch} is claimed with account ${w.account}'s key (claimByKeyCall)`, {
        field: 'position',
      })
    return { type: 'withdraw' as const, ...withdrawalClaimFields(report, position), payee: w.payee }
  }
}

/** Queues a deposit of `amount` (the tx value) for the L2 key `publicKey`. */
export function depositCall(publicKey: PublicKey): { type: 'deposit'; pubX: Uint8Array; pubY: Uint8Array } {
  return { type: 'deposit', pubX: bigintToBytes('pubX', publicKey[0], 32), pubY: bigintToBytes('pubY', publicKey[1], 32) }
}

/** Registers `payee` for withdrawals; resolves with its payee id. */
export async function registerPayee(wallet: Wallet, contract: RollupContract, payee: Address): Promise<number> {
  const r = await wallet.callOk(contract, { type: 'registerPayee', payee })
  return r.result as number
}
