/**
 * MeteredL1: a MockL1 that remembers every transaction sent to it, tagged
 * with the harness phase (setup / payments / settle) and the operation
 * (`Contract.method` or `transfer`), so a design's L1 cost can be broken down
 * without the design doing anything. Each design gets its own instance, so all
 * gas on it is that design's.
 */
import { type Address, encode } from '@l2bench/core'
import type { EvmL1 } from '@l2bench/l1-evm'
import { type Contract, type Head, type L1, MockL1, type MockL1Options, type Receipt, type SignedTx, type TxHash, type Unsubscribe, signedTxCodec } from '@l2bench/l1-mock'

export type Phase = 'setup' | 'payments' | 'settle'

/**
 * The L1 a design runs on in the harness: the `L1` seam, the chain's admin
 * (mine, advance, deploy, mint: synchronous on the mock, promises on a real
 * EVM node, so callers always await them), the metering tags and the
 * conservation counters.
 */
export interface BenchL1 extends L1 {
  readonly blockTime: number
  readonly blockGasLimit: number
  autoMine: boolean
  phase: Phase
  readonly sent: readonly SentTx[]
  mine(n?: number): void | Promise<void>
  advanceTo(height: number): void | Promise<void>
  deploy<C extends Contract>(contract: C): C | Promise<C>
  mint(address: Address, amount: bigint): void | Promise<void>
  receiptSync(hash: TxHash): Receipt | undefined
  pendingCount(): number
  contractAt(address: Address): Contract | undefined
  onBlock(listener: (head: Head) => void): Unsubscribe
  minedReceipts(): { tx: SentTx; receipt: Receipt }[]
  totalMinted(): bigint
  totalBurnt(): bigint
  totalBalances(): bigint
  /** On the EVM backend (`--l1 evm`): the node client under the metering, for what only a real EVM gives (call traces, trials). */
  readonly evm?: EvmL1
}

export interface SentTx {
  hash: TxHash
  phase: Phase
  operation: string
  /** Size of the whole signed transaction in the mock's encoding (calldata + envelope). */
  size: number
}

export class MeteredL1 extends MockL1 implements BenchL1 {
  phase: Phase = 'setup'
  readonly sent: SentTx[] = []

  constructor(options: MockL1Options = {}) {
    super(options)
  }

  override sendSync(tx: SignedTx): TxHash {
    const hash = super.sendSync(tx)
    this.sent.push(sentTx(hash, this.phase, tx, this.contractAt(tx.body.to)))
    return hash
  }

  /** Receipts of every mined transaction sent so far, with their tags (dropped ones are left out). */
  minedReceipts(): { tx: SentTx; receipt: Receipt }[] {
    return minedOf(this.sent, (hash) => this.receiptSync(hash))
  }
}

/** The record of a transaction the harness sent: its phase, the operation it calls (by the contract at `to`) and its size. */
export function sentTx(hash: TxHash, phase: Phase, tx: SignedTx, contract: Contract | undefined): SentTx {
  return { hash, phase, operation: operationOf(tx, contract), size: encode(signedTxCodec, tx).length }
}

function operationOf(tx: SignedTx, contract: Contract | undefined): string {
  if (contract === undefined) return tx.body.data.length === 0 ? 'transfer' : 'call'
  try {
    return `${contract.name}.${contract.decodeCall(tx.body.data).type}`
  } catch {
    return `${contract.name}.(malformed)`
  }
}

/** The sent transactions that were mined, each with its receipt. */
export function minedOf(sent: readonly SentTx[], receiptOf: (hash: TxHash) => Receipt | undefined): { tx: SentTx; receipt: Receipt }[] {
  const out: { tx: SentTx; receipt: Receipt }[] = []
  for (const tx of sent) {
    const receipt = receiptOf(tx.hash)
    if (receipt !== undefined) out.push({ tx, receipt })
  }
  return out
}

export interface CostLine {
  gas: number
  bytes: number
  txs: number
}

export interface CostSummary extends CostLine {
  /** Sum of fees (gas × price), wei. */
  fees: bigint
  /** Σ whole signed-transaction sizes (what the chain stores), bytes. */
  txBytes: number
  reverted: number
  byPhase: Record<Phase, CostLine>
  /** By `Contract.method` (or `transfer`). */
  byOperation: Record<string, CostLine>
  /** By gas-schedule entry and the contract's label (`op:label`). */
  byCharge: Record<string, number>
  /** Fees paid per sender address. */
  feesBySender: Map<string, bigint>
}

function emptyLine(): CostLine {
  return { gas: 0, bytes: 0, txs: 0 }
}

/** Aggregates receipts into totals and the per-phase / per-operation / per-charge breakdowns. */
export function summarizeCosts(l1: BenchL1): CostSummary {
  const s: CostSummary = {
    ...emptyLine(),
    fees: 0n,
    txBytes: 0,
    reverted: 0,
    byPhase: { setup: emptyLine(), payments: emptyLine(), settle: emptyLine() },
    byOperation: {},
    byCharge: {},
    feesBySender: new Map(),
  }
  const add = (line: CostLine, r: Receipt) => {
    line.gas += r.gasUsed
    line.bytes += r.calldataBytes
    line.txs += 1
  }
  for (const { tx, receipt } of l1.minedReceipts()) {
    add(s, receipt)
    s.txBytes += tx.size
    add(s.byPhase[tx.phase], receipt)
    const op = s.byOperation[tx.operation] ?? emptyLine()
    s.byOperation[tx.operation] = op
    add(op, receipt)
    if (receipt.status !== 'success') s.reverted++
    s.fees += receipt.fee
    s.feesBySender.set(receipt.from, (s.feesBySender.get(receipt.from) ?? 0n) + receipt.fee)
    for (const c of receipt.breakdown) {
      const key = `${c.op}:${c.label}`
      s.byCharge[key] = (s.byCharge[key] ?? 0) + c.gas
    }
  }
  return s
}
