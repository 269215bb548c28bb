/**
 * A farm worker process for the system tests: `node … farm-worker-main.ts
 * '<json options>'`. Log lines go to stdout; on a lost Redis it prints the
 * error to stderr and exits 1; SIGTERM closes it gracefully.
 */
import { ProverFarmWorker, fetchCircuit } from '../src/farm/index.ts'

const o = JSON.parse(process.argv[2] ?? '{}') as { redis: string; farm: string; cache: string; lockMs: number; name: string; pin?: string; idleMs?: number }
const pinned = o.pin !== undefined ? await fetchCircuit(o.cache, o.pin) : undefined
const worker = await ProverFarmWorker.start({
  redis: o.redis,
  farm: o.farm,
  circuitCache: o.cache,
  lockMs: o.lockMs,
  name: o.name,
  giveUpMs: 2_000,
  ...(o.idleMs !== undefined ? { idleMs: o.idleMs } : {}),
  ...(pinned !== undefined ? { pinned } : {}),
  log: (line) => process.stdout.write(`${line}\n`),
})
process.on('SIGTERM', () => void worker.close().then(() => process.exit(0)))
const err = await worker.done
if (err !== undefined) {
  process.stderr.write(`${err.code}: ${err.message}\n`)
  process.exit(1)
}
process.exit(0)
