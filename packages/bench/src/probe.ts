/**
 * The interleaved probe: a design's rate on one pair against its own bound
 * (the signatures, verifications and commits one payment needs, design.ts
 * `bound()`), measured in short alternating rounds in this process.
 *
 * A fresh instance of the design runs on a fresh L1 with a two-user, one-pair
 * workload drawn like the scenario's (same amounts, arrivals and design
 * options, both directions). A round lasts `roundMs` and alternates one
 * payment and one run of the bound, timing each (every other round starts
 * with the bound) twice over:
 *
 *   - CPU time (this process's user + system time): what the work costs the
 *     machine, blind to other processes taking the CPU. The round's ratio is
 *     the median CPU time of a bound run ÷ that of a payment. This is the
 *     figure the CI gate compares: on the shared 2-core machine it moves by a
 *     few per cent between runs, where wall-clock ratios move by tens.
 *   - Wall time, which adds what a payment waits for: its fsyncs (queued
 *     behind other processes' writes on a shared disk) and the CPU while
 *     other processes hold it. The same ratio in wall time says how close the
 *     design comes to what its crypto and disk allow; reported with its
 *     spread, not gated.
 *
 * Alternating op by op puts both sides in the same conditions, and medians
 * leave the outliers out, while a real change in the design's own work moves
 * every payment. Each figure is the median over the rounds; min, max and the
 * quartiles are its spread.
 *
 * The same rounds give the per-pair update rate the channel designs' capacity
 * uses: 1 ÷ the median wall time of one payment, one pair paying back to back.
 */
import { monotonicMs } from '@l2bench/core'
import type { Design } from './design.ts'
import type { BoundRatioJson, RatioStatsJson } from './results.ts'
import { HarnessWorld, KeyRing } from './runner.ts'
import type { Scenario } from './scenario.ts'
import { toProgress } from './progress.ts'
import { generateWorkload } from './workload.ts'

export interface ProbeOptions {
  /** Alternating rounds (default 9: an odd count has a middle). */
  rounds?: number
  /** Length of each half-round, ms (default 80). */
  roundMs?: number
  /** Payments in the probe's workload (an upper bound on what the rounds can use; default 4000). */
  payments?: number
  keys?: KeyRing
}

/** The scenario a probe runs: two users, one pair paying both ways, no faults, the scenario's amounts, arrivals and options. */
export function probeScenario(s: Scenario, payments = 4000): Scenario {
  return {
    ...s,
    name: `${s.name}/probe`,
    users: 2,
    payments,
    pairs: { count: 1, distribution: { kind: 'uniform' }, direction: 'both' },
    faults: { staleState: 0, offlineHop: 0, withheldPreimage: 0 },
    topology: { kind: 'hub' },
    limits: {},
    sweeps: { payments: [], users: [], pairs: [], paymentsPerPair: [] },
  }
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length === 0 ? Number.NaN : s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

const sig = (x: number) => Number(x.toPrecision(4))

const quantile = (xs: readonly number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b)
  if (s.length === 0) return Number.NaN
  const pos = (s.length - 1) * q
  const lo = Math.floor(pos)
  return s[lo]! + (s[Math.ceil(pos)]! - s[lo]!) * (pos - lo)
}

/** Median, quartiles, range and relative spread of per-round ratios; `pairs` are (payment, bound run) times side by side. */
export function ratioStats(ratios: readonly number[], pairs: readonly (readonly [number, number])[] = []): RatioStatsJson {
  const med = median(ratios)
  const k = pairs.filter(([d, b]) => d < b).length
  return {
    faster: { pairs: pairs.length, designFaster: k, p: Number(signTestP(k, pairs.length).toPrecision(3)) },
    median: sig(med),
    q1: sig(quantile(ratios, 0.25)),
    q3: sig(quantile(ratios, 0.75)),
    min: sig(Math.min(...ratios)),
    max: sig(Math.max(...ratios)),
    spread: sig((Math.max(...ratios) - Math.min(...ratios)) / med),
    ratios: ratios.map(sig),
  }
}

/** One-sided sign test: the probability of `k` or more heads in `n` fair coin flips. */
export function signTestP(k: number, n: number): number {
  if (k <= 0) return 1
  let logC = 0 // log C(n, 0)
  let tail = 0
  const log2n = n * Math.LN2
  for (let i = 1; i <= n; i++) {
    logC += Math.log(n - i + 1) - Math.log(i)
    if (i >= k) tail += Math.exp(logC - log2n)
  }
  return Math.min(1, tail)
}

/** The sign test's threshold: a design beating its bound this unlikely by chance is doing less work. */
export const FASTER_P = 0.001

