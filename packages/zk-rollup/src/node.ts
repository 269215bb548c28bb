/**
 * RollupNode: the operator's shell around the pure parts — it watches the
 * contract's deposit queue and payee registry on L1, admits ops into the
 * sequencer, closes batches on size or timeout, proves them off the main
 * thread and submits them with its L1 wallet. One batch is in flight at a
 * time: if L1 refuses it, the sequencer undoes it and requeues its items.
 *
 * Also the user-side helpers for the contract's L1 methods (deposit,
 * registerPayee, withdraw).
 */
import { type Address, type Clock, bigintToBytes, systemClock } from '@l2bench/core'
import type { L1, Receipt, Wallet } from '@l2bench/l1-mock'
import type { BuiltBatch } from './batch.ts'
import { RollupError } from './errors.ts'
import type { BatchResult, RollupContract } from './contract.ts'
import { proofToBytes } from './groth16.ts'
import type { PublicKey } from './keys.ts'
import type { Domain, SignedOp } from './ops.ts'
import type { Prover } from './prover.ts'
import { Sequencer } from './sequencer.ts'
import type { AccountTree } from './tree.ts'
import { type Withdrawal, withdrawalLeaf, withdrawalProof } from './withdrawals.ts'

export interface BatchReport {
  batch: bigint
  deposits: number
  ops: number
  transfers: number
  withdrawals: Withdrawal[]
  witnessMs: number
  proveMs: number
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
  tree?: AccountTree
  batchTimeoutMs?: number
  clock?: Clock
}

export class RollupNode {
  readonly sequencer: Sequencer
  readonly domain: Domain
  readonly reports: BatchReport[] = []
  private readonly l1: L1
  private readonly contract: RollupContract
  private readonly wallet: Wallet
  private readonly prover: Prover
  private readonly payees = new Set<number>()
  private seenHeight = 0
  private running: Promise<BatchReport | undefined> | undefined
  private loop: { timer: ReturnType<typeof setTimeout> | undefined; stopped: boolean; tick: Promise<void> } | undefined

  constructor(options: RollupNodeOptions) {
    this.l1 = options.l1
    this.contract = options.contract
    this.wallet = options.wallet
    this.prover = options.prover
    this.domain = { chainId: options.l1.chainId, contract: options.contract.address }
    this.sequencer = new Sequencer({
      params: options.contract.params,
      domain: this.domain,
      ...(options.tree !== undefined ? { tree: options.tree } : {}),
      ...(options.batchTimeoutMs !== undefined ? { batchTimeoutMs: options.batchTimeoutMs } : {}),
      clock: options.clock ?? systemClock,
      payeeExists: (id) => this.payees.has(id),
    })
  }

  /** Reads new Deposit and PayeeRegistered events from L1. */
  syncL1(): void {
    const from = this.seenHeight
    for (const e of this.l1.events({ address: this.contract.address }, from)) {
      if (e.height < from) continue
      if (e.name === 'Deposit') {
        const d = e.data as { index: number; pubX: bigint; pubY: bigint; amount: bigint }
        this.sequencer.addDeposit(d.index, { publicKey: [d.pubX, d.pubY], amount: d.amount })
      } else if (e.name === 'PayeeRegistered') {
        this.payees.add((e.data as { id: number }).id)
      }
    }
    this.seenHeight = this.l1.head().height + 1
  }

  /** Admits a signed op (throws a typed RollupError when it is invalid). */
  submit(op: SignedOp): void {
    this.syncL1()
    this.sequencer.submit(op)
  }

  /** Closes, proves and submits one batch if anything waits. */
  runBatch(): Promise<BatchReport | undefined> {
    // Batches are strictly sequential: each builds on the previous one's root.
    const run = (this.running ?? Promise.resolve(undefined)).then(() => this.runOne())
    this.running = run.catch(() => undefined)
    return run
  }

  /** Runs batches until nothing waits. */
  async flush(): Promise<BatchReport[]> {
    const out: BatchReport[] = []
    for (;;) {
      const r = await this.runBatch()
      if (r === undefined) return out
      out.push(r)
    }
  }

  /** Runs a batch when one is full or due; call it from a timer or after submits. */
  async poll(): Promise<BatchReport | undefined> {
    this.syncL1()
    if (this.sequencer.isFull() || this.sequencer.isDue()) return this.runBatch()
    return undefined
  }

  /**
   * Background batching: checks every `pollMs` (default 50) and runs a batch
   * whenever one is full or due. Errors (a refused batch, a prover failure) go
   * to `onError`; the batch's items are already requeued by then.
   */
  start(options: { pollMs?: number; onError?: (err: unknown) => void } = {}): void {
    if (this.loop !== undefined) return
    const pollMs = options.pollMs ?? 50
    const loop: NonNullable<RollupNode['loop']> = { timer: undefined, stopped: false, tick: Promise.resolve() }
    this.loop = loop
    const schedule = () => {
      if (loop.stopped) return
      loop.timer = setTimeout(() => {
        loop.tick = this.poll()
          .then(() => undefined)
          .catch((err: unknown) => options.onError?.(err))
          .finally(schedule)
      }, pollMs)
    }
    schedule()
  }

  /** Stops the background loop and waits for a batch in progress. */
  async stop(): Promise<void> {
    const loop = this.loop
    if (loop === undefined) return
    loop.stopped = true
    clearTimeout(loop.timer)
    await loop.tick
    await this.running
    this.loop = undefined
  }

  private async runOne(): Promise<BatchReport | undefined> {
    this.syncL1()
    const closed = this.sequencer.closeBatch()
    if (closed === undefined) return undefined
    const { batch: built } = closed
    let proof: Awaited<ReturnType<Prover['prove']>>
    let receipt: Receipt
    let call: SubmitBatchCall
    try {
      proof = await this.prover.prove(built.input)
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
      this.sequencer.abandon(closed)
      throw err
    }
    if (receipt.status !== 'success') {
      this.sequencer.abandon(closed)
      throw new RollupError('STATE_MISMATCH', `L1 refused the batch: ${receipt.revertReason ?? 'reverted'}`, {
        field: receipt.revertField,
        details: { txHash: receipt.txHash },
      })
    }
    this.sequencer.confirm()
    const result = receipt.result as BatchResult
    const report: BatchReport = {
      batch: result.batch,
      deposits: built.body.deposits.length,
      ops: built.body.ops.length,
      transfers: built.body.ops.filter((o) => o.type === 1).length,
      withdrawals: result.withdrawals,
      witnessMs: proof.witnessMs,
      proveMs: proof.proveMs,
      gasUsed: receipt.gasUsed,
      calldataBytes: receipt.calldataBytes,
      bodyBytes: built.calldata.length,
      receipt,
      built,
      call,
    }
    this.reports.push(report)
    return report
  }

  /** Everything needed to claim one withdrawal of a verified batch. */
  withdrawalClaim(report: Pick<BatchReport, 'batch' | 'withdrawals'>, position: number) {
    const w = report.withdrawals[position]
    if (w === undefined) throw new RollupError('INVALID_OP', `batch ${report.batch} has no withdrawal ${position}`, { field: 'position' })
    const leaves = report.withdrawals.map((x) => withdrawalLeaf(report.batch, x))
    return {
      type: 'withdraw' as const,
      batch: report.batch,
      position,
      count: report.withdrawals.length,
      payee: w.payee,
      amount: w.amount,
      proof: withdrawalProof(leaves, position),
    }
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
