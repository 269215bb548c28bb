/**
 * The runner: drives one workload through one design on a fresh MeteredL1 and
 * turns what happened into a DesignResultJson.
 *
 * Time: payments arrive on a simulated clock (the workload's Poisson
 * arrivals). Before each payment the runner mines the L1 blocks whose
 * timestamps the clock has passed, so an L1 wait costs simulated block time,
 * while computation (signing, verifying, proving) is measured on the wall
 * clock. A payment's latency is the sum of the two.
 *
 * Checks: after settle, every user's L1 balance (plus anything the design
 * still holds for them) must equal genesis + received − sent − L1 fees. A
 * design that loses or invents money fails the run's conservation check.
 */
import {
  type Address,
  NobleSigner,
  Rng,
  type Signer,
  monotonicMs,
  secretKeyFromSeed,
} from '@l2bench/core'
import { Wallet, type Receipt, type TxHash } from '@l2bench/l1-mock'
import type { CapacityInputs, Design, Extrapolation, FaultOutcome, PaymentResult, Resolution, User, World } from './design.ts'
import { type BenchL1, MeteredL1, summarizeCosts } from './meter.ts'
import type { DesignResultJson, LatencySummary, ProverCostJson } from './results.ts'
import { type Progress, type ProgressTask, prefixed, toProgress } from './progress.ts'
import type { Scenario } from './scenario.ts'
import { summarize } from './stats.ts'
import type { Payment, Workload } from './workload.ts'

/**
 * Derives user keys once per run; every design sees the same users. Users sign
 * with @noble/secp256k1 because its signatures are deterministic (RFC 6979):
 * OpenSSL's random nonces change how many zero bytes a signature has, and so
 * the calldata gas, from run to run. Verification stays on node:crypto.
 */
export class KeyRing {
  private readonly cache = new Map<string, { secretKey: Uint8Array; signer: Signer }>()
  get(label: string): { secretKey: Uint8Array; signer: Signer } {
    let k = this.cache.get(label)
    if (k === undefined) {
      const secretKey = secretKeyFromSeed(`l2bench/${label}`)
      k = { secretKey, signer: new NobleSigner(secretKey) }
      this.cache.set(label, k)
    }
    return k
  }
}

interface PaymentRecord {
  ok: boolean | undefined
  reason: string | undefined
  softMs: number | undefined
  finalMs: number | undefined
  finalParts?: Record<string, number>
}

export interface RunDesignOptions {
  keys?: KeyRing
  progress?: Progress | ((line: string) => void)
  /** Keep raw latency samples in the result (default true). */
  samples?: boolean
  /** Receives the design's capacity inputs (after flush, before settle), for run.ts's capacity figure. */
  capacityInputs?: (inputs: CapacityInputs | undefined, error?: string) => void
  /** The chain to run on, made fresh for this run and stopped after it (default: a MeteredL1, the mock). */
  chain?: (scenario: Scenario) => Promise<StoppableL1>
}

/** A chain the harness starts for one run and stops after it (a real EVM node). */
export interface StoppableL1 extends BenchL1 {
  stop(): Promise<void>
}

/** The store line of a design that keeps nothing on disk. */
export const NO_STORE = { kind: 'none', description: 'none: state in memory' } as const

/** The World a design sees; exported for the interleaved probe (probe.ts). */
export class HarnessWorld implements World {
  readonly l1: BenchL1
  readonly users: User[]
  readonly rng: Rng
  readonly records: PaymentRecord[]
  readonly faults: FaultOutcome[] = []
  readonly notes: string[] = []
  readonly extrapolations: Extrapolation[] = []
  startTs = 0
  cursorMs = 0
  private funded: boolean

  constructor(
    readonly scenario: Scenario,
    readonly workload: Workload,
    designName: string,
    private readonly keys: KeyRing,
    private readonly onProgress: Progress,
    /** The chain to run on (default: a fresh MeteredL1, users funded at once); with one given, call `fund()` before use. */
    l1?: BenchL1,
  ) {
    const mock =
      l1 === undefined
        ? new MeteredL1({ blockTime: scenario.l1.blockTime, blockGasLimit: scenario.l1.blockGasLimit, autoMine: true })
        : undefined
    this.l1 = l1 ?? (mock as MeteredL1)
    this.rng = new Rng(`${scenario.seed}:design:${designName}`)
    this.users = []
    for (let i = 0; i < workload.users; i++) {
      const { secretKey, signer } = keys.get(`user/${i}`)
      mock?.mint(signer.address, scenario.capital.userBalance)
      this.users.push({ index: i, secretKey, signer, address: signer.address, wallet: new Wallet(signer, this.l1, scenario.l1.gasPrice) })
    }
    this.funded = mock !== undefined
    this.records = workload.payments.map(() => ({ ok: undefined, reason: undefined, softMs: undefined, finalMs: undefined }))
  }

