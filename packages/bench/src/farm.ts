/**
 * The bench's side of the prover farm: `l2bench run --prover-redis URL` makes
 * the rollup design prove through a QueueProver (BullMQ) instead of its local
 * worker threads, and `l2bench prover --redis URL` runs a worker. The farm
 * code itself is @l2bench/zk-rollup/farm; it is imported only when asked for,
 * so a plain run never loads BullMQ.
 */
import type { BuiltCircuit, CircuitParams, Prover } from '@l2bench/zk-rollup'
import type { World } from './design.ts'

export interface FarmOptions {
  redis: string
  farm?: string
  circuitCache?: string
  /** Batches the node keeps proving at once (default 16). */
  inFlight?: number
  /** Measure the speed-up of this many workers over one in the run (`--prover-speedup k`; speedup.ts in the farm). */
  speedup?: number
}

/** Builds the rollup design's prover from its circuit: the hook RollupDesign takes. */
export type RollupProverFactory = (built: BuiltCircuit, params: CircuitParams, world: World) => Promise<Prover>

/** Fails fast (REDIS_UNREACHABLE, or a typed error naming a bad flag) before a run starts. */
export async function checkFarm(o: FarmOptions): Promise<void> {
  const farm = await import('@l2bench/zk-rollup/farm')
  if (o.farm !== undefined) farm.checkFarmName(o.farm, '--prover-farm')
  farm.checkRedisUrl(o.redis, '--prover-redis')
  const link = await farm.connectRedis(o.redis, { name: `l2bench-check-${process.pid}` })
  await link.close()
}

/**
 * A factory of QueueProvers. When the design closes its prover (at the end of
 * settle), the farm's figures go into the report as a note: proofs per worker,
 * retries, jobs taken over from a dead worker, and how busy the farm was.
 */
export function farmProverFactory(o: FarmOptions): RollupProverFactory {
  return async (built, params, world) => {
    const farm = await import('@l2bench/zk-rollup/farm')
    const circuit = await farm.farmCircuitOf(built, params)
    const prover = new farm.QueueProver({
      redis: o.redis,
      circuit,
      vkeyPath: built.setup.vkeyPath,
      ...(o.farm !== undefined ? { farm: o.farm } : {}),
      ...(o.circuitCache !== undefined ? { circuitCache: o.circuitCache } : {}),
      ...(o.inFlight !== undefined ? { inFlight: o.inFlight } : {}),
      ...(o.speedup !== undefined ? { measureSpeedup: { workers: o.speedup } } : {}),
      log: (line) => world.progress(`[prover farm] ${line}`),
    })
    await prover.ready()
    const close = prover.close.bind(prover)
    prover.close = async () => {
      const s = prover.stats
      if (s.proofs > 0) world.note(farmNote(prover.farm, circuit.id, s, prover.jobs))
      const speedup = prover.speedup()
      if (speedup !== undefined) world.note(speedupNote(speedup))
      await close()
    }
    return prover
  }
}

type Stats = import('@l2bench/zk-rollup/farm').FarmStats
type SpeedupResult = import('@l2bench/zk-rollup/farm').SpeedupResult

/** The in-run speed-up measurement as a report note (its figures, how they were measured, the machine's load). */
export function speedupNote(r: SpeedupResult): string {
  if (!r.measured) return `Speed-up of the prover farm over one worker: not measured (${r.reason}).`
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`
  const a = r.blocks.filter((b) => b.cap === 1)
  const b = r.blocks.filter((x) => x.cap !== 1)
  const retried = r.blocks.reduce((n, x) => n + x.retried, 0)
  return (
    `Speed-up of ${r.workers} prover workers over one, measured in this run: ${r.speedup.toFixed(2)}× ` +
    `(mean time per batch with one job at a time ÷ with ${r.workers} at a time = ${s(r.oneWorkerMsPerBatch)} ÷ ${s(r.poolMsPerBatch)}). ` +
    `After a warm-up round of ${r.warmup} proofs (one per worker, not counted), the next ${4 * r.blockBatches} went in four blocks of ${r.blockBatches}, in ABBA order: one job at a time (${a.map((x) => `${s(x.wallMs)}`).join(' and ')} per block) ` +
    `and ${r.workers} at a time (${b.map((x) => `${s(x.wallMs)}`).join(' and ')} per block), each block from its first job out to its last proof verified, the one before it drained; ` +
    `this machine's 1-minute load average ${r.loadAverage.start.toFixed(1)} at the start and ${r.loadAverage.end.toFixed(1)} at the end` +
    `${retried > 0 ? `; ${retried} job${retried === 1 ? ' was' : 's were'} retried or taken over during the blocks` : ''}. ` +
    `The run's own wall time includes the one-at-a-time blocks.`
  )
}
type JobRecord = import('@l2bench/zk-rollup/farm').JobRecord

function farmNote(farm: string, circuitId: string, s: Stats, jobs: readonly JobRecord[]): string {
  const workers = Object.entries(s.byWorker)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([w, n]) => `${w}: ${n}`)
  const proofs = jobs.filter((j) => j.kind === 'prove')
  const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length)
  return (
    `Proofs from the BullMQ prover farm "${farm}" (circuit ${circuitId}): ${s.proofs} batches by ${workers.length} worker${workers.length === 1 ? '' : 's'} (${workers.join(', ')}); ` +
    `${s.retried} job${s.retried === 1 ? '' : 's'} retried, ${s.stalled} taken over from a worker that stopped; every proof verified against the circuit's key before submission. ` +
    `Worker time per proof ${(mean(proofs.map((j) => j.witnessMs + j.proveMs)) / 1000).toFixed(1)} s (witness + Groth16, measured on the workers); enqueue-to-verified ${(mean(proofs.map((j) => j.turnaroundMs)) / 1000).toFixed(1)} s on average.`
  )
}
