/**
 * The prover farm's speed-up on this machine: the same `l2bench run
 * --designs rollup --prove-all --prover-redis …` with a pool of 1 and of 2
 * `l2bench prover` worker processes, in ABBA order (1, 2, 2, 1 per round) so
 * that a drift in the machine's load falls on both sides alike.
 *
 *   node --conditions=@l2bench/source --import tsx packages/bench/scripts/prover-pool.ts \
 *     [--scenario default] [--quick] [--rounds 1] [--pools 1,2] [--out out/prover-pool]
 *
 * Per run it reports the run's wall time and the rollup's own phases (from
 * results.json), the proofs per worker (the report's farm note), CPU time of
 * the workers and of the run (from /proc/<pid>/stat, user + system, every
 * thread; sampled each second, so ±1 s), and the 1-minute load average
 * sampled every 5 s (this machine is shared: the load says what else ran).
 * Speed-up = mean wall time with 1 worker ÷ mean wall time with k workers,
 * both measured here; the per-round ratios show its spread.
 *
 * Redis: a redis-server started here on a free port (Debian's redis-server).
 * Not a tinybench suite (a run takes minutes), hence scripts/, not bench/.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { startRedisServer } from '@l2bench/zk-rollup/farm'

const { values } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'default' },
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '1' },
    pools: { type: 'string', default: '1,2' },
    out: { type: 'string', default: 'out/prover-pool' },
  },
})
const rounds = Number(values.rounds)
const pools = (values.pools as string).split(',').map(Number)
if (!Number.isSafeInteger(rounds) || rounds < 1) throw new Error(`--rounds: expected an integer ≥ 1, got ${values.rounds}`)
if (pools.length !== 2 || pools.some((k) => !Number.isSafeInteger(k) || k < 1)) throw new Error(`--pools: expected two pool sizes such as 1,2, got ${values.pools}`)
const outRoot = resolve(process.env.INIT_CWD ?? process.cwd(), values.out as string)
mkdirSync(outRoot, { recursive: true })
const cli = new URL('../src/cli.ts', import.meta.url).pathname
const node = (args: string[]) => spawn(process.execPath, ['--conditions=@l2bench/source', '--import', 'tsx', cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })

const TICK_MS = 10 // USER_HZ = 100 on Linux
/** user + system CPU ms of a live process (all its threads), or undefined once it is gone. */
function cpuOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS
  } catch {
    return undefined
  }
}

interface Measured {
  pool: number
  round: number
  wallMs: number
  rollup: { setup: number; payments: number; settle: number }
  proofs: Record<string, number>
  note: string
  workerCpuMs: number
  runCpuMs: number
  load: { mean: number; max: number }
}

