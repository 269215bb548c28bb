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
import { composeBound, signVerify } from '../bounds.ts'
import type { CapacityInputs, Design, PaymentBound, PaymentResult, World } from '../design.ts'
import type { StoreJson } from '../results.ts'
import type { Payment } from '../workload.ts'

interface Pending {
  id: number
  from: number
  hash: TxHash
  /** value + gasLimit × gasPrice: what the wallet must keep aside until the block. */
  reserved: bigint
  arrivalMs: number
  computeMs: number
}

export class L1Design implements Design {
  readonly name = 'l1' as const
  private world!: World
  private pending: Pending[] = []
  /** Per user: Σ reserved of their transfers still in the mempool. */
  private reserved = new Map<number, bigint>()

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
    // A wallet keeps aside what its own pending transfers may spend, so it never
    // sends a transfer the chain would drop (which would also strand later nonces).
    const gasLimit = BigInt(GAS_SCHEDULE.txBase)
    const cost = p.amount + gasLimit * from.wallet.gasPrice
    const held = this.reserved.get(p.from) ?? 0n
    if (from.wallet.balance() - held < cost) return { ok: false, reason: 'INSUFFICIENT_FUNDS', softLatencyMs: monotonicMs() - t0 }
    let hash: TxHash
    try {
      hash = await from.wallet.sendRaw(to.address, new Uint8Array(), { value: p.amount, gasLimit })
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'L1_REJECTED'
      return { ok: false, reason: code, softLatencyMs: monotonicMs() - t0 }
    }
    this.reserved.set(p.from, held + cost)
    this.pending.push({ id: p.id, from: p.from, hash, reserved: cost, arrivalMs: this.world.nowMs(), computeMs: monotonicMs() - t0 })
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
      this.reserved.set(p.from, (this.reserved.get(p.from) ?? 0n) - p.reserved)
      const waited = Math.max(0, this.world.blockTimeMs(r.timestamp) - p.arrivalMs)
      const latency = waited + p.computeMs
      if (r.status === 'success') this.world.resolve(p.id, { softLatencyMs: latency, finalLatencyMs: latency })
      else this.world.resolve(p.id, { ok: false, reason: 'REVERTED', softLatencyMs: latency })
    }
    this.pending = still
  }

  async flush(): Promise<void> {
    // Mine until the mempool drains (a backlog may need several blocks); stop
    // if blocks stop including anything (a transaction that can never be mined).
    let idle = 0
    while (this.world.l1.pendingCount() > 0 && idle < 100) {
      const before = this.world.l1.pendingCount()
      await this.world.l1.mine(1)
      idle = this.world.l1.pendingCount() < before ? 0 : idle + 1
    }
    this.collect()
    for (const p of this.pending) {
      // A dropped transaction's receipt rejects at once with the reason; one still
      // stuck in the mempool would wait forever, so it is reported as STUCK.
      const reason = await Promise.race([
        this.world.l1.receipt(p.hash).then(
          () => 'UNRESOLVED',
          (err: { code?: string }) => err.code ?? 'DROPPED',
        ),
        new Promise<string>((r) => setImmediate(() => r('STUCK'))),
      ])
      this.world.resolve(p.id, { ok: false, reason })
    }
    this.pending = []
  }

  async settle(): Promise<void> {
    // Nothing is held off L1.
  }

  lockedCapital(): bigint {
    return 0n
  }

  store(): StoreJson {
    return { kind: 'none', description: 'none: the mock L1 keeps its state in memory' }
  }

  capacityInputs(): CapacityInputs {
    return { model: 'l1' }
  }

  /** The wallet signs the transfer (noble), the mock checks the signature on admission (node:crypto). */
  bound(): PaymentBound {
    return composeBound('noble sign + node:crypto verify (wallet signs, the L1 checks on admission)', [{ run: signVerify('l1'), times: 1 }])
  }
}