/**
 * True when the probe shows the design doing less work than its bound: in
 * CPU time or in wall time, it beat the bound run next to it in more of the
 * alternating pairs than chance allows (one-sided sign test, p < 0.001). A
 * design whose work is all in its bound (the rollup: EdDSA) sits at a ratio
 * of 1 give or take the noise, and beats its bound in about half the pairs;
 * one that skips a signature beats it in nearly all.
 */
export function fasterThanBound(b: BoundRatioJson): boolean {
  return b.cpu.faster.p < FASTER_P || b.wall.faster.p < FASTER_P
}

/** The evidence in words: ratios and the sign tests. */
export function fasterText(b: BoundRatioJson): string {
  const t = (s: RatioStatsJson) => `${s.faster.designFaster} of ${s.faster.pairs} payments beat the bound run beside them (p = ${s.faster.p})`
  return `rate ÷ bound = ${b.cpu.median} in CPU time, ${b.wall.median} in wall time; ${t(b.cpu)} in CPU time, ${t(b.wall)} in wall time`
}

const cpuMs = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

/**
 * Probes `design` (a fresh instance, not yet set up). Returns undefined when
 * the design declares no bound. Throws if a probe payment fails.
 */
export async function probeDesign(design: Design, scenario: Scenario, options: ProbeOptions = {}): Promise<BoundRatioJson | undefined> {
  if (design.bound === undefined) return undefined
  const rounds = options.rounds ?? 9
  const roundMs = options.roundMs ?? 80
  const s = probeScenario(scenario, options.payments ?? 4000)
  const workload = generateWorkload(s)
  const world = new HarnessWorld(s, workload, `${design.name}/probe`, options.keys ?? new KeyRing(), toProgress(undefined))
  world.l1.phase = 'setup'
  await design.setup(world)
  const bound = design.bound()
  let next = 0
  const designMs: number[] = []
  const boundMs: number[] = []
  const wallRatios: number[] = []
  const cpuRatios: number[] = []
  const wallPairs: (readonly [number, number])[] = []
  const cpuPairs: (readonly [number, number])[] = []
  try {
    world.l1.phase = 'payments'
    world.startTs = world.l1.head().timestamp
    world.cursorMs = 0
    const payOne = async () => {
      const p = workload.payments[next++]!
      await world.advanceTo(p.atMs)
      const r = await design.pay(p)
      if (!r.ok) throw new Error(`probe payment ${p.id} failed: ${r.reason ?? 'unknown'}`)
    }
    /** [wall ms, CPU ms] of one bound run. */
    const timeBound = (): [number, number] => {
      const t = monotonicMs()
      const c = cpuMs()
      bound.run()
      return [monotonicMs() - t, cpuMs() - c]
    }
    const timePayment = async (): Promise<[number, number]> => {
      const t = monotonicMs()
      const c = cpuMs()
      await payOne()
      return [monotonicMs() - t, cpuMs() - c]
    }
    // Warm-up: the first payments open files, fill caches and compile.
    for (let i = 0; i < 3; i++) {
      await payOne()
      bound.run()
    }
    for (let r = 0; r < rounds && next < workload.payments.length; r++) {
      // One round: payment, bound run, payment, bound run, … (which goes first alternates per round).
      const d: [number, number][] = []
      const b: [number, number][] = []
      const t0 = monotonicMs()
      do {
        if (r % 2 === 0) {
          d.push(await timePayment())
          b.push(timeBound())
        } else {
          b.push(timeBound())
          d.push(await timePayment())
        }
      } while (monotonicMs() - t0 < roundMs && next < workload.payments.length)
      wallPairs.push(...d.map((x, j) => [x[0], b[j]![0]] as const))
      cpuPairs.push(...d.map((x, j) => [x[1], b[j]![1]] as const))
      designMs.push(...d.map((x) => x[0]))
      boundMs.push(...b.map((x) => x[0]))
      wallRatios.push(median(b.map((x) => x[0])) / median(d.map((x) => x[0])))
      cpuRatios.push(median(b.map((x) => x[1])) / Math.max(1e-3, median(d.map((x) => x[1]))))
    }
    await design.flush()
  } finally {
    bound.close?.()
    world.l1.phase = 'settle'
    await design.settle()
  }
  return {
    bound: bound.what,
    rounds: wallRatios.length,
    designPerSecond: sig(1000 / median(designMs)),
    boundPerSecond: sig(1000 / median(boundMs)),
    cpu: ratioStats(cpuRatios, cpuPairs),
    wall: ratioStats(wallRatios, wallPairs),
  }
}
