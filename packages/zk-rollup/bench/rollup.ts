/**
 * Rollup benchmark (not a test): for each batch circuit Batch(N, D=1, depth,
 * binding), in a child process of its own (so peak memory is per circuit):
 * constraints, witness and prove time, peak RSS, off-chain verify time, L1 gas
 * per batch and per transfer, calldata bytes per transfer — all measured on
 * real proofs submitted to the rollup contract on the L1 mock. Then fits
 * (labelled as such) for N = 256 and 2048: gas by a linear fit of the measured
 * gas, prove time from the measured constraints/s.
 *
 * Each child runs three full batches (deposit A + N self-transfers; deposit B
 * + N transfers A→B; N transfers B→A) and reports gas from the third, which
 * carries transfers only; timings are the mean over the three proofs.
 *
 *   node --conditions=@l2bench/source --import tsx bench/rollup.ts          # sha: N ∈ {1,2,4,8} at depth 16, {1,2} at depth 8; packed: {1,2,4} at 16, {1,2} at 8
 *   node --conditions=@l2bench/source --import tsx bench/rollup.ts --quick  # sha: N ∈ {1,2} at depth 16; packed: N ∈ {1,2} at depths 16 and 8
 *   … --json results.json                                            # also write every figure
 *   … --from results.json                                            # re-render a saved run
 *
 * The first run builds each circuit, ptau and setup through the pipeline's
 * cache (minutes per circuit); later runs reuse them. Setup time is reported
 * but is not part of any rate.
 */
import { spawn } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import { realChain } from './chain.ts'
import { GAS_SCHEDULE, groth16VerifyGas } from '@l2bench/l1-mock'
import {
  type BindingMode,
  type CircuitParams,
  L2Key,
  RollupNode,
  WorkerProver,
  buildRollupCircuit,
  circuitBodyBytes,
  depositCall,
  loadSnarkjs,
  opBytes,
  proofToBytes,
  publicInputCount,
  signOp,
  terminateCurve,
} from '../src/index.ts'

interface Result {
  mode: BindingMode
  n: number
  d: number
  depth: number
  constraints: number
  publicInputs: number
  buildMs: number
  buildCached: boolean
  witnessMs: number
  proveMs: number
  proveSamples: number[]
  verifyMs: number
  peakRssMb: number
  gasPerBatch: number
  gasPerTransfer: number
  gasBreakdown: Record<string, number>
  calldataBytes: number
  bodyBytes: number
  bytesPerTransfer: number
  proverTransfersPerSec: number
  constraintsPerSec: number
  /** 1-minute load average before and after the run: other processes on the machine slow proving down. */
  loadAvg?: [number, number]
}

const HERMEZ = (depth: number) => 974 * depth + 14_552

// ---------------------------------------------------------------- child: one circuit