  /** Funds every user on a chain given to the constructor (the default mock is funded at once). */
  async fund(): Promise<void> {
    if (this.funded) return
    for (const u of this.users) await this.l1.mint(u.address, this.scenario.capital.userBalance)
    this.funded = true
  }

  async operator(label: string, balance?: bigint): Promise<User> {
    const { secretKey, signer } = this.keys.get(`operator/${label}`)
    await this.l1.mint(signer.address, balance ?? this.scenario.capital.userBalance * 1000n)
    return { index: -1, secretKey, signer, address: signer.address, wallet: new Wallet(signer, this.l1, this.scenario.l1.gasPrice) }
  }

  nowMs(): number {
    return Math.max(this.cursorMs, this.blockTimeMs(this.l1.head().timestamp))
  }

  blockTimeMs(timestamp: number): number {
    return (timestamp - this.startTs) * 1000
  }

  /** Moves the simulated clock to `ms`, mining every block whose time has come. */
  async advanceTo(ms: number): Promise<void> {
    if (ms > this.cursorMs) this.cursorMs = ms
    const target = this.startTs + this.cursorMs / 1000
    const bt = this.l1.blockTime
    while (this.l1.head().timestamp + bt <= target) await this.l1.mine(1)
  }

  async mineUntil(hash: TxHash): Promise<Receipt> {
    for (let guard = 0; guard < 100_000; guard++) {
      const r = this.l1.receiptSync(hash)
      if (r !== undefined) return r
      if (this.l1.pendingCount() === 0) return this.l1.receipt(hash) // rejects with the drop reason
      await this.l1.mine(1)
    }
    throw new Error(`transaction ${hash} not mined after 100000 blocks`)
  }

  resolve(paymentId: number, r: Resolution): void {
    const rec = this.records[paymentId]
    if (rec === undefined) throw new RangeError(`resolve: no payment ${paymentId}`)
    if (r.ok !== undefined) rec.ok = r.ok
    if (r.reason !== undefined) rec.reason = r.reason
    if (r.softLatencyMs !== undefined) rec.softMs = r.softLatencyMs
    if (r.finalLatencyMs !== undefined) rec.finalMs = r.finalLatencyMs
    if (r.finalParts !== undefined) rec.finalParts = r.finalParts
  }

  fault(outcome: FaultOutcome): void {
    this.faults.push(outcome)
  }

  note(text: string): void {
    if (!this.notes.includes(text)) this.notes.push(text)
  }

  extrapolated(e: Extrapolation): void {
    this.extrapolations.push(e)
  }

  progress(message: string): void {
    this.onProgress.line(message)
  }

  task(label: string, total: number): ProgressTask {
    return this.onProgress.task(label, total)
  }
}

function latency(values: number[]): LatencySummary {
  const s = summarize(values)
  return { p50: s.p50, p95: s.p95, p99: s.p99, mean: s.mean, max: s.max, count: s.count }
}

const round = (x: number, digits = 3) => Number(x.toFixed(digits))

/** Runs `workload` through `design` on a fresh L1 and measures everything. */
/**
 * Payments between which the runner lets the event loop reach its timers.
 * In-process nodes pay in microtasks only (frames and group commits queued
 * as microtasks), so without a turn no timer runs during the payment phase:
 * the links' keep-alives never go out, and once the phase passes their idle
 * timeout (60 s) the first timers to run find every quiet link silent and
 * drop it — a channel closed at settle then waits forever for its peer.
 */
const TIMER_TURN_EVERY = 32

/** One full turn of the event loop, timers phase included (two immediates: the second waits for the loop to come round). */
async function timerTurn(): Promise<void> {
  for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r))
}

export async function runDesign(design: Design, workload: Workload, options: RunDesignOptions = {}): Promise<DesignResultJson> {
  const scenario = workload.scenario
  const progress = prefixed(toProgress(options.progress), `[${design.name}] `)
  const chain = await options.chain?.(scenario)
  try {
    return await runOn(design, workload, options, progress, chain)
  } finally {
    await chain?.stop()
  }
}

