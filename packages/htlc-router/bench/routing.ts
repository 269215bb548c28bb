/**
 * Routing benchmarks on the LN-sized synthetic graph (16,000 nodes, 60,000
 * channels): (1) wall-clock time per route for the plain (fee) and the
 * probability-aware cost, and per multi-part split; (2) payment success rate
 * against amount, simulated with channel balances the sender cannot see
 * (split uniformly, or bimodally — most channels nearly depleted one way),
 * for plain Dijkstra, the probability cost, and the probability cost with
 * multi-part payments — next to the feasibility figures in ANCHORS.md
 * (88/78/41/12% at 1k/10k/100k/1M sat on the real graph).
 *
 * Every figure is measured in the run that prints it. Run:
 *   npm run bench -- [--quick] [--seed=N] [--pairs=uniform|capacity]
 */
import os from 'node:os'
import { Rng } from '@l2bench/core'
import {
  type CostFunction,
  NetworkSimulator,
  type Payment,
  Pathfinder,
  distribution,
  findPaymentParts,
  generateWorkload,
  lnLikeGraph,
  summarize,
} from '../src/index.ts'

const args = process.argv.slice(2)
const quick = args.includes('--quick')
const seed = Number(args.find((a) => a.startsWith('--seed='))?.slice(7) ?? 1)
const pairs = (args.find((a) => a.startsWith('--pairs='))?.slice(8) ?? 'uniform') as 'uniform' | 'capacity'
const ROUTE_QUERIES = quick ? 300 : 2000
const PAYMENTS_PER_CELL = quick ? 60 : 300
const AMOUNTS_SAT = [1_000, 10_000, 100_000, 1_000_000]
const FEASIBILITY = ['88%', '78%', '41%', '12%']

const ms = (x: number) => x.toFixed(2)
/** CPU time (user + system) since `start`, ms: unlike wall time, not inflated when other processes share the cores. */
const cpuMs = (start: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(start)
  return (d.user + d.system) / 1000
}
const loadAvg = os
  .loadavg()
  .map((x) => x.toFixed(2))
  .join(' ')
const pct = (x: number) => `${(100 * x).toFixed(1)}%`

function table(header: string[], rows: string[][]): string {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(w[i] as number)).join(' | ')} |`
  return [line(header), `|${w.map((x) => '-'.repeat(x + 2)).join('|')}|`, ...rows.map(line)].join('\n')
}

console.log(
  `# htlc-router routing benchmark (${quick ? 'quick' : 'full'}, seed ${seed}, node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length})\n`,
)

let t0 = performance.now()
const graph = lnLikeGraph({ seed })
const genMs = performance.now() - t0
t0 = performance.now()
const pf = new Pathfinder(graph)
const prepMs = performance.now() - t0
const totalBtc = Array.from(graph.capacity).reduce((s, c) => s + c, 0) / 1e11
console.log(
  `graph: ${graph.nodeCount} nodes, ${graph.channelCount} channels, ${totalBtc.toFixed(0)} BTC; generated in ${genMs.toFixed(0)} ms, pathfinder tables in ${prepMs.toFixed(0)} ms\n`,
)

// 1. Time per route. Random (source, target) pairs; the first queries warm the JIT and are not counted.
const rng = new Rng(`bench:${seed}`)
const pairsFor = (count: number) =>
  Array.from({ length: count }, () => {
    const s = rng.int(graph.nodeCount)
    let t = rng.int(graph.nodeCount - 1)
    if (t >= s) t++
    return [s, t] as const
  })
