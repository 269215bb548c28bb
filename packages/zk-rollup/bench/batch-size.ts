/**
 * How many op slots should the default batch circuit have? For each N (with
 * D deposit slots: `--d`, default max(1, N/2)), in a child process of its own: circuit
 * setup from scratch (compile + development ptau + Groth16 setup in an empty
 * cache, unless --cached), then two real batches — the first with D deposits
 * and N transfers, the second with N transfers — proven side by side on a
 * pool of one single-threaded worker per core and verified on the rollup
 * contract, then the second proven again by one worker whose curve uses every
 * core (the layout before the pool). Wall and CPU time for each, the
 * constraints, calldata and gas per batch.
 *
 *   node --conditions=@l2bench/source --import tsx bench/batch-size.ts [--ns 4,8,16] [--d 4] [--depth 6] [--cached] [--json out.json]
 *   … --from out.json      # re-render a saved run
 *
 * CPU times are process CPU (every thread) from process.cpuUsage(), so they
 * hold on a loaded machine where wall times stretch; the pool's per-proof CPU
 * is the proving thread's own (/proc/thread-self/schedstat).
 */
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { realChain } from './chain.ts'
import {
  type CircuitParams,
  L2Key,
  ProverPool,
  RollupNode,
  WorkerProver,
  buildRollupCircuit,
  depositCall,
  signOp,
  terminateCurve,
} from '../src/index.ts'

interface Result {
  n: number
  d: number
  depth: number
  constraints: number
  power: number
  fresh: boolean
  /** Compile + ptau + setup, wall and process CPU, s. */
  setupWallS: number
  setupCpuS: number
  compileS: number
  setupTimings: Record<string, number>
  /** Two batches proven side by side on the pool: wall from the first dispatch to the second report, process CPU over it. */
  poolWallS: number
  poolCpuS: number
  /** Each pool proof: witness + proof wall, and the proving thread's CPU. */
  poolProofWallS: number[]
  poolProofCpuS: number[]
  /** The second batch proven again by one worker with a multi-threaded curve. */
  multiWallS: number
  multiCpuS: number
  calldataBytes: [number, number]
  gasPerBatch: [number, number]
  peakRssMb: number
  loadAvg: [number, number]
}

const cpuS = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6

async function runOne(n: number, d: number, depth: number, fresh: boolean): Promise<Result> {
  const params: CircuitParams = { n, d, depth, mode: 'packed' }
  const loadBefore = loadavg()[0] as number
  const cacheDir = fresh ? await mkdtemp(join(tmpdir(), 'l2bench-batch-size-')) : undefined
  try {
    let t = performance.now()
    let cpu = process.cpuUsage()
    const built = await buildRollupCircuit(params, {
      ...(cacheDir !== undefined ? { cacheDir } : {}),
      onProgress: (e) => {
        if (e.done === undefined) process.stderr.write(`  [N=${n} D=${d} depth=${depth}] ${e.stage}: ${e.message}\n`)
      },
    })
    const setupWallS = (performance.now() - t) / 1000
    const setupCpuS = cpuS(process.cpuUsage(cpu))
    const { mock, verifier, contract, wallet } = await realChain(params, built)
    const artifacts = { wasm: built.compiled.wasm, zkey: built.setup.zkey }
    const pool = new ProverPool(artifacts)
    await pool.ready()
    const node = new RollupNode({ l1: mock, contract, wallet: wallet('bench-operator'), prover: pool })
    const keys = Array.from({ length: d }, (_, i) => L2Key.fromSeed(`batch-size-${i}`))
    const user = wallet('bench-user')
    for (const k of keys) await user.callOk(contract, depositCall(k.publicKey), { value: 10n ** 18n })
    node.syncL1()
    const nonces = keys.map(() => 0n)
    const transfers = (offset: number) => {
      for (let i = 0; i < n; i++) {
        const from = (i + offset) % d
        node.submit(signOp(keys[from] as L2Key, node.domain, depth, { kind: 'transfer', from, to: (from + 1) % d, amount: 1_000_000n + BigInt(i), nonce: nonces[from] as bigint }))
        nonces[from] = (nonces[from] as bigint) + 1n
      }
    }
    // Deposits are admitted against the pending view, so batch 1's transfers can spend them.
    transfers(0)
    t = performance.now()
    cpu = process.cpuUsage()
    const first = node.dispatch()
    transfers(1)
    const second = node.dispatch()
    if (first === undefined || second === undefined) throw new Error('batches did not close')
    const [r1, r2] = await Promise.all([first.report, second.report])
    const poolWallS = (performance.now() - t) / 1000
    const poolCpuS = cpuS(process.cpuUsage(cpu))
    if (r1.deposits !== d || r1.transfers !== n || r2.transfers !== n) throw new Error(`batches did not fill as planned: ${r1.deposits}/${r1.transfers}, ${r2.transfers}`)
    await pool.close()
    const multi = new WorkerProver(artifacts)
    await multi.ready()
    t = performance.now()
    cpu = process.cpuUsage()
    await multi.prove(r2.built.input)
    const multiWallS = (performance.now() - t) / 1000
    const multiCpuS = cpuS(process.cpuUsage(cpu))
    await multi.close()
    await verifier.close()
    await terminateCurve()
    return {
      n,
      d,
      depth,
      constraints: built.compiled.constraints,
      power: built.compiled.requiredPower,
      fresh: !built.cached,
      setupWallS,
      setupCpuS,
      compileS: built.compiled.durationMs / 1000,
      setupTimings: Object.fromEntries(Object.entries(built.setup.timings ?? {}).map(([k, v]) => [k, v / 1000])),
      poolWallS,
      poolCpuS,
      poolProofWallS: [r1, r2].map((r) => (r.witnessMs + r.proveMs) / 1000),
      poolProofCpuS: [r1, r2].map((r) => (r.proverCpuMs ?? Number.NaN) / 1000),
      multiWallS,
      multiCpuS,
      calldataBytes: [r1.calldataBytes, r2.calldataBytes],
      gasPerBatch: [r1.gasUsed, r2.gasUsed],
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      loadAvg: [loadBefore, loadavg()[0] as number],
    }
  } finally {
    if (cacheDir !== undefined) await rm(cacheDir, { recursive: true, force: true })
  }
}