async function runOne(mode: BindingMode, n: number, depth: number): Promise<Result> {
  const params: CircuitParams = { n, d: 1, depth, mode }
  const loadBefore = loadavg()[0] as number
  const t0 = performance.now()
  const built = await buildRollupCircuit(params, {
    onProgress: (e) => {
      if (e.done === undefined) process.stderr.write(`  [${mode} N=${n} depth=${depth}] ${e.stage}: ${e.message}\n`)
    },
  })
  const buildMs = performance.now() - t0
  const { mock, verifier, contract, wallet } = await realChain(params, built)
  const operator = wallet('bench-operator')
  const user = wallet('bench-user')
  const prover = new WorkerProver({ wasm: built.compiled.wasm, zkey: built.setup.zkey })
  await prover.ready()
  const node = new RollupNode({ l1: mock, contract, wallet: operator, prover })
  const A = L2Key.fromSeed('bench-A')
  const B = L2Key.fromSeed('bench-B')
  const nonces = [0n, 0n]
  const send = (from: number, to: number, key: L2Key) => {
    for (let i = 0; i < n; i++) {
      node.submit(signOp(key, node.domain, depth, { kind: 'transfer', from, to, amount: 1_000n + BigInt(i), nonce: nonces[from]! }))
      nonces[from]!++
    }
  }
  await user.callOk(contract, depositCall(A.publicKey), { value: 10n ** 18n })
  node.syncL1()
  send(0, 0, A)
  const r1 = await node.runBatch()
  await user.callOk(contract, depositCall(B.publicKey), { value: 10n ** 18n })
  node.syncL1()
  send(0, 1, A)
  const r2 = await node.runBatch()
  send(1, 0, B)
  const r3 = await node.runBatch()
  if (r1 === undefined || r2 === undefined || r3 === undefined || r3.transfers !== n || r3.deposits !== 0) throw new Error('batches did not close as planned')
  const reports = [r1, r2, r3]
  // Off-chain verification of the last proof, a few times (median).
  const snarkjs = await loadSnarkjs()
  const proof = await prover.prove(r3.built.input)
  const verifyTimes: number[] = []
  for (let i = 0; i < 5; i++) {
    const t = performance.now()
    const ok = await snarkjs.groth16.verify(built.setup.vkey, proof.publicSignals, proof.proof)
    verifyTimes.push(performance.now() - t)
    if (!ok) throw new Error('proof did not verify')
  }
  verifyTimes.sort((a, b) => a - b)
  if (proofToBytes(proof.proof).length !== 256) throw new Error('proof encoding')
  await prover.close()
  await verifier.close()
  await terminateCurve()
  const proveSamples = [...reports.map((r) => r.proveMs), proof.proveMs]
  const witnessMs = mean([...reports.map((r) => r.witnessMs), proof.witnessMs])
  const proveMs = mean(proveSamples)
  const breakdown: Record<string, number> = {}
  for (const c of r3.receipt.breakdown) breakdown[c.label] = (breakdown[c.label] ?? 0) + c.gas
  return {
    mode,
    n,
    d: 1,
    depth,
    constraints: built.compiled.constraints,
    publicInputs: publicInputCount(params),
    buildMs,
    buildCached: built.cached,
    witnessMs,
    proveMs,
    proveSamples,
    verifyMs: verifyTimes[2] as number,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    gasPerBatch: r3.gasUsed,
    gasPerTransfer: r3.gasUsed / n,
    gasBreakdown: breakdown,
    calldataBytes: r3.calldataBytes,
    bodyBytes: r3.bodyBytes,
    bytesPerTransfer: (r3.bodyBytes - 35) / n,
    proverTransfersPerSec: n / ((witnessMs + proveMs) / 1000),
    constraintsPerSec: built.compiled.constraints / (proveMs / 1000),
    loadAvg: [loadBefore, loadavg()[0] as number],
  }
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length
}

/** Least squares y = a + b·x. */
function fit(points: [number, number][]): { a: number; b: number } {
  if (points.length === 1) return { a: 0, b: (points[0] as [number, number])[1] / (points[0] as [number, number])[0] }
  const n = points.length
  const sx = points.reduce((s, [x]) => s + x, 0)
  const sy = points.reduce((s, [, y]) => s + y, 0)
  const sxx = points.reduce((s, [x]) => s + x * x, 0)
  const sxy = points.reduce((s, [x, y]) => s + x * y, 0)
  const b = (n * sxy - sx * sy) / (n * sxx - sx * sx)
  return { a: (sy - b * sx) / n, b }
}

// ---------------------------------------------------------------- parent: orchestration and report

function child(mode: BindingMode, n: number, depth: number): Promise<Result> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--one', mode, String(n), String(depth)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    p.stdout.on('data', (d) => {
      out += String(d)
    })
    p.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? ''
      if (code !== 0) return reject(new Error(`bench child ${mode} N=${n} depth=${depth} exited with ${code}`))
      try {
        resolve(JSON.parse(line) as Result)
      } catch (err) {
        reject(err)
      }
    })
  })
}