const warm = pairsFor(200)
const queries = pairsFor(ROUTE_QUERIES)
const timingRows: string[][] = []
for (const [label, cost, amountSat] of [
  ['plain (fee)', 'fee', 10_000],
  ['probability', 'probability', 10_000],
  ['plain (fee)', 'fee', 1_000_000],
  ['probability', 'probability', 1_000_000],
] as [string, CostFunction, number][]) {
  const amountMsat = BigInt(amountSat) * 1000n
  for (const [s, t] of warm)
    try {
      pf.findRoute({ source: s, target: t, amountMsat, cost })
    } catch {}
  const times: number[] = []
  const cpu: number[] = []
  const settled: number[] = []
  let found = 0
  for (const [s, t] of queries) {
    const c0 = process.cpuUsage()
    const q0 = performance.now()
    try {
      pf.findRoute({ source: s, target: t, amountMsat, cost })
      found++
    } catch {}
    times.push(performance.now() - q0)
    cpu.push(cpuMs(c0))
    settled.push(pf.lastStats.settled)
  }
  const d = distribution(times)
  const c = distribution(cpu)
  timingRows.push([
    label,
    `${amountSat.toLocaleString('en')} sat`,
    String(times.length),
    pct(found / times.length),
    ms(c.p50),
    ms(c.p99),
    ms(d.p50),
    ms(d.p99),
    ms(d.max),
    distribution(settled).mean.toFixed(0),
  ])
}
// Multi-part splits of 1M sat (several searches each).
{
  const times: number[] = []
  const cpu: number[] = []
  const parts: number[] = []
  for (const [s, t] of queries.slice(0, Math.min(300, queries.length))) {
    const c0 = process.cpuUsage()
    const q0 = performance.now()
    try {
      parts.push(findPaymentParts(pf, { source: s, target: t, amountMsat: 1_000_000_000n, cost: 'probability' }).length)
    } catch {}
    times.push(performance.now() - q0)
    cpu.push(cpuMs(c0))
  }
  const d = distribution(times)
  const c = distribution(cpu)
  timingRows.push([
    'probability + MPP split',
    '1,000,000 sat',
    String(times.length),
    pct(parts.length / times.length),
    ms(c.p50),
    ms(c.p99),
    ms(d.p50),
    ms(d.p99),
    ms(d.max),
    `${distribution(parts).mean.toFixed(2)} parts`,
  ])
}
console.log(`## Time per route (random pairs; CPU time of this process, and wall clock; load average at start ${loadAvg})\n`)
console.log(
  table(['cost', 'amount', 'queries', 'route found', 'CPU p50 ms', 'CPU p99 ms', 'wall p50 ms', 'wall p99 ms', 'wall max ms', 'mean settled nodes'], timingRows),
)
console.log('\nLDK on the real graph: 35-49 ms per route, 71-136 ms multi-part (ANCHORS.md).\n')

// 2. Success rate against amount.
const strategies: { label: string; cost: CostFunction; mpp: boolean }[] = [
  { label: 'plain Dijkstra', cost: 'fee', mpp: false },
  { label: 'probability', cost: 'probability', mpp: false },
  { label: 'probability + MPP', cost: 'probability', mpp: true },
]
const rows: string[][] = []
const successByAmount = new Map<string, string[]>()
const runStart = performance.now()
const LIQUIDITY = ['uniform', 'bimodal'] as const
for (const liquidity of LIQUIDITY) {
  for (const [ai, amountSat] of AMOUNTS_SAT.entries()) {
    const work: Payment[] = generateWorkload(graph, {
      seed: `${seed}:${amountSat}`,
      count: PAYMENTS_PER_CELL,
      ratePerSecond: 1,
      amount: { kind: 'fixed', sat: amountSat },
      senders: pairs,
      receivers: pairs,
    })
    const cells: string[] = []
    for (const st of strategies) {
      // Fresh balances per cell (same seed: every strategy faces the same hidden liquidity).
      const sim = new NetworkSimulator(graph, {
        seed,
        gasPerHtlcResolution: 0,
        liquidity,
        cost: st.cost,
        mpp: st.mpp ? { maxParts: 16, minPartMsat: 10_000_000n } : false,
      })
      const c0 = performance.now()
      await sim.run(work)
      const wall = performance.now() - c0
      const r = summarize(sim)
      const firstTry = sim.results.filter((p) => p.success && p.attempts.length === 1).length / sim.results.length
      const fails = Object.entries(r.failures)
        .filter(([, v]) => v > 0)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')
      rows.push([
        liquidity,
        `${amountSat.toLocaleString('en')} sat`,
        st.label,
        pct(r.successRate),
        pct(firstTry),
        r.attempts.mean.toFixed(2),
        r.hops.mean.toFixed(2),
        r.feePpm.toFixed(0),
        ms(r.routingMs.p50),
        ms(r.routingMs.p99),
        (wall / 1000).toFixed(1),
        fails || '-',
      ])
      cells.push(pct(r.successRate))
    }
    successByAmount.set(`${liquidity}:${ai}`, cells)
  }
}
console.log(
  `## Success rate against amount (${PAYMENTS_PER_CELL} payments per cell, ${pairs} pairs, hidden balances split uniformly or bimodally, retries up to 32 attempts / 60 s)\n`,
)
console.log(
  table(
    ['balances', 'amount', 'strategy', 'success', 'first try', 'attempts', 'hops', 'fee ppm', 'route p50 ms', 'route p99 ms', 'wall s', 'failures'],
    rows,
  ),
)
console.log('\n## Summary against ANCHORS.md feasibility (real graph, Feb 2024)\n')
console.log(
  table(
    ['amount', 'ANCHORS feasibility', ...LIQUIDITY.flatMap((l) => strategies.map((s) => `${s.label} (${l})`))],
    AMOUNTS_SAT.map((a, i) => [
      `${a.toLocaleString('en')} sat`,
      FEASIBILITY[i] as string,
      ...LIQUIDITY.flatMap((l) => successByAmount.get(`${l}:${i}`) ?? []),
    ]),
  ),
)
console.log(`\nsimulation wall time ${((performance.now() - runStart) / 1000).toFixed(1)} s`)
