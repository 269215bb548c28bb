/**
 * Preloaded into every micro-benchmark process by `l2bench micro`: records the
 * results of every tinybench Bench the suite runs and writes them as JSON to
 * $L2BENCH_MICRO_OUT when the process exits. Suites need no harness-specific
 * code; they only have to use tinybench.
 */
import { writeFileSync } from 'node:fs'
import { Bench } from 'tinybench'
import { percentile } from './stats.ts'

/** One tinybench task's result as `l2bench micro` reports it. */
export interface MicroTask {
  bench: string | undefined
  task: string
  state: string
  opsPerSecond?: number
  meanMs?: number
  p50Ms?: number
  p95Ms?: number
  p99Ms?: number
  rme?: number
  samples?: number
  error?: string
}

const recorded: MicroTask[] = []

function record(bench: Bench): void {
  for (const task of bench.tasks) {
    const r = task.result as unknown as {
      state: string
      error?: Error
      latency?: { mean: number; p50: number; p99: number; rme: number; samplesCount: number; samples?: number[] }
      throughput?: { mean: number }
    }
    const entry: MicroTask = { bench: bench.name, task: task.name, state: r.state }
    if (r.latency !== undefined && r.throughput !== undefined) {
      entry.opsPerSecond = r.throughput.mean
      entry.meanMs = r.latency.mean
      entry.p50Ms = r.latency.p50
      entry.p99Ms = r.latency.p99
      entry.rme = r.latency.rme
      entry.samples = r.latency.samplesCount
      // tinybench has no p95; compute it when the suite retained samples.
      if (r.latency.samples !== undefined && r.latency.samples.length > 0) entry.p95Ms = percentile(r.latency.samples, 0.95)
    }
    if (r.error !== undefined) entry.error = String(r.error?.message ?? r.error)
    recorded.push(entry)
  }
}

const proto = Bench.prototype as unknown as { run: (...a: unknown[]) => Promise<unknown>; runSync: (...a: unknown[]) => unknown }
const run = proto.run
proto.run = async function (this: Bench, ...args: unknown[]) {
  const out = await run.apply(this, args)
  record(this)
  return out
}
const runSync = proto.runSync
proto.runSync = function (this: Bench, ...args: unknown[]) {
  const out = runSync.apply(this, args)
  record(this)
  return out
}

process.on('exit', () => {
  const file = process.env.L2BENCH_MICRO_OUT
  if (file) writeFileSync(file, JSON.stringify(recorded))
})
