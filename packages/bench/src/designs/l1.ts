/**
 * The L1 baseline: every payment is one plain L1 value transfer.
 *
 * The MockL1 runs in manual-mine mode: a transfer enters the mempool at its
 * arrival time and waits for the next block, which the harness mines when the
 * simulated clock reaches it (every blockTime seconds). Blocks hold at most
 * blockGasLimit gas, so when payments arrive faster than blocks can take them
 * (blockGasLimit / 21,000 per block) a backlog builds and latency grows.
 * There is no off-chain acceptance, so soft latency equals final latency: the
 * payee has nothing until the block.
 */
import { monotonicMs } from '@l2bench/core'
import { GAS_SCHEDULE, type TxHash } from '@l2bench/l1-mock'
import type { Design, PaymentResult, World } from '../design.ts'
import type { Payment } from '../workload.ts'

interface Pending {
  id: number
  hash: TxHash
  arrivalMs: number
  computeMs: number
}

export class L1Design implements Design {
  readonly name = 'l1' as const
  private world!: World
  private pending: Pending[] = []

  async setup(world: World): Promise<void> {
    this.world = world
    world.l1.autoMine = false
    world.l1.onBlock(() => this.collect())
    world.note('One payment = one L1 value transfer (21,000 gas); soft latency = final latency = wait for the including block.')
  }

  async pay(p: Payment): Promise<PaymentResult> {
    const t0 = monotonicMs()
    const from = this.world.users[p.from]!
    const to = this.world.users[p.to]!
    let hash: TxHash
    try {
      hash = await from.wallet.sendRaw(to.address, new Uint8Array(), { value: p.amount, gasLimit: BigInt(GAS_SCHEDULE.txBase) })
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'L1_REJECTED'
      return { ok: false, reason: code, softLatencyMs: monotonicMs() - t0 }
    }
    this.pending.push({ id: p.id, hash, arrivalMs: this.world.nowMs(), computeMs: monotonicMs() - t0 })
    return { ok: true }
  }

  /** Called after every block: resolves the transfers it included. */
  private collect(): void {
    if (this.pending.length === 0) return
    const still: Pending[] = []
    for (const p of this.pending) {
      const r = this.world.l1.receiptSync(p.hash)
      if (r === undefined) {
        still.push(p)
        continue
      }
      const waited = Math.max(0, this.world.blockTimeMs(r.timestamp) - p.arrivalMs)
      const latency = waited + p.computeMs
      if (r.status === 'success') this.world.resolve(p.id, { softLatencyMs: latency, finalLatencyMs: latency })
      else this.world.resolve(p.id, { ok: false, reason: 'REVERTED', softLatencyMs: latency })
    }
    this.pending = still
  }

  async flush(): Promise<void> {
    // Mine until the mempool drains (a backlog may need several blocks).
    for (let guard = 0; this.world.l1.pendingCount() > 0 && guard < 1_000_000; guard++) this.world.l1.mine(1)
    this.collect()
    for (const p of this.pending) this.world.resolve(p.id, { ok: false, reason: 'DROPPED' })
    this.pending = []
  }

  async settle(): Promise<void> {
    // Nothing is held off L1.
  }

  lockedCapital(): bigint {
    return 0n
  }
}