async function once(url: string, pool: number, round: number): Promise<Measured> {
  const farm = `speed-${pool}-${round}-${process.pid}`
  const workers: ChildProcess[] = []
  for (let i = 1; i <= pool; i++) workers.push(node(['prover', '--redis', url, '--farm', farm, '--name', `w${i}`]))
  const workerCpu = new Map<number, number>()
  const out = join(outRoot, `pool${pool}-round${round}`)
  const args = ['run', '--scenario', values.scenario as string, '--designs', 'rollup', '--prove-all', '--no-sweeps', '--prover-redis', url, '--prover-farm', farm, '--out', out]
  if (values.quick === true) args.push('--quick')
  const t0 = performance.now()
  const run = node(args)
  let runCpu = 0
  const loads: number[] = [loadavg()[0]!]
  const sample = setInterval(() => {
    runCpu = cpuOf(run.pid) ?? runCpu
    for (const w of workers) if (w.pid !== undefined) workerCpu.set(w.pid, cpuOf(w.pid) ?? workerCpu.get(w.pid) ?? 0)
  }, 1_000)
  const loadTimer = setInterval(() => loads.push(loadavg()[0]!), 5_000)
  let log = ''
  run.stderr?.on('data', (b: Buffer) => {
    const text = b.toString()
    log += text
    for (const line of text.split('\n')) if (/proved batch|\[prover farm\]|FAILED|error/.test(line)) process.stderr.write(`  [pool ${pool}] ${line}\n`)
  })
  run.stdout?.on('data', (b: Buffer) => {
    log += b.toString()
  })
  const code = await new Promise<number | null>((r) => run.once('exit', r))
  const wallMs = performance.now() - t0
  clearInterval(sample)
  clearInterval(loadTimer)
  for (const w of workers) if (w.pid !== undefined) workerCpu.set(w.pid, cpuOf(w.pid) ?? workerCpu.get(w.pid) ?? 0)
  const exited = workers.map((w) => new Promise((r) => w.once('exit', r)))
  for (const w of workers) w.kill('SIGTERM')
  await Promise.all(exited)
  if (code !== 0) throw new Error(`the run with ${pool} worker(s) exited ${code}:\n${log.slice(-4000)}`)
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as {
    designs: { name: string; wallMs: { setup: number; payments: number; settle: number }; notes: string[]; extrapolated: boolean }[]
  }
  const rollup = results.designs.find((d) => d.name === 'rollup')!
  if (rollup.extrapolated) throw new Error('some batches were extrapolated: not a --prove-all run')
  const note = rollup.notes.find((n) => n.startsWith('Proofs from the BullMQ prover farm')) ?? ''
  const proofs: Record<string, number> = {}
  for (const m of note.matchAll(/(w\d+): (\d+)/g)) proofs[m[1]!] = Number(m[2])
  return {
    pool,
    round,
    wallMs,
    rollup: rollup.wallMs,
    proofs,
    note,
    workerCpuMs: [...workerCpu.values()].reduce((a, b) => a + b, 0),
    runCpuMs: runCpu,
    load: { mean: loads.reduce((a, b) => a + b, 0) / loads.length, max: Math.max(...loads) },
  }
}

const redis = await startRedisServer()
const runs: Measured[] = []
try {
  const [a, b] = pools as [number, number]
  for (let round = 1; round <= rounds; round++)
    for (const pool of [a, b, b, a]) {
      process.stderr.write(`round ${round}: pool of ${pool}\n`)
      const m = await once(redis.url, pool, round)
      runs.push(m)
      process.stderr.write(`  → ${(m.wallMs / 1000).toFixed(1)} s wall, workers ${(m.workerCpuMs / 1000).toFixed(1)} CPU-s, load ${m.load.mean.toFixed(1)}\n`)
    }
} finally {
  await redis.stop()
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`
const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length
const [a, b] = pools as [number, number]
const wallOf = (k: number) => runs.filter((r) => r.pool === k).map((r) => r.wallMs)
const perRound = Array.from({ length: rounds }, (_, i) => {
  const w = (k: number) => mean(runs.filter((r) => r.round === i + 1 && r.pool === k).map((r) => r.wallMs))
  return w(a) / w(b)
})
const lines = [
  `# Prover farm: ${b} vs ${a} worker process(es), ${values.scenario}${values.quick ? ' (quick)' : ''} --designs rollup --prove-all`,
  '',
  '| pool | round | run wall | rollup setup / payments / settle | proofs per worker | workers CPU | run CPU | load (1-min avg, mean / max) |',
  '|---|---|---|---|---|---|---|---|',
  ...runs.map(
    (r) =>
      `| ${r.pool} | ${r.round} | ${s(r.wallMs)} | ${s(r.rollup.setup)} / ${s(r.rollup.payments)} / ${s(r.rollup.settle)} | ${Object.entries(r.proofs)
        .map(([w, n]) => `${w}: ${n}`)
        .join(', ')} | ${s(r.workerCpuMs)} | ${s(r.runCpuMs)} | ${r.load.mean.toFixed(1)} / ${r.load.max.toFixed(1)} |`,
  ),
  '',
  `Speed-up of ${b} workers over ${a} (mean run wall time ${a} ÷ mean ${b}, measured here in ABBA order): **${(mean(wallOf(a)) / mean(wallOf(b))).toFixed(2)}×**` +
    (rounds > 1 ? ` (per round: ${perRound.map((x) => `${x.toFixed(2)}×`).join(', ')})` : ''),
  '',
]
writeFileSync(join(outRoot, 'prover-pool.md'), lines.join('\n'))
process.stdout.write(`${lines.join('\n')}\nwrote ${join(outRoot, 'prover-pool.md')}\n`)
