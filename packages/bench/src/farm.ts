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
      log: (line) => world.progress(`[prover farm] ${line}`),
    })
    await prover.ready()
    const close = prover.close.bind(prover)
    prover.close = async () => {
      const s = prover.stats
      if (s.proofs > 0) world.note(farmNote(prover.farm, circuit.id, s, prover.jobs))
      await close()
    }
    return prover
  }
}

type Stats = import('@l2bench/zk-rollup/farm').FarmStats
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