async function runOn(design: Design, workload: Workload, options: RunDesignOptions, progress: Progress, chain: BenchL1 | undefined): Promise<DesignResultJson> {
  const scenario = workload.scenario
  const world = new HarnessWorld(scenario, workload, design.name, options.keys ?? new KeyRing(), progress, chain)
  await world.fund()
  const l1 = world.l1

  // ---- setup
  l1.phase = 'setup'
  progress.line('setup')
  let t = monotonicMs()
  await design.setup(world)
  const setupMs = monotonicMs() - t

  // ---- payments
  l1.phase = 'payments'
  world.startTs = l1.head().timestamp
  world.cursorMs = 0
  let locked = design.lockedCapital()
  let peakLocked = locked
  let lockedWeiMs = 0n
  let lastMs = 0
  const total = workload.payments.length
  const bar = progress.task('payments', total)
  t = monotonicMs()
  for (const p of workload.payments) {
    await world.advanceTo(p.atMs)
    const now = world.nowMs()
    lockedWeiMs += locked * BigInt(Math.max(0, Math.round(now - lastMs)))
    lastMs = now
    let r: PaymentResult
    try {
      r = await design.pay(p)
    } catch (err) {
      r = { ok: false, reason: `ERROR:${(err as { code?: string }).code ?? (err as Error).name}` }
      world.note(`payment ${p.id} threw: ${(err as Error).message}`)
    }
    const rec = world.records[p.id]!
    rec.ok ??= r.ok
    if (!r.ok) rec.ok = false
    rec.reason ??= r.reason
    rec.softMs ??= r.softLatencyMs
    rec.finalMs ??= r.finalLatencyMs
    locked = design.lockedCapital()
    if (locked > peakLocked) peakLocked = locked
    bar.update(p.id + 1)
    if ((p.id + 1) % TIMER_TURN_EVERY === 0) await timerTurn()
  }
  await design.flush()
  const paymentsMs = monotonicMs() - t
  await design.afterPayments?.()
  if (options.capacityInputs !== undefined) {
    try {
      options.capacityInputs(design.capacityInputs?.())
    } catch (err) {
      options.capacityInputs(undefined, `capacity inputs failed: ${(err as Error).message}`)
    }
  }
  let prover: ProverCostJson | undefined
  try {
    prover = design.proverCost?.()
  } catch (err) {
    world.note(`prover cost not reported: ${(err as Error).message}`)
  }
  const store = design.store?.() ?? { ...NO_STORE }
  const variant = design.variant?.()
  bar.end(`${Math.round((total * 1000) / Math.max(paymentsMs, 1e-6))}/s wall`)
  // Harness speed counts work the design extrapolated (e.g. proving it did not run) as if it had run.
  const throughputMs = paymentsMs + (design.extraPaymentWallMs?.() ?? 0)
  const endMs = Math.max(world.nowMs(), lastMs)
  lockedWeiMs += locked * BigInt(Math.max(0, Math.round(endMs - lastMs)))

  // ---- settle
  l1.phase = 'settle'
  progress.line('settle')
  t = monotonicMs()
  await design.settle()
  const settleMs = monotonicMs() - t

  // ---- figures
  const costs = summarizeCosts(l1)
  for (const x of design.extraCosts?.() ?? []) {
    const op = `${x.operation} †`
    const line = costs.byOperation[op] ?? { gas: 0, bytes: 0, txs: 0 }
    costs.byOperation[op] = line
    for (const target of [costs, costs.byPhase[x.phase], line]) {
      target.gas += x.gas
      target.bytes += x.bytes
      target.txs += x.txs
    }
    // Whole-transaction size: the calldata plus this run's mean envelope per transaction.
    const envelope = costs.txs - x.txs > 0 ? Math.max(0, (costs.txBytes - (costs.bytes - x.bytes)) / (costs.txs - x.txs)) : 0
    costs.txBytes += x.bytes + Math.round(envelope * x.txs)
  }
  const failureReasons: Record<string, number> = {}
  const soft: number[] = []
  const final: number[] = []
  const parts = new Map<string, number[]>()
  let succeeded = 0
  let notFinal = 0
  for (const rec of world.records) {
    if (rec.ok === true) {
      succeeded++
      if (rec.softMs !== undefined) soft.push(rec.softMs)
      if (rec.finalMs !== undefined) final.push(rec.finalMs)
      else notFinal++
      for (const [k, v] of Object.entries(rec.finalParts ?? {})) {
        const xs = parts.get(k) ?? []
        xs.push(v)
        parts.set(k, xs)
      }
    } else {
      const reason = rec.reason ?? 'UNKNOWN'
      failureReasons[reason] = (failureReasons[reason] ?? 0) + 1
    }
  }
  const perPayment = (x: number) => (total === 0 ? 0 : round(x / total, 2))
  const line = (c: { gas: number; bytes: number; txs: number }) => ({ gas: c.gas, bytes: c.bytes, txs: c.txs })

  const conservation = checkConservation(world, design, costs.feesBySender)
  const simSeconds = endMs / 1000
  return {
    name: design.name,
    ...(variant === undefined ? {} : { variant }),
    ran: true,
    payments: total,
    succeeded,
    successRate: total === 0 ? 0 : round(succeeded / total, 4),
    failureReasons,
    harness: { paymentsPerSecond: throughputMs > 0 ? Number(((succeeded * 1000) / throughputMs).toPrecision(4)) : 0, measured: 'wall-clock' },
    store,
    wallMs: { setup: round(setupMs, 1), payments: round(paymentsMs, 1), settle: round(settleMs, 1) },
    latencyMs: {
      soft: latency(soft),
      final: latency(final),
      notFinal,
      ...(parts.size > 0 ? { finalParts: Object.fromEntries([...parts].map(([k, xs]) => [k, latency(xs)])) } : {}),
    },
    ...(prover !== undefined ? { prover } : {}),
    l1: {
      gas: costs.gas,
      gasPerPayment: perPayment(costs.gas),
      bytes: costs.bytes,
      bytesPerPayment: perPayment(costs.bytes),
      txBytes: costs.txBytes,
      txBytesPerPayment: perPayment(costs.txBytes),
      txs: costs.txs,
      txsPerPayment: total === 0 ? 0 : round(costs.txs / total, 4),
      reverted: costs.reverted,
      feesWei: costs.fees.toString(),
      byPhase: { setup: line(costs.byPhase.setup), payments: line(costs.byPhase.payments), settle: line(costs.byPhase.settle) },
      byOperation: Object.fromEntries(Object.entries(costs.byOperation).map(([k, v]) => [k, line(v)])),
      byCharge: costs.byCharge,
    },
    capital: {
      lockedWeiSeconds: (lockedWeiMs / 1000n).toString(),
      meanLockedWei: endMs > 0 ? (lockedWeiMs / BigInt(Math.max(1, Math.round(endMs)))).toString() : '0',
      peakLockedWei: peakLocked.toString(),
      simulatedSeconds: round(simSeconds, 3),
    },
    conservation,
    faults: world.faults,
    notes: world.notes,
    extrapolated: world.extrapolations.length > 0,
    extrapolations: world.extrapolations,
    ...(options.samples === false ? {} : { samples: { softMs: soft.map((x) => round(x)), finalMs: final.map((x) => round(x)) } }),
  }
}