const fmt = (x: number, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })

function report(results: Result[]): void {
  console.log(
    '| binding | depth | N | constraints | public inputs | witness ms | prove ms | constraints/s | peak RSS MB | verify ms | gas/batch | gas/transfer | calldata B/transfer | prover transfers/s | load avg |',
  )
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|')
  for (const r of results)
    console.log(
      `| ${r.mode} | ${r.depth} | ${r.n} | ${fmt(r.constraints)} | ${r.publicInputs} | ${fmt(r.witnessMs)} | ${fmt(r.proveMs)} | ${fmt(r.constraintsPerSec)} | ${fmt(r.peakRssMb)} | ${fmt(r.verifyMs)} | ${fmt(r.gasPerBatch)} | ${fmt(r.gasPerTransfer)} | ${fmt(r.bytesPerTransfer)} | ${fmt(r.proverTransfersPerSec, 2)} | ${r.loadAvg === undefined ? '?' : `${fmt(r.loadAvg[0], 1)}→${fmt(r.loadAvg[1], 1)}`} |`,
    )
  console.log(
    '\ntimings: mean of 4 proofs per circuit (3 batches + 1 re-proof); gas/batch from the third batch (N transfers, no deposit); account indices 0 and 1, so index bytes are partly zero (4 gas instead of 16)',
  )

  // Constraints per transfer (marginal, from the fit over N at a depth and binding).
  console.log('\n## Constraints per transfer (slope of constraints over N)')
  for (const mode of ['sha', 'packed'] as const)
    for (const depth of [16, 8]) {
      const pts = results.filter((r) => r.mode === mode && r.depth === depth).map((r) => [r.n, r.constraints] as [number, number])
      if (pts.length < 2) continue
      const f = fit(pts)
      const note = mode === 'sha' ? ' — SHA-256 adds whole 64-byte blocks, so this slope is a step function read over few N' : ''
      console.log(
        `- ${mode}, depth ${depth}: ${fmt(f.b)} per transfer + ${fmt(f.a)} per batch (fit over N = ${pts.map((p) => p[0]).join(', ')}${note}); Hermez at this depth: ${fmt(HERMEZ(depth))} per transaction`,
      )
    }

  // The binding's share, measured at equal N and depth: (sha − packed) / SHA-256 blocks of the preimage.
  const blocksOf = (n: number, depth: number) => Math.ceil((64 + circuitBodyBytes({ n, d: 1, depth, mode: 'sha' }) + 9) / 64)
  const shaPerBlock = results
    .filter((r) => r.mode === 'sha')
    .map((s) => {
      const p = results.find((r) => r.mode === 'packed' && r.depth === s.depth && r.n === s.n)
      return p === undefined ? undefined : (s.constraints - p.constraints) / blocksOf(s.n, s.depth)
    })
    .filter((x): x is number => x !== undefined)
  if (shaPerBlock.length > 0) {
    const perByte = mean(shaPerBlock) / 64
    console.log(
      `- SHA-256 binding (sha − packed at equal N): ${fmt(mean(shaPerBlock))} constraints per 64-byte block (incl. the root decompositions) = ${fmt(perByte)} per preimage byte; a ${opBytes(16)}-byte transfer adds ≈ ${fmt(perByte * opBytes(16))} amortised`,
    )
    for (const depth of [16, 8]) {
      const pts = results.filter((r) => r.mode === 'packed' && r.depth === depth).map((r) => [r.n, r.constraints] as [number, number])
      if (pts.length < 2) continue
      const f = fit(pts)
      const total = f.b + perByte * opBytes(depth)
      console.log(
        `- depth ${depth}: transfer ${fmt(f.b)} (packed fit) + binding ${fmt(perByte * opBytes(depth))} = ${fmt(total)} constraints per transfer vs Hermez ${fmt(HERMEZ(depth))} (${fmt((100 * total) / HERMEZ(depth))}%)`,
      )
    }
  }

  // Binding trade-off at equal N.
  console.log('\n## Binding the calldata: SHA-256 in circuit vs packed public inputs (measured at equal N, depth 16)')
  for (const s of results.filter((r) => r.mode === 'sha' && r.depth === 16)) {
    const p = results.find((r) => r.mode === 'packed' && r.depth === 16 && r.n === s.n)
    if (p === undefined) continue
    const dc = s.constraints - p.constraints
    const dt = s.proveMs - p.proveMs
    const dg = p.gasPerBatch - s.gasPerBatch
    console.log(
      `- N=${s.n}: SHA costs ${fmt(dc)} more constraints (${fmt(dt)} ms more proving); packed costs ${fmt(dg)} more gas per batch (${p.publicInputs} public inputs vs 1)`,
    )
  }
  const shaBodyPerTransfer = 470 * opBytes(16)
  const packedGasPerTransfer = (6_150 * opBytes(16)) / 31
  console.log(
    `- per transfer (formula): SHA ≈ 470 constraints/byte × ${opBytes(16)} B = ${fmt(shaBodyPerTransfer)} constraints; packed ≈ 6,150 gas / 31 B × ${opBytes(16)} B = ${fmt(packedGasPerTransfer)} gas`,
  )

  // Extrapolation to large batches (labelled).
  const sha16 = results.filter((r) => r.mode === 'sha' && r.depth === 16)
  if (sha16.length >= 2) {
    const gasFit = fit(sha16.map((r) => [r.n, r.gasPerBatch]))
    const conFit = fit(sha16.map((r) => [r.n, r.constraints]))
    // Constraints: the state transition (packed fit over N) plus SHA-256 blocks of the preimage,
    // with the per-block cost measured as (sha − packed) / blocks at equal N.
    const blocks = (n: number, depth: number) => Math.ceil((64 + circuitBodyBytes({ n, d: 1, depth, mode: 'sha' }) + 9) / 64)
    const packed16 = results.filter((r) => r.mode === 'packed' && r.depth === 16).map((r) => [r.n, r.constraints] as [number, number])
    const perBlock = sha16
      .map((s) => {
        const p = results.find((r) => r.mode === 'packed' && r.depth === 16 && r.n === s.n)
        return p === undefined ? undefined : (s.constraints - p.constraints) / blocks(s.n, 16)
      })
      .filter((x): x is number => x !== undefined)
    const model =
      packed16.length >= 2 && perBlock.length > 0
        ? (() => {
            const f = fit(packed16)
            const b = mean(perBlock)
            return { text: `constraints = ${fmt(f.a)} + ${fmt(f.b)}·N + ${fmt(b)}·⌈(64 + body(N) + 9)/64⌉ (packed fit + measured SHA block cost)`, at: (n: number) => f.a + f.b * n + b * blocks(n, 16) }
          })()
        : { text: `constraints = ${fmt(conFit.a)} + ${fmt(conFit.b)}·N (sha fit)`, at: (n: number) => conFit.a + conFit.b * n }
    // Prover speed: constraints per second over every circuit measured (Σ constraints / Σ seconds).
    const rate = results.reduce((s, r) => s + r.constraints, 0) / results.reduce((s, r) => s + r.proveMs / 1000, 0)
    const rateFit = { a: 0, b: 1000 / rate }
    console.log('\n## Extrapolated (sha binding, depth 16) — NOT measured')
    console.log(
      `fits over N = ${sha16.map((r) => r.n).join(', ')}: gas = ${fmt(gasFit.a)} + ${fmt(gasFit.b)}·N; ${model.text}; prover ${fmt(rate)} constraints/s (all ${results.length} circuits: Σ constraints / Σ prove seconds)`,
    )
    console.log('| N | gas/batch (fit) | gas/transfer (fit) | gas/transfer (formula) | constraints (fit) | prove s (fit, this machine) | prover transfers/s (fit) |')
    console.log('|---|---|---|---|---|---|---|')
    for (const N of [256, 2048]) {
      const gas = gasFit.a + gasFit.b * N
      const body = 35 + opBytes(16) * N
      const formula =
        GAS_SCHEDULE.txBase +
        groth16VerifyGas(1) +
        GAS_SCHEDULE.sha256Base +
        GAS_SCHEDULE.sha256Word * Math.ceil((64 + circuitBodyBytes({ n: N, d: 1, depth: 16, mode: 'sha' })) / 32) +
        16 * (body + 256 + 32 + 16) +
        3 * GAS_SCHEDULE.storageUpdate +
        GAS_SCHEDULE.storageColdRead * 4 +
        1_500
      const cons = model.at(N)
      const proveS = (rateFit.a + rateFit.b * cons) / 1000
      console.log(`| ${N} | ${fmt(gas)} | ${fmt(gas / N)} | ${fmt(formula / N)} | ${fmt(cons)} | ${fmt(proveS)} | ${fmt(N / proveS, 2)} |`)
    }
    console.log(
      'formula: 21,000 + 181,150 + 6,150·1 + sha256(64 + body) + 16 gas × (35 + 10·N + proof 256 + input 32 + framing) + 3 storage updates + 4 cold reads + ~1,500 (log, misc); calldata counted as all non-zero bytes.',
    )
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2)
  if (args[0] === '--one') {
    const r = await runOne(args[1] as BindingMode, Number(args[2]), Number(args[3]))
    process.stdout.write(`${JSON.stringify(r)}\n`)
    return
  }
  const from = args.indexOf('--from')
  if (from >= 0) {
    // Re-render a saved run (no proving).
    const saved = JSON.parse(await readFile(args[from + 1] ?? '', 'utf8')) as { quick: boolean; results: Result[] }
    console.log(`# zk-rollup benchmark${saved.quick ? ' (--quick)' : ''} — re-rendered from ${args[from + 1]}\n`)
    report(saved.results)
    return
  }
  const quick = args.includes('--quick')
  const jsonAt = args.indexOf('--json')
  const configs: [BindingMode, number, number][] = quick
    ? [
        ['sha', 1, 16],
        ['sha', 2, 16],
        ['packed', 1, 16],
        ['packed', 2, 16],
        ['packed', 1, 8],
        ['packed', 2, 8],
      ]
    : [
        ['sha', 1, 16],
        ['sha', 2, 16],
        ['sha', 4, 16],
        ['sha', 8, 16],
        ['sha', 1, 8],
        ['sha', 2, 8],
        ['packed', 1, 16],
        ['packed', 2, 16],
        ['packed', 4, 16],
        ['packed', 1, 8],
        ['packed', 2, 8],
      ]
  console.log(`# zk-rollup benchmark${quick ? ' (--quick)' : ''}`)
  console.log(`machine: ${cpus()[0]?.model ?? '?'} × ${availableParallelism()}, ${fmt(totalmem() / 2 ** 30, 1)} GiB, node ${process.version}`)
  console.log('proofs: snarkjs Groth16 (BN254) in a worker thread; L1 gas: the l1-mock schedule; development ptau/setup (not for real funds)\n')
  const results: Result[] = []
  for (const [mode, n, depth] of configs) {
    process.stderr.write(`running ${mode} N=${n} depth=${depth}…\n`)
    try {
      results.push(await child(mode, n, depth))
    } catch (err) {
      console.log(`- ${mode} N=${n} depth=${depth}: did not run (${(err as Error).message})`)
    }
  }

  report(results)
  if (jsonAt >= 0) {
    const path = args[jsonAt + 1] ?? 'zk-rollup-bench.json'
    await writeFile(path, JSON.stringify({ quick, machine: { cpus: availableParallelism(), node: process.version }, results }, null, 2))
    console.log(`\nwrote ${path}`)
  }
}

await main()