function child(n: number, d: number, depth: number, fresh: boolean): Promise<Result> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--one', String(n), String(d), String(depth), fresh ? 'fresh' : 'cached'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    p.stdout.on('data', (chunk) => {
      out += String(chunk)
    })
    p.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`child N=${n} depth=${depth} exited with ${code}`))
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as Result)
      } catch (err) {
        reject(err)
      }
    })
  })
}

const fmt = (x: number, digits = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '—')

function report(results: Result[]): void {
  console.log(
    '| N | D | depth | constraints | 2^p | setup wall s (CPU s) | of which compile s | pool: 2 batches wall s (CPU s) | pool: per proof wall s / thread CPU s | one multi-threaded proof wall s (CPU s) | calldata B per batch (deposits + N / N) | gas per batch (deposits + N / N) | transfers/s, pool | peak RSS MB | load |',
  )
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|')
  for (const r of results) {
    const perProof = r.poolProofWallS.map((w, i) => `${fmt(w, 1)} / ${fmt(r.poolProofCpuS[i] as number, 1)}`).join(', ')
    console.log(
      `| ${r.n} | ${r.d} | ${r.depth} | ${fmt(r.constraints)} | ${r.power} | ${fmt(r.setupWallS)}${r.fresh ? '' : ' (cached)'} (${fmt(r.setupCpuS)}) | ${fmt(r.compileS)} | ${fmt(r.poolWallS, 1)} (${fmt(r.poolCpuS, 1)}) | ${perProof} | ${fmt(r.multiWallS, 1)} (${fmt(r.multiCpuS, 1)}) | ${fmt(r.calldataBytes[0])} / ${fmt(r.calldataBytes[1])} | ${fmt(r.gasPerBatch[0])} / ${fmt(r.gasPerBatch[1])} | ${fmt((2 * r.n) / r.poolWallS, 2)} | ${fmt(r.peakRssMb)} | ${fmt(r.loadAvg[0], 1)}→${fmt(r.loadAvg[1], 1)} |`,
    )
  }
  console.log(
    '\nsetup: compile (circom2 --O2) + development ptau + Groth16 setup with the secret phase-2 contribution, in an empty cache; CPU = process CPU of every thread. pool: one single-threaded worker per core, both batches proving at once (their witnesses need only the roots the sequencer computed). transfers/s = 2N ÷ pool wall.',
  )
}

async function main(): Promise<void> {
  const args = process.argv.slice(2)
  if (args[0] === '--one') {
    process.stdout.write(`${JSON.stringify(await runOne(Number(args[1]), Number(args[2]), Number(args[3]), args[4] === 'fresh'))}\n`)
    return
  }
  const from = args.indexOf('--from')
  if (from >= 0) {
    report((JSON.parse(await readFile(args[from + 1] ?? '', 'utf8')) as { results: Result[] }).results)
    return
  }
  const opt = (name: string) => {
    const i = args.indexOf(name)
    return i >= 0 ? args[i + 1] : undefined
  }
  const ns = (opt('--ns') ?? '4,8,16').split(',').map(Number)
  const depth = Number(opt('--depth') ?? 6)
  const fresh = !args.includes('--cached')
  const dOf = (n: number) => (opt('--d') !== undefined ? Number(opt('--d')) : Math.max(1, Math.floor(n / 2)))
  console.log(`# batch size: N ∈ {${ns.join(', ')}}, D = ${opt('--d') ?? 'N/2'}, depth ${depth}, packed binding${fresh ? ', setup from an empty cache' : ''}`)
  console.log(`machine: ${cpus()[0]?.model ?? '?'} × ${availableParallelism()}, node ${process.version}\n`)
  const results: Result[] = []
  for (const n of ns) {
    process.stderr.write(`N=${n}…\n`)
    try {
      results.push(await child(n, dOf(n), depth, fresh))
    } catch (err) {
      console.log(`- N=${n}: did not run (${(err as Error).message})`)
    }
  }
  report(results)
  const json = opt('--json')
  if (json !== undefined) {
    await writeFile(json, JSON.stringify({ depth, fresh, machine: { cpus: availableParallelism(), model: cpus()[0]?.model, node: process.version }, results }, null, 2))
    console.log(`\nwrote ${json}`)
  }
}

await main()