/** Expected: genesis + received − sent (succeeded payments) − own L1 fees + design adjustments. */
function checkConservation(world: HarnessWorld, design: Design, feesBySender: Map<string, bigint>): DesignResultJson['conservation'] {
  const users = world.users
  const expected = users.map(() => world.scenario.capital.userBalance)
  world.workload.payments.forEach((p: Payment) => {
    if (world.records[p.id]?.ok !== true) return
    expected[p.from] = expected[p.from]! - p.amount
    expected[p.to] = expected[p.to]! + p.amount
  })
  for (const [u, delta] of design.adjustments?.() ?? new Map<number, bigint>()) if (expected[u] !== undefined) expected[u] += delta
  const mismatches: { user: number; expected: string; actual: string }[] = []
  let bad = 0
  users.forEach((u, i) => {
    const fees = feesBySender.get(u.address as Address) ?? 0n
    const want = expected[i]! - fees
    const have = world.l1.balanceOf(u.address) + (design.heldFor?.(i) ?? 0n)
    if (want !== have) {
      bad++
      if (mismatches.length < 5) mismatches.push({ user: i, expected: want.toString(), actual: have.toString() })
    }
  })
  const global = world.l1.totalBalances() + world.l1.totalBurnt() === world.l1.totalMinted()
  if (!global) mismatches.push({ user: -1, expected: 'Σ balances + burnt = minted', actual: 'violated' })
  return { ok: bad === 0 && global, usersChecked: users.length, mismatches }
}

/** A DesignResultJson for a design that could not run (missing adapter, crash). */
export function notRun(name: string, error: string, payments: number): DesignResultJson {
  const zero: LatencySummary = { p50: 0, p95: 0, p99: 0, mean: 0, max: 0, count: 0 }
  const line = { gas: 0, bytes: 0, txs: 0 }
  return {
    name,
    ran: false,
    error,
    payments,
    succeeded: 0,
    successRate: 0,
    failureReasons: {},
    harness: { paymentsPerSecond: 0, measured: 'wall-clock' },
    store: { ...NO_STORE },
    wallMs: { setup: 0, payments: 0, settle: 0 },
    latencyMs: { soft: zero, final: zero, notFinal: 0 },
    l1: {
      gas: 0,
      gasPerPayment: 0,
      bytes: 0,
      bytesPerPayment: 0,
      txBytes: 0,
      txBytesPerPayment: 0,
      txs: 0,
      txsPerPayment: 0,
      reverted: 0,
      feesWei: '0',
      byPhase: { setup: line, payments: line, settle: line },
      byOperation: {},
      byCharge: {},
    },
    capital: { lockedWeiSeconds: '0', meanLockedWei: '0', peakLockedWei: '0', simulatedSeconds: 0 },
    conservation: { ok: false, usersChecked: 0, mismatches: [] },
    faults: [],
    notes: [],
    extrapolated: false,
    extrapolations: [],
  }
}
